// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {DynamicArrayLib} from "solady/src/utils/DynamicArrayLib.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {IPortfolioManager} from "../interfaces/IPortfolioManager.sol";
import {IRiskCheck} from "../interfaces/IRiskCheck.sol";
import {IVolSurfaceOracle} from "../interfaces/IVolSurfaceOracle.sol";
import {Roles} from "../libraries/Roles.sol";
import {MarginValuation} from "./MarginValuation.sol";
import {StandardManager} from "./StandardManager.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title MarginEngine
/// @notice Values accounts from the vault's balances, the market's positions and the
/// oracle's prices, and answers whether they meet initial and maintenance margin.
/// It holds no funds and moves none: it is a pure function of on-chain state.
/// It keeps the registry (underlyings and their parameters), each account's margin mode and
/// the position limits, and dispatches by mode: CROSS and ISOLATED accounts to its standard
/// manager (in its own bytecode), PORTFOLIO accounts to the `PortfolioManager` it deploys from the
/// creation code its deployer passes.
contract MarginEngine is IMarginEngine, AccessControl, StandardManager {
    // The parameter bounds below are internal (no getter) but for the position limits and the
    // underlying count: twenty getters cost about 700 B, and the engine keeps 2 KB of EIP-170
    // headroom (test/integration/size.test.ts). Their values are in docs/risk-model.md,
    // docs/portfolio-margin.md and docs/vol-surface.md, and each error that enforces one names it.

    /// @notice Most underlyings, so one check reads a bounded number of feeds.
    uint16 public constant MAX_UNDERLYINGS = 32;
    /// @notice Upper bound of every standard-margin parameter (50 % of spot or strike).
    uint256 internal constant MAX_RISK_PARAM = 0.5e18;
    /// @notice Lower bound of the maintenance parameters, so no short is ever free.
    uint256 internal constant MIN_MM_PARAM = 0.01e18;
    /// @notice Most open series a CROSS account may hold, so a margin check stays bounded.
    uint256 public constant MAX_CROSS_POSITIONS = 128;
    /// @notice Hard ceiling of `portfolioPositionCap`: a PORTFOLIO check revalues every position
    /// in every scenario, so its cost grows with positions × scenarios (`docs/portfolio-margin.md`).
    uint256 public constant MAX_PORTFOLIO_POSITIONS = 48;
    /// @notice Most scenarios (spot shocks × vol shocks) per underlying, so the portfolio check
    /// stays bounded; with the portfolio position cap it fits well inside a block.
    uint256 public constant MAX_SCENARIOS = 45;
    /// @notice Most spot shocks and vol shocks in a grid.
    uint256 internal constant MAX_SPOT_SHOCKS = 21;
    uint256 internal constant MAX_VOL_SHOCKS = 5;
    /// @notice Largest spot shock either way (50 %), and the grid must reach at least 5 % each way.
    int256 internal constant MAX_SPOT_SHOCK = 0.5e18;
    int256 internal constant MIN_SPOT_REACH = 0.05e18;
    /// @notice Vol shocks multiply implied vol by a factor within [0.25, 4].
    uint256 internal constant MIN_VOL_SHOCK = 0.25e18;
    uint256 internal constant MAX_VOL_SHOCK = 4e18;
    /// @notice A put-wing skew shock adds at most 2 vol per unit of log-moneyness below spot.
    uint256 internal constant MAX_SKEW_SHOCK = 2e18;
    /// @notice The contingency per short contract lies within [0.1 %, 5 %] of spot.
    uint256 internal constant MIN_CONTINGENCY = 0.001e18;
    uint256 internal constant MAX_CONTINGENCY = 0.05e18;
    /// @notice Portfolio maintenance is between 50 % and 100 % of the initial requirement.
    uint256 internal constant MIN_MM_FACTOR = 0.5e18;
    uint256 internal constant MAX_MM_FACTOR = 1e18;
    /// @notice At most 4 tail spot shocks, each within ±50 %, weighted between 10 % and 100 %.
    uint256 internal constant MAX_TAIL_SHOCKS = 4;
    uint256 internal constant MIN_TAIL_WEIGHT = 0.1e18;
    uint256 internal constant MAX_TAIL_WEIGHT = 1e18;
    /// @notice Bounds of `surfaceMaxAge`: a surface older than it is FALLBACK.
    uint256 internal constant MIN_SURFACE_MAX_AGE = 10 minutes;
    uint256 internal constant MAX_SURFACE_MAX_AGE = 1 days;
    /// @notice Largest confidence add-on: 5 % of spot per short contract at confidence 0.
    uint256 internal constant MAX_CONFIDENCE_ADD_ON = 0.05e18;
    /// @notice Most one `setConfidenceAddOn` call may raise the add-on: 0.5 % of spot per short
    /// contract on both requirements, what one concentration step adds to maintenance.
    uint256 internal constant MAX_CONFIDENCE_ADD_ON_STEP = 0.005e18;

    /// @inheritdoc IMarginEngine
    IPortfolioManager public immutable portfolioManager;
    /// @inheritdoc IMarginEngine
    IOptionMarket public market;
    /// @dev Packed into `market`'s slot: every standard check reads both.
    uint16 private _count;
    /// @inheritdoc IMarginEngine
    /// @dev Packed into `market`'s slot too, so a standard check learns for free whether any
    /// underlying it shorts has a concentration add-on, and skips the manager's call (a cold
    /// account and a slot per underlying) when none has. Indices are at most `MAX_UNDERLYINGS`.
    uint64 public concentrationFlags;
    /// @inheritdoc IMarginEngine
    /// @dev 32 keeps a check under about 3.1M gas with the default grid and a fill's worst case
    /// (two reducing portfolio sides, four checks) well inside a 30M block.
    uint256 public portfolioPositionCap = 32;
    /// @inheritdoc IMarginEngine
    IVolSurfaceOracle public volSurface;
    /// @inheritdoc IMarginEngine
    /// @dev Packed into `volSurface`'s slot: a check reads both.
    uint32 public surfaceMaxAge = 2 hours;

    /// @dev An underlying as stored: its confidence add-on (at most `MAX_CONFIDENCE_ADD_ON` <
    /// 2**96) shares the asset's slot, since a check reads both for every underlying it values.
    struct StoredUnderlying {
        address asset;
        uint96 confidenceAddOnWad;
        RiskParams params;
    }

    mapping(uint16 index => StoredUnderlying) private _underlyings;
    mapping(address asset => uint16) private _indexOf;
    mapping(uint16 index => PortfolioParams) private _portfolio;
    mapping(AccountId account => MarginMode) private _modes;

    /// @param managerCode The `PortfolioManager`'s creation code (its artifact's `bytecode`). The
    /// engine deploys it with `(vault_, oracle_)` appended, so the manager is the engine's own (its
    /// `engine()` is this contract), while its code compiles in a job of its own, at optimizer
    /// settings of its own (hardhat.config.ts, docs/performance.md). Code that deploys nothing, or
    /// a contract whose `engine()` is not this one, reverts `EngineInvalidManagerCode`.
    constructor(
        address admin,
        ICollateralVault vault_,
        IPledgeOracle oracle_,
        bytes memory managerCode
    ) MarginValuation(_nonZero(vault_, oracle_, admin), oracle_) {
        // Portfolio valuation lives in its own contract to keep the engine under EIP-170.
        portfolioManager = _deployManager(managerCode, vault_, oracle_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IMarginEngine
    function listUnderlying(
        address asset,
        RiskParams calldata params
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint16 index) {
        if (asset == address(0)) revert EngineZeroAddress();
        if (_indexOf[asset] != 0) revert EngineUnderlyingAlreadyListed(asset);
        if (_count >= MAX_UNDERLYINGS) revert EngineTooManyUnderlyings(MAX_UNDERLYINGS);
        _checkParams(params);
        // Index 0 means "not listed", so indices start at 1.
        index = ++_count;
        StoredUnderlying storage u = _underlyings[index];
        u.asset = asset;
        u.params = params;
        _indexOf[asset] = index;
        emit UnderlyingListed(index, asset, params);
        _setPortfolioParams(index, defaultPortfolioParams());
    }

    /// @inheritdoc IMarginEngine
    function setPortfolioParams(
        uint16 index,
        PortfolioParams calldata params
    ) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        if (_underlyings[index].asset == address(0)) revert EngineUnderlyingNotListed(address(0));
        _setPortfolioParams(index, params);
    }

    /// @inheritdoc IMarginEngine
    function setRiskParams(uint16 index, RiskParams calldata params) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        StoredUnderlying storage u = _underlyings[index];
        if (u.asset == address(0)) revert EngineUnderlyingNotListed(address(0));
        _checkParams(params);
        u.params = params;
        emit RiskParamsSet(index, params);
    }

    /// @inheritdoc IMarginEngine
    /// @dev Set once rather than in the constructor because the two contracts point at each
    /// other: the market takes the engine in its constructor (it asks for position limits and
    /// margin checks), so the engine is deployed first and learns the market's address after.
    function setMarket(address market_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (market_ == address(0)) revert EngineZeroAddress();
        if (address(market) != address(0)) revert EngineMarketAlreadySet();
        market = IOptionMarket(market_);
        emit MarketSet(market_);
    }

    /// @inheritdoc IMarginEngine
    function setPortfolioPositionCap(uint256 cap) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        if (cap == 0 || cap > MAX_PORTFOLIO_POSITIONS) revert EngineInvalidPositionCap(cap);
        portfolioPositionCap = cap;
        emit PortfolioPositionCapSet(cap);
    }

    /// @inheritdoc IMarginEngine
    /// @dev The admin's (timelocked), not the risk manager's: it wires in a contract whose answers
    /// value every account, like `setMarket` (docs/security.md, "Admin bounds").
    function setVolSurface(IVolSurfaceOracle surface) external onlyRole(DEFAULT_ADMIN_ROLE) {
        volSurface = surface;
        emit VolSurfaceSet(surface);
    }

    /// @inheritdoc IMarginEngine
    function setSurfaceMaxAge(uint256 maxAge) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        if (maxAge < MIN_SURFACE_MAX_AGE || maxAge > MAX_SURFACE_MAX_AGE) revert EngineInvalidSurfaceMaxAge(maxAge);
        surfaceMaxAge = uint32(maxAge);
        emit SurfaceMaxAgeSet(maxAge);
    }

    /// @inheritdoc IMarginEngine
    function setConfidenceAddOn(uint16 index, uint256 addOnWad) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        StoredUnderlying storage u = _underlyings[index];
        if (u.asset == address(0)) revert EngineUnderlyingNotListed(address(0));
        if (addOnWad > MAX_CONFIDENCE_ADD_ON) revert EngineInvalidConfidenceAddOn(index, addOnWad);
        uint256 current = u.confidenceAddOnWad;
        // A raise is bounded per call (as the concentration add-on's), so one call adds at most
        // 0.5 % of spot per short contract to any requirement; lowering is free.
        if (addOnWad > current + MAX_CONFIDENCE_ADD_ON_STEP) {
            revert EngineConfidenceAddOnStepTooLarge(index, current, addOnWad);
        }
        // At most MAX_CONFIDENCE_ADD_ON (checked above), so it fits.
        u.confidenceAddOnWad = uint96(addOnWad);
        emit ConfidenceAddOnSet(index, addOnWad);
    }

    /// @inheritdoc IMarginEngine
    function setConcentrationFlag(uint16 index, bool on) external {
        if (msg.sender != address(portfolioManager)) revert EngineCallerNotPortfolioManager(msg.sender);
        if (_underlyings[index].asset == address(0)) revert EngineUnderlyingNotListed(address(0));
        // A listed index is at most MAX_UNDERLYINGS = 32, so the bit is in range.
        uint64 bit = uint64(1) << index;
        concentrationFlags = on ? concentrationFlags | bit : concentrationFlags & ~bit;
    }

    // ---------------------------------------------------------------- accounts

    /// @inheritdoc IMarginEngine
    function setMarginMode(AccountId account, MarginMode mode) external {
        if (!_vault.isAuthorized(account, msg.sender)) revert EngineUnauthorized(account, msg.sender);
        if (address(market) == address(0)) revert EngineMarketNotSet();
        if (_positionCount(account) != 0) revert EngineModeLocked(account);
        _modes[account] = mode;
        emit MarginModeSet(account, mode);
        // With no position, only a debt can leave the account short of margin in its new mode
        // (issue 12 review, P4: a switch must not push a healthy account into liquidation).
        if (_vault.cashSharesOf(account) < 0) _checkInitial(account);
    }

    // ---------------------------------------------------------------- checks

    /// @inheritdoc IRiskCheck
    function checkWithdrawal(AccountId account) external view {
        // An account with no positions and no debt needs no price: its requirement is
        // zero and its equity is not negative, so withdrawals work even when feeds fail.
        // The sign of its cash is the sign of its shares: no interest to accrue for that.
        if (_vault.cashSharesOf(account) >= 0 && _positionCount(account) == 0) return;
        _checkInitial(account);
    }

    /// @inheritdoc IMarginEngine
    function checkInitialMargin(AccountId account) external view {
        _checkInitial(account);
    }

    /// @inheritdoc IMarginEngine
    /// @dev One price cache for both: what it holds (spots, vols, assets, surfaces and their modes)
    /// is the same for every account in one call, and `first` passing leaves no unusable surface
    /// recorded in it. A PORTFOLIO side is valued by the manager, with a cache of its own.
    function checkInitialMargins(AccountId first, AccountId second) external view {
        PriceCache memory cache = _newCache();
        _checkInitialWith(first, cache);
        _checkInitialWith(second, cache);
    }

    /// @inheritdoc IMarginEngine
    function checkAuctionMargin(AccountId account) external view {
        _checkAbove(account, _margin(account));
    }

    /// @inheritdoc IMarginEngine
    function checkAuctionMarginAt(AccountId account, uint256[] calldata prices) external view {
        _checkAbove(account, _marginAt(account, prices));
    }

    /// @inheritdoc IMarginEngine
    function surfaceParams(
        uint16 index
    ) external view returns (IVolSurfaceOracle surface, uint256 maxAge, uint256 addOnWad) {
        return _readSurfaceParams(index);
    }

    /// @inheritdoc IMarginEngine
    function excessInitial(AccountId account) external view returns (int256) {
        MarginState memory state = _margin(account);
        return state.equityIM - int256(state.requirementIM);
    }

    /// @inheritdoc IMarginEngine
    function excesses(AccountId account) external view returns (int256 initialExcess, int256 maintenanceExcess) {
        MarginState memory state = _margin(account);
        initialExcess = state.equityIM - int256(state.requirementIM);
        maintenanceExcess = state.equityMM - int256(state.requirementMM);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMarginEngine
    function accountMargin(AccountId account) external view returns (MarginState memory) {
        return _margin(account);
    }

    /// @inheritdoc IMarginEngine
    function accountMarginAndPrices(
        AccountId account
    ) external view returns (MarginState memory state, uint256[] memory prices) {
        if (_modes[account] == MarginMode.PORTFOLIO) return (portfolioManager.accountMarginFor(account, false), prices);
        PriceCache memory cache = _newCache();
        _standardMargin(account, market, cache, state);
        // The cache's spots, then its vols (`n` words each), into one array.
        (uint256[] memory spots, uint256[] memory vols) = (cache.spot, cache.vol);
        uint256 n = spots.length;
        prices = DynamicArrayLib.malloc(2 * n);
        assembly ("memory-safe") {
            mcopy(add(prices, 0x20), add(spots, 0x20), shl(5, n))
            mcopy(add(prices, add(0x20, shl(5, n))), add(vols, 0x20), shl(5, n))
        }
    }

    /// @inheritdoc IMarginEngine
    function accountMarginAt(AccountId account, uint256[] calldata prices) external view returns (MarginState memory) {
        return _marginAt(account, prices);
    }

    /// @inheritdoc IMarginEngine
    /// @dev One price cache for every standard account (as `checkInitialMargins`): the feeds are
    /// read once a call, not once an account.
    function accountsMargin(AccountId[] calldata accounts) external view returns (MarginState[] memory states) {
        states = new MarginState[](accounts.length);
        PriceCache memory cache = _newCache();
        for (uint256 i; i < accounts.length; ++i) {
            AccountId account = accounts[i];
            // `states[i]` is a zeroed struct of its own (`new`): the standard state is written into it.
            if (_modes[account] == MarginMode.PORTFOLIO) states[i] = portfolioManager.accountMarginFor(account, false);
            else _standardMargin(account, market, cache, states[i]);
        }
    }

    /// @inheritdoc IMarginEngine
    function mark(SeriesId seriesId) external view returns (uint256 markWad) {
        PriceCache memory cache = _newCache();
        // The short side, read from the fresh cache (nothing unusable met yet: false) rather than
        // written as a literal `false`, which made the IR optimizer specialise a second copy of
        // `_markOf` for this call (about 600 bytes of EIP-170 room).
        return _markOf(seriesId, cache, cache.surface.unusableExpiry != 0).markWad;
    }

    /// @inheritdoc IMarginEngine
    function marginModeOf(AccountId account) external view returns (MarginMode) {
        return _modes[account];
    }

    /// @inheritdoc IMarginEngine
    function positionLimitOf(AccountId account) external view returns (uint256) {
        MarginMode mode = _modes[account];
        if (mode == MarginMode.ISOLATED) return 1;
        return mode == MarginMode.PORTFOLIO ? portfolioPositionCap : MAX_CROSS_POSITIONS;
    }

    /// @inheritdoc IMarginEngine
    function oracle() external view returns (IPledgeOracle) {
        return _oracle;
    }

    /// @notice The collateral vault whose balances are valued.
    function vault() external view returns (ICollateralVault) {
        return _vault;
    }

    /// @inheritdoc IMarginEngine
    function portfolioParams(uint16 index) external view returns (PortfolioParams memory) {
        return _portfolio[index];
    }

    /// @inheritdoc IMarginEngine
    function defaultPortfolioParams() public pure returns (PortfolioParams memory params) {
        params.spotShocksWad = new int64[](9);
        for (uint256 i; i < 9; ++i) {
            // −18 % to +18 % in steps of 4.5 %.
            params.spotShocksWad[i] = int64(int256(i) * 0.045e18 - 0.18e18);
        }
        params.volShocksWad = new uint64[](3);
        params.volShocksWad[0] = 1.5e18;
        params.volShocksWad[1] = 1e18;
        params.volShocksWad[2] = 0.7e18;
        // The crash column steepens the put wing: +1 vol point per 1 % of ln(S/K) below spot.
        params.skewShocksWad = new uint64[](3);
        params.skewShocksWad[0] = 1e18;
        params.contingencyWad = 0.005e18;
        params.mmFactorWad = 0.8e18;
        // SPAN's extreme moves: beyond the grid, at a reduced weight.
        params.tailShocksWad = new int64[](4);
        params.tailShocksWad[0] = -0.5e18;
        params.tailShocksWad[1] = -0.33e18;
        params.tailShocksWad[2] = 0.33e18;
        params.tailShocksWad[3] = 0.5e18;
        params.tailWeightWad = 0.35e18;
    }

    /// @inheritdoc IMarginEngine
    function underlying(uint16 index) external view returns (Underlying memory) {
        StoredUnderlying storage u = _underlyings[index];
        return Underlying(u.asset, u.params);
    }

    /// @inheritdoc IMarginEngine
    function underlyingIndexOf(address asset) external view returns (uint16 index) {
        index = _indexOf[asset];
        if (index == 0) revert EngineUnderlyingNotListed(asset);
    }

    /// @inheritdoc IMarginEngine
    function listedIndexOf(address asset) external view returns (uint16) {
        return _indexOf[asset];
    }

    /// @inheritdoc IMarginEngine
    function underlyingCount() external view returns (uint16) {
        return _count;
    }

    // ---------------------------------------------------------------- internal

    /// @dev The IM check of new risk: fails closed on a FALLBACK surface (`EngineVolSurfaceUnusable`):
    /// for a short in standard margin, for any live series in PORTFOLIO (`_fallbackLongsCount`).
    function _checkInitial(AccountId account) private view {
        _checkInitialWith(account, _newCache());
    }

    function _checkInitialWith(AccountId account, PriceCache memory cache) private view {
        if (_modes[account] == MarginMode.PORTFOLIO) {
            return _checkAbove(account, portfolioManager.accountMarginFor(account, true));
        }
        MarginState memory state;
        _standardMargin(account, market, cache, state);
        _requireUsableSurface(cache);
        _checkAbove(account, state);
    }

    function _checkAbove(AccountId account, MarginState memory state) private pure {
        if (state.equityIM < int256(state.requirementIM)) {
            revert EngineBelowInitialMargin(account, state.equityIM, state.requirementIM);
        }
    }

    /// @dev Dispatch by mode: each manager values its own accounts (FALLBACK surfaces at their
    /// FALLBACK marks).
    function _margin(AccountId account) private view returns (MarginState memory state) {
        if (_modes[account] == MarginMode.PORTFOLIO) return portfolioManager.accountMarginFor(account, false);
        _standardMargin(account, market, _newCache(), state);
    }

    /// @dev `_margin` with the cache seeded from `prices` (`accountMarginAt`): their length is
    /// checked for every mode, so a caller learns of malformed prices whatever the account.
    function _marginAt(AccountId account, uint256[] calldata prices) private view returns (MarginState memory state) {
        uint256 n = _underlyingCount() + 1;
        if (prices.length != 0 && prices.length != 2 * n) revert EnginePricesMismatch(prices.length, 2 * n);
        if (_modes[account] == MarginMode.PORTFOLIO) return portfolioManager.accountMarginFor(account, false);
        PriceCache memory cache = _newCache();
        if (prices.length != 0) {
            // Each entry replaces the cache's 0 (not read yet); a 0 entry stays unread, so the
            // valuation reads its feed if it needs it. `n` is the cache arrays' length.
            (uint256[] memory spots, uint256[] memory vols) = (cache.spot, cache.vol);
            assembly ("memory-safe") {
                calldatacopy(add(spots, 0x20), prices.offset, shl(5, n))
                calldatacopy(add(vols, 0x20), add(prices.offset, shl(5, n)), shl(5, n))
            }
        }
        _standardMargin(account, market, cache, state);
    }

    function _positionCount(AccountId account) private view returns (uint256) {
        IOptionMarket market_ = market;
        if (address(market_) == address(0)) return 0;
        (SeriesId[] memory seriesIds, ) = market_.positionsOf(account);
        return seriesIds.length;
    }

    // ---------------------------------------------------------------- registry

    function _underlyingCount() internal view override returns (uint256) {
        return _count;
    }

    function _readAsset(uint16 index) internal view override returns (address) {
        return _underlyings[index].asset;
    }

    function _readListedIndex(address asset) internal view override returns (uint16) {
        return _indexOf[asset];
    }

    function _riskParamsOf(
        uint16 index
    ) internal view override returns (uint256 aIM, uint256 bIM, uint256 aMM, uint256 bMM) {
        RiskParams storage p = _underlyings[index].params;
        return (p.aIM, p.bIM, p.aMM, p.bMM);
    }

    function _readSurfaceParams(uint16 index) internal view override returns (IVolSurfaceOracle, uint256, uint256) {
        return (volSurface, surfaceMaxAge, _underlyings[index].confidenceAddOnWad);
    }

    /// @dev The add-on's parameters live in the portfolio manager, where there is room. Its
    /// answer is a sum over underlyings with shorts of terms that are 0 when κ = 0, so without a
    /// flagged underlying among them it is (0, 0) and the call is skipped.
    function _concentrationAddOnUp(
        uint256[] memory shorts,
        uint256[] memory spots
    ) internal view override returns (uint256, uint256) {
        uint256 flags = concentrationFlags;
        for (uint256 u = 1; u < shorts.length; ++u) {
            if (shorts[u] != 0 && (flags >> u) & 1 != 0) return portfolioManager.concentrationAddOnUp(shorts, spots);
        }
        return (0, 0);
    }

    /// @dev Checks the constructor's addresses before the valuation base reads the vault.
    function _nonZero(
        ICollateralVault vault_,
        IPledgeOracle oracle_,
        address admin
    ) private pure returns (ICollateralVault) {
        if (admin == address(0) || address(vault_) == address(0) || address(oracle_) == address(0)) {
            revert EngineZeroAddress();
        }
        return vault_;
    }

    /// @dev Deploys `code` with `(vault_, oracle_)` as its constructor's arguments and checks that
    /// the result answers `engine()` with this engine (the manager takes its deployer as its engine).
    function _deployManager(
        bytes memory code,
        ICollateralVault vault_,
        IPledgeOracle oracle_
    ) private returns (IPortfolioManager manager) {
        bytes memory init = bytes.concat(code, abi.encode(vault_, oracle_));
        assembly ("memory-safe") {
            manager := create(0, add(init, 0x20), mload(init))
        }
        if (address(manager) == address(0)) revert EngineInvalidManagerCode();
        (bool ok, bytes memory data) = address(manager).staticcall(abi.encodeCall(IPortfolioManager.engine, ()));
        if (!ok || data.length != 32 || abi.decode(data, (uint256)) != uint160(address(this))) {
            revert EngineInvalidManagerCode();
        }
    }

    function _setPortfolioParams(uint16 index, PortfolioParams memory params) private {
        _checkPortfolioParams(params);
        PortfolioParams storage stored = _portfolio[index];
        stored.spotShocksWad = params.spotShocksWad;
        stored.volShocksWad = params.volShocksWad;
        stored.contingencyWad = params.contingencyWad;
        stored.mmFactorWad = params.mmFactorWad;
        stored.tailShocksWad = params.tailShocksWad;
        stored.tailWeightWad = params.tailWeightWad;
        stored.skewShocksWad = params.skewShocksWad;
        emit PortfolioParamsSet(index, params);
    }

    function _checkPortfolioParams(PortfolioParams memory p) private pure {
        uint256 spots = p.spotShocksWad.length;
        uint256 vols = p.volShocksWad.length;
        uint256 tails = p.tailShocksWad.length;
        bool valid =
            spots >= 3 &&
                spots <= MAX_SPOT_SHOCKS &&
                vols >= 1 &&
                vols <= MAX_VOL_SHOCKS &&
                p.skewShocksWad.length == vols &&
                tails >= 2 &&
                tails <= MAX_TAIL_SHOCKS &&
                spots * vols <= MAX_SCENARIOS &&
                p.tailShocksWad[0] >= -MAX_SPOT_SHOCK &&
                p.tailShocksWad[0] < 0 &&
                p.tailShocksWad[tails - 1] <= MAX_SPOT_SHOCK &&
                p.tailShocksWad[tails - 1] > 0 &&
                p.tailWeightWad >= MIN_TAIL_WEIGHT &&
                p.tailWeightWad <= MAX_TAIL_WEIGHT &&
                p.spotShocksWad[0] >= -MAX_SPOT_SHOCK &&
                p.spotShocksWad[0] <= -MIN_SPOT_REACH &&
                p.spotShocksWad[spots - 1] <= MAX_SPOT_SHOCK &&
                p.spotShocksWad[spots - 1] >= MIN_SPOT_REACH &&
                p.contingencyWad >= MIN_CONTINGENCY &&
                p.contingencyWad <= MAX_CONTINGENCY &&
                p.mmFactorWad >= MIN_MM_FACTOR &&
                p.mmFactorWad <= MAX_MM_FACTOR;
        for (uint256 i = 1; valid && i < spots; ++i) {
            valid = p.spotShocksWad[i] > p.spotShocksWad[i - 1];
        }
        for (uint256 k = 1; valid && k < tails; ++k) {
            valid = p.tailShocksWad[k] > p.tailShocksWad[k - 1];
        }
        // The skew shocks are as many as the vol shocks here (checked above), so index j is safe.
        for (uint256 j; valid && j < vols; ++j) {
            valid = p.volShocksWad[j] >= MIN_VOL_SHOCK && p.volShocksWad[j] <= MAX_VOL_SHOCK;
            if (p.skewShocksWad[j] > MAX_SKEW_SHOCK) revert EngineSkewShockTooLarge(j, p.skewShocksWad[j]);
        }
        if (!valid) revert EngineInvalidPortfolioParams(p);
    }

    function _checkParams(RiskParams calldata p) private pure {
        if (
            p.aIM > MAX_RISK_PARAM ||
            p.bIM > MAX_RISK_PARAM ||
            p.aMM < MIN_MM_PARAM ||
            p.bMM < MIN_MM_PARAM ||
            p.aMM > p.aIM ||
            p.bMM > p.bIM
        ) revert EngineInvalidRiskParams(p);
    }
}
