// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {LiveSinceFixture} from "../../helpers/LiveSinceFixture.sol";

/// @notice `liveSince` judges each round it walks by the feed's inner box, and by the exact bounds
/// (the feed's second slot) only for a price outside the box: a round is live exactly when a
/// price read of its answer would be accepted, and a walk of prices inside the box reads each
/// feed's first slot alone.
contract LiveSinceBoxTest is LiveSinceFixture {
    function _inBounds(uint256 price, uint256 minWad, uint256 maxWad) private pure returns (bool) {
        return price >= minWad && (maxWad == 0 || price <= maxWad);
    }

    /// @dev A price within 2^-20 of `edge` (the box is within 2^-24 of a bound), or a few wei.
    function _near(uint256 edge, uint256 offset, bool below) private pure returns (uint256 price) {
        offset = offset % ((edge >> 20) + 4);
        price = below ? (offset >= edge ? 1 : edge - offset) : edge + offset;
        if (price == 0) price = 1;
    }

    /// @dev Every round of the walk is judged as `spot` would judge it, at prices around either
    /// bound: the latest round (judged before the walk) and a round walked past.
    function testFuzz_aRoundIsLiveExactlyWhenItsPriceIsInBounds(
        uint128 a,
        uint128 b,
        uint256 offset,
        bool nearMin,
        bool below,
        bool noMax
    ) public {
        (uint256 minWad, uint256 maxWad) = a <= b ? (uint256(a), uint256(b)) : (uint256(b), uint256(a));
        if (noMax) maxWad = 0;
        uint256 price = _near(nearMin ? minWad : maxWad, offset, below);
        bool live = _inBounds(price, minWad, maxWad);
        // A price the bounds accept for the other rounds: the minimum itself, or 1 wei with none.
        uint256 good = minWad == 0 ? 1 : minWad;
        oracle.setSpotFeed(WETH, IChainlinkOracle.FeedConfig(address(spot), MAX_AGE, minWad, maxWad));

        // A round walked past: live, the walk reaches the phase's first round.
        _rounds(spot, int256(good), int256(price), int256(good));
        assertEq(oracle.liveSince(WETH, 0), live ? T0 - 60 minutes : T0, "a walked round");
        // The latest round: not live answers now.
        _rounds(spot, int256(price), int256(good), int256(good));
        assertEq(oracle.liveSince(WETH, 0), live ? T0 - 60 minutes : T0, "the latest round");
        // `spot` agrees.
        try oracle.spot(WETH) returns (uint256 read) {
            assertTrue(live, "spot accepted what the walk refused");
            assertEq(read, price);
        } catch {
            assertFalse(live, "spot refused what the walk accepted");
        }
    }

    /// @dev The vol feed's walk takes the same judge.
    function test_theVolWalkJudgesOneWeiOutsideEitherBound() public {
        uint256 minWad = 0.1e18 + 1;
        uint256 maxWad = 5e18 - 1;
        oracle.setSpotFeed(WETH, IChainlinkOracle.FeedConfig(address(spot), MAX_AGE, 0, 0));
        _rounds(spot, 3_000e18, 3_000e18, 3_000e18);
        oracle.setVolFeed(WETH, IChainlinkOracle.FeedConfig(address(vol), MAX_AGE, minWad, maxWad));
        _rounds(vol, 1e18, int256(minWad), 1e18);
        assertEq(oracle.liveSince(WETH, 0), T0 - 60 minutes, "the exact minimum is live");
        _rounds(vol, 1e18, int256(maxWad), 1e18);
        assertEq(oracle.liveSince(WETH, 0), T0 - 60 minutes, "the exact maximum is live");
        _rounds(vol, 1e18, int256(minWad - 1), 1e18);
        assertEq(oracle.liveSince(WETH, 0), T0, "one wei below the minimum");
        _rounds(vol, 1e18, int256(maxWad + 1), 1e18);
        assertEq(oracle.liveSince(WETH, 0), T0, "one wei above the maximum");
    }

    /// @dev Slots of the oracle `liveSince` read, with a spot and a vol feed whose rounds answer
    /// `spotPrice` and `volPrice`.
    function _slotsRead(uint256 spotPrice, uint256 volPrice) private returns (bytes32[] memory reads) {
        oracle.setSpotFeed(WETH, IChainlinkOracle.FeedConfig(address(spot), MAX_AGE, 100e18 + 1, 10_000e18 - 1));
        oracle.setVolFeed(WETH, IChainlinkOracle.FeedConfig(address(vol), MAX_AGE, 0.1e18 + 1, 5e18 - 1));
        _rounds(spot, int256(spotPrice), int256(spotPrice), int256(spotPrice));
        _rounds(vol, int256(volPrice), int256(volPrice), int256(volPrice));
        vm.record();
        assertEq(oracle.liveSince(WETH, 0), T0 - 60 minutes);
        (reads, ) = vm.accesses(address(oracle));
    }

    function _count(bytes32[] memory reads, bytes32 slot) private pure returns (uint256 n) {
        for (uint256 i; i < reads.length; ++i) if (reads[i] == slot) ++n;
    }

    /// @dev Inside both boxes the walk reads each feed's first slot and never its bounds.
    function test_aWalkInsideTheBoxesReadsEachFeedsFirstSlotOnly() public {
        bytes32[] memory reads = _slotsRead(3_000e18, 1e18);
        for (uint256 i; i < reads.length; ++i) {
            assertTrue(
                reads[i] == _feedSlot(SPOT_FEEDS_SLOT, 0) || reads[i] == _feedSlot(VOL_FEEDS_SLOT, 0),
                "a slot other than a feed's first was read"
            );
        }
        assertGt(_count(reads, _feedSlot(SPOT_FEEDS_SLOT, 0)), 0);
        assertGt(_count(reads, _feedSlot(VOL_FEEDS_SLOT, 0)), 0);
    }

    /// @dev A price at the exact minimum is outside the box (the bound is not a float), so the
    /// exact bounds are read, and the round is live.
    function test_aPriceBetweenTheBoxAndTheBoundReadsTheBounds() public {
        bytes32[] memory reads = _slotsRead(100e18 + 1, 1e18);
        assertGt(_count(reads, _feedSlot(SPOT_FEEDS_SLOT, 1)), 0, "the spot bounds were not read");
        assertEq(_count(reads, _feedSlot(VOL_FEEDS_SLOT, 1)), 0, "the vol bounds were read");
        reads = _slotsRead(3_000e18, 5e18 - 1);
        assertEq(_count(reads, _feedSlot(SPOT_FEEDS_SLOT, 1)), 0, "the spot bounds were read");
        assertGt(_count(reads, _feedSlot(VOL_FEEDS_SLOT, 1)), 0, "the vol bounds were not read");
    }
}
