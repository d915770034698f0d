// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
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
    /// @dev The standard-margin parameters of underlying `index`.
    function _riskParamsOf(uint16 index) internal view virtual returns (IMarginEngine.RiskParams memory);

    /// @dev The concentration add-on (initial, maintenance) of `shorts[u]` gross short contracts on
    /// each underlying `u` at `spots[u]` (`IPortfolioManager.concentrationAddOnUp`).
    function _concentrationAddOnUp(
        uint256[] memory shorts,
        uint256[] memory spots
    ) internal view virtual returns (uint256, uint256);

    /// @dev The standard margin state of `account`: collateral, cash, then every position held
    /// in `market_` (none while the market is not set); and the check's price cache, which says
    /// whether a live series it holds has a FALLBACK surface. A caller checking new risk must pass
    /// that cache to `_requireUsableSurface` (`MarginEngine._checkInitial` does): this function
    /// refuses nothing itself. One function for both uses: a flag argument had the optimizer
    /// compile the valuation twice (1,300 B of the engine net).
    function _standardMargin(
        AccountId account,
        IOptionMarket market_
    ) internal view returns (IMarginEngine.MarginState memory state, PriceCache memory cache) {
        cache = _newCache();
        {
            (int256 cashWad, Holding[] memory holdings) = _holdings(account, cache);
            (state.equityIM, state.equityMM, state.markValue) = (cashWad, cashWad, cashWad);
            for (uint256 i; i < holdings.length; ++i) {
                (int256 im, int256 mm) = _haircutValues(holdings[i]);
                state.equityIM += im;
                state.equityMM += mm;
                state.markValue += int256(holdings[i].valueWad);
            }
        }
        if (address(market_) != address(0)) {
            (SeriesId[] memory seriesIds, int256[] memory balances) = market_.positionsOf(account);
            uint256[] memory shorts = new uint256[](cache.spot.length);
            uint256[] memory risk = new uint256[](cache.spot.length);
            for (uint256 i; i < seriesIds.length; ++i) {
                (int256 value, uint256 reqIM, uint256 reqMM) = _position(
                    seriesIds[i],
                    balances[i],
                    cache,
                    shorts,
                    risk
                );
                // Long options add nothing to initial-margin equity (as in Lyra's standard
                // manager): otherwise options bought on cash credit would lever without bound.
                if (value < 0) state.equityIM += value;
                state.equityMM += value;
                state.markValue += value;
                state.requirementIM += reqIM;
                state.requirementMM += reqMM;
            }
            // Maintenance parameters are at least 1 %, so a requirement means a live short: only
            // then is there a concentration add-on to ask for.
            if (state.requirementIM != 0) {
                (uint256 addOnIM, uint256 addOnMM) = _concentrationAddOnUp(shorts, cache.spot);
                state.requirementIM += addOnIM;
                state.requirementMM += addOnMM;
            }
        }
        state.health = _health(state);
    }

    /// @dev Value and requirements of one position; a short of an unsettled series also counts
    /// into `shorts` (gross short contracts by underlying index). `risk` caches each underlying's
    /// `RiskParams` for the check (`_shortParams`).
    function _position(
        SeriesId seriesId,
        int256 balance,
        PriceCache memory cache,
        uint256[] memory shorts,
        uint256[] memory risk
    ) internal view returns (int256 value, uint256 reqIM, uint256 reqMM) {
        uint256 spotWad;
        uint256 addOnWad;
        {
            uint256 markWad;
            bool settled;
            (markWad, spotWad, settled, , addOnWad) = _mark(seriesId, cache, balance > 0);
            value = MarginMath.positionValue(balance, markWad);
            // A settled series' payoff is fixed and carried by the mark: nothing further is required.
            if (balance >= 0 || settled) return (value, 0, 0);
        }
        uint256 params = _shortParams(seriesId, balance, shorts, risk);
        (reqIM, reqMM) = _requirementsUp(seriesId, balance, spotWad, params);
        // The confidence add-on (0 off the surface) on both requirements.
        if (addOnWad != 0) {
            uint256 addOn = MarginMath.positionRequirementUp(balance, addOnWad);
            reqIM += addOn;
            reqMM += addOn;
        }
    }

    /// @dev Counts short `balance` of `seriesId` into `shorts` and returns its underlying's
    /// `RiskParams` packed into one word (`aIM | bIM << 64 | aMM << 128 | bMM << 192`), read once
    /// per underlying per check into `risk` (0 = not read yet; never a listed underlying's, since
    /// `aMM` ≥ 1 %): one storage read and one memory struct per underlying, not per short.
    function _shortParams(
        SeriesId seriesId,
        int256 balance,
        uint256[] memory shorts,
        uint256[] memory risk
    ) private view returns (uint256 params) {
        uint16 index = SeriesLib.underlyingIndexOf(seriesId);
        shorts[index] += uint256(-balance);
        params = risk[index];
        if (params == 0) {
            IMarginEngine.RiskParams memory p = _riskParamsOf(index);
            params = uint256(p.aIM) | (uint256(p.bIM) << 64) | (uint256(p.aMM) << 128) | (uint256(p.bMM) << 192);
            risk[index] = params;
        }
    }

    /// @dev The initial and maintenance requirements of short `balance` of `seriesId` at `spotWad`,
    /// with the packed `params` of `_shortParams`.
    function _requirementsUp(
        SeriesId seriesId,
        int256 balance,
        uint256 spotWad,
        uint256 params
    ) private pure returns (uint256 reqIM, uint256 reqMM) {
        bool isCall = SeriesLib.isCallOf(seriesId);
        uint256 strike = SeriesLib.strikeOf(seriesId);
        reqIM = MarginMath.positionRequirementUp(
            balance,
            MarginMath.shortRequirementUp(isCall, spotWad, strike, uint64(params), uint64(params >> 64))
        );
        reqMM = MarginMath.positionRequirementUp(
            balance,
            MarginMath.shortRequirementUp(isCall, spotWad, strike, uint64(params >> 128), params >> 192)
        );
    }
}
