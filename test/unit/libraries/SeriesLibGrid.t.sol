// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @notice `SeriesLib`'s expiry grid (what `VolSurfaceOracle` accepts) is the deployed
/// `OptionMarket`'s (what `createSeries` accepts): the same constants, and the same verdict on any
/// expiry. OptionMarket keeps its own copy of the rule; this test is what ties the two together.
contract SeriesLibGridTest is PledgeFixture {
    function test_gridConstants_equalTheMarkets() public view {
        assertEq(SeriesLib.EXPIRY_TIME_OF_DAY, market.EXPIRY_TIME_OF_DAY());
        assertEq(SeriesLib.MAX_EXPIRY_HORIZON, market.MAX_EXPIRY_HORIZON());
    }

    /// @dev For any expiry (biased to the grid's edges), `onExpiryGrid` is true exactly when the
    /// market creates the series, and false exactly when it reverts with `MarketInvalidExpiry`.
    function testFuzz_onExpiryGrid_agreesWithCreateSeries(uint256 seed, uint256 offset, uint256 warp) public {
        vm.warp(block.timestamp + bound(warp, 0, 3 days));
        _refreshFeeds(); // createSeries reads spot (the strike band)
        uint256 day = block.timestamp / 1 days;
        uint256 expiry;
        uint256 mode = seed % 4;
        if (mode == 0) expiry = (day + bound(offset, 0, 370)) * 1 days + SeriesLib.EXPIRY_TIME_OF_DAY;
        else if (mode == 1) expiry = block.timestamp + SeriesLib.MAX_EXPIRY_HORIZON - 1 days + bound(offset, 0, 2 days);
        else if (mode == 2) expiry = block.timestamp - 1 days + bound(offset, 0, 2 days);
        else expiry = bound(offset, 0, block.timestamp + 400 days);
        bool onGrid = SeriesLib.onExpiryGrid(expiry, block.timestamp);
        if (!onGrid) vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidExpiry.selector, expiry));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3_000e18));
    }
}
