// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {CashIndex} from "../../../contracts/libraries/CashIndex.sol";
import {MockRateModel} from "../../../contracts/mocks/MockRateModel.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice Review r15, finding F2 (regression): a loss larger than every cash claim. The part the
/// floor leaves is written off again once the payee is credited, so no claim is left that the
/// tokens do not back; whatever even that cannot absorb is a separate non-interest loss
/// (`unabsorbedLoss`, in `badDebt()`), subtracted from the liquidity, never lent-out cash.
contract CashReviewR15VaultTest is VaultFixture {
    uint256 internal constant TEN_PERCENT = uint256(0.1e18) / 365 days;
    AccountId internal aliceMain;
    AccountId internal carolMain;
    AccountId internal daveMain;
    AccountId internal fund;
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        aliceMain = _account(alice, 0);
        carolMain = _account(carol, 0);
        daveMain = _account(dave, 0);
        fund = _account(makeAddr("insuranceFund"), 0);
        vm.prank(admin);
        vault.setInsuranceAccount(fund);
    }

    /// @dev Alice supplies 1,000; the (empty) fund pays Carol 5,000 to take an insolvent account.
    function _lossBeyondEveryClaim() internal {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        vm.prank(module);
        vault.moveCash(fund, carolMain, 5_000e6);
    }

    /// @dev Tokens held always cover every claim the vault lets out.
    function _assertBacked() internal view {
        int256 claims = vault.cashOf(aliceMain) + vault.cashOf(carolMain) + vault.cashOf(daveMain);
        assertLe(claims, int256(usdc.balanceOf(address(vault))), "claims exceed the tokens held");
        assertLe(vault.cashLiquidity(), usdc.balanceOf(address(vault)), "liquidity exceeds the tokens held");
    }

    function test_F2_lossBeyondEveryClaimLeavesNoUnbackedClaimAndNoFundDebt() public {
        _lossBeyondEveryClaim();
        assertEq(vault.cashOf(fund), 0, "the fund owes nothing on the index");
        assertEq(vault.cashMarket().totalDebtShares, 0, "no debt shares for a debt nobody will pay");
        assertLt(vault.cashMarket().supplyIndex, CashIndex.MIN_SUPPLY_INDEX, "the rest was written off again");
        assertGe(vault.cashMarket().supplyIndex, CashIndex.LAST_SUPPLY_INDEX);
        // Carol's claim is what the 1,000 tokens back (to rounding, in the vault's favour).
        assertLe(vault.cashOf(carolMain), 1_000e6);
        assertGe(vault.cashOf(carolMain), 999e6);
        assertEq(vault.badDebt(), vault.lossSocialized() + vault.unabsorbedLoss());
        assertGe(vault.badDebt(), 4_000e6, "the loss is reported");
        _assertBacked();
    }

    /// F2 (review's repro): a newcomer's deposit after such a loss is withdrawable in full.
    function test_F2_depositAfterFloorLossCanBeWithdrawn() public {
        _lossBeyondEveryClaim();
        // Carol takes all she holds (the tokens there are).
        uint256 carolHeld = uint256(vault.cashOf(carolMain));
        vm.prank(carol);
        vault.withdraw(carolMain, address(usdc), carolHeld, carol);
        // Dave, a newcomer, tops up his account with 100 USDC...
        _fundAndDeposit(dave, daveMain, usdc, 100e6);
        // ... and Carol, who has no claim left, cannot take it.
        vm.prank(carol);
        vm.expectRevert();
        vault.withdraw(carolMain, address(usdc), 100e6, carol);
        // Dave gets his own deposit back (less a unit of rounding at this index, kept by the vault).
        uint256 daveHeld = uint256(vault.cashOf(daveMain));
        assertGe(daveHeld, 100e6 - 1);
        vm.prank(dave);
        vault.withdraw(daveMain, address(usdc), daveHeld, dave);
        assertEq(usdc.balanceOf(dave), daveHeld, "dave got his deposit back");
        _assertBacked();
    }

    /// F2 (b): nothing unwritten accrues interest, so nothing unbacked is credited.
    function test_F2_noInterestOnALossNobodyWillPay() public {
        _lossBeyondEveryClaim();
        MockRateModel model = new MockRateModel(TEN_PERCENT);
        vm.prank(admin);
        vault.setRateModel(model);
        int256 before = vault.cashOf(carolMain);
        vm.warp(block.timestamp + 365 days);
        assertEq(vault.cashOf(carolMain), before, "no interest on a debt nobody will pay");
        _assertBacked();
    }

    /// F2: a loss no claim can absorb (the payee was a debtor, so its payment repaid debt and
    /// bought no claim) is held apart: no interest, out of the liquidity, reported, repayable.
    function test_F2_unabsorbableLossIsHeldApartAndRepayable() public {
        // No tokens at all: Carol owes Alice 3,000 (a premium bought on credit), and nothing else.
        vm.prank(module);
        vault.moveCash(carolMain, aliceMain, 3_000e6);
        // The fund absorbs Carol's 3,000 debt (`absorbDebt`): her payment repays debt and buys no
        // claim, and the floors leave a few units that no claim can absorb.
        vm.prank(module);
        vault.moveCash(fund, carolMain, 3_000e6);
        assertEq(vault.cashOf(carolMain), 0, "carol repaid");
        assertEq(vault.cashOf(fund), 0, "the fund owes nothing on the index");
        assertEq(vault.cashMarket().totalDebtShares, 0, "no debt shares");
        uint256 held = vault.unabsorbedLoss();
        uint256 liquid = vault.cashLiquidity();
        assertLe(liquid, usdc.balanceOf(address(vault)));
        assertEq(vault.badDebt(), vault.lossSocialized() + held, "bad debt");
        assertGt(held, 0, "some loss is unabsorbable");
        assertEq(liquid, 0, "liquid");
        {
            // Alice keeps a claim of a unit or so that no token backs: the loss held apart is exactly
            // that gap (tokens = Σ claims − unabsorbedLoss + dust), which the invariant suite states
            // for every sequence (`invariant_tokensCoverEveryClaimToTheDust`, counterexample:
            // 0 tokens, a claim of 1, 2 held apart).
            int256 claims = vault.cashOf(aliceMain) + vault.cashOf(carolMain) + vault.cashOf(fund);
            int256 backed = claims - int256(held);
            int256 tokens = int256(usdc.balanceOf(address(vault)));
            assertGe(tokens, backed, "claims beyond the loss held apart exceed the tokens");
            assertLe(tokens - backed, 3, "dust");
        }
        {
            // Repaying it restores liquidity one for one.
            usdc.mint(dave, held);
            vm.startPrank(dave);
            usdc.approve(address(vault), held);
            vm.expectEmit(address(vault));
            emit ICollateralVault.UnabsorbedLossRepaid(dave, held, 0);
            vault.repayUnabsorbedLoss(held + 1);
            vm.stopPrank();
            assertEq(vault.unabsorbedLoss(), 0, "repaid");
            assertApproxEqAbs(vault.cashLiquidity(), liquid + held, 1, "liquidity restored (to a unit of rounding)");
        }
        _assertBacked();
    }
}
