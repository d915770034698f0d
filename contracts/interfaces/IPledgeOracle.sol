// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPledgeOracle
/// @notice The narrow price interface the rest of Pledge reads. Every value is an
/// 18-decimal fixed-point number (WAD) in USD, the protocol's numeraire. Reads fail
/// closed: an invalid, stale or out-of-bounds price reverts, it is never returned.
interface IPledgeOracle {
    /// @notice The spot price of `asset` in USD, WAD.
    /// @dev Reverts when the feed is unset, reverting, stale, non-positive, outside
    /// its sanity bounds, or when the L2 sequencer is down or in its grace period.
    function spot(address asset) external view returns (uint256 priceWad);

    /// @notice The annualised implied volatility of `underlying`, WAD (0.8e18 = 80 %).
    /// @dev Same validation as `spot`, against the underlying's volatility feed.
    function vol(address underlying) external view returns (uint256 volWad);

    /// @notice The earliest time at or after `notBefore` since which `asset`'s prices have been
    /// continuously readable: its spot feed (and its volatility feed, if it has one) fresh at
    /// every moment, and the L2 sequencer up and out of its grace period. The liquidator runs
    /// its auction clock from here, so time during an outage earns no discount.
    /// @dev Never reverts. Returns `block.timestamp` when a price is not readable now. The
    /// adapter walks back a bounded number of rounds and stops at a phase's first round, answering
    /// with the oldest round it examined; a walk that reaches its bound with no gap answers
    /// `notBefore` (a busy feed is live), so keep `notBefore` recent (the liquidator passes the
    /// time it last checked). The result is always ≥ `notBefore` and ≤ `block.timestamp`.
    function liveSince(address asset, uint256 notBefore) external view returns (uint256 since);

    /// @notice The settlement price posted for (`asset`, `expiry`), if any.
    /// @return priceWad The posted price in USD, WAD; zero when not posted.
    /// @return posted Whether a price has been posted.
    function settlementPrice(address asset, uint256 expiry) external view returns (uint256 priceWad, bool posted);
}
