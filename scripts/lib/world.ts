import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";
import { type Address, type Hex, encodeFunctionData } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { accountId } from "../../packages/sdk/src/index.js";
import type { BatchTx } from "./chainClock.js";

/**
 * The world of a simulation: a fresh in-process chain with Pledge deployed on it, its
 * actors (admin, market maker, trader, bidder) and the accounts a run opens, plus the
 * transactions that fund them and the batched margin read every part uses.
 */

const DAY = 86_400;
/**
 * Blocks of the in-process chain hold this much gas, so a seeding batch of many accounts
 * (each transaction sent with a generous fixed gas limit) fits one block.
 */
export const BLOCK_GAS_LIMIT = 10_000_000_000n;
/** Gas limit of a funding or set-up transaction of a batch. */
const FUNDING_GAS = 500_000n;
/** Gas limit of a deposit of a batch. */
const DEPOSIT_GAS = 300_000n;

type Connection = Awaited<ReturnType<typeof network.create>>;

/** The deployed protocol on a fresh in-process chain, and the actors of a run. */
export type World = Awaited<ReturnType<typeof setUp>>;

/**
 * A fresh in-process chain whose clock starts two days before `startTime` (unix
 * seconds), so the population trades at the episode's own dates and every timestamp
 * the feeds post is the historical one; Pledge deployed on it with Ignition.
 */
const NODE_PROCESS = path.join(path.dirname(fileURLToPath(import.meta.url)), "nodeProcess.ts");

/** The port `nodeProcess.ts` prints once it serves; its exit before that is an error. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const exited = (code: number | null) =>
      reject(new Error(`world: the node process exited (${code}) before serving`));
    child.once("exit", exited);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const port = /listening (\d+)/.exec(out)?.[1];
      if (port === undefined) return;
      child.off("exit", exited);
      resolve(Number(port));
    });
  });
}

export async function setUp(startTime: number, options: { serve?: boolean } = {}) {
  const override = { initialDate: new Date((startTime - 2 * DAY) * 1000), blockGasLimit: BLOCK_GAS_LIMIT };
  // `serve`: the chain is a node in a process of its own (`nodeProcess.ts`), served over HTTP on a
  // free loopback port, so that another process (the indexer) can follow it without waiting on
  // this run's event loop; the run talks to it over HTTP too.
  let rpcUrl: string | undefined;
  let node: ChildProcess | undefined;
  let connection: Connection;
  // Over HTTP Ignition keeps a journal (ignition/deployments/<id>): one of its own per run,
  // deleted on close, or the next run on a new node would "resume" at addresses with no code.
  let journal: string | undefined;
  let deploymentId: string | undefined;
  if (options.serve) {
    deploymentId = `demo-${process.pid}-${Date.now().toString(36)}`;
    journal = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../ignition/deployments", deploymentId);
    node = spawn(process.execPath, ["--import", "tsx", NODE_PROCESS], {
      env: {
        ...process.env,
        PLEDGE_NODE_INITIAL_DATE: override.initialDate.toISOString(),
        PLEDGE_NODE_BLOCK_GAS_LIMIT: String(override.blockGasLimit),
      },
      stdio: ["pipe", "pipe", "inherit"],
    });
    rpcUrl = `http://127.0.0.1:${await listeningPort(node)}`;
    connection = await network.create({ network: "localhost", override: { url: rpcUrl } });
  } else {
    connection = await network.create({ override });
  }
  const { contracts, book } = await deployPledge(connection, { writeBook: false, deploymentId });
  const publicClient = await connection.viem.getPublicClient();
  const [adminWallet, makerWallet, traderWallet, bidderWallet] = await connection.viem.getWalletClients();
  if (!adminWallet || !makerWallet || !traderWallet || !bidderWallet) {
    throw new Error("world: need four wallet clients");
  }
  const chainId = await publicClient.getChainId();
  const insuranceAccount = await contracts.liquidator.read.insuranceAccount();
  return {
    connection,
    contracts,
    book,
    publicClient,
    chainId,
    adminWallet,
    makerWallet,
    traderWallet,
    bidderWallet,
    /** The market maker's desks: subaccount `1 + i` quotes series `i` of the grid. */
    marketMakers: [] as bigint[],
    bidder: accountId(bidderWallet.account.address, 1n),
    insuranceAccount,
    population: [] as bigint[],
    series: [] as bigint[],
    /** The chain's JSON-RPC over HTTP, when served. */
    rpcUrl,
    /** Stops the HTTP server, when served. */
    close: async () => {
      if (node && node.exitCode === null) {
        const exited = new Promise((resolve) => node!.once("exit", resolve));
        node.kill("SIGTERM");
        await exited;
      }
      if (journal) await rm(journal, { recursive: true, force: true });
    },
  };
}

