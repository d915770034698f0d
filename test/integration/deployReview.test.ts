/**
 * Review 5 (docs/security.md): the deploy command's attacks, each reproduced. Every test states
 * the safe behaviour and failed before its fix (the deployer kept a role or could take admin back,
 * an L2 deployed without a sequencer feed, a feed without bounds passed).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { network } from "hardhat";
import { type Address, type PublicClient, encodeFunctionData, getAddress, parseAbi, zeroHash } from "viem";

import { checkParameters, resolveParameters } from "../../deploy/lib/parameters.js";
import { ROLES } from "../../deploy/lib/roles.js";
import { deployCli as runDeployCli, ownedChains, readBook, startNode } from "./helpers/deployNode.js";

const deployCli = (...args: string[]) => runDeployCli(args, 180_000);
const owned = ownedChains(800_000);
after(() => owned.remove());

const timelockAbi = parseAbi([
  "function schedule(address target, uint256 value, bytes data, bytes32 predecessor, bytes32 salt, uint256 delay)",
  "function execute(address target, uint256 value, bytes payload, bytes32 predecessor, bytes32 salt) payable",
]);
const grantRoleAbi = parseAbi(["function grantRole(bytes32 role, address account)"]);

/** A parameters file for mocks on `connection`'s chain, as test/integration/deployCommand.test.ts builds it. */
async function liveScene(connection: Awaited<ReturnType<typeof startNode>>["connection"], chainId: number) {
  const { viem } = connection;
  const usdc = await viem.deployContract("MockERC20", ["USD Coin", "USDC", 6]);
  const weth = await viem.deployContract("MockERC20", ["Wrapped Ether", "WETH", 18]);
  const ethUsd = await viem.deployContract("MockV3Aggregator", [8, 3_000n * 10n ** 8n]);
  const ethVol = await viem.deployContract("MockV3Aggregator", [8, 80_000_000n]);
  const wallets = await viem.getWalletClients();
  const accounts = wallets.map((wallet) => getAddress(wallet.account.address));
  const parameters = {
    chainId,
    cash: { token: usdc.address, supplyCap: "1000000000" },
    collateral: [
      {
        symbol: "WETH",
        token: weth.address,
        initialHaircut: "0.1",
        maintenanceHaircut: "0.05",
        supplyCap: "1000",
        spotFeed: { aggregator: ethUsd.address, maxAge: 4500, min: "10", max: "1000000" },
        volFeed: { aggregator: ethVol.address, maxAge: 90000, min: "0.01", max: "5" },
      },
    ],
    oracle: {
      maxSettlementDelay: 7200,
      settlementFallbackWait: 86400,
      sequencerUptimeFeed: null as Address | null,
      sequencerGracePeriod: 3600,
    },
    volSurface: { signers: [accounts[4], accounts[5], accounts[6]], quorum: 2 },
    admin: { newTimelock: { minDelay: 86400, proposers: [accounts[1]], executors: [accounts[1]] } } as Record<
      string,
      unknown
    >,
    riskManager: accounts[2],
    guardian: accounts[3],
  };
  // What deployToNetwork passes as the deployer: the wallet client's address, as eth_accounts spells it.
  return { parameters, accounts, deployer: wallets[0]!.account.address, viem };
}

