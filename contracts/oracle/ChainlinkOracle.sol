// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {IChainlinkOracle} from "../interfaces/IChainlinkOracle.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";

/// @title ChainlinkOracle
/// @notice Fail-closed Chainlink adapter: every read is validated or reverts with a specific error.
/// @dev Feed calls use a low-level `staticcall` plus a return-length check rather than `try/catch`:
/// `try/catch` catches a revert but not an ABI-decoding failure of the returned data (an EOA, or a
/// contract with another ABI), which would then revert without a specific error.
contract ChainlinkOracle is IChainlinkOracle, AccessControl {
    /// @dev Smallest and largest per-feed `maxAge`: below a minute every block risks "stale",
    /// above two days a dead feed would still be trusted.
    uint256 public constant MIN_MAX_AGE = 60 seconds;
    uint256 public constant MAX_MAX_AGE = 2 days;
    /// @dev Upper bound of the sequencer grace period.
    uint256 public constant MAX_GRACE_PERIOD = 1 days;
    /// @dev Bounds of `maxSettlementDelay`: a round must have a chance to arrive, but an expiry
    /// must not be settled with a price from days later.
    uint256 public constant MIN_SETTLEMENT_DELAY = 1 minutes;
    uint256 public constant MAX_SETTLEMENT_DELAY = 1 days;
    /// @dev Most rounds `liveSince` walks back per feed before it answers conservatively.
    uint256 public constant MAX_LIVE_ROUNDS = 64;
    /// @dev Largest feed `decimals()` supported (10**36 still fits comfortably in uint256).
    uint256 public constant MAX_FEED_DECIMALS = 36;

    /// @dev A feed as stored: the config plus its `decimals()`, cached at set time so that every
    /// read saves a call. Chainlink keeps a proxy's decimals fixed; re-set the feed if one changes.
    struct Feed {
        address aggregator;
        uint32 maxAge;
        uint8 decimals;
        uint256 minAnswerWad;
        uint256 maxAnswerWad;
    }

    /// @inheritdoc IChainlinkOracle
    address public immutable sequencerFeed;
    /// @inheritdoc IChainlinkOracle
    uint256 public immutable sequencerGracePeriod;
    /// @inheritdoc IChainlinkOracle
    uint256 public immutable maxSettlementDelay;

    mapping(address asset => Feed) private _spotFeeds;
    mapping(address underlying => Feed) private _volFeeds;
    /// @dev Zero means "not posted": a posted price is always > 0.
    mapping(address asset => mapping(uint256 expiry => uint256 priceWad)) private _settlementPrices;

    constructor(address admin, address sequencerFeed_, uint256 sequencerGracePeriod_, uint256 maxSettlementDelay_) {
        if (
            admin == address(0) ||
            sequencerGracePeriod_ > MAX_GRACE_PERIOD ||
            maxSettlementDelay_ < MIN_SETTLEMENT_DELAY ||
            maxSettlementDelay_ > MAX_SETTLEMENT_DELAY
        ) revert OracleInvalidConfig();
        sequencerFeed = sequencerFeed_;
        sequencerGracePeriod = sequencerGracePeriod_;
        maxSettlementDelay = maxSettlementDelay_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc IChainlinkOracle
    function setSpotFeed(address asset, FeedConfig calldata config) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _spotFeeds[asset] = _checkedFeed(asset, config);
        emit SpotFeedSet(asset, config);
    }

    /// @inheritdoc IChainlinkOracle
    function setVolFeed(address underlying, FeedConfig calldata config) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _volFeeds[underlying] = _checkedFeed(underlying, config);
        emit VolFeedSet(underlying, config);
    }

    // ---------------------------------------------------------------- reads

    /// @inheritdoc IPledgeOracle
    function spot(address asset) external view returns (uint256 priceWad) {
        return _latest(asset, _spotFeeds[asset]);
    }

    /// @inheritdoc IPledgeOracle
    function vol(address underlying) external view returns (uint256 volWad) {
        return _latest(underlying, _volFeeds[underlying]);
    }

    /// @inheritdoc IPledgeOracle
    function liveSince(address asset, uint256 notBefore) external view returns (uint256 since) {
        since = _feedLiveSince(_spotFeeds[asset], notBefore);
        Feed memory volatility = _volFeeds[asset];
        if (volatility.aggregator != address(0)) since = _feedLiveSince(volatility, since);
        address sequencer = sequencerFeed;
        if (sequencer != address(0)) {
            (bool ok, int256 answer, uint256 startedAt, ) = _readLatest(sequencer);
            if (!ok || answer != 0 || startedAt == 0 || startedAt > block.timestamp) return block.timestamp;
            uint256 upSince = startedAt + sequencerGracePeriod;
            if (upSince > since) since = upSince;
        }
        if (since > block.timestamp) since = block.timestamp;
    }

    /// @inheritdoc IPledgeOracle
    function settlementPrice(address asset, uint256 expiry) external view returns (uint256 priceWad, bool posted) {
        priceWad = _settlementPrices[asset][expiry];
        posted = priceWad != 0;
    }

    /// @inheritdoc IChainlinkOracle
    function spotFeed(address asset) external view returns (FeedConfig memory) {
        return _toConfig(_spotFeeds[asset]);
    }

    /// @inheritdoc IChainlinkOracle
    function volFeed(address underlying) external view returns (FeedConfig memory) {
        return _toConfig(_volFeeds[underlying]);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IChainlinkOracle
    function postSettlementPrice(
        address asset,
        uint256 expiry,
        uint80 roundId,
        uint80 previousRoundId
    ) external returns (uint256 priceWad) {
        // Idempotent: the first valid post wins and is final, whatever arguments later callers pass.
        priceWad = _settlementPrices[asset][expiry];
        if (priceWad != 0) return priceWad;

        Feed memory feed = _spotFeeds[asset];
        if (feed.aggregator == address(0)) revert OracleFeedNotSet(asset);
        if (block.timestamp < expiry) revert OracleExpiryNotReached(expiry);
        _checkSequencer();

        (bool ok, int256 answer, , uint256 updatedAt) = _readRound(feed.aggregator, roundId);
        // Real proxies revert ("No data present") on a round that does not exist yet, so a failed
        // read here means "not found" (a keeper should wait), not a broken feed.
        if (!ok || updatedAt == 0) revert OracleRoundNotFound(roundId);
        if (updatedAt < expiry) revert OracleRoundBeforeExpiry(roundId, updatedAt, expiry);
        // Proof before lateness, so that `OracleSettlementTooLate` only ever speaks of the true first round.
        if (!_isFirstRoundAtOrAfter(feed.aggregator, expiry, roundId, previousRoundId)) {
            revert OracleRoundNotFirstAfterExpiry(roundId, previousRoundId);
        }
        if (updatedAt - expiry > maxSettlementDelay) revert OracleSettlementTooLate(roundId, updatedAt, expiry);
        priceWad = _validPrice(feed, answer);

        _settlementPrices[asset][expiry] = priceWad;
        emit SettlementPricePosted(asset, expiry, priceWad, roundId, msg.sender);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Validates a feed configuration against the hard limits and caches its decimals.
    function _checkedFeed(address asset, FeedConfig calldata config) private view returns (Feed memory) {
        if (
            asset == address(0) ||
            config.aggregator == address(0) ||
            config.maxAge < MIN_MAX_AGE ||
            config.maxAge > MAX_MAX_AGE ||
            (config.minAnswerWad != 0 && config.maxAnswerWad != 0 && config.minAnswerWad > config.maxAnswerWad)
        ) revert OracleInvalidFeedConfig(asset);

        (bool ok, bytes memory data) = config.aggregator.staticcall(abi.encodeCall(AggregatorV3Interface.decimals, ()));
        if (!ok || data.length < 32) revert OracleFeedReverted(config.aggregator);
        // Decoded as uint256 so that an out-of-range value is rejected here, not by a decoder panic.
        uint256 decimals = abi.decode(data, (uint256));
        if (decimals > MAX_FEED_DECIMALS) revert OracleInvalidFeedConfig(asset);

        return
            Feed({
                aggregator: config.aggregator,
                maxAge: config.maxAge,
                decimals: uint8(decimals),
                minAnswerWad: config.minAnswerWad,
                maxAnswerWad: config.maxAnswerWad
            });
    }

    /// @dev The latest answer of `feed`, fully validated, in WAD.
    function _latest(address asset, Feed memory feed) private view returns (uint256) {
        if (feed.aggregator == address(0)) revert OracleFeedNotSet(asset);
        _checkSequencer();
        (bool ok, int256 answer, , uint256 updatedAt) = _readLatest(feed.aggregator);
        if (!ok) revert OracleFeedReverted(feed.aggregator);
        // An `updatedAt` in the future is as untrustworthy as an old one: both count as stale.
        if (updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > feed.maxAge) {
            revert OracleStalePrice(feed.aggregator, updatedAt, feed.maxAge);
        }
        return _validPrice(feed, answer);
    }

    /// @dev `liveSince` for one feed: walks back from the latest round while consecutive rounds
    /// are at most `maxAge` apart and valid, until a round at or before `notBefore`, the phase's
    /// first round or `MAX_LIVE_ROUNDS`; returns the oldest round of that unbroken run (or
    /// `notBefore`, whichever is later). A feed that is not valid now answers `block.timestamp`.
    function _feedLiveSince(Feed memory feed, uint256 notBefore) private view returns (uint256) {
        address aggregator = feed.aggregator;
        if (aggregator == address(0)) return block.timestamp;
        (bool ok, bytes memory data) = aggregator.staticcall(abi.encodeCall(AggregatorV3Interface.latestRoundData, ()));
        if (!ok || data.length < 160) return block.timestamp;
        (uint256 roundId, int256 answer, , uint256 updatedAt, ) = abi.decode(
            data,
            (uint256, int256, uint256, uint256, uint256)
        );
        if (
            updatedAt == 0 ||
            updatedAt > block.timestamp ||
            block.timestamp - updatedAt > feed.maxAge ||
            !_isValidAnswer(feed, answer) ||
            roundId > type(uint80).max
        ) return block.timestamp;
        for (uint256 i; i < MAX_LIVE_ROUNDS && updatedAt > notBefore && uint64(roundId) > 1; ++i) {
            --roundId;
            (bool found, int256 previousAnswer, , uint256 previousAt) = _readRound(aggregator, uint80(roundId));
            // A gap longer than maxAge, a missing or invalid round: the run starts at `updatedAt`.
            if (
                !found ||
                previousAt == 0 ||
                previousAt > updatedAt ||
                updatedAt - previousAt > feed.maxAge ||
                !_isValidAnswer(feed, previousAnswer)
            ) return updatedAt;
            updatedAt = previousAt;
        }
        return updatedAt > notBefore ? updatedAt : notBefore;
    }

    /// @dev Whether `answer` passes `_validPrice` (positive, representable, within bounds).
    function _isValidAnswer(Feed memory feed, int256 answer) private pure returns (bool) {
        if (answer <= 0) return false;
        uint256 raw = uint256(answer);
        uint256 priceWad;
        if (feed.decimals <= 18) {
            uint256 scale = uint256(10) ** (18 - feed.decimals);
            if (raw > type(uint256).max / scale) return false;
            priceWad = raw * scale;
        } else {
            priceWad = raw / uint256(10) ** (feed.decimals - 18);
            if (priceWad == 0) return false;
        }
        return priceWad >= feed.minAnswerWad && (feed.maxAnswerWad == 0 || priceWad <= feed.maxAnswerWad);
    }

    /// @dev Reverts unless the L2 sequencer is up and has been up for longer than the grace period.
    /// Chainlink uptime feeds answer 0 = up, 1 = down; any other answer is treated as down too.
    function _checkSequencer() private view {
        address feed = sequencerFeed;
        if (feed == address(0)) return; // L1: no sequencer.
        (bool ok, int256 answer, uint256 startedAt, ) = _readLatest(feed);
        if (!ok) revert OracleFeedReverted(feed);
        // `startedAt == 0` marks an uninitialised round on some L2s: fail closed.
        if (answer != 0 || startedAt == 0) revert OracleSequencerDown();
        // A `startedAt` in the future cannot be trusted either: treat it as still in grace.
        if (startedAt > block.timestamp || block.timestamp - startedAt <= sequencerGracePeriod) {
            revert OracleGracePeriodNotOver(startedAt, sequencerGracePeriod);
        }
    }

    /// @dev Normalises `answer` to WAD and applies `> 0` and the sanity bounds.
    function _validPrice(Feed memory feed, int256 answer) private pure returns (uint256 priceWad) {
        if (answer <= 0) revert OracleInvalidPrice(feed.aggregator, answer);
        uint256 raw = uint256(answer);
        if (feed.decimals <= 18) {
            uint256 scale = uint256(10) ** (18 - feed.decimals);
            // A scaled value past uint256 cannot be a real price: reject it instead of panicking.
            if (raw > type(uint256).max / scale) revert OracleInvalidPrice(feed.aggregator, answer);
            priceWad = raw * scale;
        } else {
            // Rounds down; an answer that vanishes below 1 wei of WAD is as unusable as 0.
            priceWad = raw / uint256(10) ** (feed.decimals - 18);
            if (priceWad == 0) revert OracleInvalidPrice(feed.aggregator, answer);
        }
        uint256 minWad = feed.minAnswerWad;
        uint256 maxWad = feed.maxAnswerWad;
        if (priceWad < minWad || (maxWad != 0 && priceWad > maxWad)) {
            revert OraclePriceOutOfBounds(feed.aggregator, priceWad, minWad, maxWad);
        }
    }

    /// @dev Whether `roundId` is the first round of `aggregator` with `updatedAt >= expiry`, given that
    /// `roundId` itself is at or after expiry. `previousRoundId` must be before expiry and directly
    /// precede `roundId`. Proxy round ids are `phaseId << 64 | aggregatorRoundId`; within a phase the
    /// predecessor is `roundId - 1`. Across a phase change it is the last round of the previous phase:
    /// then `roundId` must have no in-phase predecessor and `previousRoundId` no in-phase successor.
    function _isFirstRoundAtOrAfter(
        address aggregator,
        uint256 expiry,
        uint80 roundId,
        uint80 previousRoundId
    ) private view returns (bool) {
        (bool ok, , , uint256 previousUpdatedAt) = _readRound(aggregator, previousRoundId);
        if (!ok || previousUpdatedAt == 0 || previousUpdatedAt >= expiry) return false;

        uint256 phase = roundId >> 64;
        uint256 previousPhase = previousRoundId >> 64;
        if (previousPhase == phase) return uint64(roundId) != 0 && previousRoundId == roundId - 1;
        if (phase == 0 || previousPhase != phase - 1) return false;

        // An in-phase neighbour "exists" only if it can be read and has `updatedAt != 0`; real proxies
        // revert ("No data present") on unknown rounds, some return zeros.
        if (uint64(roundId) != 0 && _roundExists(aggregator, roundId - 1)) return false;
        if (uint64(previousRoundId) != type(uint64).max && _roundExists(aggregator, previousRoundId + 1)) {
            return false;
        }
        return true;
    }

    function _roundExists(address aggregator, uint80 roundId) private view returns (bool) {
        (bool ok, , , uint256 updatedAt) = _readRound(aggregator, roundId);
        return ok && updatedAt != 0;
    }

    /// @dev Reads `latestRoundData()`; see `_call`.
    function _readLatest(
        address aggregator
    ) private view returns (bool ok, int256 answer, uint256 startedAt, uint256 updatedAt) {
        return _call(aggregator, abi.encodeCall(AggregatorV3Interface.latestRoundData, ()));
    }

    /// @dev Reads `getRoundData(roundId)`; see `_call`.
    function _readRound(
        address aggregator,
        uint80 roundId
    ) private view returns (bool ok, int256 answer, uint256 startedAt, uint256 updatedAt) {
        return _call(aggregator, abi.encodeCall(AggregatorV3Interface.getRoundData, (roundId)));
    }

    /// @dev Never reverts: `ok` is false when the call reverts or returns fewer than the five words of
    /// the ABI. Every word is decoded as a 256-bit type, so decoding itself cannot fail.
    function _call(
        address aggregator,
        bytes memory callData
    ) private view returns (bool ok, int256 answer, uint256 startedAt, uint256 updatedAt) {
        bytes memory data;
        (ok, data) = aggregator.staticcall(callData);
        if (!ok || data.length < 160) return (false, 0, 0, 0);
        (, answer, startedAt, updatedAt, ) = abi.decode(data, (uint256, int256, uint256, uint256, uint256));
    }

    function _toConfig(Feed memory feed) private pure returns (FeedConfig memory) {
        return FeedConfig(feed.aggregator, feed.maxAge, feed.minAnswerWad, feed.maxAnswerWad);
    }
}
