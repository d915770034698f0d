// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {IRiskCheck} from "../interfaces/IRiskCheck.sol";
import {BlackScholes} from "../libraries/BlackScholes.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";

/// @title MarginEngine
/// @notice Values accounts from the vault's balances, the market's positions and the
/// oracle's prices, and answers whether they meet initial and maintenance margin.
/// It holds no funds and moves none: it is a pure function of on-chain state.
contract MarginEngine is IMarginEngine, AccessControl {
    /// @notice Most underlyings, so one check reads a bounded number of feeds.
    uint16 public constant MAX_UNDERLYINGS = 32;
    /// @notice Upper bound of every standard-margin parameter (50 % of spot or strike).
    uint256 public constant MAX_RISK_PARAM = 0.5e18;
    /// @notice Lower bound of the maintenance parameters, so no short is ever free.
    uint256 public constant MIN_MM_PARAM = 0.01e18;

    ICollateralVault public immutable vault;
    /// @inheritdoc IMarginEngine
    IPledgeOracle public immutable oracle;
    /// @notice The option market whose positions are valued (set once by the admin).
    IOptionMarket public market;

    uint8 private immutable _cashDecimals;
    uint16 private _underlyingCount;
    mapping(uint16 index => Underlying) private _underlyings;
    mapping(address asset => uint16) private _indexOf;

    /// @dev Prices read once per check: one slot per underlying index, filled lazily.
    struct PriceCache {
        uint256[] spot;
        uint256[] vol;
    }

    constructor(address admin, ICollateralVault vault_, IPledgeOracle oracle_) {
        if (admin == address(0) || address(vault_) == address(0) || address(oracle_) == address(0)) {
            revert EngineZeroAddress();
        }
        vault = vault_;
        oracle = oracle_;
        _cashDecimals = vault_.assetConfig(vault_.cashAsset()).decimals;
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
        if (_underlyingCount >= MAX_UNDERLYINGS) revert EngineTooManyUnderlyings(MAX_UNDERLYINGS);
        _checkParams(params);
        // Index 0 means "not listed", so indices start at 1.
        index = ++_underlyingCount;
        _underlyings[index] = Underlying(asset, params);
        _indexOf[asset] = index;
        emit UnderlyingListed(index, asset, params);
    }

    /// @inheritdoc IMarginEngine
    function setRiskParams(uint16 index, RiskParams calldata params) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        Underlying storage u = _underlyings[index];
        if (u.asset == address(0)) revert EngineUnderlyingNotListed(address(0));
        _checkParams(params);
        u.params = params;
        emit RiskParamsSet(index, params);
    }

    /// @inheritdoc IMarginEngine
    function setMarket(address market_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (market_ == address(0)) revert EngineZeroAddress();
        if (address(market) != address(0)) revert EngineMarketAlreadySet();
        market = IOptionMarket(market_);
        emit MarketSet(market_);
    }

    // ---------------------------------------------------------------- checks

    /// @inheritdoc IRiskCheck
    function checkWithdrawal(uint256 account) external view {
        // An account with no positions and no debt needs no price: its requirement is
        // zero and its equity is not negative, so withdrawals work even when feeds fail.
        if (vault.cashOf(account) >= 0 && _positionCount(account) == 0) return;
        _checkInitial(account);
    }

    /// @inheritdoc IMarginEngine
    function checkInitialMargin(uint256 account) external view {
        _checkInitial(account);
    }

    /// @inheritdoc IMarginEngine
    function excessInitial(uint256 account) external view returns (int256) {
        MarginState memory state = _margin(account);
        return state.equityIM - int256(state.requirementIM);
    }

    /// @inheritdoc IMarginEngine
    function excesses(uint256 account) external view returns (int256 initialExcess, int256 maintenanceExcess) {
        MarginState memory state = _margin(account);
        initialExcess = state.equityIM - int256(state.requirementIM);
        maintenanceExcess = state.equityMM - int256(state.requirementMM);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMarginEngine
    function accountMargin(uint256 account) external view returns (MarginState memory) {
        return _margin(account);
    }

    /// @inheritdoc IMarginEngine
    function accountsMargin(uint256[] calldata accounts) external view returns (MarginState[] memory states) {
        states = new MarginState[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            states[i] = _margin(accounts[i]);
        }
    }

    /// @inheritdoc IMarginEngine
    function mark(uint256 seriesId) external view returns (uint256 markWad) {
        PriceCache memory cache = _newCache();
        (markWad, ) = _markAndSpot(seriesId, cache);
    }

    /// @inheritdoc IMarginEngine
    function underlying(uint16 index) external view returns (Underlying memory) {
        return _underlyings[index];
    }

    /// @inheritdoc IMarginEngine
    function underlyingIndexOf(address asset) external view returns (uint16 index) {
        index = _indexOf[asset];
        if (index == 0) revert EngineUnderlyingNotListed(asset);
    }

    /// @inheritdoc IMarginEngine
    function underlyingCount() external view returns (uint16) {
        return _underlyingCount;
    }

    // ---------------------------------------------------------------- internal

    function _checkInitial(uint256 account) private view {
        MarginState memory state = _margin(account);
        if (state.equityIM < int256(state.requirementIM)) {
            revert EngineBelowInitialMargin(account, state.equityIM, state.requirementIM);
        }
    }

    /// @dev The whole valuation: collateral, cash, then every position.
    function _margin(uint256 account) private view returns (MarginState memory state) {
        PriceCache memory cache = _newCache();
        (state.equityIM, state.equityMM, state.markValue) = _collateralEquity(account);

        IOptionMarket market_ = market;
        if (address(market_) != address(0)) {
            (uint256[] memory seriesIds, int256[] memory balances) = market_.positionsOf(account);
            for (uint256 i; i < seriesIds.length; ++i) {
                (int256 value, uint256 reqIM, uint256 reqMM) = _position(seriesIds[i], balances[i], cache);
                // Long options add nothing to initial-margin equity (as in Lyra's standard
                // manager): otherwise options bought on cash credit would lever without bound.
                if (value < 0) state.equityIM += value;
                state.equityMM += value;
                state.markValue += value;
                state.requirementIM += reqIM;
                state.requirementMM += reqMM;
            }
        }
        state.health = _health(state);
    }

    /// @dev Haircut collateral plus signed cash, once with initial and once with
    /// maintenance haircuts, and once with none (the mark-to-market value).
    function _collateralEquity(
        uint256 account
    ) private view returns (int256 equityIM, int256 equityMM, int256 markValue) {
        (uint256[] memory balances, int256 cash) = vault.balancesOf(account);
        int256 cashWad = MarginMath.cashToWad(cash, _cashDecimals);
        equityIM = cashWad;
        equityMM = cashWad;
        markValue = cashWad;
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] == 0) continue;
            if (assets.length == 0) assets = vault.collateralAssets();
            ICollateralVault.AssetConfig memory config = vault.assetConfig(assets[i]);
            uint256 value = MarginMath.tokenValueDown(balances[i], config.decimals, oracle.spot(assets[i]));
            equityIM += int256(MarginMath.applyHaircutDown(value, config.initialHaircutWad));
            equityMM += int256(MarginMath.applyHaircutDown(value, config.maintenanceHaircutWad));
            markValue += int256(value);
        }
    }

    /// @dev Value and requirements of one position.
    function _position(
        uint256 seriesId,
        int256 balance,
        PriceCache memory cache
    ) private view returns (int256 value, uint256 reqIM, uint256 reqMM) {
        (uint256 markWad, uint256 spotWad) = _markAndSpot(seriesId, cache);
        value = MarginMath.positionValue(balance, markWad);
        // spotWad == 0 flags an expired series with a posted settlement price: the payoff
        // is fixed, the mark carries all of it, nothing further is required.
        if (balance >= 0 || spotWad == 0) return (value, 0, 0);
        RiskParams memory p = _underlyings[SeriesLib.underlyingIndexOf(seriesId)].params;
        bool isCall = SeriesLib.isCallOf(seriesId);
        uint256 strike = SeriesLib.strikeOf(seriesId);
        reqIM = MarginMath.positionRequirementUp(
            balance,
            MarginMath.shortRequirementUp(isCall, spotWad, strike, p.aIM, p.bIM)
        );
        reqMM = MarginMath.positionRequirementUp(
            balance,
            MarginMath.shortRequirementUp(isCall, spotWad, strike, p.aMM, p.bMM)
        );
    }

    /// @dev The mark of one contract and the spot its requirement uses (0 once settled).
    /// Before expiry: Black–Scholes with r = 0. After expiry: intrinsic value at the
    /// settlement price if posted, else at spot.
    function _markAndSpot(
        uint256 seriesId,
        PriceCache memory cache
    ) private view returns (uint256 markWad, uint256 spotWad) {
        uint16 index = SeriesLib.underlyingIndexOf(seriesId);
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        uint256 strike = SeriesLib.strikeOf(seriesId);
        bool isCall = SeriesLib.isCallOf(seriesId);
        if (block.timestamp >= expiry) {
            (uint256 settlement, bool posted) = oracle.settlementPrice(_underlyings[index].asset, expiry);
            if (posted) return (MarginMath.intrinsic(isCall, settlement, strike), 0);
            spotWad = _spot(index, cache);
            return (MarginMath.intrinsic(isCall, spotWad, strike), spotWad);
        }
        spotWad = _spot(index, cache);
        uint256 volWad = cache.vol[index];
        if (volWad == 0) {
            volWad = oracle.vol(_underlyings[index].asset);
            cache.vol[index] = volWad;
        }
        uint256 secondsToExpiry = expiry - block.timestamp;
        markWad =
            isCall
                ? BlackScholes.callPrice(spotWad, strike, secondsToExpiry, volWad)
                : BlackScholes.putPrice(spotWad, strike, secondsToExpiry, volWad);
    }

    function _spot(uint16 index, PriceCache memory cache) private view returns (uint256 spotWad) {
        spotWad = cache.spot[index];
        if (spotWad == 0) {
            spotWad = oracle.spot(_underlyings[index].asset);
            cache.spot[index] = spotWad;
        }
    }

    function _newCache() private view returns (PriceCache memory cache) {
        uint256 n = uint256(_underlyingCount) + 1;
        cache.spot = new uint256[](n);
        cache.vol = new uint256[](n);
    }

    function _positionCount(uint256 account) private view returns (uint256) {
        IOptionMarket market_ = market;
        if (address(market_) == address(0)) return 0;
        (uint256[] memory seriesIds, ) = market_.positionsOf(account);
        return seriesIds.length;
    }

    function _health(MarginState memory state) private pure returns (Health) {
        if (state.equityMM < 0) return Health.INSOLVENT;
        if (state.equityMM < int256(state.requirementMM)) return Health.LIQUIDATABLE;
        if (state.equityIM < int256(state.requirementIM)) return Health.MARGIN_CALL;
        return Health.HEALTHY;
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
