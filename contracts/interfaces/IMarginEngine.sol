// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOptionMarket} from "./IOptionMarket.sol";
import {IPledgeOracle} from "./IPledgeOracle.sol";
import {IPortfolioManager} from "./IPortfolioManager.sol";
import {IRiskCheck} from "./IRiskCheck.sol";
import {IVolSurfaceOracle} from "./IVolSurfaceOracle.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title IMarginEngine
/// @notice Values accounts and enforces initial (IM) and maintenance (MM) margin.
/// Equity = Σ collateral × price × (1 − haircut) + signed cash + Σ position × mark,
/// computed once with initial and once with maintenance haircuts. All values WAD USD.
/// Each account has a margin mode; the engine values CROSS and ISOLATED accounts itself (the
/// standard manager) and hands PORTFOLIO accounts to its portfolio manager.
interface IMarginEngine is IRiskCheck {
    /// @notice How an account is margined. Fixed while the account holds a position.
    /// CROSS: standard margin over up to `MAX_CROSS_POSITIONS` series. ISOLATED: standard margin,
    /// one series. PORTFOLIO: scenario margin (`docs/portfolio-margin.md`) over up to
    /// `portfolioPositionCap` series.
    enum MarginMode {
        CROSS,
        ISOLATED,
        PORTFOLIO
    }

    /// @notice Where an account stands.
    /// HEALTHY: equityIM ≥ requirementIM. MARGIN_CALL: below IM but equityMM ≥ requirementMM
    /// (no new risk, no withdrawals). LIQUIDATABLE: below MM. INSOLVENT: equityMM < 0.
    enum Health {
        HEALTHY,
        MARGIN_CALL,
        LIQUIDATABLE,
        INSOLVENT
    }

    /// @notice One account's margin, as the contracts and the SDK compute it.
    /// @param markValue Mark-to-market value with no haircuts (what an auction prices).
    struct MarginState {
        int256 equityIM;
        int256 equityMM;
        uint256 requirementIM;
        uint256 requirementMM;
        Health health;
        int256 markValue;
    }

    /// @notice Standard margin parameters of one underlying (all WAD).
    /// Short call per contract: max(a·S − OTM, b·S); short put: max(a·S − OTM, b·K).
    struct RiskParams {
        uint64 aIM;
        uint64 bIM;
        uint64 aMM;
        uint64 bMM;
    }

    /// @notice Portfolio-margin parameters of one underlying (`docs/portfolio-margin.md`).
    /// Each scenario moves spot by `spotShocksWad[i]` (a signed fraction: −0.18e18 is −18 %) and
    /// multiplies implied vol by `volShocksWad[j]` (1e18 is flat); every position on the
    /// underlying, and collateral in the underlying itself, is revalued in every scenario.
    /// @param spotShocksWad Strictly ascending, within ±50 %, from at most −5 % to at least +5 %.
    /// @param volShocksWad Vol multipliers within [0.25, 4]; at most `MAX_SCENARIOS` scenarios in all.
    /// @param contingencyWad Charge per short contract as a share of spot, so no book is free.
    /// @param mmFactorWad Maintenance requirement as a share of the initial one.
    /// @param tailShocksWad Tail spot shocks beyond the grid (SPAN's extreme moves), revalued at
    /// unshocked vol: 2 to `MAX_TAIL_SHOCKS`, strictly ascending, within ±50 %, at least one each way.
    /// @param tailWeightWad Share of the worst tail loss the requirement must cover, in [0.1, 1].
    /// @param skewShocksWad Put-wing steepening of each vol column (one per vol shock, 0 = none):
    /// in column j a live leg of strike K is repriced at `σ·volShocksWad[j] + skewShocksWad[j] ×
    /// max(0, ln(S/K))` (vol per unit of log-moneyness below spot, calls and puts alike), the
    /// skew's part capped so it never lifts a leg above `PortfolioMath.MAX_SKEWED_VOL`. Each within
    /// [0, `MAX_SKEW_SHOCK`].
    struct PortfolioParams {
        int64[] spotShocksWad;
        uint64[] volShocksWad;
        uint64 contingencyWad;
        uint64 mmFactorWad;
        int64[] tailShocksWad;
        uint64 tailWeightWad;
        uint64[] skewShocksWad;
    }

