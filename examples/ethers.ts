/**
 * Pledge from ethers v6, with the TypeChain types `hardhat build` generates into
 * typechain-types/: deposit collateral and read the account's health.
 * Run: npx hardhat run examples/ethers.ts
 */
import { network } from "hardhat";

import { deployPledge } from "../deploy/deployPledge.js";
import { CollateralVault__factory, MarginEngine__factory, MockERC20__factory } from "../typechain-types/index.js";

const connection = await network.create();
const { book } = await deployPledge(connection, { writeBook: false });
const [, trader] = await connection.ethers.getSigners();
if (!trader) throw new Error("no signer");

const vault = CollateralVault__factory.connect(book.contracts.CollateralVault, trader);
const engine = MarginEngine__factory.connect(book.contracts.MarginEngine, trader);
const weth = MockERC20__factory.connect(book.collateral[0]!.address, trader);

// An account id is (owner << 96) | subId.
const account = (BigInt(await trader.getAddress()) << 96n) | 1n;
const amount = connection.ethers.parseUnits("2", 18);
await (await weth.mint(await trader.getAddress(), amount)).wait();
await (await weth.approve(await vault.getAddress(), amount)).wait();
await (await vault.deposit(account, await weth.getAddress(), amount)).wait();
console.log(
  `deposited ${connection.ethers.formatUnits(await vault.collateralOf(account, await weth.getAddress()), 18)} WETH`,
);

const state = await engine.accountMargin(account);
console.log(`equityIM ${connection.ethers.formatUnits(state.equityIM, 18)} USD`);
console.log(`equityMM ${connection.ethers.formatUnits(state.equityMM, 18)} USD`);
console.log(`health ${["HEALTHY", "MARGIN_CALL", "LIQUIDATABLE", "INSOLVENT"][Number(state.health)]}`);

// Custom errors decode through the contract interface.
try {
  await vault.withdraw.staticCall(account, await weth.getAddress(), amount + 1n, await trader.getAddress());
} catch (error) {
  const data = (error as { data?: string }).data;
  const decoded = data ? vault.interface.parseError(data) : null;
  console.log(`over-withdrawal refused: ${decoded?.name ?? String(error)}`);
}
