// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IRateModel} from "../interfaces/IRateModel.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title KinkRateModel
/// @notice The borrow rate on negative cash as a function of utilisation u = debt ÷ supply, with
/// a kink (Aave's and Compound's jump-rate shape): `base + slope1 · u / kink` up to the kink, then
/// `base + slope1 + slope2 · (u − kink) / (1 − kink)`. Parameters are yearly rates (WAD), bounded,
/// set by the risk manager, each change an event; the vault takes the answer per second.
/// @dev Mirrored by `kinkBorrowRate` in `packages/sdk/src/math/cashIndex.ts`. Every division
/// rounds down, so the answer never exceeds `MAX_RATE_PER_YEAR / 365 days`, the vault's cap.
contract KinkRateModel is IRateModel, AccessControl {
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

    /// @notice The vault whose interest this model prices: it accrues at the old parameters
    /// before they change (zero for a model tried on its own).
    ICollateralVault public immutable vault;
    Params private _params;

    /// @notice Parameters outside their bounds.
    error RateModelInvalidParams(Params params);
    /// @notice The admin is the zero address.
    error RateModelZeroAddress();

    /// @notice The risk manager set new parameters.
    event RateParamsSet(Params params);

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the timelock), who grants RISK_MANAGER_ROLE.
    /// @param vault_ The vault this model prices for, or zero.
    /// @param params_ The first parameters, within the bounds.
    constructor(address admin, ICollateralVault vault_, Params memory params_) {
        if (admin == address(0)) revert RateModelZeroAddress();
        vault = vault_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParams(params_);
    }

    /// @notice Sets the parameters (risk manager), within the bounds: `RateModelInvalidParams`.
    /// The vault first accrues the interest due at the old ones.
    function setParams(Params calldata params_) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        if (address(vault) != address(0)) vault.accrueInterest();
        _setParams(params_);
    }

    /// @notice The current parameters.
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IRateModel
    function borrowRate(uint256 totalSupply, uint256 totalDebt) external view returns (uint256) {
        return borrowRatePerYear(totalSupply, totalDebt) / YEAR;
    }

    /// @notice The yearly rate (WAD) at `totalDebt` of `totalSupply`, rounded down; `borrowRate`
    /// is it divided by 365 days.
    function borrowRatePerYear(uint256 totalSupply, uint256 totalDebt) public view returns (uint256) {
        Params memory p = _params;
        uint256 u = utilization(totalSupply, totalDebt);
        if (u <= p.kinkWad) return p.baseRateWad + Math.mulDiv(p.slope1Wad, u, p.kinkWad);
        return p.baseRateWad + p.slope1Wad + Math.mulDiv(p.slope2Wad, u - p.kinkWad, WAD - p.kinkWad);
    }

    /// @notice Utilisation, WAD, rounded down and at most 1: debt ÷ supply, full when debt is owed
    /// with nothing supplied.
    function utilization(uint256 totalSupply, uint256 totalDebt) public pure returns (uint256) {
        if (totalDebt == 0) return 0;
        if (totalDebt >= totalSupply) return WAD;
        return Math.mulDiv(totalDebt, WAD, totalSupply);
    }

    function _setParams(Params memory p) private {
        if (
            p.kinkWad < MIN_KINK ||
            p.kinkWad > MAX_KINK ||
            uint256(p.baseRateWad) + p.slope1Wad + p.slope2Wad > MAX_RATE_PER_YEAR
        ) revert RateModelInvalidParams(p);
        _params = p;
        emit RateParamsSet(p);
    }
}
