import assert from "node:assert/strict";
import { describe, it } from "node:test";

import pino from "pino";
import { type Hash, createPublicClient, createWalletClient, fallback, http } from "viem";

import { createKeeper } from "../../packages/keeper/src/index.js";
import { Health } from "@pledge/sdk";
import { createWorld } from "./helpers/world.js";
import { startRpcProxy } from "./helpers/rpcProxy.js";

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("keeper behind a faulty RPC", () => {
  it("liquidates every account exactly once through dropped calls, errors, delays, a stale node and a dead fallback", async () => {
    const world = await createWorld({ accounts: 12 });
    const provider = world.connection.provider;
    const proxy = await startRpcProxy({
      request: (args) => provider.request(args),
      seed: 0x5eed,
      faults: { drop: 0.04, lose: 0.03, hang: 0.01, rpcError: 0.05, httpError: 0.05, delay: 0.1, stale: 0.05 },
    });
    // A second endpoint that is dead: listening on nothing.
    const dead = await startRpcProxy({ request: (args) => provider.request(args), seed: 1, faults: {} });
    await dead.close();
    const transport = fallback(
      [http(dead.url, { retryCount: 0, timeout: 1_500 }), http(proxy.url, { retryCount: 0, timeout: 1_500 })],
      { rank: false, retryCount: 1 },
    );
    const chain = world.publicClient.chain;
    const { wallet, bidderAccount } = world.keepers[0]!;
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 });
    const walletClient = createWalletClient({ chain, transport, account: wallet.account.address });

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const keeper = createKeeper({
      publicClient,
      walletClient,
      addressBook: world.book,
      bidderAccount,
      logger: pino({ level: process.env.KEEPER_LOG ?? "silent" }),
      pollIntervalMs: 50,
    });
    keeper.start(100);

    // Let it index through the faults, then crash the price.
    const startBlock = await world.publicClient.getBlockNumber();
    while ((keeper.cursor() ?? 0n) < startBlock) await pause(50);
    await world.setSpot(69_000);
    const states = await world.contracts.engine.read.accountsMargin([world.traders]);
    const flagged = world.traders.filter((_, i) => states[i]!.health >= Health.LIQUIDATABLE);
    assert.ok(flagged.length >= 5, `only ${flagged.length} accounts fell below MM`);

    const { liquidator, engine } = world.contracts;
    const resolved = async () => {
      for (const account of flagged) {
        if ((await liquidator.read.auctionOf([account])).active) return false;
        if ((await engine.read.accountMargin([account])).health >= Health.LIQUIDATABLE) return false;
      }
      return true;
    };
    for (let round = 0; !(await resolved()); round++) {
      assert.ok(round < 1_200, "the keeper did not resolve every account");
      await pause(50);
    }
    // One more pass so the keeper indexes its own last events.
    const head = await world.publicClient.getBlockNumber();
    while ((keeper.cursor() ?? 0n) < head) await pause(50);
    await keeper.stop();
    process.off("unhandledRejection", onUnhandled);
    await proxy.close();

    assert.deepEqual(unhandled, [], "no unhandled rejection");
    const faults = proxy.injected;
    for (const fault of ["drop", "rpcError", "httpError", "stale"] as const) {
      assert.ok(faults[fault] > 0, `the schedule injected no ${fault}`);
    }

    // Every flagged account was auctioned exactly once and resolved; nobody else was touched.
    const started = await world.publicClient.getContractEvents({
      address: liquidator.address,
      abi: liquidator.abi,
      eventName: "AuctionStarted",
      fromBlock: startBlock,
    });
    const startsPer = new Map<bigint, number>();
    for (const e of started) startsPer.set(e.args.account!, (startsPer.get(e.args.account!) ?? 0) + 1);
    assert.deepEqual([...startsPer.keys()].sort(), [...flagged].sort());
    assert.ok(
      [...startsPer.values()].every((n) => n === 1),
      "one auction per account",
    );
    assert.equal(await liquidator.read.badDebt(), 0n);

    // No transaction of the keeper's reverted on chain (no double handling slipped past the simulation).
    let reverted = 0;
    for (let n = startBlock + 1n; n <= head; n++) {
      const block = await world.publicClient.getBlock({ blockNumber: n });
      for (const hash of block.transactions as Hash[]) {
        const receipt = await world.publicClient.getTransactionReceipt({ hash });
        if (receipt.from.toLowerCase() === wallet.account.address.toLowerCase() && receipt.status !== "success")
          reverted++;
      }
    }
    assert.equal(reverted, 0, "bids or starts that reverted on chain");

    // The keeper's own record: every auction once.
    const stats = keeper.stats();
    const keys = stats.liquidations.map((l) => `${l.account}:${l.auctionBlock}`);
    assert.equal(new Set(keys).size, keys.length);
    assert.deepEqual(stats.liquidations.map((l) => l.account).sort(), [...flagged].sort());
    assert.ok(stats.rpcCalls > 0);
  });
});
