// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IAccountHook} from "../interfaces/IAccountHook.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IRiskCheck} from "../interfaces/IRiskCheck.sol";
import {AccountLib} from "../libraries/AccountLib.sol";
import {Roles} from "../libraries/Roles.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title CollateralVault
/// @notice Holds every account's collateral and signed cash. It prices nothing: the
/// margin engine, plugged in as the risk check, decides whether value may leave.
contract CollateralVault is ICollateralVault, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Most non-cash collateral assets, so margin checks stay bounded.
    uint256 public constant MAX_COLLATERAL_ASSETS = 8;
    /// @notice Highest initial haircut a listed asset may carry (90 %).
    uint256 public constant MAX_HAIRCUT_WAD = 0.9e18;
    /// @notice Highest token decimals accepted.
    uint8 public constant MAX_DECIMALS = 36;
    /// @notice Largest single amount, so signed cash arithmetic can never overflow.
    uint256 public constant MAX_AMOUNT = uint256(uint128(type(int128).max));

    /// @inheritdoc ICollateralVault
    address public immutable cashAsset;
    /// @inheritdoc ICollateralVault
    IRiskCheck public riskCheck;
    /// @inheritdoc ICollateralVault
    IAccountHook public accountHook;
    /// @inheritdoc ICollateralVault
    uint256 public totalCashDebt;
    /// @inheritdoc ICollateralVault
    uint256 public totalCashCredit;

    address[] private _collateralAssets;
    mapping(address asset => AssetConfig) private _assets;
    mapping(AccountId account => mapping(address asset => uint256)) private _collateral;
    mapping(AccountId account => int256) private _cash;
    mapping(address owner => mapping(address operator => bool)) private _operators;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (a TimelockController in production).
    /// @param cash The settlement asset, listed at once with zero haircuts.
    /// @param cashSupplyCap Cap on the cash the vault holds for accounts, native units.
    constructor(address admin, address cash, uint256 cashSupplyCap) {
        if (admin == address(0) || cash == address(0)) revert VaultZeroAddress();
        cashAsset = cash;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        uint8 decimals = _readDecimals(cash);
        _assets[cash] = AssetConfig(true, true, false, decimals, 0, 0, cashSupplyCap, 0);
        emit AssetListed(cash, decimals, true);
        emit AssetConfigured(cash, true, 0, 0, cashSupplyCap);
    }

    // ---------------------------------------------------------------- accounts

    /// @inheritdoc ICollateralVault
    function setOperator(address operator, bool approved) external {
        if (operator == address(0)) revert VaultZeroAddress();
        _operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @inheritdoc ICollateralVault
    function isAuthorized(AccountId account, address caller) public view returns (bool) {
        address owner = AccountLib.ownerOf(account);
        return caller == owner || _operators[owner][caller];
    }

    /// @inheritdoc ICollateralVault
    function isOperator(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
    }

    // ---------------------------------------------------------------- custody

    /// @inheritdoc ICollateralVault
    function deposit(AccountId account, address asset, uint256 amount) external nonReentrant {
        _deposit(account, asset, amount);
    }

    /// @inheritdoc ICollateralVault
    function depositWithPermit(
        AccountId account,
        address asset,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        // A permit can be front-run by anyone who saw it in the mempool; that spends the
        // nonce but grants the same allowance, so a failed permit is not fatal here. If
        // the allowance is missing, the transfer below reverts anyway.
        try IERC20Permit(asset).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _deposit(account, asset, amount);
    }

    /// @inheritdoc ICollateralVault
    function withdraw(AccountId account, address asset, uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert VaultZeroAmount();
        if (to == address(0)) revert VaultZeroAddress();
        if (!isAuthorized(account, msg.sender)) revert VaultUnauthorized(account, msg.sender);
        AssetConfig storage config = _listed(asset);

        if (asset == cashAsset) {
            int256 cash = _cash[account];
            if (cash < 0 || uint256(cash) < amount) {
                revert VaultInsufficientBalance(account, asset, cash < 0 ? 0 : uint256(cash), amount);
            }
            // The tokens on hand are the credits minus the debts others owe the vault.
            uint256 liquid = totalCashCredit - totalCashDebt;
            if (liquid < amount) revert VaultInsufficientLiquidity(liquid, amount);
            _setCash(account, cash - amount.toInt256());
        } else {
            uint256 balance = _collateral[account][asset];
            if (balance < amount) revert VaultInsufficientBalance(account, asset, balance, amount);
            unchecked {
                // balance >= amount was checked, and totalSupplied >= balance always.
                _collateral[account][asset] = balance - amount;
                config.totalSupplied -= amount;
            }
        }
        emit Withdrawn(account, asset, to, amount);

        _checkWithdrawal(account);
        IERC20(asset).safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- modules

    /// @inheritdoc ICollateralVault
    function moveCollateral(
        AccountId from,
        AccountId to,
        address asset,
        uint256 amount
    ) external onlyRole(Roles.MODULE_ROLE) {
        if (amount == 0) revert VaultZeroAmount();
        if (from == to) revert VaultSelfTransfer(from);
        if (asset == cashAsset) revert VaultAssetNotListed(asset);
        _listed(asset);
        uint256 balance = _collateral[from][asset];
        if (balance < amount) revert VaultInsufficientBalance(from, asset, balance, amount);
        unchecked {
            // balance >= amount was checked; `to` cannot exceed the asset's total supply.
            _collateral[from][asset] = balance - amount;
            _collateral[to][asset] += amount;
        }
        emit CollateralMoved(from, to, asset, amount);
    }

    /// @inheritdoc ICollateralVault
    function moveCash(AccountId from, AccountId to, uint256 amount) external onlyRole(Roles.MODULE_ROLE) {
        if (amount == 0) revert VaultZeroAmount();
        if (from == to) revert VaultSelfTransfer(from);
        if (amount > MAX_AMOUNT) revert VaultAmountTooLarge(amount);
        int256 delta = int256(amount);
        _setCash(from, _cash[from] - delta);
        _setCash(to, _cash[to] + delta);
        emit CashMoved(from, to, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc ICollateralVault
    function listAsset(
        address asset,
        uint256 initialHaircutWad,
        uint256 maintenanceHaircutWad,
        uint256 supplyCap
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (asset == address(0)) revert VaultZeroAddress();
        if (_assets[asset].listed) revert VaultAssetAlreadyListed(asset);
        if (_collateralAssets.length >= MAX_COLLATERAL_ASSETS) revert VaultTooManyAssets(MAX_COLLATERAL_ASSETS);
        _checkHaircuts(initialHaircutWad, maintenanceHaircutWad);
        uint8 decimals = _readDecimals(asset);
        _assets[asset] = AssetConfig({
            listed: true,
            enabled: true,
            delisted: false,
            decimals: decimals,
            initialHaircutWad: uint64(initialHaircutWad),
            maintenanceHaircutWad: uint64(maintenanceHaircutWad),
            supplyCap: supplyCap,
            totalSupplied: 0
        });
        _collateralAssets.push(asset);
        emit AssetListed(asset, decimals, false);
        emit AssetConfigured(asset, true, initialHaircutWad, maintenanceHaircutWad, supplyCap);
    }

    /// @inheritdoc ICollateralVault
    function configureAsset(
        address asset,
        bool enabled,
        uint256 initialHaircutWad,
        uint256 maintenanceHaircutWad,
        uint256 supplyCap
    ) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        AssetConfig storage config = _listed(asset);
        if (enabled && config.delisted) revert VaultAssetDelisted(asset);
        // Cash is the numeraire: a haircut on it would make the books disagree with equity.
        if (asset == cashAsset) {
            if (initialHaircutWad != 0 || maintenanceHaircutWad != 0) {
                revert VaultInvalidHaircuts(initialHaircutWad, maintenanceHaircutWad);
            }
        } else {
            _checkHaircuts(initialHaircutWad, maintenanceHaircutWad);
        }
        config.enabled = enabled;
        config.initialHaircutWad = uint64(initialHaircutWad);
        config.maintenanceHaircutWad = uint64(maintenanceHaircutWad);
        config.supplyCap = supplyCap;
        emit AssetConfigured(asset, enabled, initialHaircutWad, maintenanceHaircutWad, supplyCap);
    }

    /// @inheritdoc ICollateralVault
    function delistAsset(address asset) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (asset == cashAsset) revert VaultCashNotDelistable();
        AssetConfig storage config = _listed(asset);
        if (config.delisted) revert VaultAssetDelisted(asset);
        config.delisted = true;
        config.enabled = false;
        emit AssetDelisted(asset);
        emit AssetConfigured(asset, false, config.initialHaircutWad, config.maintenanceHaircutWad, config.supplyCap);
    }

    /// @inheritdoc ICollateralVault
    function setRiskCheck(IRiskCheck newRiskCheck) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(newRiskCheck) == address(0)) revert VaultZeroAddress();
        if (address(riskCheck) != address(0)) revert VaultRiskCheckAlreadySet();
        riskCheck = newRiskCheck;
        emit RiskCheckSet(address(newRiskCheck));
    }

    /// @inheritdoc ICollateralVault
    function setAccountHook(IAccountHook hook) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(hook) == address(0)) revert VaultZeroAddress();
        if (address(accountHook) != address(0)) revert VaultAccountHookAlreadySet();
        accountHook = hook;
        emit AccountHookSet(address(hook));
    }

    /// @inheritdoc ICollateralVault
    function pause() external onlyRole(Roles.GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc ICollateralVault
    function unpause() external onlyRole(Roles.GUARDIAN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICollateralVault
    function collateralAssets() external view returns (address[] memory) {
        return _collateralAssets;
    }

    /// @inheritdoc ICollateralVault
    function assetConfig(address asset) external view returns (AssetConfig memory) {
        return _assets[asset];
    }

    /// @inheritdoc ICollateralVault
    function collateralOf(AccountId account, address asset) external view returns (uint256) {
        return _collateral[account][asset];
    }

    /// @inheritdoc ICollateralVault
    function cashOf(AccountId account) external view returns (int256) {
        return _cash[account];
    }

    /// @inheritdoc ICollateralVault
    function balancesOf(AccountId account) external view returns (uint256[] memory collateral, int256 cash) {
        uint256 n = _collateralAssets.length;
        collateral = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            collateral[i] = _collateral[account][_collateralAssets[i]];
        }
        cash = _cash[account];
    }

    // ---------------------------------------------------------------- internal

    function _deposit(AccountId account, address asset, uint256 amount) private whenNotPaused {
        if (amount == 0) revert VaultZeroAmount();
        if (account.isZero()) revert VaultZeroAddress();
        AssetConfig storage config = _listed(asset);
        if (!config.enabled) revert VaultAssetDisabled(asset);
        bool isCash = asset == cashAsset;
        // Only the owner or an operator may add non-cash collateral (finding 12); cash is open to all.
        if (!isCash && !isAuthorized(account, msg.sender)) revert VaultUnauthorized(account, msg.sender);

        uint256 totalAfter = (isCash ? totalCashCredit - totalCashDebt : config.totalSupplied) + amount;
        if (totalAfter > config.supplyCap) revert VaultSupplyCapExceeded(asset, totalAfter, config.supplyCap);

        // Measure what actually arrived: fee-on-transfer tokens deliver less and are refused.
        uint256 before = IERC20(asset).balanceOf(address(this));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(asset).balanceOf(address(this)) - before;
        if (received != amount) revert VaultTransferAmountMismatch(asset, amount, received);

        if (isCash) {
            if (amount > MAX_AMOUNT) revert VaultAmountTooLarge(amount);
            _setCash(account, _cash[account] + int256(amount));
        } else {
            _collateral[account][asset] += amount;
            config.totalSupplied = totalAfter;
        }
        emit Deposited(account, asset, msg.sender, amount);
        // A deposit may restore an account under auction: the liquidator ends that auction.
        IAccountHook hook = accountHook;
        if (address(hook) != address(0)) hook.onAccountChanged(account);
    }

    /// @dev Writes a cash balance and keeps the credit and debt totals in step, so the
    /// vault's token balance always equals `totalCashCredit - totalCashDebt`.
    function _setCash(AccountId account, int256 newCash) private {
        int256 oldCash = _cash[account];
        // Remove the old balance from the totals, then add the new one.
        if (oldCash > 0) totalCashCredit -= uint256(oldCash);
        else if (oldCash < 0) totalCashDebt -= uint256(-oldCash);
        if (newCash > 0) totalCashCredit += uint256(newCash);
        else if (newCash < 0) totalCashDebt += uint256(-newCash);
        _cash[account] = newCash;
    }

    function _checkWithdrawal(AccountId account) private view {
        IRiskCheck check = riskCheck;
        if (address(check) != address(0)) {
            check.checkWithdrawal(account);
        } else {
            // Collateral-only rule until the margin engine exists: no value may leave an
            // account that owes cash.
            int256 cash = _cash[account];
            if (cash < 0) revert VaultCashDebt(account, cash);
        }
    }

    function _listed(address asset) private view returns (AssetConfig storage config) {
        config = _assets[asset];
        if (!config.listed) revert VaultAssetNotListed(asset);
    }

    function _checkHaircuts(uint256 initialHaircutWad, uint256 maintenanceHaircutWad) private pure {
        if (initialHaircutWad > MAX_HAIRCUT_WAD || maintenanceHaircutWad > initialHaircutWad) {
            revert VaultInvalidHaircuts(initialHaircutWad, maintenanceHaircutWad);
        }
    }

    function _readDecimals(address asset) private view returns (uint8 decimals) {
        decimals = IERC20Metadata(asset).decimals();
        if (decimals > MAX_DECIMALS) revert VaultInvalidDecimals(asset, decimals);
    }
}
