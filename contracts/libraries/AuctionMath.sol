// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {ILiquidator} from "../interfaces/ILiquidator.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {CashUnits} from "./CashUnits.sol";

/// @title AuctionMath
/// @notice The Liquidator's pricing as pure functions: the discount at a time, the price of a
/// whole account, the largest fraction a bid may take and what a bid pays. Every rounding goes
/// against the bidder. The Liquidator reads the state and moves value; this decides the numbers.
/// @dev Mirrored line for line by `packages/sdk/src/math/auctionMath.ts`.
library AuctionMath {
    uint256 private constant WAD = 1e18;
    /// @notice The smallest share of an account a bid must take, unless less is all it may take
    /// (`minBidFraction`): 1 %.
    uint256 internal constant MIN_BID_FRACTION = 0.01e18;

    /// @notice The discount at `timestamp` of an auction whose clock started at `clockStart`:
    /// linear from the start to the end discount over `duration`, rounded down; no time elapses
    /// before the clock start.
    function discountAt(
        ILiquidator.AuctionParams memory p,
        uint256 clockStart,
        uint256 timestamp
    ) internal pure returns (uint256) {
        uint256 elapsed = timestamp > clockStart ? timestamp - clockStart : 0;
        if (elapsed >= p.duration) return p.endDiscountWad;
        return p.startDiscountWad + ((p.endDiscountWad - p.startDiscountWad) * elapsed) / p.duration;
    }

    /// @notice The discount a bid gets at `timestamp`: `discountAt`, except that while the account's
    /// mark value is below zero (`markValue < 0`, V < 0) it stays at the start discount. V < 0 is
    /// exactly when the price can fall below zero and the insurance fund pays the bidder
    /// `|V| + d·|H|`: a discount that kept growing would have the fund pay more the longer nobody
    /// bids (issue 16). No bid moves an account across V = 0 (V < 0: the account receives nothing,
    /// V' = (1 − f)·V; V ≥ 0: P ≥ 0, V' = (1 − f)·V + f·P), so split and whole bids get the same
    /// discount (review rv16 F1; keying on equityMM let a first slice lift a haircut-only account
    /// to the grown discount). An auction nobody takes at the start discount waits for the backstop.
    function bidDiscountAt(
        ILiquidator.AuctionParams memory p,
        int256 markValue,
        uint256 clockStart,
        uint256 timestamp
    ) internal pure returns (uint256) {
        if (markValue < 0) return p.startDiscountWad;
        return discountAt(p, clockStart, timestamp);
    }

    /// @notice Price of the whole account, WAD: its signed cash C at face value, the rest
    /// H = V − C (collateral and positions at mark) at the discount: P = C + H − d·|H| = V − d·|H|.
    /// Cash is never discounted, so a bare debt with a wei of collateral costs the fund the debt,
    /// not (1 + d) × the debt (review R4), and cash earlier bids paid in is sold back at par, so
    /// split and whole bids agree (finding 11). The discount rounds down, against the bidder.
    /// An account worth V ≥ 0 is never sold below 0, so its auction never draws on the insurance
    /// fund (binds only when the cash exceeds V·(1 + d)/d).
    /// @return priceWad V minus the discount.
    /// @return discountValueWad The discount taken off V.
    function accountPriceDown(
        int256 markValue,
        int256 cashWad,
        uint256 discountWad
    ) internal pure returns (int256 priceWad, uint256 discountValueWad) {
        discountValueWad = FixedPointMathLib.mulWad(discountWad, SignedMath.abs(markValue - cashWad));
        if (markValue >= 0 && discountValueWad > uint256(markValue)) discountValueWad = uint256(markValue);
        priceWad = markValue - int256(discountValueWad);
    }

    /// @notice The smallest fraction a bid must take (after the cap at `maxFractionWad`): 1 %, or
    /// the largest fraction when that is less. A bid below it moves next to nothing yet pushes the
    /// auction's lapse back and changes the account's nonce, so it is refused (review rv16w W6).
    function minBidFraction(uint256 maxFractionWad) internal pure returns (uint256) {
        return maxFractionWad < MIN_BID_FRACTION ? maxFractionWad : MIN_BID_FRACTION;
    }

    /// @notice The largest fraction a bid may take, rounded up: the one that brings the account
    /// back to `(1 + buffer) × requirementIM`, solved from
    /// `(1 − f)·E + f·P = (1 + b)·(1 − f)·R`  ⇒  `f = ((1 + b)·R − E) / (P + (1 + b)·R − E)`.
    /// Insolvent and dust-sized accounts, and accounts that no fraction can restore, go whole;
    /// 0 means no bid is needed.
    function maxFraction(
        ILiquidator.AuctionParams memory p,
        IMarginEngine.MarginState memory state,
        int256 priceWad
    ) internal pure returns (uint256) {
        if (state.equityMM < 0 || state.markValue < 0) return WAD;
        if (SignedMath.abs(state.markValue) <= p.dustValueWad) return WAD;
        uint256 target = state.requirementIM + FixedPointMathLib.mulWadUp(p.bufferWad, state.requirementIM);
        int256 need = int256(target) - state.equityIM;
        if (need <= 0) return 0;
        int256 denominator = priceWad + need;
        if (denominator <= 0) return WAD;
        uint256 f = FixedPointMathLib.divWadUp(uint256(need), uint256(denominator));
        return f < WAD ? f : WAD;
    }

    /// @notice What a bid for `fractionWad` of an account pays at `discountWad`, and the state it
    /// leaves: the fraction is capped at `maxFraction` (dust-sized accounts go whole); the bidder
    /// pays rounded up, and so is the insurance fund's share of the discount; the fund pays a
    /// bidder rounded down. `maxFractionWad == 0` in the result means no bid is needed.
    /// @param cash The account's signed cash, in cash units.
    function quoteBid(
        ILiquidator.AuctionParams memory p,
        IMarginEngine.MarginState memory state,
        int256 cash,
        uint8 cashDecimals,
        uint256 discountWad,
        uint256 fractionWad
    ) internal pure returns (ILiquidator.BidPreview memory q) {
        q.discountWad = discountWad;
        q.markValueWad = state.markValue;
        (int256 priceWad, uint256 discountValue) = accountPriceDown(
            state.markValue,
            CashUnits.toWadDown(cash, cashDecimals),
            discountWad
        );
        q.maxFractionWad = maxFraction(p, state, priceWad);
        bool dust = SignedMath.abs(state.markValue) <= p.dustValueWad;
        q.fractionWad = dust ? WAD : (fractionWad < q.maxFractionWad ? fractionWad : q.maxFractionWad);

        uint256 f = q.fractionWad;
        if (priceWad >= 0) {
            q.payment = int256(CashUnits.fromWadUp(FixedPointMathLib.mulWadUp(f, uint256(priceWad)), cashDecimals));
            q.insuranceFee = CashUnits.fromWadUp(
                FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(f, discountValue), p.insuranceShareWad),
                cashDecimals
            );
        } else {
            q.payment = -int256(CashUnits.fromWadDown(FixedPointMathLib.mulWad(f, uint256(-priceWad)), cashDecimals));
        }

        // Expected state of the liquidated account: (1 − f) of everything plus what it is paid.
        int256 received = q.payment > 0 ? CashUnits.toWadDown(q.payment, cashDecimals) : int256(0);
        q.equityIMAfter = state.equityIM - mulWadTowardZero(f, state.equityIM) + received;
        q.equityMMAfter = state.equityMM - mulWadTowardZero(f, state.equityMM) + received;
        q.requirementIMAfter = state.requirementIM - FixedPointMathLib.mulWad(f, state.requirementIM);
        q.requirementMMAfter = state.requirementMM - FixedPointMathLib.mulWad(f, state.requirementMM);
    }

    /// @notice `f × x / 1e18` for a signed `x`, rounded toward zero.
    function mulWadTowardZero(uint256 f, int256 x) internal pure returns (int256) {
        return
            x >= 0
                ? int256(FixedPointMathLib.mulWad(f, uint256(x)))
                : -int256(FixedPointMathLib.mulWad(f, uint256(-x)));
    }
}
