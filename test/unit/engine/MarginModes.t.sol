// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {MarginEngine} from "../../../contracts/engine/MarginEngine.sol";
import {PortfolioManager} from "../../../contracts/engine/PortfolioManager.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {MarginValuationHarness} from "../../../contracts/test/MarginValuationHarness.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";

/// @notice The engine side of margin modes: who may set a mode and when, the position limit
/// each mode gives the market, the portfolio position cap, the dispatch to the portfolio
/// manager, and the `MarkResult` the valuation base returns.
contract MarginModesTest is MarketFixture {
    // ------------------------------------------------------------ setMarginMode

    function test_setMarginMode_byOwner() public {
        assertEq(uint8(engine.marginModeOf(makerAccount)), uint8(IMarginEngine.MarginMode.CROSS));
        vm.expectEmit(address(engine));
        emit IMarginEngine.MarginModeSet(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);
        vm.prank(maker);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);
        assertEq(uint8(engine.marginModeOf(makerAccount)), uint8(IMarginEngine.MarginMode.PORTFOLIO));
    }

    function test_setMarginMode_byOperator() public {
        address bot = makeAddr("bot");
        vm.prank(maker);
        vault.setOperator(bot, true);
        vm.prank(bot);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.ISOLATED);
        assertEq(uint8(engine.marginModeOf(makerAccount)), uint8(IMarginEngine.MarginMode.ISOLATED));
    }

    function test_setMarginMode_revertsForStranger() public {
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnauthorized.selector, makerAccount, taker));
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.ISOLATED);
    }

    function test_setMarginMode_lockedWhileHoldingPositions() public {
        _fill(_order(makerAccount, callId, 1e18, 10e18), 1e18);
        vm.prank(maker);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineModeLocked.selector, makerAccount));
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);

        // Once the position is closed the account is free to switch again.
        IOptionMarket.Order memory close = _order(makerAccount, callId, -1e18, 10e18);
        close.nonce = 1;
        _fill(close, 1e18);
        vm.prank(maker);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);
        assertEq(uint8(engine.marginModeOf(makerAccount)), uint8(IMarginEngine.MarginMode.PORTFOLIO));
    }

    function test_setMarginMode_revertsBeforeMarketSet() public {
        MarginEngine fresh = new MarginEngine(admin, vault, oracle, type(PortfolioManager).creationCode);
        vm.prank(maker);
        vm.expectRevert(IMarginEngine.EngineMarketNotSet.selector);
        fresh.setMarginMode(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);
    }

    // ------------------------------------------------------------ position limits

    function test_positionLimitOf_followsMode() public {
        assertEq(engine.positionLimitOf(makerAccount), engine.MAX_CROSS_POSITIONS());
        vm.startPrank(maker);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.ISOLATED);
        assertEq(engine.positionLimitOf(makerAccount), 1);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);
        assertEq(engine.positionLimitOf(makerAccount), engine.portfolioPositionCap());
        vm.stopPrank();
    }

    function test_setPortfolioPositionCap_boundsAndEvent() public {
        assertEq(engine.portfolioPositionCap(), 32);
        vm.startPrank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineInvalidPositionCap.selector, 0));
        engine.setPortfolioPositionCap(0);
        uint256 ceiling = engine.MAX_PORTFOLIO_POSITIONS();
        assertEq(ceiling, 48);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineInvalidPositionCap.selector, ceiling + 1));
        engine.setPortfolioPositionCap(ceiling + 1);
        vm.expectEmit(address(engine));
        emit IMarginEngine.PortfolioPositionCapSet(ceiling);
        engine.setPortfolioPositionCap(ceiling);
        vm.stopPrank();
        assertEq(engine.portfolioPositionCap(), ceiling);
    }

    function test_setPortfolioPositionCap_onlyRiskManager() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                alice,
                Roles.RISK_MANAGER_ROLE
            )
        );
        engine.setPortfolioPositionCap(10);
    }

    function test_portfolioAccount_refusedBeyondCap() public {
        vm.prank(riskManager);
        engine.setPortfolioPositionCap(1);
        vm.prank(maker);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);
        _fill(_order(makerAccount, callId, 1e18, 10e18), 1e18);
        _fillExpectRevert(
            _order(makerAccount, putId, 1e18, 10e18),
            1e18,
            abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, makerAccount, 1)
        );
    }

    // ------------------------------------------------------------ dispatch

    function test_portfolioManager_deployedByEngineAndDispatchedTo() public {
        assertEq(address(engine.portfolioManager().engine()), address(engine));
        vm.prank(maker);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.PORTFOLIO);
        _fill(_order(makerAccount, callId, -1e18, 100e18), 1e18);
        IMarginEngine.MarginState memory viaEngine = engine.accountMargin(makerAccount);
        IMarginEngine.MarginState memory viaManager = engine.portfolioManager().accountMargin(makerAccount);
        assertEq(keccak256(abi.encode(viaEngine)), keccak256(abi.encode(viaManager)));
        // The taker stays CROSS: the engine values it itself, and the manager would not agree.
        IMarginEngine.MarginState memory crossState = engine.accountMargin(takerAccount);
        IMarginEngine.MarginState memory asPortfolio = engine.portfolioManager().accountMargin(takerAccount);
        assertTrue(crossState.requirementIM != asPortfolio.requirementIM);
    }

    // ------------------------------------------------------------ MarkResult

    function test_markOf_settledOnlyOncePriceIsPosted() public {
        vm.prank(address(engine));
        MarginValuationHarness harness = new MarginValuationHarness(vault, oracle);
        IMarginEngine.MarkResult memory live = harness.markOf(callId);
        assertFalse(live.settled);
        assertEq(live.spotWad, 3_000e18);
        assertEq(live.markWad, engine.mark(callId));

        vm.warp(expiry + 30);
        ethUsd.updateAnswer(3_250e8);
        ethVol.updateAnswer(ethVol.latestAnswer());
        IMarginEngine.MarkResult memory expired = harness.markOf(callId);
        assertFalse(expired.settled, "no settlement price yet: spot still moves the payoff");
        assertEq(expired.spotWad, 3_250e18);
        assertEq(expired.markWad, 250e18);

        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        ethUsd.updateAnswer(3_400e8);
        IMarginEngine.MarkResult memory settled = harness.markOf(callId);
        assertTrue(settled.settled);
        assertEq(settled.spotWad, 0);
        assertEq(settled.markWad, 250e18, "the posted price, not today's spot, fixes the mark");
    }
}