    /// @notice The mark of one contract of a series, and how it was reached.
    /// @param markWad The mark, WAD USD: Black–Scholes before expiry, intrinsic value after.
    /// @param spotWad The spot the mark and any requirement use; 0 when `settled`.
    /// @param settled Whether a posted settlement price has fixed the payoff: the mark carries all
    /// of it, no price can move it and nothing further is required.
    /// @param volWad The vol the mark of a live series uses (0 at or after expiry): the surface's
    /// when FRESH, else the flat vol feed or the FALLBACK vol (`docs/vol-surface.md`).
    /// @param addOnWad The confidence add-on one short contract adds to each requirement, rounded
    /// up: `spot × confidenceAddOn × (1 − confidence)` on a surface underlying, else 0.
    struct MarkResult {
        uint256 markWad;
        uint256 spotWad;
        bool settled;
        uint256 volWad;
        uint256 addOnWad;
    }

    /// @notice A registered underlying.
    struct Underlying {
        address asset;
        RiskParams params;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The account is below initial margin.
    error EngineBelowInitialMargin(AccountId account, int256 equityIM, uint256 requirementIM);
    /// @notice The asset is already a registered underlying.
    error EngineUnderlyingAlreadyListed(address asset);
    /// @notice No underlying is registered for this asset or index.
    error EngineUnderlyingNotListed(address asset);
    /// @notice The underlying registry is full.
    error EngineTooManyUnderlyings(uint256 max);
    /// @notice Risk parameters outside the hard bounds (or MM above IM).
    error EngineInvalidRiskParams(RiskParams params);
    /// @notice Portfolio parameters outside the hard bounds (or not one skew shock per vol shock).
    error EngineInvalidPortfolioParams(PortfolioParams params);
    /// @notice The put-wing skew shock of vol column `column` is above `MAX_SKEW_SHOCK`.
    error EngineSkewShockTooLarge(uint256 column, uint256 skewWad);
    /// @notice A zero address was given.
    error EngineZeroAddress();
    /// @notice The creation code given for the portfolio manager deployed nothing, or a contract
    /// whose `engine()` is not this engine.
    error EngineInvalidManagerCode();
    /// @notice The option market is set already.
    error EngineMarketAlreadySet();
    /// @notice The option market is not set yet.
    error EngineMarketNotSet();
    /// @notice `caller` is neither the owner of `account` nor an operator it approved in the vault.
    error EngineUnauthorized(AccountId account, address caller);
    /// @notice The margin mode of an account that holds positions cannot change.
    error EngineModeLocked(AccountId account);
    /// @notice A portfolio position cap outside [1, MAX_PORTFOLIO_POSITIONS].
    error EngineInvalidPositionCap(uint256 cap);
    /// @notice A check for new risk (an IM check, a withdrawal) involves a live series of
    /// (`underlying`, `expiry`) whose vol surface is FALLBACK (missing, immature or stale), held
    /// short in standard margin or either way in PORTFOLIO margin: it fails closed, as without a
    /// valid price (`docs/vol-surface.md`, "Marks and margin").
    error EngineVolSurfaceUnusable(address underlying, uint256 expiry);
    /// @notice A surface max age outside [`MIN_SURFACE_MAX_AGE`, `MAX_SURFACE_MAX_AGE`].
    error EngineInvalidSurfaceMaxAge(uint256 maxAge);
    /// @notice A confidence add-on above `MAX_CONFIDENCE_ADD_ON`.
    error EngineInvalidConfidenceAddOn(uint16 index, uint256 addOnWad);
    /// @notice One call raises the confidence add-on of `index` by more than
    /// `MAX_CONFIDENCE_ADD_ON_STEP` of spot.
    error EngineConfidenceAddOnStepTooLarge(uint16 index, uint256 current, uint256 requested);
    /// @notice Only the engine's portfolio manager may set an underlying's concentration flag.
    error EngineCallerNotPortfolioManager(address caller);
    /// @notice Prices (`accountMarginAt`) that are neither empty nor `expected` entries: a spot
    /// and a flat vol for each index up to the underlying count.
    error EnginePricesMismatch(uint256 length, uint256 expected);

