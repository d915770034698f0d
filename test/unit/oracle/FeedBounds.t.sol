// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {OracleBoundsFixture} from "../../helpers/OracleBoundsFixture.sol";

/// @notice The oracle's two-slot feed: bounds above 2^128 − 1 are refused when the feed is set,
/// and bounds at the limit read back whole. A price read takes the first slot only when the price
/// is inside the bounds' inner box, and the exact bounds otherwise: the fuzz below puts prices
/// within a few parts in 2^20 of either bound, where the box and the bounds differ.
contract FeedBoundsTest is OracleBoundsFixture {
    function test_boundsAbove128BitsAreRefused() public {
        IChainlinkOracle.FeedConfig memory config = IChainlinkOracle.FeedConfig(
            address(ethUsd),
            uint32(SPOT_MAX_AGE),
            0,
            uint256(type(uint128).max) + 1
        );
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidFeedConfig.selector, address(weth)));
        oracle.setSpotFeed(address(weth), config);
        (config.minAnswerWad, config.maxAnswerWad) = (uint256(type(uint128).max) + 1, 0);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidFeedConfig.selector, address(weth)));
        oracle.setVolFeed(address(weth), config);
    }

    function test_boundsAt128BitsReadBackAndApply() public {
        IChainlinkOracle.FeedConfig memory config = IChainlinkOracle.FeedConfig(
            address(ethUsd),
            uint32(SPOT_MAX_AGE),
            type(uint128).max - 1,
            type(uint128).max
        );
        vm.prank(admin);
        oracle.setSpotFeed(address(weth), config);
        IChainlinkOracle.FeedConfig memory stored = oracle.spotFeed(address(weth));
        assertEq(stored.minAnswerWad, type(uint128).max - 1);
        assertEq(stored.maxAnswerWad, type(uint128).max);
        // 3,000 USD is below the lower bound: the read still fails closed.
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(ethUsd),
                3000e18,
                uint256(type(uint128).max - 1),
                uint256(type(uint128).max)
            )
        );
        oracle.spot(address(weth));
    }

    /// @dev `_setWad`, answering `answer`.
    function _wadFeed(uint256 minWad, uint256 maxWad, int256 answer) private {
        _setWad(minWad, maxWad);
        boundsFeed.updateAnswer(answer);
    }

    function testFuzz_theInnerBoxJudgesAsTheExactBounds(
        uint128 minWad,
        uint128 maxWad,
        uint256 offset,
        bool nearMin,
        bool below,
        bool noMax
    ) public {
        if (noMax) maxWad = 0;
        else if (minWad > maxWad) (minWad, maxWad) = (maxWad, minWad);
        uint256 edge = nearMin ? minWad : maxWad;
        // Up to 2^-20 of the bound either side (the box is within 2^-24 of it), and a few wei.
        offset = bound(offset, 0, (edge >> 20) + 3);
        uint256 price = below ? (offset >= edge ? 1 : edge - offset) : edge + offset;
        if (price == 0) price = 1;
        _setWad(minWad, maxWad);
        _assertJudgedExactly(price, minWad, maxWad);
    }

    function test_aPriceInsideTheBoxReadsOneFeedSlot() public {
        _wadFeed(100e18, 10_000e18, 3_000e18);
        vm.record();
        oracle.spot(address(weth));
        (bytes32[] memory reads, ) = vm.accesses(address(oracle));
        for (uint256 i = 1; i < reads.length; ++i) assertEq(reads[i], reads[0], "a second oracle slot was read");
        assertGt(reads.length, 0);
    }

    function test_aPriceBetweenTheBoxAndTheBoundReadsTheExactBounds() public {
        // 2^30 + 1 needs 31 bits: the box's least bound above it is 2^30 + 2^6, so the price at
        // the exact minimum is outside the box and inside the bounds.
        uint256 minWad = (1 << 30) + 1;
        _wadFeed(minWad, 0, int256(minWad));
        vm.record();
        assertEq(oracle.spot(address(weth)), minWad);
        (bytes32[] memory reads, ) = vm.accesses(address(oracle));
        bool second;
        for (uint256 i = 1; i < reads.length; ++i) second = second || reads[i] != reads[0];
        assertTrue(second, "the exact bounds were not read");
        // One wei below the minimum is refused, though the box and the bound round alike there.
        _wadFeed(minWad, 0, int256(minWad - 1));
        vm.expectRevert();
        oracle.spot(address(weth));
    }
}
