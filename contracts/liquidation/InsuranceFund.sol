// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {AccountLib} from "../libraries/AccountLib.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title InsuranceFund
/// @notice Owns the vault account that collects part of every liquidation discount and
/// pays bidders who take insolvent accounts. Anyone can fund it with `vault.deposit`
/// into `account()`; it also receives the vault's reserve share of interest. When it pays more
/// than it holds, the rest is the protocol's explicit bad debt, which the vault writes off against
/// every cash creditor at once by lowering the supply index (see docs/cash.md).
contract InsuranceFund is AccessControl {
    /// @notice The vault that holds the fund's balance.
    ICollateralVault public immutable vault;
    /// @notice The fund's account in the vault: this contract's subaccount 0.
    AccountId public immutable account;

    error InsuranceFundZeroAddress();

    constructor(address admin, ICollateralVault vault_) {
        if (admin == address(0) || address(vault_) == address(0)) revert InsuranceFundZeroAddress();
        vault = vault_;
        account = AccountLib.accountId(address(this), 0);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Withdraws surplus from the fund (admin, i.e. the timelock). The vault's
    /// own checks apply: nothing leaves while the fund is in debt.
    function withdraw(address asset, uint256 amount, address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        vault.withdraw(account, asset, amount, to);
    }
}
