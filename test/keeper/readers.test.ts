import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type Address,
  type Hex,
  createPublicClient,
  custom,
  decodeFunctionData,
  defineChain,
  encodeErrorResult,
  encodeFunctionResult,
  getAddress,
  multicall3Abi,
} from "viem";

import {
  type AddressBook,
  Health,
  MarginMode,
  chainlinkOracleAbi,
  collateralVaultAbi,
  liquidatorAbi,
  marginEngineAbi,
  optionMarketAbi,
  portfolioManagerAbi,
  volSurfaceOracleAbi,
} from "@pledge/sdk";
import { createReaders } from "../../packages/keeper/src/readers.js";

const WAD = 10n ** 18n;
const multicall = getAddress("0x00000000000000000000000000000000000000ff");
const vault = getAddress("0x00000000000000000000000000000000000000e1");
const market = getAddress("0x00000000000000000000000000000000000000e2");
const engine = getAddress("0x00000000000000000000000000000000000000e3");
const oracle = getAddress("0x00000000000000000000000000000000000000e4");
const liquidator = getAddress("0x00000000000000000000000000000000000000e5");
const manager = getAddress("0x00000000000000000000000000000000000000e7");
const surface = getAddress("0x00000000000000000000000000000000000000e8");
const concentration = { kappaWad: WAD / 20n, maxRatioWad: 2n * WAD, liquidityWad: 100n * WAD };
const usdc = getAddress("0x00000000000000000000000000000000000000c1");
const weth = getAddress("0x00000000000000000000000000000000000000c2");
const book: AddressBook = {
  chainId: 31337,
  deployedAtBlock: "1",
  contracts: {
    CollateralVault: vault,
    OptionMarket: market,
    MarginEngine: engine,
    ChainlinkOracle: oracle,
    Liquidator: liquidator,
    Backstop: getAddress("0x00000000000000000000000000000000000000e7"),
    InsuranceFund: getAddress("0x00000000000000000000000000000000000000e6"),
  },
  cash: { address: usdc, symbol: "USDC", decimals: 6 },
  collateral: [],
};

/** The revert a stale feed or an unknown index answers with. */
const revert = encodeErrorResult({
  abi: [{ type: "error", name: "Error", inputs: [{ name: "message", type: "string" }] }],
  errorName: "Error",
  args: ["refused"],
});

