import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  expiryAfter,
  MarginMode,
  type Order,
  accountId,
  createSeries,
  decodePledgeError,
  deposit,
  optionMarketAbi,
  seriesId as packSeriesId,
  setMarginMode,
  signOrder,
  simulateFill,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;

/**
 * Issue 12 review, P3: `simulateFill` removed a closed position in place while
 * `OptionMarket._close` is swap-and-pop, and the portfolio cover floor broke ties by position
 * order, so after a closing fill the SDK valued another book than the chain: it predicted
 * "accepted" where the chain reverted `MarketRiskIncreased`. Now the floor ignores position order
 * and `withDelta` reorders as the market does; the prediction equals the chain's answer.
 */
describe("simulateFill on a portfolio account's closing fill", async () => {
  const connection = await network.create();
  const { contracts, book: addressBook } = await deployPledge(connection, { writeBook: false });
  const publicClient = await connection.viem.getPublicClient();
  const [admin, makerWallet, victimWallet] = await connection.viem.getWalletClients();
  if (!admin || !makerWallet || !victimWallet) throw new Error("need three wallet clients");
  const maker = accountId(makerWallet.account.address, 1n);
  const victim = accountId(victimWallet.account.address, 1n);

  const now = (await publicClient.getBlock()).timestamp;
  const at = (days: number) => expiryAfter(now, days);
  const [, spotAnswer] = await contracts.ethUsd.read.latestRoundData();
  const spot = spotAnswer * 10n ** 10n;
  const strike = (percent: bigint) => ((spot * percent) / 100n / (10n * WAD)) * 10n * WAD;
  // E heads the list; A and B are long puts at one strike (A with the first expiry, B later);
  // S1 (riskier, first expiry) may be covered by A or B, S2 (later expiry) only by B.
  const E = { underlyingIndex: 1, expiry: at(14), isCall: true, strikeWad: strike(150n) };
  const A = { underlyingIndex: 1, expiry: at(7), isCall: false, strikeWad: strike(90n) };
  const B = { underlyingIndex: 1, expiry: at(14), isCall: false, strikeWad: strike(90n) };
  const S1 = { underlyingIndex: 1, expiry: at(7), isCall: false, strikeWad: (strike(90n) * 29n) / 27n };
  const S2 = { underlyingIndex: 1, expiry: at(14), isCall: false, strikeWad: (strike(90n) * 28n) / 27n };
  let nonce = 0n;

  async function order(series: typeof E, makerSize: bigint): Promise<Order> {
    const mark = await contracts.engine.read.mark([packSeriesId(series)]);
    const block = await publicClient.getBlock();
    return {
      account: maker,
      seriesId: packSeriesId(series),
      size: makerSize,
      priceWad: mark,
      taker: 0n,
      nonce: ++nonce,
      deadline: block.timestamp + DAY,
    };
  }

  async function trade(series: typeof E, victimBuys: boolean): Promise<void> {
    const o = await order(series, victimBuys ? -WAD : WAD);
    const { signature } = await signOrder(makerWallet!, { addressBook, order: o });
    await victimWallet!.writeContract({
      address: addressBook.contracts.OptionMarket,
      abi: optionMarketAbi,
      functionName: "fill",
      args: [o, signature, victim, WAD],
    });
  }

  it("predicts the chain's answer, and the closing trade no longer raises the requirement", async () => {
    for (const s of [E, A, B, S1, S2]) await createSeries(admin, { publicClient, addressBook, series: s });
    for (const [wallet, id, amount] of [
      [makerWallet, maker, "1000000"],
      [victimWallet, victim, "100000"],
    ] as const) {
      await contracts.usdc.write.mint([wallet.account.address, parseUnits(amount, 6)]);
      await deposit(wallet, {
        publicClient,
        addressBook,
        account: id,
        asset: addressBook.cash.address,
        amount: parseUnits(amount, 6),
      });
    }
    await setMarginMode(victimWallet, { publicClient, addressBook, account: victim, mode: MarginMode.PORTFOLIO });
    await trade(E, true);
    await trade(A, true);
    await trade(S1, false);
    await trade(S2, false);
    await trade(B, true);

    // The victim keeps about 90 USD over IM.
    const excess = await contracts.engine.read.excessInitial([victim]);
    await victimWallet.writeContract({
      address: addressBook.contracts.CollateralVault,
      abi: contracts.vault.abi,
      functionName: "withdraw",
      args: [victim, addressBook.cash.address, (excess - 90n * WAD) / 10n ** 12n, victimWallet.account.address],
    });

    // The victim sells E back at its mark: a reducing trade that closes its first position.
    const close = await order(E, WAD);
    const signedOrder = await signOrder(makerWallet, { addressBook, order: close });
    const predicted = await simulateFill(publicClient, {
      signedOrder,
      takerAccount: victim,
      fillSize: WAD,
      addressBook,
    });
    let chain: string = "accepted";
    try {
      await publicClient.simulateContract({
        account: victimWallet.account,
        address: addressBook.contracts.OptionMarket,
        abi: optionMarketAbi,
        functionName: "fill",
        args: [close, signedOrder.signature, victim, WAD],
      });
    } catch (error) {
      chain = decodePledgeError(error)?.errorName ?? String(error);
    }
    assert.equal(chain, "accepted");
    assert.equal(predicted.accepted, true, `predicted ${predicted.error?.name}`);
  });
});
