import {
  type AccountId,
  type AddressBook,
  PledgeError,
  type PledgeErrorArgs,
  type PledgeErrorName,
  type SignedOrder,
  WAD,
  fillOrder,
  getSeriesList,
  marginEngineAbi,
  signOrder,
  simulateFill,
} from "@pledge/sdk";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { parseUnits } from "viem";
import { useConnectorClient, usePublicClient } from "wagmi";

import { TxStatus, type TxState, useLive } from "./live.js";
import { errorSentence, units, usd } from "./lib.js";
import { fetchOrders, postOrder } from "./orders.js";

const seriesLabel = (s: { strikeWad: bigint; isCall: boolean; expiry: bigint }, name: string) =>
  `${name} ${units(s.strikeWad, 18, undefined, 0)} ${s.isCall ? "call" : "put"} ${new Date(Number(s.expiry) * 1000)
    .toISOString()
    .slice(0, 10)}`;

/** The SDK's sentence for a revert `simulateFill` predicts. */
function predictedSentence(error: { name: string; args: readonly unknown[] }, addressBook: AddressBook) {
  return new PledgeError({
    errorName: error.name as PledgeErrorName,
    args: error.args as PledgeErrorArgs,
    data: "0x",
    addressBook,
  }).message;
}

/**
 * Series and orders: the live series with their marks; the orders the app's server holds (the
 * market maker's quotes, and any the user signs), each with a preview of the fill (premium, fees,
 * or the revert the SDK predicts) before the fill is sent; and a form to sign an order.
 */
