// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

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
    /// @notice A European, cash-settled option series.
    struct Series {
        uint16 underlyingIndex;
        uint40 expiry;
        bool isCall;
        uint128 strikeWad;
    }

    /// @notice The id of `series`.
    function id(Series memory series) internal pure returns (uint256) {
        return
            (uint256(series.underlyingIndex) << 169) |
            (uint256(series.expiry) << 129) |
            (series.isCall ? uint256(1) << 128 : 0) |
            uint256(series.strikeWad);
    }

    /// @notice The fields of series `seriesId`.
    function decode(uint256 seriesId) internal pure returns (Series memory series) {
        series.underlyingIndex = uint16(seriesId >> 169);
        series.expiry = uint40(seriesId >> 129);
        series.isCall = (seriesId >> 128) & 1 == 1;
        series.strikeWad = uint128(seriesId);
    }

    /// @notice Whether `seriesId` uses only the defined bits.
    function isWellFormed(uint256 seriesId) internal pure returns (bool) {
        return seriesId >> 185 == 0;
    }

    function underlyingIndexOf(uint256 seriesId) internal pure returns (uint16) {
        return uint16(seriesId >> 169);
    }

    function expiryOf(uint256 seriesId) internal pure returns (uint40) {
        return uint40(seriesId >> 129);
    }

    function isCallOf(uint256 seriesId) internal pure returns (bool) {
        return (seriesId >> 128) & 1 == 1;
    }

    function strikeOf(uint256 seriesId) internal pure returns (uint128) {
        return uint128(seriesId);
    }
}
