import { network } from "hardhat";
import { type Hash, parseUnits } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";
import { accountId, asAccountId, expiryAfter, seriesId as idOf, signOrder } from "../packages/sdk/src/index.js";
import { pledgeNames, traceTransaction } from "./lib/trace.js";

/**
 * `npx hardhat run scripts/trace-fill.ts`: where a fill's gas goes, for the breakdown in
 * docs/performance.md ("Where the gas goes"). Replays the bench's first fill (scripts/bench.ts:
 * the same deployment, funding, series and order; the maker sells one contract to a taker, both
 * open a position) and prints, from `debug_traceTransaction`, the call tree with each frame's
 * gas (inclusive, and its own: what is left once its calls, storage and events are taken out),
 * storage reads (cold / warm) and writes, events, the storage slots read more than once and the
 * external calls made more than once with the same target. Gas is deterministic; nothing is timed.
 */
const WAD = 10n ** 18n;
const DAY = 86_400n;
const connection = await network.create();
const { contracts } = await deployPledge(connection, { writeBook: false });
const { vault, market, usdc, liquidator } = contracts;
const publicClient = await connection.viem.getPublicClient();
const [, makerWallet, takerWallet] = await connection.viem.getWalletClients();
if (!makerWallet || !takerWallet) throw new Error("need three wallet clients");
const chainId = await publicClient.getChainId();
const nameOf = await pledgeNames(contracts, { [liquidator.address.toLowerCase()]: "liquidator (hook)" });
const trace = async (name: string, send: () => Promise<Hash>): Promise<void> =>
  traceTransaction(connection, name, await send(), market.address, "market", nameOf);

// The bench's set-up, step for step (scripts/bench.ts, "trading").
const trader = makerWallet.account.address;
const latest = await publicClient.getBlock();
const firstExpiry = expiryAfter(latest.timestamp, 7);
async function fund(account: bigint, owner: NonNullable<typeof makerWallet>, cash: bigint): Promise<void> {
  await usdc.write.mint([owner.account.address, cash]);
  await usdc.write.approve([vault.address, cash], { account: owner.account });
  await vault.write.deposit([account, usdc.address, cash], { account: owner.account });
}
const takerAccount = accountId(takerWallet.account.address, 1n);
await fund(takerAccount, takerWallet, parseUnits("100000000", 6));
const maker = accountId(trader, 2n);
await fund(maker, makerWallet, parseUnits("10000000", 6));
const series = { underlyingIndex: 1, expiry: Number(firstExpiry), isCall: false, strikeWad: 1_500n * WAD };
await publicClient.waitForTransactionReceipt({ hash: await market.write.createSeries([series]) });
const seriesId = idOf({ ...series, expiry: BigInt(series.expiry) });
let nonce = 0n;
async function fill(size = -WAD, id = seriesId): Promise<Hash> {
  const { order, signature } = await signOrder(makerWallet!, {
    market: market.address,
    chainId,
    order: {
      account: asAccountId(maker),
      seriesId: id,
      size,
      priceWad: 10n * WAD,
      taker: 0n,
      nonce: ++nonce,
      deadline: latest.timestamp + 365n * DAY,
    },
  });
  return market.write.fill([order, signature, takerAccount, WAD], { account: takerWallet!.account });
}
await trace("market.fill, opening both positions", () => fill());
await trace("market.fill, adding to both positions", () => fill());
// Both sides reducing: each is valued before and after (the margin gate's four valuations).
await trace("market.fill, reducing both positions", () => fill(WAD));
// The same two accounts open a second series of the same underlying: neither account, nor the
// underlying's open interest, is a fresh slot any more (the first fill paid those three).
const second = { ...series, strikeWad: 1_600n * WAD };
await publicClient.waitForTransactionReceipt({ hash: await market.write.createSeries([second]) });
const secondId = idOf({ ...second, expiry: BigInt(second.expiry) });
await trace("market.fill, opening both positions, accounts and underlying that traded before", () =>
  fill(-WAD, secondId),
);
