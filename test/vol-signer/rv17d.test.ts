/**
 * Review rv17d's signer findings as regressions (repros from test/review/rv17d.signer.test.ts on
 * the review's worktree, asserting the fixed behaviour): B1 an impossible date, B2 a spot or strike
 * beyond the SDK's Black–Scholes domain.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  ExitCode,
  VolSignerError,
  buildPost,
  parseQuotesCsv,
  parseQuotesJson,
} from "../../packages/vol-signer/src/index.js";
import { NOW, WETH, expiryIn } from "./helpers.js";

const header = "underlying,expiry,strike,spot,bid_iv,ask_iv";

describe("rv17d signer findings, fixed", () => {
  it("B1: an impossible date (2023-11-31, 2023-02-29) is refused as an input error, not rolled over", () => {
    for (const day of ["2023-11-31", "2023-02-29", "2023-11-31T08:00Z"]) {
      const rows = [0.8, 0.9, 1, 1.1, 1.2].map((m) => `${WETH},${day},${2000 * m},2000,0.6,0.62`);
      assert.throws(
        () => parseQuotesCsv([header, ...rows].join("\n"), "nov31.csv"),
        (e: unknown) =>
          e instanceof VolSignerError &&
          e.exitCode === ExitCode.INPUT &&
          e.message === `nov31.csv:2: expiry "${day}" is not a date (no such day or time)`,
      );
    }
    // Real dates still parse, a leap day included.
    const ok = parseQuotesCsv(`${header}\n${WETH},2024-02-29,2000,2000,0.6,0.62`, "leap.csv");
    assert.equal(ok[0]!.expiry, BigInt(Date.UTC(2024, 1, 29, 8) / 1000));
  });

  it("B2: a spot or strike beyond the SDK's Black–Scholes domain is refused at parsing, naming the row", () => {
    const expiry = expiryIn(NOW, 30);
    const spot = "20000000000000000000000000"; // 2e25: 2e43 wei > 2**120
    const rows = [0.8, 0.9, 1, 1.1, 1.2].map(
      (m) => `${WETH},${expiry},${(BigInt(spot) * BigInt(m * 10)) / 10n},${spot},0.6,0.62`,
    );
    assert.throws(
      () => buildPost(parseQuotesCsv([header, ...rows].join("\n"), "huge.csv"), { nowSeconds: NOW }),
      (e: unknown) =>
        e instanceof VolSignerError &&
        e.exitCode === ExitCode.INPUT &&
        /^huge\.csv:2: strike 16000000000000000000000000 is beyond the SDK's Black–Scholes domain \(below 2\*\*119 wei/.test(
          e.message,
        ),
    );
    // The edges: strike 2**119 − 1 wei and spot 2**120 − 1 wei pass, one wei more does not.
    const edge = (strike: string, s: string) =>
      parseQuotesJson(
        JSON.stringify([{ underlying: WETH, expiry: Number(expiry), strike, spot: s, bidIv: "0.6", askIv: "0.62" }]),
        "edge.json",
      );
    edge("664613997892457936.451903530140172287", "1329227995784915872.903807060280344575");
    assert.throws(
      () => edge("664613997892457936.451903530140172288", "1"),
      /edge\.json: quote 0: strike .*\(below 2\*\*119 wei/,
    );
    assert.throws(
      () => edge("1", "1329227995784915872.903807060280344576"),
      /edge\.json: quote 0: spot .*\(below 2\*\*120 wei/,
    );
  });
});
