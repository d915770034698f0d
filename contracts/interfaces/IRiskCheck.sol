// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccountId} from "../types/AccountId.sol";

/// @title IRiskCheck
/// @notice The hook the vault asks before it lets value leave an account. The margin
/// engine implements it; the vault never prices anything itself.
interface IRiskCheck {
    /// @notice Reverts, with the implementer's own custom error, unless `account` may
    /// be left in its current state after a withdrawal (at or above initial margin,
    /// with a valid price).
    function checkWithdrawal(AccountId account) external view;
}
