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

    /// @notice The settlement price posted for (`asset`, `expiry`), if any.
    /// @return priceWad The posted price in USD, WAD; zero when not posted.
    /// @return posted Whether a price has been posted.
    function settlementPrice(address asset, uint256 expiry) external view returns (uint256 priceWad, bool posted);
}
