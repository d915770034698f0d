import { network } from "hardhat";

import { deployPledge } from "../../../deploy/deployPledge.js";

/**
 * The SDK tests' world: a fresh in-process chain with Pledge deployed by its Ignition module, the
 * clients, and the first four dev wallets as admin (every role), maker, taker and keeper.
 * `allowBlocksWithSameTimestamp` lets a parity test mine a transaction at the timestamp of the
 * block it previewed it at (marks depend on time).
 */
export async function sdkWorld(options: { allowBlocksWithSameTimestamp?: boolean } = {}) {
  // Same-timestamp blocks let a test read a state and then mine a transaction at that very time.
  const connection = await network.create(
    options.allowBlocksWithSameTimestamp ? { override: { allowBlocksWithSameTimestamp: true } } : undefined,
  );
  const { contracts, book: addressBook } = await deployPledge(connection, { writeBook: false });
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const [admin, makerWallet, takerWallet, keeperWallet] = await connection.viem.getWalletClients();
  if (!admin || !makerWallet || !takerWallet || !keeperWallet) throw new Error("need four wallet clients");
  return {
    connection,
    contracts,
    addressBook,
    publicClient,
    testClient,
    admin,
    makerWallet,
    takerWallet,
    keeperWallet,
  };
}
