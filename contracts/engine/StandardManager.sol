// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {DynamicArrayLib} from "solady/src/utils/DynamicArrayLib.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {MarginValuation} from "./MarginValuation.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title StandardManager
/// @notice Standard margin, for CROSS and ISOLATED accounts: every collateral balance with its
/// haircuts, signed cash, and each position at its mark with a per-short requirement
/// (`IMarginEngine.RiskParams`). It stays in the engine's bytecode; the engine supplies the
/// registry.
abstract contract StandardManager is MarginValuation {
    using DynamicArrayLib for uint256[];

    /// @dev 1e18 and 1e18 − 1, for the written-out `mulWadUp`s (`_position`, `_requirementsUp`, `_putFloorsUp`):
    /// ⌈p / 1e18⌉ = ⌊(p + 1e18 − 1) / 1e18⌋, where p, a product of two factors below 2**128, is at
    /// most 2**256 − 2**129 + 1, so the sum cannot wrap.
    uint256 private constant WAD_ = 1e18;
    uint256 private constant WAD_MINUS_1 = 1e18 - 1;

    /// @dev One underlying's standard-margin parameters as a check's shorts use them (`_readShortRisk`),
    /// a six-word array (a word array rather than a struct: a struct variable can only be read from
    /// an array with a bounds check, 58 gas a short, or declared by allocating one), read and written
    /// at the byte offsets below (past the length word): `a·S` for initial and maintenance, rounded
    /// up as `MarginMath.shortRequirementUp` rounds them; `b·S` likewise, computed with the first
    /// call (a put's floor is `b·K`, so a put-only book never computes, nor could revert on, a
    /// product the per-short formula would not; 0 = not yet: `b` ≥ 1 % and S ≥ 1 wei make it ≥ 1);
    /// `bIM` and `bMM`. Entries are made per underlying on first use (`_noShortRisk`).
    uint256 private constant _A_IM_SPOT = 0x20;
    uint256 private constant _A_MM_SPOT = 0x40;
    uint256 private constant _B_IM_SPOT = 0x60;
    uint256 private constant _B_MM_SPOT = 0x80;
    uint256 private constant _B_IM = 0xa0;
    uint256 private constant _B_MM = 0xc0;

    /// @dev Standard initial margin counts a long at zero: a FALLBACK long cannot move it.
    function _fallbackLongsCount() internal pure override returns (bool) {
        return false;
    }

    /// @dev The standard-margin parameters of underlying `index`.
    /// On the stack, widened, in `RiskParams`' field order: a `RiskParams memory` return cost a
    /// zeroed struct and a copy for every underlying a check holds shorts on.
    function _riskParamsOf(
        uint16 index
    ) internal view virtual returns (uint256 aIM, uint256 bIM, uint256 aMM, uint256 bMM);

    /// @dev The concentration add-on (initial, maintenance) of `shorts[u]` gross short contracts on
    /// each underlying `u` at `spots[u]` (`IPortfolioManager.concentrationAddOnUp`).
    function _concentrationAddOnUp(
        uint256[] memory shorts,
        uint256[] memory spots
    ) internal view virtual returns (uint256, uint256);

    /// @dev The standard margin state of `account`: collateral, cash, then every position held
    /// in `market_` (none while the market is not set); and the check's price cache, which says
    /// whether a live short it holds has a FALLBACK surface (a long cannot move standard initial
    /// margin: `_fallbackLongsCount`). A caller checking new risk must pass
    /// that cache to `_requireUsableSurface` (`MarginEngine._checkInitial` does): this function
    /// refuses nothing itself. One function for both uses: a flag argument had the optimizer
    /// compile the valuation twice (1,300 B of the engine net).
    /// Collateral is valued first: its price reads are the only ones that may fail without
    /// reverting (`_collateralPrice` counts an unpriceable asset 0), so a caller starving one of gas
    /// must still have gas for every position after it (63/64 rule; review rv36 P2-1). The
    /// positions' terms are added to the state unchecked (a checked sum is about 60 gas a term; a
    /// sum apart from the state, added to it once, cost a zeroed `MarginState` a check): a value is
    /// a `mulWad`/`mulWadUp` result (the library's, which reverts when the product overflows, or
    /// written out for factors below 2**128), so it is at most ⌈(2**256 − 1) / 1e18⌉ < 2**197; a
    /// requirement is two of them (the confidence add-on), below 2**198; a book holds at most 128
    /// positions (`MarginEngine.MAX_CROSS_POSITIONS`, the market's book size), and even a market
    /// returning more could not return 2**36 (copying its return data into memory costs quadratic
    /// gas), so every sum of terms stays below 2**234. Nor can adding them unchecked wrap, nor drop
    /// a reachable revert, because the collateral part of the state (what it holds before them) is
    /// below 2**210 in magnitude: cash is below 2**149 units (shares and the index each fit 104
    /// bits, `CashIndex.MAX_INDEX`), so below 2**209 in WAD whatever the cash asset's decimals; and
    /// each collateral value is below 2**200, since its haircut value `mulWad(value, 1e18 −
    /// haircut)` reverts above that (the vault's haircuts are at most 0.9e18), for at most 8 assets
    /// (`CollateralVault.MAX_COLLATERAL_ASSETS`). So every partial sum is the true one. (Past those
    /// bounds, a vault this engine is not built with, the unchecked sums could wrap where checked
    /// ones reverted.)
    /// @param state The caller's zeroed `MarginState` (a view's return variable, a batch's
    /// element, a fresh local), written in place: its requirements are added to, never set, so a
    /// state used before would count them twice. As a return variable it was one more zeroed
    /// struct a call.
    function _standardMargin(
        AccountId account,
        IOptionMarket market_,
        PriceCache memory cache,
        IMarginEngine.MarginState memory state
    ) internal view {
        (state.equityIM, state.equityMM, state.markValue) = _collateralMargin(account, cache);
        if (address(market_) != address(0)) _addPositions(market_, account, cache, state);
        state.health = _health(state);
    }

    /// @dev The collateral part of `account`'s standard margin state: its signed cash in WAD, plus
    /// each collateral balance's value with initial and with maintenance haircuts, and with none
    /// (`_holdings` and `_holding`'s valuation, their reads in their order, and `_haircutValues`,
    /// summed checked). Summed as it is priced, with no `Holding`: `_holdings`' array allocates and
    /// zeroes a 12-word struct per collateral asset, and `_holding` another for its return
    /// variable, where standard margin needs only the three sums. The values and the reverts are
    /// those of pricing every asset first and then summing; only which error a revert carries can
    /// differ, when a sum overflows before a later asset's price does (absurd prices, either way a
    /// revert).
    function _collateralMargin(
        AccountId account,
        PriceCache memory cache
    ) private view returns (int256 equityIM, int256 equityMM, int256 markValue) {
        (uint256[] memory balances, int256 cash) = _vault.balancesOf(account);
        equityIM = CashUnits.toWadDown(cash, _cashDecimals);
        (equityMM, markValue) = (equityIM, equityIM);
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] == 0) continue;
            if (assets.length == 0) assets = _vault.collateralAssets();
            address asset = assets[i];
            ICollateralVault.AssetConfig memory config = _vault.assetConfig(asset);
            // Delisted or unpriceable collateral is worth 0 (`_holding`), as is a balance worth
            // less than a wei: 0 with either haircut, nothing to add.
            if (config.delisted) continue;
            uint256 price = _collateralPrice(asset, _readListedIndex(asset), cache);
            if (price == 0) continue;
            uint256 valueWad = MarginMath.tokenValueDown(balances[i], config.decimals, price);
            if (valueWad == 0) continue;
            equityIM += int256(MarginMath.applyHaircutDown(valueWad, config.initialHaircutWad));
            equityMM += int256(MarginMath.applyHaircutDown(valueWad, config.maintenanceHaircutWad));
            markValue += int256(valueWad);
        }
    }

    /// @dev Adds `account`'s positions in `market_` to its standard margin state `sums` (its
    /// collateral part, requirements 0): their values (into IM equity only when negative, into
    /// mark value as into MM equity), requirements and the concentration add-on, unchecked within
    /// the bound `_standardMargin` states. Written into the caller's state: a `MarginState` return
    /// variable is allocated and zeroed before it is written (the IR pipeline), and stack sums
    /// cost the loop about 18 gas a position in stack shuffles (measured).
    function _addPositions(
        IOptionMarket market_,
        AccountId account,
        PriceCache memory cache,
        IMarginEngine.MarginState memory sums
    ) private view {
        int256 collateralMM = sums.equityMM;
        (SeriesId[] memory seriesIds, int256[] memory balances) = _positionsOf(market_, account);
        uint256[] memory shorts = DynamicArrayLib.malloc(cache.spot.length).zeroize();
        uint256[][] memory risk = _noShortRisk(cache.spot.length);
        for (uint256 i; i < seriesIds.length;) {
            SeriesId seriesId;
            int256 held;
            // Unchecked reads: i < seriesIds.length, which `_positionsOf` checked equals balances.length.
            assembly ("memory-safe") {
                let at := shl(5, add(i, 1))
                seriesId := mload(add(seriesIds, at))
                held := mload(add(balances, at))
            }
            (int256 value, uint256 reqIM, uint256 reqMM) = _position(seriesId, held, cache, shorts, risk);
            // Unchecked: the sums' bound (`_standardMargin`); i < seriesIds.length.
            unchecked {
                // Long options add nothing to initial-margin equity (as in Lyra's standard
                // manager): otherwise options bought on cash credit would lever without bound.
                if (value < 0) sums.equityIM += value;
                sums.equityMM += value;
                sums.requirementIM += reqIM;
                sums.requirementMM += reqMM;
                ++i;
            }
        }
        // Unchecked: the positions' sum of values, below 2**234 in magnitude.
        unchecked {
            sums.markValue += sums.equityMM - collateralMM;
        }
        // Maintenance parameters are at least 1 %, so a requirement means a live short: only
        // then is there a concentration add-on to ask for.
        if (sums.requirementIM != 0) {
            (uint256 addOnIM, uint256 addOnMM) = _concentrationAddOnUp(shorts, cache.spot);
            sums.requirementIM += addOnIM;
            sums.requirementMM += addOnMM;
        }
    }

    /// @dev `market_.positionsOf(account)`, its two arrays used where the return data is copied: the
    /// ABI decoder would copy them again, element by element (128 positions: 2 × 128 words). Checks
    /// what the decoder checks — two offsets, and each array's length word and elements inside the
    /// return data — and that the two lengths are equal (the loop reads both at one index), and
    /// reverts with no data if not (the decoder too, except for a length so large it would overflow
    /// memory, where it panics 0x41: review rv29s P3-1); a revert of the market bubbles up as from a
    /// high-level call. Unequal lengths (which `OptionMarket` never returns) revert here, where the
    /// portfolio manager's decoder ignores extra balances and panics 0x32 on missing ones (rv32 P3-2).
    function _positionsOf(
        IOptionMarket market_,
        AccountId account
    ) private view returns (SeriesId[] memory seriesIds, int256[] memory balances) {
        bytes4 selector = IOptionMarket.positionsOf.selector;
        assembly ("memory-safe") {
            let data := mload(0x40)
            mstore(data, selector)
            mstore(add(data, 0x04), account)
            if iszero(staticcall(gas(), market_, data, 0x24, 0, 0)) {
                returndatacopy(data, 0, returndatasize())
                revert(data, returndatasize())
            }
            let size := returndatasize()
            returndatacopy(data, 0, size)
            // Offsets and lengths are below 2**64, so no sum below can wrap.
            let offsetA := mload(data)
            let offsetB := mload(add(data, 0x20))
            if or(lt(size, 0x40), or(gt(offsetA, 0xffffffffffffffff), gt(offsetB, 0xffffffffffffffff))) {
                revert(0, 0)
            }
            if or(gt(add(offsetA, 0x20), size), gt(add(offsetB, 0x20), size)) {
                revert(0, 0)
            }
            seriesIds := add(data, offsetA)
            balances := add(data, offsetB)
            let lengthA := mload(seriesIds)
            let lengthB := mload(balances)
            // The market returns one balance per series: the loop reads both arrays at one index.
            if or(gt(lengthA, 0xffffffffffffffff), iszero(eq(lengthA, lengthB))) {
                revert(0, 0)
            }
            if or(
                gt(add(add(offsetA, 0x20), shl(5, lengthA)), size),
                gt(add(add(offsetB, 0x20), shl(5, lengthB)), size)
            ) {
                revert(0, 0)
            }
            mstore(0x40, add(data, and(add(size, 0x1f), not(0x1f))))
        }
    }

    /// @dev Value and requirements of one position; a short of an unsettled series also counts
    /// into `shorts` (gross short contracts by underlying index). `risk` caches each underlying's
    /// `RiskParams` and their products with the check's spot (`_readShortRisk`).
    function _position(
        SeriesId seriesId,
        int256 balance,
        PriceCache memory cache,
        uint256[] memory shorts,
        uint256[][] memory risk
    ) internal view returns (int256 value, uint256 reqIM, uint256 reqMM) {
        uint256 spotWad;
        uint256 addOnWad;
        uint256 size;
        {
            uint256 markWad;
            bool settled;
            (markWad, spotWad, settled, , addOnWad) = _mark(seriesId, cache, balance > 0);
            // `MarginMath.positionValue` and `positionRequirementUp` with |balance| taken once, in
            // their order, so that every revert is theirs (test/unit/engine/StandardPositionParity.t.sol).
            if (balance >= 0) return (int256(FixedPointMathLib.mulWad(uint256(balance), markWad)), 0, 0);
            size = _sizeOf(balance);
            // A settled series' payoff is fixed and carried by the mark. Unchecked negations: a
            // `mulWadUp` result is at most ⌈(2**256 − 1) / 1e18⌉ < 2**255 (it reverts above).
            if (settled) {
                unchecked {
                    return (-int256(FixedPointMathLib.mulWadUp(size, markWad)), 0, 0);
                }
            }
            // `_mark` checked the index against the cache's arrays, which `shorts` and `risk` match.
            uint16 index = SeriesLib.underlyingIndexOf(seriesId);
            uint256 gross = _at(shorts, index);
            // The value, `mulWadUp(size, markWad)`, then `gross + size`: written out and unchecked
            // when all three are below 2**128, where neither can overflow (about 100 gas less than
            // the library call and the checked sum); checked otherwise.
            if ((size | markWad | gross) >> 128 == 0) {
                assembly ("memory-safe") {
                    markWad := div(add(mul(size, markWad), WAD_MINUS_1), WAD_)
                    gross := add(gross, size)
                }
            } else {
                markWad = FixedPointMathLib.mulWadUp(size, markWad);
                gross += size;
            }
            unchecked {
                value = -int256(markWad);
            }
            _setAt(shorts, index, gross);
        }
        uint256[] memory r = _riskOf(risk, SeriesLib.underlyingIndexOf(seriesId), spotWad);
        (reqIM, reqMM) = _perContractUp(seriesId, spotWad, r);
        (reqIM, reqMM) = _requirementsUp(size, reqIM, reqMM, addOnWad);
    }

    /// @dev Underlying `index`'s entry in `risk`, made at its first short (`_readShortRisk`). The read
    /// is unchecked: the caller's index is below `risk.length`; an unset entry is a null pointer.
    function _riskOf(uint256[][] memory risk, uint16 index, uint256 spotWad) private view returns (uint256[] memory r) {
        // Masked: a narrowing conversion leaves dirty high bits in the legacy pipeline (review rv37 P2-1).
        assembly ("memory-safe") {
            r := mload(add(risk, shl(5, add(and(index, 0xffff), 1))))
        }
        if (_isUnset(r)) {
            r = _readShortRisk(index, spotWad);
            risk[index] = r;
        }
    }

    /// @dev −`held` for a negative `held`, reverting as a checked negation does (Panic 0x11)
    /// for −2**255; one comparison inline rather than the compiler's negation helper (45 gas a short).
    function _sizeOf(int256 held) private pure returns (uint256 size) {
        assembly ("memory-safe") {
            if eq(held, shl(255, 1)) {
                mstore(0x00, 0x4e487b71)
                mstore(0x20, 0x11)
                revert(0x1c, 0x24)
            }
            size := sub(0, held)
        }
    }

    /// @dev A short's requirements from its per-contract ones and the confidence add-on:
    /// `mulWadUp(size, perIM) + mulWadUp(size, addOnWad)`, and the same for `perMM`, to the wei and
    /// with the library's revert, written out: as calls the optimizer kept each a call (about 90 gas,
    /// against about 25 here). When every factor is below 2**128 no product can overflow, so the
    /// common case needs no check per product; otherwise the library's checked calls run. The sums
    /// are unchecked: each term is below 2**197, so each sum is below 2**198 (the sums' bound in
    /// `_standardMargin`).
    function _requirementsUp(
        uint256 size,
        uint256 perIM,
        uint256 perMM,
        uint256 addOnWad
    ) internal pure returns (uint256 reqIM, uint256 reqMM) {
        uint256 addOn;
        if ((size | perIM | perMM | addOnWad) >> 128 == 0) {
            assembly ("memory-safe") {
                reqIM := div(add(mul(size, perIM), WAD_MINUS_1), WAD_)
                reqMM := div(add(mul(size, perMM), WAD_MINUS_1), WAD_)
                addOn := div(add(mul(size, addOnWad), WAD_MINUS_1), WAD_)
            }
        } else {
            reqIM = FixedPointMathLib.mulWadUp(size, perIM);
            reqMM = FixedPointMathLib.mulWadUp(size, perMM);
            addOn = FixedPointMathLib.mulWadUp(size, addOnWad);
        }
        unchecked {
            reqIM += addOn;
            reqMM += addOn;
        }
    }

    /// @dev `count` unset `_readShortRisk` entries (null pointers, `_isUnset`): an entry is allocated by
    /// `_readShortRisk` at the first short on its underlying, so a check pays for the underlyings its
    /// shorts are on, not for every listed one (review rv29s P2-1: `new ShortRisk[](32)` zeroed 32
    /// six-word structs, +9,400 gas a check at 32 listed underlyings). No entry is read before it is set.
    function _noShortRisk(uint256 count) internal pure returns (uint256[][] memory risk) {
        assembly ("memory-safe") {
            risk := mload(0x40)
            mstore(risk, count)
            // Zero the pointers (calldatacopy from past the calldata's end copies zeros).
            calldatacopy(add(risk, 0x20), calldatasize(), shl(5, count))
            mstore(0x40, add(add(risk, 0x20), shl(5, count)))
        }
    }

    /// @dev Whether `r` is an entry of `_noShortRisk` not yet set.
    function _isUnset(uint256[] memory r) private pure returns (bool unset) {
        assembly ("memory-safe") {
            unset := iszero(r)
        }
    }

    /// @dev Underlying `index`'s entry, made at the first short met on it: one storage read and two
    /// products per underlying per check, not per short. An unsettled short's `spotWad` (`_mark`) is
    /// always its underlying's cached spot, live or expired, so every short on the underlying shares
    /// them. (`b·S`, at `_B_IM_SPOT` and `_B_MM_SPOT`, is left 0 for the first call to fill.)
    function _readShortRisk(uint16 index, uint256 spotWad) private view returns (uint256[] memory r) {
        (uint256 aIM, uint256 bIM, uint256 aMM, uint256 bMM) = _riskParamsOf(index);
        uint256 aIMSpot = FixedPointMathLib.mulWadUp(aIM, spotWad);
        uint256 aMMSpot = FixedPointMathLib.mulWadUp(aMM, spotWad);
        r = DynamicArrayLib.malloc(6).zeroize();
        assembly ("memory-safe") {
            mstore(add(r, _A_IM_SPOT), aIMSpot)
            mstore(add(r, _A_MM_SPOT), aMMSpot)
            mstore(add(r, _B_IM), bIM)
            mstore(add(r, _B_MM), bMM)
        }
    }

    /// @dev The initial and maintenance requirements of one short contract of `seriesId` at `spotWad`
    /// from its underlying's `r` (`_readShortRisk`), rounded up: times the size and rounded up again
    /// (`_requirementsUp`), `MarginMath.shortRequirementUp` at (aIM, bIM) and at (aMM, bMM) to the wei
    /// (test/unit/engine/RiskParamsPerUnderlying.t.sol), with the out-of-the-money amount computed
    /// once and the `a·S` and `b·S` products cached. `r` must be a set entry (`_riskOf`): a null one
    /// would have the call's first `b·S` written at 0x60 and 0x80 (review rv37 P3-3).
    function _perContractUp(
        SeriesId seriesId,
        uint256 spotWad,
        uint256[] memory r
    ) internal pure returns (uint256 perIM, uint256 perMM) {
        uint256 strike = SeriesLib.strikeOf(seriesId);
        uint256 otm;
        uint256 floorIM;
        uint256 floorMM;
        // Unchecked: every subtraction below is guarded by its comparison.
        if (SeriesLib.isCallOf(seriesId)) {
            unchecked {
                otm = strike > spotWad ? strike - spotWad : 0;
            }
            assembly ("memory-safe") {
                floorIM := mload(add(r, _B_IM_SPOT))
                floorMM := mload(add(r, _B_MM_SPOT))
            }
            if (floorIM == 0) {
                (uint256 bIM, uint256 bMM) = _bOf(r);
                floorIM = FixedPointMathLib.mulWadUp(bIM, spotWad);
                floorMM = FixedPointMathLib.mulWadUp(bMM, spotWad);
                assembly ("memory-safe") {
                    mstore(add(r, _B_IM_SPOT), floorIM)
                    mstore(add(r, _B_MM_SPOT), floorMM)
                }
            }
        } else {
            unchecked {
                otm = spotWad > strike ? spotWad - strike : 0;
            }
            (floorIM, floorMM) = _putFloorsUp(r, strike);
        }
        // `MarginMath.shortRequirementUp`'s last lines: max(a·S − OTM, 0), at least the floor. Written
        // out, not shared: as a MarginMath function the optimizer kept it a call (~91 gas each, two a
        // short: +6,000 gas at 128 positions, measured with scripts/trace-lines.ts).
        unchecked {
            uint256 aS;
            assembly ("memory-safe") {
                aS := mload(add(r, _A_IM_SPOT))
            }
            uint256 first = aS > otm ? aS - otm : 0;
            perIM = first > floorIM ? first : floorIM;
            assembly ("memory-safe") {
                aS := mload(add(r, _A_MM_SPOT))
            }
            first = aS > otm ? aS - otm : 0;
            perMM = first > floorMM ? first : floorMM;
        }
    }

    /// @dev A put's floors per contract, `mulWadUp(bIM, strike)` and `mulWadUp(bMM, strike)`, written
    /// out: b is a `RiskParams` field, below 2**64 (`_readShortRisk` copies it), and a strike is below
    /// 2**128 (`SeriesLib.strikeOf`), so no product can overflow and the sum cannot wrap.
    function _putFloorsUp(uint256[] memory r, uint256 strike) private pure returns (uint256 floorIM, uint256 floorMM) {
        (uint256 bIM, uint256 bMM) = _bOf(r);
        assembly ("memory-safe") {
            floorIM := div(add(mul(bIM, strike), WAD_MINUS_1), WAD_)
            floorMM := div(add(mul(bMM, strike), WAD_MINUS_1), WAD_)
        }
    }

    /// @dev The `bIM` and `bMM` of entry `r` (`_readShortRisk`).
    function _bOf(uint256[] memory r) private pure returns (uint256 bIM, uint256 bMM) {
        assembly ("memory-safe") {
            bIM := mload(add(r, _B_IM))
            bMM := mload(add(r, _B_MM))
        }
    }
}
