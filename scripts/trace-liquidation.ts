import { network } from "hardhat";
import { type Hash, parseUnits } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";
import { accountId } from "../packages/sdk/src/index.js";
import { openBenchBook } from "./lib/benchBook.js";
import { pledgeNames, traceTransaction } from "./lib/trace.js";

/**
 * `npx hardhat run scripts/trace-liquidation.ts`: where a liquidation's gas goes, for
 * docs/performance.md ("Where the gas goes"). Builds the bench's thin account short 4 series (the
 * bench's first four: ETH and BTC, puts and calls, scripts/bench.ts "liquidation"), withdraws it
 * down to just above initial margin, rallies ETH and BTC 40 %, and prints, from
 * `debug_traceTransaction`, the call tree of `liquidator.startAuction` and of a whole `bid`
 * (fraction 1) by a bidder account holding only cash, with each frame's storage, memory, events and
 * own gas; then of a `bid` on a second such account with no auction running, which opens it (start
 * and bid in one transaction), by another cash-only bidder; then the same on a third such account
 * that cash put back above zero (solvent: the bidder pays into it, a partial bid, the fund holding
 * cash). `TRACE_POSITIONS=16` picks another size.
 */
const WAD = 10n ** 18n;
const size = Number(process.env.TRACE_POSITIONS ?? "4");
const connection = await network.create();
const { contracts } = await deployPledge(connection, { writeBook: false });
const { vault, market, engine, usdc, liquidator, insurance, ethUsd, btcUsd } = contracts;
const [, makerWallet, takerWallet] = await connection.viem.getWalletClients();
if (!makerWallet || !takerWallet) throw new Error("need three wallet clients");
const nameOf = await pledgeNames(contracts);
const trace = async (name: string, send: () => Promise<Hash>): Promise<void> =>
  traceTransaction(connection, name, await send(), liquidator.address, "liquidator", nameOf);

const { book, seriesIds } = await openBenchBook(connection, contracts, makerWallet, takerWallet, size);
const { fund, createSeries } = book;
const holder = accountId(takerWallet.account.address, 7n);
await fund(holder, takerWallet, parseUnits("1000000", 6));
const bidder = accountId(takerWallet.account.address, 1n);
await fund(bidder, takerWallet, parseUnits("100000000", 6));
const held = size === 1 ? [await createSeries(1)] : seriesIds;
/** A thin account short one contract of each of `held`, withdrawn to just above initial margin. */
async function thinAccount(sub: bigint): Promise<bigint> {
  const account = accountId(makerWallet!.account.address, sub);
  await book.thinAccount(account, holder, held);
  return account;
}
const account = await thinAccount(2000n + BigInt(size));
// The same account again, for a bid that opens the auction itself (one transaction), by a bidder
// of its own, also holding only cash.
const oneTransaction = await thinAccount(2100n + BigInt(size));
const secondBidder = accountId(takerWallet.account.address, 9n);
await fund(secondBidder, takerWallet, parseUnits("100000000", 6));
// Once more, for the usual case: after the rally, cash takes it back above zero (half its
// maintenance requirement), so the bidder pays into it and the fund, holding cash, takes its fee.
const solvent = await thinAccount(2200n + BigInt(size));
const thirdBidder = accountId(takerWallet.account.address, 10n);
await fund(thirdBidder, takerWallet, parseUnits("100000000", 6));
await ethUsd.write.updateAnswer([(3_000n * 10n ** 8n * 14n) / 10n]);
await btcUsd.write.updateAnswer([(60_000n * 10n ** 8n * 14n) / 10n]);
await trace(`liquidator.startAuction, ${size} positions`, () => liquidator.write.startAuction([account]));
const preview = await liquidator.read.previewBid([account, WAD]);
const nonce = await market.read.accountNonce([account]);
const limit = preview.payment + (preview.payment < 0n ? -preview.payment : preview.payment) / 1_000n;
await trace(`liquidator.bid, ${size} positions (fraction ${Number(preview.fractionWad) / 1e18})`, () =>
  liquidator.write.bid([account, bidder, WAD, limit, nonce], { account: takerWallet.account }),
);
{
  const preview = await liquidator.read.previewBid([oneTransaction, WAD]);
  const nonce = await market.read.accountNonce([oneTransaction]);
  const limit = preview.payment + (preview.payment < 0n ? -preview.payment : preview.payment) / 1_000n;
  await trace(
    `liquidator.bid starting the auction, ${size} positions (fraction ${Number(preview.fractionWad) / 1e18})`,
    () => liquidator.write.bid([oneTransaction, secondBidder, WAD, limit, nonce], { account: takerWallet.account }),
  );
}
{
  await fund(await insurance.read.account(), takerWallet, parseUnits("1000000", 6));
  await book.topUpToHalfMaintenance(solvent);
  const preview = await liquidator.read.previewBid([solvent, WAD]);
  if (preview.payment <= 0n) throw new Error("the solvent account's bidder does not pay");
  const nonce = await market.read.accountNonce([solvent]);
  await trace(
    `liquidator.bid starting the auction, ${size} positions, solvent (fraction ${Number(preview.fractionWad) / 1e18})`,
    () => liquidator.write.bid([solvent, thirdBidder, WAD, preview.payment, nonce], { account: takerWallet.account }),
  );
}
