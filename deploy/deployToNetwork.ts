import path from "node:path";

import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import hre from "hardhat";
import { type Address, type PublicClient, zeroAddress } from "viem";

import PledgeModule from "../ignition/modules/Pledge.js";
import PledgeOpLocalModule from "../ignition/modules/PledgeOpLocal.js";
import { type AddressBook, DEPLOYMENTS_DIR, writeAddressBook } from "./lib/addressBook.js";
import { DeployError } from "./lib/deployError.js";
import { checkJournal, firstJournalBlock, resetJournal } from "./lib/journal.js";
import { type LivePlan, readParameters, resolveParameters, timelockProblems } from "./lib/parameters.js";
import { addPledgeCore } from "./lib/pledgeCore.js";
import { ROLES, accessControlAbi, moduleWiringProblems } from "./lib/roles.js";

/** What `npm run deploy` takes (docs/deploy.md). */
export interface DeployToNetworkOptions {
  /** A network of hardhat.config.ts, of type http. */
  network: string;
  /** A parameters file (live networks); without it, a local chain gets the mock market. */
  parameters?: string;
  /** Delete the network's Ignition journal first and deploy afresh. */
  reset?: boolean;
  /** Another URL for the network (e.g. a node on another port). */
  rpcUrl?: string;
  /** Where the address book goes; `deployments/` by default. */
  deploymentsDir?: string;
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
}

export interface DeployToNetworkResult {
  book: AddressBook;
  /** The address book's path. */
  file: string;
  /** Whether Ignition resumed from a journal of this chain (nothing left to send when it was complete). */
  resumed: boolean;
  /** The L2 sequencer uptime feed wired into the oracle, or the zero address on L1. */
  sequencerFeed: Address;
  /** The TimelockController that administers every core contract; undefined when the deployer does. */
  timelock?: Address;
}

/**
 * Deploys Pledge on a running chain with Hardhat Ignition and writes `deployments/<chainId>.json`,
 * with the checks of docs/deploy.md: the parameters file is validated (statically, then with reads)
 * before anything is sent, a stale journal is refused, and the book is written only once every
 * address in it holds code on the chain it names. Throws a `DeployError` (one line per problem).
 */
