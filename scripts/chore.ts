import { parseArgs } from "node:util";

import {
  type Address,
  type PublicClient,
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  isAddress,
  parseUnits,
} from "viem";

import { type AddressBook, readAddressBook } from "../deploy/lib/addressBook.js";

/**
 * `npm run chore -- <chore> …`: the local-chain chores of docs/deploy.md, against a node started
 * with `npm run node` (its unlocked dev account 0 sends) and the address book it wrote.
 */
const USAGE = `usage: npm run chore -- <chore> [--rpc-url <url>]
  mint <symbol> <amount> <to>   mint mock tokens (USDC, WETH, WBTC) to an address
  price <symbol> <usd>          post a new answer on the token's spot feed (MockV3Aggregator.updateAnswer)
  vol <symbol> <fraction>       post a new implied volatility (0.8 = 80 %) on its vol feed
  warp <seconds>                move chain time forward and mine a block (evm_increaseTime, evm_mine)
  sequencer up|down             flip the OP-stack profile's sequencer uptime feed (npm run node -- --l2)`;

const mockAbi = [
  {
    type: "function",
    name: "mint",
    stateMutability: "nonpayable",
    inputs: [{ type: "address" }, { type: "uint256" }],
    outputs: [],
  },
  { type: "function", name: "decimals", stateMutability: "view", inputs: [], outputs: [{ type: "uint8" }] },
  { type: "function", name: "updateAnswer", stateMutability: "nonpayable", inputs: [{ type: "int256" }], outputs: [] },
  {
    type: "function",
    name: "updateRoundData",
    stateMutability: "nonpayable",
    inputs: [{ type: "uint80" }, { type: "int256" }, { type: "uint256" }, { type: "uint256" }],
    outputs: [],
  },
  { type: "function", name: "latestRound", stateMutability: "view", inputs: [], outputs: [{ type: "uint256" }] },
  { type: "function", name: "sequencerFeed", stateMutability: "view", inputs: [], outputs: [{ type: "address" }] },
] as const;

class ChoreError extends Error {}

async function main() {
  const { values, positionals } = parseArgs({
    options: { "rpc-url": { type: "string", default: "http://127.0.0.1:8545" } },
    allowPositionals: true,
    strict: true,
  });
  const [chore, ...rest] = positionals;
  if (chore === undefined) throw new ChoreError(`no chore given\n${USAGE}`);

  const transport = http(values["rpc-url"]);
  const publicClient = createPublicClient({ transport }) as PublicClient;
  const chainId = await publicClient.getChainId().catch(() => {
    throw new ChoreError(`no node answers at ${values["rpc-url"]}: start one with npm run node`);
  });
  const [sender] = (await publicClient.request({ method: "eth_accounts" } as never)) as Address[];
  if (sender === undefined) throw new ChoreError(`the node at ${values["rpc-url"]} has no unlocked account`);
  const wallet = createWalletClient({ account: getAddress(sender), transport });
  const book = await readAddressBook(chainId).catch(() => {
    throw new ChoreError(`no address book deployments/${chainId}.json: run npm run deploy -- --network localhost`);
  });
  const send = async (address: Address, functionName: "mint" | "updateAnswer" | "updateRoundData", args: unknown[]) => {
    const hash = await wallet.writeContract({ address, abi: mockAbi, functionName, args, chain: null } as never);
    await publicClient.waitForTransactionReceipt({ hash });
  };
  const feedDecimals = (address: Address) =>
    publicClient.readContract({ address, abi: mockAbi, functionName: "decimals" });

  switch (chore) {
    case "mint": {
      const [symbol, amount, to] = need(rest, 3, "mint <symbol> <amount> <to>");
      if (!isAddress(to)) throw new ChoreError(`${to} is not an address`);
      const asset = token(book, symbol);
      await send(asset.address, "mint", [to, decimal(amount, asset.decimals)]);
      return `minted ${amount} ${asset.symbol} to ${to}`;
    }
    case "price":
    case "vol": {
      const [symbol, value] = need(rest, 2, `${chore} <symbol> <value>`);
      const asset = token(book, symbol);
      const feed = chore === "price" ? asset.spotFeed : asset.volFeed;
      if (feed === undefined) throw new ChoreError(`${asset.symbol} has no ${chore === "price" ? "spot" : "vol"} feed`);
      await send(feed, "updateAnswer", [decimal(value, await feedDecimals(feed))]);
      return `${asset.symbol} ${chore === "price" ? "spot" : "vol"} feed ${feed} now answers ${value}`;
    }
    case "warp": {
      const [seconds] = need(rest, 1, "warp <seconds>");
      if (!/^\d+$/.test(seconds)) throw new ChoreError(`${seconds} is not a whole number of seconds`);
      await publicClient.request({ method: "evm_increaseTime", params: [Number(seconds)] } as never);
      await publicClient.request({ method: "evm_mine", params: [] } as never);
      const block = await publicClient.getBlock();
      return `chain time is now ${new Date(Number(block.timestamp) * 1000).toISOString()} (feeds older than their maxAge now revert: post a price)`;
    }
    case "sequencer": {
      const [state] = need(rest, 1, "sequencer up|down");
      if (state !== "up" && state !== "down") throw new ChoreError(`sequencer takes up or down, not ${state}`);
      const feed = await publicClient.readContract({
        address: book.contracts.ChainlinkOracle,
        abi: mockAbi,
        functionName: "sequencerFeed",
      });
      if (BigInt(feed) === 0n)
        throw new ChoreError("this chain's oracle has no sequencer feed: start the node with npm run node -- --l2");
      const round = await publicClient.readContract({ address: feed, abi: mockAbi, functionName: "latestRound" });
      const now = (await publicClient.getBlock()).timestamp;
      await send(feed, "updateRoundData", [round + 1n, state === "up" ? 0n : 1n, now, now]);
      return state === "up"
        ? "sequencer up: prices resume after the grace period"
        : "sequencer down: oracle reads revert";
    }
    default:
      throw new ChoreError(`unknown chore ${chore}\n${USAGE}`);
  }
}

function need(args: string[], count: 1, usage: string): [string];
function need(args: string[], count: 2, usage: string): [string, string];
function need(args: string[], count: 3, usage: string): [string, string, string];
function need(args: string[], count: number, usage: string): string[] {
  if (args.length !== count) throw new ChoreError(`usage: npm run chore -- ${usage}`);
  return args;
}

function token(book: AddressBook, symbol: string) {
  const found = [book.cash, ...book.collateral].find((asset) => asset.symbol.toUpperCase() === symbol.toUpperCase());
  if (found === undefined) {
    const known = [book.cash, ...book.collateral].map((asset) => asset.symbol).join(", ");
    throw new ChoreError(`no token ${symbol} in the address book (it has ${known})`);
  }
  return found;
}

function decimal(value: string, decimals: number): bigint {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new ChoreError(`${value} is not a non-negative decimal number`);
  return parseUnits(value, decimals);
}

try {
  console.log(await main());
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${error instanceof ChoreError ? message : message.split("\n")[0]}`);
  process.exit(1);
}
