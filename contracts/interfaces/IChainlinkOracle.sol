// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPledgeOracle} from "./IPledgeOracle.sol";

/// @title IChainlinkOracle
/// @notice Chainlink adapter behind `IPledgeOracle`: per-feed staleness, decimal
/// normalisation, sanity bounds, L2 sequencer uptime, and proven settlement rounds.
interface IChainlinkOracle is IPledgeOracle {
    /// @notice How one Chainlink feed is read.
    /// @param aggregator The AggregatorV3 feed (a proxy on live networks).
    /// @param maxAge The largest accepted `block.timestamp - updatedAt`, seconds
    /// (the feed's heartbeat plus slack).
    /// @param minAnswerWad Lowest accepted answer after normalisation to 18 decimals
    /// (0 = no lower bound beyond `> 0`).
    /// @param maxAnswerWad Highest accepted answer after normalisation (0 = none).
    struct FeedConfig {
        address aggregator;
        uint32 maxAge;
        uint256 minAnswerWad;
        uint256 maxAnswerWad;
    }

    // ---------------------------------------------------------------- errors

    /// @notice No feed is configured for `asset`.
    error OracleFeedNotSet(address asset);
    /// @notice The feed call itself reverted (or returned malformed data).
    error OracleFeedReverted(address aggregator);
    /// @notice The feed answered `answer <= 0`.
    error OracleInvalidPrice(address aggregator, int256 answer);
    /// @notice The answer is older than the feed's `maxAge`.
    error OracleStalePrice(address aggregator, uint256 updatedAt, uint256 maxAge);
    /// @notice The normalised answer lies outside the feed's sanity bounds.
    error OraclePriceOutOfBounds(address aggregator, uint256 priceWad, uint256 minWad, uint256 maxWad);
    /// @notice The L2 sequencer reports down, or its round is invalid (`startedAt == 0`).
    error OracleSequencerDown();
    /// @notice The sequencer is back up but its grace period has not elapsed.
    error OracleGracePeriodNotOver(uint256 upSince, uint256 gracePeriod);
    /// @notice A feed configuration is outside the hard-coded bounds.
    error OracleInvalidFeedConfig(address asset);
    /// @notice The constructor got an invalid argument.
    error OracleInvalidConfig();
    /// @notice Settlement asked for an expiry still in the future.
    error OracleExpiryNotReached(uint256 expiry);
    /// @notice The supplied round is not at or after expiry.
    error OracleRoundBeforeExpiry(uint80 roundId, uint256 updatedAt, uint256 expiry);
    /// @notice The supplied predecessor is not the round right before `roundId`, or is not before expiry.
    error OracleRoundNotFirstAfterExpiry(uint80 roundId, uint80 previousRoundId);
    /// @notice The first round after expiry came later than `maxSettlementDelay` after expiry.
    error OracleSettlementTooLate(uint80 roundId, uint256 updatedAt, uint256 expiry);
    /// @notice The round does not exist or is incomplete (`updatedAt == 0`).
    error OracleRoundNotFound(uint80 roundId);

    // ---------------------------------------------------------------- events

    /// @notice A spot feed was set or replaced.
    event SpotFeedSet(address indexed asset, FeedConfig config);
    /// @notice A volatility feed was set or replaced.
    event VolFeedSet(address indexed underlying, FeedConfig config);
    /// @notice A settlement price was recorded.
    event SettlementPricePosted(
        address indexed asset,
        uint256 indexed expiry,
        uint256 priceWad,
        uint80 roundId,
        address poster
    );

    // ---------------------------------------------------------------- admin

    /// @notice Sets the spot feed of `asset`. Admin only; `maxAge` and bounds are
    /// checked against hard limits.
    function setSpotFeed(address asset, FeedConfig calldata config) external;

    /// @notice Sets the implied-volatility feed of `underlying`. Admin only.
    function setVolFeed(address underlying, FeedConfig calldata config) external;

    // ---------------------------------------------------------------- settlement

    /// @notice Records the settlement price of `asset` for `expiry`: the answer of the
    /// first feed round with `updatedAt >= expiry`. Permissionless and idempotent:
    /// once a price is recorded, later calls return it without changing anything.
    /// @param roundId The claimed first round at or after expiry.
    /// @param previousRoundId The round right before `roundId`; across a phase
    /// boundary, the last round of the previous phase.
    /// @return priceWad The settlement price, WAD.
    function postSettlementPrice(
        address asset,
        uint256 expiry,
        uint80 roundId,
        uint80 previousRoundId
    ) external returns (uint256 priceWad);

    // ---------------------------------------------------------------- views

    /// @notice The spot feed configuration of `asset`.
    function spotFeed(address asset) external view returns (FeedConfig memory);

    /// @notice The volatility feed configuration of `underlying`.
    function volFeed(address underlying) external view returns (FeedConfig memory);

    /// @notice The L2 sequencer uptime feed, or zero on L1.
    function sequencerFeed() external view returns (address);

    /// @notice Seconds after the sequencer comes back up before prices are trusted.
    function sequencerGracePeriod() external view returns (uint256);

    /// @notice Latest accepted `updatedAt` of the first round after expiry, in seconds after expiry.
    function maxSettlementDelay() external view returns (uint256);
}
