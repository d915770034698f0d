// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ChainlinkOracle} from "../../contracts/oracle/ChainlinkOracle.sol";
import {MockFaultyAggregator} from "../../contracts/mocks/MockFaultyAggregator.sol";

/// @notice An oracle alone (no sequencer), with a spot and a vol feed for `WETH` that answer in
/// WAD (18 decimals, so an answer is the price the bounds judge), for the tests of `liveSince`'s
/// walk: three rounds 30 minutes apart (`_rounds`) and the feeds' storage slots (`_feedSlot`).
abstract contract LiveSinceFixture is Test {
    uint256 internal constant T0 = 1_700_000_000;
    uint32 internal constant MAX_AGE = 1 hours;
    address internal constant WETH = address(0xE7);
    /// @dev `_spotFeeds` follows AccessControl's `_roles` (slot 0); `_volFeeds` follows it.
    uint256 internal constant SPOT_FEEDS_SLOT = 1;
    uint256 internal constant VOL_FEEDS_SLOT = 2;

    ChainlinkOracle internal oracle;
    MockFaultyAggregator internal spot;
    MockFaultyAggregator internal vol;

    function setUp() public virtual {
        vm.warp(T0);
        // No sequencer: the walks alone are read.
        oracle = new ChainlinkOracle(address(this), address(0), 0, 2 hours, 1 days);
        spot = new MockFaultyAggregator(18);
        vol = new MockFaultyAggregator(18);
    }

    /// @dev Three rounds of `feed` 30 minutes apart, the latest now: a walk from `notBefore` 0 that
    /// finds all three live answers T0 − 60 minutes.
    function _rounds(MockFaultyAggregator feed, int256 latest, int256 middle, int256 first) internal {
        feed.setPhaseRound(1, 1, first, T0 - 60 minutes);
        feed.setPhaseRound(1, 2, middle, T0 - 30 minutes);
        feed.setPhaseRound(1, 3, latest, T0);
    }

    /// @dev Word `word` (0: the head, 1: the exact bounds) of `WETH`'s feed in mapping `mapSlot`.
    function _feedSlot(uint256 mapSlot, uint256 word) internal pure returns (bytes32) {
        return bytes32(uint256(keccak256(abi.encode(WETH, mapSlot))) + word);
    }
}
