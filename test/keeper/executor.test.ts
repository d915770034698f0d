import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { network } from "hardhat";
import { type Hash, createPublicClient, custom } from "viem";

import { type Fees, bumpFees, createSender } from "../../packages/keeper/src/executor.js";
import { Outcome } from "../../packages/keeper/src/index.js";

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function chain() {
  const connection = await network.create();
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const [deployer, keeperWallet] = await connection.viem.getWalletClients();
  if (!deployer || !keeperWallet) throw new Error("wallets");
  const token = await connection.viem.deployContract("MockERC20", ["Token", "TKN", 6]);
  return { publicClient, testClient, keeperWallet, token };
}

/** A sender for the keeper's wallet at fixed test caps (1e12 / 1e10 wei), with `extra` options. */
function testSender(
  publicClient: unknown,
  walletClient: unknown,
  extra: Omit<
    Parameters<typeof createSender>[0],
    "publicClient" | "walletClient" | "maxFeePerGas" | "maxPriorityFeePerGas"
  > = {},
) {
  return createSender({
    publicClient: publicClient as never,
    walletClient: walletClient as never,
    maxFeePerGas: 10n ** 12n,
    maxPriorityFeePerGas: 10n ** 10n,
    ...extra,
  });
}

describe("keeper sender", () => {
  it("bumpFees raises both fields by at least 12.5 % and stops at the cap", () => {
    const cap: Fees = { maxFeePerGas: 100n, maxPriorityFeePerGas: 10n };
    assert.deepEqual(bumpFees({ maxFeePerGas: 80n, maxPriorityFeePerGas: 8n }, cap), {
      maxFeePerGas: 90n,
      maxPriorityFeePerGas: 9n,
    });
    // Rounded up, and at least one wei.
    assert.deepEqual(bumpFees({ maxFeePerGas: 9n, maxPriorityFeePerGas: 0n }, cap), {
      maxFeePerGas: 11n,
      maxPriorityFeePerGas: 1n,
    });
    assert.equal(bumpFees({ maxFeePerGas: 90n, maxPriorityFeePerGas: 1n }, cap), undefined);
    assert.equal(bumpFees({ maxFeePerGas: 10n, maxPriorityFeePerGas: 9n }, cap), undefined);
  });
});