/**
 * Accounts per `accountsMargin` call. The gas is linear in the accounts (about 90k each), but the
 * in-process node's time is not: 200 seeded accounts took 1.28 s of CPU in chunks of 100 and
 * 0.48 s in chunks of 10 (issue 19), so the chunks are small and read together.
 */
export const MARGIN_CHUNK = 10;

/**
 * `engine.accountsMargin` over any number of accounts, in chunks that each fit one
 * call's gas, all at one block (`blockNumber`, default the latest).
 */
export async function marginsOf(world: World, accounts: readonly bigint[], blockNumber?: bigint) {
  const at = blockNumber ?? (await world.publicClient.getBlockNumber({ cacheTime: 0 }));
  const chunks: bigint[][] = [];
  for (let i = 0; i < accounts.length; i += MARGIN_CHUNK) chunks.push(accounts.slice(i, i + MARGIN_CHUNK));
  const states = await Promise.all(
    chunks.map((chunk) => world.contracts.engine.read.accountsMargin([chunk], { blockNumber: at })),
  );
  return states.flat();
}

/** The batch transactions that fund a world's actors, as unlocked node accounts send them. */
export interface FundingTxs {
  /** Any call, with a set-up gas limit unless given. */
  call(from: Address, to: Address, data: Hex, gas?: bigint): BatchTx;
  /** The admin mints `amount` of a mock token to `to`. */
  mint(token: Address, to: Address, amount: bigint): BatchTx;
  /** `from` lets the vault pull `amount` of `token`. */
  approve(from: Address, token: Address, amount: bigint): BatchTx;
  /** `from` deposits `amount` of `token` into its `account`. */
  deposit(from: Address, account: bigint, token: Address, amount: bigint): BatchTx;
  /** The admin raises the vault's cash supply cap by `extra`, keeping the rest of its config. */
  raiseCashCap(extra: bigint): Promise<BatchTx>;
}

export function fundingTxs(world: World): FundingTxs {
  const { vault, usdc } = world.contracts;
  const admin = world.adminWallet.account.address;
  const call = (from: Address, to: Address, data: Hex, gas: bigint = FUNDING_GAS): BatchTx => ({
    from,
    to,
    data,
    gas,
  });
  const erc20 = usdc.abi;
  return {
    call,
    mint: (token, to, amount) =>
      call(admin, token, encodeFunctionData({ abi: erc20, functionName: "mint", args: [to, amount] })),
    approve: (from, token, amount) =>
      call(from, token, encodeFunctionData({ abi: erc20, functionName: "approve", args: [vault.address, amount] })),
    deposit: (from, account, token, amount) =>
      call(
        from,
        vault.address,
        encodeFunctionData({ abi: vault.abi, functionName: "deposit", args: [account, token, amount] }),
        DEPOSIT_GAS,
      ),
    raiseCashCap: async (extra) => {
      const config = await vault.read.assetConfig([usdc.address]);
      return call(
        admin,
        vault.address,
        encodeFunctionData({
          abi: vault.abi,
          functionName: "configureAsset",
          args: [usdc.address, config.enabled, 0n, 0n, config.supplyCap + extra],
        }),
      );
    },
  };
}