describe("review: npm run deploy --parameters leaves the deployer a way back in", () => {
  const chainId = owned.chainId(1);
  let node: Awaited<ReturnType<typeof startNode>>;
  let scene: Awaited<ReturnType<typeof liveScene>>;
  let dir: string;
  before(async () => {
    node = await startNode(chainId);
    scene = await liveScene(node.connection, chainId);
    dir = await mkdtemp(path.join(tmpdir(), "pledge-review-"));
  });
  after(async () => {
    await node.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function deployWith(edit: (p: typeof scene.parameters) => void, ...flags: string[]) {
    const copy = structuredClone(scene.parameters);
    edit(copy);
    const file = path.join(dir, `parameters-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify(copy));
    return deployCli("--network", "localhost", "--rpc-url", node.url, "--parameters", file, ...flags);
  }

  it("P1: the deployer's own key as riskManager is refused (eth_accounts spells it in lower case)", async () => {
    const client = (await node.connection.viem.getPublicClient()) as unknown as PublicClient;
    const deployer = scene.deployer;
    // The check compares a checksummed address from the file with eth_accounts' lower-case one.
    const problems = await resolveParameters(
      client,
      { ...checkParameters({ ...scene.parameters, riskManager: scene.accounts[0] }) },
      { deployer, chainType: "l1", networkName: "localhost" },
    ).then(
      () => [] as string[],
      (error: { problems?: string[] }) => error.problems ?? [],
    );
    assert.ok(
      problems.some((line) => /riskManager: is the deployer/.test(line)),
      `resolveParameters accepted the deployer ${deployer} as riskManager (problems: ${JSON.stringify(problems)})`,
    );
  });

  it("P1: an existing timelock with no delay that the deployer administers is refused", async () => {
    const deployer = scene.accounts[0]!;
    const timelock = await scene.viem.deployContract("TimelockController", [0n, [deployer], [deployer], deployer]);
    const result = await deployWith((p) => (p.admin = { timelock: timelock.address }), "--reset");
    if (result.code === 0) {
      // The deploy said "the deployer holds no role"; it takes admin back in one block.
      const book = await readBook(chainId);
      const [wallet] = await scene.viem.getWalletClients();
      const grant = encodeFunctionData({
        abi: grantRoleAbi,
        functionName: "grantRole",
        args: [ROLES.admin, deployer],
      });
      const target = book.contracts.CollateralVault;
      await wallet!.writeContract({
        address: timelock.address,
        abi: timelockAbi,
        functionName: "schedule",
        args: [target, 0n, grant, zeroHash, zeroHash, 0n],
      });
      await wallet!.writeContract({
        address: timelock.address,
        abi: timelockAbi,
        functionName: "execute",
        args: [target, 0n, grant, zeroHash, zeroHash],
      });
      const vault = await scene.viem.getContractAt("CollateralVault", target);
      const regained = await vault.read.hasRole([ROLES.admin, deployer]);
      assert.fail(
        `deployed (stdout: ${result.stdout.trim().split("\n").at(-1)}); the deployer then regained DEFAULT_ADMIN_ROLE on the vault at once: ${regained}`,
      );
    }
    assert.equal(result.code, 1);
    assert.match(result.stderr.join("\n"), /admin\.timelock/);
  });

  it("P2: a new timelock whose proposer and executor is the deployer is refused", async () => {
    const client = (await node.connection.viem.getPublicClient()) as unknown as PublicClient;
    const deployer = scene.accounts[0]!;
    const parameters = checkParameters({
      ...scene.parameters,
      admin: { newTimelock: { minDelay: 86400, proposers: [deployer], executors: [deployer] } },
    });
    const accepted = await resolveParameters(client, parameters, {
      deployer: scene.deployer,
      chainType: "l1",
      networkName: "localhost",
    }).then(
      () => true,
      () => false,
    );
    assert.equal(accepted, false, "the deployer may propose and execute: it can take admin back a day later");
  });
});

describe("review: parameters that pass validation but deploy something unsafe", () => {
  let node: Awaited<ReturnType<typeof startNode>>;
  let scene: Awaited<ReturnType<typeof liveScene>>;
  before(async () => {
    node = await startNode(42_161); // Arbitrum One's chain id: an L2 that is not OP-stack
    scene = await liveScene(node.connection, 42_161);
  });
  after(async () => node.server.close());

  it("P2: an L2 outside the OP stack (Arbitrum One) without a sequencer uptime feed is refused", async () => {
    const client = (await node.connection.viem.getPublicClient()) as unknown as PublicClient;
    // hardhat.config.ts would give Arbitrum chainType "generic" (Hardhat has no Arbitrum chain type).
    const accepted = await resolveParameters(client, checkParameters(scene.parameters), {
      deployer: scene.deployer,
      chainType: "generic",
      networkName: "arbitrum",
    }).then(
      () => true,
      () => false,
    );
    assert.equal(accepted, false, "an L2 oracle without a sequencer feed prices through sequencer outages");
  });

  it("P2: a feed without bounds (min 0, max 0) is refused, so a wrong-decimals feed cannot slip through", async () => {
    // A WETH "spot" feed that is really a ratio feed (ETH/BTC, 18 decimals, 0.05): bounds would catch it.
    const ratio = await scene.viem.deployContract("MockV3Aggregator", [18, 5n * 10n ** 16n]);
    const client = (await node.connection.viem.getPublicClient()) as unknown as PublicClient;
    const file = structuredClone(scene.parameters);
    file.collateral[0]!.spotFeed = { aggregator: ratio.address, maxAge: 4500, min: "0", max: "0" };
    const accepted = await Promise.resolve()
      .then(() => checkParameters(file))
      .then((p) =>
        resolveParameters(client, p, { deployer: scene.deployer, chainType: "l1", networkName: "localhost" }),
      )
      .then(
        () => true,
        () => false,
      );
    assert.equal(accepted, false, "WETH would be valued at 0.05 USD, with no bound to stop it");
  });
  it("a feed bound above the oracle's 128-bit ceiling is refused before anything is sent", async () => {
    const file = structuredClone(scene.parameters);
    const spot = file.collateral[0]!.spotFeed as { max: string };
    // 4e20 USD is 4e38 in WAD, above 2^128 − 1 (about 3.4e38): ChainlinkOracle would revert setSpotFeed.
    spot.max = "400000000000000000000";
    assert.throws(() => checkParameters(file), /largest bound/);
  });
});
