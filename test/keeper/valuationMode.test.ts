import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { maxUint256, parseUnits } from "viem";

import { createLocalBook } from "../../packages/keeper/src/index.js";
import { accountId, asAccountId, deposit, fillOrder, getAccountMargin, setMarginMode, signOrder } from "@pledge/sdk";
import { createWorld } from "./helpers/world.js";

const WAD = 10n ** 18n;

/**
 * F3. docs/keeper.md: "A change of margin mode (MarginModeSet, only allowed with no positions) is
 * not indexed: such an account is re-read with its next position." But the mode matters without
 * positions: collateral in a listed underlying counts at full value under scenario shocks in
 * PORTFOLIO and with haircuts in CROSS (MarginEngine.setMarginMode even re-checks IM for a debtor).
 * An account holding WBTC and owing cash switches mode after its last indexed event: the keeper's
 * cache keeps the old mode and values it locally, unlike the chain, until something dirties it.
 */
describe("review rv19v: local valuation after an unindexed MarginModeSet", () => {
  it("F3: a debtor with no positions that switches to portfolio margin is valued as the chain does", async () => {
    const world = await createWorld({ accounts: 1, spot: 60_000, expiryDays: 7 });
    const { vault, wbtc, engine, market } = world.contracts;
    const { publicClient, testClient, book: addressBook } = world;
    const [, makerWallet, traderWallet] = await world.connection.viem.getWalletClients();
    if (!makerWallet || !traderWallet) throw new Error("wallets");
    const write = { publicClient, addressBook };
    const borrower = accountId(traderWallet.account.address, 41n);
    const sibling = accountId(traderWallet.account.address, 42n);
    await wbtc.write.mint([traderWallet.account.address, parseUnits("1", 8)]);
    await wbtc.write.approve([vault.address, maxUint256], { account: traderWallet.account });
    await deposit(traderWallet, { ...write, account: asAccountId(borrower), asset: wbtc.address, amount: 10n ** 8n });
    // Buy a call on credit (cash debt), then hand it to a sibling account: WBTC + debt, no positions.
    const now = (await publicClient.getBlock()).timestamp;
    const signedOrder = await signOrder(makerWallet, {
      addressBook,
      order: {
        account: asAccountId(world.marketMaker),
        seriesId: world.series,
        size: -WAD / 4n,
        priceWad: await engine.read.mark([world.series]),
        taker: 0n,
        nonce: 777n,
        deadline: now + 86_400n,
      },
    });
    await fillOrder(traderWallet, { ...write, signedOrder, takerAccount: asAccountId(borrower), fillSize: WAD / 4n });
    await market.write.transferPositions([borrower, sibling, [world.series], [WAD / 4n]], {
      account: traderWallet.account,
    });
    assert.ok((await vault.read.cashOf([borrower])) < 0n, "the borrower owes cash");

    const book = createLocalBook(publicClient as never, addressBook);
    const check = async (label: string) => {
      const head = await publicClient.getBlock({ blockTag: "latest" });
      const [local] = await book.margins([borrower], head);
      const [chain] = await getAccountMargin(publicClient, {
        engine: addressBook.contracts.MarginEngine,
        accounts: [asAccountId(borrower)],
        blockNumber: head.number,
      });
      assert.deepEqual(
        local,
        chain,
        `${label}: local ${JSON.stringify(local, (_k, v) => (typeof v === "bigint" ? String(v) : v))} vs chain ${JSON.stringify(chain, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`,
      );
    };
    await check("cross margin, cached");
    await setMarginMode(traderWallet, { ...write, account: asAccountId(borrower), mode: 2 });
    await testClient.mine({ blocks: 1 });
    await check("after MarginModeSet(PORTFOLIO)");
  });
});
