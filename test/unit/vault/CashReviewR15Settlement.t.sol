// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockRateModel} from "../../../contracts/mocks/MockRateModel.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Review r15, finding F1 (regression): the settlement account used to owe interest on the
/// payoffs longs received before the shorts paid, which nobody ever paid. Its cash is now a raw
/// balance outside the index: no interest, no loss, not in utilisation, back to zero once the
/// series is settled whatever the order.
contract CashReviewR15SettlementTest is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal bobAccount;
    AccountId internal daveAccount;
    SeriesId internal call7;
    uint256 internal expiry;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        bobAccount = _account(bob, 1);
        daveAccount = _account(makeAddr("dave"), 1);
        call7 = _createSeries(ethIndex, 7, 3_000e18, true);
        expiry = _expiry(7);
        _fundAndDeposit(carol, carolAccount, usdc, 100_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 100_000e6);
        _fundAndDeposit(makeAddr("dave"), daveAccount, usdc, 100_000e6);
        // Carol is short 100 calls; Bob is long them.
        _trade(carolKey, carolAccount, bobAccount, call7, -100e18, 150e18);
        MockRateModel model = new MockRateModel(uint256(0.1e18) / 365 days);
        vm.prank(admin);
        vault.setRateModel(model);
    }

    function test_F1_lateShortLeavesTheSettlementAccountAtZero() public {
        vm.warp(expiry + 30);
        ethUsd.updateAnswer(4_000e8);
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        // The long settles at once (it is paid 100,000); the short does not bother.
        market.settle(bobAccount, call7);
        AccountId sa = market.settlementAccount();
        assertEq(vault.cashOf(sa), -100_000e6);
        // A month later the short settles (or a keeper does it for her).
        vm.warp(block.timestamp + 30 days);
        _refreshFeeds();
        market.settle(carolAccount, call7);
        int256 left = vault.cashOf(sa);
        emit log_named_int("settlement account after the series is fully settled", left);
        emit log_named_uint("vault.badDebt()", vault.badDebt());
        // docs/security.md: protocol accounts never owe cash (except the fund's explicit bad debt).
        assertGe(left, 0, "settlement account left owing interest nobody will pay");
        assertEq(left, 0, "settlement moves are zero-sum per series");
        assertEq(vault.badDebt(), 0);
        assertEq(vault.cashSharesOf(sa), 0, "no shares: the balance is raw");
    }

    /// F1: while the longs are paid ahead, the settlement account's negative balance owes no
    /// interest, is not counted as debt in utilisation, and still holds the tokens back.
    function test_F1_settlementAccountNeverOwesInterestAndStaysOutOfTheTotals() public {
        vm.warp(expiry + 30);
        ethUsd.updateAnswer(4_000e8);
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        uint256 debtBefore = vault.totalCashDebt();
        uint256 liquidBefore = vault.cashLiquidity();
        market.settle(bobAccount, call7);
        AccountId sa = market.settlementAccount();
        assertEq(vault.cashOf(sa), -100_000e6);
        assertEq(vault.totalCashDebt(), debtBefore, "not index debt");
        // Bob's payoff is a claim, but not withdrawable cash until Carol pays: liquidity unchanged.
        assertEq(vault.cashLiquidity(), liquidBefore);
        vm.warp(block.timestamp + 365 days);
        assertEq(vault.cashOf(sa), -100_000e6, "no interest");
        assertLe(vault.cashLiquidity(), usdc.balanceOf(address(vault)));
    }

    /// F1: the settlement account's cash is the market's to move, never to withdraw, and cannot be
    /// re-pointed or made the insurance account.
    function test_F1_settlementAccountIsProtected() public {
        AccountId sa = market.settlementAccount();
        vm.prank(address(market));
        vm.expectRevert();
        vault.withdraw(sa, address(usdc), 1, address(market));
        vm.startPrank(admin);
        vm.expectRevert();
        vault.setSettlementAccount(daveAccount);
        vm.stopPrank();
    }
}
