import { type AccountId, type AddressBook } from "@pledge/sdk";

import { type Row, indexerQuery } from "./indexer.js";
import { useLive } from "./live.js";
import { errorSentence, units, usd } from "./lib.js";

interface Entry {
  block: bigint;
  logIndex: number;
  kind: string;
  text: string;
}

/** Rows read per kind of event: the latest this many, newest first. */
export const HISTORY_LIMIT = 100;

/**
 * The account's history from the indexer: deposits and withdrawals, trades, settlements,
 * liquidations (auctions of this account, bids it made). The indexer's rows are events, exact at
 * their block; nothing here is a live balance.
 */
export function History({
  addressBook,
  indexerUrl,
  account,
}: {
  addressBook: AddressBook;
  indexerUrl: string;
  account: AccountId;
}) {
  const cash = addressBook.cash;
  const tokens = [addressBook.cash, ...addressBook.collateral];
  const token = (address: string) => tokens.find((t) => t.address.toLowerCase() === address.toLowerCase());
  const id = `"${account}"`;
  const history = useLive(
    ["history", account.toString()],
    async (): Promise<Entry[]> => {
      const at = "blockNumber logIndex";
      // Newest first on the indexer's side too: without an order, the limit keeps the oldest.
      const desc = (column: string) => `orderBy: "${column}", orderDirection: "desc"`;
      const data = await indexerQuery<Record<string, { items: Row[] }>>(
        indexerUrl,
        `{
        made: fills(where: { maker: ${id} }, ${desc("blockNumber")}, limit: ${HISTORY_LIMIT}) { items { ${at} maker taker makerDelta priceWad premium } }
        took: fills(where: { taker: ${id} }, ${desc("blockNumber")}, limit: ${HISTORY_LIMIT}) { items { ${at} maker taker makerDelta priceWad premium } }
        into: transfers(where: { toAccount: ${id} }, ${desc("blockNumber")}, limit: ${HISTORY_LIMIT}) { items { ${at} kind asset amount } }
        out: transfers(where: { fromAccount: ${id} }, ${desc("blockNumber")}, limit: ${HISTORY_LIMIT}) { items { ${at} kind asset amount } }
        settlements(where: { account: ${id} }, ${desc("blockNumber")}, limit: ${HISTORY_LIMIT}) { items { ${at} balance payoff } }
        auctions(where: { account: ${id} }, ${desc("startedBlock")}, limit: ${HISTORY_LIMIT}) { items { blockNumber: startedBlock bids endedBlock emptied } }
        bids(where: { bidderAccount: ${id} }, ${desc("blockNumber")}, limit: ${HISTORY_LIMIT}) { items { ${at} account fractionWad payment } }
      }`,
      );
      const amount = (row: Row) => {
        const t = token(row.asset as string);
        return t ? units(BigInt(row.amount as string), t.decimals, t.symbol) : `${row.amount} of ${row.asset}`;
      };
      const entries: Entry[] = [];
      const push = (row: Row, kind: string, text: string) =>
        entries.push({ block: BigInt(row.blockNumber as string), logIndex: Number(row.logIndex ?? 0), kind, text });
      for (const row of [...data.made!.items, ...data.took!.items]) {
        const maker = row.maker === account.toString();
        const delta = BigInt(row.makerDelta as string) * (maker ? 1n : -1n);
        push(
          row,
          "trade",
          `${delta > 0n ? "Bought" : "Sold"} ${units(delta < 0n ? -delta : delta, 18)} at ${usd(BigInt(row.priceWad as string))} (premium ${units(BigInt(row.premium as string), cash.decimals, cash.symbol)})`,
        );
      }
      for (const row of data.into!.items) if (row.kind === "deposit") push(row, "deposit", `Deposited ${amount(row)}`);
      for (const row of data.out!.items) if (row.kind === "withdraw") push(row, "withdraw", `Withdrew ${amount(row)}`);
      for (const row of data.settlements!.items)
        push(
          row,
          "settlement",
          `Settled ${units(BigInt(row.balance as string), 18)} contracts: ${units(BigInt(row.payoff as string), cash.decimals, cash.symbol)}`,
        );
      for (const row of data.auctions!.items)
        push(
          row,
          "liquidation",
          `Auction started; ${row.bids} bid(s)${row.endedBlock === null ? ", still open" : row.emptied ? ", emptied" : ", ended"}`,
        );
      for (const row of data.bids!.items)
        push(
          row,
          "liquidation",
          `Bid for ${units(BigInt(row.fractionWad as string) * 100n, 18, undefined, 2)} % of an auctioned account, paid ${units(BigInt(row.payment as string), cash.decimals, cash.symbol)}`,
        );
      return entries.sort((a, b) => (a.block === b.block ? b.logIndex - a.logIndex : a.block > b.block ? -1 : 1));
    },
    1_000,
  );
  return (
    <section>
      <h2>History</h2>
      {history.error && <p className="error">{errorSentence(history.error, addressBook)}</p>}
      {history.data && history.data.length === 0 && <p className="muted">Nothing yet.</p>}
      {history.data && history.data.length > 0 && (
        <table data-testid="history">
          <thead>
            <tr>
              <th>Block</th>
              <th>What</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {history.data.map((entry) => (
              <tr key={`${entry.block}-${entry.logIndex}-${entry.kind}-${entry.text}`}>
                <td>{entry.block.toString()}</td>
                <td>{entry.kind}</td>
                <td>{entry.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">
        From the indexer (history as of each event): the latest {HISTORY_LIMIT} events of each kind, newest first.
      </p>
    </section>
  );
}
