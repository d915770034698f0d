import {
  type AccountId,
  type AddressBook,
  PledgeError,
  type PledgeErrorArgs,
  PremiumChangedError,
  type PledgeErrorName,
  type SignedOrder,
  WAD,
  cancelOrder,
  fillOrder,
  getSeriesList,
  marginEngineAbi,
  orderDigest,
  signOrder,
  simulateFill,
  verifyOrder,
} from "@pledge/sdk";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { type Address, type Hash, getAddress, parseUnits } from "viem";
import { useBlockNumber, useConnectorClient, usePublicClient } from "wagmi";

import { TxStatus, type TxState, useLive } from "./live.js";
import { errorSentence, units, usd, usdExact } from "./lib.js";
import { fetchOrders, postOrder } from "./orders.js";

/** A preview is good for this many blocks; then Fill asks for a new one. */
export const PREVIEW_BLOCKS = 10n;

/** The maker in full (`0x…40 hex digits/sub`): a shortened address can be ground to look alike. */
export const makerLabel = (account: AccountId) =>
  `${getAddress(`0x${(account >> 96n).toString(16).padStart(40, "0")}`)}/${account & ((1n << 96n) - 1n)}`;

/** A checked order of the book: valid on chain now, with what is left of it. */
interface BookOrder {
  signed: SignedOrder;
  /** Its EIP-712 hash (`orderDigest`, the market's `orderHash`): the row's and the preview's key. */
  key: Hash;
  remaining: bigint;
}

