// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarketEngine} from "../interfaces/IMarketEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {AccountLib} from "../libraries/AccountLib.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
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
/// a takeover left with the fund. `unwind` never pays past the fund's cash and fills only within
/// `MAX_UNWIND_DEVIATION_WAD` of the engine's mark (review rv16w2 A).
contract InsuranceFund is AccessControl {
    /// @notice How far from the engine's mark `unwind` may fill, as a fraction of the mark: the
    /// Liquidator's largest auction end discount (`Liquidator.MAX_END_DISCOUNT`, 50 %). The fund
    /// pays at most `mark·(1 + d)` per contract it buys back and receives at least `mark·(1 − d)`
    /// per contract it sells, so a colluding maker cannot be paid an arbitrary premium.
    uint256 public constant MAX_UNWIND_DEVIATION_WAD = 0.5e18;

    /// @notice The vault that holds the fund's balance.
    ICollateralVault public immutable vault;
    /// @notice The market whose orders `unwind` fills.
    IOptionMarket public immutable market;
    /// @notice The fund's account in the vault: this contract's subaccount 0.
    AccountId public immutable account;
    /// @dev The cash token's decimals, checked once by `CashUnits`.
    uint8 private immutable _cashDecimals;

    error InsuranceFundZeroAddress();
    /// @notice `unwind` would pay `needed` cash units (premium plus taker fee, less any premium
    /// received) while the fund holds only `cash`: the vault would write the rest off against every
    /// cash creditor, outside the Backstop's window. Sell or withdraw other collateral first.
    error InsuranceFundCashShort(int256 cash, uint256 needed);
    /// @notice `unwind`'s order price `priceWad` is on the wrong side of `boundWad`, the engine's mark
    /// `markWad` moved by `MAX_UNWIND_DEVIATION_WAD` against the fund.
    error InsuranceFundPriceOutOfBand(SeriesId seriesId, uint256 priceWad, uint256 markWad, uint256 boundWad);
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
        _cashDecimals = CashUnits.checkDecimals(vault_.assetConfig(vault_.cashAsset()).decimals);
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
    /// toward zero without crossing it (`InsuranceFundNotReducing`), so the fund never opens risk.
    /// The price must lie within `MAX_UNWIND_DEVIATION_WAD` of the engine's mark, against the fund
    /// (`InsuranceFundPriceOutOfBand`), and the fund's cash must cover what the fill takes from it,
    /// premium plus taker fee (`InsuranceFundCashShort`): the fund never pays past its cash, so an
    /// unwind never realises bad debt (review rv16w2 A). The market's own checks (signature, price,
    /// margin, fees) apply as to any taker.
    /// @return premium The premium of the fill, cash units (`IOptionMarket.fill`).
    function unwind(
        IOptionMarket.Order calldata order,
        bytes calldata signature,
        uint256 fillSize
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 premium) {
        int256 held = market.positionOf(account, order.seriesId);
        // The taker takes the side opposite the order's.
        int256 size = SafeCast.toInt256(fillSize);
        bool fundBuys = order.size < 0;
        int256 delta = fundBuys ? size : -size;
        if (!MarginGate.isReducing(held, delta)) revert InsuranceFundNotReducing(order.seriesId, held, delta);
        _checkBand(order.seriesId, order.priceWad, fundBuys);
        _checkCash(fillSize, order.priceWad, fundBuys);
        uint256 badDebtBefore = vault.badDebt();
        premium = market.fill(order, signature, account, fillSize);
        // Belt and braces: whatever the rounding, the fill wrote nothing off.
        if (vault.badDebt() != badDebtBefore) revert InsuranceFundCashShort(vault.cashOf(account), premium);
    }

    /// @dev The order's price against the engine's mark: the fund buys at most at `m·(1 + d)` and
    /// sells at least at `m·(1 − d)`.
    function _checkBand(SeriesId seriesId, uint256 priceWad, bool fundBuys) private view {
        uint256 markWad = IMarketEngine(address(market)).engine().mark(seriesId);
        uint256 bound =
            fundBuys
                ? FixedPointMathLib.mulWad(markWad, 1e18 + MAX_UNWIND_DEVIATION_WAD)
                : FixedPointMathLib.mulWadUp(markWad, 1e18 - MAX_UNWIND_DEVIATION_WAD);
        if (fundBuys ? priceWad > bound : priceWad < bound) {
            revert InsuranceFundPriceOutOfBand(seriesId, priceWad, markWad, bound);
        }
    }

    /// @dev The fund's cash covers what the fill takes from it, computed as the market does
    /// (`OptionMarket._settleCash`): the premium (rounded up when the fund pays it) plus the taker
    /// fee, less the premium when the fund receives it (credited before the fee is charged).
    function _checkCash(uint256 fillSize, uint256 priceWad, bool fundBuys) private view {
        uint256 premium =
            fundBuys
                ? CashUnits.mulWadToCashUp(fillSize, priceWad, _cashDecimals)
                : CashUnits.mulWadToCashDown(fillSize, priceWad, _cashDecimals);
        uint256 fee =
            market.feeAccount().isZero() ? 0 : Math.mulDiv(premium, market.takerFeeWad(), 1e18, Math.Rounding.Ceil);
        uint256 needed = fundBuys ? premium + fee : (fee > premium ? fee - premium : 0);
        if (needed == 0) return;
        int256 cash = vault.cashOf(account);
        if (cash < 0 || uint256(cash) < needed) revert InsuranceFundCashShort(cash, needed);
    }
}
