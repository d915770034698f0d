import { network } from "hardhat";

import { deployPledge } from "../deploy/deployPledge.js";

// The main job. Until the end-to-end demo exists (keeper issue), it deploys the whole
// protocol to the embedded in-process chain and prints the address book.
const connection = await network.create();
const { book, file } = await deployPledge(connection);
console.log(`Pledge deployed on the in-process chain ${book.chainId} at block ${book.deployedAtBlock}.`);
console.log(`Address book: ${file}`);
console.table({
  ...Object.fromEntries(Object.entries(book.contracts)),
  [book.cash.symbol]: book.cash.address,
  ...Object.fromEntries(book.collateral.map((a) => [a.symbol, a.address])),
  ...Object.fromEntries(book.collateral.map((a) => [`${a.symbol}/USD feed`, a.spotFeed])),
});
