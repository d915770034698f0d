// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IAccountHook} from "../interfaces/IAccountHook.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IRateModel} from "../interfaces/IRateModel.sol";
import {IRiskCheck} from "../interfaces/IRiskCheck.sol";
import {AccountLib} from "../libraries/AccountLib.sol";
import {CashIndex} from "../libraries/CashIndex.sol";
import {Roles} from "../libraries/Roles.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title CollateralVault
/// @notice Holds every account's collateral and signed cash. It prices nothing: the
/// margin engine, plugged in as the risk check, decides whether value may leave. Cash sits on
/// an index (`CashIndex`, `docs/cash.md`): interest on debt from a pluggable rate model, and a
/// loss the insurance fund cannot cover shared pro rata by every creditor.
/// @dev The reentrancy guard is transient (EIP-1153): the same lock for a tenth of the gas. The
/// pause is a bit of the market's first slot, which every cash deposit reads anyway, copied into
/// each collateral asset's deposit word (`StoredAsset.depositCap`) so a collateral deposit reads
/// one slot of its asset and nothing else (OpenZeppelin's `Pausable` ABI: `paused()`, `Paused`,
/// `Unpaused`, `EnforcedPause`, `ExpectedPause`).
contract CollateralVault is ICollateralVault, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Most non-cash collateral assets, so margin checks stay bounded.
    uint256 public constant MAX_COLLATERAL_ASSETS = 8;
    /// @notice Highest initial haircut a listed asset may carry (90 %).
    uint256 public constant MAX_HAIRCUT_WAD = 0.9e18;
    /// @notice Highest token decimals accepted.
    uint8 public constant MAX_DECIMALS = 36;
    /// @notice Highest decimals of the cash asset: share totals are 104 bits, and at the lowest
    /// supply index a loss may leave (`CashIndex.MIN_SUPPLY_INDEX`, 1e12) a cash unit costs 1e6
    /// shares, so all cash on the index is capped at 2^104 / 1e6 ≈ 2.03e25 units: 2.03e17 tokens at
    /// 8 decimals, 2.03e19 for USDC's 6 (`docs/cash.md`).
    uint8 public constant MAX_CASH_ASSET_DECIMALS = 8;
    /// @notice Largest single amount, so signed cash arithmetic can never overflow.
    uint256 public constant MAX_AMOUNT = uint256(uint128(type(int128).max));
    /// @notice Highest borrow rate the vault charges: 500 % a year, per second (WAD). A rate model
    /// answering more is ignored for the last good rate.
    uint256 public constant MAX_RATE_PER_SECOND = uint256(5e18) / 365 days;
    /// @notice Gas the rate model may use per answer: a kink model needs about 5k.
    uint256 public constant RATE_MODEL_GAS = 50_000;
    /// @notice Highest share of interest the insurance fund may take.
    uint256 public constant MAX_RESERVE_SHARE = 0.5e18;
    uint256 private constant WAD = 1e18;
    /// @dev What `_cash` holds for the settlement account: a marker outside the share range (shares
    /// fit 104 bits), since its cash is the raw `_settlementCash`, not shares.
    int256 private constant SETTLEMENT = int256(1) << 200;
    /// @dev Added to an account's `_cash` word once the liquidator opened an auction on it
    /// (`markAuctioned`): only such an account can be under auction, so only its deposits call the
    /// account hook. Words at or above `AUCTIONED_FROM` carry it (shares and SETTLEMENT stay below).
    int256 private constant AUCTIONED = int256(1) << 250;
    int256 private constant AUCTIONED_FROM = int256(1) << 249;
    /// @dev Positive shares carry the cash epoch they were written in, from this bit of the word
    /// (10 bits, below `AUCTIONED_FROM`): shares of an older epoch convert at each closing rate
    /// since (`_sharesOf`).
    uint256 private constant WORD_EPOCH_SHIFT = 208;

    // The cash market, packed in two slots every cash action reads and writes (`_load`, `_store`),
    // and a third read only when interest accrues. Bit offsets:
    //   indices: supplyIndex [0, 104), debtIndex [104, 208), lastAccrual [208, 248),
    //             PAUSED_BIT, ACCRUES_BIT (a rate model is set), CASH_DISABLED_BIT (a copy of the
    //             cash asset's `enabled`, negated, so a cash deposit reads no asset config but the cap),
    //             LOSS_HELD_BIT (`_unabsorbedLoss` > 0, so a deposit knows without reading it)
    //   totals:  totalSupplyShares [0, 104), totalDebtShares [104, 208), lastRate [208, 246) (at
    //            most MAX_RATE_PER_SECOND, 38 bits), epoch [246, 256) (`CashIndex.MAX_EPOCH`)
    uint256 private constant MASK_104 = (1 << 104) - 1;
    uint256 private constant MASK_38 = (1 << 38) - 1;
    uint256 private constant EPOCH_SHIFT = 246;
    uint256 private constant PAUSED_BIT = 1 << 248;
    uint256 private constant ACCRUES_BIT = 1 << 249;
    uint256 private constant CASH_DISABLED_BIT = 1 << 250;
    uint256 private constant LOSS_HELD_BIT = 1 << 251;
    uint256 private constant FLAG_BITS = PAUSED_BIT | ACCRUES_BIT | CASH_DISABLED_BIT | LOSS_HELD_BIT;

    /// @notice Deposits are paused (OpenZeppelin `Pausable`'s ABI).
    event Paused(address account);
    /// @notice Deposits are open again.
    event Unpaused(address account);
    /// @notice Deposits are paused.
    error EnforcedPause();
    /// @notice Deposits are not paused.
    error ExpectedPause();

    /// @dev Two slots every cash action reads and writes, then one read only when interest accrues
    /// (and by the setters and views): the rate model and the reserve share.
    struct PackedMarket {
        uint256 indices;
        uint256 totals;
        IRateModel rateModel;
        uint64 reserveShareWad;
    }

    /// @dev A listed asset as stored: first the word a collateral deposit reads and writes, then
    /// `AssetConfig`'s flags and haircuts, then the supply cap (`assetConfig` reads all three). A
    /// collateral deposit needs only the first: `depositCap` is the supply cap, at most 2^128 − 1
    /// (the total's width), while deposits of the asset are open (listed, enabled, vault not
    /// paused) and 0 otherwise, kept in step by `_syncDepositCap` in every setter of those. The
    /// cash asset's first word stays 0: its deposits read the pause and its `enabled` copy from the
    /// market's first slot and its cap from the third (`_depositCash`). `index` is a collateral
    /// asset's place in `_collateralAssets`, its bit in `_held` (0 for the cash asset, which has none).
    struct StoredAsset {
        uint128 totalSupplied;
        uint128 depositCap;
        bool listed;
        bool enabled;
        bool delisted;
        uint8 decimals;
        uint64 initialHaircutWad;
        uint64 maintenanceHaircutWad;
        uint8 index;
        uint256 supplyCap;
    }

    /// @inheritdoc ICollateralVault
    address public immutable cashAsset;
    /// @inheritdoc ICollateralVault
    IRiskCheck public riskCheck;
    /// @inheritdoc ICollateralVault
    IAccountHook public accountHook;
    /// @inheritdoc ICollateralVault
    AccountId public insuranceAccount;
    /// @inheritdoc ICollateralVault
    uint256 public lossSocialized;

    /// @dev The cash market, packed (the layout above `MASK_104`).
    PackedMarket private _market;
    address[] private _collateralAssets;
    mapping(address asset => StoredAsset) private _assets;
    mapping(AccountId account => mapping(address asset => uint256)) private _collateral;
    /// @dev Signed cash shares: positive are supply shares, negative debt shares (`CashIndex`).
    mapping(AccountId account => int256) private _cash;
    mapping(address owner => mapping(address operator => bool)) private _operators;
    /// @inheritdoc ICollateralVault
    AccountId public settlementAccount;
    /// @dev The settlement account's raw signed cash (no index, no interest) and the loss no claim
    /// could absorb: one slot, read together by `_liquidity`.
    int128 private _settlementCash;
    uint128 private _unabsorbedLoss;
    /// @dev Each ended cash epoch's closing rate (WAD): an old share is worth `shares × rate / 1e18`
    /// shares of the next epoch (`CashIndex.socialize`). Written only when an epoch ends.
    mapping(uint256 epoch => uint256) private _closingRate;
    /// @dev Which collateral balances of an account are not 0: bit i for `_collateralAssets[i]`, set
    /// and cleared with the balance by every write of `_collateral` (`_setHeld`). `balancesOf`, which
    /// every margin check calls, reads only the balances it names: a cash-only account costs the
    /// list's length and this slot, not also two per listed asset (the asset's address and the
    /// balance). A first balance of an account pays for it once (a fresh slot, about 22k gas).
    /// Aave's per-user `UserConfigurationMap` is the same idea for its reserves.
    mapping(AccountId account => uint256) private _held;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (a TimelockController in production).
    /// @param cash The settlement asset, listed at once with zero haircuts; at most
    /// `MAX_CASH_ASSET_DECIMALS` decimals (`VaultInvalidDecimals`).
    /// @param cashSupplyCap Cap on the cash the vault holds for accounts, native units.
    constructor(address admin, address cash, uint256 cashSupplyCap) {
        if (admin == address(0) || cash == address(0)) revert VaultZeroAddress();
        cashAsset = cash;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _market.indices = WAD | (WAD << 104);
        uint8 decimals = _readDecimals(cash);
        // More decimals would let a loss to the floors cap the cash on the index below a
        // plausible supply, and past it every credit (a bid, a settlement) reverts (review rv15b C).
        if (decimals > MAX_CASH_ASSET_DECIMALS) revert VaultInvalidDecimals(cash, decimals);
        _assets[cash] = StoredAsset(0, 0, true, true, false, decimals, 0, 0, 0, cashSupplyCap);
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
        _checkAuthorized(account);

        // The cash asset is listed at construction and never delisted: no config to read.
        if (asset == cashAsset) {
            CashMarket memory m = _accrue();
            (int256 shares, int256 mark) = _sharesOf(account, m.epoch);
            // The settlement account's cash is the market's to move, never to withdraw.
            if (shares == SETTLEMENT) revert VaultProtocolAccount(account);
            int256 cash = CashIndex.amountOf(shares, m.supplyIndex, m.debtIndex);
            if (cash < 0 || uint256(cash) < amount) {
                revert VaultInsufficientBalance(account, asset, cash < 0 ? 0 : uint256(cash), amount);
            }
            // The tokens on hand are (at least) the credits minus the debts others owe the vault,
            // plus the settlement account's raw balance, minus the loss no claim absorbed.
            uint256 liquid = _liquidity(m);
            if (liquid < amount) revert VaultInsufficientLiquidity(liquid, amount);
            _setShares(m, account, shares, CashIndex.debit(shares, amount, m.supplyIndex, m.debtIndex), mark);
            _store(m);
        } else {
            StoredAsset storage stored = _listed(asset);
            uint256 balance = _collateral[account][asset];
            if (balance < amount) revert VaultInsufficientBalance(account, asset, balance, amount);
            unchecked {
                // balance >= amount was checked, and 2^128 > totalSupplied >= balance always.
                _collateral[account][asset] = balance - amount;
                stored.totalSupplied -= uint128(amount);
            }
            if (balance == amount) _setHeld(account, stored.index, false);
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
        uint8 index = _listed(asset).index;
        uint256 balance = _collateral[from][asset];
        if (balance < amount) revert VaultInsufficientBalance(from, asset, balance, amount);
        unchecked {
            // balance >= amount was checked; `to` cannot exceed the asset's total supply.
            _collateral[from][asset] = balance - amount;
            _collateral[to][asset] += amount;
        }
        if (balance == amount) _setHeld(from, index, false);
        // amount > 0: `to` now holds the asset (a no-op write is skipped in `_setHeld`).
        _setHeld(to, index, true);
        emit CollateralMoved(from, to, asset, amount);
    }

    /// @inheritdoc ICollateralVault
    function moveCash(
        AccountId from,
        AccountId to,
        uint256 amount
    ) external onlyRole(Roles.MODULE_ROLE) returns (bool fromMarked, bool toMarked, uint256 writtenOff) {
        if (amount == 0) revert VaultZeroAmount();
        if (from == to) revert VaultSelfTransfer(from);
        if (amount > MAX_AMOUNT) revert VaultAmountTooLarge(amount);
        CashMarket memory m = _accrue();
        uint256 rest;
        (int256 fromShares, int256 fromMark) = _sharesOf(from, m.epoch);
        if (fromShares == SETTLEMENT) {
            // amount ≤ MAX_AMOUNT = type(int128).max: the cast is exact, the subtraction checked.
            _settlementCash -= int128(int256(amount));
        } else {
            int256 newFrom = CashIndex.debit(fromShares, amount, m.supplyIndex, m.debtIndex);
            _setShares(m, from, fromShares, newFrom, fromMark);
            // The insurance fund paid more than it held: every creditor bears the rest at once,
            // before the payee is credited, so the payee's payment is not cut by the loss it pays for.
            if (newFrom < 0 && from == insuranceAccount) (writtenOff, rest) = _socialize(m, from, newFrom, fromMark);
        }
        // Read after the write-off: a new epoch leaves the payee's old claim at 0.
        toMarked = _creditCash(m, to, amount);
        // A loss larger than every claim before the payment: the payee's claim shares the rest.
        if (rest != 0) _socializeRest(m, from, rest);
        _store(m);
        emit CashMoved(from, to, amount);
        fromMarked = fromMark != 0;
    }

    /// @inheritdoc ICollateralVault
    function accrueInterest() external nonReentrant {
        _store(_accrue());
    }

    /// @inheritdoc ICollateralVault
    function markAuctioned(AccountId account) external onlyRole(Roles.MODULE_ROLE) {
        int256 word = _cash[account];
        // The mark is added once and never removed: shares move under it (`_setShares`).
        if (word < AUCTIONED_FROM) _cash[account] = word + AUCTIONED;
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
        _assets[asset] = StoredAsset({
            totalSupplied: 0,
            depositCap: 0,
            listed: true,
            enabled: true,
            delisted: false,
            decimals: decimals,
            initialHaircutWad: uint64(initialHaircutWad),
            maintenanceHaircutWad: uint64(maintenanceHaircutWad),
            // Below MAX_COLLATERAL_ASSETS (checked above), so below 8: `_held`'s bit.
            index: uint8(_collateralAssets.length),
            supplyCap: supplyCap
        });
        _syncDepositCap(asset);
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
        StoredAsset storage config = _listed(asset);
        if (enabled && config.delisted) revert VaultAssetDelisted(asset);
        // Cash is the numeraire: a haircut on it would make the books disagree with equity.
        if (asset == cashAsset) {
            if (initialHaircutWad != 0 || maintenanceHaircutWad != 0) {
                revert VaultInvalidHaircuts(initialHaircutWad, maintenanceHaircutWad);
            }
            // The copy every cash deposit reads instead of the config.
            _setFlag(CASH_DISABLED_BIT, !enabled);
        } else {
            _checkHaircuts(initialHaircutWad, maintenanceHaircutWad);
        }
        config.enabled = enabled;
        config.initialHaircutWad = uint64(initialHaircutWad);
        config.maintenanceHaircutWad = uint64(maintenanceHaircutWad);
        config.supplyCap = supplyCap;
        if (asset != cashAsset) _syncDepositCap(asset);
        emit AssetConfigured(asset, enabled, initialHaircutWad, maintenanceHaircutWad, supplyCap);
    }

    /// @inheritdoc ICollateralVault
    function delistAsset(address asset) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (asset == cashAsset) revert VaultCashNotDelistable();
        StoredAsset storage config = _listed(asset);
        if (config.delisted) revert VaultAssetDelisted(asset);
        config.delisted = true;
        config.enabled = false;
        _syncDepositCap(asset);
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
    function setRateModel(IRateModel model) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // Interest up to now is the old model's.
        CashMarket memory m = _accrue();
        uint256 rate;
        if (address(model) != address(0)) {
            // Interest past the supply cap buys the insurance account shares: without one they
            // would be stranded in account 0 (review rv15e, re-review P3).
            if (insuranceAccount.isZero()) revert VaultInsuranceAccountNotSet();
            if (address(model).code.length == 0) revert VaultRateModelNotContract(address(model));
            m.rateModel = model;
            bool ok;
            (ok, rate) = _askRateModel(m);
            if (!ok) revert VaultRateModelFailed(address(model));
            if (rate > MAX_RATE_PER_SECOND) revert VaultRateOutOfRange(rate, MAX_RATE_PER_SECOND);
        }
        m.lastRate = uint56(rate);
        m.lastAccrual = uint40(block.timestamp);
        _store(m);
        _market.rateModel = model;
        // The flag lets every cash action skip the rate-model slot while no model is set.
        _setFlag(ACCRUES_BIT, address(model) != address(0));
        emit RateModelSet(address(model), rate);
    }

    /// @inheritdoc ICollateralVault
    function setReserveShare(uint256 shareWad) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        if (shareWad > MAX_RESERVE_SHARE) revert VaultInvalidReserveShare(shareWad, MAX_RESERVE_SHARE);
        if (shareWad != 0 && insuranceAccount.isZero()) revert VaultInsuranceAccountNotSet();
        // Interest up to now is shared at the old share.
        _store(_accrue());
        _market.reserveShareWad = uint64(shareWad);
        emit ReserveShareSet(shareWad);
    }

    /// @inheritdoc ICollateralVault
    function setInsuranceAccount(AccountId account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account.isZero()) revert VaultZeroAddress();
        if (!insuranceAccount.isZero()) revert VaultInsuranceAccountAlreadySet();
        // The fund never owes on the index (`_socialize` clears its debt), so the reserve always
        // buys it supply shares.
        (int256 shares, ) = _sharesOf(account, 0); // the sign only: debts carry no epoch
        if (account == settlementAccount || shares < 0) revert VaultProtocolAccount(account);
        insuranceAccount = account;
        emit InsuranceAccountSet(account);
    }

    /// @inheritdoc ICollateralVault
    function setSettlementAccount(AccountId account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account.isZero()) revert VaultZeroAddress();
        if (!settlementAccount.isZero()) revert VaultSettlementAccountAlreadySet();
        if (account == insuranceAccount || _cash[account] != 0) revert VaultProtocolAccount(account);
        settlementAccount = account;
        _cash[account] = SETTLEMENT;
        emit SettlementAccountSet(account);
    }

    /// @inheritdoc ICollateralVault
    function repayUnabsorbedLoss(uint256 amount) external nonReentrant {
        uint256 loss = _unabsorbedLoss;
        if (amount > loss) amount = loss;
        if (amount == 0) revert VaultZeroAmount();
        unchecked {
            loss -= amount;
        }
        _unabsorbedLoss = uint128(loss);
        // Recapitalised: cash deposits may create claims again.
        if (loss == 0) _setFlag(LOSS_HELD_BIT, false);
        emit UnabsorbedLossRepaid(msg.sender, amount, loss);
        IERC20(cashAsset).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ICollateralVault
    function pause() external onlyRole(Roles.GUARDIAN_ROLE) {
        if (_market.indices & PAUSED_BIT != 0) revert EnforcedPause();
        _setPaused(true);
        emit Paused(msg.sender);
    }

    /// @inheritdoc ICollateralVault
    function unpause() external onlyRole(Roles.GUARDIAN_ROLE) {
        if (_market.indices & PAUSED_BIT == 0) revert ExpectedPause();
        _setPaused(false);
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICollateralVault
    function collateralAssets() external view returns (address[] memory) {
        return _collateralAssets;
    }

    /// @inheritdoc ICollateralVault
    function assetConfig(address asset) external view returns (AssetConfig memory) {
        StoredAsset storage stored = _assets[asset];
        return
            AssetConfig({
                listed: stored.listed,
                enabled: stored.enabled,
                delisted: stored.delisted,
                decimals: stored.decimals,
                initialHaircutWad: stored.initialHaircutWad,
                maintenanceHaircutWad: stored.maintenanceHaircutWad,
                supplyCap: stored.supplyCap,
                totalSupplied: stored.totalSupplied
            });
    }

    /// @inheritdoc ICollateralVault
    function collateralOf(AccountId account, address asset) external view returns (uint256) {
        return _collateral[account][asset];
    }

    /// @inheritdoc ICollateralVault
    function cashOf(AccountId account) public view returns (int256) {
        (CashMarket memory m, uint256 reserveShares) = _accrued();
        return _cashAmount(m, account, reserveShares);
    }

    /// @inheritdoc ICollateralVault
    function cashSharesOf(AccountId account) external view returns (int256) {
        (int256 shares, ) = _sharesOf(account, _market.totals >> EPOCH_SHIFT);
        // The settlement account holds no shares: its cash is raw (`cashOf`).
        return shares == SETTLEMENT ? int256(0) : shares;
    }

    /// @inheritdoc ICollateralVault
    function balancesOf(AccountId account) external view returns (uint256[] memory collateral, int256 cash) {
        collateral = new uint256[](_collateralAssets.length);
        // A bit is set only for a listed asset's index (`_setHeld`), so below the array's length;
        // every balance whose bit is clear is 0, as allocated.
        uint256 held = _held[account];
        for (uint256 i; held != 0; ++i) {
            if (held & 1 != 0) collateral[i] = _collateral[account][_collateralAssets[i]];
            held >>= 1;
        }
        cash = cashOf(account);
    }

    /// @inheritdoc ICollateralVault
    function totalCashCredit() external view returns (uint256) {
        (CashMarket memory m, ) = _accrued();
        return CashIndex.totalSupply(m);
    }

    /// @inheritdoc ICollateralVault
    function totalCashDebt() external view returns (uint256) {
        (CashMarket memory m, ) = _accrued();
        return CashIndex.totalDebt(m);
    }

    /// @inheritdoc ICollateralVault
    function cashLiquidity() external view returns (uint256) {
        (CashMarket memory m, ) = _accrued();
        return _liquidity(m);
    }

    /// @inheritdoc ICollateralVault
    function unabsorbedLoss() external view returns (uint256) {
        return _unabsorbedLoss;
    }

    /// @inheritdoc ICollateralVault
    function cashMarket() external view returns (CashMarket memory) {
        return _load();
    }

    /// @inheritdoc ICollateralVault
    function cashEpoch() external view returns (uint256) {
        return _market.totals >> EPOCH_SHIFT;
    }

    /// @inheritdoc ICollateralVault
    function reserveShareWad() external view returns (uint256) {
        return _market.reserveShareWad;
    }

    /// @inheritdoc ICollateralVault
    function paused() external view returns (bool) {
        return _market.indices & PAUSED_BIT != 0;
    }

    /// @inheritdoc ICollateralVault
    function borrowRate() external view returns (uint256) {
        CashMarket memory m = _load();
        if (address(m.rateModel) == address(0)) return 0;
        (bool ok, uint256 rate) = _askRateModel(m);
        return ok && rate <= MAX_RATE_PER_SECOND ? rate : m.lastRate;
    }

    /// @inheritdoc ICollateralVault
    function badDebt() external view returns (uint256) {
        return lossSocialized + _unabsorbedLoss;
    }

    // ---------------------------------------------------------------- internal

    /// @dev Books the deposit (`_depositCash` or `_depositCollateral`, each taking the tokens), then
    /// the event. A deposit may restore an account under auction: the liquidator ends that auction.
    /// Only an account it ever auctioned can be under auction (`markAuctioned`), so no other pays
    /// for the call.
    function _deposit(AccountId account, address asset, uint256 amount) private {
        int256 mark =
            asset == cashAsset ? _depositCash(account, asset, amount) : _depositCollateral(account, asset, amount);
        emit Deposited(account, asset, msg.sender, amount);
        if (mark != 0) {
            IAccountHook hook = accountHook;
            if (address(hook) != address(0)) hook.onAccountChanged(account);
        }
    }

    /// @dev While a loss is held apart (`LOSS_HELD_BIT`, in the slot the pause is read from) some
    /// claims are not backed and would take a new claim first-come (review rv15b A): a cash deposit
    /// may then only repay debt or top up the insurance account, until `repayUnabsorbedLoss` repays
    /// the loss. Returns the account's auction mark.
    function _depositCash(AccountId account, address asset, uint256 amount) private returns (int256 mark) {
        // The pause bit, and the cash asset's enabled flag, share the indices' slot, which `_accrue`
        // reads next anyway (the cash asset is listed at construction, never delisted).
        uint256 flags = _market.indices;
        _checkDepositStart(flags, account, amount);
        if (flags & CASH_DISABLED_BIT != 0) revert VaultAssetDisabled(asset);
        if (amount > MAX_AMOUNT) revert VaultAmountTooLarge(amount);
        CashMarket memory m = _accrue();
        // The cap counts the cash on the index (Σ supply − Σ debt): the settlement account's
        // transient balance and an unabsorbed loss are left out, one slot less to read.
        uint256 totalAfter = CashIndex.liquidity(m) + amount;
        _checkSupplyCap(asset, totalAfter, _assets[asset].supplyCap);

        // Effects before the transfer (F5); the cash asset (USDC) is not measured (docs/cash.md).
        int256 shares;
        (shares, mark) = _sharesOf(account, m.epoch);
        if (shares == SETTLEMENT) {
            _settlementCash += int128(int256(amount));
        } else {
            int256 newShares = CashIndex.credit(shares, amount, m.supplyIndex, m.debtIndex);
            if (newShares == shares) revert VaultZeroShares(amount); // never tokens for nothing (rv15e 2)
            // A loss held apart: no new claim but the insurance account's (above).
            if (newShares > 0 && _market.indices & LOSS_HELD_BIT != 0 && account != insuranceAccount) {
                revert VaultLossHeldApart(_unabsorbedLoss);
            }
            _setShares(m, account, shares, newShares, mark);
        }
        _store(m);
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev One slot answers whether the deposit may go ahead: the asset's `depositCap` is 0 unless
    /// it is listed and enabled and the vault unpaused (`StoredAsset`), so neither the pause nor the
    /// config is read. Whatever this refuses goes to `_refuseDeposit` for the error the full checks
    /// give. Returns the account's auction mark.
    function _depositCollateral(AccountId account, address asset, uint256 amount) private returns (int256 mark) {
        StoredAsset storage stored = _assets[asset];
        uint256 total = stored.totalSupplied;
        uint256 cap = stored.depositCap;
        bool fits;
        unchecked {
            // total + amount ≤ cap, written so that no amount overflows (cap - amount once amount ≤ cap).
            fits = amount != 0 && amount <= cap && total <= cap - amount;
        }
        // Only the owner or an operator may add non-cash collateral (finding 12); cash is open to all.
        // Nobody is authorized for the zero account (no owner, and `setOperator` has no zero sender).
        if (!fits || !isAuthorized(account, msg.sender)) _refuseDeposit(account, asset, amount);

        // Measure what actually arrived: fee-on-transfer tokens deliver less and are refused.
        uint256 before = IERC20(asset).balanceOf(address(this));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(asset).balanceOf(address(this)) - before;
        if (received != amount) revert VaultTransferAmountMismatch(asset, amount, received);
        uint256 balance = _collateral[account][asset];
        unchecked {
            // total + amount ≤ depositCap < 2^128 (above), and the account's balance ≤ total.
            _collateral[account][asset] = balance + amount;
            stored.totalSupplied = uint128(total + amount);
        }
        // A top-up reads no more: only a first balance reads the asset's index and sets its bit.
        if (balance == 0) _setHeld(account, stored.index, true);
        mark = _cash[account] >= AUCTIONED_FROM ? AUCTIONED : int256(0);
    }

    /// @dev Reverts with the first error the full checks give a collateral deposit that
    /// `_depositCollateral` refused, in the order a cash deposit checks too: pause, amount, account,
    /// listing, enabled, caller, supply cap. An amount above 2^128 − 1, or one that passes them all
    /// (so it would take the total past 2^128 − 1 units: a larger `supplyCap` reads as no cap), is
    /// too large.
    function _refuseDeposit(AccountId account, address asset, uint256 amount) private view {
        _checkDepositStart(_market.indices, account, amount);
        StoredAsset storage stored = _listed(asset);
        if (!stored.enabled) revert VaultAssetDisabled(asset);
        _checkAuthorized(account);
        // More than the totals' width can never fit (and the sum below cannot overflow).
        if (amount <= type(uint128).max) _checkSupplyCap(asset, stored.totalSupplied + amount, stored.supplyCap);
        revert VaultAmountTooLarge(amount);
    }

    /// @dev The checks every deposit starts with, in order: the pause (a bit of `flags`, the
    /// market's first slot), the amount, the account.
    function _checkDepositStart(uint256 flags, AccountId account, uint256 amount) private pure {
        if (flags & PAUSED_BIT != 0) revert EnforcedPause();
        if (amount == 0) revert VaultZeroAmount();
        if (account.isZero()) revert VaultZeroAddress();
    }

    function _checkSupplyCap(address asset, uint256 totalAfter, uint256 cap) private pure {
        if (totalAfter > cap) revert VaultSupplyCapExceeded(asset, totalAfter, cap);
    }

    function _checkAuthorized(AccountId account) private view {
        if (!isAuthorized(account, msg.sender)) revert VaultUnauthorized(account, msg.sender);
    }

    /// @dev Sets `asset`'s `depositCap` from what `_refuseDeposit` checks: its supply cap (at most
    /// 2^128 − 1) while it is enabled (so listed, not delisted) and the vault unpaused, else 0. Every
    /// setter of those calls it, for a collateral asset (the cash asset's deposits read no cap copy).
    function _syncDepositCap(address asset) private {
        StoredAsset storage stored = _assets[asset];
        uint256 cap = stored.supplyCap;
        if (cap > type(uint128).max) cap = type(uint128).max;
        bool open = stored.enabled && _market.indices & PAUSED_BIT == 0;
        stored.depositCap = open ? uint128(cap) : 0;
    }

    /// @dev Sets or clears the pause bit, and `_syncDepositCap` for every collateral asset (at most
    /// `MAX_COLLATERAL_ASSETS`).
    function _setPaused(bool on) private {
        _setFlag(PAUSED_BIT, on);
        uint256 n = _collateralAssets.length;
        for (uint256 i; i < n; ++i) _syncDepositCap(_collateralAssets[i]);
    }

    /// @dev An account's cash shares (or SETTLEMENT) in cash epoch `epoch`, and its auction mark
    /// (`AUCTIONED` or 0). Supply shares carry the epoch they were written in: shares of an older
    /// epoch convert at each ended epoch's closing rate in turn, rounded down (the account pays the
    /// cold reads; the current epoch reads nothing more). The totals were converted as a whole, so
    /// they stay ≥ Σ accounts. Debts carry no epoch. An `epoch` of 0 converts nothing (for the sign).
    function _sharesOf(AccountId account, uint256 epoch) private view returns (int256 shares, int256 mark) {
        int256 word = _cash[account];
        mark = word >= AUCTIONED_FROM ? AUCTIONED : int256(0);
        shares = word - mark;
        if (shares > 0 && shares != SETTLEMENT) {
            uint256 e = uint256(shares) >> WORD_EPOCH_SHIFT;
            uint256 s = uint256(shares) & MASK_104;
            // At most MAX_EPOCH rounds, and none once nothing is left.
            for (; e < epoch && s != 0; ++e) s = CashIndex.toAmountDown(s, _closingRate[e]);
            shares = int256(s);
        }
    }

    /// @dev Writes an account's word: `shares` (positive ones tagged with `epoch`) under its `mark`.
    function _write(AccountId account, int256 shares, int256 mark, uint256 epoch) private {
        if (shares > 0) shares |= int256(epoch << WORD_EPOCH_SHIFT);
        _cash[account] = shares + mark;
    }

    /// @dev Writes an account's cash shares, under its auction `mark`, and keeps the share totals
    /// in `m` in step (the caller stores `m`), so `CashIndex.liquidity(m)` never exceeds the tokens
    /// held. Totals above `CashIndex.MAX_INDEX` (104 bits, the packed width) revert.
    function _setShares(
        CashMarket memory m,
        AccountId account,
        int256 oldShares,
        int256 newShares,
        int256 mark
    ) private {
        uint256 supply = m.totalSupplyShares;
        uint256 debt = m.totalDebtShares;
        // Remove the old balance from the totals, then add the new one.
        if (oldShares > 0) supply -= uint256(oldShares);
        else if (oldShares < 0) debt -= uint256(-oldShares);
        if (newShares > 0) supply += uint256(newShares);
        else if (newShares < 0) debt += uint256(-newShares);
        m.totalSupplyShares = supply.toUint104();
        m.totalDebtShares = debt.toUint104();
        _write(account, newShares, mark, m.epoch);
    }

    /// @dev Credits `amount` cash units to `to` (the settlement account's raw balance, or shares at
    /// `m`'s supply index) and returns whether `to` carries the auction mark. `moveCash`'s payee.
    function _creditCash(CashMarket memory m, AccountId to, uint256 amount) private returns (bool marked) {
        (int256 toShares, int256 toMark) = _sharesOf(to, m.epoch);
        if (toShares == SETTLEMENT) {
            // amount ≤ MAX_AMOUNT = type(int128).max: the cast is exact, the addition checked.
            _settlementCash += int128(int256(amount));
        } else {
            _setShares(m, to, toShares, CashIndex.credit(toShares, amount, m.supplyIndex, m.debtIndex), toMark);
        }
        marked = toMark != 0;
    }

    /// @dev Writes the debt of `account` (the insurance account, holding `shares` < 0) off against
    /// every creditor (`_writeOff`) and clears its debt shares in full: what no claim absorbed is
    /// returned as `rest`, for `_socializeRest` once the payee is credited, so the fund never owes
    /// on the index (no interest on a debt nobody will pay, F2). `loss` is the debt written off:
    /// `badDebt()` rises by exactly that once `_socializeRest` has run (the two passes add what
    /// they absorb to `lossSocialized`, and the rest of the second to `_unabsorbedLoss`).
    function _socialize(
        CashMarket memory m,
        AccountId account,
        int256 shares,
        int256 mark
    ) private returns (uint256 loss, uint256 rest) {
        loss = CashIndex.toAmountUp(uint256(-shares), m.debtIndex);
        rest = _writeOff(m, account, loss);
        _setShares(m, account, shares, 0, mark);
    }

    /// @dev A loss larger than every claim before the payment (F2): `rest` is written off again,
    /// against every claim now including the payee's, so no claim is left that the tokens do not
    /// back. What even that cannot absorb is held as `_unabsorbedLoss`: outside the index (no
    /// interest), subtracted from `_liquidity`, reported by `badDebt()`.
    function _socializeRest(CashMarket memory m, AccountId account, uint256 rest) private {
        rest = _writeOff(m, account, rest);
        if (rest != 0) {
            uint256 total = _unabsorbedLoss + rest;
            _unabsorbedLoss = total.toUint128();
            // `_store` keeps the flag bits as stored: cash deposits now create no claim (`_deposit`).
            _setFlag(LOSS_HELD_BIT, true);
            emit LossUnabsorbed(account, rest, total);
        }
    }

    /// @dev Writes `loss` off against every claim of `m` (`CashIndex.socialize`): pro rata, or, past
    /// what a cut to `MIN_SUPPLY_INDEX` absorbs, a new epoch that converts what is left of every
    /// claim at the old one's closing rate (stored here). Returns what no claim absorbed.
    function _writeOff(CashMarket memory m, AccountId account, uint256 loss) private returns (uint256) {
        uint256 epoch = m.epoch;
        (uint256 written, uint256 claims, uint256 rate) = CashIndex.socialize(m, loss);
        if (m.epoch != epoch) {
            _closingRate[epoch] = rate;
            emit CashEpochReset(m.epoch, claims, written, rate);
        }
        if (written != 0) {
            lossSocialized += written;
            emit LossSocialized(account, written, m.supplyIndex);
        }
        return loss - written;
    }

    /// @dev The cash creditors may withdraw: Σ supply − Σ debt + the settlement account's raw
    /// balance − the unabsorbed loss, never below zero. The vault holds at least this many tokens.
    function _liquidity(CashMarket memory m) private view returns (uint256) {
        // Amounts fit 197 bits (128-bit shares × 128-bit indices / 1e18): no overflow in int256.
        int256 liquid =
            int256(CashIndex.totalSupply(m)) -
                int256(CashIndex.totalDebt(m)) +
                _settlementCash -
                int256(uint256(_unabsorbedLoss));
        return liquid > 0 ? uint256(liquid) : 0;
    }

    /// @dev The cash market as stored, the rate model included (for views and setters).
    function _load() private view returns (CashMarket memory m) {
        (m, ) = _loadIndices();
        _loadTotals(m);
        m.rateModel = _market.rateModel;
    }

    /// @dev The indices and the last accrual time, from the one slot that is all a balance needs
    /// while nothing accrues; `accrues` is whether interest is due now (a model is set and this
    /// block has not accrued yet). `m.rateModel` is left zero: `_loadAccrual` reads it when due.
    function _loadIndices() private view returns (CashMarket memory m, bool accrues) {
        uint256 indices = _market.indices;
        m.supplyIndex = uint128(indices & MASK_104);
        m.debtIndex = uint128((indices >> 104) & MASK_104);
        m.lastAccrual = uint40(indices >> 208);
        accrues = indices & ACCRUES_BIT != 0 && m.lastAccrual != block.timestamp;
    }

    /// @dev Fills in `m`'s share totals and last rate from storage.
    function _loadTotals(CashMarket memory m) private view {
        uint256 totals = _market.totals;
        m.totalSupplyShares = uint128(totals & MASK_104);
        m.totalDebtShares = uint128((totals >> 104) & MASK_104);
        m.lastRate = uint56((totals >> 208) & MASK_38);
        m.epoch = uint16(totals >> EPOCH_SHIFT);
    }

    /// @dev Fills in `m`'s rate model and returns the reserve share: one slot, read only when
    /// interest accrues.
    function _loadAccrual(CashMarket memory m) private view returns (uint256 shareWad) {
        m.rateModel = _market.rateModel;
        shareWad = _market.reserveShareWad;
    }

    /// @dev Stores `m`'s indices, totals, time and rate as two whole slots (a struct assignment
    /// would read and write each field on its own), keeping the pause and model flags. Every field
    /// fits its width: indices and totals stay within `CashIndex.MAX_INDEX` (104 bits), the time
    /// is 40 bits, the rate at most `MAX_RATE_PER_SECOND` (38 bits), the epoch `CashIndex.MAX_EPOCH`.
    function _store(CashMarket memory m) private {
        _market.indices =
            uint256(m.supplyIndex) |
            (uint256(m.debtIndex) << 104) |
            (uint256(m.lastAccrual) << 208) |
            (_market.indices & FLAG_BITS);
        _market.totals =
            uint256(m.totalSupplyShares) |
            (uint256(m.totalDebtShares) << 104) |
            (uint256(m.lastRate) << 208) |
            (uint256(m.epoch) << EPOCH_SHIFT);
    }

    /// @dev Sets or clears one of the flag bits of the market's first slot, keeping the rest.
    function _setFlag(uint256 bit, bool on) private {
        uint256 indices = _market.indices;
        _market.indices = on ? indices | bit : indices & ~bit;
    }

    /// @dev The cash market with interest accrued to now, for a state change (the caller stores
    /// it): at most once per block, and only while a rate model is set. The insurance account's
    /// reserve shares are written here; the share totals in the returned market include them.
    function _accrue() private returns (CashMarket memory m) {
        bool accrues;
        (m, accrues) = _loadIndices();
        _loadTotals(m);
        if (!accrues) return m;
        uint256 shareWad = _loadAccrual(m);
        uint256 rate = _accrualRate(m);
        uint256 elapsed = block.timestamp - m.lastAccrual;
        uint256 debtIndex = m.debtIndex;
        (uint256 interest, uint256 reserveShares) = CashIndex.accrue(m, rate, block.timestamp, shareWad);
        // The insurance account never owes on the index (`_socialize`): the reserve buys it shares
        // (the totals in `m` count them already), on top of its claim of this epoch.
        if (reserveShares != 0) {
            AccountId fund = insuranceAccount;
            (int256 shares, int256 mark) = _sharesOf(fund, m.epoch);
            _write(fund, shares + int256(reserveShares), mark, m.epoch);
        }
        if (m.debtIndex != debtIndex) {
            emit InterestAccrued(rate, interest, reserveShares);
        } else if (rate != 0 && elapsed != 0 && m.totalSupplyShares != 0 && m.totalDebtShares != 0) {
            // Only the MAX_INDEX stop leaves the index where it was with something to accrue (F7).
            emit InterestStopped(rate, elapsed);
        }
    }

    /// @dev The same accrual as a view, for the balances every reader sees: the market as `_accrue`
    /// would leave it, and the reserve shares it would give the insurance account. The totals slot
    /// is read even at the zero rate: it holds the epoch a balance needs.
    function _accrued() private view returns (CashMarket memory m, uint256 reserveShares) {
        bool accrues;
        (m, accrues) = _loadIndices();
        _loadTotals(m);
        if (!accrues) return (m, 0);
        uint256 shareWad = _loadAccrual(m);
        (bool ok, uint256 rate) = _askRateModel(m);
        if (!ok || rate > MAX_RATE_PER_SECOND) {
            // As `_accrualRate`: a starved call must not make a view differ from the state (F6).
            if (gasleft() < RATE_MODEL_GAS / 63) revert VaultRateModelOutOfGas();
            rate = m.lastRate;
        }
        (, reserveShares) = CashIndex.accrue(m, rate, block.timestamp, shareWad);
    }

    /// @dev The rate to accrue at: the model's answer, or the last good rate (with
    /// `RateModelFallback`) when it reverts, answers something other than one word, or answers
    /// above `MAX_RATE_PER_SECOND`. A call the caller starved of gas is refused instead, so nobody
    /// can force the fallback by sending too little gas.
    function _accrualRate(CashMarket memory m) private returns (uint256) {
        (bool ok, uint256 rate) = _askRateModel(m);
        if (ok && rate <= MAX_RATE_PER_SECOND) return rate;
        // With at least RATE_MODEL_GAS × 64/63 before the call, 1/64 of it is left after.
        if (gasleft() < RATE_MODEL_GAS / 63) revert VaultRateModelOutOfGas();
        emit RateModelFallback(address(m.rateModel), m.lastRate);
        return m.lastRate;
    }

    /// @dev Asks `m.rateModel` for the rate on `m`'s totals, with at most `RATE_MODEL_GAS` and
    /// 32 bytes of answer read (no return-data bomb). `ok` is false unless it answered one word.
    function _askRateModel(CashMarket memory m) private view returns (bool ok, uint256 rate) {
        address model = address(m.rateModel);
        bytes memory data = abi.encodeCall(IRateModel.borrowRate, (CashIndex.totalSupply(m), CashIndex.totalDebt(m)));
        assembly ("memory-safe") {
            ok := staticcall(RATE_MODEL_GAS, model, add(data, 0x20), mload(data), 0x00, 0x20)
            ok := and(ok, eq(returndatasize(), 0x20))
            rate := mload(0x00)
        }
    }

    /// @dev `account`'s cash in `m`, with the insurance account's pending reserve shares.
    function _cashAmount(CashMarket memory m, AccountId account, uint256 reserveShares) private view returns (int256) {
        (int256 shares, ) = _sharesOf(account, m.epoch);
        if (shares == SETTLEMENT) return _settlementCash;
        if (reserveShares != 0 && account == insuranceAccount) shares += int256(reserveShares);
        return CashIndex.amountOf(shares, m.supplyIndex, m.debtIndex);
    }

    function _checkWithdrawal(AccountId account) private view {
        IRiskCheck check = riskCheck;
        if (address(check) != address(0)) {
            check.checkWithdrawal(account);
        } else {
            (int256 shares, ) = _sharesOf(account, 0); // the sign only: debts carry no epoch
            // Collateral-only rule until the margin engine exists: no value may leave an
            // account that owes cash.
            if (shares < 0) revert VaultCashDebt(account, cashOf(account));
        }
    }

    /// @dev Sets or clears `account`'s bit `index` in `_held`; writes only when it changes.
    function _setHeld(AccountId account, uint8 index, bool on) private {
        uint256 held = _held[account];
        uint256 next = on ? held | (1 << index) : held & ~(1 << index);
        if (next != held) _held[account] = next;
    }

    function _listed(address asset) private view returns (StoredAsset storage config) {
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
