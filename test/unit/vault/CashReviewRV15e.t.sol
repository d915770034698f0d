// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IRateModel} from "../../../contracts/interfaces/IRateModel.sol";
import {CashIndex} from "../../../contracts/libraries/CashIndex.sol";
import {KinkRateModel} from "../../../contracts/rates/KinkRateModel.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";

/// @notice Review rv15e of the cash epoch (regressions): a reset converts what is left of every
/// claim at the epoch's closing rate instead of wiping it (1), suppliers earn at most the borrow
/// rate on their own supply and a deposit that buys no share reverts (2), a supply worth nothing
/// ends no epoch (3). The reviewer's repros, asserting the fixed behaviour.
contract CashReviewRV15eTest is VaultFixture {
    AccountId internal aliceMain;
    AccountId internal bobMain;
    AccountId internal carolMain;
    AccountId internal daveMain;
    AccountId internal erinMain;
    AccountId internal frankMain;
    AccountId internal malloryMain;
    AccountId internal fund;
    AccountId internal settlement;
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");
    address internal erin = makeAddr("erin");
    address internal frank = makeAddr("frank");
    address internal mallory = makeAddr("mallory");

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        aliceMain = _account(alice, 0);
        bobMain = _account(bob, 0);
        carolMain = _account(carol, 0);
        daveMain = _account(dave, 0);
        erinMain = _account(erin, 0);
        frankMain = _account(frank, 0);
        malloryMain = _account(mallory, 0);
        fund = _account(makeAddr("insuranceFund"), 0);
        settlement = _account(makeAddr("market"), 0);
        vm.startPrank(admin);
        vault.setInsuranceAccount(fund);
        vault.setSettlementAccount(settlement);
        vm.stopPrank();
    }

    function _move(AccountId from, AccountId to, uint256 amount) internal {
        vm.prank(module);
        vault.moveCash(from, to, amount);
    }

    function _everyone() internal view returns (AccountId[] memory a) {
        a = new AccountId[](8);
        (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]) = (
            aliceMain,
            bobMain,
            carolMain,
            daveMain,
            erinMain,
            frankMain,
            malloryMain,
            fund
        );
    }

    /// @dev The converted totals cover Σ accounts (the difference is the vault's dust), and the
    /// tokens cover every claim less the loss held apart.
    function _assertBooks() internal view {
        AccountId[] memory a = _everyone();
        uint256 supply;
        int256 claims = vault.cashOf(settlement) - int256(vault.unabsorbedLoss());
        for (uint256 i; i < a.length; ++i) {
            int256 shares = vault.cashSharesOf(a[i]);
            if (shares > 0) supply += uint256(shares);
            claims += vault.cashOf(a[i]);
        }
        assertGe(vault.cashMarket().totalSupplyShares, supply, "supply total below the accounts'");
        assertLe(claims, int256(usdc.balanceOf(address(vault))), "claims exceed the tokens held");
        assertLe(vault.cashLiquidity(), usdc.balanceOf(address(vault)), "liquidity exceeds the tokens held");
    }

    /// @dev The closing rates of the `CashEpochReset`s in `logs`, in order.
    function _closingRates(Vm.Log[] memory logs) internal pure returns (uint256[] memory rates) {
        uint256 n;
        for (uint256 i; i < logs.length; ++i) if (logs[i].topics[0] == ICollateralVault.CashEpochReset.selector) ++n;
        rates = new uint256[](n);
        n = 0;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] != ICollateralVault.CashEpochReset.selector) continue;
            (, , , rates[n++]) = abi.decode(logs[i].data, (uint256, uint256, uint256, uint256));
        }
    }

    /// Finding 1: the payee-inclusive second pass leaves the index at the floor; a later 1-unit loss
    /// ends the epoch, and now costs the 2,000,001 USDC of claims that one unit, no more.
    function test_1_atTheFloor_aOneUnitLossCostsOneUnit() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1e6);
        _move(fund, carolMain, 1_000_000e6);
        assertEq(vault.cashEpoch(), 1, "first pass ended epoch 0");
        assertEq(vault.cashOf(carolMain), 1e6, "carol keeps what the tokens back");
        assertEq(vault.cashMarket().supplyIndex, CashIndex.MIN_SUPPLY_INDEX, "index at the floor");

        vm.warp(block.timestamp + 90 days);
        _fundAndDeposit(dave, daveMain, usdc, 1_000_000e6);
        _fundAndDeposit(erin, erinMain, usdc, 1_000_000e6);
        uint256 claimsBefore = uint256(vault.cashOf(daveMain) + vault.cashOf(erinMain) + vault.cashOf(carolMain));
        uint256 badDebt = vault.badDebt();

        vm.recordLogs();
        _move(fund, frankMain, 1);
        uint256[] memory rates = _closingRates(vm.getRecordedLogs());
        assertEq(vault.cashEpoch(), 2, "the floor still ends the epoch");
        assertEq(rates.length, 1);
        assertGt(rates[0], 0, "a closing rate: what is left is converted");
        uint256 claimsAfter = uint256(vault.cashOf(daveMain) + vault.cashOf(erinMain) + vault.cashOf(carolMain));
        assertGe(vault.cashOf(daveMain), 999_999e6, "dave bears at most his share of 1 unit");
        assertLe(claimsBefore - claimsAfter, 4, "the claims lose the 1-unit loss and rounding");
        assertEq(vault.badDebt() - badDebt, 1, "bad debt is the loss");
        assertEq(vault.cashOf(frankMain), 1);
        _assertBooks();
        // Dave withdraws what he holds.
        int256 held = vault.cashOf(daveMain);
        vm.prank(dave);
        vault.withdraw(daveMain, address(usdc), uint256(held), dave);
        assertEq(usdc.balanceOf(dave), uint256(held));
        _assertBooks();
    }

    /// Finding 1 (variant): an index left at twice the floor; a 55 % loss costs Dave 55 %, not 100 %.
    function test_1b_indexAtTwiceTheFloor_aFiftyFivePercentLossCosts55Percent() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000_000e6);
        _move(carolMain, settlement, 999_998e6);
        _move(fund, carolMain, 999_998e6);
        assertEq(vault.cashMarket().supplyIndex, 2e12, "index at twice the floor");
        _fundAndDeposit(dave, daveMain, usdc, 1_000_000e6);
        _fundAndDeposit(erin, erinMain, usdc, 1_000_000e6);
        _move(fund, frankMain, 1_100_000e6); // 55 % of 2,000,002 USDC of claims
        assertEq(vault.cashEpoch(), 1, "past the floor: a new epoch");
        // Dave's fair share of the 900,002 left: 1,000,000 / 2,000,002 of it, about 450,000.5.
        uint256 fair = (uint256(1_000_000e6) * 900_002e6) / 2_000_002e6;
        assertApproxEqAbs(vault.cashOf(daveMain), int256(fair), 2, "dave keeps his share of what is left");
        assertApproxEqAbs(vault.cashOf(erinMain), int256(fair), 2);
        assertApproxEqAbs(vault.cashOf(aliceMain), 900_001, 1, "alice's 2 USDC, cut 55 %");
        _assertBooks();
    }

    /// Finding 1, skip-epoch: an account untouched across two resets with nonzero closing rates
    /// converts at both, in turn, on read; a later write starts from the converted shares.
    function test_1c_anAccountSkippingTwoEpochsConvertsAtBothRates() public {
        _fundAndDeposit(alice, aliceMain, usdc, 100_000_000_000e6); // 1e17 shares
        uint256 s0 = uint256(vault.cashSharesOf(aliceMain));
        vm.recordLogs();
        // Epoch 0: a cut to the floor exactly, then a 1-unit loss ends it.
        uint256 most = ((1e18 - CashIndex.MIN_SUPPLY_INDEX) * s0) / 1e18;
        _move(fund, carolMain, most);
        uint256 paid = uint256(vault.cashOf(carolMain));
        vm.prank(carol);
        vault.withdraw(carolMain, address(usdc), paid, carol);
        _move(fund, frankMain, 1);
        // Epoch 1: Dave joins; a cut to the floor, a 1-unit loss ends it too.
        _fundAndDeposit(dave, daveMain, usdc, 1_000_000e6);
        uint256 supply = vault.cashMarket().totalSupplyShares;
        _move(fund, erinMain, ((1e18 - CashIndex.MIN_SUPPLY_INDEX) * supply) / 1e18);
        paid = uint256(vault.cashOf(erinMain));
        vm.prank(erin);
        vault.withdraw(erinMain, address(usdc), paid, erin);
        _move(fund, frankMain, 1);
        assertEq(vault.cashEpoch(), 2);
        uint256[] memory rates = _closingRates(vm.getRecordedLogs());
        assertEq(rates.length, 2);
        assertGt(rates[0], 0);
        assertGt(rates[1], 0);
        uint256 expected = (((s0 * rates[0]) / 1e18) * rates[1]) / 1e18;
        assertGt(expected, 0);
        assertEq(vault.cashSharesOf(aliceMain), int256(expected), "converted at both rates, rounded down each");
        assertEq(vault.cashOf(aliceMain), int256(expected), "at index 1e18 a share is a unit");
        _assertBooks();
        // A deposit starts from the converted shares.
        _fundAndDeposit(alice, aliceMain, usdc, 5e6);
        assertEq(vault.cashSharesOf(aliceMain), int256(expected + 5e6));
        _assertBooks();
    }

    /// Finding 2: after a reset a dust share earns at most the borrow rate on itself (the excess
    /// of the interest on every debt goes to the reserve), and a newcomer's deposit buys shares.
    function test_2_afterAReset_aDustShareEarnsTheRateOnItself_andANewcomerBuysShares() public {
        IRateModel kink = IRateModel(address(new KinkRateModel(KinkRateModel.Params(0.02e18, 0.1e18, 1e18, 0.8e18))));
        vm.prank(admin);
        vault.setRateModel(kink);
        _fundAndDeposit(alice, aliceMain, usdc, 10e6);
        _move(bobMain, settlement, 1_000_000e6);
        _move(carolMain, settlement, 3_000e6);
        _move(fund, carolMain, 3_000e6);
        assertEq(vault.cashEpoch(), 1);
        uint256 held = vault.unabsorbedLoss();
        usdc.mint(admin, held);
        vm.startPrank(admin);
        usdc.approve(address(vault), held);
        vault.repayUnabsorbedLoss(held);
        vm.stopPrank();
        assertEq(vault.cashMarket().totalSupplyShares, 0, "no supply, a million of debt");

        _fundAndDeposit(mallory, malloryMain, usdc, 1);
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        assertLe(vault.cashOf(malloryMain), 1, "one unit earns at most a day's rate on one unit");
        assertGt(vault.cashOf(fund), 3_000e6, "the interest on the debt nobody supplied: the reserve's");

        _fundAndDeposit(erin, erinMain, usdc, 1_000e6);
        assertGe(vault.cashOf(erinMain), 999e6, "erin's 1,000 USDC bought her shares");
        // Mallory cannot take the recapitalisation: she holds what she put in.
        vm.prank(mallory);
        vm.expectRevert();
        vault.withdraw(malloryMain, address(usdc), 2, mallory);
        _assertBooks();
    }

    /// Finding 2: a cash deposit that would buy no share reverts with `VaultZeroShares`.
    function test_2b_aDepositBuyingNoShareReverts() public {
        IRateModel kink = IRateModel(address(new KinkRateModel(KinkRateModel.Params(0.02e18, 0.1e18, 1e18, 0.8e18))));
        vm.prank(admin);
        vault.setRateModel(kink);
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        _move(bobMain, aliceMain, 500e6);
        vm.warp(block.timestamp + 30 days);
        vault.accrueInterest();
        assertGt(vault.cashMarket().supplyIndex, 1e18);
        usdc.mint(erin, 1);
        vm.startPrank(erin);
        usdc.approve(address(vault), 1);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultZeroShares.selector, 1));
        vault.deposit(erinMain, address(usdc), 1);
        vm.stopPrank();
        assertEq(usdc.balanceOf(erin), 1, "the unit stays with erin");
        // A repayment that burns no debt share is refused the same way.
        assertGt(vault.cashMarket().debtIndex, 1e18);
        usdc.mint(bob, 1);
        vm.startPrank(bob);
        usdc.approve(address(vault), 1);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultZeroShares.selector, 1));
        vault.deposit(bobMain, address(usdc), 1);
        vm.stopPrank();
    }

    /// Finding 3: a supply worth less than a unit ends no epoch; the loss is held apart instead.
    function test_3_aSupplyWorthNothingEndsNoEpoch() public pure {
        ICollateralVault.CashMarket memory m;
        m.supplyIndex = 0.5e18;
        m.debtIndex = 1e18;
        m.totalSupplyShares = 1;
        (uint256 written, uint256 claims, uint256 rate) = CashIndex.socialize(m, 1_000e6);
        assertEq(written + claims + rate, 0, "nothing to write off");
        assertEq(m.epoch, 0, "no epoch spent");
    }
}
