import type { network } from "hardhat";

import PledgeModule from "../ignition/modules/Pledge.js";
import { type AddressBook, writeAddressBook } from "./lib/addressBook.js";

type Connection = Awaited<ReturnType<typeof network.create>>;

/**
 * Deploys the Pledge module with Hardhat Ignition on `connection` and writes the
 * address book to `deployments/<chainId>.json`. `deploymentId` names Ignition's journal
 * (`ignition/deployments/<id>`; default `chain-<chainId>`), so that two nodes of one chain id
 * (the app's tests and `npm run app`, all on 31337) keep separate journals.
 */
export async function deployPledge(
  connection: Connection,
  options: { writeBook?: boolean; deploymentId?: string | undefined } = {},
) {
  const publicClient = await connection.viem.getPublicClient();
  // The first deployment transaction lands in the next block: the book starts there, so event
  // readers from `deployedAtBlock` see the set-up (assets listed, feeds set, roles granted).
  const blockNumber = (await publicClient.getBlockNumber()) + 1n;
  const contracts = await connection.ignition.deploy(PledgeModule, {
    displayUi: false,
    ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
  });
  const chainId = await publicClient.getChainId();

  const book: AddressBook = {
    chainId,
    deployedAtBlock: blockNumber.toString(),
    contracts: {
      CollateralVault: contracts.vault.address,
      ChainlinkOracle: contracts.oracle.address,
      VolSurfaceOracle: contracts.volSurface.address,
      MarginEngine: contracts.engine.address,
      OptionMarket: contracts.market.address,
      Liquidator: contracts.liquidator.address,
      Backstop: contracts.backstop.address,
      InsuranceFund: contracts.insurance.address,
    },
    cash: { address: contracts.usdc.address, symbol: "USDC", decimals: 6 },
    collateral: [
      {
        address: contracts.weth.address,
        symbol: "WETH",
        decimals: 18,
        spotFeed: contracts.ethUsd.address,
        volFeed: contracts.ethVol.address,
      },
      {
        address: contracts.wbtc.address,
        symbol: "WBTC",
        decimals: 8,
        spotFeed: contracts.btcUsd.address,
        volFeed: contracts.btcVol.address,
      },
    ],
  };
  const file = options.writeBook === false ? undefined : await writeAddressBook(book);
  return { contracts, book, file };
}
