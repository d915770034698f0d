import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";

import { formatGas, scaleChart } from "../../scripts/lib/scaleChart.js";

const CURVES = {
  standard: [
    [1, 100_000],
    [16, 300_000],
    [128, 1_600_000],
  ],
  portfolio: [
    [1, 280_000],
    [48, 5_700_000],
  ],
} as const;

describe("the gas scale chart (docs/performance.md)", () => {
  it("draws one line per curve, a square per peer and a ring per target", () => {
    const svg = scaleChart(
      "t",
      CURVES,
      [{ curve: "standard", label: "Lyra", positions: 16, gas: 966_000 }],
      [
        { curve: "standard", label: "target", positions: 16, gas: 150_000 },
        { curve: "portfolio", label: "target", positions: 16, gas: 1_200_000 },
      ],
    );
    assert.equal(svg.match(/<path /g)?.length, 2);
    // One square per peer plus the legend's; one hollow ring per target plus the legend's.
    assert.equal(svg.match(/<rect x=/g)?.length, 2);
    assert.equal(svg.match(/fill="none" stroke=[^>]*r="6"|r="6" fill="none"/g)?.length, 3);
    assert.match(svg, /Lyra 966k/);
    // Log axes: 16 positions sits exactly halfway (in log2) between 1 and 256 would; here the
    // x of 16 is 4/7 of the way from 1 to 128.
    const xOf = (n: number) =>
      Number(svg.match(new RegExp(`<text x="([0-9.]+)" y="[0-9.]+" text-anchor="middle">${n}</text>`))![1]);
    assert.ok(Math.abs((xOf(16) - xOf(1)) / (xOf(128) - xOf(1)) - 4 / 7) < 0.01);
  });

  it("refuses an empty curve or a reference to a curve it does not draw", () => {
    assert.throws(() => scaleChart("t", { standard: [] }, [], []), /has no points/);
    assert.throws(
      () => scaleChart("t", CURVES, [{ curve: "renamed", label: "Lyra", positions: 16, gas: 1 }], []),
      /unknown curve "renamed"/,
    );
  });

  it("formats gas in k and M", () => {
    assert.deepEqual(
      [formatGas(950), formatGas(322_000), formatGas(1_630_000), formatGas(24_100_000)],
      ["950", "322k", "1.6M", "24M"],
    );
  });

  it("is drawn from the committed bench/gas.json, every check at 1 to 128 positions", async () => {
    const snapshot = JSON.parse(await readFile(new URL("../../bench/gas.json", import.meta.url), "utf8")) as {
      scaleCurves: Record<string, [number, number][]>;
    };
    for (const [name, curve] of Object.entries(snapshot.scaleCurves)) {
      const sizes = curve.map(([n]) => n);
      const expected = name.startsWith("portfolio") ? [1, 4, 16, 32, 48] : [1, 4, 16, 64, 128];
      assert.deepEqual(sizes, expected, name);
      assert.ok(
        curve.every(([, gas]) => gas > 20_000),
        `${name}: a point below any real check`,
      );
    }
    const doc = await readFile(new URL("../../docs/performance.md", import.meta.url), "utf8");
    const standard16 = snapshot.scaleCurves["standard margin check (engine.accountMargin)"]!.find(
      ([n]) => n === 16,
    )![1];
    assert.ok(
      doc.includes(`| standard margin check, 16 positions | ${standard16.toLocaleString("en-US")} |`),
      "docs/performance.md's table is stale: npm run bench:plot",
    );
    const svg = await readFile(new URL("../../docs/img/gas-scale.svg", import.meta.url), "utf8");
    assert.equal(
      svg.match(/<path /g)?.length,
      Object.keys(snapshot.scaleCurves).length,
      "docs/img/gas-scale.svg is stale: npm run bench:plot",
    );
  });
});