/** A fill previewed: the order as previewed (Fill sends this one), its size, block and premium. */
interface Preview {
  key: Hash;
  signed: SignedOrder;
  size: bigint;
  blockNumber: bigint;
  /** `simulateFill`'s premium (cash units); Fill stops if the chain's simulation moves another. */
  premium: bigint;
  text: string;
  ok: boolean;
}

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
  owner,
  names,
}: {
  addressBook: AddressBook;
  account: AccountId;
  owner: Address;
  names: Map<number, string>;
}) {
  const publicClient = usePublicClient()!;
  const { data: signer } = useConnectorClient();
  const { data: head } = useBlockNumber({ watch: true });
  const queryClient = useQueryClient();
  const market = useLive(["series"], async () => {
    const blockNumber = await publicClient.getBlockNumber();
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
    // The server is not trusted: every order is checked against the chain (signature by the
    // owner or an operator for this chain and market, not cancelled, expired, below the minimum
    // nonce or filled) and shown only if it passes; one that cannot be checked is dropped alone.
    const fetched = await fetchOrders().catch(() => ({ orders: [], malformed: 0 }));
    let hidden = fetched.malformed;
    const checked = await Promise.all(
      fetched.orders.map(async (signed): Promise<BookOrder | undefined> => {
        try {
          const check = await verifyOrder(publicClient, { signedOrder: signed, addressBook, blockNumber });
          return check.valid ? { signed, key: check.hash, remaining: check.remaining } : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    // One row per order (EIP-712 hash): the same order under another signature is the same fill.
    const seen = new Set<Hash>();
    const orders: BookOrder[] = [];
    for (const o of checked) {
      if (o === undefined || seen.has(o.key)) continue;
      seen.add(o.key);
      orders.push(o);
    }
    hidden += checked.filter((o) => o === undefined).length;
    return { list, marks, orders, hidden };
  });
  const [fillText, setFillText] = useState("");
  const [preview, setPreview] = useState<Preview | undefined>();
  const [tx, setTx] = useState<TxState>({ kind: "idle" });
  const [sign, setSign] = useState({ series: "", side: "sell", size: "1", price: "" });

  // The order's EIP-712 hash, not a prefix of its signature: a maker can make two orders share
  // an account, a nonce and a signature prefix, and swap one for the other (rv18b RV18b-3).
  const keyOf = (o: SignedOrder): Hash => orderDigest(o.order, addressBook);
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
    const base = { key: keyOf(signed), signed, size: size ?? 0n, blockNumber: 0n, premium: 0n };
    if (size === undefined)
      return setPreview({ ...base, text: "Enter a size in contracts, like 1 or 0.5.", ok: false });
    try {
      const blockNumber = await publicClient.getBlockNumber();
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
          `${units(sim.takerFee, cash.decimals, cash.symbol)} fee for ${units(size, 18)} contracts; the margin check passes.`
        : predictedSentence(sim.error!, addressBook);
      setPreview({ ...base, blockNumber, premium: sim.premium, text, ok: sim.accepted });
    } catch (error) {
      setPreview({ ...base, text: errorSentence(error, addressBook), ok: false });
    }
  }

  /** The preview Fill may send: this order's, for the size typed now, accepted, and recent. */
  const fillable = (signed: SignedOrder) =>
    preview !== undefined &&
    preview.ok &&
    preview.key === keyOf(signed) &&
    preview.size === fillSize() &&
    (head === undefined || head - preview.blockNumber <= PREVIEW_BLOCKS)
      ? preview
      : undefined;

  async function fill(signed: SignedOrder) {
    const previewed = fillable(signed);
    // Exactly the previewed order and size, never the row's or the size typed after it (Fill is
    // disabled without a preview of this order).
    if (previewed === undefined) return setTx({ kind: "failed", text: "Preview this fill first." });
    const { size, premium } = previewed;
    const cash = addressBook.cash;
    if (!signer) return setTx({ kind: "failed", text: "The wallet is not ready: connect again." });
    setTx({ kind: "pending", text: `Filling ${units(size, 18)} contracts…` });
    try {
      const { receipt, result } = await fillOrder(signer, {
        publicClient,
        addressBook,
        signedOrder: previewed.signed,
        takerAccount: account,
        fillSize: size,
        // The market's simulation just before sending must move the premium previewed.
        expectedPremium: premium,
      });
      setTx({
        kind: "confirmed",
        text: `Filled ${units(size, 18)} contracts for ${units(result < 0n ? -result : result, addressBook.cash.decimals, addressBook.cash.symbol)} premium (block ${receipt.blockNumber}).`,
      });
      setPreview(undefined);
    } catch (error) {
      setTx({
        kind: "failed",
        text:
          error instanceof PremiumChangedError
            ? `Not sent: the fill would now move ${units(error.actual, cash.decimals, cash.symbol)} premium, not the ` +
              `${units(error.expected, cash.decimals, cash.symbol)} previewed. Preview again.`
            : errorSentence(error, addressBook),
      });
      if (error instanceof PremiumChangedError) setPreview(undefined);
    } finally {
      await queryClient.invalidateQueries();
    }
  }

  /** Cancels one of the user's own orders on chain (`cancelOrder`); the book then hides it. */
  async function cancel(signed: SignedOrder) {
    if (!signer) return setTx({ kind: "failed", text: "The wallet is not ready: connect again." });
    setTx({ kind: "pending", text: "Cancelling the order…" });
    try {
      const { receipt } = await cancelOrder(signer, { publicClient, addressBook, order: signed.order });
      setTx({ kind: "confirmed", text: `Cancelled the order (block ${receipt.blockNumber}).` });
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
        text: `Signed: ${sign.side} ${units(size, 18, undefined, 18)} at ${usdExact(priceWad)} (no transaction).`,
      });
    } catch (error) {
      setTx({ kind: "failed", text: errorSentence(error, addressBook) });
    } finally {
      await queryClient.invalidateQueries();
    }
  }

  const data = market.data;
  // The user's own orders (any subaccount of the connected owner) are listed apart, with Cancel.
  const ownerId = BigInt(owner);
  const mine = (data?.orders ?? []).filter((o) => o.signed.order.account >> 96n === ownerId);
  const others = (data?.orders ?? []).filter((o) => o.signed.order.account >> 96n !== ownerId);
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
      {data && <Chain list={data.list} marks={data.marks} nameOf={nameOf} />}
      <h3>Orders</h3>
      <label>
        Fill size (contracts){" "}
        <input
          value={fillText}
          onChange={(e) => {
            setFillText(e.target.value);
            setPreview(undefined); // a preview is for one size: a new size needs a new preview
          }}
          placeholder="like 1 or 0.5"
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
              <th>Left</th>
              <th>Price</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {others.map(({ signed: o, key, remaining }, i) => {
              const s = data.list.find((x) => x.seriesId === o.order.seriesId);
              return (
                <tr key={key} data-testid={`order-${i}`}>
                  <td>{s ? seriesLabel(s, nameOf(s.underlyingIndex)) : o.order.seriesId.toString()}</td>
                  <td>
                    <code data-testid={`maker-${i}`}>{makerLabel(o.order.account)}</code>
                  </td>
                  <td>{o.order.size < 0n ? "sells" : "buys"}</td>
                  <td data-testid="left">{units(remaining, 18, undefined, 18)}</td>
                  <td>{usdExact(o.order.priceWad)}</td>
                  <td>
                    <button onClick={() => previewFill(o)} data-testid={`preview-${i}`}>
                      Preview
                    </button>{" "}
                    <button
                      onClick={() => fill(o)}
                      disabled={tx.kind === "pending" || fillable(o) === undefined}
                      title="Preview the fill for this size first"
                      data-testid={`fill-${i}`}
                    >
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
      {data && data.hidden > 0 && (
        <p className="muted" data-testid="orders-hidden">
          {data.hidden} order(s) from the server hidden: not valid on chain (signature, chain, expiry, nonce, cancelled
          or filled).
        </p>
      )}
      {mine.length > 0 && (
        <>
          <h3>Your open orders</h3>
          <table data-testid="my-orders">
            <thead>
              <tr>
                <th>Series</th>
                <th>Account</th>
                <th>Side</th>
                <th>Left</th>
                <th>Price</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {mine.map(({ signed: o, key, remaining }, i) => {
                const s = data!.list.find((x) => x.seriesId === o.order.seriesId);
                return (
                  <tr key={key} data-testid={`my-order-${i}`}>
                    <td>{s ? seriesLabel(s, nameOf(s.underlyingIndex)) : o.order.seriesId.toString()}</td>
                    <td>
                      <code>{makerLabel(o.order.account)}</code>
                    </td>
                    <td>{o.order.size < 0n ? "sell" : "buy"}</td>
                    <td>{units(remaining, 18, undefined, 18)}</td>
                    <td>{usdExact(o.order.priceWad)}</td>
                    <td>
                      <button onClick={() => cancel(o)} disabled={tx.kind === "pending"} data-testid={`cancel-${i}`}>
                        Cancel
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
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
        Orders are EIP-712 signatures held by the app's server, each checked against the chain before it is shown; Fill
        sends exactly the previewed size. 1 contract = {units(WAD, 18)} unit of the underlying.
      </p>
    </section>
  );
}

/**
 * The chain: per underlying, strikes down and expiries across, a call and a put mark in each
 * (the engine's `mark`, which the SDK's `markAndSpot` mirrors to the wei); "—" where no series is listed.
 */
function Chain({
  list,
  marks,
  nameOf,
}: {
  list: readonly { seriesId: bigint; underlyingIndex: number; expiry: bigint; isCall: boolean; strikeWad: bigint }[];
  marks: readonly bigint[];
  nameOf: (index: number) => string;
}) {
  const underlyings = [...new Set(list.map((s) => s.underlyingIndex))].sort((a, b) => a - b);
  const day = (expiry: bigint) => new Date(Number(expiry) * 1000).toISOString().slice(0, 10);
  const sorted = (values: bigint[]) => [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return (
    <>
      {underlyings.map((u) => {
        const mine = list.map((s, i) => ({ s, mark: marks[i] ?? 0n })).filter(({ s }) => s.underlyingIndex === u);
        const expiries = sorted(mine.map(({ s }) => s.expiry));
        const strikes = sorted(mine.map(({ s }) => s.strikeWad));
        const cell = (strike: bigint, expiry: bigint, isCall: boolean) => {
          const found = mine.find(({ s }) => s.strikeWad === strike && s.expiry === expiry && s.isCall === isCall);
          return found ? (
            <td key={`${expiry}-${isCall}`} data-testid={`chain-mark-${found.s.seriesId}`}>
              {usd(found.mark)}
            </td>
          ) : (
            <td key={`${expiry}-${isCall}`} className="muted">
              —
            </td>
          );
        };
        return (
          <table key={u} data-testid={`chain-${nameOf(u)}`}>
            <caption>
              {nameOf(u)} chain: marks per contract ({strikes.length} strikes × {expiries.length} expiries)
            </caption>
            <thead>
              <tr>
                <th rowSpan={2}>Strike</th>
                {expiries.map((e) => (
                  <th colSpan={2} key={e.toString()}>
                    {day(e)}
                  </th>
                ))}
              </tr>
              <tr>{expiries.map((e) => [<th key={`${e}-c`}>Call</th>, <th key={`${e}-p`}>Put</th>])}</tr>
            </thead>
            <tbody>
              {strikes.map((k) => (
                <tr key={k.toString()}>
                  <td>{units(k, 18, undefined, 0)}</td>
                  {expiries.map((e) => [cell(k, e, true), cell(k, e, false)])}
                </tr>
              ))}
            </tbody>
          </table>
        );
      })}
    </>
  );
}