export async function deployToNetwork(options: DeployToNetworkOptions): Promise<DeployToNetworkResult> {
  const log = options.log ?? (() => {});
  const networkConfig = hre.config.networks[options.network];
  if (networkConfig === undefined) {
    const known = Object.keys(hre.config.networks).filter((name) => hre.config.networks[name]?.type === "http");
    throw new DeployError([
      `network ${options.network} is not in hardhat.config.ts; deployable networks: ${known.join(", ")}`,
    ]);
  }
  if (networkConfig.type !== "http") {
    throw new DeployError([
      `network ${options.network} is an in-process chain that ends with this command: start a node with npm run node and deploy with --network localhost`,
    ]);
  }
  // Read the file before connecting: a typo should not wait for a node.
  const parameters = options.parameters === undefined ? undefined : await readParameters(options.parameters);

  const connection = await hre.network.create({
    network: options.network,
    ...(options.rpcUrl === undefined ? {} : { override: { url: options.rpcUrl } }),
  });
  try {
    const url = options.rpcUrl ?? (await networkConfig.url.get());
    const noNode = () =>
      new DeployError([
        `no node answers at ${url} (network ${options.network}): start one with npm run node, or check the URL`,
      ]);
    // viem's client asks the node for its chain id as it is created: an absent node fails here.
    const publicClient = (await connection.viem.getPublicClient().catch(() => {
      throw noNode();
    })) as unknown as PublicClient;
    const chainId = await publicClient.getChainId().catch(() => {
      throw noNode();
    });
    if (networkConfig.chainId !== undefined && networkConfig.chainId !== chainId) {
      throw new DeployError([
        `network ${options.network} is configured for chain ${networkConfig.chainId} but ${url} is chain ${chainId}: check the URL`,
      ]);
    }
    const [deployerWallet] = await connection.viem.getWalletClients();
    if (deployerWallet === undefined) {
      throw new DeployError([
        `network ${options.network} has no account to deploy from: set its accounts in hardhat.config.ts`,
      ]);
    }
    const deployer = deployerWallet.account.address;
    const chainType = networkConfig.chainType ?? hre.config.defaultChainType;

    let live: LivePlan | undefined;
    if (parameters !== undefined) {
      live = await resolveParameters(publicClient, parameters, { deployer, chainType, networkName: options.network });
      log(`parameters ${options.parameters}: checked against chain ${chainId}`);
    } else if (!(await isLocalDevChain(publicClient))) {
      throw new DeployError([
        `network ${options.network} (chain ${chainId}) is not a local development chain: pass --parameters <file> with the real tokens, feeds and admin (docs/deploy.md)`,
      ]);
    }

    const journalDir = path.join(hre.config.paths.ignition, "deployments", `chain-${chainId}`);
    if (options.reset === true) {
      await resetJournal(journalDir);
      log(`--reset: deleted ${path.relative(process.cwd(), journalDir)}`);
    }
    const resumed = (await checkJournal(publicClient, journalDir)) === "fresh";
    if (resumed) log(`resuming from ${path.relative(process.cwd(), journalDir)}`);

    const module =
      live === undefined
        ? chainType === "op"
          ? PledgeOpLocalModule
          : PledgeModule
        : buildModule("PledgeLive", (m) => addPledgeCore(m, (live as LivePlan).plan));
    log(`deploying ${module.id} to ${options.network} (chain ${chainId}) from ${deployer}`);
    // Without a journal (or one with nothing confirmed yet) everything lands after this block.
    const firstBlock = (await publicClient.getBlockNumber()) + 1n;
    const deployed = (await connection.ignition.deploy(module, { displayUi: false })) as Record<
      string,
      { address: Address }
    >;

    const contract = (name: string) => {
      const found = deployed[name];
      if (found === undefined) throw new Error(`the Ignition module returned no ${name}`);
      return found.address;
    };
    const book: AddressBook = {
      chainId,
      // The first deployment transaction's block: event readers starting there see the set-up too.
      deployedAtBlock: ((await firstJournalBlock(journalDir)) ?? firstBlock).toString(),
      contracts: {
        CollateralVault: contract("vault"),
        ChainlinkOracle: contract("oracle"),
        VolSurfaceOracle: contract("volSurface"),
        MarginEngine: contract("engine"),
        OptionMarket: contract("market"),
        Liquidator: contract("liquidator"),
        Backstop: contract("backstop"),
        InsuranceFund: contract("insurance"),
      },
      cash: live?.cash ?? { address: contract("usdc"), symbol: "USDC", decimals: 6 },
      collateral: live?.collateral ?? [
        {
          address: contract("weth"),
          symbol: "WETH",
          decimals: 18,
          spotFeed: contract("ethUsd"),
          volFeed: contract("ethVol"),
        },
        {
          address: contract("wbtc"),
          symbol: "WBTC",
          decimals: 8,
          spotFeed: contract("btcUsd"),
          volFeed: contract("btcVol"),
        },
      ],
    };
    const sequencerFeed = deployed.sequencerFeed?.address ?? live?.plan.oracle.sequencerFeed ?? zeroAddress;
    const timelock = deployed.timelock?.address;

    await checkDeployment(publicClient, { chainId, book, sequencerFeed: sequencerFeed as Address });
    // The module wiring, whoever administers: a missing grant breaks a contract for good.
    const wiring = await moduleWiringProblems(publicClient, book);
    if (wiring.length > 0) throw new DeployError(wiring);
    if (timelock !== undefined && live !== undefined)
      await checkRoles(publicClient, book, { timelock, deployer, live });

    const file = await writeAddressBook(book, options.deploymentsDir ?? DEPLOYMENTS_DIR);
    return { book, file, resumed, sequencerFeed: sequencerFeed as Address, timelock };
  } finally {
    await connection.close();
  }
}

