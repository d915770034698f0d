// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Roles
/// @notice The AccessControl roles shared by every Pledge contract. DEFAULT_ADMIN_ROLE
/// (a TimelockController in production) grants them.
library Roles {
    /// @notice Tunes risk parameters, only inside each contract's hard bounds.
    bytes32 internal constant RISK_MANAGER_ROLE = keccak256("pledge.role.riskManager");
    /// @notice Pauses new risk. Never withdrawals of healthy accounts, liquidations or settlement.
    bytes32 internal constant GUARDIAN_ROLE = keccak256("pledge.role.guardian");
    /// @notice Protocol modules (OptionMarket, Liquidator, …) that move value between accounts.
    bytes32 internal constant MODULE_ROLE = keccak256("pledge.role.module");
}