describe("keeper sender against the in-process chain (automine off)", () => {
  it("finding 13: a guard sees the simulated gas and the fees and can refuse the send; nothing is signed", async () => {
    const { publicClient, keeperWallet, token } = await chain();
    const address = keeperWallet.account.address;
    const sender = testSender(publicClient, keeperWallet);
    const nonce = await publicClient.getTransactionCount({ address });
    let seen: { gas: bigint; fees: Fees } | undefined;
    const refused = await sender.send(token.address, token.abi, "mint", [address, 1n], (gas, fees) => {
      seen = { gas, fees };
      return "BidUnprofitableAfterGas";
    });
    assert.equal(refused.outcome, Outcome.GAS_GUARD);
    assert.equal(refused.errorName, "BidUnprofitableAfterGas");
    assert.ok(seen !== undefined && seen.gas > 21_000n && seen.fees.maxFeePerGas > 0n);
    assert.equal(await publicClient.getTransactionCount({ address, blockTag: "pending" }), nonce, "nothing sent");
    const accepted = await sender.send(token.address, token.abi, "mint", [address, 1n], () => undefined);
    assert.equal(accepted.outcome, Outcome.SENT);
    assert.equal(accepted.nonce, nonce);
  });

  it("with a planned limit, simulates once at it (eth_call, no eth_estimateGas) and sends with it; too small a plan falls back to the search", async () => {
    const { publicClient, keeperWallet, token } = await chain();
    const address = keeperWallet.account.address;
    const calls = new Map<string, number>();
    const counted = createPublicClient({
      chain: publicClient.chain,
      transport: custom({
        request: (args: { method: string; params?: unknown[] }) => {
          calls.set(args.method, (calls.get(args.method) ?? 0) + 1);
          return publicClient.request(args as never);
        },
      }),
    });
    const sender = testSender(counted, keeperWallet);
    const limits: bigint[] = [];
    const guard = (_gas: bigint, _fees: Fees, limit: bigint, planned: boolean) => {
      limits.push(planned ? limit : -limit);
      return undefined;
    };
    const planned = await sender.send(token.address, token.abi, "mint", [address, 1n], guard, undefined, {
      limit: 200_000n,
    });
    assert.equal(planned.outcome, Outcome.SENT);
    assert.equal((await publicClient.getTransaction({ hash: planned.hashes![0]! })).gas, 200_000n);
    assert.deepEqual([calls.get("eth_call"), calls.get("eth_estimateGas")], [1, undefined]);
    assert.deepEqual(limits, [200_000n]);

    // 25,000 gas cannot run a mint: the one execution fails, the search finds the limit.
    const fallback = await sender.send(token.address, token.abi, "mint", [address, 1n], guard, undefined, {
      limit: 25_000n,
    });
    assert.equal(fallback.outcome, Outcome.SENT);
    assert.equal(calls.get("eth_estimateGas"), 1);
    const sentWith = (await publicClient.getTransaction({ hash: fallback.hashes![0]! })).gas;
    assert.ok(sentWith > 25_000n && limits[1] === -sentWith, `sent with ${sentWith}, guard saw ${limits[1]}`);
  });

  it("session 46: GasPlan.headroom goes on top of the planned limit, and of the search's estimate × 1.3 when the plan falls back", async () => {
    const { publicClient, keeperWallet, token } = await chain();
    const address = keeperWallet.account.address;
    const sender = testSender(publicClient, keeperWallet);
    const headroom = 12_345n;
    const seen: { gas: bigint; limit: bigint; planned: boolean }[] = [];
    const guard = (gas: bigint, _fees: Fees, limit: bigint, planned: boolean) => {
      seen.push({ gas, limit, planned });
      return undefined;
    };
    const sentWith = async (result: { hashes?: Hash[] | undefined }) =>
      (await publicClient.getTransaction({ hash: result.hashes![0]! })).gas;

    // The plan's eth_call passes at 200,000: sent with the limit and the headroom on top.
    const planned = await sender.send(token.address, token.abi, "mint", [address, 1n], guard, undefined, {
      limit: 200_000n,
      headroom,
    });
    assert.equal(planned.outcome, Outcome.SENT);
    assert.equal(await sentWith(planned), 200_000n + headroom);
    assert.deepEqual(seen[0], { gas: 200_000n, limit: 200_000n + headroom, planned: true });

    // 25,000 gas cannot run a mint: the call runs out of gas, the search finds the gas, and the
    // send goes out with it + 30 %, and the headroom on top.
    const fallback = await sender.send(token.address, token.abi, "mint", [address, 1n], guard, undefined, {
      limit: 25_000n,
      headroom,
    });
    assert.equal(fallback.outcome, Outcome.SENT);
    const { gas: estimate, limit, planned: fromPlan } = seen[1]!;
    assert.ok(!fromPlan && estimate > 25_000n, `searched: ${estimate}`);
    assert.equal(await sentWith(fallback), (estimate * 13n) / 10n + headroom);
    assert.equal(limit, (estimate * 13n) / 10n + headroom, "the guard sees the limit sent with");
  });

  it("sends a tick's transactions back to back with consecutive nonces; they land in one block", async () => {
    const { publicClient, testClient, keeperWallet, token } = await chain();
    const address = keeperWallet.account.address;
    const sender = testSender(publicClient, keeperWallet, { replaceAfterBlocks: 100 });
    await testClient.setAutomine(false);
    const first = await publicClient.getTransactionCount({ address });
    const sends = [1n, 2n, 3n].map((amount) => sender.send(token.address, token.abi, "mint", [address, amount]));
    // All three reach the mempool before anything is mined.
    while ((await publicClient.getTransactionCount({ address, blockTag: "pending" })) < first + 3) await pause(10);
    await testClient.mine({ blocks: 1 });
    const results = await Promise.all(sends);
    assert.deepEqual(
      results.map((r) => r.outcome),
      [Outcome.SENT, Outcome.SENT, Outcome.SENT],
    );
    assert.deepEqual(
      results.map((r) => r.nonce),
      [first, first + 1, first + 2],
    );
    assert.equal(new Set(results.map((r) => r.receipt!.blockNumber)).size, 1, "one block");
    assert.equal(await token.read.balanceOf([address]), 6n);
  });

  it("re-sends a stuck transaction with the same nonce and bumped fees, up to the cap; exactly one mines", async () => {
    const { publicClient, testClient, keeperWallet, token } = await chain();
    const address = keeperWallet.account.address;
    const estimate = await publicClient.estimateFeesPerGas();
    // Room for a few bumps of 12.5 %, not many.
    const cap: Fees = { maxFeePerGas: (estimate.maxFeePerGas * 16n) / 10n, maxPriorityFeePerGas: 10n ** 11n };
    const replaced: { nonce: number; hash: Hash; replaced: Hash; fees: Fees }[] = [];
    let cappedAt: Fees | undefined;
    const sender = createSender({
      publicClient: publicClient as never,
      walletClient: keeperWallet as never,
      maxFeePerGas: cap.maxFeePerGas,
      maxPriorityFeePerGas: cap.maxPriorityFeePerGas,
      replaceAfterBlocks: 1,
      pollIntervalMs: 5,
      onReplaced: (event) => replaced.push(event),
      onFeeCap: (event) => (cappedAt = event.fees),
    });
    await testClient.setAutomine(false);
    const nonceBefore = await publicClient.getTransactionCount({ address });
    const pending = sender.send(token.address, token.abi, "mint", [address, 7n]);
    while ((await publicClient.getTransactionCount({ address, blockTag: "pending" })) === nonceBefore) await pause(5);
    // Blocks whose base fee is above the cap: nothing this sender may pay gets in.
    for (let blocks = 0; cappedAt === undefined; blocks++) {
      assert.ok(blocks < 200, "the sender never reached the cap");
      await testClient.setNextBlockBaseFeePerGas({ baseFeePerGas: cap.maxFeePerGas + 1n });
      await testClient.mine({ blocks: 1 });
      await pause(20);
    }
    assert.equal(await publicClient.getTransactionCount({ address }), nonceBefore, "nothing mined while stuck");
    // The fee market calms down: one block includes the last version.
    await testClient.setNextBlockBaseFeePerGas({ baseFeePerGas: 1n });
    await testClient.mine({ blocks: 1 });
    const result = await pending;

    assert.equal(result.outcome, Outcome.SENT);
    assert.equal(result.nonce, nonceBefore);
    assert.ok(replaced.length >= 2, `only ${replaced.length} replacements`);
    assert.deepEqual(result.hashes, [replaced[0]!.replaced, ...replaced.map((r) => r.hash)]);
    let previous: Fees | undefined;
    for (const event of replaced) {
      assert.equal(event.nonce, nonceBefore, "same nonce");
      assert.ok(
        event.fees.maxFeePerGas <= cap.maxFeePerGas && event.fees.maxPriorityFeePerGas <= cap.maxPriorityFeePerGas,
      );
      if (previous !== undefined) {
        assert.ok(event.fees.maxFeePerGas * 8n >= previous.maxFeePerGas * 9n, "max fee +12.5 %");
        assert.ok(event.fees.maxPriorityFeePerGas * 8n >= previous.maxPriorityFeePerGas * 9n, "tip +12.5 %");
      }
      previous = event.fees;
    }
    assert.deepEqual(cappedAt, previous, "stopped at the last fees under the cap");
    assert.equal(bumpFees(cappedAt!, cap), undefined);
    // Exactly one version mined: the last, at the bumped fees; the nonce moved by one.
    assert.equal(result.receipt!.transactionHash, result.hashes!.at(-1));
    const mined = await publicClient.getTransaction({ hash: result.receipt!.transactionHash });
    assert.equal(mined.nonce, nonceBefore);
    assert.equal(mined.maxFeePerGas, previous!.maxFeePerGas);
    for (const hash of result.hashes!.slice(0, -1)) {
      await assert.rejects(publicClient.getTransactionReceipt({ hash }), /could not be found/);
    }
    assert.equal(await publicClient.getTransactionCount({ address }), nonceBefore + 1);
    assert.equal(await token.read.balanceOf([address]), 7n);
  });
});
