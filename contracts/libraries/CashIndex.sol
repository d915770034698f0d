// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";

/// @title CashIndex
/// @notice Cash on an index, as Aave's liquidity and borrow indices or Derive's cash asset: an
/// account's signed cash is stored as shares (positive: supply shares, negative: debt shares),
/// worth `shares × supplyIndex / 1e18` or `shares × debtIndex / 1e18` cash units. Interest grows
/// the debt index, and the supply index by what the debt index earned; a loss the insurance fund
/// cannot cover lowers the supply index. Every rounding goes against the account and for the
/// vault, so Σ supply − Σ debt never exceeds the cash tokens the vault holds (`docs/cash.md`
/// states the dust bound).
/// @dev Mirrored line for line by `packages/sdk/src/math/cashIndex.ts`. Indices are WAD (1e18 at
/// the start); shares are cash units at index 1e18, so with a zero rate shares equal amounts.
library CashIndex {
    uint256 private constant WAD = 1e18;
    /// @notice The largest index, and the largest share total: the vault packs both indices and
    /// both share totals in 104 bits each (two storage slots for the whole market). Accrual that
    /// would pass it stops (the period earns nothing) rather than revert, so cash never locks up.
    uint256 internal constant MAX_INDEX = type(uint104).max;
    /// @notice The lowest supply index a loss may leave (a cut to one millionth), so shares keep a
    /// price: the vault writes a loss beyond it off again once the payee is credited, down to
    /// `LAST_SUPPLY_INDEX`, and holds apart what is left (`unabsorbedLoss`).
    uint256 internal constant MIN_SUPPLY_INDEX = 1e12;
    /// @notice The lowest supply index the second write-off may leave: when a loss is larger than
    /// every claim before the payment, what is left is written off again after the payee is
    /// credited, against every claim including the payee's, down to this floor (one share then
    /// still costs at most 1e12 of them per unit: 104-bit totals hold 2e31 shares, so 2e19 cash
    /// units, twenty trillion USDC, at that floor).
    uint256 internal constant LAST_SUPPLY_INDEX = 1e6;

    // ---------------------------------------------------------------- conversions

    /// @notice The cash units `shares` are worth at `index`, rounded down (what a creditor holds).
    function toAmountDown(uint256 shares, uint256 index) internal pure returns (uint256) {
        return FixedPointMathLib.mulWad(shares, index);
    }

    /// @notice The cash units `shares` are worth at `index`, rounded up (what a debtor owes).
    function toAmountUp(uint256 shares, uint256 index) internal pure returns (uint256) {
        return FixedPointMathLib.mulWadUp(shares, index);
    }

    /// @notice The shares `amount` cash units buy at `index`, rounded down (credited to a creditor,
    /// burnt from a debtor who repays).
    function toSharesDown(uint256 amount, uint256 index) internal pure returns (uint256) {
        return FixedPointMathLib.divWad(amount, index);
    }

    /// @notice The shares `amount` cash units cost at `index`, rounded up (burnt from a creditor
    /// who pays, minted to a debtor who borrows).
    function toSharesUp(uint256 amount, uint256 index) internal pure returns (uint256) {
        return FixedPointMathLib.divWadUp(amount, index);
    }

    /// @notice The signed cash amount of signed `shares`: supply rounds down, debt rounds up
    /// (toward −∞ either way).
    function amountOf(int256 shares, uint256 supplyIndex, uint256 debtIndex) internal pure returns (int256) {
        // Shares and indices fit 128 bits (the vault's totals and MAX_INDEX fit 104): amounts fit int256.
        if (shares >= 0) return int256(toAmountDown(uint256(shares), supplyIndex));
        return -int256(toAmountUp(uint256(-shares), debtIndex));
    }

    /// @notice The shares after `amount` cash units are paid into an account holding `shares`:
    /// a debt is repaid first (shares burnt rounded down), what is left buys supply shares
    /// (rounded down). A repayment of exactly the debt leaves zero shares.
    function credit(
        int256 shares,
        uint256 amount,
        uint256 supplyIndex,
        uint256 debtIndex
    ) internal pure returns (int256) {
        if (shares >= 0) return shares + int256(toSharesDown(amount, supplyIndex));
        uint256 debtShares = uint256(-shares);
        uint256 debt = toAmountUp(debtShares, debtIndex);
        // amount < ceil(debtShares × index) ⇒ amount × 1e18 / index < debtShares: some debt stays.
        if (amount < debt) return -int256(debtShares - toSharesDown(amount, debtIndex));
        return int256(toSharesDown(amount - debt, supplyIndex));
    }

    /// @notice The shares after `amount` cash units are paid out of an account holding `shares`:
    /// supply shares are burnt first (rounded up), what they do not cover becomes debt shares
    /// (rounded up).
    function debit(
        int256 shares,
        uint256 amount,
        uint256 supplyIndex,
        uint256 debtIndex
    ) internal pure returns (int256) {
        if (shares <= 0) return shares - int256(toSharesUp(amount, debtIndex));
        uint256 supplyShares = uint256(shares);
        uint256 held = toAmountDown(supplyShares, supplyIndex);
        // amount ≤ floor(supplyShares × index) ⇒ ceil(amount × 1e18 / index) ≤ supplyShares.
        if (amount <= held) return int256(supplyShares - toSharesUp(amount, supplyIndex));
        return -int256(toSharesUp(amount - held, debtIndex));
    }

    /// @notice Σ positive cash, cash units, rounded down.
    function totalSupply(ICollateralVault.CashMarket memory m) internal pure returns (uint256) {
        return toAmountDown(m.totalSupplyShares, m.supplyIndex);
    }

    /// @notice Σ negative cash as a positive number, cash units, rounded up.
    function totalDebt(ICollateralVault.CashMarket memory m) internal pure returns (uint256) {
        return toAmountUp(m.totalDebtShares, m.debtIndex);
    }

    /// @notice The cash creditors may withdraw now: Σ supply − Σ debt, never below zero. The
    /// vault holds at least this many tokens (the rest is rounding dust, which stays).
    function liquidity(ICollateralVault.CashMarket memory m) internal pure returns (uint256) {
        uint256 supply = totalSupply(m);
        uint256 debt = totalDebt(m);
        return supply > debt ? supply - debt : 0;
    }

    // ---------------------------------------------------------------- interest

    /// @notice `e^(rate × elapsed) − 1` by its first three Taylor terms (Morpho Blue's
    /// `wTaylorCompounded`), WAD, each term rounded down. Cannot overflow for a 56-bit rate and a
    /// 40-bit elapsed time (the first term stays under 2**96).
    function taylorCompounded(uint256 ratePerSecondWad, uint256 elapsed) internal pure returns (uint256) {
        uint256 first = ratePerSecondWad * elapsed;
        uint256 second = (first * first) / (2 * WAD);
        uint256 third = (second * first) / (3 * WAD);
        return first + second + third;
    }

    /// @notice Accrues `m` to `timestamp` at `ratePerSecondWad`: the debt index grows by the
    /// compounded rate (rounded up), the supply index by what the debt earned less
    /// `reserveShareWad` of it (rounded down), and that reserve buys supply shares at the new
    /// supply index (rounded down) for the insurance fund. Records `timestamp` and the rate.
    /// Nothing accrues while nobody owes or nobody supplies, or when an index would pass
    /// `MAX_INDEX`; it never reverts for a 56-bit rate.
    /// @return interest What the debt grew by, cash units, rounded down (for the event).
    /// @return reserveShares Supply shares the reserve bought; already added to the total.
    function accrue(
        ICollateralVault.CashMarket memory m,
        uint256 ratePerSecondWad,
        uint256 timestamp,
        uint256 reserveShareWad
    ) internal pure returns (uint256 interest, uint256 reserveShares) {
        uint256 elapsed = timestamp - m.lastAccrual;
        m.lastAccrual = uint40(timestamp);
        m.lastRate = uint56(ratePerSecondWad);
        uint256 supplyShares = m.totalSupplyShares;
        uint256 debtShares = m.totalDebtShares;
        if (ratePerSecondWad == 0 || elapsed == 0 || supplyShares == 0 || debtShares == 0) return (0, 0);

        uint256 debtIndex = m.debtIndex;
        uint256 newDebtIndex =
            debtIndex + FixedPointMathLib.fullMulDivUp(debtIndex, taylorCompounded(ratePerSecondWad, elapsed), WAD);
        if (newDebtIndex > MAX_INDEX) return (0, 0);
        // Cash units × 1e18, exact: what the debt grew by.
        uint256 interestWad = debtShares * (newDebtIndex - debtIndex);
        uint256 supplierWad = FixedPointMathLib.fullMulDiv(interestWad, WAD - reserveShareWad, WAD);
        uint256 supplyGain = supplierWad / supplyShares;
        if (supplyGain > MAX_INDEX - m.supplyIndex) return (0, 0);
        uint256 newSupplyIndex = m.supplyIndex + supplyGain;
        reserveShares = (interestWad - supplierWad) / newSupplyIndex;
        if (supplyShares + reserveShares > MAX_INDEX) return (0, 0);

        m.debtIndex = uint128(newDebtIndex);
        m.supplyIndex = uint128(newSupplyIndex);
        m.totalSupplyShares = uint128(supplyShares + reserveShares);
        interest = interestWad / WAD;
    }

    // ---------------------------------------------------------------- losses

    /// @notice Writes `loss` cash units off against every creditor at once: the supply index
    /// falls by `ceil(loss × 1e18 / totalSupplyShares)`, so Σ supply falls by at least `loss` and
    /// each creditor's claim by the same fraction. The index never falls below `MIN_SUPPLY_INDEX`:
    /// a loss larger than that leaves is written off only in part.
    /// @return written The cash units written off (`loss`, or less at the floor).
    function socialize(ICollateralVault.CashMarket memory m, uint256 loss) internal pure returns (uint256 written) {
        return socializeTo(m, loss, MIN_SUPPLY_INDEX);
    }

    /// @notice `socialize` down to the supply index `floor` at most.
    function socializeTo(
        ICollateralVault.CashMarket memory m,
        uint256 loss,
        uint256 floor
    ) internal pure returns (uint256 written) {
        uint256 supplyShares = m.totalSupplyShares;
        uint256 index = m.supplyIndex;
        if (loss == 0 || supplyShares == 0 || index <= floor) return 0;
        uint256 room = index - floor;
        // The most a cut down to the floor writes off, rounded down (both factors fit 128 bits).
        uint256 most = FixedPointMathLib.mulWad(room, supplyShares);
        // A supply so small that the floor writes off less than a unit bears nothing: the index
        // only ever falls with a loss written off (and its event).
        if (most == 0) return 0;
        uint256 cut = room;
        written = most;
        if (loss <= most) {
            // loss ≤ room × shares / 1e18 ⇒ the rounded-up cut stays within the room.
            cut = FixedPointMathLib.mulDivUp(loss, WAD, supplyShares);
            written = loss;
        }
        m.supplyIndex = uint128(index - cut);
    }
}