    // ---------------------------------------------------------------- events

    /// @notice An underlying was registered under `index`.
    event UnderlyingListed(uint16 indexed index, address indexed asset, RiskParams params);
    /// @notice An underlying's risk parameters changed.
    event RiskParamsSet(uint16 indexed index, RiskParams params);
    /// @notice An underlying's portfolio-margin parameters changed (also at listing).
    event PortfolioParamsSet(uint16 indexed index, PortfolioParams params);
    /// @notice The option market was wired in.
    event MarketSet(address market);
    /// @notice An account's margin mode changed.
    event MarginModeSet(AccountId indexed account, MarginMode mode);
    /// @notice The most open series a PORTFOLIO account may hold changed.
    event PortfolioPositionCapSet(uint256 cap);
    /// @notice The vol-surface oracle the marks read changed (zero: none, every series marks at
    /// the flat vol feed).
    event VolSurfaceSet(IVolSurfaceOracle surface);
    /// @notice The largest age of a FRESH surface changed.
    event SurfaceMaxAgeSet(uint256 maxAge);
    /// @notice An underlying's confidence add-on changed.
    event ConfidenceAddOnSet(uint16 indexed index, uint256 addOnWad);

    // ---------------------------------------------------------------- governance

    /// @notice Registers `asset` as an option underlying (admin). Its portfolio parameters start
    /// at the defaults of `defaultPortfolioParams`.
    function listUnderlying(address asset, RiskParams calldata params) external returns (uint16 index);

    /// @notice Changes an underlying's parameters within the hard bounds (risk manager).
    function setRiskParams(uint16 index, RiskParams calldata params) external;

    /// @notice Changes an underlying's portfolio-margin parameters within the hard bounds (risk manager).
    function setPortfolioParams(uint16 index, PortfolioParams calldata params) external;

    /// @notice Wires in the option market whose positions the engine values (admin, once).
    function setMarket(address market) external;

    /// @notice Sets the margin mode of `account` (its owner or an operator it approved in the
    /// vault). Refused with `EngineModeLocked` while the account holds any position, and with
    /// `EngineMarketNotSet` before the market is wired in. An account with a cash debt must meet
    /// initial margin in its new mode (`EngineBelowInitialMargin`, or the oracle's error without a
    /// price), so no switch puts an account into liquidation; one without debt needs no price.
    function setMarginMode(AccountId account, MarginMode mode) external;

    /// @notice Sets the most open series a PORTFOLIO account may hold (risk manager), within
    /// [1, MAX_PORTFOLIO_POSITIONS]. Lowering it never touches positions already open; it only
    /// stops accounts at or above it from opening more.
    function setPortfolioPositionCap(uint256 cap) external;

    /// @notice Sets the vol-surface oracle the marks read (admin); zero turns the surface
    /// off: every series marks at the flat vol feed. A surface applies to the underlyings the
    /// oracle lists (`docs/vol-surface.md`, "Marks and margin").
    function setVolSurface(IVolSurfaceOracle surface) external;

    /// @notice Sets the largest age of a FRESH surface (risk manager), within
    /// [`MIN_SURFACE_MAX_AGE`, `MAX_SURFACE_MAX_AGE`] (`EngineInvalidSurfaceMaxAge`).
    function setSurfaceMaxAge(uint256 maxAge) external;

