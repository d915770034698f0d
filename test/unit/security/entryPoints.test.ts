import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

/** A file of the repository, whatever the working directory. */
const repo = (file: string) => new URL(`../../../${file}`, import.meta.url);

/*
 * docs/security.md's reentrancy row claims every entry point that moves tokens, cash or positions
 * for a caller is `nonReentrant`, and names the unguarded state-changing ones with why none can be
 * re-entered to effect. This reads the sources of the contracts that hold or move value and checks
 * the claim both ways: an unguarded external or public function that is not role-gated must be on
 * the list below (so a new one fails here until it is guarded or argued for), and every name on it
 * must be named in the row (so the docs say why).
 */
const CONTRACTS = [
  "vault/CollateralVault.sol",
  "market/OptionMarket.sol",
  "liquidation/Liquidator.sol",
  "liquidation/Backstop.sol",
  "liquidation/InsuranceFund.sol",
];

/** Unguarded and not role-gated in the source, each for the reason given. */
const ARGUED: Record<string, string> = {
  setOperator: "writes one approval flag of the caller's own and calls nothing",
  retireExpired: "reads only the market's own views and clears the book of expired series",
  setFees: "role-checked in MarketLimits, which the market delegates to",
  setOpenInterestCaps: "role-checked in MarketLimits, which the market delegates to",
  bidStep: "callable only by the liquidator itself, inside bidMany's guard",
  onAccountChanged: "the account hook: only ends an auction",
  payFromFund: "the liquidator only, inside its bid",
  simulateTakeover: "callable only by the backstop itself, inside the takeover's guard",
  deleverageStep: "callable only by the backstop itself, inside the deleverage's guard",
};

interface EntryPoint {
  contract: string;
  name: string;
  guarded: boolean;
  role: string | undefined;
}

/** External and public functions that are neither view nor pure, with their guard and role. */
function stateChangingEntryPoints(file: string): EntryPoint[] {
  const source = readFileSync(repo(`contracts/${file}`), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/[^\n]*/g, "");
  const found: EntryPoint[] = [];
  for (const [, name, modifiers] of source.matchAll(/function\s+(\w+)\s*\([^)]*\)([^{;]*)[{;]/g)) {
    if (!/\b(external|public)\b/.test(modifiers!) || /\b(view|pure)\b/.test(modifiers!)) continue;
    found.push({
      contract: file,
      name: name!,
      guarded: /\bnonReentrant\b/.test(modifiers!),
      role: /\bonlyRole\(([^)]*)\)/.exec(modifiers!)?.[1],
    });
  }
  return found;
}

describe("reentrancy guards of the contracts that move value", () => {
  const entryPoints = CONTRACTS.flatMap(stateChangingEntryPoints);

  it("finds the entry points (the reading is not vacuous)", () => {
    const guarded = entryPoints.filter((e) => e.guarded).map((e) => e.name);
    for (const name of [
      "deposit",
      "withdraw",
      "fill",
      "transferPositions",
      "settle",
      "bid",
      "bidMany",
      "startAuction",
    ]) {
      assert.ok(guarded.includes(name), `${name} is found and guarded`);
    }
  });

  it("every unguarded one is role-gated or argued for", () => {
    const loose = entryPoints.filter((e) => !e.guarded && e.role === undefined).map((e) => `${e.contract}:${e.name}`);
    const unargued = loose.filter((id) => ARGUED[id.split(":")[1]!] === undefined);
    assert.deepEqual(unargued, [], "guard these, or argue for them here and in docs/security.md");
    // Each argued name still exists unguarded (a stale entry would hide a new function of that name).
    for (const name of Object.keys(ARGUED)) {
      assert.ok(
        loose.some((id) => id.endsWith(`:${name}`)),
        `${name} is no longer an unguarded entry point: take it off the list`,
      );
    }
  });

  it("the role-gated delegations check their role in MarketLimits", () => {
    const limits = readFileSync(repo("contracts/market/MarketLimits.sol"), "utf8");
    for (const name of ["setFees", "setOpenInterestCaps"]) {
      const body = new RegExp(`function ${name}\\([^)]*\\)[^{]*\\{([^}]*)`).exec(limits)?.[1] ?? "";
      assert.match(body, /_checkRole\(Roles\.RISK_MANAGER_ROLE\)/, `${name} checks the risk manager's role`);
    }
  });

  it("docs/security.md names every argued entry point and every module call", () => {
    const docs = readFileSync(repo("docs/security.md"), "utf8");
    const row =
      docs.split("\n").find((line) => line.startsWith("| every external entry point that a user or a keeper")) ?? "";
    const moduleCalls = entryPoints.filter((e) => !e.guarded && e.role === "Roles.MODULE_ROLE").map((e) => e.name);
    for (const name of [...Object.keys(ARGUED), ...moduleCalls.filter((n) => !n.startsWith("module"))]) {
      assert.ok(row.includes(`\`${name}\``) || row.includes(`.${name}\``), `the reentrancy row names ${name}`);
    }
  });
});
