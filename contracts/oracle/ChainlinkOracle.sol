// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

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
    /// @dev Bounds of `maxSettlementDelay`: a round must have a chance to arrive, and every feed
    /// `maxAge` (up to `MAX_MAX_AGE`) must fit under it, since a spot feed's `maxAge` may not exceed it.
    uint256 public constant MIN_SETTLEMENT_DELAY = 1 minutes;
    uint256 public constant MAX_SETTLEMENT_DELAY = 2 days;
    /// @dev Upper bound of `settlementFallbackWait`: a series whose first round after expiry is late
    /// settles within a week of expiry at the latest.
    uint256 public constant MAX_SETTLEMENT_FALLBACK_WAIT = 7 days;
    /// @dev Chainlink proxy round ids are `phaseId << 64 | aggregatorRoundId`.
    uint256 private constant _PHASE_OFFSET = 64;
    /// @dev Most rounds `liveSince` walks back per feed; a run that long with no gap counts as live
    /// back to `notBefore` (callers keep `notBefore` recent: the liquidator's last check).
    uint256 public constant MAX_LIVE_ROUNDS = 16;
    /// @dev Largest feed `decimals()` supported (10**36 still fits comfortably in uint256).
    uint256 public constant MAX_FEED_DECIMALS = 36;

    /// @dev A feed as stored: the config plus its `decimals()`, cached at set time so that every
    /// read saves a call. Chainlink keeps a proxy's decimals fixed; re-set the feed if one changes.
    /// Two slots. The first (`FeedHead`) holds all a price read and `liveSince`'s walk need in the
    /// usual case. The exact 128-bit bounds sit in the second slot, read only for a price outside
    /// the head's inner box (`_inBox`): within 2^-24 of a bound, or out of bounds. The box is
    /// inside the bounds, so a price it accepts the bounds accept too, and every answer is judged
    /// by the exact bounds as before.
    struct Feed {
        FeedHead head;
        uint128 minAnswerWad;
        uint128 maxAnswerWad;
    }

    /// @dev A feed's first slot: the aggregator, the age limit, the decimals and an inner box of
    /// the bounds (`innerMin` ≥ the minimum, `innerMax` ≤ the maximum, each a 32-bit float,
    /// `_packUp`/`_packDown`). Read once by every price read (`_latest`) and `liveSince` walk.
    struct FeedHead {
        address aggregator;
        uint24 maxAge;
        uint8 decimals;
        uint32 innerMin;
        uint32 innerMax;
    }

    /// @dev An inner-box bound's layout: a 25-bit mantissa under a 7-bit binary exponent.
    uint256 private constant _MANTISSA_BITS = 25;
    uint256 private constant _MANTISSA_MASK = (1 << _MANTISSA_BITS) - 1;

    /// @inheritdoc IChainlinkOracle
    address public immutable sequencerFeed;
    /// @inheritdoc IChainlinkOracle
    uint256 public immutable sequencerGracePeriod;
    /// @inheritdoc IChainlinkOracle
    uint256 public immutable maxSettlementDelay;
    /// @inheritdoc IChainlinkOracle
    uint256 public immutable settlementFallbackWait;

    mapping(address asset => Feed) private _spotFeeds;
    mapping(address underlying => Feed) private _volFeeds;
    /// @dev Zero means "not posted": a posted price is always > 0.
    mapping(address asset => mapping(uint256 expiry => uint256 priceWad)) private _settlementPrices;

    constructor(
        address admin,
        address sequencerFeed_,
        uint256 sequencerGracePeriod_,
        uint256 maxSettlementDelay_,
        uint256 settlementFallbackWait_
    ) {
        if (
            admin == address(0) ||
            sequencerGracePeriod_ > MAX_GRACE_PERIOD ||
            maxSettlementDelay_ < MIN_SETTLEMENT_DELAY ||
            maxSettlementDelay_ > MAX_SETTLEMENT_DELAY ||
            settlementFallbackWait_ < maxSettlementDelay_ ||
            settlementFallbackWait_ > MAX_SETTLEMENT_FALLBACK_WAIT
        ) revert OracleInvalidConfig();
        sequencerFeed = sequencerFeed_;
        sequencerGracePeriod = sequencerGracePeriod_;
        maxSettlementDelay = maxSettlementDelay_;
        settlementFallbackWait = settlementFallbackWait_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc IChainlinkOracle
    function setSpotFeed(address asset, FeedConfig calldata config) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Feed memory feed = _checkedFeed(asset, config);
        // A heartbeat round that is on time for spot reads but later than the delay would only settle
        // through the fallback: every spot feed must settle on the normal path when it works.
        if (config.maxAge > maxSettlementDelay) {
            revert OracleFeedMaxAgeAboveSettlementDelay(asset, config.maxAge, maxSettlementDelay);
        }
        _spotFeeds[asset] = feed;
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
        Feed storage volatility = _volFeeds[asset];
        if (volatility.head.aggregator != address(0)) since = _feedLiveSince(volatility, since);
        address sequencer = sequencerFeed;
        if (sequencer != address(0)) {
            (bool ok, , int256 answer, uint256 startedAt, ) = _readLatest(sequencer);
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
        uint80[] calldata hints
    ) external returns (uint256 priceWad) {
        // Idempotent: the first valid post wins and is final, whatever arguments later callers pass.
        priceWad = _settlementPrices[asset][expiry];
        if (priceWad != 0) return priceWad;

        Feed memory feed = _spotFeeds[asset];
        address aggregator = feed.head.aggregator;
        if (aggregator == address(0)) revert OracleFeedNotSet(asset);
        if (block.timestamp < expiry) revert OracleExpiryNotReached(expiry);
        _checkSequencer();

        (bool ok, int256 answer, , uint256 updatedAt) = _readRound(aggregator, roundId);
        // Real proxies revert ("No data present") on a round that does not exist yet, so a failed
        // read here means "not found" (a keeper should wait), not a broken feed.
        if (!ok || updatedAt == 0) revert OracleRoundNotFound(roundId);
        if (updatedAt < expiry) revert OracleRoundBeforeExpiry(roundId, updatedAt, expiry);
        // Proof before lateness, so that `OracleSettlementFallbackNotOpen` only ever speaks of the true
        // first round.
        _checkFirstInPhase(aggregator, expiry, roundId);
        _checkFirstAcrossPhases(aggregator, expiry, roundId, updatedAt, hints);
        // A late first round is still the feed's answer: after the wait anyone may post it, so a
        // series never freezes; the wait leaves time to see it coming (and a migration to finish).
        if (updatedAt - expiry > maxSettlementDelay && block.timestamp < expiry + settlementFallbackWait) {
            revert OracleSettlementFallbackNotOpen(roundId, updatedAt, expiry + settlementFallbackWait);
        }
        // A first round that answers no price at all (zero or less, or below 1 wei once scaled)
        // proves the anchor but cannot be the price: from the fallback's opening the price is the
        // next round in its phase that answers one (review 3, R5). Before that it reverts with its
        // own error. A price outside the bounds, first or walked to, may be the genuine one (a crash
        // below the floor): it stays refused until governance widens the bounds, and then posts as it
        // is (reviews rv43, rv44).
        if (_scaled(feed.head.decimals, answer) == 0 && block.timestamp >= expiry + settlementFallbackWait) {
            (roundId, answer, updatedAt) = _firstPricedAfter(feed, roundId);
        }
        priceWad = _validPrice(feed, answer);

        _settlementPrices[asset][expiry] = priceWad;
        emit SettlementPricePosted(asset, expiry, priceWad, roundId, updatedAt, msg.sender);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Validates a feed configuration against the hard limits and caches its decimals.
    function _checkedFeed(address asset, FeedConfig calldata config) private view returns (Feed memory) {
        if (
            asset == address(0) ||
            config.aggregator == address(0) ||
            config.maxAge < MIN_MAX_AGE ||
            config.maxAge > MAX_MAX_AGE ||
            config.minAnswerWad > type(uint128).max ||
            config.maxAnswerWad > type(uint128).max ||
            (config.minAnswerWad != 0 && config.maxAnswerWad != 0 && config.minAnswerWad > config.maxAnswerWad)
        ) revert OracleInvalidFeedConfig(asset);

        (bool ok, bytes memory data) = config.aggregator.staticcall(abi.encodeCall(AggregatorV3Interface.decimals, ()));
        if (!ok || data.length < 32) revert OracleFeedReverted(config.aggregator);
        // Decoded as uint256 so that an out-of-range value is rejected here, not by a decoder panic.
        uint256 decimals = abi.decode(data, (uint256));
        if (decimals > MAX_FEED_DECIMALS) revert OracleInvalidFeedConfig(asset);

        // maxAge ≤ MAX_MAX_AGE (2 days) fits 24 bits; the bounds fit 128 (checked above).
        return
            Feed({
                head: FeedHead({
                    aggregator: config.aggregator,
                    maxAge: uint24(config.maxAge),
                    decimals: uint8(decimals),
                    innerMin: _packUp(config.minAnswerWad),
                    innerMax: _packDown(config.maxAnswerWad)
                }),
                minAnswerWad: uint128(config.minAnswerWad),
                maxAnswerWad: uint128(config.maxAnswerWad)
            });
    }

    /// @dev The latest answer of `feed`, fully validated, in WAD. Reads the feed's first slot only,
    /// unless the price is outside the inner box of its bounds (`_inBox`): then the exact bounds
    /// decide, as `_validPrice`. One cold slot less a feed a check (2,100 gas).
    function _latest(address asset, Feed storage feed) private view returns (uint256 priceWad) {
        // Field by field onto the stack: a memory copy of the head costs each read about 230 gas more.
        FeedHead storage head = feed.head;
        address aggregator = head.aggregator;
        uint256 maxAge = head.maxAge;
        uint256 decimals = head.decimals;
        uint32 innerMin = head.innerMin;
        uint32 innerMax = head.innerMax;
        if (aggregator == address(0)) revert OracleFeedNotSet(asset);
        _checkSequencer();
        (bool ok, , int256 answer, , uint256 updatedAt) = _readLatest(aggregator);
        if (!ok) revert OracleFeedReverted(aggregator);
        // An `updatedAt` in the future is as untrustworthy as an old one: both count as stale.
        if (updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > maxAge) {
            revert OracleStalePrice(aggregator, updatedAt, maxAge);
        }
        priceWad = _scaled(decimals, answer);
        if (priceWad == 0 || !_inBox(_unpack(innerMin), _unpack(innerMax), priceWad)) {
            priceWad = _validPrice(feed, answer);
        }
    }

    /// @dev Whether `priceWad` lies in the inner box `[lo, hi]` of a feed's bounds (`FeedHead`,
    /// unpacked), and so within the bounds. `hi` is 0 exactly when the maximum is 0 (none).
    function _inBox(uint256 lo, uint256 hi, uint256 priceWad) private pure returns (bool) {
        return priceWad >= lo && (hi == 0 || priceWad <= hi);
    }

    // The inner box's 32-bit floats are written by hand: no well-kept library (Solady,
    // OpenZeppelin, PRBMath) packs a 128-bit bound into 32 bits rounded in a chosen direction.

    /// @dev The least 32-bit inner-box float (`Feed`) at or above `x` (< 2^128): `x` itself below
    /// 2^25, else its top 25 bits rounded up. At most 2^-24 of `x` above it.
    function _packUp(uint256 x) private pure returns (uint32) {
        if (x <= _MANTISSA_MASK) return uint32(x);
        uint256 e = FixedPointMathLib.log2(x) + 1 - _MANTISSA_BITS;
        uint256 m = (x + (1 << e) - 1) >> e;
        // Rounding up carried into a 26th bit: the same value with one more exponent step.
        if (m > _MANTISSA_MASK) (m, e) = (m >> 1, e + 1);
        return uint32((e << _MANTISSA_BITS) | m);
    }

    /// @dev The greatest 32-bit inner-box float (`Feed`) at or below `x` (< 2^128): `x` itself below
    /// 2^25, else its top 25 bits. Zero only for zero (no maximum).
    function _packDown(uint256 x) private pure returns (uint32) {
        if (x <= _MANTISSA_MASK) return uint32(x);
        uint256 e = FixedPointMathLib.log2(x) + 1 - _MANTISSA_BITS;
        return uint32((e << _MANTISSA_BITS) | (x >> e));
    }

    /// @dev The value of an inner-box float: its mantissa shifted by its exponent (below 2^152; at
    /// most 2^128 for what the setters store).
    function _unpack(uint32 packed) private pure returns (uint256) {
        return (uint256(packed) & _MANTISSA_MASK) << (uint256(packed) >> _MANTISSA_BITS);
    }

    /// @dev `liveSince` for one feed: walks back from the latest round while consecutive rounds
    /// are at most `maxAge` apart and valid, until a round at or before `notBefore`, the phase's
    /// first round or `MAX_LIVE_ROUNDS`; returns the oldest round of that unbroken run (or
    /// `notBefore`, whichever is later), or `notBefore` when the walk reached `MAX_LIVE_ROUNDS`
    /// with every gap live (a busy feed is not an outage: review R2). A feed that is not valid
    /// now answers `block.timestamp`. Reads the feed's first slot once, and the second only for
    /// an answer outside the inner box (`_isValidAnswer`).
    function _feedLiveSince(Feed storage feed, uint256 notBefore) private view returns (uint256) {
        FeedHead memory head = feed.head;
        address aggregator = head.aggregator;
        if (aggregator == address(0)) return block.timestamp;
        // The inner box, unpacked once for every round the walk judges.
        uint256 lo = _unpack(head.innerMin);
        uint256 hi = _unpack(head.innerMax);
        (bool ok, uint256 roundId, int256 answer, , uint256 updatedAt) = _readLatest(aggregator);
        if (!ok) return block.timestamp;
        if (
            updatedAt == 0 ||
            updatedAt > block.timestamp ||
            block.timestamp - updatedAt > head.maxAge ||
            !_isValidAnswer(feed, head.decimals, lo, hi, answer) ||
            roundId > type(uint80).max
        ) return block.timestamp;
        uint256 i;
        for (; i < MAX_LIVE_ROUNDS && updatedAt > notBefore && uint64(roundId) > 1; ++i) {
            --roundId;
            (bool found, int256 previousAnswer, , uint256 previousAt) = _readRound(aggregator, uint80(roundId));
            // A gap longer than maxAge, a missing or invalid round: the run starts at `updatedAt`.
            if (
                !found ||
                previousAt == 0 ||
                previousAt > updatedAt ||
                updatedAt - previousAt > head.maxAge ||
                !_isValidAnswer(feed, head.decimals, lo, hi, previousAnswer)
            ) return updatedAt;
            updatedAt = previousAt;
        }
        if (i == MAX_LIVE_ROUNDS) return notBefore;
        return updatedAt > notBefore ? updatedAt : notBefore;
    }

    /// @dev Whether `answer` of a feed of `decimals` passes `_validPrice` (positive, representable,
    /// within bounds): judged by the unpacked inner box `[lo, hi]` (`_inBox`), and by the exact
    /// bounds (the feed's second slot) only outside it. The walk unpacks the box once: unpacking
    /// it for each round cost each round about 170 gas more.
    function _isValidAnswer(
        Feed storage feed,
        uint256 decimals,
        uint256 lo,
        uint256 hi,
        int256 answer
    ) private view returns (bool) {
        uint256 priceWad = _scaled(decimals, answer);
        if (priceWad == 0) return false;
        return _inBox(lo, hi, priceWad) || _inBounds(feed.minAnswerWad, feed.maxAnswerWad, priceWad);
    }

    /// @dev `answer` of a feed of `decimals` in WAD, or 0 when it cannot be a price: not positive,
    /// past uint256 once scaled (rejected instead of panicking), or vanishing below 1 wei of WAD
    /// (rounds down).
    function _scaled(uint256 decimals, int256 answer) private pure returns (uint256) {
        if (answer <= 0) return 0;
        uint256 raw = uint256(answer);
        if (decimals > 18) return raw / uint256(10) ** (decimals - 18);
        uint256 scale = uint256(10) ** (18 - decimals);
        return raw > type(uint256).max / scale ? 0 : raw * scale;
    }

    /// @dev Whether `priceWad` lies within a feed's sanity bounds (a zero maximum is none).
    function _inBounds(uint256 minAnswerWad, uint256 maxAnswerWad, uint256 priceWad) private pure returns (bool) {
        return priceWad >= minAnswerWad && (maxAnswerWad == 0 || priceWad <= maxAnswerWad);
    }

    /// @dev Reverts unless the L2 sequencer is up and has been up for longer than the grace period.
    /// Chainlink uptime feeds answer 0 = up, 1 = down; any other answer is treated as down too.
    function _checkSequencer() private view {
        address feed = sequencerFeed;
        if (feed == address(0)) return; // L1: no sequencer.
        (bool ok, , int256 answer, uint256 startedAt, ) = _readLatest(feed);
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
        priceWad = _scaled(feed.head.decimals, answer);
        if (priceWad == 0) revert OracleInvalidPrice(feed.head.aggregator, answer);
        if (!_inBounds(feed.minAnswerWad, feed.maxAnswerWad, priceWad)) {
            revert OraclePriceOutOfBounds(feed.head.aggregator, priceWad, feed.minAnswerWad, feed.maxAnswerWad);
        }
    }

    /// @dev The first round after `roundId` in its phase that answers a price (`_scaled` ≠ 0), among
    /// the next `MAX_LIVE_ROUNDS`; the caller then applies the bounds to it, as to a first round:
    /// one outside them is refused until the bounds are widened, not skipped (it may be a genuine
    /// crash, review rv44). At the first round that does not exist yet it reverts
    /// `OracleRoundNotFound` (wait for it), or `OracleNoValidSettlementRound` when the proxy has
    /// moved to a later phase (a migration: the anchor's aggregator is retired); when none of them
    /// answers a price it reverts `OracleNoValidSettlementRound` too. Deterministic: the anchor is
    /// the proven first round after expiry, so the poster chooses nothing.
    function _firstPricedAfter(
        Feed memory feed,
        uint80 roundId
    ) private view returns (uint80 pricedId, int256 answer, uint256 updatedAt) {
        pricedId = roundId;
        for (uint256 i = 1; i <= MAX_LIVE_ROUNDS; ++i) {
            // The phase's last possible round has no successor in the phase.
            if (uint64(roundId) > type(uint64).max - i) break;
            uint80 next = roundId + uint80(i);
            bool ok;
            (ok, answer, , updatedAt) = _readRound(feed.head.aggregator, next);
            if (!ok || updatedAt == 0) {
                if (roundId >> _PHASE_OFFSET < _currentPhase(feed.head.aggregator)) break;
                revert OracleRoundNotFound(next);
            }
            pricedId = next;
            if (_scaled(feed.head.decimals, answer) != 0) return (pricedId, answer, updatedAt);
        }
        revert OracleNoValidSettlementRound(roundId, pricedId);
    }

    /// @dev Reverts unless no earlier round of `roundId`'s own phase is at or after expiry: `roundId` is
    /// its phase's round 1 (or 0), or `roundId - 1` exists and is before expiry. A missing predecessor
    /// (a gap) is not a proof: Chainlink aggregators number rounds consecutively from 1.
    function _checkFirstInPhase(address aggregator, uint256 expiry, uint80 roundId) private view {
        if (uint64(roundId) <= 1) return;
        uint80 previous = roundId - 1;
        (bool ok, , , uint256 previousUpdatedAt) = _readRound(aggregator, previous);
        if (!ok || previousUpdatedAt == 0 || previousUpdatedAt >= expiry) {
            revert OracleRoundNotFirstAfterExpiry(roundId, previous);
        }
    }

    /// @dev Reverts unless no round of another phase of the feed lies in [expiry, updatedAt] before
    /// `roundId` (ties: the lower phase first). The phases are `1..current`, `current` being the phase
    /// of `latestRoundData()` (0 for a plain aggregator: no other phase). `hints[i]` is, for the i-th of
    /// those phases other than `roundId`'s, its last round before expiry (`phase << 64` for none); the
    /// round after it must not exist or must come after `roundId`. Rounds within a phase are
    /// consecutive and monotone in time, so that round is the phase's first at or after expiry.
    function _checkFirstAcrossPhases(
        address aggregator,
        uint256 expiry,
        uint80 roundId,
        uint256 updatedAt,
        uint80[] calldata hints
    ) private view {
        uint256 phase = roundId >> _PHASE_OFFSET;
        uint256 current = _currentPhase(aggregator);
        // A phase the proxy has not switched to is not part of its history yet.
        if (phase > current) revert OracleRoundNotFound(roundId);
        uint256 expected = phase == 0 ? current : current - 1;
        if (hints.length != expected) revert OracleSettlementHintsLength(hints.length, expected);

        uint256 otherPhase;
        for (uint256 i; i < hints.length; ++i) {
            ++otherPhase;
            if (otherPhase == phase) ++otherPhase;
            uint80 hint = hints[i];
            if (hint >> _PHASE_OFFSET != otherPhase) revert OracleSettlementHintInvalid(i, hint, otherPhase);
            if (uint64(hint) != 0) {
                (bool ok, , , uint256 hintUpdatedAt) = _readRound(aggregator, hint);
                if (!ok || hintUpdatedAt == 0 || hintUpdatedAt >= expiry) {
                    revert OracleSettlementHintInvalid(i, hint, otherPhase);
                }
                if (uint64(hint) == type(uint64).max) continue; // the phase's last possible round
            }
            uint80 next = hint + 1;
            (bool nextOk, , , uint256 nextUpdatedAt) = _readRound(aggregator, next);
            if (!nextOk || nextUpdatedAt == 0) continue; // the phase has no round after the hint
            // The hint was not the phase's last round before expiry.
            if (nextUpdatedAt < expiry) revert OracleSettlementHintInvalid(i, hint, otherPhase);
            if (nextUpdatedAt < updatedAt || (nextUpdatedAt == updatedAt && otherPhase < phase)) {
                revert OracleRoundNotFirstAfterExpiry(roundId, next);
            }
        }
    }

    /// @dev The phase of the feed's latest round: `latestRoundData().roundId >> 64`.
    function _currentPhase(address aggregator) private view returns (uint256) {
        (bool ok, uint256 roundId, , , ) = _readLatest(aggregator);
        if (!ok) revert OracleFeedReverted(aggregator);
        return roundId >> _PHASE_OFFSET;
    }

    /// @dev Reads `latestRoundData()`; see `_call`.
    function _readLatest(
        address aggregator
    ) private view returns (bool ok, uint256 roundId, int256 answer, uint256 startedAt, uint256 updatedAt) {
        return _call(aggregator, AggregatorV3Interface.latestRoundData.selector, 4, 0);
    }

    /// @dev Reads `getRoundData(roundId)`; see `_call`.
    function _readRound(
        address aggregator,
        uint80 roundId
    ) private view returns (bool ok, int256 answer, uint256 startedAt, uint256 updatedAt) {
        (ok, , answer, startedAt, updatedAt) = _call(
            aggregator,
            AggregatorV3Interface.getRoundData.selector,
            36,
            roundId
        );
    }

    /// @dev Calls `selector` (with `argument`, a round id, when `size` is 36) and returns the
    /// round's first four words. Never reverts: `ok` is false when the call reverts or returns fewer
    /// than the five words of the ABI. Every word is read as a 256-bit type, so reading cannot
    /// fail. Written in assembly (every price read passes here): the call's arguments and the first
    /// five words of its return data use the free memory without allocating it, and nothing more
    /// is copied.
    function _call(
        address aggregator,
        bytes4 selector,
        uint256 size,
        uint80 argument
    ) private view returns (bool ok, uint256 roundId, int256 answer, uint256 startedAt, uint256 updatedAt) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            // Masked to 80 bits as the ABI encoder would: a uint80 on the stack is not promised
            // clean upper bits in assembly (review rv45 P3-2; every caller passes a clean one today).
            mstore(add(m, 4), and(argument, 0xffffffffffffffffffff))
            // Yul evaluates arguments right to left: the return data's size is read after the call,
            // in its own step.
            ok := staticcall(gas(), aggregator, m, size, m, 160)
            if lt(returndatasize(), 160) {
                ok := 0
            }
            if ok {
                roundId := mload(m)
                answer := mload(add(m, 0x20))
                startedAt := mload(add(m, 0x40))
                updatedAt := mload(add(m, 0x60))
            }
        }
    }

    function _toConfig(Feed memory feed) private pure returns (FeedConfig memory) {
        return FeedConfig(feed.head.aggregator, feed.head.maxAge, feed.minAnswerWad, feed.maxAnswerWad);
    }
}