    /// @notice Sets the confidence add-on of listed underlying `index` (risk manager): each short
    /// contract of a live series on a surface underlying adds `spot × addOnWad × (1 − confidence)`
    /// to both requirements. At most `MAX_CONFIDENCE_ADD_ON` (`EngineInvalidConfidenceAddOn`); a
    /// raise at most `MAX_CONFIDENCE_ADD_ON_STEP` per call (`EngineConfidenceAddOnStepTooLarge`);
    /// lowering is free.
    function setConfidenceAddOn(uint16 index, uint256 addOnWad) external;

    /// @notice Records whether underlying `index` has a concentration add-on (κ > 0), so a
    /// standard check asks the portfolio manager for the add-on only when a short of its book is
    /// on such an underlying (the answer is 0 otherwise). Called by the portfolio manager alone
    /// (`EngineCallerNotPortfolioManager`), from `IPortfolioManager.setConcentrationParams`.
    function setConcentrationFlag(uint16 index, bool on) external;

    /// @notice The IM check of an auction bidder (the liquidator): as `checkInitialMargin`, but a
    /// live series whose surface is FALLBACK counts at its FALLBACK mark and full add-on instead of
    /// reverting `EngineVolSurfaceUnusable`, so auctions proceed while the surface is down.
    function checkAuctionMargin(AccountId account) external view;

    /// @notice `checkAuctionMargin` at `prices` (`accountMarginAt`'s): the liquidator checks a
    /// bidder with the prices its bid's first valuation read. A pure function of the prices given,
    /// so only a caller that passes prices the engine returned in the same transaction, with no
    /// feed written since, gets the check at the feeds. Never a risk check on prices from anyone
    /// else: it passes whatever the prices say.
    function checkAuctionMarginAt(AccountId account, uint256[] calldata prices) external view;

    // ---------------------------------------------------------------- views

    /// @notice The vol-surface oracle the marks read (zero: none).
    function volSurface() external view returns (IVolSurfaceOracle);

    /// @notice The largest age, in seconds, of a FRESH surface.
    function surfaceMaxAge() external view returns (uint32);

    /// @notice Bit `index` is set when underlying `index` has a concentration add-on (κ > 0 in
    /// `IPortfolioManager.concentrationParams(index)`): `setConcentrationFlag`.
    function concentrationFlags() external view returns (uint64);

    /// @notice What a check needs of the surface for underlying `index`: the oracle (zero: none),
    /// the largest age of a FRESH surface and the underlying's confidence add-on (WAD).
    function surfaceParams(
        uint16 index
    ) external view returns (IVolSurfaceOracle surface, uint256 maxAge, uint256 addOnWad);

    /// @notice The margin state of `account`. Reverts if a price a position needs is invalid;
    /// collateral that is delisted or whose price is invalid counts as zero instead.
    function accountMargin(AccountId account) external view returns (MarginState memory);

    /// @notice `accountMargin` and the prices it read, by listed-underlying index: with
    /// `n = underlyingCount() + 1`, entry `i < n` is the spot of underlying `i` and entry `n + i`
    /// its flat vol feed, WAD, 0 where the valuation read none (index 0 is never listed). Empty
    /// for a PORTFOLIO account, whose manager keeps its own. The liquidator passes them back to
    /// `accountMarginAt` and `checkAuctionMarginAt` later in the same bid, where no feed can have
    /// moved (docs/liquidation.md, "One set of prices a bid").
    function accountMarginAndPrices(
        AccountId account
    ) external view returns (MarginState memory state, uint256[] memory prices);

    /// @notice `accountMargin` with each nonzero entry of `prices` (laid out as
    /// `accountMarginAndPrices` returns them) taken as that underlying's spot or flat vol instead of
    /// reading its feed: empty prices read every feed, as `accountMargin`, and a PORTFOLIO account
    /// ignores them. Reverts `EnginePricesMismatch` unless `prices` is empty or holds
    /// `2 × (underlyingCount() + 1)` entries. The result is a pure function of the prices given:
    /// it equals `accountMargin` only when they are the feeds' (`checkAuctionMarginAt`).
    function accountMarginAt(AccountId account, uint256[] calldata prices) external view returns (MarginState memory);

