import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import * as viem from "viem";
import { parseUnits } from "viem";
import * as viemAccounts from "viem/accounts";

import { deployPledge } from "../../deploy/deployPledge.js";
import { sdkWorld } from "./helpers/world.js";
import { writeAddressBook } from "../../deploy/lib/addressBook.js";
import * as sdkEthers from "../../packages/sdk/src/ethers/index.js";
import * as sdk from "../../packages/sdk/src/index.js";
import { type Documented, MODULES, SDK_ENTRIES, documentedExports, toFunctionBody } from "./jsdocExamples.js";

const WAD = 10n ** 18n;
const usdc = (amount: string) => parseUnits(amount, 6);

/**
 * The state an example starts from, by the documented name; everything else starts from the
 * base scene. Each variant is built once and restored from an EVM snapshot.
 */
const VARIANT_OF: Readonly<Record<string, Variant>> = {
  startAuction: "underwater",
  previewBid: "underwater",
  bid: "underwater",
  bidMany: "underwater",
  getAuctionClock: "auction",
  findSettlementRound: "expired",
  findFallbackRound: "expired",
  postSettlementPrice: "expired",
  settle: "settleable",
  settleBatch: "settleable",
  retireExpired: "expired",
  previewBidFromState: "underwater",
};
type Variant = "base" | "underwater" | "auction" | "expired" | "settleable";

/** Kinds a reader calls, so each needs an example; consts and enums are run when they have one. */
const NEEDS_EXAMPLE = new Set<Documented["kind"]>(["function", "class", "method"]);