/** One sub-call's answer: its return data, or undefined to revert. */
function answer(target: Address, data: Hex): Hex | undefined {
  switch (getAddress(target)) {
    case vault: {
      const call = decodeFunctionData({ abi: collateralVaultAbi, data });
      if (call.functionName === "collateralAssets")
        return encodeFunctionResult({
          abi: collateralVaultAbi,
          functionName: "collateralAssets",
          result: [usdc, weth],
        });
      if (call.functionName === "assetConfig") {
        const [asset] = call.args;
        const decimals = asset === usdc ? 6 : 18;
        return encodeFunctionResult({
          abi: collateralVaultAbi,
          functionName: "assetConfig",
          result: {
            listed: true,
            enabled: true,
            delisted: false,
            decimals,
            initialHaircutWad: WAD / 10n,
            maintenanceHaircutWad: WAD / 20n,
            supplyCap: 0n,
            totalSupplied: 0n,
          },
        });
      }
      if (call.functionName === "balancesOf") {
        const [account] = call.args;
        if (account === 2n) return undefined;
        return encodeFunctionResult({ abi: collateralVaultAbi, functionName: "balancesOf", result: [[5n, 0n], -3n] });
      }
      if (call.functionName === "cashSharesOf")
        return encodeFunctionResult({ abi: collateralVaultAbi, functionName: "cashSharesOf", result: -2n });
      if (call.functionName === "cashMarket")
        return encodeFunctionResult({
          abi: collateralVaultAbi,
          functionName: "cashMarket",
          result: {
            supplyIndex: WAD,
            debtIndex: (3n * WAD) / 2n,
            totalSupplyShares: 100n,
            totalDebtShares: 2n,
            rateModel: weth,
            lastAccrual: 7,
            lastRate: 1n,
            epoch: 0,
          },
        });
      if (call.functionName === "borrowRate")
        return encodeFunctionResult({ abi: collateralVaultAbi, functionName: "borrowRate", result: 1n });
      if (call.functionName === "reserveShareWad")
        return encodeFunctionResult({ abi: collateralVaultAbi, functionName: "reserveShareWad", result: WAD / 10n });
      break;
    }
    case market: {
      const call = decodeFunctionData({ abi: optionMarketAbi, data });
      if (call.functionName === "positionsOf")
        return encodeFunctionResult({
          abi: optionMarketAbi,
          functionName: "positionsOf",
          result: [
            [11n, 12n],
            [WAD, -WAD],
          ],
        });
      if (call.functionName === "openInterestCaps")
        return encodeFunctionResult({ abi: optionMarketAbi, functionName: "openInterestCaps", result: [5n * WAD, 0n] });
      if (call.functionName === "settlementAccount")
        return encodeFunctionResult({ abi: optionMarketAbi, functionName: "settlementAccount", result: 21n });
      if (call.functionName === "feeAccount")
        return encodeFunctionResult({ abi: optionMarketAbi, functionName: "feeAccount", result: 22n });
      break;
    }
    case surface: {
      const call = decodeFunctionData({ abi: volSurfaceOracleAbi, data });
      if (call.functionName === "isListed")
        return encodeFunctionResult({
          abi: volSurfaceOracleAbi,
          functionName: "isListed",
          result: call.args[0] === weth,
        });
      break;
    }
    case manager: {
      const call = decodeFunctionData({ abi: portfolioManagerAbi, data });
      if (call.functionName === "concentrationParams")
        return encodeFunctionResult({
          abi: portfolioManagerAbi,
          functionName: "concentrationParams",
          result: concentration,
        });
      break;
    }
    case engine: {
      const call = decodeFunctionData({ abi: marginEngineAbi, data });
      if (call.functionName === "marginModeOf")
        return encodeFunctionResult({
          abi: marginEngineAbi,
          functionName: "marginModeOf",
          result: MarginMode.PORTFOLIO,
        });
      if (call.functionName === "underlyingCount")
        return encodeFunctionResult({ abi: marginEngineAbi, functionName: "underlyingCount", result: 2 });
      if (call.functionName === "portfolioManager")
        return encodeFunctionResult({ abi: marginEngineAbi, functionName: "portfolioManager", result: manager });
      if (call.functionName === "volSurface")
        return encodeFunctionResult({ abi: marginEngineAbi, functionName: "volSurface", result: surface });
      if (call.functionName === "underlying") {
        if (call.args[0] === 2) return undefined;
        return encodeFunctionResult({
          abi: marginEngineAbi,
          functionName: "underlying",
          result: { asset: weth, params: { aIM: 1n, bIM: 2n, aMM: 3n, bMM: 4n } },
        });
      }
      if (call.functionName === "portfolioParams") return undefined;
      if (call.functionName === "excessInitial")
        return encodeFunctionResult({ abi: marginEngineAbi, functionName: "excessInitial", result: -7n });
      if (call.functionName === "accountsMargin") {
        const [accounts] = call.args;
        return encodeFunctionResult({
          abi: marginEngineAbi,
          functionName: "accountsMargin",
          result: accounts.map((account) => ({
            equityIM: account,
            equityMM: account,
            requirementIM: 0n,
            requirementMM: 0n,
            health: account === 3n ? Health.LIQUIDATABLE : Health.HEALTHY,
            markValue: 0n,
          })),
        });
      }
      break;
    }
    case oracle: {
      const call = decodeFunctionData({ abi: chainlinkOracleAbi, data });
      if (call.functionName === "spot") {
        if (call.args[0] === weth) return undefined;
        return encodeFunctionResult({ abi: chainlinkOracleAbi, functionName: "spot", result: WAD });
      }
      if (call.functionName === "vol")
        return encodeFunctionResult({ abi: chainlinkOracleAbi, functionName: "vol", result: WAD / 2n });
      break;
    }
    case liquidator: {
      const call = decodeFunctionData({ abi: liquidatorAbi, data });
      if (call.functionName === "insuranceAccount")
        return encodeFunctionResult({ abi: liquidatorAbi, functionName: "insuranceAccount", result: 20n });
      if (call.functionName === "auctionParams")
        return encodeFunctionResult({
          abi: liquidatorAbi,
          functionName: "auctionParams",
          result: {
            startDiscountWad: 0n,
            endDiscountWad: 0n,
            duration: 0,
            insuranceShareWad: WAD / 4n,
            bufferWad: 0n,
            dustValueWad: 0n,
          },
        });
      if (call.functionName === "auctionOf") {
        const [account] = call.args;
        return encodeFunctionResult({
          abi: liquidatorAbi,
          functionName: "auctionOf",
          result: {
            active: account === 1n,
            startTime: 100n,
            bids: 0,
            clockStart: 0n,
            lastBidTime: 0n,
            liveCheckedAt: 0n,
          },
        });
      }
      if (call.functionName === "previewBid") {
        const [account] = call.args;
        if (account === 3n) return undefined;
        return encodeFunctionResult({
          abi: liquidatorAbi,
          functionName: "previewBid",
          result: {
            fractionWad: account === 1n ? WAD / 2n : 0n,
            maxFractionWad: WAD / 2n,
            discountWad: 0n,
            markValueWad: 0n,
            payment: 9n,
            insuranceFee: 0n,
            equityIMAfter: 0n,
            requirementIMAfter: 0n,
            equityMMAfter: 0n,
            requirementMMAfter: 0n,
          },
        });
      }
      break;
    }
  }
  throw new Error(`unexpected call to ${target}: ${data.slice(0, 10)}`);
}

