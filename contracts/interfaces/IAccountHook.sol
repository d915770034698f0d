// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccountId} from "../types/AccountId.sol";

/// @title IAccountHook
/// @notice Told when an account changed in a way that may have restored its margin: the
/// market calls it for each side of a position transfer and each side of a fill that the vault
/// reports marked as auctioned (after the margin gate passed), the vault after a deposit into a
/// marked account; only a marked account can be under auction. The liquidator implements it to end an auction whose
/// account is back at or above maintenance, so a later dip starts a new auction at the start
/// discount instead of resuming an old one (`docs/security.md`, finding 3).
interface IAccountHook {
    /// @notice Ends the running auction of `account`, if any, when the account is no longer
    /// below maintenance. Permissionless and never reverts: without a valid price it leaves
    /// the auction as it is, so deposits and trades never fail because of it.
    function onAccountChanged(AccountId account) external;
}
