// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IRateModel} from "../../../contracts/interfaces/IRateModel.sol";
import {CashIndex} from "../../../contracts/libraries/CashIndex.sol";

/// @notice `CashIndex` on its own: every conversion rounds for the vault, credits and debits
/// move claims by at most the amount, accrual never credits more than the debt earned and never
/// reverts, and a loss cuts every claim by the same fraction.
contract CashIndexTest is Test {
    uint256 internal constant WAD = 1e18;
    /// @dev `CollateralVault.MAX_RATE_PER_SECOND`: 500 % a year.
    uint256 internal constant MAX_RATE = uint256(5e18) / 365 days;

    function _market(
        uint256 supplyIndex,
        uint256 debtIndex,
        uint256 supplyShares,
        uint256 debtShares
    ) internal pure returns (ICollateralVault.CashMarket memory m) {
        m.supplyIndex = uint128(supplyIndex);
        m.debtIndex = uint128(debtIndex);
        m.totalSupplyShares = uint128(supplyShares);
        m.totalDebtShares = uint128(debtShares);
        m.rateModel = IRateModel(address(1));
    }

    // ------------------------------------------------------------ conversions

    function test_atIndexOneSharesAreAmounts() public pure {
        assertEq(CashIndex.amountOf(1_234e6, WAD, WAD), 1_234e6);
        assertEq(CashIndex.amountOf(-1_234e6, WAD, WAD), -1_234e6);
        assertEq(CashIndex.credit(-5, 7, WAD, WAD), 2);
        assertEq(CashIndex.debit(5, 7, WAD, WAD), -2);
        assertEq(CashIndex.credit(0, 7, WAD, WAD), 7);
        assertEq(CashIndex.debit(0, 7, WAD, WAD), -7);
    }

    function test_roundingDirections() public pure {
        // 3 shares at 1.5: worth 4.5 units; a creditor holds 4, a debtor owes 5.
        assertEq(CashIndex.amountOf(3, 1.5e18, 1.5e18), 4);
        assertEq(CashIndex.amountOf(-3, 1.5e18, 1.5e18), -5);
        // 4 units buy 2 shares (2.67 rounded down) and cost 3 (rounded up).
        assertEq(CashIndex.toSharesDown(4, 1.5e18), 2);
        assertEq(CashIndex.toSharesUp(4, 1.5e18), 3);
    }

    function test_exactRepaymentLeavesNothing() public pure {
        // 7 debt shares at 1.3 owe ceil(9.1) = 10 units: paying 10 clears them, 11 leaves a credit.
        assertEq(CashIndex.credit(-7, 10, 1.1e18, 1.3e18), 0);
        assertEq(CashIndex.credit(-7, 11, 1.1e18, 1.3e18), 0, "the unit left over buys no share at 1.1");
        assertEq(CashIndex.credit(-7, 12, 1.1e18, 1.3e18), 1);
        assertEq(CashIndex.credit(-7, 9, 1.1e18, 1.3e18), -1, "9 units burn 6 shares (6.9 rounded down)");
    }

    /// @dev A credit raises the exact claim by at most the amount, a debit lowers it by at least
    /// the amount: whatever the indices, nobody gains from rounding.
    function testFuzz_creditAndDebitFavourTheVault(
        int128 shares,
        uint128 amount,
        uint256 supplyIndex,
        uint256 debtIndex
    ) public pure {
        supplyIndex = bound(supplyIndex, CashIndex.MIN_SUPPLY_INDEX, 100e18);
        debtIndex = bound(debtIndex, WAD, 100e18);
        int256 before = _exactWad(shares, supplyIndex, debtIndex);
        int256 credited = CashIndex.credit(shares, amount, supplyIndex, debtIndex);
        int256 debited = CashIndex.debit(shares, amount, supplyIndex, debtIndex);
        int256 gained = _exactWad(credited, supplyIndex, debtIndex) - before;
        int256 lost = before - _exactWad(debited, supplyIndex, debtIndex);
        assertLe(gained, int256(uint256(amount)) * 1e18, "a credit gained more than the amount");
        assertGe(lost, int256(uint256(amount)) * 1e18, "a debit lost less than the amount");
        // And by less than a share of each kind and a unit beyond it (a debt crossing to a credit
        // forfeits the fraction of a unit its rounded-up debt carried).
        int256 slack = int256(supplyIndex + debtIndex + WAD);
        assertGt(gained, int256(uint256(amount)) * 1e18 - slack);
        assertLt(lost, int256(uint256(amount)) * 1e18 + slack);
    }

    /// @dev Reported amounts bracket the exact claim: a credit rounds down, a debt up.
    function testFuzz_amountOfRoundsTowardMinusInfinity(
        int128 shares,
        uint256 supplyIndex,
        uint256 debtIndex
    ) public pure {
        supplyIndex = bound(supplyIndex, CashIndex.MIN_SUPPLY_INDEX, 100e18);
        debtIndex = bound(debtIndex, WAD, 100e18);
        int256 amount = CashIndex.amountOf(shares, supplyIndex, debtIndex);
        int256 exact = _exactWad(shares, supplyIndex, debtIndex);
        assertLe(amount * 1e18, exact);
        assertGt(amount * 1e18 + 1e18, exact);
    }

    // ------------------------------------------------------------ accrual

    function test_accrue_oneYearAtTenPercent() public pure {
        ICollateralVault.CashMarket memory m = _market(WAD, WAD, 1_000e6, 500e6);
        uint256 rate = uint256(0.1e18) / 365 days;
        (uint256 interest, uint256 reserveShares) = CashIndex.accrue(m, rate, 365 days, 0);
        // e^0.1 − 1 = 0.10517; three Taylor terms give 0.10516 (rate rounded to the second).
        assertApproxEqRel(m.debtIndex, 1.10517e18, 1e14);
        assertApproxEqAbs(interest, 52.58e6, 0.01e6);
        assertEq(reserveShares, 0);
        // Creditors earn what debtors pay, no more: 500 owed at 10.5 % is 52.58 on 1,000 supplied.
        assertLe((m.supplyIndex - WAD) * 1_000e6, (m.debtIndex - WAD) * 500e6);
        assertEq(m.lastAccrual, 365 days);
        assertEq(m.lastRate, rate);
    }

    function test_accrue_reserveBuysSharesForTheFund() public pure {
        ICollateralVault.CashMarket memory m = _market(WAD, WAD, 1_000e6, 1_000e6);
        (uint256 interest, uint256 reserveShares) = CashIndex.accrue(m, uint256(0.1e18) / 365 days, 365 days, 0.2e18);
        uint256 reserveAmount = CashIndex.toAmountDown(reserveShares, m.supplyIndex);
        assertApproxEqAbs(reserveAmount, (interest * 2) / 10, 2);
        assertEq(m.totalSupplyShares, 1_000e6 + reserveShares);
    }

    function test_accrue_nothingWithoutDebtOrSupplyOrTime() public pure {
        ICollateralVault.CashMarket memory m = _market(WAD, WAD, 1_000e6, 0);
        (uint256 interest, ) = CashIndex.accrue(m, MAX_RATE, 1 days, 0);
        assertEq(interest, 0);
        assertEq(m.debtIndex, WAD);
        assertEq(m.lastAccrual, 1 days, "the clock still moves");
        m = _market(WAD, WAD, 1_000e6, 10e6);
        m.lastAccrual = 7;
        (interest, ) = CashIndex.accrue(m, MAX_RATE, 7, 0);
        assertEq(interest, 0);
    }

    /// @dev No rate, time or size makes accrual revert or credit creditors more than debtors pay;
    /// indices only grow.
    function testFuzz_accrue_neverRevertsNeverOverpays(
        uint128 supplyShares,
        uint128 debtShares,
        uint56 rate,
        uint40 elapsed,
        uint256 reserveShare,
        uint256 supplyIndex,
        uint256 debtIndex
    ) public pure {
        supplyIndex = bound(supplyIndex, CashIndex.MIN_SUPPLY_INDEX, CashIndex.MAX_INDEX);
        debtIndex = bound(debtIndex, WAD, CashIndex.MAX_INDEX);
        reserveShare = bound(reserveShare, 0, 0.5e18);
        ICollateralVault.CashMarket memory m = _market(supplyIndex, debtIndex, supplyShares, debtShares);
        (uint256 interest, uint256 reserveShares) = CashIndex.accrue(m, rate, elapsed, reserveShare);
        assertGe(m.debtIndex, debtIndex);
        assertGe(m.supplyIndex, supplyIndex);
        uint256 paidWad = uint256(debtShares) * (m.debtIndex - debtIndex);
        uint256 earnedWad = uint256(supplyShares) * (m.supplyIndex - supplyIndex) + reserveShares * m.supplyIndex;
        assertLe(earnedWad, paidWad);
        assertEq(interest, paidWad / 1e18);
    }

    function test_taylorCompounded() public pure {
        assertEq(CashIndex.taylorCompounded(0, 1 days), 0);
        assertEq(CashIndex.taylorCompounded(1, 1), 1);
        // x = 1: 1 + 1/2 + 1/6.
        assertEq(CashIndex.taylorCompounded(1e18, 1), 1e18 + 0.5e18 + 166666666666666666);
    }

    // ------------------------------------------------------------ losses

    function test_socialize_cutsTheIndexByTheLossFraction() public pure {
        ICollateralVault.CashMarket memory m = _market(WAD, WAD, 1_000e6, 0);
        uint256 written = CashIndex.socialize(m, 100e6);
        assertEq(written, 100e6);
        assertEq(m.supplyIndex, 0.9e18);
        assertEq(CashIndex.toAmountDown(400e6, m.supplyIndex), 360e6, "a 400 claim falls 10 %");
    }

    function test_socialize_stopsAtTheFloor() public pure {
        ICollateralVault.CashMarket memory m = _market(WAD, WAD, 1_000e6, 0);
        uint256 written = CashIndex.socialize(m, 5_000e6);
        assertEq(m.supplyIndex, CashIndex.MIN_SUPPLY_INDEX);
        assertEq(written, ((WAD - CashIndex.MIN_SUPPLY_INDEX) * 1_000e6) / WAD);
        assertEq(CashIndex.socialize(m, 1), 0, "nothing more at the floor");
        m = _market(WAD, WAD, 0, 0);
        assertEq(CashIndex.socialize(m, 1e6), 0, "nobody to bear it");
        // One share cannot bear a whole unit even cut to the floor: nothing moves (invariant run).
        m = _market(WAD, WAD, 1, 0);
        assertEq(CashIndex.socialize(m, 1e6), 0);
        assertEq(m.supplyIndex, WAD, "the index fell with nothing written off");
    }

    /// @dev Σ supply falls by at least what was written off; each claim by the same fraction, to
    /// one unit.
    function testFuzz_socialize_proRata(uint128 a, uint128 b, uint256 loss, uint256 supplyIndex) public pure {
        supplyIndex = bound(supplyIndex, WAD / 10, 10e18);
        a = uint128(bound(a, 1, 1e30));
        b = uint128(bound(b, 1, 1e30));
        ICollateralVault.CashMarket memory m = _market(supplyIndex, WAD, uint256(a) + b, 0);
        uint256 supplyBefore = CashIndex.totalSupply(m);
        loss = bound(loss, 0, supplyBefore);
        uint256 aBefore = CashIndex.toAmountDown(a, supplyIndex);
        uint256 written = CashIndex.socialize(m, loss);
        assertLe(written, loss);
        uint256 exactAfterWad = (uint256(a) + b) * m.supplyIndex;
        assertLe(exactAfterWad, (uint256(a) + b) * supplyIndex - written * 1e18, "supply fell by less than the loss");
        // Each claim keeps index'/index of itself.
        uint256 aAfter = CashIndex.toAmountDown(a, m.supplyIndex);
        assertApproxEqAbs(aAfter, (aBefore * m.supplyIndex) / supplyIndex, 2);
    }

    /// @dev The exact claim of `shares`, cash units × 1e18, signed.
    function _exactWad(int256 shares, uint256 supplyIndex, uint256 debtIndex) internal pure returns (int256) {
        if (shares >= 0) return int256(uint256(shares) * supplyIndex);
        return -int256(uint256(-shares) * debtIndex);
    }
}
