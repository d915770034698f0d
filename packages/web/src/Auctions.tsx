import {
  type AccountId,
  type AddressBook,
  type BidPreview,
  asAccountId,
  bid,
  formatAccount,
  optionMarketAbi,
  previewBid,
} from "@pledge/sdk";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { parseUnits } from "viem";
import { useBlockNumber, useConnectorClient, usePublicClient } from "wagmi";

import { type Row, indexerQuery } from "./indexer.js";
import { TxStatus, type TxState, useLive } from "./live.js";
import { errorSentence, units, usd } from "./lib.js";

/** A bid preview is good for this many blocks; then Bid asks for a new one. */
export const BID_PREVIEW_BLOCKS = 10n;
/** Open auctions listed (the newest first); more are counted, not lost silently. */
const AUCTIONS_SHOWN = 100;

/**
 * Open auctions (from the indexer: started, not ended) with the live discount read from the chain
 * (the SDK's `previewBid` for the chosen fraction), and a bid that previews the payment first:
 * Preview shows what the bid pays and takes, then Bid sends it from the connected account with
 * the previewed payment as its ceiling.
 */
export function Auctions({
  addressBook,
  indexerUrl,
  account,
}: {
  addressBook: AddressBook;
  indexerUrl: string;
  account: AccountId;
}) {
  const publicClient = usePublicClient()!;
  const { data: signer } = useConnectorClient();
  const queryClient = useQueryClient();
  const [fractionText, setFractionText] = useState("50");
  const { data: head } = useBlockNumber({ watch: true });
  const [preview, setPreview] = useState<
    { auctioned: AccountId; result: BidPreview; blockNumber: bigint; nonce: bigint } | undefined
  >();
  const [tx, setTx] = useState<TxState>({ kind: "idle" });
  const cash = addressBook.cash;

  const fractionWad = () => {
    try {
      const percent = parseUnits(fractionText.trim(), 16);
      return percent > 0n && percent <= 10n ** 18n ? percent : undefined;
    } catch {
      return undefined;
    }
  };
  const open = useLive(
    ["auctions"],
    async () => {
      const data = await indexerQuery<{ auctions: { items: Row[]; totalCount?: number } }>(
        indexerUrl,
        `{ auctions(where: { endedBlock: null }, orderBy: "startedBlock", orderDirection: "desc", limit: ${AUCTIONS_SHOWN}) { items { id account startedAt bids endedBlock markValueWad } totalCount } }`,
      );
      const running = data.auctions.items.filter((row) => row.endedBlock === null);
      // The live discount for the chosen fraction, from the chain.
      const fraction = fractionWad() ?? 10n ** 18n;
      return Promise.all(
        running.map(async (row) => {
          const auctioned = asAccountId(BigInt(row.account as string));
          const live = await previewBid(publicClient, { addressBook, account: auctioned, fractionWad: fraction }).catch(
            (error: unknown) => errorSentence(error, addressBook),
          );
          return { row, auctioned, live };
        }),
      ).then((rows) => Object.assign(rows, { total: data.auctions.totalCount ?? rows.length }));
    },
    1_000,
  );

  async function runPreview(auctioned: AccountId) {
    const fraction = fractionWad();
    if (fraction === undefined)
      return setTx({ kind: "failed", text: "Enter a share of the account between 0 and 100 %." });
    try {
      // The preview and the account's nonce at one block: the bid is pinned to that state.
      const blockNumber = await publicClient.getBlockNumber();
      const [result, nonce] = await Promise.all([
        previewBid(publicClient, { addressBook, account: auctioned, fractionWad: fraction, blockNumber }),
        publicClient.readContract({
          address: addressBook.contracts.OptionMarket,
          abi: optionMarketAbi,
          functionName: "accountNonce",
          args: [auctioned],
          blockNumber,
        }),
      ]);
      setPreview({ auctioned, result, blockNumber, nonce });
      setTx({ kind: "idle" });
    } catch (error) {
      setPreview(undefined);
      setTx({ kind: "failed", text: errorSentence(error, addressBook) });
    }
  }

  /** Whether the preview is recent enough to bid on (`BID_PREVIEW_BLOCKS`). */
  const fresh = preview !== undefined && (head === undefined || head - preview.blockNumber <= BID_PREVIEW_BLOCKS);

  async function runBid() {
    if (!preview) return;
    if (!fresh) return setTx({ kind: "failed", text: "The preview is too old: preview again." });
    if (!signer) return setTx({ kind: "failed", text: "The wallet is not ready: connect again." });
    setTx({ kind: "pending", text: `Bidding on ${formatAccount(preview.auctioned)}…` });
    try {
      const { receipt, result } = await bid(signer, {
        publicClient,
        addressBook,
        account: preview.auctioned,
        bidderAccount: account,
        fractionWad: preview.result.fractionWad,
        // The account as previewed: the chain refuses the bid if it changed since (a fill, a bid).
        expectedNonce: preview.nonce,
        // The previewed payment, plus a little for the interest of the block it lands in.
        maxPayment:
          preview.result.payment +
          (preview.result.payment < 0n ? -preview.result.payment : preview.result.payment) / 1_000n +
          1n,
      });
      setTx({
        kind: "confirmed",
        text: `Bought ${units(result.fractionWad * 100n, 18, undefined, 2)} % of the account for ${units(result.payment, cash.decimals, cash.symbol)} (block ${receipt.blockNumber}).`,
      });
      setPreview(undefined);
    } catch (error) {
      setTx({ kind: "failed", text: errorSentence(error, addressBook) });
    } finally {
      await queryClient.invalidateQueries();
    }
  }

  return (
    <section>
      <h2>Auctions</h2>
      <label>
        Share to bid for (%){" "}
        <input
          value={fractionText}
          onChange={(e) => setFractionText(e.target.value)}
          data-testid="bid-fraction"
          inputMode="decimal"
        />
      </label>
      {open.error && <p className="error">{errorSentence(open.error, addressBook)}</p>}
      {open.data && open.data.length === 0 && <p className="muted">No open auction.</p>}
      {open.data && open.data.total > open.data.length && (
        <p className="muted" data-testid="auctions-more">
          The latest {open.data.length} of {open.data.total} open auctions.
        </p>
      )}
      {open.data && open.data.length > 0 && (
        <table data-testid="auctions">
          <thead>
            <tr>
              <th>Account</th>
              <th>Started</th>
              <th>Discount now</th>
              <th>Mark value</th>
              <th>Bids</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {open.data.map(({ row, auctioned, live }, i) => (
              <tr key={row.id as string} data-testid={`auction-${i}`}>
                <td>{formatAccount(auctioned).replace(/^(0x[0-9a-f]{6})[0-9a-f]+/, "$1…")}</td>
                <td>{new Date(Number(row.startedAt) * 1000).toISOString().slice(11, 19)}</td>
                <td>{typeof live === "string" ? live : `${units(live.discountWad * 100n, 18, undefined, 2)} %`}</td>
                <td>{typeof live === "string" ? "" : usd(live.markValueWad)}</td>
                <td>{row.bids}</td>
                <td>
                  <button onClick={() => runPreview(auctioned)} data-testid={`bid-preview-${i}`}>
                    Preview
                  </button>{" "}
                  <button
                    onClick={runBid}
                    disabled={preview?.auctioned !== auctioned || !fresh || tx.kind === "pending"}
                    data-testid={`bid-${i}`}
                  >
                    Bid
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {preview && (
        <p data-testid="bid-preview">
          {preview.result.payment >= 0n ? "You pay " : "You receive "}
          {units(
            preview.result.payment >= 0n ? preview.result.payment : -preview.result.payment,
            cash.decimals,
            cash.symbol,
          )}{" "}
          for {units(preview.result.fractionWad * 100n, 18, undefined, 2)} % of the account at a{" "}
          {units(preview.result.discountWad * 100n, 18, undefined, 2)} % discount (insurance fee{" "}
          {units(preview.result.insuranceFee, cash.decimals, cash.symbol)}); the auctioned account after it: IM equity{" "}
          {usd(preview.result.equityIMAfter)} against {usd(preview.result.requirementIMAfter)} required.
        </p>
      )}
      <TxStatus tx={tx} testId="bid-status" />
    </section>
  );
}