/**
 * A node that answers Multicall3's `aggregate3` (and plain calls) from `answer`, records every
 * `eth_call`, and fails the first `failFirst` requests as a transport would.
 */
function fakeNode(failFirst = 0) {
  const calls: { subcalls: number }[] = [];
  let failures = failFirst;
  const chain = defineChain({
    id: 31337,
    name: "fake",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://localhost"] } },
    contracts: { multicall3: { address: multicall } },
  });
  const client = createPublicClient({
    chain,
    batch: { multicall: true },
    transport: custom(
      {
        async request({ method, params }: { method: string; params: [{ to: Address; data: Hex }, string] }) {
          // The SDK checks the chain against the address book (eth_chainId) before its reads.
          if (method === "eth_chainId") return "0x7a69";
          if (method !== "eth_call") throw new Error(`unexpected ${method}`);
          if (failures-- > 0) throw new Error("socket hang up");
          const [{ to, data }] = params;
          if (getAddress(to) !== multicall) {
            calls.push({ subcalls: 1 });
            const result = answer(to, data);
            if (result === undefined) throw Object.assign(new Error("execution reverted"), { code: 3, data: revert });
            return result;
          }
          const decoded = decodeFunctionData({ abi: multicall3Abi, data });
          if (decoded.functionName !== "aggregate3") throw new Error(`unexpected ${decoded.functionName}`);
          const [subcalls] = decoded.args;
          calls.push({ subcalls: subcalls.length });
          return encodeFunctionResult({
            abi: multicall3Abi,
            functionName: "aggregate3",
            result: subcalls.map(({ target, callData }) => {
              const returnData = answer(target, callData);
              return { success: returnData !== undefined, returnData: returnData ?? revert };
            }),
          });
        },
      },
      { retryCount: 0 },
    ),
  });
  return { client, calls };
}

