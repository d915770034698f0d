// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Issue 12 review, P1: the portfolio cover floor broke ties "by position order", and
/// `OptionMarket._close` is swap-and-pop, so settling one expired position of an account (anyone
/// may) moved its last position to the front and changed which long covered which short: a
/// stranger could raise a portfolio account's requirement without it trading, and push it into
/// liquidation. Ties now go by expiry, so the floor does not depend on the order of the book.
contract PortfolioCoverOrderTest is MarketFixture {
    address internal stranger = makeAddr("stranger");
    AccountId internal victim;
    SeriesId internal e;
    SeriesId internal a;
    SeriesId internal s1;
    SeriesId internal s2;
    SeriesId internal b;

    function setUp() public virtual override {
        super.setUp();
        victim = takerAccount;
        vm.prank(taker);
        engine.setMarginMode(victim, IMarginEngine.MarginMode.PORTFOLIO);
        // E: a far out-of-the-money put expiring tomorrow, opened first so it heads the list.
        e = _createSeries(ethIndex, 1, 2_000e18, false);
        // A and B: long puts at the same strike, A with the shorts' first expiry, B later.
        a = _createSeries(ethIndex, 7, 2_700e18, false);
        b = _createSeries(ethIndex, 14, 2_700e18, false);
        // S1 (riskier, first expiry) may be covered by A or B; S2 (later expiry) only by B.
        s1 = _createSeries(ethIndex, 7, 2_900e18, false);
        s2 = _createSeries(ethIndex, 14, 2_800e18, false);
        _buy(e);
        _buy(a);
        _sell(s1);
        _sell(s2);
        _buy(b);
    }

    function _buy(SeriesId id) private {
        IOptionMarket.Order memory order = _order(makerAccount, id, -1e18, engine.mark(id) + 1e18);
        _fill(order, 1e18);
    }

    function _sell(SeriesId id) private {
        IOptionMarket.Order memory order = _order(makerAccount, id, 1e18, engine.mark(id));
        _fill(order, 1e18);
    }

    function _toExpiryOfE() private {
        uint256 expiryE = _expiry(1);
        vm.warp(expiryE + 30);
        _refreshFeeds();
        oracle.postSettlementPrice(address(weth), expiryE, uint80(ethUsd.latestRound()), new uint80[](0));
    }

    /// The book reorders, the requirement does not move.
    function test_strangerSettle_leavesRequirement() public {
        _toExpiryOfE();
        (SeriesId[] memory ids, ) = market.positionsOf(victim);
        assertEq(ids[0], e);
        assertEq(ids[1], a);
        assertEq(ids[4], b);
        IMarginEngine.MarginState memory before = engine.accountMargin(victim);

        vm.prank(stranger);
        market.settle(victim, e);

        (ids, ) = market.positionsOf(victim);
        assertEq(ids[0], b); // swap-and-pop: B now comes before A
        IMarginEngine.MarginState memory afterSettle = engine.accountMargin(victim);
        // E expired worthless: nothing about the account's risk changed.
        assertEq(afterSettle.equityIM, before.equityIM);
        assertEq(afterSettle.equityMM, before.equityMM);
        assertEq(afterSettle.requirementIM, before.requirementIM);
        assertEq(afterSettle.requirementMM, before.requirementMM);
    }

    /// A series whose settlement price is posted carries no scenario risk, in the money or not:
    /// the requirement is the same before and after its position is settled (review rv38b:
    /// counting a settled series as at risk failed only the SDK parity test, no Solidity one).
    function test_settledInTheMoneyShortCarriesNoScenarioRisk() public {
        SeriesId itm = _createSeries(ethIndex, 1, 2_500e18, true);
        _sell(itm);
        _toExpiryOfE();
        IMarginEngine.MarginState memory before = engine.accountMargin(victim);
        assertGt(before.requirementIM, 0, "the book still needs margin");

        vm.prank(stranger);
        market.settle(victim, itm);

        IMarginEngine.MarginState memory afterSettle = engine.accountMargin(victim);
        assertEq(afterSettle.requirementIM, before.requirementIM);
        assertEq(afterSettle.requirementMM, before.requirementMM);
    }

    /// The attack end to end: an account drawn down to just above initial margin stays healthy
    /// when a stranger settles its expired position, so no auction can start.
    function test_strangerSettle_cannotPushIntoLiquidation() public {
        _toExpiryOfE();
        IMarginEngine.MarginState memory before = engine.accountMargin(victim);
        // The victim draws its cash down to 1 USD above its initial requirement.
        uint256 excessCash = uint256(before.equityIM - int256(before.requirementIM) - 1e18) / 1e12;
        vm.prank(taker);
        vault.withdraw(victim, address(usdc), excessCash, taker);
        assertEq(uint8(engine.accountMargin(victim).health), uint8(IMarginEngine.Health.HEALTHY));

        vm.prank(stranger);
        market.settle(victim, e);

        assertEq(uint8(engine.accountMargin(victim).health), uint8(IMarginEngine.Health.HEALTHY));
        vm.expectRevert(
            abi.encodeWithSelector(ILiquidator.LiquidatorAccountHealthy.selector, victim, IMarginEngine.Health.HEALTHY)
        );
        liquidator.startAuction(victim);
    }
}
