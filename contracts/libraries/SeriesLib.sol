// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SeriesId} from "../types/SeriesId.sol";

/// @title SeriesLib
/// @notice A series id *is* its parameters, packed into one word, so a margin check
/// decodes a series with shifts instead of storage reads:
///
///   bits 0..127   strike, WAD (USD per unit of underlying)
///   bit  128      1 = call, 0 = put
///   bits 129..168 expiry, unix seconds
///   bits 169..184 underlying index in the margin engine's registry
///
/// Like Morpho's market id, the id is derived from the fields and nothing else.
library SeriesLib {
    /// @notice Expiries fall at 08:00 UTC of a day, like Deribit's (`OptionMarket.EXPIRY_TIME_OF_DAY`).
    uint256 internal constant EXPIRY_TIME_OF_DAY = 8 hours;
    /// @notice Furthest expiry accepted, counted from now (`OptionMarket.MAX_EXPIRY_HORIZON`).
    uint256 internal constant MAX_EXPIRY_HORIZON = 365 days;

    /// @notice Whether `expiry` is on the series grid at time `nowTs`: 08:00 UTC of a day, in the
    /// future, at most `MAX_EXPIRY_HORIZON` away. The rule `OptionMarket.createSeries` applies
    /// (test/unit/oracle/VolSurfaceOracle.t.sol pins the constants to the market's).
    function onExpiryGrid(uint256 expiry, uint256 nowTs) internal pure returns (bool) {
        return expiry > nowTs && expiry <= nowTs + MAX_EXPIRY_HORIZON && expiry % 1 days == EXPIRY_TIME_OF_DAY;
    }

    /// @notice A European, cash-settled option series.
    struct Series {
        uint16 underlyingIndex;
        uint40 expiry;
        bool isCall;
        uint128 strikeWad;
    }

    /// @notice The id of `series`.
    function id(Series memory series) internal pure returns (SeriesId) {
        return
            SeriesId.wrap(
                (uint256(series.underlyingIndex) << 169) |
                    (uint256(series.expiry) << 129) |
                    (series.isCall ? uint256(1) << 128 : 0) |
                    uint256(series.strikeWad)
            );
    }

    /// @notice The fields of series `seriesId`.
    function decode(SeriesId seriesId) internal pure returns (Series memory series) {
        uint256 word = SeriesId.unwrap(seriesId);
        series.underlyingIndex = uint16(word >> 169);
        series.expiry = uint40(word >> 129);
        series.isCall = (word >> 128) & 1 == 1;
        series.strikeWad = uint128(word);
    }

    /// @notice Whether `seriesId` uses only the defined bits.
    function isWellFormed(SeriesId seriesId) internal pure returns (bool) {
        return SeriesId.unwrap(seriesId) >> 185 == 0;
    }

    function underlyingIndexOf(SeriesId seriesId) internal pure returns (uint16) {
        return uint16(SeriesId.unwrap(seriesId) >> 169);
    }

    function expiryOf(SeriesId seriesId) internal pure returns (uint40) {
        return uint40(SeriesId.unwrap(seriesId) >> 129);
    }

    function isCallOf(SeriesId seriesId) internal pure returns (bool) {
        return (SeriesId.unwrap(seriesId) >> 128) & 1 == 1;
    }

    function strikeOf(SeriesId seriesId) internal pure returns (uint128) {
        return uint128(SeriesId.unwrap(seriesId));
    }
}