/** A Hardhat (EDR) node that is not a fork: where the mock market may be deployed. */
async function isLocalDevChain(client: PublicClient): Promise<boolean> {
  try {
    const metadata = (await client.request({ method: "hardhat_metadata" } as never)) as { forkedNetwork?: unknown };
    return metadata.forkedNetwork === undefined;
  } catch {
    return false;
  }
}

/** The book's chain is the chain, and every address in it holds code. */
async function checkDeployment(
  client: PublicClient,
  expected: { chainId: number; book: AddressBook; sequencerFeed: Address },
) {
  const chainId = await client.getChainId();
  const problems: string[] = [];
  if (chainId !== expected.chainId) {
    problems.push(
      `the chain id changed during the deployment, from ${expected.chainId} to ${chainId}: the node was replaced`,
    );
  }
  const { book } = expected;
  const addresses: [string, Address][] = [
    ...Object.entries(book.contracts),
    [`cash ${book.cash.symbol}`, book.cash.address],
    ...book.collateral.flatMap((asset): [string, Address][] => [
      [`collateral ${asset.symbol}`, asset.address],
      [`${asset.symbol} spot feed`, asset.spotFeed as Address],
      [`${asset.symbol} vol feed`, asset.volFeed as Address],
    ]),
  ];
  if (expected.sequencerFeed !== zeroAddress) addresses.push(["sequencer uptime feed", expected.sequencerFeed]);
  for (const [name, address] of addresses) {
    const code = await client.getCode({ address });
    if (code === undefined || code === "0x") {
      problems.push(
        `${name} at ${address} holds no code on chain ${chainId}: the address book was not written; run again with --reset`,
      );
    }
  }
  if (problems.length > 0) throw new DeployError(problems);
}

/**
 * On a live network: the timelock is admin everywhere, the deployer nowhere, and the keys hold
 * their roles. The module wiring (which contract may move what) is checked for every deploy
 * before this (`moduleWiringProblems`).
 */
async function checkRoles(
  client: PublicClient,
  book: AddressBook,
  roles: { timelock: Address; deployer: Address; live: LivePlan },
) {
  const admin = roles.live.plan.admin;
  if (admin.kind === "deployer") return;
  const has = (contract: Address, role: `0x${string}`, account: Address) =>
    client.readContract({ address: contract, abi: accessControlAbi, functionName: "hasRole", args: [role, account] });
  const problems: string[] = [];
  for (const [name, address] of Object.entries(book.contracts)) {
    if (!(await has(address, ROLES.admin, roles.timelock)))
      problems.push(`${name}: the timelock ${roles.timelock} is not admin`);
    for (const role of ["admin", "riskManager", "guardian", "module"] as const) {
      if (await has(address, ROLES[role], roles.deployer))
        problems.push(`${name}: the deployer ${roles.deployer} still holds the ${role} role`);
    }
  }
  // The timelock itself: a new one administers itself; neither may leave the deployer a way back.
  problems.push(...(await timelockProblems(client, roles.timelock, roles.deployer)));
  for (const name of ["CollateralVault", "MarginEngine", "OptionMarket", "Liquidator", "VolSurfaceOracle"] as const) {
    const address = book.contracts[name];
    if (address === undefined || !(await has(address, ROLES.riskManager, admin.riskManager))) {
      problems.push(`${name}: the risk manager ${admin.riskManager} lacks its role`);
    }
  }
  for (const name of ["CollateralVault", "OptionMarket"] as const) {
    if (!(await has(book.contracts[name], ROLES.guardian, admin.guardian))) {
      problems.push(`${name}: the guardian ${admin.guardian} lacks its role`);
    }
  }
  if (problems.length > 0) throw new DeployError(problems);
}
