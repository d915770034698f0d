import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { privateKeyToAccount } from "viem/accounts";
import {
  MathError,
  signVolSurfacePost,
  sviAllowedChangeRatioOver,
  sviCarriedConfidence,
  sviCheckCalendar,
  sviCheckChange,
  type VolSurfacePost,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const WETH = "0x00000000000000000000000000000000000000e7" as const;

/**
 * Regressions from review rv17b's `rv17b.gas-sdk.test.ts`: the gas of a post between two posted
 * expiries (G3, issue 17's 120k cap), the SDK's allowance and carried confidence at their edges,
 * and the SDK refusing the G1 repros exactly as the chain does.
 */
describe("rv17b: gas between two expiries, SDK edge parity", async () => {
  const { viem, networkHelpers } = await network.create();
  const publicClient = await viem.getPublicClient();
  const [admin] = await viem.getWalletClients();
  const signers = [1, 2, 3].map((i) => privateKeyToAccount(`0x${String(i).repeat(64)}` as `0x${string}`));
  const oracle = await viem.deployContract("VolSurfaceOracle", [
    admin!.account.address,
    signers.map((s) => s.address),
    2n,
    4n * WAD,
  ]);
  await oracle.write.setUnderlying([WETH, true]);
  const harness = await viem.deployContract("SviHarness");
  const chainId = await publicClient.getChainId();

  const post = async (timestamp: bigint, expiry: bigint, level: bigint) => {
    const p: VolSurfacePost = {
      underlying: WETH,
      timestamp,
      surfaces: [
        {
          expiry,
          a: (2n * level) / 100n,
          b: level / 10n,
          rho: -3n * 10n ** 17n,
          m: 0n,
          sigma: WAD / 5n,
          confidence: WAD,
        },
      ],
    };
    const { signatures } = await signVolSurfacePost({
      signers: signers.slice(0, 2),
      oracle: oracle.address,
      chainId,
      post: p,
    });
    const hash = await oracle.write.post([p, signatures]);
    return (await publicClient.waitForTransactionReceipt({ hash })).gasUsed;
  };

  /** G3 (was "measures a post between two posted expiries", 136,002 and 141,665 on a24589f). */
  it("a post between two posted expiries, first and update, costs ≤ 120k gas (G3 fixed)", async () => {
    const now = BigInt(await networkHelpers.time.latest());
    const day = now / 86400n;
    const e = (d: bigint) => (day + d) * 86400n + 8n * 3600n;
    const gFirst = await post(now, e(30n), WAD);
    const gBeside = await post(now, e(32n), (12n * WAD) / 10n);
    const gBetween = await post(now, e(31n), (11n * WAD) / 10n);
    await networkHelpers.time.increase(600);
    const t1 = BigInt(await networkHelpers.time.latest());
    const gBetweenUpdate = await post(t1, e(31n), (112n * WAD) / 100n);
    await networkHelpers.time.increase(3600);
    const t2 = BigInt(await networkHelpers.time.latest());
    const gBetweenUpdateHour = await post(t2, e(31n), (115n * WAD) / 100n);
    console.log(
      `    first ${gFirst}, first beside one ${gBeside}, first between two ${gBetween}, ` +
        `update between two (10 min, power) ${gBetweenUpdate}, update between two (1 h) ${gBetweenUpdateHour}`,
    );
    for (const [name, gas] of [
      ["first", gFirst],
      ["first beside one", gBeside],
      ["first between two", gBetween],
      ["update between two (10 min)", gBetweenUpdate],
      ["update between two (1 h)", gBetweenUpdateHour],
    ] as const)
      assert.ok(gas <= 120_000n, `${name}: ${gas} > 120k`);
  });

  it("SDK allowance and carried confidence equal the chain at the edges", async () => {
    const elapsed = [0n, 1n, 2n, 59n, 1799n, 3599n, 3600n, 3601n, 2n ** 40n - 1n];
    const ratios = [11n * 10n ** 17n, 4n * WAD, 16n * WAD];
    const confs = [0n, 25n * 10n ** 16n, 25n * 10n ** 16n + 10n ** 9n, 5n * 10n ** 17n, WAD];
    for (const r of ratios)
      for (const c of confs)
        for (const t of elapsed) {
          assert.equal(
            sviAllowedChangeRatioOver(r, c, t),
            await harness.read.allowedChangeRatioOver([r, c, t]),
            `${r} ${c} ${t}`,
          );
          for (const prev of [0n, WAD - 10n ** 9n, WAD])
            assert.equal(sviCarriedConfidence(prev, c, t), await harness.read.carriedConfidence([prev, c, t]));
        }
  });

  /** G1 (was "SDK vertex checks agree with the chain on the rv17b skewed repros (both accept)"). */
  it("SDK and chain both refuse the rv17b G1 repros, with the same error", async () => {
    const p0 = { a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n };
    const chg = {
      a: -58185805600000000n,
      b: 384679502800000000n,
      rho: -503983850000000000n,
      m: 0n,
      sigma: 177773458800000000n,
    };
    const cal = {
      a: -172125014700000000n,
      b: 1313961967200000000n,
      rho: 484061220000000000n,
      m: 0n,
      sigma: 161743657900000000n,
    };
    const ts = (f: () => void) => {
      try {
        f();
        return "ok";
      } catch (e) {
        assert.ok(e instanceof MathError);
        return e.signature.slice(0, e.signature.indexOf("("));
      }
    };
    const chain = async (call: Promise<unknown>) => {
      try {
        await call;
        return "ok";
      } catch (e) {
        return /(Svi\w+)/.exec(String(e))?.[1] ?? "unknown";
      }
    };
    assert.equal(
      ts(() => sviCheckChange(p0, chg, 4n * WAD, 30n * 86400n, 30n * 86400n - 3600n)),
      "SviChangeWingTooLarge",
    );
    assert.equal(
      await chain(harness.read.checkChange([p0, chg, 4n * WAD, 30n * 86400n, 30n * 86400n - 3600n])),
      "SviChangeWingTooLarge",
    );
    assert.equal(
      ts(() => sviCheckCalendar(p0, cal)),
      "SviCalendarArbitrage",
    );
    assert.equal(await chain(harness.read.checkCalendar([p0, cal])), "SviCalendarArbitrage");
  });
});
