import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import hre, { network } from "hardhat";
import type { JsonRpcServer } from "hardhat/types/network";
import { type Address, getAddress, parseUnits } from "viem";

import { checkParameters } from "../../deploy/lib/parameters.js";
import { ROLES } from "../../deploy/lib/roles.js";
import { ROOT, deployCli as runDeployCli, ownedChains, readBook, startNode } from "./helpers/deployNode.js";

/** One refusal: exit code 1 and exactly one line on stderr, matching `pattern`. */
function assertRefused(result: Awaited<ReturnType<typeof deployCli>>, pattern: RegExp) {
  assert.equal(result.code, 1, `expected exit code 1, got ${result.code}: ${result.stderr.join(" | ")}`);
  assert.equal(result.stderr.length, 1, `expected one line, got:\n${result.stderr.join("\n")}`);
  assert.match(result.stderr[0]!, /^error: /);
  assert.match(result.stderr[0]!, pattern);
}
const deployCli = (...args: string[]) => runDeployCli(args);
const owned = ownedChains(900_000);
after(() => owned.remove());

describe("npm run deploy: local chain, journal", () => {
  const chainId = owned.chainId(1);
  let node: Awaited<ReturnType<typeof startNode>>;
  before(async () => {
    node = await startNode(chainId);
  });
  after(async () => node.server.close());

  it("deploys the mock market, writes a book whose every address holds code, and resumes from the journal", async () => {
    const first = await deployCli("--network", "localhost", "--rpc-url", node.url);
    assert.equal(first.code, 0, first.stderr.join("\n"));
    const book = await readBook(chainId);
    assert.equal(book.chainId, chainId);
    const client = await node.connection.viem.getPublicClient();
    for (const address of [...Object.values(book.contracts), book.cash.address, book.collateral[0]!.spotFeed!]) {
      assert.notEqual(await client.getCode({ address }), undefined, `${address} holds no code`);
    }

    const again = await deployCli("--network", "localhost", "--rpc-url", node.url);
    assert.equal(again.code, 0, again.stderr.join("\n"));
    assert.match(again.stdout, /resumed from the Ignition journal/);
    assert.deepEqual((await readBook(chainId)).contracts, book.contracts);
  });

  it("refuses a stale journal after a node restart, in one line naming --reset; --reset redeploys", async () => {
    await node.server.close();
    node = await startNode(chainId); // same chain id, new chain: the journal's blocks are gone

    const stale = await deployCli("--network", "localhost", "--rpc-url", node.url);
    assertRefused(stale, new RegExp(`ignition/deployments/chain-${chainId} is stale .*--reset`));

    const reset = await deployCli("--network", "localhost", "--rpc-url", node.url, "--reset");
    assert.equal(reset.code, 0, reset.stderr.join("\n"));
    const book = await readBook(chainId);
    const client = await node.connection.viem.getPublicClient();
    assert.notEqual(await client.getCode({ address: book.contracts.CollateralVault }), undefined);
  });

  it("refuses an in-process network, an unknown network, an unknown flag and an absent node, each in one line", async () => {
    assertRefused(await deployCli("--network", "opLocal"), /in-process chain .* npm run node/);
    assertRefused(await deployCli("--network", "nowhere"), /network nowhere is not in hardhat.config.ts/);
    assertRefused(await deployCli("--network", "localhost", "--frobnicate"), /Unknown option '--frobnicate'/);
    assertRefused(await deployCli("--network", "localhost", "--rpc-url", "http://127.0.0.1:9"), /no node answers/);
  });
});

