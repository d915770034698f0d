import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import type { Hash } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  type ConcentrationParams,
  type Order,
  Account,
  MarginMode,
  PledgeError,
  accountId,
  accountMargin,
  approximateMaintenance,
  concentrationAddOnUp,
  decodePledgeError,
  decodeSeries,
  expiryAfter,
  getMarginInputs,
  getMarketParameters,
  getOpenInterestCaps,
  orderDomain,
  orderTypes,
  pledgeActions,
  seriesId as packSeries,
  type AccountId,
  type SeriesId,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
/** CROSS and PORTFOLIO accounts, half each; every one trades against one deep market maker. */
const ACCOUNTS = 40;

const params = (kappaWad: bigint, maxRatioWad: bigint, liquidityWad: bigint): ConcentrationParams => ({
  kappaWad,
  maxRatioWad,
  liquidityWad,
});

/**
 * Issue 16, item 2: with the concentration add-on on, the SDK's margin equals the engine's to the
 * wei for a seeded random population of CROSS and PORTFOLIO accounts (ETH and BTC calls and puts,
 * long and short, sizes from a hundredth of a contract to several times the liquidity reference,
 * so the add-on is both quadratic and capped), under moving prices and changing parameters; and the
 * SDK's read of the open-interest caps names the room a fill has, as the market's revert does.
 */