export function Trade({
  addressBook,
  account,
  names,
}: {
  addressBook: AddressBook;
  account: AccountId;
  names: Map<number, string>;
}) {
  const publicClient = usePublicClient()!;
  const { data: signer } = useConnectorClient();
  const queryClient = useQueryClient();
  const market = useLive(["series"], async () => {
    const list = await getSeriesList(publicClient, { addressBook, liveOnly: true });
    const marks = await Promise.all(
      list.map((s) =>
        publicClient.readContract({
          address: addressBook.contracts.MarginEngine,
          abi: marginEngineAbi,
          functionName: "mark",
          args: [s.seriesId],
        }),
      ),
    );
    return { list, marks, orders: await fetchOrders() };
  });
  const [fillText, setFillText] = useState("1");
  const [preview, setPreview] = useState<{ key: string; text: string; ok: boolean } | undefined>();
  const [tx, setTx] = useState<TxState>({ kind: "idle" });
  const [sign, setSign] = useState({ series: "", side: "sell", size: "1", price: "" });

  const keyOf = (o: SignedOrder) => `${o.order.account}-${o.order.nonce}-${o.signature.slice(0, 10)}`;
  const fillSize = () => {
    try {
      const size = parseUnits(fillText.trim(), 18);
      return size > 0n ? size : undefined;
    } catch {
      return undefined;
    }
  };

  async function previewFill(signed: SignedOrder) {
    const size = fillSize();
    if (size === undefined)
      return setPreview({ key: keyOf(signed), text: "Enter a size in contracts, like 1 or 0.5.", ok: false });
    try {
      const sim = await simulateFill(publicClient, {
        signedOrder: signed,
        takerAccount: account,
        fillSize: size,
        addressBook,
      });
      const cash = addressBook.cash;
      // The maker buys (size > 0): the taker sells and receives the premium; else the taker pays it.
      const takerPays = signed.order.size < 0n;
      const text = sim.accepted
        ? `You ${takerPays ? "pay" : "receive"} ${units(sim.premium, cash.decimals, cash.symbol)} premium and a ` +
          `${units(sim.takerFee, cash.decimals, cash.symbol)} fee; the margin check passes.`
        : predictedSentence(sim.error!, addressBook);
      setPreview({ key: keyOf(signed), text, ok: sim.accepted });
    } catch (error) {
      setPreview({ key: keyOf(signed), text: errorSentence(error, addressBook), ok: false });
    }
  }

  async function fill(signed: SignedOrder) {
    const size = fillSize();
    if (size === undefined) return setTx({ kind: "failed", text: "Enter a size in contracts, like 1 or 0.5." });
    if (!signer) return setTx({ kind: "failed", text: "The wallet is not ready: connect again." });
    setTx({ kind: "pending", text: `Filling ${units(size, 18)} contracts…` });
    try {
      const { receipt, result } = await fillOrder(signer, {
        publicClient,
        addressBook,
        signedOrder: signed,
        takerAccount: account,
        fillSize: size,
      });
      setTx({
        kind: "confirmed",
        text: `Filled ${units(size, 18)} contracts for ${units(result < 0n ? -result : result, addressBook.cash.decimals, addressBook.cash.symbol)} premium (block ${receipt.blockNumber}).`,
      });
      setPreview(undefined);
    } catch (error) {
      setTx({ kind: "failed", text: errorSentence(error, addressBook) });
    } finally {
      await queryClient.invalidateQueries();
    }
  }

  async function signAndPost() {
    const series = market.data?.list.find((s) => s.seriesId.toString() === sign.series) ?? market.data?.list[0];
    if (!series) return setTx({ kind: "failed", text: "No live series to quote." });
    if (!signer) return setTx({ kind: "failed", text: "The wallet is not ready: connect again." });
    let size: bigint;
    let priceWad: bigint;
    try {
      size = parseUnits(sign.size.trim(), 18);
      priceWad = parseUnits(sign.price.trim(), 18);
    } catch {
      return setTx({ kind: "failed", text: "Enter the size in contracts and the price in USD, like 1 and 1500." });
    }
    if (size <= 0n || priceWad <= 0n)
      return setTx({ kind: "failed", text: "The size and the price must be above zero." });
    try {
      const signed = await signOrder(signer, {
        addressBook,
        order: {
          account,
          seriesId: series.seriesId,
          size: sign.side === "buy" ? size : -size,
          priceWad,
          taker: 0n,
          nonce: BigInt(Date.now()),
          deadline: series.expiry - 3_600n,
        },
      });
      await postOrder(signed);
      setTx({
        kind: "confirmed",
        text: `Signed: ${sign.side} ${units(size, 18)} at ${usd(priceWad)} (no transaction).`,
      });
    } catch (error) {
      setTx({ kind: "failed", text: errorSentence(error, addressBook) });
    } finally {
      await queryClient.invalidateQueries();
    }
  }

  const data = market.data;
  const nameOf = (index: number) => names.get(index) ?? `#${index}`;
  return (
    <section>
      <h2>Series and orders</h2>
      {market.error && <p className="error">{errorSentence(market.error, addressBook)}</p>}
      {data && (
        <table data-testid="series">
          <thead>
            <tr>
              <th>Series</th>
              <th>Mark</th>
              <th>Open interest</th>
            </tr>
          </thead>
          <tbody>
            {data.list.map((s, i) => (
              <tr key={s.seriesId.toString()}>
                <td>{seriesLabel(s, nameOf(s.underlyingIndex))}</td>
                <td>{usd(data.marks[i] ?? 0n)}</td>
                <td>{units(s.openInterest, 18)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Orders</h3>
      <label>
        Fill size (contracts){" "}
        <input
          value={fillText}
          onChange={(e) => setFillText(e.target.value)}
          data-testid="fill-size"
          inputMode="decimal"
        />
      </label>
      {data && (
        <table data-testid="orders">
          <thead>
            <tr>
              <th>Series</th>
              <th>Maker</th>
              <th>Side (maker)</th>
              <th>Size</th>
              <th>Price</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.orders
              .filter((o) => o.order.account !== account)
              .map((o, i) => {
                const s = data.list.find((x) => x.seriesId === o.order.seriesId);
                const key = keyOf(o);
                return (
                  <tr key={key} data-testid={`order-${i}`}>
                    <td>{s ? seriesLabel(s, nameOf(s.underlyingIndex)) : o.order.seriesId.toString()}</td>
                    <td>{`0x${(o.order.account >> 96n).toString(16).padStart(40, "0").slice(0, 6)}…/${o.order.account & ((1n << 96n) - 1n)}`}</td>
                    <td>{o.order.size < 0n ? "sells" : "buys"}</td>
                    <td>{units(o.order.size < 0n ? -o.order.size : o.order.size, 18)}</td>
                    <td>{usd(o.order.priceWad)}</td>
                    <td>
                      <button onClick={() => previewFill(o)} data-testid={`preview-${i}`}>
                        Preview
                      </button>{" "}
                      <button onClick={() => fill(o)} disabled={tx.kind === "pending"} data-testid={`fill-${i}`}>
                        Fill
                      </button>
                      {preview?.key === key && (
                        <div className={preview.ok ? "muted" : "error"} data-testid="fill-preview">
                          {preview.text}
                        </div>
                      )}
                    </td>
                  </tr>
                );
              })}
          </tbody>
        </table>
      )}
      <h3>Sign an order</h3>
      <div className="row">
        <select
          value={sign.series}
          onChange={(e) => setSign({ ...sign, series: e.target.value })}
          data-testid="sign-series"
        >
          {data?.list.map((s) => (
            <option key={s.seriesId.toString()} value={s.seriesId.toString()}>
              {seriesLabel(s, nameOf(s.underlyingIndex))}
            </option>
          ))}
        </select>
        <select value={sign.side} onChange={(e) => setSign({ ...sign, side: e.target.value })} data-testid="sign-side">
          <option value="sell">sell</option>
          <option value="buy">buy</option>
        </select>
        <input
          value={sign.size}
          onChange={(e) => setSign({ ...sign, size: e.target.value })}
          placeholder="contracts"
          data-testid="sign-size"
        />
        <input
          value={sign.price}
          onChange={(e) => setSign({ ...sign, price: e.target.value })}
          placeholder="price, USD"
          data-testid="sign-price"
        />
        <button onClick={signAndPost} data-testid="sign">
          Sign
        </button>
      </div>
      <TxStatus tx={tx} testId="trade-status" />
      <p className="muted">
        Orders are EIP-712 signatures held by the app's server; filling one sends the transaction. 1 contract ={" "}
        {units(WAD, 18)} unit of the underlying.
      </p>
    </section>
  );
}
