// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice A series: its parameters packed into one word (see `SeriesLib`). A value type, so
/// a series id cannot be passed where an account or an amount is expected; it encodes as
/// `uint256`, so no ABI changes and it costs nothing at run time.
type SeriesId is uint256;

using {equalsSeries as ==, notEqualsSeries as !=} for SeriesId global;

function equalsSeries(SeriesId a, SeriesId b) pure returns (bool) {
    return SeriesId.unwrap(a) == SeriesId.unwrap(b);
}

function notEqualsSeries(SeriesId a, SeriesId b) pure returns (bool) {
    return SeriesId.unwrap(a) != SeriesId.unwrap(b);
}
