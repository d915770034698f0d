// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title MockFaultyAggregator
/// @notice A Chainlink feed (proxy-style) for failure modes: explicit rounds with phase ids
/// (`roundId = phase << 64 | n`), gaps, missing rounds that revert or read as zeros, any answer,
/// any decimals, any `startedAt` (for sequencer uptime feeds), a revert switch and malformed returns.
/// @dev Test only. Not for deployment.
contract MockFaultyAggregator is AggregatorV3Interface {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    /// @notice How `getRoundData` answers for a round that was never set.
    enum MissingRoundMode {
        Revert, // like a real proxy: reverts "No data present"
        Zeros // returns a round with every field zero
    }

    error MockFeedReverted();

    uint8 private _decimals;
    bool public shouldRevert;
    bool public returnsMalformed;
    MissingRoundMode public missingRoundMode;
    uint80 public latestRoundId;
    mapping(uint80 roundId => Round) public rounds;

    constructor(uint8 decimals_) {
        _decimals = decimals_;
    }

    // ---------------------------------------------------------------- setters

    function setDecimals(uint8 decimals_) external {
        _decimals = decimals_;
    }

    function setRevert(bool shouldRevert_) external {
        shouldRevert = shouldRevert_;
    }

    function setMalformed(bool returnsMalformed_) external {
        returnsMalformed = returnsMalformed_;
    }

    function setMissingRoundMode(MissingRoundMode mode) external {
        missingRoundMode = mode;
    }

    /// @notice Sets round `roundId`; it becomes the latest if its id is the highest so far.
    function setRound(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt) public {
        rounds[roundId] = Round(answer, startedAt, updatedAt);
        if (roundId > latestRoundId) latestRoundId = roundId;
    }

    /// @notice Sets round `n` of phase `phase`.
    function setPhaseRound(uint16 phase, uint64 n, int256 answer, uint256 updatedAt) external {
        setRound(roundIdOf(phase, n), answer, updatedAt, updatedAt);
    }

    /// @notice Overwrites the latest round (id 1 if none yet): handy for sequencer feeds.
    function setLatest(int256 answer, uint256 startedAt, uint256 updatedAt) external {
        setRound(latestRoundId == 0 ? 1 : latestRoundId, answer, startedAt, updatedAt);
    }

    /// @notice Removes a round, leaving a gap.
    function deleteRound(uint80 roundId) external {
        delete rounds[roundId];
    }

    function roundIdOf(uint16 phase, uint64 n) public pure returns (uint80) {
        return (uint80(phase) << 64) | n;
    }

    // ---------------------------------------------------------------- AggregatorV3Interface

    function decimals() external view returns (uint8) {
        _maybeFail();
        return _decimals;
    }

    function description() external pure returns (string memory) {
        return "MockFaultyAggregator";
    }

    function version() external pure returns (uint256) {
        return 0;
    }

    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        _maybeFail();
        Round memory r = rounds[roundId];
        if (r.updatedAt == 0 && r.startedAt == 0 && r.answer == 0) {
            // A string reason on purpose: it is what real Chainlink aggregators revert with.
            // solhint-disable-next-line gas-custom-errors
            if (missingRoundMode == MissingRoundMode.Revert) revert("No data present");
            return (0, 0, 0, 0, 0);
        }
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        _maybeFail();
        Round memory r = rounds[latestRoundId];
        return (latestRoundId, r.answer, r.startedAt, r.updatedAt, latestRoundId);
    }

    function _maybeFail() private view {
        if (shouldRevert) revert MockFeedReverted();
        if (returnsMalformed) {
            // Returns a single word where the ABI promises five.
            assembly ("memory-safe") {
                mstore(0, 1)
                return(0, 32)
            }
        }
    }
}
