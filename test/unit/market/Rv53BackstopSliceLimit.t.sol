// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {LiquidationFixture} from "../../helpers/LiquidationFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @title Review rv53: the slice's reused limit through a real Backstop takeover
/// @notice The fund takes over an insolvent account holding three series in one
/// `moduleSlicePositions(from, fund, WAD)`: the engine is asked the fund's limit once (the old
/// code asked three times), and an ISOLATED fund (limit 1) refuses the takeover with the market's
/// error, naming the fund and 1.
contract Rv53BackstopSliceLimitTest is LiquidationFixture {
    AccountId internal fund;
    SeriesId[3] internal calls;

    function setUp() public override {
        super.setUp();
        fund = insurance.account();
        _fundAndDeposit(alice, fund, usdc, 2_000_000e6);
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        for (uint256 i; i < 3; ++i) {
            calls[i] = _createSeries(ethIndex, 30, 3_200e18 + 100e18 * i, true);
            _trade(carolKey, carolAccount, bobAccount, calls[i], -3e18, 100e18);
        }
    }

    function test_rv53_takeoverAsksTheFundsLimitOnce() public {
        _pushInsolvent();
        _startAndWait();
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (fund)), 1);
        backstop.takeover(carolAccount);
        for (uint256 i; i < 3; ++i) assertEq(market.positionOf(fund, calls[i]), -3e18);
        (SeriesId[] memory held, ) = market.positionsOf(carolAccount);
        assertEq(held.length, 0);
    }

    function test_rv53_isolatedFundRefusesATakeoverOfThreeSeries() public {
        vm.prank(address(insurance));
        engine.setMarginMode(fund, IMarginEngine.MarginMode.ISOLATED);
        _pushInsolvent();
        _startAndWait();
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, fund, 1));
        backstop.takeover(carolAccount);
    }
}
