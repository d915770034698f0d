import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { readAddressBook, writeAddressBook } from "../../deploy/lib/addressBook.js";
import { ROLES, moduleWiringProblems } from "../../deploy/lib/roles.js";

describe("deployment (Ignition) and custody end to end", async () => {
  const connection = await network.create();
  const { contracts, book } = await deployPledge(connection, { writeBook: false });
  const { vault, oracle, usdc, weth } = contracts;
  const [, trader] = await connection.viem.getWalletClients();
  if (!trader) throw new Error("missing wallet");
  const account = (BigInt(trader.account.address) << 96n) | 3n;

  it("wires the vault, oracle and feeds with the starting parameters", async () => {
    assert.equal(await vault.read.cashAsset(), usdc.address);
    // Ignition may batch the two listings in either order.
    const listed = [...(await vault.read.collateralAssets())].sort();
    assert.deepEqual(listed, [weth.address, contracts.wbtc.address].sort());
    const wethConfig = await vault.read.assetConfig([weth.address]);
    assert.equal(wethConfig.initialHaircutWad, parseUnits("0.10", 18));
    assert.equal(wethConfig.maintenanceHaircutWad, parseUnits("0.05", 18));
    assert.equal(await oracle.read.spot([weth.address]), parseUnits("3000", 18));
    assert.equal(await oracle.read.vol([contracts.wbtc.address]), parseUnits("0.6", 18));
    // Deposits, fills and transfers tell the liquidator (finding 3).
    assert.equal(await vault.read.accountHook(), contracts.liquidator.address);
    assert.equal(await contracts.market.read.accountHook(), contracts.liquidator.address);
    // A loss the insurance fund cannot cover is shared by every cash creditor; the vault starts
    // at the zero rate (docs/cash.md).
    assert.equal(await vault.read.insuranceAccount(), await contracts.insurance.read.account());
    const cash = await vault.read.cashMarket();
    assert.equal(cash.rateModel, "0x0000000000000000000000000000000000000000");
    assert.equal(cash.supplyIndex, 10n ** 18n);
    assert.equal(cash.debtIndex, 10n ** 18n);
  });

  it("writes and reads back the address book", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pledge-book-"));
    const file = await writeAddressBook(book, dir);
    assert.deepEqual(JSON.parse(await readFile(file, "utf8")), book);
    assert.deepEqual(await readAddressBook(book.chainId, dir), book);
    assert.equal(book.contracts.CollateralVault, vault.address);
  });

  it("deposits and withdraws through viem, to the wei", async () => {
    const amount = parseUnits("2.5", 18);
    await weth.write.mint([trader.account.address, amount]);
    await weth.write.approve([vault.address, amount], { account: trader.account });
    await vault.write.deposit([account, weth.address, amount], { account: trader.account });
    assert.equal(await vault.read.collateralOf([account, weth.address]), amount);

    await vault.write.withdraw([account, weth.address, amount - 1n, trader.account.address], {
      account: trader.account,
    });
    assert.equal(await vault.read.collateralOf([account, weth.address]), 1n);
    assert.equal(await weth.read.balanceOf([trader.account.address]), amount - 1n);
  });

  it("rejects a stranger's withdrawal with the vault's custom error", async () => {
    const [deployer] = await connection.viem.getWalletClients();
    await assert.rejects(
      vault.write.withdraw([account, weth.address, 1n, deployer!.account.address]),
      /VaultUnauthorized/,
    );
  });

  it("review rv16 F5: the deploy's wiring check reports a missing module grant", async () => {
    const client = await connection.viem.getPublicClient();
    assert.deepEqual(await moduleWiringProblems(client, book), []);
    // A journal resumed from before BackstopIsVaultModule: absorbDebt would revert for good.
    await vault.write.revokeRole([ROLES.module, book.contracts.Backstop]);
    await contracts.market.write.revokeRole([ROLES.module, book.contracts.Liquidator]);
    try {
      assert.deepEqual(await moduleWiringProblems(client, book), [
        `OptionMarket: Liquidator ${book.contracts.Liquidator} lacks the module role`,
        `CollateralVault: Backstop ${book.contracts.Backstop} lacks the module role`,
      ]);
      // A book whose Liquidator is not the one the Backstop was built with.
      const elsewhere = { ...book, contracts: { ...book.contracts, Liquidator: book.contracts.Backstop } };
      const problems = await moduleWiringProblems(client, elsewhere);
      assert.ok(
        problems.includes(
          `Backstop: its liquidator is ${book.contracts.Liquidator}, not the book's ${book.contracts.Backstop}`,
        ),
        problems.join("\n"),
      );
      // The Liquidator pays insolvent bids through the book's Backstop (review rv16w F6).
      assert.ok(
        problems.includes(
          `Liquidator: it pays insolvent bids through no Backstop, not the book's ${book.contracts.Backstop}`,
        ),
        problems.join("\n"),
      );
    } finally {
      await vault.write.grantRole([ROLES.module, book.contracts.Backstop]);
      await contracts.market.write.grantRole([ROLES.module, book.contracts.Liquidator]);
    }
  });
});
