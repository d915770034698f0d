import type { network } from "hardhat";
import { encodeFunctionData } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  accountId,
  expiryAfter,
  type Order,
  seriesId as packSeries,
  signOrder,
  signVolSurfacePost,
  type SeriesId,
  type VolSurfacePost,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;

type Connection = Awaited<ReturnType<typeof network.create>>;

/** Gas of `engine.mark` of one series and of `accountMargin` of the whole book, as one contract pays it. */
export interface SurfaceMarksGas {
  /**
   * `engine.mark` of one live call: the gas a transaction calling it uses (`debug_traceCall`, 21,000
   * included). Not `eth_estimateGas`, whose search for a sufficient limit reads some 20k more on the
   * surface path than the call uses.
   */
  mark: number;
  /** `engine.accountMargin` of the 16-position CROSS book, measured by `MarginGasProbe`. */
  margin: number;
}

/**
 * Issue 17's cost bounds for marks on the vol surface (`docs/vol-surface.md`, "Cost"), on a fresh
 * deployment over `connection`: a CROSS account short one call of each of 16 WETH series (2
 * expiries, 7 and 30 days out, × 8 strikes from 2,600 to 3,300), valued first at the flat vol
 * feed, then with the oracle wired into the engine and both expiries FRESH (posted, the clock
 * moved to their maturity, re-posted, and checked mature before measuring). Shared by `test/sdk/volSurfaceMarks.gas.test.ts`, which asserts the
 * bounds, and `scripts/bench.ts`, which records the rows in bench/gas.json.
 *
 * @example
 * const connection = await network.create();
 * const { flat, surface } = await measureSurfaceMarksGas(connection);
 * console.log(`16-position check: +${(((surface.margin - flat.margin) / flat.margin) * 100).toFixed(1)} %`);
 */
export async function measureSurfaceMarksGas(
  connection: Connection,
): Promise<{ flat: SurfaceMarksGas; surface: SurfaceMarksGas }> {
  const { contracts } = await deployPledge(connection, { writeBook: false });
  const { vault, market, engine, volSurface, usdc, weth, ethUsd, btcUsd, ethVol, btcVol } = contracts;
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const [, makerWallet, takerWallet] = await connection.viem.getWalletClients();
  if (!makerWallet || !takerWallet) throw new Error("wallets");
  const chainId = await publicClient.getChainId();
  // The local deployment's first two surface signers (quorum 2).
  const signers = [0, 1].map((addressIndex) =>
    mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex }),
  );
  const probe = await connection.viem.deployContract("MarginGasProbe");

  const now = (await publicClient.getBlock()).timestamp;
  const expiries = [expiryAfter(now, 7), expiryAfter(now, 30)];
  const seriesIds: SeriesId[] = [];
  for (const expiry of expiries) {
    for (let k = 0; k < 8; k++) {
      const series = {
        underlyingIndex: 1,
        expiry: Number(expiry),
        isCall: true,
        strikeWad: (2_600n + 100n * BigInt(k)) * WAD,
      };
      await market.write.createSeries([series]);
      seriesIds.push(packSeries({ ...series, expiry }));
    }
  }
  const maker = accountId(makerWallet.account.address, 1n);
  const taker = accountId(takerWallet.account.address, 1n);
  for (const [wallet, account] of [
    [makerWallet, maker],
    [takerWallet, taker],
  ] as const) {
    await usdc.write.mint([wallet.account.address, 10n ** 13n]);
    await usdc.write.approve([vault.address, 10n ** 13n], { account: wallet.account });
    await vault.write.deposit([account, usdc.address, 10n ** 13n], { account: wallet.account });
  }
  let nonce = 0n;
  for (const seriesId of seriesIds) {
    const order: Order = {
      account: maker,
      seriesId,
      size: -WAD,
      priceWad: 10n * WAD,
      taker: 0n,
      nonce: ++nonce,
      deadline: now + 365n * DAY,
    };
    const { signature } = await signOrder(makerWallet, { order, market: market.address, chainId });
    await market.write.fill([order, signature, taker, WAD], { account: takerWallet.account });
  }

  const measure = async (): Promise<SurfaceMarksGas> => {
    const data = encodeFunctionData({ abi: engine.abi, functionName: "mark", args: [seriesIds[3]!] });
    const trace = await publicClient.request<{
      Method: "debug_traceCall";
      Parameters: [{ to: `0x${string}`; data: `0x${string}` }, "latest", { disableStack: true; disableMemory: true }];
      ReturnType: { gas: number; failed: boolean };
    }>({
      method: "debug_traceCall",
      params: [{ to: engine.address, data }, "latest", { disableStack: true, disableMemory: true }],
    });
    if (trace.failed) throw new Error("engine.mark reverted");
    return { mark: Number(trace.gas), margin: Number(await probe.read.accountMarginGas([engine.address, maker])) };
  };

  async function postSurfaces() {
    const timestamp = (await publicClient.getBlock()).timestamp;
    const post: VolSurfacePost = {
      underlying: weth.address,
      timestamp,
      surfaces: expiries.map((expiry, i) => ({
        expiry,
        a: ((2n + BigInt(i)) * 10n ** 16n) / 10n,
        b: 5n * 10n ** 16n,
        rho: -3n * 10n ** 17n,
        m: 0n,
        sigma: 2n * 10n ** 17n,
        confidence: 8n * 10n ** 17n,
      })),
    };
    const { signatures } = await signVolSurfacePost({ signers, oracle: volSurface.address, chainId, post });
    await volSurface.write.post([post, signatures]);
  }

  const flat = await measure();
  await engine.write.setVolSurface([volSurface.address]);
  await engine.write.setConfidenceAddOn([1, 5n * 10n ** 15n]);
  await postSurfaces();
  // The clock is driven, not waited on: a first post matures at its block + an hour rounded up to
  // the oracle's 2-minute step, so a fixed jump (once 3,700 s) left the surface immature whenever
  // the block's second fell late in its step, and the mark took the FALLBACK path (a flaky CI run).
  // Jump to the later expiry's maturity, re-post there, then check both surfaces are mature.
  const maturesAt = async (expiry: bigint) => (await volSurface.read.markSurface([weth.address, expiry])).maturesAt;
  const matureTime = (await Promise.all(expiries.map(maturesAt))).reduce((a, b) => (a > b ? a : b));
  await testClient.setNextBlockTimestamp({ timestamp: matureTime });
  await testClient.mine({ blocks: 1 });
  await postSurfaces();
  for (const feed of [ethUsd, btcUsd, ethVol, btcVol]) await feed.write.updateAnswer([await feed.read.latestAnswer()]);
  for (const expiry of expiries) {
    const s = await volSurface.read.markSurface([weth.address, expiry]);
    if (!s.mature) throw new Error(`the surface of expiry ${expiry} is not mature (matures at ${s.maturesAt})`);
  }
  const surface = await measure();
  return { flat, surface };
}
