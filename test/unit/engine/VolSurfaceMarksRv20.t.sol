// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {VolSurfaceMarksTest} from "./VolSurfaceMarks.t.sol";

/// @notice Review rv20 (issue 17 part 2; docs/security.md M8-M10): its repros as regressions.
/// P1 and P3a are fixed (`_fixed`); P2 is open and pinned as it stands (`_open`, docs/security.md
/// M8).
contract VolSurfaceMarksRv20Test is VolSurfaceMarksTest {
    /// @dev P1: a PORTFOLIO account long ATM puts marked at a crash smile (ATM ~140 %) that then goes
    /// stale while the vol feed falls to 50 %. Before the fix its longs kept the stale smile's vol
    /// (max(last, feed)), and a "reducing" buy-back, which the gate prices with `accountMargin`,
    /// paid its whole IM excess to a sink account that withdrew it: bad debt after a 10 % move.
    /// Now a FALLBACK long is valued at min(last, feed): the account is never worth more than at
    /// the flat feed, the protocol's risk model without a surface.
    function test_rv20_P1_fixed_staleLongIsWorthNoMoreThanAtTheFeed() public {
        _staleLongBook(4e18);
        _assertNoAboveFeedCredit();
    }

    function test_rv20_P1_fixed_steeperSmile() public {
        _staleLongBook(9e18);
        _assertNoAboveFeedCredit();
    }

    /// @dev P1, general form: the buy-back on WBTC (not on the surface) paid to an account with no
    /// deposit. The IM excess the gate can pay out is now the flat feed's at most.
    function test_rv20_P1_fixed_viaAnotherUnderlying() public {
        SeriesId putAtm = _createSeries(ethIndex, 30, 3_000e18, false);
        _fresh(4e18, 1e18);
        _trade(carolKey, carolPortfolio, bobAccount, putAtm, 150e18, engine.mark(putAtm));
        _trade(carolKey, carolPortfolio, bobAccount, btcCall30, -1e18, engine.mark(btcCall30));
        _wait(2 hours + 1);
        ethVol.updateAnswer(0.5e8);
        _assertNoAboveFeedCredit();
    }

    function _staleLongBook(int256 level) internal {
        SeriesId putAtm = _createSeries(ethIndex, 30, 3_000e18, false);
        (address dave, ) = makeAddrAndKey("dave");
        AccountId sink = _account(dave, 1);
        _fundAndDeposit(dave, sink, usdc, 10_000e6);
        _fresh(level, 1e18);
        _trade(carolKey, carolPortfolio, bobAccount, putAtm, 150e18, engine.mark(putAtm));
        _trade(carolKey, carolPortfolio, sink, call30, -1e18, engine.mark(call30));
        _wait(2 hours + 1);
        ethVol.updateAnswer(0.5e8);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginEngine.EngineVolSurfaceUnusable.selector,
                address(weth),
                SeriesLib.expiryOf(call30)
            )
        );
        engine.checkInitialMargin(carolPortfolio);
    }

    /// @dev On a FALLBACK surface the account's excesses are at most the flat feed's (the engine
    /// with no surface): no credit beyond the pre-surface risk model, whatever the stale smile says.
    function _assertNoAboveFeedCredit() internal {
        (int256 imStale, int256 mmStale) = engine.excesses(carolPortfolio);
        vm.prank(admin);
        engine.setVolSurface(IVolSurfaceOracle(address(0)));
        (int256 imFeed, int256 mmFeed) = engine.excesses(carolPortfolio);
        assertLe(imStale, imFeed, "IM excess above the feed's on a stale surface");
        assertLe(mmStale, mmFeed, "MM excess above the feed's on a stale surface");
    }
    function test_rv20_P2_open_maxAgeFlipsAccountsLiquidatableInOneCall() public {
        vm.startPrank(riskManager);
        for (uint256 a = 0.015e18; a <= 0.05e18; a += 0.005e18) engine.setConfidenceAddOn(ethIndex, a);
        vm.stopPrank();
        _fresh(1e18, 1e18); // confidence 1: no add-on while FRESH
        _carolSellsCalls(150e18);
        // Spot drifts up until carol is in a margin call, not liquidatable.
        int256 spot = 3_000e8;
        int256 mmExcess;
        for (uint256 i; i < 200; ++i) {
            spot += 5e8;
            _setPrice(ethUsd, spot);
            (, mmExcess) = engine.excesses(carolAccount);
            if (mmExcess < 5_000e18) break;
        }
        assertGt(mmExcess, 0, "not liquidatable yet");
        vm.warp(block.timestamp + 11 minutes); // still FRESH at the 2 h default
        _refreshFeeds();
        assertTrue(engine.accountMargin(carolAccount).health != IMarginEngine.Health.LIQUIDATABLE, "FRESH: healthy");
        vm.prank(riskManager);
        engine.setSurfaceMaxAge(10 minutes);
        IMarginEngine.MarginState memory after_ = engine.accountMargin(carolAccount);
        assertEq(uint8(after_.health), uint8(IMarginEngine.Health.LIQUIDATABLE), "one call: liquidatable");
        liquidator.startAuction(carolAccount);
    }

    /// @dev P3a (liveness, docs/security.md M10): a CROSS account holding only a long on a
    /// FALLBACK expiry could not withdraw even one USDC of 100k, although standard initial margin
    /// counts longs at zero and requires nothing of them: no vol, surface or add-on can change its
    /// IM state. Now only a short on a FALLBACK surface refuses new risk in standard margin: the
    /// free cash leaves, to the wei, and the account's IM state is what it was.
    function test_rv20_P3_fixed_standardLongOnlyWithdrawsFreeCash() public {
        _fresh(1e18, 1e18);
        _trade(carolKey, carolAccount, bobAccount, call30, 1e18, engine.mark(call30));
        IMarginEngine.MarginState memory freshState = engine.accountMargin(carolAccount);
        assertEq(freshState.requirementIM, 0, "a long requires nothing");
        _wait(2 hours + 1); // stale
        IMarginEngine.MarginState memory staleState = engine.accountMargin(carolAccount);
        assertEq(staleState.equityIM, freshState.equityIM, "IM equity does not depend on the surface");
        assertEq(staleState.requirementIM, 0);
        engine.checkInitialMargin(carolAccount);
        uint256 before = usdc.balanceOf(carol);
        vm.prank(carol);
        vault.withdraw(carolAccount, address(usdc), 50_000e6, carol);
        assertEq(usdc.balanceOf(carol) - before, 50_000e6, "the free cash left");
        assertEq(engine.accountMargin(carolAccount).equityIM, staleState.equityIM - 50_000e18);
    }

    /// @dev P3a's fix leaves shorts alone: a CROSS account long a FALLBACK series (a 60-day one,
    /// never posted, bought while the engine had no surface) and short another is refused new risk
    /// for the short, which the error names, though the long comes first in the book (review rv41
    /// P3-1).
    function test_rv20_P3_fixed_standardShortOnFallbackStillRefuses() public {
        SeriesId call60 = _createSeries(ethIndex, 60, 3_300e18, true);
        vm.prank(admin);
        engine.setVolSurface(IVolSurfaceOracle(address(0)));
        // The seller is another account of bob's: its short on the 60-day series would refuse
        // bob's own checks once the surface is back.
        AccountId seller = _account(bob, 2);
        _fundAndDeposit(bob, seller, usdc, 100_000e6);
        _trade(carolKey, carolAccount, seller, call60, 1e18, engine.mark(call60));
        vm.prank(admin);
        engine.setVolSurface(surfaces);
        _fresh(1e18, 1e18);
        _trade(carolKey, carolAccount, bobAccount, put30, -1e18, engine.mark(put30));
        _wait(2 hours + 1);
        bytes memory unusable = _unusable(put30);
        vm.prank(carol);
        vm.expectRevert(unusable);
        vault.withdraw(carolAccount, address(usdc), 1e6, carol);
        vm.expectRevert(unusable);
        engine.checkInitialMargin(carolAccount);
    }

    /// @dev The record is taken on the book after the fill (review rv41): a CROSS long turned into a
    /// short by one fill is refused, and so is a long-only account opening a short on another
    /// FALLBACK series.
    function test_rv20_P3_fixed_aFillThatMakesAFallbackShortIsRefused() public {
        _fresh(1e18, 1e18);
        _trade(carolKey, carolAccount, bobAccount, call30, 1e18, engine.mark(call30));
        _wait(2 hours + 1);
        engine.checkInitialMargin(carolAccount); // long only: passes
        (IOptionMarket.Order memory o, bytes memory sig) = _carolOrder(carolAccount, call30, -2e18);
        vm.expectRevert(_unusable(call30));
        vm.prank(bob);
        market.fill(o, sig, bobAccount, 2e18);
        (o, sig) = _carolOrder(carolAccount, put30, -1e18);
        vm.expectRevert(_unusable(put30));
        vm.prank(bob);
        market.fill(o, sig, bobAccount, 1e18);
    }

    /// @dev What the fix newly allows (review rv41 P2-1): in standard margin a side that opens or
    /// grows a long on a FALLBACK series passes its IM check, by a fill from a reducing seller or
    /// by `transferPositions` between one owner's accounts; into a PORTFOLIO account both are
    /// still refused.
    function test_rv20_P3_fixed_standardMayBuyOrReceiveAFallbackLong() public {
        _fresh(1e18, 1e18);
        _trade(carolKey, carolAccount, bobAccount, call30, 1e18, engine.mark(call30));
        _wait(2 hours + 1);
        AccountId other = _account(carol, 3);
        _fundAndDeposit(carol, other, usdc, 10_000e6);
        (IOptionMarket.Order memory o, bytes memory sig) = _carolOrder(carolAccount, call30, -0.5e18);
        vm.prank(carol);
        market.fill(o, sig, other, 0.5e18);
        assertEq(market.positionOf(other, call30), 0.5e18);
        (o, sig) = _carolOrder(carolAccount, call30, -0.25e18);
        vm.expectRevert(_unusable(call30));
        vm.prank(carol);
        market.fill(o, sig, carolPortfolio, 0.25e18);

        SeriesId[] memory ids = new SeriesId[](1);
        ids[0] = call30;
        int256[] memory amounts = new int256[](1);
        amounts[0] = 0.5e18;
        vm.prank(carol);
        market.transferPositions(carolAccount, other, ids, amounts);
        assertEq(market.positionOf(other, call30), 1e18);
        amounts[0] = 0.25e18;
        vm.expectRevert(_unusable(call30));
        vm.prank(carol);
        market.transferPositions(other, carolPortfolio, ids, amounts);
    }

    /// @dev In PORTFOLIO margin a long's scenarios offset the shorts' losses, so its vol matters to
    /// initial margin: a PORTFOLIO account holding only a FALLBACK long is still refused.
    function test_rv20_P3_fixed_portfolioLongOnFallbackStillRefuses() public {
        _fresh(1e18, 1e18);
        _trade(carolKey, carolPortfolio, bobAccount, call30, 1e18, engine.mark(call30));
        _wait(2 hours + 1);
        bytes memory unusable = abi.encodeWithSelector(
            IMarginEngine.EngineVolSurfaceUnusable.selector,
            address(weth),
            SeriesLib.expiryOf(call30)
        );
        vm.prank(carol);
        vm.expectRevert(unusable);
        vault.withdraw(carolPortfolio, address(usdc), 1e6, carol);
        vm.expectRevert(unusable);
        engine.checkInitialMargin(carolPortfolio);
    }

    uint256 private _orderNonce = 1_000;

    /// @dev Carol's order for `account`, at the mark, open to any taker.
    function _carolOrder(
        AccountId account,
        SeriesId id,
        int256 size
    ) private returns (IOptionMarket.Order memory o, bytes memory sig) {
        o = IOptionMarket.Order({
            account: account,
            seriesId: id,
            size: size,
            priceWad: engine.mark(id),
            taker: AccountId.wrap(0),
            nonce: ++_orderNonce,
            deadline: block.timestamp + 1 hours
        });
        sig = _signOrder(carolKey, o);
    }

    function _unusable(SeriesId id) private view returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IMarginEngine.EngineVolSurfaceUnusable.selector,
                address(weth),
                SeriesLib.expiryOf(id)
            );
    }
}
