// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {CashUnits} from "../../../contracts/libraries/CashUnits.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {VolSurfaceOracleSetUp} from "../../helpers/VolSurfaceOracleSetUp.sol";
import {VolSurfaceMarksTest} from "./VolSurfaceMarks.t.sol";

/// @notice The check's surface cache (`MarginValuation._surfaceOf`, docs/security.md): one
/// `markSurface` read per (underlying, expiry) per check, in 8 direct-mapped entries keyed on both
/// the underlying index and the expiry. A book whose series share an expiry across underlyings, or
/// whose expiries share a cache slot, must value every series at its own surface: each mark inside
/// `accountMargin` equals Black–Scholes at the oracle's `markVol` for that series, as `engine.mark`
/// (a fresh cache per call) does.
contract VolSurfaceMarksCacheTest is VolSurfaceMarksTest {
    SeriesId[] internal book;

    /// @dev ETH (index 1) at 30 and 38 days: 8 days apart, so the same cache slot. BTC (index 2) at
    /// 30 days (ETH's expiry, another underlying) and 29 days (ETH's 30-day slot: day + index is the
    /// same). Each smile at its own level, so any surface read for the wrong key marks differently.
    function _postBook() internal {
        surfaces.setUnderlying(address(wbtc), true);
        _postTerm(address(weth), _expiry(30), 1e18, _expiry(38), 2e18);
        _postTerm(address(wbtc), _expiry(29), 3e18, _expiry(30), 4e18);
        _wait(1 hours + 2 minutes);
        _postTerm(address(weth), _expiry(30), 1e18, _expiry(38), 2e18);
        _postTerm(address(wbtc), _expiry(29), 3e18, _expiry(30), 4e18);
    }

    function _postTerm(address underlying, uint256 near, int256 nearLevel, uint256 far, int256 farLevel) internal {
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = underlying;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](2);
        p.surfaces[0] = _smile(near, nearLevel, 1e18);
        p.surfaces[1] = _smile(far, farLevel, 1e18);
        surfaces.post(p, VolSurfaceOracleSetUp.quorumSignatures(surfaces, keys, p));
    }

    /// @dev Black–Scholes at the oracle's own `markVol` for `id` (FRESH: either side).
    function _expectedMark(SeriesId id) internal view returns (uint256) {
        address asset = SeriesLib.underlyingIndexOf(id) == ethIndex ? address(weth) : address(wbtc);
        uint256 spot = oracle.spot(asset);
        uint256 strike = SeriesLib.strikeOf(id);
        uint256 expiry = SeriesLib.expiryOf(id);
        (uint256 vol, , , bool mature) = surfaces.markVol(asset, expiry, spot, strike);
        assertTrue(mature, "FRESH");
        uint256 t = expiry - block.timestamp;
        return
            SeriesLib.isCallOf(id)
                ? BlackScholes.callPrice(spot, strike, t, vol)
                : BlackScholes.putPrice(spot, strike, t, vol);
    }

    function test_cache_everySeriesMarksAtItsOwnSurface() public {
        // Interleaved so that every kind of cache hit and miss happens within one check.
        book.push(_createSeries(ethIndex, 30, 3_300e18, true)); // ETH 30d: read
        book.push(_createSeries(btcIndex, 30, 66_000e18, true)); // BTC 30d: same expiry, other index
        book.push(_createSeries(ethIndex, 38, 3_300e18, true)); // ETH 38d: ETH 30d's slot, evicts it
        book.push(_createSeries(btcIndex, 29, 54_000e18, false)); // BTC 29d: ETH 30d's slot too
        book.push(_createSeries(ethIndex, 30, 2_700e18, false)); // ETH 30d again: a miss, read again
        book.push(_createSeries(btcIndex, 30, 54_000e18, false)); // BTC 30d again: a hit
        book.push(_createSeries(ethIndex, 38, 2_900e18, false)); // ETH 38d again
        _postBook();

        int256 expected;
        for (uint256 i; i < book.length; ++i) {
            uint256 mark = _expectedMark(book[i]);
            assertEq(engine.mark(book[i]), mark, "engine.mark: BS at markVol");
            _trade(carolKey, carolAccount, bobAccount, book[i], -1e18, mark);
            expected += MarginMath.positionValue(-1e18, mark);
        }
        // The smiles differ where it matters: a surface read under the wrong key would move a mark.
        assertTrue(_markAt(book[0], address(wbtc)) != _expectedMark(book[0]), "BTC's 30-day smile differs");

        IMarginEngine.MarginState memory state = engine.accountMargin(carolAccount);
        (, int256 cash) = vault.balancesOf(carolAccount);
        assertEq(state.markValue - CashUnits.toWadDown(cash, 6), expected, "one check, seven surfaces' marks");
        // And the check of new risk accepts the book (every surface FRESH).
        engine.checkInitialMargin(carolAccount);
    }

    /// @dev The mark of `id`'s strike and expiry priced on `asset`'s surface instead of its own.
    function _markAt(SeriesId id, address asset) internal view returns (uint256) {
        uint256 spot = oracle.spot(address(weth));
        uint256 strike = SeriesLib.strikeOf(id);
        uint256 expiry = SeriesLib.expiryOf(id);
        (uint256 vol, , , ) = surfaces.markVol(asset, expiry, spot, strike);
        return BlackScholes.callPrice(spot, strike, expiry - block.timestamp, vol);
    }
}
