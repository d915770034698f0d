// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "./IMarginEngine.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title IPortfolioManager
/// @notice Values PORTFOLIO accounts (`docs/portfolio-margin.md`): every position and the
/// collateral held in a listed underlying are revalued under each underlying's scenario grid. The
/// margin engine deploys it in its constructor and asks it for the margin of every account whose
/// mode is PORTFOLIO; it reads the registry (underlyings, parameters, the market) from the engine.
interface IPortfolioManager {
    /// @notice Concentration parameters of one underlying (`docs/risk-model.md`, "Concentration"):
    /// an account with Q gross short contracts on it (of series not yet settled) adds
    /// `κ·S·Q·min(Q / L, maxRatio)` to its initial requirement and half of that to its maintenance
    /// requirement, in every margin mode.
    /// @param kappaWad κ, the add-on per short contract as a share of spot when Q = L; 0 turns the
    /// add-on off (the default). At most `MAX_CONCENTRATION_KAPPA`.
    /// @param maxRatioWad Where the add-on stops growing faster than Q: Q / L is capped at it.
    /// Within [`MIN_CONCENTRATION_RATIO`, `MAX_CONCENTRATION_RATIO`].
    /// @param liquidityWad L, the governed liquidity reference: how many contracts the liquidation
    /// system can absorb from one account, WAD contracts. Within [`MIN_CONCENTRATION_LIQUIDITY`,
    /// `MAX_CONCENTRATION_LIQUIDITY`].
    struct ConcentrationParams {
        uint64 kappaWad;
        uint64 maxRatioWad;
        uint128 liquidityWad;
    }

    /// @notice Concentration parameters outside the hard bounds.
    error PortfolioInvalidConcentrationParams(uint16 index, ConcentrationParams params);

    /// @notice One call raises the concentration parameters of `index` by more than a step: at some
    /// gross short size Q the per-contract add-on κ·min(Q/L, c) would rise by more than
    /// `MAX_CONCENTRATION_ADD_ON_STEP` of spot.
    error PortfolioConcentrationStepTooLarge(uint16 index, ConcentrationParams current, ConcentrationParams requested);

    /// @notice An underlying's concentration parameters changed.
    event ConcentrationParamsSet(uint16 indexed index, ConcentrationParams params);

    /// @notice The margin engine that deployed this manager and whose registry it reads.
    function engine() external view returns (IMarginEngine);

    /// @notice The portfolio margin state of `account`, whatever its mode: equity counts every
    /// position at its mark and collateral in a listed underlying at full value; the requirement
    /// is, per underlying, `max(worst grid loss, tailWeight × worst tail loss, cover floor) +
    /// contingency`, and maintenance scales it by the underlying's `mmFactorWad`. Reverts if a
    /// price a position needs is invalid. For an account in another mode this is a what-if ("as a
    /// portfolio"), not its margin: only `IMarginEngine.accountMargin` says that.
    function accountMargin(AccountId account) external view returns (IMarginEngine.MarginState memory);

    /// @notice `accountMargin`, and for `newRisk` (the engine's IM check of new risk) a revert
    /// `EngineVolSurfaceUnusable` if a live series in the book has a FALLBACK surface.
    function accountMarginFor(AccountId account, bool newRisk) external view returns (IMarginEngine.MarginState memory);

    /// @notice Sets the concentration parameters of listed underlying `index` within the hard
    /// bounds (the engine's risk manager; `AccessControlUnauthorizedAccount` otherwise,
    /// `EngineUnderlyingNotListed` for an unlisted index, `PortfolioInvalidConcentrationParams`
    /// outside the bounds), each raise within a step (`PortfolioConcentrationStepTooLarge`: at no
    /// gross short size may the per-contract add-on rise by more than `MAX_CONCENTRATION_ADD_ON_STEP`
    /// of spot, so one call adds at most 1 % of spot IM, 0.5 % MM, per gross short contract;
    /// lowering, and κ = 0, are free). They
    /// apply to every account in every mode from the next check on.
    function setConcentrationParams(uint16 index, ConcentrationParams calldata params) external;

    /// @notice The concentration parameters of underlying `index` (all zero: never set, off).
    function concentrationParams(uint16 index) external view returns (ConcentrationParams memory);

    /// @notice The concentration add-on of a book, for any margin mode: `shortsWad[u]` gross short
    /// contracts of unsettled series on underlying `u` at spot `spotsWad[u]` (index 0 unused; both
    /// arrays as long as the engine's price cache). The engine asks it for CROSS and ISOLATED
    /// accounts; this manager adds it to PORTFOLIO accounts itself.
    /// @return initialWad Σ over underlyings of `κ·S·Q·min(Q / L, maxRatio)`, each rounded up.
    /// @return maintenanceWad Half of `initialWad`, rounded up.
    function concentrationAddOnUp(
        uint256[] memory shortsWad,
        uint256[] memory spotsWad
    ) external view returns (uint256 initialWad, uint256 maintenanceWad);
}
