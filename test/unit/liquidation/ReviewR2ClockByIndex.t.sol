// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Review rv48 (91793ba): `_liveClock` skips a repeated underlying by index before it asks
/// the engine for the asset. With series interleaved across two underlyings (ETH, BTC, ETH, BTC)
/// and WETH also held as collateral, the clock still moves to the end of an outage on either
/// underlying, each underlying's asset and feed is read exactly once, and the collateral loop still
/// skips WETH because it was read as an underlying. Passes on the code before and after 91793ba
/// except for the engine call counts, which were 2 per underlying before.
contract ReviewR2ClockByIndexTest is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal bobAccount;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        bobAccount = _account(bob, 1);
        _fundAndDeposit(bob, bobAccount, usdc, 10_000_000e6);
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);

        // Interleaved: ETH, BTC, ETH, BTC; WETH also as collateral.
        _fundAndDeposit(carol, carolAccount, usdc, 10_000e6);
        _fundAndDeposit(carol, carolAccount, weth, 0.01e18);
        SeriesId ethCall = _createSeries(ethIndex, 30, 3_200e18, true);
        SeriesId btcPut = _createSeries(btcIndex, 30, 55_000e18, false);
        SeriesId ethCall2 = _createSeries(ethIndex, 30, 3_400e18, true);
        SeriesId btcCall = _createSeries(btcIndex, 30, 65_000e18, true);
        _trade(carolKey, carolAccount, bobAccount, ethCall, -10e18, engine.mark(ethCall));
        _trade(carolKey, carolAccount, bobAccount, btcPut, -0.001e18, engine.mark(btcPut));
        _trade(carolKey, carolAccount, bobAccount, ethCall2, -0.01e18, engine.mark(ethCall2));
        _trade(carolKey, carolAccount, bobAccount, btcCall, -0.001e18, engine.mark(btcCall));
        for (
            int256 price = 3_000e8;
            engine.accountMargin(carolAccount).health < IMarginEngine.Health.LIQUIDATABLE;
            price += 10e8
        ) {
            ethUsd.updateAnswer(price);
        }
        liquidator.startAuction(carolAccount);
    }

    /// @dev No outage: one engine read and one `liveSince` per underlying, none for WETH collateral
    /// beyond its underlying read, and the clock stays at the start.
    function test_rv48_interleavedUnderlyingsReadOnceEach() public {
        uint256 start = block.timestamp;
        vm.warp(block.timestamp + 60);
        _refreshFeeds();
        vm.expectCall(address(engine), abi.encodeCall(engine.underlying, (ethIndex)), 1);
        vm.expectCall(address(engine), abi.encodeCall(engine.underlying, (btcIndex)), 1);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.liveSince, (address(weth), start)), 1);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.liveSince, (address(wbtc), start)), 1);
        (bool running, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertTrue(running);
        assertEq(clockStart, start);
    }

    /// @dev An outage on BTC (index 2, after a repeated index 1) alone moves the clock to its end.
    function test_rv48_outageOnTheSecondUnderlyingMovesTheClock() public {
        _outage(btcUsd, btcVol, ethUsd, ethVol);
    }

    /// @dev An outage on ETH (index 1, also held as collateral) alone moves the clock to its end.
    function test_rv48_outageOnTheFirstUnderlyingMovesTheClock() public {
        _outage(ethUsd, ethVol, btcUsd, btcVol);
    }

    /// @dev `downSpot` misses its heartbeat while the other feeds tick every 20 minutes; then it comes
    /// back at `back`, and a few more rounds follow. The clock starts again at `back`, and a
    /// preview/bid shares that clock.
    function _outage(
        MockV3Aggregator downSpot,
        MockV3Aggregator downVol,
        MockV3Aggregator liveSpot,
        MockV3Aggregator liveVol
    ) internal {
        for (uint256 i; i < 5; ++i) {
            vm.warp(block.timestamp + 20 minutes);
            liveSpot.updateAnswer(liveSpot.latestAnswer());
            liveVol.updateAnswer(liveVol.latestAnswer());
            downVol.updateAnswer(downVol.latestAnswer());
        }
        uint256 back = block.timestamp;
        downSpot.updateAnswer(downSpot.latestAnswer());
        for (uint256 i; i < 3; ++i) {
            vm.warp(block.timestamp + 10);
            _refreshFeeds();
        }
        (bool running, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertTrue(running);
        assertEq(clockStart, back, "the clock restarts at the end of the outage");
        // Nothing elapsed on the moved clock but 30 s: the discount is near the start's.
        uint256 discount = liquidator.previewBid(carolAccount, 0.01e18).discountWad;
        assertLt(discount, liquidator.auctionParams().startDiscountWad + 0.01e18);
    }
}