describe("SDK concentration add-on and open-interest caps equal the chain", async () => {
  const connection = await network.create();
  const { contracts, book } = await deployPledge(connection, { writeBook: false });
  const { vault, market, engine, usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol } = contracts;
  const { viem } = connection;
  const publicClient = await viem.getPublicClient();
  const testClient = await viem.getTestClient();
  const [admin, traderWallet, mmWallet] = await viem.getWalletClients();
  if (!admin || !traderWallet || !mmWallet) throw new Error("wallets");
  const chainId = await publicClient.getChainId();
  const manager = await viem.getContractAt("PortfolioManager", await engine.read.portfolioManager());
  const rng = random(0xc0_9ce_47n);
  const gas = { fill: 6_000_000n, small: 400_000n };
  let refused = 0;
  const send = async (tx: Promise<Hash>): Promise<void> => {
    try {
      await tx;
    } catch {
      refused++;
    }
  };

  /**
   * Sets parameters the way the manager allows (`PortfolioConcentrationStepTooLarge`): off (free)
   * when the ratio or L change or κ falls, then κ up in steps that raise κ·c by at most
   * `MAX_CONCENTRATION_ADD_ON_STEP` of spot each (review rv16c2 H1).
   */
  const stepTo = async (index: number, target: ConcentrationParams): Promise<void> => {
    const step = ((await manager.read.MAX_CONCENTRATION_ADD_ON_STEP()) * WAD) / target.maxRatioWad - 1n;
    let p = await manager.read.concentrationParams([index]);
    if (
      p.maxRatioWad !== target.maxRatioWad ||
      p.liquidityWad !== target.liquidityWad ||
      p.kappaWad > target.kappaWad
    ) {
      p = params(0n, target.maxRatioWad, target.liquidityWad);
      await manager.write.setConcentrationParams([index, p]);
    }
    while (p.kappaWad < target.kappaWad) {
      const kappa = p.kappaWad + step < target.kappaWad ? p.kappaWad + step : target.kappaWad;
      p = params(kappa, target.maxRatioWad, target.liquidityWad);
      await manager.write.setConcentrationParams([index, p]);
    }
  };

  // ETH: κ 5 %, L 10 contracts, Q / L capped at 2; BTC: κ 2 %, L 1 contract, capped at 3.
  await stepTo(1, params(5n * 10n ** 16n, 2n * WAD, 10n * WAD));
  await stepTo(2, params(2n * 10n ** 16n, 3n * WAD, WAD));

  const now = (await publicClient.getBlock()).timestamp;
  const day0 = expiryAfter(now, 2);
  const seriesIds: SeriesId[] = [];
  for (const [index, spot] of [
    [1, 3_000n],
    [2, 60_000n],
  ] as const) {
    for (const days of [0n, 7n, 30n]) {
      for (const k of [90n, 100n, 110n]) {
        for (const isCall of [true, false]) {
          const series = {
            underlyingIndex: index,
            expiry: Number(day0 + days * DAY),
            isCall,
            strikeWad: (spot * k * WAD) / 100n,
          };
          await market.write.createSeries([series]);
          seriesIds.push(packSeries({ ...series, expiry: BigInt(series.expiry) }));
        }
      }
    }
  }
  const marks = new Map<bigint, bigint>();
  for (const id of seriesIds) marks.set(id, await engine.read.mark([id]));

  const mm = accountId(mmWallet.account.address, 1n);
  await usdc.write.mint([mmWallet.account.address, 5n * 10n ** 14n]);
  await usdc.write.approve([vault.address, 5n * 10n ** 14n], { account: mmWallet.account });
  await vault.write.deposit([mm, usdc.address, 5n * 10n ** 14n], { account: mmWallet.account });
  const trader = traderWallet.account.address;
  for (const [token, amount] of [
    [usdc, 10n ** 14n],
    [weth, 10n ** 25n],
    [wbtc, 10n ** 15n],
  ] as const) {
    await token.write.mint([trader, amount]);
    await token.write.approve([vault.address, amount], { account: traderWallet.account });
  }

  let nonce = 0n;
  const accounts: AccountId[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const account = accountId(trader, BigInt(i + 1));
    accounts.push(account);
    const as = { account: traderWallet.account, gas: gas.small };
    if (i % 2 === 1) await send(engine.write.setMarginMode([account, MarginMode.PORTFOLIO], as));
    await send(vault.write.deposit([account, usdc.address, rng.range(5_000n, 400_000n) * 10n ** 6n], as));
    if (rng.float() < 0.5) await send(vault.write.deposit([account, weth.address, rng.range(1n, 20n * WAD)], as));
    if (rng.float() < 0.3) await send(vault.write.deposit([account, wbtc.address, rng.range(1n, 10n ** 8n)], as));
    const trades = 1 + rng.int(6);
    for (let t = 0; t < trades; t++) {
      const series = rng.pick(seriesIds);
      const btc = decodeSeries(series).underlyingIndex === 2;
      // Log-uniform sizes: 0.01 to 60 contracts (ETH), a tenth of that on BTC.
      const size = rng.logUniform(10n ** 16n, 60n * WAD) / (btc ? 10n : 1n);
      const order: Order = {
        account,
        seriesId: series,
        size: rng.float() < 0.65 ? -size : size,
        priceWad: (marks.get(series)! * BigInt(95 + rng.int(10))) / 100n,
        taker: 0n,
        nonce: ++nonce,
        deadline: now + 365n * DAY,
      };
      const signature = await traderWallet.signTypedData({
        domain: orderDomain(chainId, market.address),
        types: orderTypes,
        primaryType: "Order",
        message: order,
      });
      await send(market.write.fill([order, signature, mm, size], { account: mmWallet.account, gas: gas.fill }));
    }
  }
  const everyone = [...accounts, mm];

  async function move(eth: bigint, btc: bigint, ethV: bigint, btcV: bigint, dt: bigint) {
    await testClient.setAutomine(false);
    for (const [feed, answer] of [
      [ethUsd, eth],
      [btcUsd, btc],
      [ethVol, ethV],
      [btcVol, btcV],
    ] as const) {
      await feed.write.updateAnswer([answer], { gas: gas.small });
    }
    await testClient.setNextBlockTimestamp({ timestamp: (await publicClient.getBlock()).timestamp + dt });
    await testClient.mine({ blocks: 1 });
    await testClient.setAutomine(true);
  }

  async function compareAll(label: string): Promise<number> {
    const states = await engine.read.accountsMargin([everyone]);
    let charged = 0;
    for (let i = 0; i < everyone.length; i++) {
      const inputs = await getMarginInputs(publicClient, { addressBook: book, account: everyone[i]! });
      const sdk = accountMargin(inputs);
      assert.deepEqual(sdk, { ...states[i]! }, `${label}: account ${i}`);
      assert.deepEqual(new Account(inputs).margin(), sdk);
      // The float estimate carries the exact add-on: it stays within its usual error.
      const approx = approximateMaintenance(inputs);
      const exact = Number(sdk.requirementMM) / 1e18;
      if (inputs.mode !== MarginMode.PORTFOLIO)
        assert.ok(Math.abs(approx.requirementMM - exact) <= 1e-6 * exact + 1e-6);
      const off = accountMargin({
        ...inputs,
        underlyings: new Map([...inputs.underlyings].map(([u, x]) => [u, { ...x, concentration: undefined }])),
      });
      if (off.requirementIM !== sdk.requirementIM) charged++;
    }
    return charged;
  }

  it("seeds a population, some of it refused by the add-on", () => {
    assert.ok(refused > 0, "the add-on refused some fills");
    assert.ok(refused < ACCOUNTS * 3, `most fills went through (${refused} refused)`);
  });

  it("the margin of every account matches, add-on on, as prices move", async () => {
    for (let scenario = 0; scenario < 3; scenario++) {
      await move(
        BigInt(Math.floor(3_000 * (0.85 + rng.float() * 0.3) * 1e8)),
        BigInt(Math.floor(60_000 * (0.85 + rng.float() * 0.3) * 1e8)),
        BigInt(Math.floor((0.4 + rng.float()) * 1e8)),
        BigInt(Math.floor((0.4 + rng.float()) * 1e8)),
        BigInt(60 + rng.int(3_600)),
      );
      const charged = await compareAll(`scenario ${scenario}`);
      assert.ok(charged >= ACCOUNTS / 2, `most accounts pay an add-on (${charged})`);
    }
  });

  it("matches after the parameters change, and with one underlying off", async () => {
    await stepTo(1, params(25n * 10n ** 16n, 4n * WAD, 3n * WAD));
    await manager.write.setConcentrationParams([2, params(0n, WAD, WAD)]);
    await compareAll("changed parameters");
    const { underlyings } = await getMarketParameters(publicClient, { addressBook: book });
    assert.deepEqual(underlyings.get(1)?.concentration, params(25n * 10n ** 16n, 4n * WAD, 3n * WAD));
    assert.deepEqual(underlyings.get(2)?.concentration, params(0n, WAD, WAD));
    // The SDK's formula is the library's, to the wei, on the chain's own state.
    const inputs = await getMarginInputs(publicClient, { addressBook: book, account: mm });
    const q = inputs.positions
      .filter((p) => p.balance < 0n && decodeSeries(p.seriesId).underlyingIndex === 1)
      .reduce((sum, p) => sum - p.balance, 0n);
    assert.ok(q > 0n, "the market maker is short ETH options");
    const spot = inputs.underlyings.get(1)!.spotWad;
    const sdk = concentrationAddOnUp(q, spot, 25n * 10n ** 16n, 3n * WAD, 4n * WAD);
    const [initialWad, maintenanceWad] = await manager.read.concentrationAddOnUp([
      [0n, q, 0n],
      [0n, spot, 0n],
    ]);
    assert.equal(initialWad, sdk);
    assert.equal(maintenanceWad, (sdk + 1n) / 2n);
  });

  it("reads the open-interest caps and the room a fill has, as the market refuses it", async () => {
    const series = seriesIds.find((id) => decodeSeries(id).underlyingIndex === 1 && marks.get(id)! > 0n)!;
    const openInterest = await market.read.openInterest([series]);
    const total = await market.read.underlyingOpenInterest([1]);
    await market.write.setOpenInterestCaps([1, openInterest + 3n * WAD, total + 5n * WAD]);
    const caps = await getOpenInterestCaps(publicClient, { addressBook: book, seriesId: series });
    assert.deepEqual(caps, {
      underlyingIndex: 1,
      series: { cap: openInterest + 3n * WAD, openInterest, room: 3n * WAD },
      underlying: { cap: total + 5n * WAD, openInterest: total, room: 5n * WAD },
      room: 3n * WAD,
    });
    const pledge = publicClient.extend(pledgeActions({ addressBook: book }));
    assert.deepEqual(await pledge.getOpenInterestCaps({ seriesId: series }), caps);

    // A fresh pair of accounts opening more than the room is refused, naming it.
    const buyer = accountId(trader, 1_000n);
    await vault.write.deposit([buyer, usdc.address, 10n ** 12n], { account: traderWallet.account });
    const order: Order = {
      account: buyer,
      seriesId: series,
      size: 4n * WAD,
      priceWad: marks.get(series)!,
      taker: 0n,
      nonce: ++nonce,
      deadline: now + 365n * DAY,
    };
    const signature = await traderWallet.signTypedData({
      domain: orderDomain(chainId, market.address),
      types: orderTypes,
      primaryType: "Order",
      message: order,
    });
    const seller = accountId(mmWallet.account.address, 2n);
    await usdc.write.mint([mmWallet.account.address, 10n ** 12n]);
    await usdc.write.approve([vault.address, 10n ** 12n], { account: mmWallet.account });
    await vault.write.deposit([seller, usdc.address, 10n ** 12n], { account: mmWallet.account });
    try {
      await publicClient.simulateContract({
        address: market.address,
        abi: market.abi,
        functionName: "fill",
        args: [order, signature, seller, 4n * WAD],
        account: mmWallet.account,
      });
      assert.fail("the fill should have been refused");
    } catch (error) {
      const decoded = decodePledgeError(error);
      assert.ok(decoded instanceof PledgeError, String(error));
      assert.equal(decoded.errorName, "MarketSeriesOpenInterestCap");
      assert.deepEqual(decoded.args, [series, caps.series.cap, caps.room]);
      assert.match(decoded.message, /room left: 3 contracts/);
    }
    await market.write.fill([order, signature, seller, caps.room!], { account: mmWallet.account });
    const after = await getOpenInterestCaps(publicClient, { addressBook: book, seriesId: series });
    assert.equal(after.room, 0n);
    assert.equal(after.underlying.room, 2n * WAD);
  });
});
