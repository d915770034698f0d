import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  Health,
  PledgeError,
  type PledgeErrorArgs,
  type PledgeErrorName,
  accountId,
  formatTimestamp,
  healthName,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const account = accountId("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1n);
const hash = `0x${"ab".repeat(32)}` as const;

function message<name extends PledgeErrorName>(errorName: name, args: PledgeErrorArgs<name>): string {
  return new PledgeError({ errorName, args, data: "0x" }).message;
}

/** Issue 13, "errors that read like sentences": what a trader reads when a call reverts. */
describe("SDK error messages", () => {
  it("name health values", () => {
    assert.equal(healthName(Health.HEALTHY), "HEALTHY");
    assert.equal(healthName(Health.MARGIN_CALL), "MARGIN_CALL");
    assert.equal(healthName(Health.LIQUIDATABLE), "LIQUIDATABLE");
    assert.equal(healthName(Health.INSOLVENT), "INSOLVENT");
    assert.match(message("LiquidatorAccountHealthy", [account, Health.MARGIN_CALL]), /its health is MARGIN_CALL$/);
  });

  it("show the two sides of a margin shortfall with enough decimals to differ", () => {
    const text = message("EngineBelowInitialMargin", [account, 300n * WAD - 4n * 10n ** 13n, 300n * WAD]);
    assert.match(text, /equity 299\.99996 USD < requirement 300 USD/);
    assert.match(text, /\/1 is below initial margin/);
  });

  it("print times as ISO 8601 UTC", () => {
    assert.equal(formatTimestamp(1_767_254_400n), "2026-01-01T08:00:00Z");
    assert.match(message("MarketOrderExpired", [hash, 1_767_254_400n]), /expired at 2026-01-01T08:00:00Z/);
  });

  it("say a fully filled order is filled, and a zero amount is zero", () => {
    assert.match(message("MarketOverfill", [hash, 0n, WAD]), /is already filled$/);
    assert.match(
      message("MarketOverfill", [hash, WAD / 2n, WAD]),
      /has 0\.5 contracts left, fewer than the 1 requested/,
    );
    assert.match(message("VaultZeroAmount", []), /^The amount is zero/);
    assert.match(message("MarketInvalidSignature", [hash]), /is not signed by its account's owner/);
  });
});
