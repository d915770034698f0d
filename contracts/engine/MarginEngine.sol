// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {IPortfolioRisk} from "../interfaces/IPortfolioRisk.sol";
import {IRiskCheck} from "../interfaces/IRiskCheck.sol";
import {BlackScholes} from "../libraries/BlackScholes.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {PortfolioRisk} from "./PortfolioRisk.sol";

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
    /// @notice Most scenarios (spot shocks × vol shocks) per underlying, so the portfolio check
    /// stays bounded; with the market's portfolio position cap it fits well inside a block.
    uint256 public constant MAX_SCENARIOS = 45;
    /// @notice Most spot shocks and vol shocks in a grid.
    uint256 public constant MAX_SPOT_SHOCKS = 21;
    uint256 public constant MAX_VOL_SHOCKS = 5;
    /// @notice Largest spot shock either way (50 %), and the grid must reach at least 5 % each way.
    int256 public constant MAX_SPOT_SHOCK = 0.5e18;
    int256 public constant MIN_SPOT_REACH = 0.05e18;
    /// @notice Vol shocks multiply implied vol by a factor within [0.25, 4].
    uint256 public constant MIN_VOL_SHOCK = 0.25e18;
    uint256 public constant MAX_VOL_SHOCK = 4e18;
    /// @notice The contingency per short contract lies within [0.1 %, 5 %] of spot.
    uint256 public constant MIN_CONTINGENCY = 0.001e18;
    uint256 public constant MAX_CONTINGENCY = 0.05e18;
    /// @notice Portfolio maintenance is between 50 % and 100 % of the initial requirement.
    uint256 public constant MIN_MM_FACTOR = 0.5e18;
    uint256 public constant MAX_MM_FACTOR = 1e18;
    /// @notice At most 4 tail spot shocks, each within ±50 %, weighted between 10 % and 100 %.
    uint256 public constant MAX_TAIL_SHOCKS = 4;
    uint256 public constant MIN_TAIL_WEIGHT = 0.1e18;
    uint256 public constant MAX_TAIL_WEIGHT = 1e18;

    ICollateralVault public immutable vault;
    /// @inheritdoc IMarginEngine
    IPledgeOracle public immutable oracle;
    /// @inheritdoc IMarginEngine
    IPortfolioRisk public immutable portfolioRisk;
    /// @notice The option market whose positions are valued (set once by the admin).
    IOptionMarket public market;

    uint8 private immutable _cashDecimals;
    uint16 private _underlyingCount;
    mapping(uint16 index => Underlying) private _underlyings;
    mapping(address asset => uint16) private _indexOf;
    mapping(uint16 index => PortfolioParams) private _portfolio;

    /// @dev Prices read once per check: one slot per underlying index, filled lazily.
    struct PriceCache {
        uint256[] spot;
        uint256[] vol;
    }

    /// @dev A portfolio account as its requirement needs it: positions with their marks (and
    /// whether a price can still move them), and per underlying index the collateral held in
    /// that underlying, native units and decimals.
    struct PortfolioBook {
        uint256[] seriesIds;
        int256[] balances;
        uint256[] marks;
        bool[] atRisk;
        uint256[] heldTokens;
        uint8[] heldDecimals;
    }

    constructor(address admin, ICollateralVault vault_, IPledgeOracle oracle_) {
        if (admin == address(0) || address(vault_) == address(0) || address(oracle_) == address(0)) {
            revert EngineZeroAddress();
        }
        vault = vault_;
        oracle = oracle_;
        // The scenario requirement lives in its own contract to keep the engine under EIP-170.
        portfolioRisk = new PortfolioRisk();
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
        IOptionMarket market_ = market;
        if (address(market_) != address(0) && market_.marginModeOf(account) == IOptionMarket.MarginMode.PORTFOLIO)
            return _portfolioMargin(account, market_);
        PriceCache memory cache = _newCache();
        PortfolioBook memory none;
        (state.equityIM, state.equityMM, state.markValue) = _collateralEquity(account, cache, none);

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

    /// @dev Portfolio margin (`docs/portfolio-margin.md`). Equity counts every position at its
    /// mark and collateral in a listed underlying at its full value (its price risk is in the
    /// scenarios); other collateral keeps its haircuts. The requirement is, per underlying, the
    /// largest of the worst grid loss, the weighted worst tail loss and the cover floor, plus the
    /// contingency (`PortfolioRisk`); maintenance scales each underlying's part by its `mmFactorWad`.
    function _portfolioMargin(uint256 account, IOptionMarket market_) private view returns (MarginState memory state) {
        PriceCache memory cache = _newCache();
        uint256 slots = cache.spot.length;
        PortfolioBook memory book;
        book.heldTokens = new uint256[](slots);
        book.heldDecimals = new uint8[](slots);
        (state.equityIM, state.equityMM, state.markValue) = _collateralEquity(account, cache, book);
        (book.seriesIds, book.balances) = market_.positionsOf(account);
        uint256 count = book.seriesIds.length;
        book.marks = new uint256[](count);
        book.atRisk = new bool[](count);
        for (uint256 i; i < count; ++i) {
            uint256 spotWad;
            (book.marks[i], spotWad) = _markAndSpot(book.seriesIds[i], cache);
            // spotWad == 0: a posted settlement price has fixed the payoff.
            book.atRisk[i] = spotWad != 0;
            int256 value = MarginMath.positionValue(book.balances[i], book.marks[i]);
            state.equityIM += value;
            state.equityMM += value;
            state.markValue += value;
        }
        for (uint256 u = 1; u < slots; ++u) {
            uint256 requirement = _underlyingRequirement(uint16(u), book, cache);
            if (requirement == 0) continue;
            state.requirementIM += requirement;
            state.requirementMM += FixedPointMathLib.mulWadUp(requirement, _portfolio[uint16(u)].mmFactorWad);
        }
        state.health = _health(state);
    }

    /// @dev Collateral plus signed cash: equity with initial and with maintenance haircuts, and
    /// the mark-to-market value with none. For a portfolio account (a `book` with per-underlying
    /// slots), collateral in a listed underlying counts at full value in both equities and is
    /// recorded in `book` for the scenarios, which carry its price risk; every other asset keeps
    /// its haircuts.
    function _collateralEquity(
        uint256 account,
        PriceCache memory cache,
        PortfolioBook memory book
    ) private view returns (int256 equityIM, int256 equityMM, int256 markValue) {
        uint256[] memory balances;
        {
            int256 cash;
            (balances, cash) = vault.balancesOf(account);
            equityIM = CashUnits.toWadDown(cash, _cashDecimals);
        }
        equityMM = equityIM;
        markValue = equityIM;
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] == 0) continue;
            if (assets.length == 0) assets = vault.collateralAssets();
            (uint256 im, uint256 mm, uint256 value) = _collateralValue(assets[i], balances[i], cache, book);
            equityIM += int256(im);
            equityMM += int256(mm);
            markValue += int256(value);
        }
    }

    /// @dev One collateral balance: its value with initial and with maintenance haircuts, and
    /// with none. Collateral that is delisted or cannot be priced counts as zero rather than making
    /// the whole account impossible to value (finding 12): a dead feed holds no account hostage.
    function _collateralValue(
        address asset,
        uint256 amount,
        PriceCache memory cache,
        PortfolioBook memory book
    ) private view returns (uint256 im, uint256 mm, uint256 value) {
        ICollateralVault.AssetConfig memory config = vault.assetConfig(asset);
        if (config.delisted) return (0, 0, 0);
        uint16 u = _indexOf[asset];
        uint256 price = _collateralPrice(asset, u, cache);
        if (price == 0) return (0, 0, 0);
        value = MarginMath.tokenValueDown(amount, config.decimals, price);
        if (u != 0 && book.heldTokens.length != 0) {
            book.heldTokens[u] = amount;
            book.heldDecimals[u] = config.decimals;
            return (value, value, value);
        }
        im = MarginMath.applyHaircutDown(value, config.initialHaircutWad);
        mm = MarginMath.applyHaircutDown(value, config.maintenanceHaircutWad);
    }

    /// @dev The portfolio requirement of one underlying; 0 if the account has nothing at risk on it.
    function _underlyingRequirement(
        uint16 u,
        PortfolioBook memory book,
        PriceCache memory cache
    ) private view returns (uint256) {
        uint256 count;
        for (uint256 i; i < book.seriesIds.length; ++i) {
            if (book.atRisk[i] && SeriesLib.underlyingIndexOf(book.seriesIds[i]) == u) ++count;
        }
        uint256 heldTokens = book.heldTokens[u];
        if (count == 0 && heldTokens == 0) return 0;
        // A live series on `u` has filled the vol slot; with only expired series or collateral
        // the vol is never used.
        IPortfolioRisk.Book memory b = IPortfolioRisk.Book({
            spotWad: _spot(u, cache),
            volWad: cache.vol[u],
            heldTokens: heldTokens,
            heldDecimals: book.heldDecimals[u],
            seriesIds: new uint256[](count),
            balances: new int256[](count),
            marks: new uint256[](count)
        });
        count = 0;
        for (uint256 i; i < book.seriesIds.length; ++i) {
            if (!book.atRisk[i] || SeriesLib.underlyingIndexOf(book.seriesIds[i]) != u) continue;
            (b.seriesIds[count], b.balances[count], b.marks[count]) = (
                book.seriesIds[i],
                book.balances[i],
                book.marks[i]
            );
            ++count;
        }
        return portfolioRisk.requirementUp(b, _portfolio[u], _underlyings[u].params, block.timestamp);
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

    /// @dev The price of collateral `asset` (listed underlying `u`, or 0), or 0 if it cannot be
    /// priced: the oracle reverts on a stale, failing or out-of-bounds feed, never returns 0.
    function _collateralPrice(address asset, uint16 u, PriceCache memory cache) private view returns (uint256) {
        if (u != 0 && cache.spot[u] != 0) return cache.spot[u];
        try oracle.spot(asset) returns (uint256 price) {
            // An underlying's spot is read once per check, for its collateral and its series alike.
            if (u != 0) cache.spot[u] = price;
            return price;
        } catch {
            return 0;
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

    function _setPortfolioParams(uint16 index, PortfolioParams memory params) private {
        _checkPortfolioParams(params);
        PortfolioParams storage stored = _portfolio[index];
        stored.spotShocksWad = params.spotShocksWad;
        stored.volShocksWad = params.volShocksWad;
        stored.contingencyWad = params.contingencyWad;
        stored.mmFactorWad = params.mmFactorWad;
        stored.tailShocksWad = params.tailShocksWad;
        stored.tailWeightWad = params.tailWeightWad;
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
        for (uint256 j; valid && j < vols; ++j) {
            valid = p.volShocksWad[j] >= MIN_VOL_SHOCK && p.volShocksWad[j] <= MAX_VOL_SHOCK;
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
