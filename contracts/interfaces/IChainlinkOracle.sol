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
    /// (0 = no lower bound beyond `> 0`); at most 2^128 − 1, like `maxAnswerWad` (stored in one slot).
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
    /// @notice `earlierRoundId` is at or after expiry and comes before `roundId` in time (or at the same
    /// time in a lower phase, or in the same phase with a lower id): `roundId` is not the first round
    /// at or after expiry; try `earlierRoundId` (or the rounds before it). Also raised when
    /// `earlierRoundId = roundId - 1` does not exist: a gap inside a phase proves nothing.
    error OracleRoundNotFirstAfterExpiry(uint80 roundId, uint80 earlierRoundId);
    /// @notice `hints` must hold one entry per phase of the feed other than the round's own, in
    /// increasing phase order: `expected` entries, not `length`.
    error OracleSettlementHintsLength(uint256 length, uint256 expected);
    /// @notice Hint `index` (`hint`) is not in the expected phase `phase`, or it is a round that does not
    /// exist or is not before expiry.
    error OracleSettlementHintInvalid(uint256 index, uint80 hint, uint256 phase);
    /// @notice The proven first round came more than `maxSettlementDelay` after expiry; it can only be
    /// posted through the fallback, from `opensAt = expiry + settlementFallbackWait` on.
    error OracleSettlementFallbackNotOpen(uint80 roundId, uint256 updatedAt, uint256 opensAt);
    /// @notice A spot feed's `maxAge` (heartbeat + slack) exceeds `maxSettlementDelay`: a heartbeat round
    /// that is on time for spot reads could miss the settlement delay.
    error OracleFeedMaxAgeAboveSettlementDelay(address asset, uint256 maxAge, uint256 maxSettlementDelay);
    /// @notice The round does not exist or is incomplete (`updatedAt == 0`).
    error OracleRoundNotFound(uint80 roundId);
    /// @notice The first round after expiry, `roundId`, answers no price, and so does every round
    /// after it in its phase up to `lastRoundId` (`MAX_LIVE_ROUNDS` of them, or up to the phase's
    /// end once the proxy has moved to a later phase): no settlement price can be proven until the
    /// admin re-points the feed (or, after a migration, the retired aggregator answers again).
    error OracleNoValidSettlementRound(uint80 roundId, uint80 lastRoundId);

    // ---------------------------------------------------------------- events

    /// @notice A spot feed was set or replaced.
    event SpotFeedSet(address indexed asset, FeedConfig config);
    /// @notice A volatility feed was set or replaced.
    event VolFeedSet(address indexed underlying, FeedConfig config);
    /// @notice A settlement price was recorded from round `roundId`, updated at `roundUpdatedAt`
    /// (`roundUpdatedAt - expiry > maxSettlementDelay` means it went through the fallback; so does a
    /// round whose in-phase predecessor is at or after expiry: it followed a first round that
    /// answered no price, docs/oracle.md).
    event SettlementPricePosted(
        address indexed asset,
        uint256 indexed expiry,
        uint256 priceWad,
        uint80 roundId,
        uint256 roundUpdatedAt,
        address poster
    );

    // ---------------------------------------------------------------- admin

    /// @notice Sets the spot feed of `asset`. Admin only; `maxAge` and bounds are
    /// checked against hard limits, and `maxAge` must not exceed `maxSettlementDelay`
    /// (`OracleFeedMaxAgeAboveSettlementDelay`), so that a feed's on-time round always
    /// settles on the normal path.
    function setSpotFeed(address asset, FeedConfig calldata config) external;

    /// @notice Sets the implied-volatility feed of `underlying`. Admin only.
    function setVolFeed(address underlying, FeedConfig calldata config) external;

    // ---------------------------------------------------------------- settlement

    /// @notice Records the settlement price of `asset` for `expiry`: the answer of the
    /// first feed round in time with `updatedAt >= expiry`, across every phase of the
    /// feed's proxy (ties: the lower phase, then the lower round id). Permissionless and
    /// idempotent: once a price is recorded, later calls return it without changing anything.
    /// @dev The proof: `roundId` (phase p) has `updatedAt >= expiry`, and its in-phase
    /// predecessor `roundId - 1` exists with `updatedAt < expiry` unless `roundId` is its phase's
    /// round 1. The feed's phases are `1..latestRoundData().roundId >> 64` (none for a plain
    /// aggregator, phase 0). For each of them other than p, in increasing order, `hints` holds the
    /// last round of that phase before expiry, or `phase << 64` when it has none; the round after
    /// the hint must not exist or must come after `roundId` in time. Within a phase rounds are
    /// consecutive and monotone in time, so no round of any phase lies in [expiry, updatedAt).
    /// A round more than `maxSettlementDelay` after expiry is accepted only from
    /// `expiry + settlementFallbackWait` on (the fallback): a series never freezes.
    /// A first round that answers no price (zero or less, or below 1 wei once scaled) reverts
    /// `OracleInvalidPrice` until `expiry + settlementFallbackWait`; from then on the price is the
    /// next round after it in its phase that answers one, among the next `MAX_LIVE_ROUNDS`
    /// (review 3, R5). A price outside the feed's bounds, first or walked to, stays refused
    /// (`OraclePriceOutOfBounds`) until the bounds are widened: it may be the genuine price.
    /// @param roundId The claimed first round at or after expiry.
    /// @param hints One round id per other phase, as above; empty for a plain aggregator.
    /// @return priceWad The settlement price, WAD.
    function postSettlementPrice(
        address asset,
        uint256 expiry,
        uint80 roundId,
        uint80[] calldata hints
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

    /// @notice Latest `updatedAt` of the first round after expiry, in seconds after expiry, that is
    /// accepted as soon as it exists (the normal path).
    function maxSettlementDelay() external view returns (uint256);

    /// @notice Seconds after expiry from which the proven first round is accepted whatever its delay
    /// (the fallback); at least `maxSettlementDelay`.
    function settlementFallbackWait() external view returns (uint256);
}
