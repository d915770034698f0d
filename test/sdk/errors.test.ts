import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { AbiParameter } from "viem";

import {
  type AddressBook,
  Health,
  PledgeError,
  type PledgeErrorArgs,
  type PledgeErrorName,
  accountId,
  decodePledgeError,
  formatTimestamp,
  healthName,
  pledgeErrorAbi,
  seriesId,
} from "../../packages/sdk/src/index.js";
import { encodeErrorResult, keccak256, toBytes } from "viem";

const WAD = 10n ** 18n;
const account = accountId("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1n);
const hash = `0x${"ab".repeat(32)}` as const;

const WBTC = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const USDC = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const addressBook = {
  cash: { address: USDC, symbol: "USDC", decimals: 6 },
  collateral: [{ address: WBTC, symbol: "WBTC", decimals: 8 }],
} as unknown as AddressBook;
const series = seriesId({ underlyingIndex: 1, expiry: 1_767_254_400n, isCall: true, strikeWad: 60_000n * WAD });

function message<name extends PledgeErrorName>(
  errorName: name,
  args: PledgeErrorArgs<name>,
  book?: AddressBook,
): string {
  return new PledgeError({ errorName, args, data: "0x", addressBook: book }).message;
}

/** A plausible value for one ABI input, chosen by its type and name. */
function sample(input: AbiParameter): unknown {
  const name = input.name ?? "";
  if (input.type === "tuple") {
    const components = (input as { components: readonly AbiParameter[] }).components;
    return Object.fromEntries(components.map((c) => [c.name, sample(c)]));
  }
  if (input.type === "address")
    return name === "asset" || name === "token" ? WBTC : "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
  if (input.type === "bytes32") return hash;
  if (input.type === "string") return "a name longer than thirty-one bytes";
  if (input.type === "uint8") return name === "health" ? Health.LIQUIDATABLE : 40;
  if (input.type === "uint16") return 3;
  if (input.type === "uint80") return (1n << 64n) + 7n;
  if (/account|from|to|taker/i.test(name) && input.type === "uint256") return account;
  if (/seriesId/.test(name)) return series;
  if (/gracePeriod|maxAge|Delay/.test(name)) return 3_600n;
  if (/expiry|deadline|updatedAt|upSince|opensAt/.test(name)) return 1_767_254_400n;
  if (input.type.startsWith("int")) return -3n * WAD;
  return 2n * WAD;
}

/** Issue 13, "errors that read like sentences": what a trader reads when a call reverts. */
describe("SDK error messages", () => {
  it("name health values", () => {
    assert.equal(healthName(Health.HEALTHY), "HEALTHY");
    assert.equal(healthName(Health.MARGIN_CALL), "MARGIN_CALL");
    assert.equal(healthName(Health.LIQUIDATABLE), "LIQUIDATABLE");
    assert.equal(healthName(Health.INSOLVENT), "INSOLVENT");
    assert.match(message("LiquidatorAccountHealthy", [account, Health.MARGIN_CALL]), /its health is MARGIN_CALL;/);
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
    assert.match(message("MarketOverfill", [hash, 0n, WAD]), /is already filled; ask its maker for a new one$/);
    assert.match(
      message("MarketOverfill", [hash, WAD / 2n, WAD]),
      /has 0\.5 contracts left, fewer than the 1 requested/,
    );
    assert.match(message("VaultZeroAmount", []), /^The amount is zero/);
    assert.match(message("MarketInvalidSignature", [hash]), /is not signed by its account's owner/);
  });

  it("give every Pledge error a sentence, not the Name(arg=…) fallback", () => {
    assert.equal(pledgeErrorAbi.length >= 123, true);
    for (const item of pledgeErrorAbi) {
      const args = item.inputs.map(sample) as unknown as PledgeErrorArgs;
      for (const book of [undefined, addressBook]) {
        const text = message(item.name, args, book);
        assert.doesNotMatch(text, new RegExp(`^${item.name}\\(`), item.name);
        assert.doesNotMatch(text, /undefined|NaN|\[object/, `${item.name}: ${text}`);
        assert.match(text, /^[A-Z0-9"]|^0x|^renounceRole/, `${item.name} starts a sentence: ${text}`);
      }
    }
  });

  it("keep the fallback for shapes the ABI does not know", () => {
    const text = new PledgeError({ errorName: "MarketOverfill", args: [hash] as never, data: "0x" }).message;
    assert.equal(text, `MarketOverfill(orderHash=${hash})`);
  });

  it("print token amounts in units with the address book, raw units and address without", () => {
    const args = [account, WBTC, 5_000_000n, 50_000_001n] as const;
    assert.match(
      message("VaultInsufficientBalance", args, addressBook),
      /holds 0\.05 WBTC, less than the 0\.50000001 WBTC requested/,
    );
    assert.match(
      message("VaultInsufficientBalance", args),
      new RegExp(`holds 5000000 base units of ${WBTC}, less than the 50000001 base units of ${WBTC} requested`),
    );
    assert.match(
      message("VaultSupplyCapExceeded", [WBTC, 100_000_000_01n, 100_000_000_00n], addressBook),
      /deposits to 100\.00000001 WBTC, above its supply cap of 100 WBTC/,
    );
    assert.match(
      message("LiquidatorPriceLimit", [1_500_000n, -250_000n], addressBook),
      /would pay 1\.5 USDC, more than your limit of −0\.25 USDC/,
    );
    assert.match(
      message("VaultInsufficientLiquidity", [10n, 11n]),
      /holds 10 cash base units of cash, less than the 11/,
    );
  });

  it("decode revert data with the address book in context", () => {
    const data = encodeErrorResult({
      abi: pledgeErrorAbi,
      errorName: "VaultTransferAmountMismatch",
      args: [USDC, 1_000_000n, 999_999n],
    });
    const decoded = decodePledgeError({ data }, { addressBook });
    assert.match(decoded?.message ?? "", /received 0\.999999 USDC where 1 USDC was sent \(a fee-on-transfer/);
  });

  it("show the two sides of every inequality with enough decimals to differ", () => {
    assert.match(
      message("MarketRiskIncreased", [account, 10n * WAD, 10n * WAD - 1n]),
      /excess over initial margin 10 USD → 9\.999999999999999999 USD/,
    );
    assert.match(
      message("MarketInsufficientPosition", [account, series, 2n * WAD, 2n * WAD + 10n ** 15n]),
      /holds 2 contracts of series call #1 strike 60000 USD expiring 2026-01-01T08:00:00Z .* cannot move 2\.001/,
    );
    assert.match(
      message("OraclePriceOutOfBounds", [WBTC, 1_000_001n * WAD, WAD, 1_000_000n * WAD]),
      /reports 1000001 USD, above its cap of 1000000 USD/,
    );
    assert.match(
      message("OraclePriceOutOfBounds", [WBTC, WAD / 2n, WAD, 9n * WAD]),
      /reports 0\.5 USD, below its floor of 1 USD/,
    );
    assert.match(message("MarketInvalidFees", [6n * 10n ** 15n, 10n ** 16n]), /0\.6% \(maker\) and 1% \(taker\)/);
  });

  it("print dates as ISO 8601 UTC, accounts as owner/subId and roles by name", () => {
    assert.match(
      message("OracleGracePeriodNotOver", [1_767_254_400n, 3_600n]),
      /up since 2026-01-01T08:00:00Z, but its 3600 s grace period is not over; retry after 2026-01-01T09:00:00Z/,
    );
    assert.match(message("MarketSeriesExpired", [series, 1_767_254_400n]), /expired at 2026-01-01T08:00:00Z/);
    assert.match(
      message("MarketWrongTaker", [hash, account]),
      /only by account 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\/1;/i,
    );
    assert.match(
      message("AccessControlUnauthorizedAccount", [WBTC, keccak256(toBytes("pledge.role.guardian"))]),
      /lacks the GUARDIAN_ROLE this call needs/,
    );
    assert.match(message("EngineUnderlyingNotListed", ["0x0000000000000000000000000000000000000000"]), /at that index/);
  });
});
