// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {BlackScholes} from "./BlackScholes.sol";
import {MarginMath} from "./MarginMath.sol";
import {SeriesLib} from "./SeriesLib.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title PortfolioMath
/// @notice The scenario arithmetic of portfolio margin (`docs/portfolio-margin.md`): one
/// underlying's positions, and collateral in the underlying itself, revalued on a grid of
/// spot × surface shocks (each vol column a parallel vol multiplier and a put-wing steepening)
/// and on a few tail spot shocks beyond it (at unshocked vol); the
/// requirement is the largest of the worst grid loss, the weighted worst tail loss and the
/// standard requirement of what no long really covers, plus a contingency per short contract.
/// Everything is linear in the size of the book (up to rounding), so a slice of an account
/// needs that slice of its requirement. The SDK (`packages/sdk/src/math/portfolioMath.ts`)
/// mirrors this file.
library PortfolioMath {
    uint256 internal constant WAD = 1e18;
    /// @notice The put-wing skew shock never lifts a leg's vol above 300 %: it bounds what a long
    /// far in the put wing can gain in a skewed column (`docs/portfolio-margin.md`, "Skew").
    uint256 internal constant MAX_SKEWED_VOL = 3e18;

    /// @notice One underlying's scenarios at the current spot.
    /// @param pnl Σ (value in the scenario − value now) over everything added, scenario
    /// `i × volShocks + j` for spot shock i and vol shock j.
    /// @param tailPnl The same for tail spot shock k, at unshocked vol.
    struct Grid {
        uint256 spotWad;
        uint256[] shockedSpots;
        int256[] lnShifts;
        uint64[] volShocksWad;
        /// @dev Put-wing skew of each vol column: vol per unit of max(0, ln(S/K)).
        uint64[] skewShocksWad;
        int256[] pnl;
        /// @dev Index of the zero spot shock, or type(uint256).max if the grid has none.
        uint256 centre;
        uint256[] tailSpots;
        int256[] tailShifts;
        int256[] tailPnl;
        /// @dev Staged pricing (`startStages`, "Pruning rows" in docs/portfolio-margin.md): 0
        /// prices every column; 1 prices each live position in its bound column alone (`lo` for a
        /// long, `hi` otherwise), its change there going to `bound`, and the tails; 2 prices each
        /// live position in its other columns, in the rows whose bit in `pruned` is clear.
        uint256 stage;
        uint256 lo;
        uint256 hi;
        uint256 pruned;
        /// @dev Stage 1 adds the longs' changes in `lo` to the first half (a word per spot row),
        /// the others' in `hi` to the second, instead of to `pnl`; `pruneRows` sums each row's
        /// bound from them (what no cell of the row can be below, up to the prices' error) and adds
        /// them back to `pnl` in the rows it leaves.
        int256[] bound;
    }

    /// @notice A grid at `spotWad`: shocked spots round down, ln(1 + shock) once each.
    /// `skewShocksWad` has one entry per vol shock (the engine checks it).
    function newGrid(
        uint256 spotWad,
        int64[] memory spotShocksWad,
        uint64[] memory volShocksWad,
        int64[] memory tailShocksWad,
        uint64[] memory skewShocksWad
    ) internal pure returns (Grid memory grid) {
        uint256 spots = spotShocksWad.length;
        grid.spotWad = spotWad;
        grid.volShocksWad = volShocksWad;
        grid.skewShocksWad = skewShocksWad;
        (grid.shockedSpots, grid.lnShifts) = _shock(spotWad, spotShocksWad);
        (grid.tailSpots, grid.tailShifts) = _shock(spotWad, tailShocksWad);
        grid.pnl = new int256[](spots * volShocksWad.length);
        grid.tailPnl = new int256[](tailShocksWad.length);
        grid.centre = type(uint256).max;
        for (uint256 i; i < spots; ++i) {
            if (spotShocksWad[i] == 0) grid.centre = i;
        }
    }

    /// @notice Keeps of `volShocksWad` and `skewShocksWad` (one entry per vol column) the vol
    /// columns a book must be priced in, in place: when every position of `balances` is short and
    /// one column has both the largest vol shock and the largest skew shock, both arrays shrink to
    /// that column alone; when every position is long, to the column with the least vol shock
    /// (`lo`, `_boundingColumns`); otherwise they are left as they are (`docs/portfolio-margin.md`,
    /// "Pruning"). `skewShocksWad` has at least `volShocksWad`'s length (the engine checks it).
    /// @dev Why one column decides such a book: a leg's vol in a column (`_columnVol`) never falls
    /// as the column's vol shock or its skew shock rises (the parallel part and the skew's part are
    /// each rounded down from a product, and capping their sum at `MAX_SKEWED_VOL` keeps the
    /// order), and a long's vol has no skew's part, so it never falls as the vol shock rises. A
    /// Black–Scholes price never falls as vol rises, so in every spot row each short's value is
    /// lowest in the column with both largest shocks and each long's in the column with the least
    /// vol shock; the row's P&L (collateral and expired series add the same to every column) is
    /// lowest there. (An unshocked column keeps a leg's mark at the centre, `_addCells`; the engine
    /// marks a live leg with `callPriceLn` at the vol it passes, which computes that cell's price
    /// step for step, so the skipped cell is exact: review rv49.) The computed cells of the other
    /// columns can differ from the exact ones by the prices' error (`docs/black-scholes.md`), so
    /// they can be a few wei per contract lower; the pruned worst loss is within that error of the
    /// exact worst loss, as the full grid's is. A book of longs and shorts (or with a zero balance)
    /// is priced in every column (and staged, `startStages`); so is a book of shorts on a grid
    /// whose skew shocks are not largest where the vol shock is (governance's choice, checked here,
    /// not assumed). For shorts no revert moves: the column kept has the largest vol, so the vol
    /// terms of the others (`BlackScholes.volTerm`, which refuses a vol of 2**72 wei or more)
    /// cannot revert where its own did not, and every column prices the same spots. For longs the
    /// column kept has the least vol, so a vol term that would revert in another column (a marked
    /// vol times the largest vol shock, at most 4, of 2**72 wei, about 472,000 %) is not computed
    /// and the check does not revert; the columns left out only gain. A revert's arguments may name
    /// the kept column's vol.
    function columnsToPrice(
        int256[] memory balances,
        uint64[] memory volShocksWad,
        uint64[] memory skewShocksWad
    ) internal pure {
        if (volShocksWad.length < 2) return;
        (bool shorts, bool longs) = (true, true);
        for (uint256 i; i < balances.length; ++i) {
            int256 balance = balances[i];
            if (balance >= 0) shorts = false;
            if (balance <= 0) longs = false;
        }
        if (!shorts && !longs) return;
        (uint256 lo, uint256 hi, , bool hiLargestSkew) = _boundingColumns(volShocksWad, skewShocksWad);
        uint256 kept;
        if (shorts && hiLargestSkew) kept = hi;
        else if (longs) kept = lo;
        else return;
        (uint256 shock, uint256 skew) = (volShocksWad[kept], skewShocksWad[kept]);
        // Both arrays shrink to their first word, which now holds the deciding column (the words
        // past it stay allocated and unread).
        assembly ("memory-safe") {
            mstore(volShocksWad, 1)
            mstore(add(volShocksWad, 0x20), shock)
            mstore(skewShocksWad, 1)
            mstore(add(skewShocksWad, 0x20), skew)
        }
    }

    /// @notice Starts staged pricing of a freshly made grid, before anything is added to it, when
    /// it has at least three vol columns and one column (`lo`) has both the smallest vol shock and
    /// the smallest skew shock and another (`hi`) both the largest (`_boundingColumns`): returns
    /// whether it did (`docs/portfolio-margin.md`, "Pruning rows"). The positions are then added
    /// twice: once at stage 1 (each live position in its bound column alone, `lo` for a long and
    /// `hi` otherwise, and the tails), and, if `pruneRows` leaves a row to price, once more at stage
    /// 2 (each in its other columns, in the rows left).
    /// @dev Why a row's bound column cells bound all of its cells: a leg's vol in a column
    /// (`_columnVol`) never falls as the column's vol shock or its skew shock rises
    /// (`columnsToPrice`), so in every row each leg's vol in any column lies between its vols in
    /// `lo` and `hi`. A Black–Scholes price never falls as vol rises, so a long's change in any
    /// column is at least its change in `lo`, and a short's at least its change in `hi`. Collateral
    /// and expired series change the same in every column. The sum of those least changes, the
    /// row's bound, is the least any cell of the row can show (up to the prices' error,
    /// `docs/black-scholes.md`).
    function startStages(Grid memory grid) internal pure returns (bool) {
        if (grid.volShocksWad.length < 3) return false;
        (uint256 lo, uint256 hi, bool loLeastSkew, bool hiLargestSkew) = _boundingColumns(
            grid.volShocksWad,
            grid.skewShocksWad
        );
        if (lo == hi || !loLeastSkew || !hiLargestSkew) return false;
        (grid.stage, grid.lo, grid.hi) = (1, lo, hi);
        grid.bound = new int256[](2 * grid.shockedSpots.length);
        return true;
    }

    /// @dev The first column with the least vol shock and, among those, the least skew shock
    /// (`lo`), the first with the largest vol shock and, among those, the largest skew shock (`hi`),
    /// and whether `lo`'s skew shock is the least of every column's and `hi`'s the largest. Read
    /// without bounds checks: `skews` has at least `vols`' length (the engine checks it, and
    /// `newGrid` keeps both arrays).
    function _boundingColumns(
        uint64[] memory vols,
        uint64[] memory skews
    ) private pure returns (uint256 lo, uint256 hi, bool loLeastSkew, bool hiLargestSkew) {
        // A column's key orders columns by vol shock, then skew shock.
        (uint256 loKey, uint256 hiKey) = (type(uint256).max, 0);
        (uint256 minSkew, uint256 maxSkew) = (type(uint256).max, 0);
        for (uint256 j; j < vols.length; ++j) {
            uint256 skew;
            uint256 key;
            assembly ("memory-safe") {
                let at := shl(5, add(j, 1))
                skew := mload(add(skews, at))
                key := or(shl(64, mload(add(vols, at))), skew)
            }
            if (key > hiKey) (hi, hiKey) = (j, key);
            if (key < loKey) (lo, loKey) = (j, key);
            if (skew > maxSkew) maxSkew = skew;
            if (skew < minSkew) minSkew = skew;
        }
        (loLeastSkew, hiLargestSkew) = (uint64(loKey) == minSkew, uint64(hiKey) == maxSkew);
    }

    /// @notice Ends stage 1 (`startStages`): a row whose bound loses no more than `atLeast` (what
    /// the requirement is at least without the grid: the weighted worst tail loss, the cover floor)
    /// cannot raise the requirement: every cell of it is set to the bound, which leaves the
    /// requirement where it is, and is not priced again. The other rows get their bound columns'
    /// changes back. Returns whether a row is left to price at stage 2.
    /// @param atLeast Below 2**255.
    function pruneRows(Grid memory grid, uint256 atLeast) internal pure returns (bool left) {
        // Byte offsets in a row of `pnl`: the row's length, and the cells of `lo` and `hi`.
        uint256 step = grid.volShocksWad.length << 5;
        (uint256 lo, uint256 hi) = (grid.lo << 5, grid.hi << 5);
        int256 least = -int256(atLeast);
        int256[] memory pnl = grid.pnl;
        int256[] memory bound = grid.bound;
        uint256 pruned;
        // Without bounds checks: `pnl` has a row of `step` bytes for each word of either half of
        // `bound` (`newGrid`, `startStages`), and `lo` and `hi` are below `step`. The sums are
        // parts of a scenario's pnl, below 2**249 in magnitude (`_addCells`).
        assembly ("memory-safe") {
            let half := shl(4, mload(bound))
            let row := add(pnl, 0x20)
            let bit := 1
            for {
                let at := add(bound, 0x20)
                let end := add(at, half)
            } lt(at, end) {
                at := add(at, 0x20)
            } {
                // At stage 1 a row's cells hold the collateral's and expired series' changes alone,
                // the same in every column: its first cell holds the row's.
                let rowBound := add(add(mload(at), mload(add(at, half))), mload(row))
                switch slt(rowBound, least)
                case 1 {
                    left := 1
                    mstore(add(row, lo), add(mload(add(row, lo)), mload(at)))
                    mstore(add(row, hi), add(mload(add(row, hi)), mload(add(at, half))))
                }
                default {
                    pruned := or(pruned, bit)
                    for {
                        let j := 0
                    } lt(j, step) {
                        j := add(j, 0x20)
                    } {
                        mstore(add(row, j), rowBound)
                    }
                }
                row := add(row, step)
                bit := shl(1, bit)
            }
        }
        (grid.stage, grid.pruned) = (2, pruned);
    }

    /// @notice Adds `tokens` native units of the underlying itself (collateral) to the grid.
    /// @param tokens Below 2**128 (the vault's deposit cap bounds every balance): the scenario sums
    /// rely on it (`_addCells`).
    function addCollateral(Grid memory grid, uint256 tokens, uint8 decimals) internal pure {
        int256 valueNow = int256(MarginMath.tokenValueDown(tokens, decimals, grid.spotWad));
        uint256 vols = grid.volShocksWad.length;
        for (uint256 i; i < grid.shockedSpots.length; ++i) {
            int256 change = int256(MarginMath.tokenValueDown(tokens, decimals, grid.shockedSpots[i])) - valueNow;
            for (uint256 j; j < vols; ++j) {
                grid.pnl[i * vols + j] += change;
            }
        }
        for (uint256 k; k < grid.tailSpots.length; ++k) {
            grid.tailPnl[k] += int256(MarginMath.tokenValueDown(tokens, decimals, grid.tailSpots[k])) - valueNow;
        }
    }

    /// @notice Adds a position of `balance` contracts of `seriesId`, now marked at `markWad` with
    /// vol `volWad`, to the grid. A live series is repriced with Black–Scholes at every spot shock
    /// and, in vol column j, its own vol times `volShocksWad[j]` plus, for a short, `skewShocksWad[j]`
    /// × max(0, ln(S/K)) at the current spot (sticky strike: strikes below spot, calls and puts
    /// alike, are the put wing; a long keeps the parallel shift alone, review rv21 K1), and at every
    /// tail spot (its unshocked vol); an expired
    /// one whose settlement price is not posted yet is worth its intrinsic value at the shocked spot
    /// (positions with a posted price carry no risk and are never added).
    /// @param balance The signed position, |balance| < 2**127: the market keeps it below 2**98, and
    /// the cells' unchecked arithmetic (`_addCells`) relies on it.
    function addPosition(
        Grid memory grid,
        SeriesId seriesId,
        int256 balance,
        uint256 markWad,
        uint256 volWad,
        uint256 timestamp
    ) internal pure {
        Leg memory leg = Leg({
            balance: balance,
            size: balance < 0 ? uint256(-balance) : uint256(balance),
            valueNow: MarginMath.positionValue(balance, markWad),
            strikeWad: SeriesLib.strikeOf(seriesId),
            isCall: SeriesLib.isCallOf(seriesId),
            lnMoneyness: 0
        });
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        if (timestamp >= expiry) {
            // An expired series changes every column alike: added once, at stage 1.
            if (grid.stage != 2) _addExpired(grid, leg);
            return;
        }
        leg.lnMoneyness = BlackScholes.lnMoneyness(grid.spotWad, leg.strikeWad);
        // How far into the put wing the strike is: ln(S/K) when K < S, else 0. Shorts only: a long
        // far down the wing repriced at a steeper skew could gain many times its price and hide the
        // book's crash loss (review rv21 K1), so longs keep the parallel shift alone.
        uint256 putWing = balance < 0 && leg.lnMoneyness > 0 ? uint256(leg.lnMoneyness) : 0;
        // From here `expiry` holds the seconds to expiry, and a column's `vol` its vol term (one
        // local each: the Solidity tests' legacy build has no stack slot to spare here).
        expiry -= timestamp;
        // The tails price at the leg's own vol: an unshocked column's vol term is theirs (the same
        // `volTerm` of the same vol), so it is taken once. The columns come first, and
        // `volTerm(volWad, ·)` cannot revert when a column's `volTerm` of the same vol did not; at
        // stage 1, where a leg's bound column may be shocked, the tails' may be the first to revert.
        uint256 tailTerm = type(uint256).max;
        for (uint256 j; j < grid.volShocksWad.length; ++j) {
            // Stage 1 prices the leg's bound column alone (`lo` for a long, `hi` otherwise), stage 2
            // its others (`startStages`). `leg.balance`, not `balance`: a parameter read here stays
            // on the stack through the cell loop, about 23 gas a cell.
            if (grid.stage != 0 && (j == (leg.balance > 0 ? grid.lo : grid.hi)) != (grid.stage == 1)) continue;
            (uint256 vol, bool unshocked) = _columnVol(volWad, grid.volShocksWad[j], grid.skewShocksWad[j], putWing);
            vol = BlackScholes.volTerm(vol, expiry);
            if (unshocked) tailTerm = vol;
            _addVolColumn(grid, leg, j, vol, unshocked);
        }
        if (grid.stage == 2) return;
        _addTails(grid, leg, tailTerm != type(uint256).max ? tailTerm : BlackScholes.volTerm(volWad, expiry));
    }

    /// @notice The largest loss over the grid's scenarios, 0 if none loses.
    function worstLoss(Grid memory grid) internal pure returns (uint256) {
        return _worst(grid.pnl);
    }

    /// @notice The largest loss over the tail scenarios, 0 if none loses (not yet weighted).
    function worstTailLoss(Grid memory grid) internal pure returns (uint256) {
        return _worst(grid.tailPnl);
    }

    /// @notice The cover floor (SPAN's short-option minimum), rounded up: what the short contracts of one underlying
    /// need once each long covers them only as far as it really does.
    /// @dev Deterministic greedy matching (`docs/portfolio-margin.md`, "Cover"). Shorts are taken
    /// riskiest first: puts by descending strike, calls by ascending strike, ties by the latest
    /// expiry. A short call is first covered by `heldWad` units of the underlying held (a perfect
    /// cover). Then each short takes the best remaining eligible long of its own kind — same or
    /// later expiry; for a put the highest strike, for a call the lowest; ties by the earliest
    /// expiry — until it is covered or no long would lower its charge. A long is used at most once in
    /// total. A matched contract is charged the spread width (put `K_short − K_long`, call
    /// `K_long − K_short`, 0 when the long's strike is on the covering side), which is below its
    /// standard requirement by construction; whatever stays unmatched is charged its standard
    /// requirement `perContractUp[i]`. Any such matching is a set of real spreads, each losing at
    /// most its width at the short's expiry, so the floor never drops below what the book can lose
    /// beyond what its longs pay back; the greedy order only decides how tight it is.
    /// @param seriesIds, balances One underlying's positions (at risk), in position order.
    /// @param perContractUp The standard requirement of one contract of each short (0 for longs).
    function coverFloorUp(
        SeriesId[] memory seriesIds,
        int256[] memory balances,
        uint256[] memory perContractUp,
        uint256 heldWad
    ) internal pure returns (uint256 floor) {
        (Cover memory c, uint256 longs) = _newCover(seriesIds, balances);
        uint256 n = seriesIds.length;
        while (true) {
            // Once no long has contracts left and no held unit is left, nothing can cover a short
            // any more: each short left is charged its standard requirement whatever the order, so
            // the order's scans are skipped (from the start for a book of shorts alone with nothing
            // held). Exact: the same terms, all non-negative, summed in another order (the longs'
            // `left` is 0 by then); `perContractUp` is read only where the order would read it, at
            // a short left; a term's `mulWadUp` reverts with the same argument-free error in any
            // order, and the sum cannot overflow (each term is below 2**256 / 1e18 < 2**197, and a
            // book holds at most the market's `MAX_OPEN` = 128 positions). Needs
            // `perContractUp.length ≥ n`, as the order does for the same revert (the manager
            // passes n).
            if (longs == 0 && heldWad == 0) {
                for (uint256 i; i < n; ++i) {
                    uint256 left = _at(c.left, i);
                    if (left != 0) floor += FixedPointMathLib.mulWadUp(left, perContractUp[i]);
                }
                break;
            }
            uint256 s = _riskiestShort(c);
            if (s == n) break;
            uint256 size = c.left[s];
            c.left[s] = 0;
            bool isCall = c.key[s] >> 255 == 1;
            if (isCall && heldWad != 0) {
                uint256 held = size < heldWad ? size : heldWad;
                heldWad -= held;
                size -= held;
            }
            while (size != 0) {
                uint256 best = _bestLong(c, s);
                if (best == n) break;
                uint256 width = _width(isCall, c.strike[s], c.strike[best]);
                if (width >= perContractUp[s]) break;
                uint256 matched = size < c.left[best] ? size : c.left[best];
                c.left[best] -= matched;
                if (c.left[best] == 0) --longs;
                size -= matched;
                floor += FixedPointMathLib.mulWadUp(matched, width);
            }
            floor += FixedPointMathLib.mulWadUp(size, perContractUp[s]);
        }
    }

    /// @notice The contingency, rounded up: `contingencyWad` of spot per short contract.
    function contingencyUp(uint256 shorts, uint256 spotWad, uint256 contingencyWad) internal pure returns (uint256) {
        return FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(shorts, spotWad), contingencyWad);
    }

    /// @dev One position as the scenario loops need it; `size` is |balance|, taken once.
    struct Leg {
        int256 balance;
        uint256 size;
        int256 valueNow;
        uint256 strikeWad;
        bool isCall;
        int256 lnMoneyness;
    }

    /// @dev The vol of a leg (marked at `volWad`, `putWing` = max(0, ln(S/K))) in a column: the
    /// parallel shift `volWad × volShock` (rounded down, as before the skew) plus the skew's part
    /// `skew × putWing` (rounded down), that part capped so the sum stays at most `MAX_SKEWED_VOL`
    /// (a leg already above it keeps its parallel vol). `unshocked`: the leg's vol is its own (a
    /// flat column and no skew added), so its unshocked scenario changes nothing.
    function _columnVol(
        uint256 volWad,
        uint256 volShock,
        uint256 skew,
        uint256 putWing
    ) private pure returns (uint256 vol, bool unshocked) {
        vol = FixedPointMathLib.mulWad(volWad, volShock);
        uint256 added = FixedPointMathLib.mulWad(skew, putWing);
        if (added != 0) {
            uint256 room = FixedPointMathLib.zeroFloorSub(MAX_SKEWED_VOL, vol);
            vol += added < room ? added : room;
        }
        unshocked = volShock == WAD && vol == volWad;
    }

    /// @dev Reprices a live position at every spot shock for vol shock `j` (σ√(2T) = `volTerm`),
    /// skipping the unshocked scenario, which changes nothing, and at stage 2 the pruned rows (a
    /// bit a row: the engine allows at most 21 spot shocks); at stage 1, where `j` is the leg's
    /// bound column (`addPosition`), the changes go to `bound` instead of `pnl`.
    function _addVolColumn(Grid memory grid, Leg memory leg, uint256 j, uint256 volTerm, bool unshocked) private pure {
        uint256 vols = grid.volShocksWad.length;
        int256[] memory pnl = grid.pnl;
        uint256 first;
        assembly ("memory-safe") {
            first := add(pnl, shl(5, add(j, 1)))
        }
        uint256 stride = vols << 5;
        // `1 << centre` is 0 for a grid without a centre (centre = type(uint256).max).
        uint256 skip = unshocked ? 1 << grid.centre : 0;
        if (grid.stage == 2) skip |= grid.pruned;
        else if (grid.stage == 1) {
            // To `bound`'s first half for a long, its second otherwise (`pruneRows` sums them).
            int256[] memory bound = grid.bound;
            assembly ("memory-safe") {
                first := add(add(bound, 0x20), mul(iszero(sgt(mload(leg), 0)), shl(4, mload(bound))))
            }
            stride = 0x20;
        }
        _addCells(leg, grid.shockedSpots, grid.lnShifts, first, stride, skip, volTerm);
    }

    /// @dev Reprices a live position at every tail spot, at its unshocked vol (σ√(2T) = `volTerm`).
    function _addTails(Grid memory grid, Leg memory leg, uint256 volTerm) private pure {
        int256[] memory pnl = grid.tailPnl;
        uint256 first;
        assembly ("memory-safe") {
            first := add(pnl, 0x20)
        }
        _addCells(leg, grid.tailSpots, grid.tailShifts, first, 0x20, 0, volTerm);
    }

    /// @dev The hot loop of the portfolio check (positions × scenarios): adds to the pnl word at
    /// `first + i × stride` (bytes) the change in value of `leg` at spot `spots[i]` (ln shift
    /// `shifts[i]`, σ√(2T) = `volTerm`), for every i whose bit in `skip` is clear. Written out down to the CDF: one
    /// internal call a cell (`BlackScholes.terms`, S·N(d1) and K·N(d2)), with the same results and
    /// the same revert as `BlackScholes.callPriceAt` followed by `MarginMath.positionValue`:
    /// - `callPriceAt`'s guard: only the spot varies by cell, so only it is checked here (with the
    ///   guard's error and arguments); the strike is below 2**119 and non-zero (`lnMoneyness`
    ///   accepted it in `addPosition`), `volTerm` below 2**123 (`BlackScholes.volTerm`), and
    ///   |ln(S/K) + shift| < 126e18, far below 2**100: |ln(S/K)| < 84e18 from `lnMoneyness`, and
    ///   a shift is `lnWad` of a factor `newGrid` accepted, 1e18 plus an int64 shock and positive,
    ///   so between 1 wei and 10.3e18 and |shift| < 42e18 (≤ ln 2 for the engine's shocks within
    ///   ±50 %, review rv29). Live, as there, when `volTerm` and the spot are non-zero (a spot of
    ///   a few wei can shock to 0).
    /// - The ys as `BlackScholes._ysFromParts`: |m·1e27| < 2**190, 0 < volTerm < 2**123 (y1 is
    ///   computed for every cell and used only for a live one: `sdiv` by a zero `volTerm` is 0).
    /// - The call as `BlackScholes._callFromYs`: `terms` (whose bounds `callPriceAt`'s give), the
    ///   difference floored at 0, and the price clamped to [max(S − K, 0), S], with branch-free
    ///   max and min. The min with S and the live test change no value (t1 ≤ S already bounds the
    ///   price; a zero spot or vol term already prices to the intrinsic value): they keep the cell
    ///   `callPriceAt` step for step, and mutants dropping them are equivalent (review rv39).
    /// - The put by parity, exact in integers: the call is at least max(S − K, 0), so C + K − S is
    ///   in [0, K]; K − S may wrap on the way, the sum does not.
    /// - The value as `positionValue`, without its checks or branches: a long rounds down, a
    ///   short's liability up (more negative), negated as (v xor −1) − (−1). The price is below
    ///   2**120 (a call is at most the spot, a put at most its strike) and |balance| below 2**127
    ///   (the market keeps it below 2**98), so size × price < 2**247 cannot overflow and the
    ///   value, below 2**188, negates safely.
    /// - The sum: every index is below its array's length by construction (the caller's `first`
    ///   and `stride` walk a column of `pnl`, which has `spots.length` rows, `newGrid`, or a half
    ///   of `bound`, `spots.length` words, `startStages`), and a
    ///   scenario's pnl is a sum of at most 48 positions' changes, each below 2**197 in magnitude
    ///   (a value now is at most 2**256 / 1e18), and a collateral balance's, below 2**248 (tokens <
    ///   2**128, `addCollateral`; a shocked spot < 2**120, checked here): below 2**249 in all, so
    ///   the addition cannot overflow (review rv31 P3-1).
    /// `leg` is read in assembly at `Leg`'s word offsets: balance 0x00, size 0x20, valueNow 0x40,
    /// strikeWad 0x60, isCall 0x80, lnMoneyness 0xa0.
    // One cell's steps written out in one body, to save internal calls.
    // solhint-disable-next-line function-max-lines
    function _addCells(
        Leg memory leg,
        uint256[] memory spots,
        int256[] memory shifts,
        uint256 first,
        uint256 stride,
        uint256 skip,
        uint256 volTerm
    ) private pure {
        for (uint256 i; i < spots.length; ++i) {
            if ((skip >> i) & 1 != 0) continue;
            uint256 spot;
            int256 y1;
            uint256 price;
            assembly ("memory-safe") {
                spot := mload(add(spots, shl(5, add(i, 1))))
                let strike := mload(add(leg, 0x60))
                // The intrinsic value max(S − K, 0), the lower clamp.
                price := mul(gt(spot, strike), sub(spot, strike))
                let m := add(mload(add(leg, 0xa0)), mload(add(shifts, shl(5, add(i, 1)))))
                y1 := add(sdiv(mul(m, 1000000000000000000000000000), volTerm), div(volTerm, 4000000000))
            }
            if (spot >> 120 != 0) revert BlackScholes.BlackScholesInputOutOfRange(spot, leg.strikeWad, 0, volTerm);
            if (spot != 0 && volTerm != 0) {
                int256 y2;
                assembly ("memory-safe") {
                    y2 := sub(y1, div(volTerm, 2000000000))
                }
                (uint256 t1, uint256 t2) = BlackScholes.terms(spot, leg.strikeWad, y1, y2);
                assembly ("memory-safe") {
                    // max(t1 − t2, 0), then max with the intrinsic value and min with the spot.
                    let c := mul(gt(t1, t2), sub(t1, t2))
                    price := xor(price, mul(xor(price, c), gt(c, price)))
                    price := xor(price, mul(xor(price, spot), gt(price, spot)))
                }
            }
            assembly ("memory-safe") {
                // Put by parity (wraps only transiently: the result is in [0, K]).
                price := add(price, mul(iszero(mload(add(leg, 0x80))), sub(mload(add(leg, 0x60)), spot)))
                let product := mul(mload(add(leg, 0x20)), price)
                // neg is −1 for a short, else 0: a short rounds its liability up and negates.
                let neg := sar(255, mload(leg))
                let value := add(div(product, WAD), and(and(neg, 1), iszero(iszero(mod(product, WAD)))))
                value := sub(xor(value, neg), neg)
                let cell := add(first, mul(i, stride))
                mstore(cell, add(mload(cell), sub(value, mload(add(leg, 0x40)))))
            }
        }
    }

    /// @dev An expired position not yet settled: intrinsic value at each shocked spot, any vol.
    function _addExpired(Grid memory grid, Leg memory leg) private pure {
        uint256 vols = grid.volShocksWad.length;
        for (uint256 i; i < grid.shockedSpots.length; ++i) {
            int256 change = _expiredChange(leg, grid.shockedSpots[i]);
            for (uint256 j; j < vols; ++j) {
                grid.pnl[i * vols + j] += change;
            }
        }
        for (uint256 k; k < grid.tailSpots.length; ++k) {
            grid.tailPnl[k] += _expiredChange(leg, grid.tailSpots[k]);
        }
    }

    function _expiredChange(Leg memory leg, uint256 spot) private pure returns (int256) {
        return
            MarginMath.positionValue(leg.balance, MarginMath.intrinsic(leg.isCall, spot, leg.strikeWad)) - leg.valueNow;
    }

    /// @dev Shocked spots (rounded down) and ln(1 + shock) of each shock. Shocks are bounded to
    /// ±50 % by the engine, so each factor is in [0.5, 1.5] WAD.
    function _shock(
        uint256 spotWad,
        int64[] memory shocksWad
    ) private pure returns (uint256[] memory spots, int256[] memory shifts) {
        uint256 count = shocksWad.length;
        spots = new uint256[](count);
        shifts = new int256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 factor = uint256(int256(WAD) + shocksWad[i]);
            spots[i] = FixedPointMathLib.mulWad(spotWad, factor);
            shifts[i] = FixedPointMathLib.lnWad(int256(factor));
        }
    }

    /// @dev Read without bounds checks (k < pnl.length) and negated unchecked, which is exact for
    /// every negative word (at −2**255 the wrapped negation is 2**255, the right magnitude; a
    /// scenario's pnl is above −2**249 anyway, `_addCells`).
    function _worst(int256[] memory pnl) private pure returns (uint256 loss) {
        for (uint256 k; k < pnl.length; ++k) {
            int256 value;
            assembly ("memory-safe") {
                value := mload(add(pnl, shl(5, add(k, 1))))
            }
            unchecked {
                if (value < 0 && uint256(-value) > loss) loss = uint256(-value);
            }
        }
    }

    /// @dev The book as the cover matching reads it, decoded once. `left`: contracts still to
    /// cover (shorts) or still free to cover with (longs). `key`: bit 255 set for a call, bit 254
    /// for a long; below them a short's risk rank (a put's strike, or 2**128 − 1 − a call's
    /// strike: puts by descending strike, calls by ascending strike).
    struct Cover {
        uint256[] left;
        uint256[] key;
        uint256[] strike;
        uint256[] expiry;
    }

    /// @dev Also the number of longs (positions with a positive balance, each with contracts left).
    function _newCover(
        SeriesId[] memory seriesIds,
        int256[] memory balances
    ) private pure returns (Cover memory c, uint256 longs) {
        uint256 n = seriesIds.length;
        c.left = new uint256[](n);
        c.key = new uint256[](n);
        c.strike = new uint256[](n);
        c.expiry = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            SeriesId id = seriesIds[i];
            int256 b = balances[i];
            if (b > 0) ++longs;
            uint256 strike = SeriesLib.strikeOf(id);
            bool isCall = SeriesLib.isCallOf(id);
            // The four arrays were allocated with n words: written without bounds checks.
            _setAt(c.left, i, b < 0 ? uint256(-b) : uint256(b));
            _setAt(c.strike, i, strike);
            _setAt(c.expiry, i, SeriesLib.expiryOf(id));
            // Strikes are below 2**128, so the rank fits under the two flag bits.
            _setAt(
                c.key,
                i,
                (isCall ? 1 << 255 : 0) | (b > 0 ? 1 << 254 : 0) | (isCall ? type(uint128).max - strike : strike)
            );
        }
    }

    /// @dev The uncovered short to take next, or `n` if none is left: the highest rank, then the
    /// latest expiry (the short fewest longs can cover). Never position order: anyone can reorder
    /// an account's positions by settling one of them, and the floor must not move with it.
    function _riskiestShort(Cover memory c) private pure returns (uint256 best) {
        uint256 n = c.left.length;
        best = n;
        uint256 bestRank;
        for (uint256 i; i < n; ++i) {
            uint256 key = _at(c.key, i);
            if (key & (1 << 254) != 0 || _at(c.left, i) == 0) continue;
            uint256 rank = key & type(uint128).max;
            if (best == n || rank > bestRank || (rank == bestRank && _at(c.expiry, i) > _at(c.expiry, best))) {
                (best, bestRank) = (i, rank);
            }
        }
    }

    /// @dev The best remaining long to cover short `s` with, or `n` if none is eligible: the
    /// same kind, the same or a later expiry; for a put the highest strike, for a call the lowest,
    /// then the earliest expiry (keeping later longs for later shorts), never position order.
    function _bestLong(Cover memory c, uint256 s) private pure returns (uint256 best) {
        uint256 n = c.left.length;
        best = n;
        // A long of the short's kind has the short's call bit and the long bit.
        uint256 kind = (c.key[s] & (1 << 255)) | (1 << 254);
        bool isCall = c.key[s] >> 255 == 1;
        uint256 expiry = c.expiry[s];
        uint256 bestStrike;
        for (uint256 i; i < n; ++i) {
            if (_at(c.key, i) >> 254 != kind >> 254 || _at(c.left, i) == 0 || _at(c.expiry, i) < expiry) continue;
            uint256 strike = _at(c.strike, i);
            bool better = isCall ? strike < bestStrike : strike > bestStrike;
            if (best == n || better || (strike == bestStrike && _at(c.expiry, i) < _at(c.expiry, best))) {
                (best, bestStrike) = (i, strike);
            }
        }
    }

    /// @dev `a[i]` without the bounds check, for the cover's scans: each of `Cover`'s four arrays
    /// has the book's length n (`_newCover`), and the scans read them only at indices below n
    /// (`i < n`, or a `best` already found, which is some earlier `i`).
    function _at(uint256[] memory a, uint256 i) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(a, shl(5, add(i, 1))))
        }
    }

    /// @dev `a[i] = v` without the bounds check, under `_at`'s condition (`_newCover`).
    function _setAt(uint256[] memory a, uint256 i, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(a, shl(5, add(i, 1))), v)
        }
    }

    /// @dev Per contract, what a long of strike `longStrike` leaves uncovered of a short of
    /// strike `shortStrike`: 0 when the long's strike is on the covering side.
    function _width(bool isCall, uint256 shortStrike, uint256 longStrike) private pure returns (uint256) {
        if (isCall) return longStrike > shortStrike ? longStrike - shortStrike : 0;
        return shortStrike > longStrike ? shortStrike - longStrike : 0;
    }

    /// @notice A token amount in native units as WAD units (for covering short calls), rounded down.
    function tokensToWad(uint256 tokens, uint8 decimals) internal pure returns (uint256) {
        if (decimals <= 18) return tokens * 10 ** (18 - decimals);
        return tokens / 10 ** (decimals - 18);
    }
}