describe("keeper readers (fake node)", () => {
  it("reads prices and holdings as named values in one call; a refused price is 0, an unreadable account is left out", async () => {
    const { client, calls } = fakeNode();
    const readers = createReaders(client, book);
    const { prices, holdings, cash } = await readers.snapshot(
      { spot: [usdc, weth], vol: [weth], accounts: [1n, 2n] },
      10n,
    );
    // Two spots, a vol, the cash market (stored, rate, reserve share) and four reads per account.
    assert.deepEqual(calls, [{ subcalls: 2 + 1 + 3 + 2 * 4 }]);
    assert.equal(cash?.market.debtIndex, (3n * WAD) / 2n);
    assert.equal(cash?.market.lastAccrual, 7n);
    assert.equal(cash?.market.epoch, 0n);
    assert.equal(cash?.borrowRate, 1n);
    assert.equal(cash?.reserveShareWad, WAD / 10n);
    assert.deepEqual(
      [...prices.spotWad],
      [
        [usdc, WAD],
        [weth, 0n],
      ],
    );
    assert.deepEqual([...prices.volWad], [[weth, WAD / 2n]]);
    assert.deepEqual([...holdings.keys()], [1n]);
    assert.deepEqual(holdings.get(1n), {
      cash: -3n,
      cashShares: -2n,
      balances: [5n, 0n],
      positions: [
        { seriesId: 11n, balance: WAD },
        { seriesId: 12n, balance: -WAD },
      ],
      mode: MarginMode.PORTFOLIO,
    });
  });

  it("confirms every chunk with the keeper's excess, the insurance share and the protocol's accounts in one call, states named by account", async () => {
    const { client, calls } = fakeNode();
    const readers = createReaders(client, book);
    const { bidderExcessIM, auctionParams, states, protectedAccounts } = await readers.confirmation(
      { bidderAccount: 9n, chunks: [[1n, 2n], [3n]] },
      10n,
    );
    assert.deepEqual(calls, [{ subcalls: 7 }]);
    assert.deepEqual(protectedAccounts, [20n, 21n, 22n]);
    assert.equal(bidderExcessIM, -7n);
    assert.equal(auctionParams.insuranceShareWad, WAD / 4n);
    assert.deepEqual(
      states.map((s) => [s.account, s.equityIM, s.health]),
      [
        [1n, 1n, Health.HEALTHY],
        [2n, 2n, Health.HEALTHY],
        [3n, 3n, Health.LIQUIDATABLE],
      ],
    );
  });

  it("reads each candidate's auction and preview in one call; a reverting or empty preview is absent", async () => {
    const { client, calls } = fakeNode();
    const readers = createReaders(client, book);
    const auctions = await readers.auctions([1n, 2n, 3n], 10n);
    assert.deepEqual(calls, [{ subcalls: 6 }]);
    assert.deepEqual(
      auctions.map((a) => [a.account, a.auction.active, a.preview?.fractionWad]),
      [
        [1n, true, WAD / 2n],
        [2n, false, undefined],
        [3n, false, undefined],
      ],
    );
  });

  it("reads the market parameters in three rounds; an unlisted index is left out, a missing grid is absent", async () => {
    const { client, calls } = fakeNode();
    const readers = createReaders(client, book);
    const { collateral, underlyings } = await readers.marketParameters(10n);
    // Round 1: the collateral list, the underlying count, the portfolio manager and the vol surface;
    // round 2: two asset configs, and per underlying its registry entry, grid, concentration and
    // caps; round 3: whether the surface lists each underlying that has a registry entry.
    assert.deepEqual(calls, [{ subcalls: 4 }, { subcalls: 2 + 2 * 4 }, { subcalls: 1 }]);
    assert.deepEqual(
      collateral.map((c) => [c.asset, c.decimals, c.underlyingIndex]),
      [
        [usdc, 6, undefined],
        [weth, 18, 1],
      ],
    );
    assert.deepEqual(
      [...underlyings],
      [
        [
          1,
          {
            asset: weth,
            params: { aIM: 1n, bIM: 2n, aMM: 3n, bMM: 4n },
            concentration,
            openInterestCaps: { seriesCap: 5n * WAD, underlyingCap: 0n },
            onVolSurface: true,
          },
        ],
      ],
    );
  });

  it("reads an account's margin mode from the engine; a read that keeps failing is undefined", async () => {
    const { client, calls } = fakeNode();
    assert.equal(await createReaders(client, book).marginMode(9n, 10n), MarginMode.PORTFOLIO);
    assert.deepEqual(calls, [{ subcalls: 1 }]);
    // Four attempts (`withBackoff`), every one a transport error.
    const down = fakeNode(4);
    assert.equal(await createReaders(down.client, book).marginMode(9n, 10n), undefined);
    assert.deepEqual(down.calls, []);
  });

  it("retries a batch after a transport error, as a whole", async () => {
    const { client, calls } = fakeNode(1);
    const readers = createReaders(client, book);
    const { states } = await readers.confirmation({ bidderAccount: 9n, chunks: [[1n]] }, 10n);
    assert.equal(states.length, 1);
    assert.deepEqual(calls, [{ subcalls: 6 }], "one failed request, then one batch");
  });
});
