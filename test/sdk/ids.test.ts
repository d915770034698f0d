import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type AccountId,
  type SeriesId,
  accountId,
  asAccountId,
  asSeriesId,
  decodeSeries,
  ownerOf,
  seriesId,
} from "../../packages/sdk/src/index.js";

const OWNER = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

describe("AccountId and SeriesId", () => {
  it("accountId packs owner << 96 | subId and ownerOf reads it back", () => {
    const account = accountId(OWNER, 7n);
    assert.equal(account, (BigInt(OWNER) << 96n) | 7n);
    assert.equal(ownerOf(account), OWNER);
    assert.equal(asAccountId(account), account);
  });

  it("seriesId packs as SeriesLib.id and decodes back", () => {
    const series = { underlyingIndex: 2, expiry: 1_769_846_400n, isCall: false, strikeWad: 3_200n * 10n ** 18n };
    const id = seriesId(series);
    assert.deepEqual(decodeSeries(id), series);
    assert.equal(asSeriesId(id), id);
  });

  it("asAccountId and asSeriesId refuse values that are not a uint256", () => {
    assert.throws(() => asAccountId(-1n), RangeError);
    assert.throws(() => asAccountId(1n << 256n), RangeError);
    assert.throws(() => asSeriesId(-1n), RangeError);
    assert.throws(() => asSeriesId(1n << 256n), RangeError);
    assert.equal(asSeriesId((1n << 256n) - 1n), (1n << 256n) - 1n);
  });

  it("the brands keep accounts, series and plain amounts apart (checked by tsc)", () => {
    const account = accountId(OWNER, 1n);
    const series = seriesId({ underlyingIndex: 1, expiry: 1_769_846_400n, isCall: true, strikeWad: 10n ** 18n });
    // @ts-expect-error a plain bigint is not an account id
    const fromAmount: AccountId = 10n ** 18n;
    // @ts-expect-error a series id is not an account id
    const fromSeries: AccountId = series;
    // @ts-expect-error an account id is not a series id
    const fromAccount: SeriesId = account;
    // At run time they are the bigints they wrap.
    assert.equal(typeof fromAmount + typeof fromSeries + typeof fromAccount, "bigintbigintbigint");
  });
});
