// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {CashIndex} from "../../../contracts/libraries/CashIndex.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";

/// @dev Counts the calls the vault makes to the account hook.
contract EpochCountingHook is IAccountHook {
    uint256 public calls;

    function onAccountChanged(AccountId) external {
        ++calls;
    }
}

/// @notice Review rv15b B (regressions): a loss that would cut the supply index below
/// `MIN_SUPPLY_INDEX` ends the cash epoch (every claim of it written off in full, the index back at
/// 1e18), so the index never sits at a floor for good and every later loss is shared pro rata again.
/// Positive shares of an older epoch read as 0 everywhere; debts and the auction mark are untouched.
contract CashEpochTest is VaultFixture {
    AccountId internal aliceMain;
    AccountId internal bobMain;
    AccountId internal carolMain;
    AccountId internal daveMain;
    AccountId internal erinMain;
    AccountId internal frankMain;
    AccountId internal fund;
    AccountId internal settlement;
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");
    address internal erin = makeAddr("erin");
    address internal frank = makeAddr("frank");
    EpochCountingHook internal hook;

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        aliceMain = _account(alice, 0);
        bobMain = _account(bob, 0);
        carolMain = _account(carol, 0);
        daveMain = _account(dave, 0);
        erinMain = _account(erin, 0);
        frankMain = _account(frank, 0);
        fund = _account(makeAddr("insuranceFund"), 0);
        settlement = _account(makeAddr("market"), 0);
        hook = new EpochCountingHook();
        vm.startPrank(admin);
        vault.setInsuranceAccount(fund);
        vault.setSettlementAccount(settlement);
        vault.setAccountHook(hook);
        vm.stopPrank();
    }

    function _move(AccountId from, AccountId to, uint256 amount) internal {
        vm.prank(module);
        vault.moveCash(from, to, amount);
    }

    function _withdraw(address owner, AccountId account, uint256 amount) internal {
        vm.prank(owner);
        vault.withdraw(account, address(usdc), amount, owner);
    }

    /// @dev The share totals are exactly the current shares of `accounts` (the only ones touched).
    function _assertTotals(AccountId[] memory accounts) internal view {
        uint256 supply;
        uint256 debt;
        for (uint256 i; i < accounts.length; ++i) {
            int256 shares = vault.cashSharesOf(accounts[i]);
            if (shares > 0) supply += uint256(shares);
            else debt += uint256(-shares);
        }
        ICollateralVault.CashMarket memory m = vault.cashMarket();
        assertEq(m.totalSupplyShares, supply, "supply shares drifted");
        assertEq(m.totalDebtShares, debt, "debt shares drifted");
    }

    function _everyone() internal view returns (AccountId[] memory a) {
        a = new AccountId[](7);
        (a[0], a[1], a[2], a[3], a[4], a[5], a[6]) = (
            aliceMain,
            bobMain,
            carolMain,
            daveMain,
            erinMain,
            frankMain,
            fund
        );
    }

    /// @dev Tokens held cover every claim less the loss held apart (the surplus an epoch leaves
    /// included), and what creditors may withdraw.
    function _assertBacked() internal view {
        AccountId[] memory a = _everyone();
        int256 claims = vault.cashOf(settlement) - int256(vault.unabsorbedLoss());
        for (uint256 i; i < a.length; ++i) claims += vault.cashOf(a[i]);
        assertLe(claims, int256(usdc.balanceOf(address(vault))), "claims exceed the tokens held");
        assertLe(vault.cashLiquidity(), usdc.balanceOf(address(vault)), "liquidity exceeds the tokens held");
    }

    /// B (the review's repro, now a regression): after a loss beyond every claim, months later a 500
    /// loss is shared pro rata (Dave and Erin each bear their share); nobody is first-come.
    function test_B_afterAnEpochEndsLaterLossesAreSharedProRata() public {
        // A thin cash market: Alice holds 10 USDC; Carol owes 3,000 to the settlement account; the
        // empty fund absorbs Carol. Alice's 10 are written off in full and the epoch ends.
        _fundAndDeposit(alice, aliceMain, usdc, 10e6);
        _move(carolMain, settlement, 3_000e6);
        vm.expectEmit(address(vault));
        emit ICollateralVault.CashEpochReset(1, 10e6, 10e6, 0);
        _move(fund, carolMain, 3_000e6);
        assertEq(vault.cashEpoch(), 1);
        assertEq(vault.cashMarket().epoch, 1);
        assertEq(vault.cashMarket().supplyIndex, 1e18, "the index is back at the start, not at a floor");
        assertEq(vault.cashOf(aliceMain), 0, "alice's claim written off in full");
        assertEq(vault.unabsorbedLoss(), 2_990e6, "the rest has no claim to go to: held apart (fix A)");
        // Recapitalised (fix A keeps deposits closed until then).
        usdc.mint(bob, 2_990e6);
        vm.startPrank(bob);
        usdc.approve(address(vault), 2_990e6);
        vault.repayUnabsorbedLoss(2_990e6);
        vm.stopPrank();

        // Months later, a healthy market: Dave and Erin each deposit 1,000; Frank borrows 500 from Erin.
        vm.warp(block.timestamp + 120 days);
        _fundAndDeposit(dave, daveMain, usdc, 1_000e6);
        _fundAndDeposit(erin, erinMain, usdc, 1_000e6);
        _move(frankMain, erinMain, 500e6);
        uint256 socialized = vault.lossSocialized();
        // Frank turns insolvent; the fund (empty) absorbs his 500: written off pro rata at once.
        vm.expectEmit(address(vault));
        emit ICollateralVault.LossSocialized(fund, 500e6, 0.8e18);
        _move(fund, frankMain, 500e6);
        assertEq(vault.unabsorbedLoss(), 0, "nothing held apart");
        assertEq(vault.lossSocialized() - socialized, 500e6);
        assertEq(vault.cashEpoch(), 1, "the loss fit the index: no new epoch");
        // Each bears the same fraction (500 / 2,500 = 20 %), whoever withdraws first.
        assertEq(vault.cashOf(daveMain), 800e6, "dave bears 200");
        assertEq(vault.cashOf(erinMain), 1_200e6, "erin bears 300");
        _withdraw(dave, daveMain, 800e6);
        _withdraw(erin, erinMain, 1_200e6);
        assertEq(usdc.balanceOf(erin), 1_200e6, "erin, last in line, is paid her share in full");
        vm.prank(dave);
        vm.expectRevert(
            abi.encodeWithSelector(ICollateralVault.VaultInsufficientBalance.selector, daveMain, address(usdc), 0, 1)
        );
        vault.withdraw(daveMain, address(usdc), 1, dave);
        _assertTotals(_everyone());
        _assertBacked();
    }

    /// A loss beyond every claim: the epoch ends before the payee is credited, then the rest is
    /// written off against the payee's claim (the payee-inclusive pass), pro rata in the new epoch.
    function test_epoch_resetWithThePayeeInclusivePass() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        _fundAndDeposit(bob, bobMain, usdc, 500e6);
        vm.expectEmit(address(vault));
        emit ICollateralVault.CashEpochReset(1, 1_500e6, 1_500e6, 0);
        vm.expectEmit(address(vault));
        emit ICollateralVault.LossSocialized(fund, 1_500e6, 1e18);
        vm.expectEmit(address(vault));
        emit ICollateralVault.CashMoved(fund, carolMain, 5_000e6);
        _move(fund, carolMain, 5_000e6);
        // Carol was credited 5,000 in the new epoch, then bore the 3,500 left: index 0.3.
        assertEq(vault.cashMarket().supplyIndex, 0.3e18);
        assertEq(vault.cashOf(carolMain), 1_500e6, "carol holds what the tokens back");
        assertEq(vault.cashOf(aliceMain), 0);
        assertEq(vault.cashOf(bobMain), 0);
        assertEq(vault.cashSharesOf(aliceMain), 0, "an older epoch's shares read as 0");
        assertEq(vault.lossSocialized(), 5_000e6);
        assertEq(vault.unabsorbedLoss(), 0);
        _withdraw(carol, carolMain, 1_500e6);
        assertEq(usdc.balanceOf(address(vault)), 0);
        _assertTotals(_everyone());
    }

    /// A loss just past what a cut to the floor absorbs: the loss is written off and what is left
    /// of the claims is converted into the new epoch at the closing rate (review rv15e 1), not wiped.
    function test_epoch_lossJustPastTheFloorConvertsTheRest() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        // Just what a cut to the floor absorbs: pro rata, no new epoch.
        _move(fund, carolMain, 1_000e6 - 1_000);
        assertEq(vault.cashEpoch(), 0);
        assertEq(vault.cashMarket().supplyIndex, CashIndex.MIN_SUPPLY_INDEX);
        assertEq(vault.cashOf(aliceMain), 1_000, "a millionth of alice's claim is left");
        _withdraw(carol, carolMain, uint256(vault.cashOf(carolMain)));
        // Any loss at the floor ends the epoch; a unit of loss against alice's 1,000-unit claim:
        // 999 units left on 1e9 old shares, a closing rate of 999e9 (per old share, WAD).
        vm.expectEmit(address(vault));
        emit ICollateralVault.CashEpochReset(1, 1_000, 1, 999e9);
        _move(fund, daveMain, 1);
        assertEq(vault.cashOf(aliceMain), 999, "alice bears the 1-unit loss, no more");
        assertEq(vault.cashSharesOf(aliceMain), 999, "converted lazily: 1e9 x 999e9 / 1e18");
        assertEq(vault.cashOf(daveMain), 1, "dave, paid in the new epoch, is whole");
        assertEq(vault.cashMarket().totalSupplyShares, 1_000, "the converted total (999) and dave's 1");
        _assertTotals(_everyone());
        _assertBacked();
        _withdraw(alice, aliceMain, 999);
        assertEq(vault.cashSharesOf(aliceMain), 0);
    }

    /// An epoch, then a second one: each loss beyond every claim ends the epoch it falls in.
    function test_epoch_aResetFollowedByASecondReset() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        _move(fund, carolMain, 5_000e6); // epoch 1: carol holds 1,000 at index 0.2
        _fundAndDeposit(dave, daveMain, usdc, 500e6);
        assertEq(vault.cashOf(daveMain), 500e6, "a deposit in the new epoch is whole");
        vm.expectEmit(address(vault));
        emit ICollateralVault.CashEpochReset(2, 1_500e6, 1_500e6, 0);
        _move(fund, erinMain, 3_000e6);
        assertEq(vault.cashEpoch(), 2);
        assertEq(vault.cashOf(carolMain), 0, "epoch 1's claims are written off too");
        assertEq(vault.cashOf(daveMain), 0);
        assertEq(vault.cashMarket().supplyIndex, 0.5e18, "erin bore the 1,500 left of 3,000");
        assertEq(vault.cashOf(erinMain), 1_500e6);
        _assertTotals(_everyone());
        _assertBacked();
        // Two epochs in one move: the payee was a debtor, so its claim cannot absorb the rest either.
        _move(frankMain, settlement, 4_000e6);
        _move(fund, frankMain, 6_000e6); // 1,500 of claims, then frank's 2,000 claim, 2,500 held apart
        assertEq(vault.cashEpoch(), 4);
        assertEq(vault.cashOf(erinMain), 0);
        assertEq(vault.cashOf(frankMain), 0);
        assertEq(vault.unabsorbedLoss(), 2_500e6);
        _assertTotals(_everyone());
        _assertBacked();
    }

    /// An account holding an older epoch's claim, touched after the epoch ended: a deposit, a
    /// withdrawal, a borrow, a settlement credit and a liquidation credit all start from 0.
    function test_epoch_oldAccountTouchedAfterTheReset() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        _fundAndDeposit(bob, bobMain, usdc, 1_000e6);
        _fundAndDeposit(dave, daveMain, usdc, 1_000e6);
        _fundAndDeposit(erin, erinMain, usdc, 1_000e6);
        _fundAndDeposit(carol, carolMain, usdc, 1_000e6);
        _move(frankMain, settlement, 6_000e6);
        _move(fund, frankMain, 6_000e6); // every claim (5,000) written off, frank repaid, 1,000 held apart
        assertEq(vault.cashEpoch(), 1);
        usdc.mint(admin, 1_000e6);
        vm.startPrank(admin);
        usdc.approve(address(vault), 1_000e6);
        vault.repayUnabsorbedLoss(1_000e6);
        vm.stopPrank();
        // Deposit: 100, not 1,100.
        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        assertEq(vault.cashOf(aliceMain), 100e6, "deposit");
        assertEq(vault.cashSharesOf(aliceMain), 100e6);
        // Withdrawal: nothing to take.
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(ICollateralVault.VaultInsufficientBalance.selector, bobMain, address(usdc), 0, 1)
        );
        vault.withdraw(bobMain, address(usdc), 1, bob);
        // Borrow: the whole payment is debt.
        _move(bobMain, aliceMain, 40e6);
        assertEq(vault.cashOf(bobMain), -40e6, "borrow");
        assertEq(vault.cashOf(aliceMain), 140e6);
        // Settlement credit: a long paid out of the settlement account.
        _move(settlement, daveMain, 70e6);
        assertEq(vault.cashOf(daveMain), 70e6, "settlement credit");
        // Liquidation credit: the fund pays a bidder within what it holds, then beyond (pro rata).
        _fundAndDeposit(admin, fund, usdc, 10e6);
        _move(fund, erinMain, 10e6);
        assertEq(vault.cashOf(erinMain), 10e6, "liquidation credit");
        _move(fund, carolMain, 22e6); // a 22 loss against 220 of claims (carol's 22 included after)
        assertEq(vault.cashEpoch(), 1, "shared pro rata, no new epoch");
        assertEq(vault.cashOf(aliceMain), 126e6, "alice bears 10 %");
        assertApproxEqAbs(vault.cashOf(carolMain), 22e6, 1, "carol, paid after the write-off, is whole");
        _assertTotals(_everyone());
        _assertBacked();
    }

    /// The auction mark survives an epoch: the account reads 0, and its deposits still call the hook.
    function test_epoch_auctionedMarkAcrossAReset() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        vm.prank(module);
        vault.markAuctioned(aliceMain);
        _move(fund, carolMain, 2_000e6); // epoch 1
        assertEq(vault.cashOf(aliceMain), 0);
        assertEq(vault.cashSharesOf(aliceMain), 0);
        uint256 calls = hook.calls();
        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        assertEq(hook.calls(), calls + 1, "still marked: the deposit calls the hook");
        assertEq(vault.cashOf(aliceMain), 100e6);
        // Into debt and back under the mark, then another epoch.
        _move(aliceMain, bobMain, 150e6);
        assertEq(vault.cashOf(aliceMain), -50e6);
        _move(fund, daveMain, 10_000e6); // epoch 2: debts are untouched
        assertEq(vault.cashEpoch(), 2);
        assertEq(vault.cashOf(aliceMain), -50e6, "a debt carries no epoch");
        _fundAndDeposit(alice, aliceMain, usdc, 60e6);
        assertApproxEqAbs(vault.cashOf(aliceMain), 10e6, 1, "the debt repaid, the rest a claim (rounded down)");
        assertEq(hook.calls(), calls + 2);
        _assertTotals(_everyone());
    }

    /// The insurance fund's own claim is an older epoch's like any other: written off, read as 0.
    function test_epoch_theFundsOwnClaimIsWrittenOffToo() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        _fundAndDeposit(admin, fund, usdc, 100e6);
        _move(fund, carolMain, 3_000e6); // epoch 1: the fund's 100 and alice's 1,000 written off
        assertEq(vault.cashOf(fund), 0);
        assertEq(vault.cashSharesOf(fund), 0);
        _assertTotals(_everyone());
    }
}