const AsyncFunction = (async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

/**
 * Issue 13: every public SDK function has a JSDoc example, and every example runs. Examples are
 * documentation first; this test runs them against one deployment, with the scene names of the
 * convention in scope, so that none goes stale.
 */
describe("SDK JSDoc examples", async () => {
  // Every entry point's exports; one re-exported by another entry (`PledgeError`) runs once.
  const modules: Readonly<Record<string, Record<string, unknown>>> = {
    "@pledge/sdk": sdk,
    "@pledge/sdk/ethers": sdkEthers,
  };
  assert.deepEqual(Object.keys(modules).sort(), Object.keys(SDK_ENTRIES).sort(), "load every entry point");
  const seen = new Set<string>();
  const documented = Object.keys(SDK_ENTRIES)
    .flatMap((entry) => documentedExports(entry))
    .filter((d) => !seen.has(d.location) && seen.add(d.location));

  it("exist for every public function, class and method", () => {
    const missing = documented.filter((d) => NEEDS_EXAMPLE.has(d.kind) && d.examples.length === 0);
    assert.deepEqual(
      missing.map((d) => `${d.name} (${d.location})`),
      [],
      "add an @example to each of these",
    );
  });

  // ---------------------------------------------------------------- the scene
  const { contracts, addressBook, publicClient, testClient, admin, makerWallet, takerWallet, keeperWallet } =
    await sdkWorld();

  const maker = sdk.getAccountId(makerWallet, { subId: 1n });
  const taker = sdk.getAccountId(takerWallet, { subId: 1n });
  const bidderAccount = sdk.getAccountId(keeperWallet, { subId: 1n });
  const now = (await publicClient.getBlock()).timestamp;
  const expiry = sdk.expiryAfter(now, 7);
  const series = { underlyingIndex: 2, expiry, isCall: true, strikeWad: 66_000n * WAD }; // WBTC
  const { result: seriesId } = await sdk.createSeries(admin, { publicClient, addressBook, series });
  for (const [wallet, account, amount] of [
    [makerWallet, maker, usdc("30000")],
    [takerWallet, taker, usdc("50000")],
    [keeperWallet, bidderAccount, usdc("200000")],
  ] as const) {
    await contracts.usdc.write.mint([wallet.account.address, amount + usdc("10000")]);
    await contracts.weth.write.mint([wallet.account.address, 10n * WAD]);
    await contracts.wbtc.write.mint([wallet.account.address, parseUnits("1", 8)]);
    await sdk.deposit(wallet, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
  }
  // The maker offers two calls and the taker has bought half of one: a position each, and an open order.
  const signed = await sdk.signOrder(makerWallet, {
    addressBook,
    order: {
      account: maker,
      seriesId,
      size: -2n * WAD,
      priceWad: 1_000n * WAD,
      taker: 0n,
      nonce: 1n,
      deadline: now + 3n * 86_400n,
    },
  });
  await sdk.fillOrder(takerWallet, {
    publicClient,
    addressBook,
    signedOrder: signed,
    takerAccount: taker,
    fillSize: WAD / 2n,
  });

  // The deployed vol-surface oracle holds a WETH smile for `expiry`, signed by two of its three
  // signers (the node's first three accounts: admin and maker among them).
  const surfacePost: sdk.VolSurfacePost = {
    underlying: contracts.weth.address,
    timestamp: now,
    surfaces: [
      {
        expiry,
        a: 2n * 10n ** 16n,
        b: 10n ** 17n,
        rho: -3n * 10n ** 17n,
        m: 0n,
        sigma: 2n * 10n ** 17n,
        confidence: WAD,
      },
    ],
  };
  const surfaceTyped = sdk.volSurfaceTypedData(
    await publicClient.getChainId(),
    contracts.volSurface.address,
    surfacePost,
  );
  const surfaceSigners = [admin, makerWallet].sort((x, y) =>
    BigInt(x.account.address) < BigInt(y.account.address) ? -1 : 1,
  );
  const surfaceSignatures: `0x${string}`[] = [];
  for (const w of surfaceSigners)
    surfaceSignatures.push(await w.signTypedData({ ...surfaceTyped, account: w.account }));
  await contracts.volSurface.write.post([surfacePost, surfaceSignatures]);

  // Examples run in a folder holding ./deployments/<chainId>.json, as `npm run deploy` leaves it.
  const workdir = await mkdtemp(path.join(tmpdir(), "pledge-examples-"));
  await writeAddressBook(addressBook, path.join(workdir, "deployments"));

  const scope: Record<string, unknown> = {
    publicClient,
    walletClient: makerWallet,
    makerWallet,
    takerWallet,
    keeperWallet,
    addressBook,
    account: maker,
    maker,
    taker,
    takerAccount: taker,
    bidderAccount,
    seriesId,
    expiry,
    now,
    weth: contracts.weth.address,
    wbtc: contracts.wbtc.address,
    usdc: contracts.usdc.address,
    ethUsdFeed: contracts.ethUsd.address,
    btcUsdFeed: contracts.btcUsd.address,
    signed,
    signedOrder: signed,
    order: signed.order,
    amount: usdc("1"),
  };

  // ---------------------------------------------------------------- the variants
  // Reverting to a snapshot drops every later one, so a variant is replayed on the base scene
  // (a few transactions) rather than kept in a snapshot of its own.
  async function underwater(): Promise<void> {
    // A BTC rally leaves the maker's short calls below maintenance.
    let btc = 60_000n * 10n ** 8n;
    for (;;) {
      const [state] = await sdk.getAccountMargin(publicClient, { addressBook, accounts: [maker] });
      if (state!.health >= sdk.Health.LIQUIDATABLE) return;
      btc = (btc * 5n) / 4n;
      await contracts.btcUsd.write.updateAnswer([btc]);
    }
  }
  async function expired(): Promise<void> {
    // Past expiry, with a round of each spot feed on either side of it.
    const spot = [contracts.ethUsd, contracts.btcUsd];
    await testClient.setNextBlockTimestamp({ timestamp: expiry - 60n });
    for (const feed of spot) await feed.write.updateAnswer([await feed.read.latestAnswer()]);
    await testClient.setNextBlockTimestamp({ timestamp: expiry + 60n });
    for (const feed of [...spot, contracts.ethVol, contracts.btcVol]) {
      await feed.write.updateAnswer([((await feed.read.latestAnswer()) * 101n) / 100n]);
    }
  }
  const VARIANTS: Readonly<Record<Variant, () => Promise<void>>> = {
    base: async () => {},
    underwater,
    auction: async () => {
      await underwater();
      await sdk.startAuction(keeperWallet, { publicClient, addressBook, account: maker });
    },
    expired,
    settleable: async () => {
      await expired();
      await sdk.postSettlementPrice(keeperWallet, { publicClient, addressBook, asset: contracts.wbtc.address, expiry });
    },
  };

  let base = await testClient.snapshot();
  /** Back to the base scene (reverting consumes the snapshot, so it is taken again), then `variant`. */
  async function restore(variant: Variant): Promise<void> {
    await testClient.revert({ id: base });
    base = await testClient.snapshot();
    await VARIANTS[variant]();
  }

  // ---------------------------------------------------------------- the examples
  const quiet = { ...console, log() {}, info() {}, warn() {}, error() {} };
  for (const entry of documented) {
    entry.examples.forEach((example, i) => {
      const title = entry.examples.length > 1 ? `${entry.name} (example ${i + 1})` : entry.name;
      it(title, async () => {
        await restore(VARIANT_OF[entry.name] ?? VARIANT_OF[entry.exportName] ?? "base");
        // The main entry's exports and its own entry's are in scope, and the documented export
        // under its own name even where a scene name shadows it.
        const own = modules[entry.entry]!;
        const values: Record<string, unknown> = {
          ...sdk,
          ...own,
          ...scope,
          [entry.exportName]: own[entry.exportName],
          assert,
          console: quiet,
          // Examples may also import from viem (a signer's key, a typed-data hash).
          [MODULES]: { ...modules, viem, "viem/accounts": viemAccounts },
        };
        const body = toFunctionBody(example, (name) => name in values);
        const run = new AsyncFunction(...Object.keys(values), `{\n${body}\n}`);
        const cwd = process.cwd();
        process.chdir(workdir);
        try {
          await run(...Object.values(values));
        } finally {
          process.chdir(cwd);
        }
      });
    });
  }
});
