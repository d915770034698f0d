// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IRateModel} from "../interfaces/IRateModel.sol";

/// @title KinkRateModel
/// @notice The borrow rate on negative cash as a function of utilisation u = debt ÷ supply, with
/// a kink (Aave's and Compound's jump-rate shape): `base + slope1 · u / kink` up to the kink, then
/// `base + slope1 + slope2 · (u − kink) / (1 − kink)`. Parameters are yearly rates (WAD), bounded,
/// fixed at construction (`RateParamsSet`); the vault takes the answer per second. A change of
/// parameters is a new model, which the timelocked admin sets with `CollateralVault.setRateModel`
/// (`RateModelSet`, after accruing at the old one).
/// @dev Mirrored by `kinkBorrowRate` in `packages/sdk/src/math/cashIndex.ts`. Every division
/// rounds down, so the answer never exceeds `MAX_RATE_PER_YEAR / 365 days`, the vault's cap. The
/// parameters are immutables: the vault's first cash action of a block calls this model, and a
/// storage slot would cost it 2.1k gas cold (`docs/cash.md`, "Gas").
contract KinkRateModel is IRateModel {
    /// @notice The model's parameters, yearly rates and a utilisation, all WAD.
    /// @param baseRateWad The rate at zero utilisation.
    /// @param slope1Wad What the rate gains from zero utilisation to the kink.
    /// @param slope2Wad What it gains from the kink to full utilisation.
    /// @param kinkWad The utilisation where the second slope starts.
    struct Params {
        uint64 baseRateWad;
        uint64 slope1Wad;
        uint64 slope2Wad;
        uint64 kinkWad;
    }

    /// @notice Highest yearly rate at full utilisation: 500 %, the vault's `MAX_RATE_PER_SECOND`.
    uint256 public constant MAX_RATE_PER_YEAR = 5e18;
    /// @notice The kink lies between 5 % and 99 % utilisation.
    uint256 public constant MIN_KINK = 0.05e18;
    uint256 public constant MAX_KINK = 0.99e18;
    uint256 private constant WAD = 1e18;
    uint256 private constant YEAR = 365 days;

    uint256 private immutable _baseRateWad;
    uint256 private immutable _slope1Wad;
    uint256 private immutable _slope2Wad;
    uint256 private immutable _kinkWad;

    /// @notice Parameters outside their bounds.
    error RateModelInvalidParams(Params params);

    /// @notice The model was deployed with these parameters (once, from the constructor).
    event RateParamsSet(Params params);

    /// @param params_ The parameters, within the bounds (`RateModelInvalidParams`).
    constructor(Params memory params_) {
        if (
            params_.kinkWad < MIN_KINK ||
            params_.kinkWad > MAX_KINK ||
            uint256(params_.baseRateWad) + params_.slope1Wad + params_.slope2Wad > MAX_RATE_PER_YEAR
        ) revert RateModelInvalidParams(params_);
        _baseRateWad = params_.baseRateWad;
        _slope1Wad = params_.slope1Wad;
        _slope2Wad = params_.slope2Wad;
        _kinkWad = params_.kinkWad;
        emit RateParamsSet(params_);
    }

    /// @notice The parameters.
    function params() external view returns (Params memory) {
        return Params(uint64(_baseRateWad), uint64(_slope1Wad), uint64(_slope2Wad), uint64(_kinkWad));
    }

    /// @inheritdoc IRateModel
    function borrowRate(uint256 totalSupply, uint256 totalDebt) external view returns (uint256) {
        return borrowRatePerYear(totalSupply, totalDebt) / YEAR;
    }

    /// @notice The yearly rate (WAD) at `totalDebt` of `totalSupply`, rounded down; `borrowRate`
    /// is it divided by 365 days.
    function borrowRatePerYear(uint256 totalSupply, uint256 totalDebt) public view returns (uint256) {
        uint256 u = utilization(totalSupply, totalDebt);
        if (u <= _kinkWad) return _baseRateWad + Math.mulDiv(_slope1Wad, u, _kinkWad);
        return _baseRateWad + _slope1Wad + Math.mulDiv(_slope2Wad, u - _kinkWad, WAD - _kinkWad);
    }

    /// @notice Utilisation, WAD, rounded down and at most 1: debt ÷ supply, full when debt is owed
    /// with nothing supplied.
    function utilization(uint256 totalSupply, uint256 totalDebt) public pure returns (uint256) {
        if (totalDebt == 0) return 0;
        if (totalDebt >= totalSupply) return WAD;
        return Math.mulDiv(totalDebt, WAD, totalSupply);
    }
}
