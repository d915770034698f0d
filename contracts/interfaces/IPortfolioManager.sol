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
    /// @notice The margin engine that deployed this manager and whose registry it reads.
    function engine() external view returns (IMarginEngine);

    /// @notice The portfolio margin state of `account`, whatever its mode: equity counts every
    /// position at its mark and collateral in a listed underlying at full value; the requirement
    /// is, per underlying, `max(worst grid loss, tailWeight × worst tail loss, cover floor) +
    /// contingency`, and maintenance scales it by the underlying's `mmFactorWad`. Reverts if a
    /// price a position needs is invalid. For an account in another mode this is a what-if ("as a
    /// portfolio"), not its margin: only `IMarginEngine.accountMargin` says that.
    function accountMargin(AccountId account) external view returns (IMarginEngine.MarginState memory);
}
