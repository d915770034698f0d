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
    /// @notice The lowest supply index a pro-rata cut may leave (a cut to one millionth), so shares
    /// keep a price: a loss that would take the index below it ends the epoch, converting what is
    /// left of every claim into shares of a new one at 1e18 (`socialize`).
    uint256 internal constant MIN_SUPPLY_INDEX = 1e12;
    /// @notice The last cash epoch (the vault packs it in 10 bits): at it a loss beyond the floor is
    /// written off only down to `MIN_SUPPLY_INDEX`, and the vault holds the rest apart.
    uint256 internal constant MAX_EPOCH = 1023;

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
    /// `reserveShareWad` of it (rounded down), but never by more than the same compounded rate on
    /// the supply itself (utilisation counted at most 100 %), and what the suppliers do not earn
    /// buys supply shares at the new supply index (rounded down) for the insurance fund. Records
    /// `timestamp` and the rate.
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

        uint256 newDebtIndex;
        uint256 interestWad;
        uint256 supplierWad;
        {
            uint256 debtIndex = m.debtIndex;
            uint256 growth = taylorCompounded(ratePerSecondWad, elapsed);
            newDebtIndex = debtIndex + FixedPointMathLib.fullMulDivUp(debtIndex, growth, WAD);
            if (newDebtIndex > MAX_INDEX) return (0, 0);
            // Cash units × 1e18, exact: what the debt grew by.
            interestWad = debtShares * (newDebtIndex - debtIndex);
            supplierWad = FixedPointMathLib.fullMulDiv(interestWad, WAD - reserveShareWad, WAD);
            // Suppliers earn at most the borrow rate on their own supply (utilisation counted at
            // most 100 %, review rv15e 2): the excess goes to the reserve. Shares × index < 2^208.
            uint256 capWad = FixedPointMathLib.fullMulDiv(supplyShares * m.supplyIndex, growth, WAD);
            if (supplierWad > capWad) supplierWad = capWad;
        }
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
    /// each creditor's claim by the same fraction. A loss that would take the index below
    /// `MIN_SUPPLY_INDEX` ends the epoch instead, re-denominating what is left rather than wiping
    /// it: `min(loss, claims)` is written off, the epoch's closing rate `c` (what is left of the
    /// claims per old share, WAD, rounded down; 0 when the loss takes every claim) converts every
    /// old share into `shares × c / 1e18` shares of the new epoch (rounded down, each account
    /// lazily, `CollateralVault._sharesOf`), the epoch is bumped, the index is back at 1e18 and the
    /// supply shares are the old total converted (`docs/cash.md`, "Epochs"). A supply worth less
    /// than one unit absorbs nothing and ends nothing. At `MAX_EPOCH` the index is only cut down to
    /// the floor.
    /// @return written The cash units of `loss` written off (all of it unless it exceeds every claim).
    /// @return claims On a new epoch, the old epoch's claims (`written` ≤ `claims`); else 0.
    /// @return closingRate On a new epoch, its closing rate `c` (WAD, at most the old index); else 0.
    function socialize(
        ICollateralVault.CashMarket memory m,
        uint256 loss
    ) internal pure returns (uint256 written, uint256 claims, uint256 closingRate) {
        uint256 supplyShares = m.totalSupplyShares;
        uint256 index = m.supplyIndex;
        if (loss == 0 || supplyShares == 0) return (0, 0, 0);
        // The index never sits below the floor: it starts at 1e18, a cut stops at the floor and
        // interest only raises it. The most a cut down to the floor writes off, rounded down.
        uint256 most = FixedPointMathLib.mulWad(index - MIN_SUPPLY_INDEX, supplyShares);
        if (loss <= most) {
            // loss ≤ room × shares / 1e18 ⇒ the rounded-up cut stays within the room.
            m.supplyIndex = uint128(index - FixedPointMathLib.mulDivUp(loss, WAD, supplyShares));
            return (loss, 0, 0);
        }
        claims = toAmountDown(supplyShares, index);
        // A supply worth less than a unit: nothing to write off, no epoch spent (review rv15e 3).
        if (claims == 0) return (0, 0, 0);
        if (m.epoch == MAX_EPOCH) {
            m.supplyIndex = uint128(MIN_SUPPLY_INDEX);
            return (most, 0, 0);
        }
        written = loss < claims ? loss : claims;
        // (claims − written) × 1e18 / shares ≤ index: the rate and the converted total fit 104 bits.
        closingRate = FixedPointMathLib.mulDiv(claims - written, WAD, supplyShares);
        ++m.epoch;
        m.supplyIndex = uint128(WAD);
        m.totalSupplyShares = uint128(FixedPointMathLib.mulWad(supplyShares, closingRate));
    }
}
