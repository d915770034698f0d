// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarginEngine} from "../engine/MarginEngine.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {BlackScholes} from "../libraries/BlackScholes.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title StandardMarginProbe
/// @notice Benchmark helper (`scripts/trace-margin.ts`): the gas of each piece of one position in the
/// standard margin check, measured with `gasleft()` around internal calls, in an engine compiled with
/// the engine's own settings (hardhat.config.ts gives this file the engine's override). Every price
/// is read into the check's cache first, so the pieces are compute only (no calls, no cold reads).
contract StandardMarginProbe is MarginEngine {
    /// @notice Own gas of one position's pieces.
    /// @param lnMoneyness `BlackScholes.lnMoneyness`.
    /// @param callPriceLn `BlackScholes.callPriceLn`, from that ln(S/K).
    /// @param markOf The whole mark of the series (`_markOf`, the prices cached).
    /// @param position The whole position: mark, value, requirements (`_position`).
    /// @param requirements A short's requirement arithmetic alone (`StandardManager._perContractUp`, then
    /// `_requirementsUp`:
    /// both requirements from the underlying's cached products; 0 for a long).
    /// @param callPriceAt `BlackScholes.callPriceAt` from that ln(S/K) and the vol term: the price of
    /// one scenario cell of the portfolio check, which `PortfolioMath._addCells` computes written out
    /// (the same value, without the guard's fixed inputs; its deployed copy is compiled with the
    /// engine's settings too, since the engine deploys it).
    struct Pieces {
        uint256 lnMoneyness;
        uint256 callPriceLn;
        uint256 markOf;
        uint256 position;
        uint256 requirements;
        uint256 callPriceAt;
    }

    constructor(
        address admin,
        ICollateralVault vault_,
        IPledgeOracle oracle_,
        bytes memory managerCode
    ) MarginEngine(admin, vault_, oracle_, managerCode) {}

    /// @notice The pieces' gas for a position of `balance` contracts of `seriesId` (a live series).
    /// `sink` folds every result in, so that no measured call is optimised away.
    function pieces(SeriesId seriesId, int256 balance) external view returns (Pieces memory g, uint256 sink) {
        PriceCache memory cache = _newCache();
        uint256[] memory shorts = new uint256[](cache.spot.length);
        uint256[][] memory risk = _noShortRisk(cache.spot.length);
        // Warm the cache: spot, vol and the surface mode of the underlying.
        _markOf(seriesId, cache, balance > 0);
        uint16 index = SeriesLib.underlyingIndexOf(seriesId);
        uint256 spot = cache.spot[index];
        uint256 vol = cache.vol[index];
        uint256 strike = SeriesLib.strikeOf(seriesId);
        uint256 tau = SeriesLib.expiryOf(seriesId) - block.timestamp;
        uint256 start = gasleft();
        int256 ln = BlackScholes.lnMoneyness(spot, strike);
        g.lnMoneyness = start - gasleft();
        start = gasleft();
        sink ^= BlackScholes.callPriceLn(spot, strike, tau, vol, ln);
        g.callPriceLn = start - gasleft();
        start = gasleft();
        sink ^= _markOf(seriesId, cache, balance > 0).markWad;
        g.markOf = start - gasleft();
        start = gasleft();
        (int256 value, uint256 reqIM, uint256 reqMM) = _position(seriesId, balance, cache, shorts, risk);
        g.position = start - gasleft();
        sink ^= uint256(value) ^ reqIM ^ reqMM;
        // The engine's own requirement arithmetic for a short, with its underlying's risk
        // entry as `_position` left it (products cached: every short after the first pays this).
        if (balance < 0) {
            uint256[] memory r = risk[index];
            uint256 size = uint256(-balance);
            start = gasleft();
            (uint256 perIM, uint256 perMM) = _perContractUp(seriesId, spot, r);
            (reqIM, reqMM) = _requirementsUp(size, perIM, perMM, 0);
            g.requirements = start - gasleft();
            sink ^= reqIM ^ reqMM;
        }
        uint256 term = BlackScholes.volTerm(vol, tau);
        start = gasleft();
        sink ^= BlackScholes.callPriceAt(spot, strike, ln, term);
        g.callPriceAt = start - gasleft();
    }
}