describe("npm run deploy --parameters: a live network's file", () => {
  const chainId = owned.chainId(2);
  let node: Awaited<ReturnType<typeof startNode>>;
  let dir: string;
  let parameters: ReturnType<typeof liveParameters>;
  let accounts: Address[];

  before(async () => {
    node = await startNode(chainId);
    dir = await mkdtemp(path.join(tmpdir(), "pledge-params-"));
    const { viem } = node.connection;
    const usdc = await viem.deployContract("MockERC20", ["USD Coin", "USDC", 6]);
    const weth = await viem.deployContract("MockERC20", ["Wrapped Ether", "WETH", 18]);
    const ethUsd = await viem.deployContract("MockV3Aggregator", [8, 3_000n * 10n ** 8n]);
    const ethVol = await viem.deployContract("MockV3Aggregator", [8, 80_000_000n]);
    accounts = (await viem.getWalletClients()).map((wallet) => getAddress(wallet.account.address));
    parameters = liveParameters(chainId, { usdc, weth, ethUsd, ethVol }, accounts);
  });
  after(async () => {
    await node.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes `parameters` as changed by `edit` and runs the deploy command with it. */
  async function deployWith(edit: (p: typeof parameters) => void, ...flags: string[]) {
    const copy = structuredClone(parameters);
    edit(copy);
    const file = path.join(dir, `parameters-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify(copy));
    return deployCli("--network", "localhost", "--rpc-url", node.url, "--parameters", file, ...flags);
  }

  it("the shipped example passes the static checks", async () => {
    const example = JSON.parse(await readFile(path.join(ROOT, "deploy/parameters/example.json"), "utf8"));
    assert.equal(checkParameters(example).collateral.length, 2);
  });

  it("refuses a file for another chain", async () => {
    assertRefused(
      await deployWith((p) => (p.chainId = 1)),
      new RegExp(`chainId: the parameters file is for chain 1 but network localhost is chain ${chainId}`),
    );
  });

  it("refuses a missing parameter", async () => {
    assertRefused(
      await deployWith((p) => delete (p.collateral[0]!.spotFeed as { maxAge?: number }).maxAge),
      /collateral\[0\]\.spotFeed\.maxAge: is missing/,
    );
  });

  it("refuses an address that holds no code", async () => {
    const empty = "0x000000000000000000000000000000000000dEaD";
    assertRefused(
      await deployWith((p) => (p.collateral[0]!.volFeed.aggregator = empty)),
      new RegExp(`collateral\\[0\\]\\.volFeed: ${empty} holds no code on chain ${chainId}`),
    );
  });

  it("refuses out-of-range values before sending anything, one line each", async () => {
    const result = await deployWith((p) => {
      p.collateral[0]!.initialHaircut = "1";
      p.collateral[0]!.spotFeed.maxAge = 9000; // above the 7200 s settlement delay
      p.guardian = p.riskManager;
    });
    assert.equal(result.code, 1);
    assert.deepEqual(result.stderr, [
      "error: collateral[0].initialHaircut: 1 is above 0.9",
      "error: collateral[0].spotFeed.maxAge: 9000 s is above oracle.maxSettlementDelay (7200 s): an on-time round could miss settlement",
      "error: guardian: must be a different key from riskManager (the guardian only pauses)",
    ]);
    const client = await node.connection.viem.getPublicClient();
    assert.equal(await client.getTransactionCount({ address: accounts[0]! }), 4, "only the four mocks were sent");
  });

  it("deploys with a new timelock as admin and leaves the deployer no role", async () => {
    const result = await deployWith(() => {});
    assert.equal(result.code, 0, result.stderr.join("\n"));
    const timelock = /TimelockController (0x[0-9a-fA-F]{40})/.exec(result.stdout)?.[1] as Address;
    assert.ok(timelock, result.stdout);
    const book = await readBook(chainId);
    assert.equal(book.cash.symbol, "USDC");
    assert.deepEqual(
      book.collateral.map((c) => [c.symbol, c.decimals]),
      [["WETH", 18]],
    );
    const client = await node.connection.viem.getPublicClient();
    const vault = await node.connection.viem.getContractAt("CollateralVault", book.contracts.CollateralVault);
    const oracle = await node.connection.viem.getContractAt("ChainlinkOracle", book.contracts.ChainlinkOracle);
    const liquidator = await node.connection.viem.getContractAt("Liquidator", book.contracts.Liquidator);
    for (const contract of [vault, oracle, liquidator]) {
      assert.equal(await contract.read.hasRole([ROLES.admin, timelock]), true);
      assert.equal(await contract.read.hasRole([ROLES.admin, accounts[0]!]), false);
    }
    assert.equal(await vault.read.hasRole([ROLES.riskManager, accounts[2]!]), true);
    assert.equal(await vault.read.hasRole([ROLES.guardian, accounts[3]!]), true);
    assert.equal(await vault.read.hasRole([ROLES.riskManager, accounts[0]!]), false);
    assert.equal((await vault.read.assetConfig([book.collateral[0]!.address])).supplyCap, parseUnits("1000", 18));
    assert.equal(await oracle.read.spot([book.collateral[0]!.address]), parseUnits("3000", 18));
    assert.equal(
      await client.readContract({ address: timelock, abi: minDelayAbi, functionName: "getMinDelay" }),
      86400n,
    );
  });

  it("hands admin to an existing timelock, and refuses one that is not a timelock", async () => {
    const { viem } = node.connection;
    const timelock = await viem.deployContract("TimelockController", [
      86_400n,
      [accounts[1]!],
      [accounts[1]!],
      "0x0000000000000000000000000000000000000000",
    ]);
    const { cash } = await readBook(chainId);
    assertRefused(
      await deployWith((p) => (p.admin = { timelock: cash.address } as never), "--reset"),
      new RegExp(`admin.timelock: ${cash.address} does not answer getMinDelay\\(\\): it is not a TimelockController`),
    );

    const result = await deployWith((p) => (p.admin = { timelock: timelock.address } as never), "--reset");
    assert.equal(result.code, 0, result.stderr.join("\n"));
    const vault = await viem.getContractAt("CollateralVault", (await readBook(chainId)).contracts.CollateralVault);
    assert.equal(await vault.read.hasRole([ROLES.admin, timelock.address]), true);
    assert.equal(await vault.read.hasRole([ROLES.admin, accounts[0]!]), false);
  });
});

/** A valid parameters file for the mocks on the test node: one collateral, a new timelock, three keys. */
function liveParameters(
  chainId: number,
  contracts: Record<"usdc" | "weth" | "ethUsd" | "ethVol", { address: Address }>,
  accounts: Address[],
) {
  return {
    chainId,
    cash: { token: contracts.usdc.address, supplyCap: "1000000000" },
    collateral: [
      {
        symbol: "WETH",
        token: contracts.weth.address,
        initialHaircut: "0.1",
        maintenanceHaircut: "0.05",
        supplyCap: "1000",
        spotFeed: { aggregator: contracts.ethUsd.address, maxAge: 4500, min: "10", max: "1000000" },
        volFeed: { aggregator: contracts.ethVol.address, maxAge: 90000, min: "0.01", max: "5" },
      },
    ],
    oracle: {
      maxSettlementDelay: 7200,
      settlementFallbackWait: 86400,
      sequencerUptimeFeed: null,
      sequencerGracePeriod: 3600,
    },
    volSurface: { signers: [accounts[4], accounts[5], accounts[6]], quorum: 2 },
    admin: { newTimelock: { minDelay: 86400, proposers: [accounts[1]], executors: [accounts[1]] } },
    riskManager: accounts[2],
    guardian: accounts[3],
  };
}

const minDelayAbi = [
  { type: "function", name: "getMinDelay", stateMutability: "view", inputs: [], outputs: [{ type: "uint256" }] },
] as const;

describe("npm run deploy on the OP-stack profile: the sequencer uptime feed", () => {
  const chainId = owned.chainId(3);
  let server: JsonRpcServer;
  let url: string;

  before(async () => {
    ({ server, url } = await startNode(chainId, "opLocal"));
  });
  after(async () => server.close());

  it("wires a mock uptime feed; down → OracleSequencerDown, up → grace period, then prices", async () => {
    assert.equal(hre.config.networks.opLocal?.chainType, "op");
    const result = await deployCli("--network", "opLocalhost", "--rpc-url", url);
    assert.equal(result.code, 0, result.stderr.join("\n"));
    const book = await readBook(chainId);

    const connection = await network.create({ network: "opLocalhost", override: { url } });
    const { viem } = connection;
    const oracle = await viem.getContractAt("ChainlinkOracle", book.contracts.ChainlinkOracle);
    const feed = await viem.getContractAt("MockV3Aggregator", await oracle.read.sequencerFeed());
    const weth = book.collateral[0]!.address;
    const grace = await oracle.read.sequencerGracePeriod();
    assert.equal(grace, 3600n);
    assert.equal(await oracle.read.spot([weth]), parseUnits("3000", 18), "the feed starts up, past its grace period");

    const now = async () => (await (await viem.getPublicClient()).getBlock()).timestamp;
    await feed.write.updateRoundData([2n, 1n, await now(), await now()]); // down
    await assert.rejects(oracle.read.spot([weth]), /OracleSequencerDown/);
    await assert.rejects(oracle.read.vol([weth]), /OracleSequencerDown/);

    await feed.write.updateRoundData([3n, 0n, await now(), await now()]); // back up: grace runs from now
    await assert.rejects(oracle.read.spot([weth]), /OracleGracePeriodNotOver/);

    await connection.provider.request({ method: "evm_increaseTime", params: [Number(grace) + 1] });
    await connection.provider.request({ method: "evm_mine", params: [] });
    assert.equal(await oracle.read.spot([weth]), parseUnits("3000", 18));
    await connection.close();
  });
});
