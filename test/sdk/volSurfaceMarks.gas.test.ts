import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";

import { measureSurfaceMarksGas } from "../../scripts/lib/surfaceMarksGas.js";

/**
 * Issue 17's gas bounds for part 2 (`docs/vol-surface.md`, "Marks and margin", "Cost"), on the
 * deployed (IR-compiled) engine, on the same book before and after the surface is wired and FRESH
 * (`scripts/lib/surfaceMarksGas.ts`, also bench/gas.json's rows): reading the surface and pricing
 * one series costs at most 5,000 gas more than the flat-vol mark (it costs less: the vol feed is
 * not read), and the standard check of a 16-position book (2 expiries × 8 strikes) rises by at
 * most 25 % (the engine reads each expiry's surface once per check and evaluates the smile itself).
 */
describe("vol-surface marks: gas", async () => {
  const connection = await network.create();

  it("a FRESH surface mark costs ≤ 5,000 gas more than the flat one; a 16-position check ≤ 25 % more", async () => {
    const { flat, surface } = await measureSurfaceMarksGas(connection);
    console.log(
      `mark: flat ${flat.mark}, surface ${surface.mark} (${surface.mark - flat.mark}); ` +
        `accountMargin, 16 positions: flat ${flat.margin}, surface ${surface.margin} ` +
        `(+${(((surface.margin - flat.margin) / flat.margin) * 100).toFixed(1)} %)`,
    );
    assert.ok(surface.mark - flat.mark <= 5_000, `mark +${surface.mark - flat.mark} gas`);
    assert.ok(surface.margin <= flat.margin * 1.25, `margin ${flat.margin} → ${surface.margin}`);
  });
});