    /// @notice The margin states of many accounts in one call (keepers, SDK).
    function accountsMargin(AccountId[] calldata accounts) external view returns (MarginState[] memory);

    /// @notice `equityIM − requirementIM` of `account`.
    function excessInitial(AccountId account) external view returns (int256);

    /// @notice Both excesses of `account` from one valuation: over initial and over
    /// maintenance margin. The market's gate compares them before and after an action.
    function excesses(AccountId account) external view returns (int256 initialExcess, int256 maintenanceExcess);

    /// @notice Reverts with `EngineBelowInitialMargin` unless `account` is at or above IM, and with
    /// `EngineVolSurfaceUnusable` if it holds a live series whose surface is FALLBACK (in standard
    /// margin a short one: standard initial margin counts longs at zero).
    function checkInitialMargin(AccountId account) external view;

    /// @notice `checkInitialMargin` of `first`, then of `second`, at one set of prices read once:
    /// the same reverts, in that order. The market checks both sides of a fill with it.
    function checkInitialMargins(AccountId first, AccountId second) external view;

    /// @notice The mark of one contract of `seriesId`, WAD USD. On a FALLBACK surface it is the
    /// short side's (the larger of the last mature posted vol and the vol feed): an account's own
    /// long positions are valued at the smaller (docs/vol-surface.md, "Marks and margin").
    function mark(SeriesId seriesId) external view returns (uint256 markWad);

    /// @notice The margin mode of `account` (CROSS until set).
    function marginModeOf(AccountId account) external view returns (MarginMode);

    /// @notice The most open series a PORTFOLIO account may hold (see `docs/portfolio-margin.md`).
    function portfolioPositionCap() external view returns (uint256);

    /// @notice The most open series `account` may hold under its mode: 1 when ISOLATED,
    /// `MAX_CROSS_POSITIONS` when CROSS, `portfolioPositionCap` when PORTFOLIO. The market asks it
    /// whenever the account opens a position, and a liquidation slice once, before it moves anything,
    /// for every position it opens: so it must depend on the engine's state alone (mode and cap),
    /// never on positions.
    function positionLimitOf(AccountId account) external view returns (uint256);

    /// @notice The portfolio-margin parameters of the underlying at `index`.
    function portfolioParams(uint16 index) external view returns (PortfolioParams memory);

    /// @notice The parameters every underlying starts with: spot ±18 % in 9 steps × vol
    /// +50 % / flat / −30 %, the +50 % (crash) column with a put-wing skew of 1 (one vol point per
    /// 1 % of log-moneyness below spot), a 0.5 % contingency per short contract, mmFactor 0.8, and
    /// tail shocks ±33 % and ±50 % at flat vol weighted 35 %.
    function defaultPortfolioParams() external pure returns (PortfolioParams memory);

    /// @notice The registered underlying at `index`.
    function underlying(uint16 index) external view returns (Underlying memory);

    /// @notice The index of the underlying `asset`; reverts if not listed.
    function underlyingIndexOf(address asset) external view returns (uint16);

    /// @notice The index of the underlying `asset`, or 0 if it is not listed.
    function listedIndexOf(address asset) external view returns (uint16);

    /// @notice The contract that values PORTFOLIO accounts (deployed by the engine's constructor).
    function portfolioManager() external view returns (IPortfolioManager);

    /// @notice The option market whose positions are valued (zero until `setMarket`).
    function market() external view returns (IOptionMarket);

    /// @notice The oracle every price comes from.
    function oracle() external view returns (IPledgeOracle);

    /// @notice How many underlyings are registered (indices are 1..count).
    function underlyingCount() external view returns (uint16);
}
