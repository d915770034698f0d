// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {IPortfolioManager} from "../interfaces/IPortfolioManager.sol";
import {IVolSurfaceOracle} from "../interfaces/IVolSurfaceOracle.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {PortfolioMath} from "../libraries/PortfolioMath.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {MarginValuation} from "./MarginValuation.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title PortfolioManager
/// @notice Portfolio margin (`docs/portfolio-margin.md`), in its own deployed contract so the
/// engine keeps room under EIP-170. The engine deploys it in its constructor and hands it every
/// PORTFOLIO account; it reads the registry (underlyings, parameters, the market) from the engine,
/// once per underlying per check. It also holds the concentration add-on of every mode
/// (`docs/risk-model.md`, "Concentration"): its parameters and their governance live here, where
/// there is room under EIP-170, and the engine asks it for standard accounts.
contract PortfolioManager is IPortfolioManager, MarginValuation {
    /// @notice Largest κ: at the liquidity reference a short contract adds at most 25 % of spot.
    uint256 public constant MAX_CONCENTRATION_KAPPA = 0.25e18;
    /// @notice Bounds of the cap on Q / L, so the add-on per contract stays within κ × 4 × spot.
    uint256 public constant MIN_CONCENTRATION_RATIO = 0.1e18;
    uint256 public constant MAX_CONCENTRATION_RATIO = 4e18;
    /// @notice Bounds of the liquidity reference L, WAD contracts: one contract to a billion.
    uint256 public constant MIN_CONCENTRATION_LIQUIDITY = 1e18;
    uint256 public constant MAX_CONCENTRATION_LIQUIDITY = 1e27;
    /// @notice The share of the initial add-on that maintenance carries: the extra discount a
    /// large account needs at auction belongs in maintenance, the price risk of the longer
    /// liquidation only in initial margin (`docs/risk-model.md`).
    uint256 public constant CONCENTRATION_MAINTENANCE_SHARE = 0.5e18;
    /// @notice Most one `setConcentrationParams` call may raise the per-contract add-on, as a share
    /// of spot, at any gross short size Q: κ'·min(Q/L', c') ≤ κ·min(Q/L, c) + this, for every Q
    /// (review rv16c2 H1). So one call adds at most 1 % of spot of initial margin per gross short
    /// contract of the underlying, and 0.5 % of maintenance, to any account.
    uint256 public constant MAX_CONCENTRATION_ADD_ON_STEP = 0.01e18;

    /// @inheritdoc IPortfolioManager
    IMarginEngine public immutable engine;

    mapping(uint16 index => ConcentrationParams) private _concentration;

    /// @dev A portfolio account as its requirement needs it: positions with their marks, and per
    /// underlying index the collateral held in that underlying, native units and decimals.
    /// `underlyingAtRisk[i]`: the underlying index of position i if a price can still move it, 0 if
    /// not (a settled series; no underlying has index 0). `marks`, `vols` and `underlyingAtRisk`
    /// have the book's length (`seriesIds`'); `balances`, the market's, at least that
    /// (`accountMarginFor` reads each of its first entries checked).
    struct PortfolioBook {
        SeriesId[] seriesIds;
        int256[] balances;
        uint256[] marks;
        uint256[] vols;
        uint256[] underlyingAtRisk;
        uint256[] heldTokens;
        uint8[] heldDecimals;
    }

    /// @dev One underlying's book: its spot, collateral held in the underlying itself, and the
    /// positions on it that a price can still move, each with its mark and the vol that mark used
    /// (the scenarios shock each leg's own vol).
    struct Book {
        uint256 spotWad;
        uint256 heldTokens;
        uint8 heldDecimals;
        SeriesId[] seriesIds;
        int256[] balances;
        uint256[] marks;
        uint256[] vols;
    }

    /// @dev Deployed by the margin engine's constructor: the deployer is the engine.
    constructor(ICollateralVault vault_, IPledgeOracle oracle_) MarginValuation(vault_, oracle_) {
        engine = IMarginEngine(msg.sender);
    }

    /// @inheritdoc IPortfolioManager
    function accountMargin(AccountId account) external view returns (IMarginEngine.MarginState memory) {
        return accountMarginFor(account, false);
    }

    /// @inheritdoc IPortfolioManager
    function accountMarginFor(
        AccountId account,
        bool newRisk
    ) public view returns (IMarginEngine.MarginState memory state) {
        PriceCache memory cache = _newCache();
        uint256 slots = cache.spot.length;
        PortfolioBook memory book;
        book.heldTokens = new uint256[](slots);
        book.heldDecimals = new uint8[](slots);
        {
            (int256 cashWad, Holding[] memory holdings) = _holdings(account, cache);
            (state.equityIM, state.equityMM, state.markValue) = (cashWad, cashWad, cashWad);
            for (uint256 i; i < holdings.length; ++i) {
                Holding memory h = holdings[i];
                int256 value = int256(h.valueWad);
                state.markValue += value;
                // Collateral in a listed underlying counts at full value: the scenarios carry its
                // price risk. Every other asset keeps its haircuts.
                if (h.underlyingIndex != 0) {
                    book.heldTokens[h.underlyingIndex] = h.tokens;
                    book.heldDecimals[h.underlyingIndex] = h.config.decimals;
                    state.equityIM += value;
                    state.equityMM += value;
                    continue;
                }
                (int256 im, int256 mm) = _haircutValues(h);
                state.equityIM += im;
                state.equityMM += mm;
            }
        }
        (book.seriesIds, book.balances) = engine.market().positionsOf(account);
        uint256 count = book.seriesIds.length;
        book.marks = new uint256[](count);
        book.vols = new uint256[](count);
        book.underlyingAtRisk = new uint256[](count);
        uint256 addOn;
        for (uint256 i; i < count; ++i) {
            // Read checked, once each: the market's two arrays are not assumed to have one length,
            // and `_copyPositions` relies on this read of `balances[i]` to copy it unchecked. The
            // three written below were allocated with `count` words.
            SeriesId id = book.seriesIds[i];
            int256 balance = book.balances[i];
            IMarginEngine.MarkResult memory m = _markOf(id, cache, balance > 0);
            _setAt(book.marks, i, m.markWad);
            _setAt(book.vols, i, m.volWad);
            if (!m.settled) _setAt(book.underlyingAtRisk, i, SeriesLib.underlyingIndexOf(id));
            int256 value = MarginMath.positionValue(balance, m.markWad);
            state.equityIM += value;
            state.equityMM += value;
            state.markValue += value;
            // The confidence add-on of the shorts (0 off the surface), as in standard margin.
            addOn += MarginMath.positionRequirementUp(balance, m.addOnWad);
        }
        if (newRisk) _requireUsableSurface(cache);
        (state.requirementIM, state.requirementMM) = _requirementsUp(book, cache);
        state.requirementIM += addOn;
        state.requirementMM += addOn;
        state.health = _health(state);
    }

    // ---------------------------------------------------------------- concentration

    /// @inheritdoc IPortfolioManager
    function setConcentrationParams(uint16 index, ConcentrationParams calldata params) external {
        if (!IAccessControl(address(engine)).hasRole(Roles.RISK_MANAGER_ROLE, msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, Roles.RISK_MANAGER_ROLE);
        }
        // The engine refuses an unlisted index (`EngineUnderlyingNotListed`) as it records whether
        // the add-on is on, which lets a standard check skip this manager when no short's
        // underlying has one; a refusal below reverts the record with the rest.
        engine.setConcentrationFlag(index, params.kappaWad != 0);
        if (
            params.kappaWad > MAX_CONCENTRATION_KAPPA ||
            params.maxRatioWad < MIN_CONCENTRATION_RATIO ||
            params.maxRatioWad > MAX_CONCENTRATION_RATIO ||
            params.liquidityWad < MIN_CONCENTRATION_LIQUIDITY ||
            params.liquidityWad > MAX_CONCENTRATION_LIQUIDITY
        ) revert PortfolioInvalidConcentrationParams(index, params);
        // A raise is bounded per call in absolute terms: at no size Q does the per-contract add-on
        // rise by more than `MAX_CONCENTRATION_ADD_ON_STEP` of spot. This bounds what one call adds
        // to any account's requirement (1 % of spot IM, 0.5 % MM, per gross short contract); an
        // account with less maintenance headroom than that can become liquidatable. Lowering, and
        // turning the add-on off, are free; several calls in a row each take a step.
        ConcentrationParams memory current = _concentration[index];
        if (_addOnRise(current, params) > MAX_CONCENTRATION_ADD_ON_STEP) {
            revert PortfolioConcentrationStepTooLarge(index, current, params);
        }
        _concentration[index] = params;
        emit ConcentrationParamsSet(index, params);
    }

    /// @dev The largest rise, over every gross short size Q, of the per-contract add-on as a share
    /// of spot, a(Q) = κ·min(Q/L, c), from `o` to `n` (rounded against the raise). Both are
    /// piecewise linear with one kink (at Q = L·c), and a(0) = 0, so the rise a_n − a_o is largest
    /// at one of the two kinks: Q = L_n·c_n or Q = L_o·c_o.
    function _addOnRise(ConcentrationParams memory o, ConcentrationParams calldata n) private pure returns (uint256) {
        if (n.kappaWad == 0) return 0;
        uint256 top = FixedPointMathLib.mulWadUp(n.kappaWad, n.maxRatioWad);
        if (o.kappaWad == 0) return top;
        uint256 oldAtNewKink = FixedPointMathLib.mulWad(
            o.kappaWad,
            FixedPointMathLib.min(
                FixedPointMathLib.mulDiv(n.liquidityWad, n.maxRatioWad, o.liquidityWad),
                o.maxRatioWad
            )
        );
        uint256 newAtOldKink = FixedPointMathLib.mulWadUp(
            n.kappaWad,
            FixedPointMathLib.min(
                FixedPointMathLib.mulDivUp(o.liquidityWad, o.maxRatioWad, n.liquidityWad),
                n.maxRatioWad
            )
        );
        return
            FixedPointMathLib.max(
                FixedPointMathLib.zeroFloorSub(top, oldAtNewKink),
                FixedPointMathLib.zeroFloorSub(newAtOldKink, FixedPointMathLib.mulWad(o.kappaWad, o.maxRatioWad))
            );
    }

    /// @inheritdoc IPortfolioManager
    function concentrationParams(uint16 index) external view returns (ConcentrationParams memory) {
        return _concentration[index];
    }

    /// @inheritdoc IPortfolioManager
    function concentrationAddOnUp(
        uint256[] memory shortsWad,
        uint256[] memory spotsWad
    ) public view returns (uint256 initialWad, uint256 maintenanceWad) {
        for (uint256 u = 1; u < shortsWad.length; ++u) {
            if (shortsWad[u] == 0) continue;
            ConcentrationParams memory p = _concentration[uint16(u)];
            initialWad += MarginMath.concentrationAddOnUp(
                shortsWad[u],
                spotsWad[u],
                p.kappaWad,
                p.liquidityWad,
                p.maxRatioWad
            );
        }
        maintenanceWad = FixedPointMathLib.mulWadUp(initialWad, CONCENTRATION_MAINTENANCE_SHARE);
    }

    // ---------------------------------------------------------------- registry

    function _underlyingCount() internal view override returns (uint256) {
        return engine.underlyingCount();
    }

    function _readAsset(uint16 index) internal view override returns (address) {
        return engine.underlying(index).asset;
    }

    function _readListedIndex(address asset) internal view override returns (uint16) {
        return engine.listedIndexOf(asset);
    }

    function _readSurfaceParams(uint16 index) internal view override returns (IVolSurfaceOracle, uint256, uint256) {
        return engine.surfaceParams(index);
    }

    /// @dev A long's scenarios offset the shorts' losses: a FALLBACK long refuses new risk too.
    function _fallbackLongsCount() internal pure override returns (bool) {
        return true;
    }

    // ---------------------------------------------------------------- requirement

    /// @dev Σ over underlyings of each one's requirement, plus the concentration add-on of the
    /// book's gross shorts (counted per underlying on the way).
    function _requirementsUp(
        PortfolioBook memory book,
        PriceCache memory cache
    ) private view returns (uint256 requirementIM, uint256 requirementMM) {
        uint256[] memory shorts = new uint256[](cache.spot.length);
        for (uint256 u = 1; u < shorts.length; ++u) {
            (uint256 im, uint256 mm, uint256 q) = _underlyingRequirementUp(uint16(u), book, cache);
            requirementIM += im;
            requirementMM += mm;
            shorts[u] = q;
        }
        (uint256 addOnIM, uint256 addOnMM) = concentrationAddOnUp(shorts, cache.spot);
        requirementIM += addOnIM;
        requirementMM += addOnMM;
    }

    /// @dev The initial and maintenance requirement of one underlying, rounded up; 0 if the
    /// account has nothing at risk on it: `max(worst grid loss, tailWeight × worst tail loss,
    /// cover floor) + contingency`, and maintenance its `mmFactorWad` share. Also the gross short
    /// contracts of its unsettled series, for the concentration add-on.
    function _underlyingRequirementUp(
        uint16 u,
        PortfolioBook memory book,
        PriceCache memory cache
    ) private view returns (uint256 requirementIM, uint256 requirementMM, uint256 shorts) {
        uint256 count;
        {
            uint256[] memory at = book.underlyingAtRisk;
            for (uint256 i; i < at.length; ++i) {
                if (_at(at, i) == u) ++count;
            }
        }
        uint256 heldTokens = book.heldTokens[u];
        if (count == 0 && heldTokens == 0) return (0, 0, 0);
        Book memory b = Book({
            spotWad: _spot(u, cache),
            heldTokens: heldTokens,
            heldDecimals: book.heldDecimals[u],
            seriesIds: new SeriesId[](count),
            balances: new int256[](count),
            marks: new uint256[](count),
            vols: new uint256[](count)
        });
        _copyPositions(book, u, b);
        IMarginEngine.PortfolioParams memory params = engine.portfolioParams(u);
        uint256 floor;
        (floor, shorts) = _coverFloorUp(b, engine.underlying(u).params);
        requirementIM = _scenarioLossUp(b, params, floor);
        requirementIM += PortfolioMath.contingencyUp(shorts, b.spotWad, params.contingencyWad);
        requirementMM = FixedPointMathLib.mulWadUp(requirementIM, params.mmFactorWad);
    }

    /// @dev The positions of `book` at risk on underlying `u` (id, balance, mark and vol), in
    /// position order, into `b`'s arrays, without bounds checks: each position array of `book` has
    /// at least the book's length (`balances` because `accountMarginFor` read `balances[i]` checked
    /// for every position: keep that read checked), and `b`'s were allocated with one word for each
    /// position at risk on `u`, counted by the same test (`_underlyingRequirementUp`). The four
    /// arrays of each struct are its first four fields in the same order, `Book`'s after its three
    /// words.
    function _copyPositions(PortfolioBook memory book, uint16 u, Book memory b) private pure {
        uint256[] memory at = book.underlyingAtRisk;
        uint256 to;
        for (uint256 i; i < at.length; ++i) {
            if (_at(at, i) != u) continue;
            assembly ("memory-safe") {
                to := add(to, 0x20)
                let from := shl(5, add(i, 1))
                for {
                    let f := 0
                } lt(f, 0x80) {
                    f := add(f, 0x20)
                } {
                    mstore(add(mload(add(add(b, 0x60), f)), to), mload(add(mload(add(book, f)), from)))
                }
            }
        }
    }

    /// @dev The largest of the worst grid loss, the weighted worst tail loss and `floor` (the cover
    /// floor); the grid has only the vol columns the book needs priced
    /// (`PortfolioMath.columnsToPrice`), and a position is priced in its columns other than its
    /// bound column only in the rows that could hold a larger loss (`PortfolioMath.startStages`,
    /// `pruneRows`).
    function _scenarioLossUp(
        Book memory book,
        IMarginEngine.PortfolioParams memory params,
        uint256 floor
    ) private view returns (uint256 loss) {
        // `params` is this check's copy: its vol columns shrink to those the book needs priced.
        PortfolioMath.columnsToPrice(book.balances, params.volShocksWad, params.skewShocksWad);
        PortfolioMath.Grid memory grid = PortfolioMath.newGrid(
            book.spotWad,
            params.spotShocksWad,
            params.volShocksWad,
            params.tailShocksWad,
            params.skewShocksWad
        );
        PortfolioMath.startStages(grid);
        if (book.heldTokens != 0) PortfolioMath.addCollateral(grid, book.heldTokens, book.heldDecimals);
        // One pass, or two when the grid is staged and a row is left to price after stage 1 (one
        // loop rather than a second call site: the compiler would inline the cell loop twice).
        while (true) {
            _addBook(book, grid);
            uint256 tail = FixedPointMathLib.mulWadUp(PortfolioMath.worstTailLoss(grid), params.tailWeightWad);
            if (tail > floor) floor = tail;
            if (grid.stage != 1 || !PortfolioMath.pruneRows(grid, floor)) break;
        }
        loss = PortfolioMath.worstLoss(grid);
        if (floor > loss) loss = floor;
    }

    /// @dev Adds every position of `book` to `grid` (at its current stage).
    function _addBook(Book memory book, PortfolioMath.Grid memory grid) private view {
        for (uint256 i; i < book.seriesIds.length; ++i) {
            // The book's four position arrays have one length (`_underlyingRequirementUp`
            // allocates them with `count` words): read without bounds checks, at `Book`'s word
            // offsets (as `_copyPositions`: seriesIds 0x60, balances 0x80, marks 0xa0, vols 0xc0).
            SeriesId id;
            int256 contracts;
            uint256 mark;
            uint256 vol;
            assembly ("memory-safe") {
                let at := shl(5, add(i, 1))
                id := mload(add(mload(add(book, 0x60)), at))
                contracts := mload(add(mload(add(book, 0x80)), at))
                mark := mload(add(mload(add(book, 0xa0)), at))
                vol := mload(add(mload(add(book, 0xc0)), at))
            }
            PortfolioMath.addPosition(grid, id, contracts, mark, vol, block.timestamp);
        }
    }

    /// @dev The cover floor (standard requirement per short at spot, initial parameters) and the
    /// number of short contracts.
    function _coverFloorUp(
        Book memory book,
        IMarginEngine.RiskParams memory standard
    ) private pure returns (uint256 floor, uint256 shorts) {
        uint256 count = book.seriesIds.length;
        uint256[] memory perContract = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            int256 balance = book.balances[i];
            if (balance >= 0) continue;
            SeriesId id = book.seriesIds[i];
            shorts += uint256(-balance);
            perContract[i] = MarginMath.shortRequirementUp(
                SeriesLib.isCallOf(id),
                book.spotWad,
                SeriesLib.strikeOf(id),
                standard.aIM,
                standard.bIM
            );
        }
        floor = PortfolioMath.coverFloorUp(
            book.seriesIds,
            book.balances,
            perContract,
            PortfolioMath.tokensToWad(book.heldTokens, book.heldDecimals)
        );
    }
}
