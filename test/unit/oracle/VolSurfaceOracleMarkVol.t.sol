// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VolSurfaceFixture} from "../../helpers/VolSurfaceFixture.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";

/// @notice `markVol` and surface maturity (issue 17 part 2, review rv17b G5): a surface marks only
/// once its first post has stood on chain for `CHANGE_PERIOD`, counted from the block it landed in
/// and rounded up to `MATURITY_STEP`; re-posts keep that time; a missing, unlisted or expired
/// surface reads as zeros.
contract VolSurfaceOracleMarkVolTest is VolSurfaceFixture {
    uint256 internal constant T0 = 1_700_000_000;
    /// @dev A multiple of MATURITY_STEP (2 min) near T0, so a landing there matures exactly an hour later.
    uint256 internal constant L = 1_700_000_040;
    uint256 internal constant HOUR = 1 hours;
    address internal constant WBTC = address(0xB7);

    function setUp() public {
        vm.warp(T0);
        _setUpSurfaceOracle();
    }

    // ------------------------------------------------------------------ helpers

    function _expiry(uint256 d) internal pure returns (uint256) {
        return (T0 / 1 days + d) * 1 days + 8 hours;
    }

    function _surface(uint256 expiry, int256 level) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return
            IVolSurfaceOracle.SurfaceInput({
                expiry: expiry,
                a: (((0.02e18 * level) / 1e18) / 1e8) * 1e8,
                b: (((0.1e18 * level) / 1e18) / 1e8) * 1e8,
                rho: -0.3e18,
                m: 0,
                sigma: 0.2e18,
                confidence: 1e18
            });
    }

    /// @dev A flat smile of total variance `a` (b = 0).
    function _flat(uint256 expiry, int256 a) internal pure returns (IVolSurfaceOracle.SurfaceInput memory s) {
        s = IVolSurfaceOracle.SurfaceInput({expiry: expiry, a: a, b: 0, rho: 0, m: 0, sigma: 0.1e18, confidence: 1e18});
    }

    /// @dev Posts one surface signed at `ts` in the current block.
    function _postAt(uint256 ts, IVolSurfaceOracle.SurfaceInput memory s) internal {
        _postSigned(_one(ts, s));
    }

    function _mature(uint256 expiry) internal view returns (bool mature) {
        (, , , mature) = oracle.markVol(WETH, expiry, 2000e18, 1800e18);
    }

    function _assertZeros(address underlying, uint256 expiry) internal view {
        (uint256 vol, uint256 ts, uint256 c, bool mature) = oracle.markVol(underlying, expiry, 2000e18, 1800e18);
        assertEq(abi.encode(vol, ts, c, mature), abi.encode(0, 0, 0, false));
    }

    // ------------------------------------------------------------------ maturity

    /// Immature for the first hour after the first post lands (1 s before the hour), mature at the
    /// hour; the vol, timestamp and confidence are `volAt`'s all along.
    function test_markVol_immatureForTheFirstHour() public {
        uint256 e = _expiry(30);
        vm.warp(L);
        _postAt(L, _surface(e, 1e18));
        (uint256 vol, uint256 ts, uint256 c) = oracle.volAt(WETH, e, 2000e18, 1800e18);
        (uint256 mVol, uint256 mTs, uint256 mC, bool mature) = oracle.markVol(WETH, e, 2000e18, 1800e18);
        assertEq(abi.encode(mVol, mTs, mC), abi.encode(vol, ts, c));
        assertGt(vol, 0);
        assertFalse(mature);
        assertEq(oracle.surface(WETH, e).maturesAt, L + HOUR);
        vm.warp(L + HOUR - 1);
        assertFalse(_mature(e), "1 s before the hour");
        assertFalse(oracle.surface(WETH, e).mature);
        vm.warp(L + HOUR);
        assertTrue(_mature(e), "at the hour");
        assertTrue(oracle.surface(WETH, e).mature);
        vm.warp(L + 20 days);
        assertTrue(_mature(e), "never updated: still mature (staleness is the reader's)");
    }

    /// The hour counts from the block the first post landed in, not its signed timestamp: a first
    /// post signed an hour before it lands still waits a full hour on chain.
    function test_markVol_maturityCountsFromLandingNotSigning() public {
        uint256 e = _expiry(30);
        vm.warp(L);
        _postAt(L - HOUR, _surface(e, 1e18));
        assertEq(oracle.surface(WETH, e).maturesAt, L + HOUR);
        vm.warp(L + HOUR - 1);
        assertFalse(_mature(e));
        vm.warp(L + HOUR);
        assertTrue(_mature(e));
    }

    /// Off the 2-minute grid, the hour is rounded up to the next step: never early, at most 119 s late.
    function test_markVol_maturityRoundsUpToTheStep() public {
        uint256 e = _expiry(30);
        uint256 landing = L + 1; // 1 s past a step: the latest rounding, 119 s
        vm.warp(landing);
        _postAt(landing - 7, _surface(e, 1e18));
        assertEq(oracle.surface(WETH, e).maturesAt, L + HOUR + 120);
        vm.warp(L + HOUR + 119);
        assertFalse(_mature(e));
        vm.warp(L + HOUR + 120);
        assertTrue(_mature(e));
    }

    /// Re-posts neither reset nor delay maturity: ten-minute and 30-second updates in the first hour
    /// keep the maturity time exactly, and an update after it stays mature.
    function test_markVol_repostDoesNotResetMaturity() public {
        uint256 e = _expiry(30);
        vm.warp(L);
        _postAt(L, _surface(e, 1e18));
        for (uint256 t = L + 600; t < L + HOUR; t += 600) {
            vm.warp(t);
            _postAt(t - 5, _surface(e, 1e18 + int256(t - L) * 1e12));
            assertEq(oracle.surface(WETH, e).maturesAt, L + HOUR);
            assertFalse(_mature(e));
        }
        // Every 30 s through the last ten minutes (the step is 2 min: no rounding creeps in).
        for (uint256 t = L + HOUR - 570; t < L + HOUR; t += 30) {
            vm.warp(t);
            _postAt(t, _surface(e, 1e18 + int256(t - L) * 1e12));
            assertEq(oracle.surface(WETH, e).maturesAt, L + HOUR);
        }
        vm.warp(L + HOUR - 1);
        assertFalse(_mature(e));
        vm.warp(L + HOUR);
        assertTrue(_mature(e));
        vm.warp(L + 2 * HOUR + 77);
        _postAt(L + 2 * HOUR + 70, _surface(e, 1.2e18));
        assertTrue(_mature(e), "an update after maturity keeps it");
        assertLe(oracle.surface(WETH, e).maturesAt, L + 2 * HOUR + 70);
    }

    /// rv17b G5, fixed: the wild first post beyond the last posted expiry (87× the day-30 variance)
    /// is still accepted, but it does not mark for an hour, visibly, while its neighbour does.
    function test_rv17b_G5_wildFirstPostMarksOnlyAfterAnHour() public {
        uint256 e1 = _expiry(30);
        uint256 e2 = _expiry(31);
        vm.warp(L);
        _postAt(L, _flat(e1, 0.04e18));
        vm.warp(L + HOUR);
        _postAt(L + HOUR - 12, _flat(e2, 3.5e18));
        assertTrue(_mature(e1));
        assertFalse(_mature(e2), "the wild smile cannot mark");
        vm.warp(L + 2 * HOUR - 1);
        assertFalse(_mature(e2));
        vm.warp(L + 2 * HOUR);
        assertTrue(_mature(e2));
    }

    /// Whatever the landing delay and the update times, a surface is mature exactly from its first
    /// landing + 1 h rounded up to the step: never before the hour, at most 119 s after it.
    function testFuzz_markVol_maturityFromFirstLanding(uint256 landing, uint256 delay, uint256[4] memory gaps) public {
        uint256 e = _expiry(30);
        landing = bound(landing, T0, T0 + 1 days);
        delay = bound(delay, 0, HOUR);
        vm.warp(landing);
        _postAt(landing - delay, _surface(e, 1e18));
        uint256 maturesAt = ((landing + HOUR + 119) / 120) * 120;
        assertEq(oracle.surface(WETH, e).maturesAt, maturesAt);
        uint256 ts = landing - delay;
        uint256 now_ = landing;
        for (uint256 i; i < 4; ++i) {
            // The next post is signed after the last one and lands within its age limit.
            ts = now_ + bound(gaps[i], 1, 40 minutes);
            now_ = ts + (gaps[i] % 60);
            vm.warp(now_);
            _postAt(ts, _surface(e, 1e18 + int256(i + 1) * 1e14));
            assertEq(_mature(e), now_ >= maturesAt);
            if (now_ < maturesAt) assertEq(oracle.surface(WETH, e).maturesAt, maturesAt);
        }
        vm.warp(maturesAt > now_ + 1 ? maturesAt - 1 : now_);
        assertEq(_mature(e), block.timestamp >= maturesAt);
        assertTrue(!_mature(e) || block.timestamp >= landing + HOUR, "never before the hour");
        vm.warp(maturesAt > now_ ? maturesAt : now_);
        assertTrue(_mature(e));
    }

    // ------------------------------------------------------------------ zeros, never a revert

    function test_markVol_neverPostedReadsZeros() public view {
        _assertZeros(WETH, _expiry(30));
    }

    function test_markVol_unlistedReadsZeros() public {
        uint256 e = _expiry(30);
        _assertZeros(WBTC, e); // never listed
        vm.warp(L);
        _postAt(L, _surface(e, 1e18));
        vm.warp(L + HOUR);
        assertTrue(_mature(e));
        oracle.setUnderlying(WETH, false);
        _assertZeros(WETH, e); // delisted: zeros, though the surface is stored
        oracle.surface(WETH, e);
        oracle.setUnderlying(WETH, true);
        assertTrue(_mature(e), "relisted: the surface and its maturity are kept");
    }

    function test_markVol_expiredReadsZeros() public {
        uint256 e = _expiry(1);
        vm.warp(L);
        _postAt(L, _surface(e, 1e18));
        vm.warp(e - 1);
        assertTrue(_mature(e));
        vm.warp(e);
        _assertZeros(WETH, e); // at expiry
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceExpired.selector, e));
        oracle.volAt(WETH, e, 2000e18, 1800e18);
        vm.warp(e + 1 days);
        _assertZeros(WETH, e);
    }

    /// On a mature posted surface, `markVol` is `volAt` plus `mature`, at any spot and strike.
    function testFuzz_markVol_equalsVolAt(uint256 level, uint256 spot, uint256 strike, uint256 wait) public {
        uint256 e = _expiry(30);
        vm.warp(L);
        _postAt(L, _surface(e, int256(bound(level, 0.2e18, 5e18))));
        vm.warp(L + HOUR + bound(wait, 0, 20 days));
        spot = bound(spot, 1e15, 1e24);
        strike = bound(strike, spot / 100 + 1, spot * 100);
        (uint256 vol, uint256 ts, uint256 c) = oracle.volAt(WETH, e, spot, strike);
        (uint256 mVol, uint256 mTs, uint256 mC, bool mature) = oracle.markVol(WETH, e, spot, strike);
        assertEq(abi.encode(mVol, mTs, mC, mature), abi.encode(vol, ts, c, true));
    }
}
