// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @notice The oracle's two-slot feed: bounds above 2^128 − 1 are refused when the feed is set,
/// and bounds at the limit read back whole.
contract FeedBoundsTest is PledgeFixture {
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
}
