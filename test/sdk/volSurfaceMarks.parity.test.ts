import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { mnemonicToAccount } from "viem/accounts";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  accountId,
  Account,
  accountMargin,
  expiryAfter,
  getMarginInputs,
  MarginMode,
  type Order,
  seriesId as packSeries,
  decodePledgeError,
  signOrder,
  signVolSurfacePost,
  simulateFill,
  surfaceFallbackOf,
  type AccountId,
  type SeriesId,
  type VolSurfacePost,
} from "../../packages/sdk/src/index.js";
import { optionMarketAbi } from "../../packages/sdk/src/abis/index.js";
import { seededRandom } from "../../scripts/lib/population.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const ACCOUNTS = 40;
const SCENARIOS = 6;

/**
 * Issue 17 part 2: the SDK's marks and requirements on a vol surface equal the chain's to the wei
 * (`docs/vol-surface.md`, "Marks and margin"), on random admissible smiles and random CROSS and
 * PORTFOLIO books, through FRESH, immature, stale and missing surfaces; and `surfaceFallbackOf`
 * predicts exactly which accounts `checkInitialMargin` refuses with `EngineVolSurfaceUnusable`.
 */
describe("SDK vol-surface marks and margin equal the chain, to the wei", async () => {
  const connection = await network.create();
  const { contracts, book } = await deployPledge(connection, { writeBook: false });
  const { vault, market, engine, volSurface, usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol } = contracts;
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const [, traderWallet, mmWallet] = await connection.viem.getWalletClients();
  if (!traderWallet || !mmWallet) throw new Error("wallets");
  const chainId = await publicClient.getChainId();
  const random = seededRandom(0x17b);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  // The local deployment's surface signers: the first three dev accounts, quorum 2.
  const signers = [0, 1, 2].map((addressIndex) =>
    mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex }),
  );

  // ---------------------------------------------------------------- series
  const now = (await publicClient.getBlock()).timestamp;
  const day0 = expiryAfter(now, 3);
  const expiries = [day0, day0 + 7n * DAY, day0 + 30n * DAY];
  const seriesIds: SeriesId[] = [];
  for (const [index, spot] of [
    [1, 3_000n],
    [2, 60_000n],
  ] as const) {
    for (const expiry of expiries) {
      for (const k of [70n, 90n, 100n, 115n, 140n]) {
        for (const isCall of [true, false]) {
          const series = { underlyingIndex: index, expiry: Number(expiry), isCall, strikeWad: (spot * k * WAD) / 100n };
          await market.write.createSeries([series]);
          seriesIds.push(packSeries({ ...series, expiry }));
        }
      }
    }
  }

  // ---------------------------------------------------------------- population (before the surface)
  const mm = accountId(mmWallet.account.address, 1n);
  await usdc.write.mint([mmWallet.account.address, 10n ** 14n]);
  await usdc.write.approve([vault.address, 10n ** 14n], { account: mmWallet.account });
  await vault.write.deposit([mm, usdc.address, 10n ** 14n], { account: mmWallet.account });
  const trader = traderWallet.account.address;
  await usdc.write.mint([trader, 10n ** 13n]);
  await usdc.write.approve([vault.address, 10n ** 13n], { account: traderWallet.account });
  await weth.write.mint([trader, 10n ** 24n]);
  await weth.write.approve([vault.address, 10n ** 24n], { account: traderWallet.account });
  let nonce = 0n;
  const accounts: AccountId[] = [];
  const asTrader = { account: traderWallet.account };
  for (let i = 0; i < ACCOUNTS; i++) {
    const account = accountId(trader, BigInt(i + 1));
    accounts.push(account);
    if (i % 3 === 0) await engine.write.setMarginMode([account, MarginMode.PORTFOLIO], asTrader);
    await vault.write.deposit(
      [account, usdc.address, BigInt(5_000 + Math.floor(random() * 60_000)) * 10n ** 6n],
      asTrader,
    );
    if (random() < 0.4)
      await vault.write.deposit(
        [account, weth.address, BigInt(Math.floor(random() * 10e6) + 1) * 10n ** 12n],
        asTrader,
      );
    const trades = 1 + Math.floor(random() * 5);
    for (let t = 0; t < trades; t++) {
      const series = pick(seriesIds);
      const mark = await engine.read.mark([series]);
      const size = (BigInt(Math.floor(random() * 3000)) * WAD) / 1000n + 1n;
      const order: Order = {
        account,
        seriesId: series,
        size: random() < 0.6 ? -size : size,
        priceWad: (mark * BigInt(90 + Math.floor(random() * 20))) / 100n,
        taker: 0n,
        nonce: ++nonce,
        deadline: now + 365n * DAY,
      };
      const { signature } = await signOrder(traderWallet, { order, market: market.address, chainId });
      try {
        await market.write.fill([order, signature, mm, size], { account: mmWallet.account });
      } catch {
        // Over the trader's IM: refused.
      }
    }
  }

  // ---------------------------------------------------------------- the surface
  await engine.write.setVolSurface([volSurface.address]);
  for (const step of [1n, 2n, 3n, 4n]) await engine.write.setConfidenceAddOn([1, step * 5n * 10n ** 15n]);
  await engine.write.setConfidenceAddOn([2, 5n * 10n ** 15n]);
  const q = (x: number, quantum: bigint) => (BigInt(Math.round(x * 1e18)) / quantum) * quantum;
  // One random shape (skew, curvature, centre) for every post: only the level and the confidence
  // move between posts, so each post passes the change rule and the calendar check (the smiles of
  // one post share m, σ and ρ, and the longer one has more variance everywhere).
  const shape = {
    b: 0.05 + random() * 0.1,
    sigma: 0.1 + random() * 0.2,
    rho: -0.6 + random() * 0.5,
    m: -0.05 + random() * 0.1,
  };
  /** A smile per WETH expiry but the last (never posted: missing), at ATM vol 50 % + 40 % × `level`. */
  async function postSurfaces(level: number) {
    const timestamp = (await publicClient.getBlock()).timestamp;
    const post: VolSurfacePost = {
      underlying: weth.address,
      timestamp,
      surfaces: expiries.slice(0, 2).map((expiry, i) => {
        const tau = Number(expiry - timestamp) / (365 * 86_400);
        const atm = (0.5 + 0.4 * level) ** 2 * tau * (1 + i * 0.3);
        const b = shape.b * Math.sqrt(tau);
        return {
          expiry,
          a: q(atm - b * shape.sigma, 10n ** 8n),
          b: q(b, 10n ** 8n),
          rho: q(shape.rho, 10n ** 8n),
          m: q(shape.m, 10n ** 8n),
          sigma: q(shape.sigma, 10n ** 8n),
          confidence: q(0.3 + random() * 0.7, 10n ** 9n),
        };
      }),
    };
    const { signatures } = await signVolSurfacePost({
      signers: signers.slice(0, 2),
      oracle: volSurface.address,
      chainId,
      post,
    });
    await volSurface.write.post([post, signatures]);
  }

  async function refreshFeeds() {
    await ethUsd.write.updateAnswer([BigInt(Math.floor(3_000 * (0.8 + random() * 0.4) * 1e8))]);
    await btcUsd.write.updateAnswer([BigInt(Math.floor(60_000 * (0.8 + random() * 0.4) * 1e8))]);
    await ethVol.write.updateAnswer([BigInt(Math.floor((0.4 + random() * 0.8) * 1e8))]);
    await btcVol.write.updateAnswer([BigInt(Math.floor((0.4 + random() * 0.8) * 1e8))]);
  }

  async function advance(seconds: bigint) {
    const block = await publicClient.getBlock();
    await testClient.setNextBlockTimestamp({ timestamp: block.timestamp + seconds });
    await testClient.mine({ blocks: 1 });
  }

  let compared = 0;
  let fallbacks = 0;
  let fresh = 0;
  // Standard accounts whose only FALLBACK series are longs: no refusal (docs/security.md M10).
  let fallbackLongsOnly = 0;
  // Accounts above IM that a FALLBACK series keeps from withdrawing.
  let withdrawableRefused = 0;
  // Of those, accounts holding collateral (WETH), which the SDK offers none of either.
  let collateralRefused = 0;
  let fills = 0;
  let unusableFills = 0;

  /** A random trader order filled by the market maker: `simulateFill` against the chain's answer. */
  async function compareFill(account: AccountId) {
    const series = pick(seriesIds);
    const order: Order = {
      account,
      seriesId: series,
      size: random() < 0.5 ? -WAD / 10n : WAD / 10n,
      priceWad: 50n * WAD,
      taker: 0n,
      nonce: ++nonce,
      deadline: now + 365n * DAY,
    };
    const { signature } = await signOrder(traderWallet!, { order, market: market.address, chainId });
    const predicted = await simulateFill(publicClient, {
      signedOrder: { order, signature },
      takerAccount: mm,
      fillSize: WAD / 10n,
      addressBook: book,
    });
    let chain: { accepted: boolean; name?: string; args?: readonly unknown[] };
    try {
      await publicClient.simulateContract({
        account: mmWallet!.account,
        address: market.address,
        abi: optionMarketAbi,
        functionName: "fill",
        args: [order, signature, mm, WAD / 10n],
      });
      chain = { accepted: true };
    } catch (error) {
      const decoded = decodePledgeError(error);
      if (!decoded) throw error;
      chain = { accepted: false, name: decoded.errorName, args: decoded.args };
    }
    const label = `${predicted.error?.name ?? "accepted"} vs ${chain.name ?? "accepted"}`;
    assert.equal(predicted.accepted, chain.accepted, label);
    if (!chain.accepted) {
      assert.equal(predicted.error?.name, chain.name, label);
      assert.deepEqual(predicted.error?.args, chain.args, label);
      if (chain.name === "EngineVolSurfaceUnusable") unusableFills++;
    }
    fills++;
  }
  const stages = [
    // Just posted: immature, every WETH series FALLBACK.
    async () => postSurfaces(0.5),
    // Matured and re-posted: FRESH (the third expiry, never posted, and WBTC stay FALLBACK). A first
    // post matures an hour after its block rounded up to the oracle's 2-minute step, so the jump
    // clears the hour by two steps (3,700 s left it immature when the block's second fell late).
    async () => {
      await advance(3_840n);
      await postSurfaces(0.6);
    },
    async () => advance(1_800n),
    // Stale (past the 2 h default).
    async () => advance(7_300n),
    // Fresh again, at a shorter max age.
    async () => {
      await postSurfaces(0.7);
      await engine.write.setSurfaceMaxAge([600n]);
    },
    async () => advance(601n),
  ];

  for (let scenario = 0; scenario < SCENARIOS; scenario++) {
    it(`stage ${scenario}: every account's margin matches, and new risk is refused exactly when predicted`, async () => {
      await stages[scenario]!();
      await refreshFeeds();
      const timestamp = (await publicClient.getBlock()).timestamp;
      const states = await engine.read.accountsMargin([accounts]);
      for (let i = 0; i < accounts.length; i++) {
        const inputs = {
          ...(await getMarginInputs(publicClient, { addressBook: book, account: accounts[i]! })),
          timestamp,
        };
        const sdk = accountMargin(inputs);
        assert.deepEqual(sdk, { ...states[i]! }, `account ${i} stage ${scenario}`);
        const predicted = surfaceFallbackOf(inputs);
        let refused: string | undefined;
        try {
          await engine.read.checkInitialMargin([accounts[i]!]);
        } catch (error) {
          refused = String(error);
        }
        if (predicted !== undefined) {
          fallbacks++;
          assert.ok(refused?.includes("EngineVolSurfaceUnusable"), `account ${i}: ${refused}`);
          // The series named is the one predicted (its expiry; the asset is the same underlying's).
          assert.ok(refused?.includes(String(predicted.expiry)), `account ${i}: ${refused}`);
          // Every withdrawal is refused, so the SDK offers none (review rv41 P3-5).
          const account = new Account(inputs);
          assert.equal(account.maxWithdrawableCash(), 0n);
          inputs.collateral.forEach((_, j) => assert.equal(account.maxWithdrawableCollateral(j), 0n));
          const { equityIM, requirementIM } = account.margin();
          if (equityIM > requirementIM) withdrawableRefused++;
          if (equityIM > requirementIM && inputs.collateral.some((c) => c.amount > 0n)) collateralRefused++;
        } else {
          // Counted as PORTFOLIO, longs count too: a series named then is a FALLBACK long.
          if (surfaceFallbackOf({ ...inputs, mode: MarginMode.PORTFOLIO }) !== undefined) fallbackLongsOnly++;
          fresh++;
          assert.ok(refused === undefined || refused.includes("EngineBelowInitialMargin"), `account ${i}: ${refused}`);
        }
        compared++;
      }
      for (let i = 0; i < 6; i++) await compareFill(pick(accounts));
    });
  }

  it("the stages exercised FRESH and FALLBACK books", () => {
    assert.ok(compared >= ACCOUNTS * SCENARIOS);
    assert.ok(fallbacks > 0 && fresh > 0, `fallbacks ${fallbacks}, fresh ${fresh}`);
    assert.ok(fallbackLongsOnly > 0, "no standard account held FALLBACK longs alone");
    assert.ok(withdrawableRefused > 0, "no account above IM was refused for the surface");
    assert.ok(collateralRefused > 0, "no account above IM holding collateral was refused for the surface");
    assert.ok(fills > 0 && unusableFills > 0, `fills ${fills}, refused for the surface ${unusableFills}`);
  });
});
