// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IChainlinkOracle} from "../../contracts/interfaces/IChainlinkOracle.sol";
import {PledgeFixture} from "./PledgeFixture.sol";

/// @notice The whole protocol (`PledgeFixture`) with a WAD spot feed for `weth` (18 decimals, so an
/// answer is the price the bounds judge) and the one judge of the oracle's sanity bounds that the
/// bounds tests share: `spot` accepts a price exactly when the exact bounds do, and refuses every
/// other with `OraclePriceOutOfBounds` and the exact bounds, whatever the inner box says.
abstract contract OracleBoundsFixture is PledgeFixture {
    /// @dev Created by the first `_setWad`; kept, so that a test can move its answer.
    MockV3Aggregator internal boundsFeed;

    /// @dev Points `weth`'s spot at `boundsFeed` with the bounds `[minWad, maxWad]` (0: none).
    function _setWad(uint256 minWad, uint256 maxWad) internal {
        if (address(boundsFeed) == address(0)) boundsFeed = new MockV3Aggregator(18, 1);
        vm.prank(admin);
        oracle.setSpotFeed(
            address(weth),
            IChainlinkOracle.FeedConfig(address(boundsFeed), uint32(SPOT_MAX_AGE), minWad, maxWad)
        );
    }

    /// @dev Answers `price` and checks `spot` against the exact bounds, byte for byte. A price the
    /// feed cannot answer as a positive int256 is skipped.
    function _assertJudgedExactly(uint256 price, uint256 minWad, uint256 maxWad) internal {
        if (price == 0 || price > uint256(type(int256).max)) return;
        boundsFeed.updateAnswer(int256(price));
        bool inBounds = price >= minWad && (maxWad == 0 || price <= maxWad);
        try oracle.spot(address(weth)) returns (uint256 read) {
            assertTrue(inBounds, "accepted outside the exact bounds");
            assertEq(read, price);
        } catch (bytes memory reason) {
            assertFalse(inBounds, "refused inside the exact bounds");
            assertEq(
                reason,
                abi.encodeWithSelector(
                    IChainlinkOracle.OraclePriceOutOfBounds.selector,
                    address(boundsFeed),
                    price,
                    minWad,
                    maxWad
                )
            );
        }
    }
}
