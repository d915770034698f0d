// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {AccountLib} from "../libraries/AccountLib.sol";
import {MarginGate} from "../libraries/MarginGate.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title InsuranceFund
/// @notice Owns the vault account that collects part of every liquidation discount, pays bidders
/// who take insolvent accounts and takes over the accounts nobody bid on (`docs/backstop.md`).
/// Anyone can fund it with `vault.deposit` into `account()`; it also receives the vault's reserve
/// share of interest. When it pays more than it holds, the rest is the protocol's explicit bad
/// debt, which the vault writes off against every cash creditor at once by lowering the supply
/// index (see docs/cash.md). The admin (the timelock) withdraws surplus and unwinds the positions
/// a takeover left with the fund.
contract InsuranceFund is AccessControl {
    /// @notice The vault that holds the fund's balance.
    ICollateralVault public immutable vault;
    /// @notice The market whose orders `unwind` fills.
    IOptionMarket public immutable market;
    /// @notice The fund's account in the vault: this contract's subaccount 0.
    AccountId public immutable account;

    error InsuranceFundZeroAddress();
    /// @notice `unwind` would not move the fund's position in `seriesId` (`held`) toward zero by
    /// `delta` without crossing it: the fund only closes what it holds.
    error InsuranceFundNotReducing(SeriesId seriesId, int256 held, int256 delta);

    constructor(address admin, ICollateralVault vault_, IOptionMarket market_) {
        if (admin == address(0) || address(vault_) == address(0) || address(market_) == address(0)) {
            revert InsuranceFundZeroAddress();
        }
        vault = vault_;
        market = market_;
        account = AccountLib.accountId(address(this), 0);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Withdraws surplus from the fund (admin, i.e. the timelock). The vault's
    /// own checks apply: nothing leaves while the fund is in debt.
    function withdraw(address asset, uint256 amount, address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        vault.withdraw(account, asset, amount, to);
    }

    /// @notice Closes `fillSize` contracts of a position the fund holds (one a takeover left it) by
    /// filling a counterparty's signed `order` as its taker (admin, i.e. the timelock: the order
    /// must outlive the delay). Reduce-only: the fund's position in the order's series must shrink
    /// toward zero without crossing it (`InsuranceFundNotReducing`), so the fund never opens risk;
    /// the market's own checks (signature, price, margin, fees) apply as to any taker.
    /// @return premium The premium of the fill, cash units (`IOptionMarket.fill`).
    function unwind(
        IOptionMarket.Order calldata order,
        bytes calldata signature,
        uint256 fillSize
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 premium) {
        int256 held = market.positionOf(account, order.seriesId);
        // The taker takes the side opposite the order's.
        int256 size = SafeCast.toInt256(fillSize);
        int256 delta = order.size > 0 ? -size : size;
        if (!MarginGate.isReducing(held, delta)) revert InsuranceFundNotReducing(order.seriesId, held, delta);
        return market.fill(order, signature, account, fillSize);
    }
}
