// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {VolSurfaceFixture} from "../../helpers/VolSurfaceFixture.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";

/// @notice Regression tests for re-review rv17b (notes/rv17b-findings.md; the reviewer's repros are
/// test/review/Rv17bSurface.t.sol of that worktree). Each `_fixed` test failed on a24589f for the
/// reason the finding states and asserts the fixed behaviour; the `_sound_` tests are the
/// reviewer's checks that already held, kept as regressions.
contract VolSurfaceOracleRv17bTest is VolSurfaceFixture {
    uint256 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        _setUpSurfaceOracle();
    }

    // ------------------------------------------------------------------ helpers

    function _expiry(uint256 d) internal view returns (uint256) {
        return (block.timestamp / 1 days + d) * 1 days + 8 hours;
    }

    function _flat(uint256 expiry, int256 a) internal pure returns (IVolSurfaceOracle.SurfaceInput memory s) {
        s = IVolSurfaceOracle.SurfaceInput({expiry: expiry, a: a, b: 0, rho: 0, m: 0, sigma: 0.1e18, confidence: 1e18});
    }

    function _w(uint256 expiry, int256 k) internal view returns (int256) {
        IVolSurfaceOracle.Surface memory s = oracle.surface(WETH, expiry);
        return SviMath.totalVariance(SviMath.Params(s.a, s.b, s.rho, s.m, s.sigma), k);
    }

    // ------------------------------------------------------------------ G2: credit from an hour before the block

    /// rv17b G2 (was `test_rv17b_F1_backdatedPairMovesRSquaredInOneBlock`): with the surface 3 h old,
    /// a post backdated an hour then one at the block time moved ×256 in one block. Fixed: credit
    /// starts no earlier than an hour before the block, so the backdated post earns none (×16
    /// refused) and the pair moves at most R(0) = ×16 in the block.
    function test_rv17b_G2_backdatedPairBoundedInOneBlock_fixed() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        vm.warp(T0 + 3 hours);
        IVolSurfaceOracle.SurfaceInput memory s = _flat(e, 0.64e18);
        s.confidence = 0;
        bool backdated = _tryPost(_one(block.timestamp - 1 hours, s));
        s.a = 10.24e18;
        _tryPost(_one(block.timestamp, s));
        assertLe(_w(e, 0), 0.04e18 * 16, "beyond R(0) = x16 in one block");
        assertFalse(backdated, "backdated post earned an hour's credit");
        // The most the block allows: one post at the block time, a full hour's credit.
        s.a = 0.64e18;
        _postSigned(_one(block.timestamp, s));
        assertEq(_w(e, 0), 0.64e18);
    }

    /// rv17b G2 (was `test_rv17b_F1_lowConfidenceJumpRelabelledInOneBlock`): ×16 at confidence 0
    /// backdated an hour, then ×4 more at confidence 1 in the same block, stood at full confidence.
    /// Fixed: the backdated jump earns no credit, and a jump made at the block time leaves no credit
    /// for a relabel in that block.
    function test_rv17b_G2_lowConfidenceJumpNotRelabelledInOneBlock_fixed() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        vm.warp(T0 + 2 hours);
        IVolSurfaceOracle.SurfaceInput memory s = _flat(e, 0.64e18);
        s.confidence = 0;
        _tryPost(_one(block.timestamp - 1 hours, s));
        s.a = 2.56e18;
        s.confidence = 1e18;
        _tryPost(_one(block.timestamp, s));
        IVolSurfaceOracle.Surface memory r = oracle.surface(WETH, e);
        assertFalse(r.a == 2.56e18 && r.confidenceWad == 1e18, "x64 jump at full confidence within one block");
        // A ×16 jump at confidence 0 with the block's full credit stands, but at confidence 0 for
        // the rest of the block, and a second later gains 1/3600 of confidence at most.
        s.a = 0.64e18;
        s.confidence = 0;
        _postSigned(_one(block.timestamp, s));
        s.confidence = 1e18;
        assertFalse(_tryPost(_one(block.timestamp, s)), "second post in the block");
        vm.warp(block.timestamp + 1);
        _postSigned(_one(block.timestamp, s));
        assertEq(oracle.surface(WETH, e).confidenceWad, 277_777e9);
    }

    /// The bound over a span S: after two hours' quiet, a backdated ×4 earns nothing; then a post
    /// every 10 minutes for an hour, each at the most its credit allows, reaches just under
    /// R^(1 + S / 1 h) = ×16 (R = ×4, S = 1 h from the first post) in annualised variance (rv17c
    /// H1), never more.
    function test_rv17b_G2_spanBoundedByROnePlusS() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        vm.warp(T0 + 2 hours);
        assertFalse(_tryPost(_one(block.timestamp - 1 hours, _flat(e, 0.16e18))), "backdated x4");
        int256 a = 0.04e18;
        for (uint256 i; i <= 6; ++i) {
            if (i != 0) vm.warp(block.timestamp + 10 minutes);
            (, uint256 storedTs, uint256 c) = _stored(e);
            uint256 elapsed = SviMath.changeElapsed(storedTs, block.timestamp, block.timestamp);
            uint256 allowed = SviMath.allowedChangeRatioOver(
                4e18,
                SviMath.carriedConfidence(c, 1e18, elapsed),
                elapsed
            );
            // The most the post may move, less one 1e8 quantum; annualised by each post's own time
            // to expiry (rv17c H1), so w also shrinks by τ'/τ.
            a = ((((a * int256(allowed)) / 1e18) * int256(e - block.timestamp)) / int256(e - storedTs) / 1e8 - 1) * 1e8;
            _postSigned(_one(block.timestamp, _flat(e, a)));
        }
        // Annualised (w·τ0/τ): bounded by R^(1 + S/1h) = ×16, and reached to 0.1 %.
        int256 annualised = (_w(e, 0) * int256(e - T0)) / int256(e - block.timestamp);
        assertLe(annualised, 0.04e18 * 16, "beyond R^(1 + S/1h)");
        assertGt(annualised, (0.04e18 * 1599) / 100, "the steps reach close to the bound");
    }

    function _stored(uint256 e) internal view returns (int256 a, uint256 ts, uint256 c) {
        IVolSurfaceOracle.Surface memory s = oracle.surface(WETH, e);
        return (s.a, s.timestamp, s.confidenceWad);
    }

    /// `changeElapsed` at its edges: credit is ts − max(stored, block − 1 h), never negative.
    function test_rv17b_G2_changeElapsedEdges() public pure {
        assertEq(SviMath.changeElapsed(1_000, 1_600, 1_612), 600);
        assertEq(SviMath.changeElapsed(0, 7_200, 7_212), 3_588);
        assertEq(SviMath.changeElapsed(0, 3_600, 7_212), 0);
        assertEq(SviMath.changeElapsed(5_000, 4_000, 7_212), 0);
        assertEq(SviMath.changeElapsed(0, 100, 100), 100);
        // elapsed 0 allows exactly ×1.
        assertEq(SviMath.allowedChangeRatioOver(16e18, 0, 0), 1e18);
    }

    /// Sound (rv17b): with a fresh surface (10 min old) chained posts inside the block cannot exceed
    /// R^(600/3600) in total; backdating only splits the same elapsed time.
    function test_rv17b_F1_sound_freshSurfaceChainBounded() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        vm.warp(T0 + 600);
        // 4^(300/3600) = 1.12246…
        _postSigned(_one(T0 + 300, _flat(e, 0.04489e18)));
        _postSigned(_one(T0 + 600, _flat(e, 0.05038e18)));
        assertFalse(_tryPost(_one(T0 + 600, _flat(e, 0.0504e18))), "same-block third post");
        assertLe(_w(e, 0), (0.04e18 * 12600) / 10000, "beyond 4^(1/6)");
    }

    /// Sound (rv17b): exponent edges. 1 s at the smallest ratio still allows > 1; the largest R
    /// (16 / 0.25 = 64) does not overflow; ≥ 1 h is exactly R; and 3,600 one-second factors,
    /// multiplied rounding up, do not exceed R.
    function test_rv17b_F1_sound_exponentEdges() public pure {
        uint256 f1 = SviMath.allowedChangeRatioOver(1.1e18, 1e18, 1);
        assertGt(f1, 1e18);
        assertLt(f1, 1.0000265e18);
        assertEq(SviMath.allowedChangeRatioOver(16e18, 0, 3600), 64e18);
        assertEq(SviMath.allowedChangeRatioOver(16e18, 0, type(uint40).max), 64e18);
        uint256 near = SviMath.allowedChangeRatioOver(16e18, 0, 3599);
        assertLe(near, 64e18);
        assertGt(near, 63.9e18);
        uint256[3] memory rs = [uint256(1.1e18), 4e18, 64e18];
        for (uint256 j; j < 3; ++j) {
            uint256 f = SviMath.allowedChangeRatioOver(rs[j], 1e18, 1);
            uint256 prod = 1e18;
            for (uint256 i; i < 3600; ++i) prod = FixedPointMathLib.mulDivUp(prod, f, 1e18);
            assertLe(prod, rs[j] + rs[j] / 1e12, "3600 one-second factors exceed R");
        }
    }

    // ------------------------------------------------------------------ G4: no timestamp after the block

    /// rv17b G4 (was `test_rv17b_F5_futureSignedPayloadReplayedOverCorrection`): a payload signed
    /// 120 s ahead was stored at its landing time, so the identical signed payload was newer again
    /// in any later block and rolled a correction back. Fixed: a timestamp after the block is
    /// refused, so the payload lands only once its time has come, and never over a newer post.
    function test_rv17b_G4_futureSignedPayloadNotReplayedOverCorrection_fixed() public {
        uint256 e = _expiry(30);
        IVolSurfaceOracle.SurfacePost memory p1 = _one(T0 + 120, _flat(e, 0.04e18));
        bytes[] memory sigs1 = _sigs(p1);
        (bool first, ) = address(oracle).call(abi.encodeCall(oracle.post, (p1, sigs1)));
        vm.warp(T0 + 12);
        _postSigned(_one(T0 + 10, _flat(e, 0.0401e18)));
        assertEq(oracle.surface(WETH, e).a, 0.0401e18);
        vm.warp(T0 + 24);
        (bool replayed, ) = address(oracle).call(abi.encodeCall(oracle.post, (p1, sigs1)));
        assertFalse(replayed, "identical signed payload accepted twice, correction rolled back");
        assertFalse(first, "a timestamp after the block was accepted");
        assertEq(oracle.surface(WETH, e).a, 0.0401e18);
        // Once its time has come it is an ordinary post, once.
        vm.warp(T0 + 120);
        oracle.post(p1, sigs1);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotNewer.selector, e, T0 + 120, T0 + 120));
        oracle.post(p1, sigs1);
    }

    /// rv17b G4 (was `test_rv17b_F5_replayFreezesHonestCorrections`): a third party replaying the
    /// future-signed payload each block kept the stored time at the block time, so every honest
    /// post signed before its landing block reverted NotNewer. Fixed: the replay is refused, the
    /// honest correction lands.
    function test_rv17b_G4_replayCannotFreezeHonestCorrections_fixed() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        vm.warp(T0 + 1);
        IVolSurfaceOracle.SurfacePost memory p1 = _one(T0 + 120, _flat(e, 0.04e18));
        bytes[] memory sigs1 = _sigs(p1);
        IVolSurfaceOracle.SurfacePost memory honest = _one(T0 + 10, _flat(e, 0.0401e18)); // signed at T0 + 10
        bytes[] memory sigsH = _sigs(honest);
        vm.warp(T0 + 12);
        (bool griefed, ) = address(oracle).call(abi.encodeCall(oracle.post, (p1, sigs1))); // first in the block
        (bool ok, ) = address(oracle).call(abi.encodeCall(oracle.post, (honest, sigsH)));
        assertTrue(ok, "honest correction refused NotNewer after a replay of the skewed payload");
        assertFalse(griefed);
        assertEq(oracle.surface(WETH, e).a, 0.0401e18);
    }

    /// Sound (rv17b, adapted): the stored timestamp never exceeds the block: a post at the block
    /// time is stored as signed, one a second ahead is refused.
    function test_rv17b_G4_storedNeverFuture() public {
        uint256 e = _expiry(30);
        for (uint256 i; i < 5; ++i) {
            vm.warp(T0 + i * 3600);
            IVolSurfaceOracle.SurfacePost memory ahead = _one(block.timestamp + 1, _flat(e, 0.04e18));
            bytes[] memory sigs = _sigs(ahead);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IVolSurfaceOracle.VolSurfaceFutureTimestamp.selector,
                    block.timestamp + 1,
                    block.timestamp
                )
            );
            oracle.post(ahead, sigs);
            _postSigned(_one(block.timestamp, _flat(e, 0.04e18)));
            assertEq(oracle.surface(WETH, e).timestamp, block.timestamp);
            (, uint256 ts, ) = oracle.volAt(WETH, e, 2000e18, 2000e18);
            assertLe(ts, block.timestamp);
        }
    }

    // ------------------------------------------------------------------ F4 (sound)

    /// Sound (rv17b): a batch whose every member expired in flight succeeds, emits one event per
    /// member and touches no state; replaying it does the same. The oracle charges nothing.
    function test_rv17b_F4_sound_allSkippedBatchTouchesNothing() public {
        uint256 today = (T0 / 1 days + 1) * 1 days + 8 hours;
        vm.warp(today - 10 minutes);
        uint256 e30 = _expiry(30);
        _postSigned(_one(block.timestamp, _flat(e30, 0.04e18)));
        (uint256 prevBefore, uint256 nextBefore) = oracle.neighbours(WETH, e30);
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](2);
        p.surfaces[0] = _flat(today, 0.01e18);
        p.surfaces[1] = _flat(today, 0.02e18); // duplicate member: also just skipped
        bytes[] memory sigs = _sigs(p);
        vm.warp(today);
        vm.recordLogs();
        oracle.post(p, sigs);
        assertEq(vm.getRecordedLogs().length, 2);
        oracle.post(p, sigs);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotPosted.selector, WETH, today));
        oracle.surface(WETH, today);
        (uint256 prevAfter, uint256 nextAfter) = oracle.neighbours(WETH, e30);
        assertEq(prevAfter, prevBefore);
        assertEq(nextAfter, nextBefore);
        assertEq(oracle.surface(WETH, e30).a, 0.04e18);
    }

    /// Sound (rv17b): a skipped member is never a calendar neighbour.
    function test_rv17b_F4_sound_skippedMemberNotANeighbour() public {
        uint256 today = (T0 / 1 days + 1) * 1 days + 8 hours;
        vm.warp(today - 10 minutes);
        uint256 tomorrow = today + 1 days;
        uint256 e30 = _expiry(30);
        _postSigned(_one(block.timestamp, _flat(tomorrow, 0.01e18)));
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](2);
        p.surfaces[0] = _flat(today, 0.5e18); // above +30 d: would be calendar arbitrage if checked
        p.surfaces[1] = _flat(e30, 0.04e18);
        bytes[] memory sigs = _sigs(p);
        vm.warp(today);
        oracle.post(p, sigs);
        (uint256 prev, ) = oracle.neighbours(WETH, e30);
        assertEq(prev, tomorrow);
    }

    // ------------------------------------------------------------------ G1: calendar and change at every k

    function _smile(
        uint256 expiry,
        int256 a,
        int256 b,
        int256 rho,
        int256 m,
        int256 sigma
    ) internal pure returns (IVolSurfaceOracle.SurfaceInput memory s) {
        s = IVolSurfaceOracle.SurfaceInput({
            expiry: expiry,
            a: a,
            b: b,
            rho: rho,
            m: m,
            sigma: sigma,
            confidence: 1e18
        });
    }

    /// A plausible 30-day smile: ATM w = 0.04 (vol 70 %), put skew.
    function _p0(uint256 expiry) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return _smile(expiry, 0.02e18, 0.1e18, -0.3e18, 0, 0.2e18);
    }

    /// rv17b G1 (was `test_rv17b_F3_changeBoundBypassedAtSkewedMinimum`): P0 in force, an hour later
    /// one full-confidence post (×4 allowed) with ρ = −0.504 moved every fixed point and both
    /// vertices ≤ ×3.93 but w at its true minimum k* = 0.104 ×44.8. Fixed: the change rule is proven
    /// at every k, so the post is refused and nothing moves.
    function test_rv17b_G1_changeBoundAtSkewedMinimum_fixed() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _p0(e)));
        vm.warp(T0 + 1 hours);
        IVolSurfaceOracle.SurfacePost memory p = _one(
            block.timestamp,
            _smile(e, -0.0581858056e18, 0.3846795028e18, -0.50398385e18, 0, 0.1777734588e18)
        );
        bool accepted = _tryPost(p);
        SviMath.Params memory p0 = SviMath.Params(0.02e18, 0.1e18, -0.3e18, 0, 0.2e18);
        int256 wOld = SviMath.totalVariance(p0, 0.104e18);
        int256 wNew = _w(e, 0.104e18);
        assertLe(wOld, wNew * 4, "w moved beyond x4 at K/S = 1.11 in one post");
        assertFalse(accepted);
        // Refused first at the left wing: its slope b·(1 − ρ) goes from 0.13 to 0.579, ×4.45.
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(
            abi.encodeWithSelector(
                SviMath.SviChangeWingTooLarge.selector,
                false,
                int256(0.13e18),
                int256(578551759637229780)
            )
        );
        oracle.post(p, sigs);
    }

    /// rv17b G1 (was `test_rv17b_F2_calendarArbitrageAtSkewedMinimum`): 30-day P0 posted; a 60-day
    /// smile (ρ = +0.484) ≥ it at every fixed point and at its vertex, yet 68 % below it at
    /// k = −0.104, was accepted. Fixed: refused, the error near the longer smile's minimum.
    function test_rv17b_G1_calendarAtSkewedMinimum_fixed() public {
        uint256 e1 = _expiry(30);
        uint256 e2 = _expiry(60);
        _postSigned(_one(T0, _p0(e1)));
        IVolSurfaceOracle.SurfacePost memory p = _one(
            T0,
            _smile(e2, -0.1721250147e18, 1.3139619672e18, 0.48406122e18, 0, 0.1617436579e18)
        );
        bool accepted = _tryPost(p);
        if (accepted) {
            int256 k = -0.10434e18;
            assertGe(_w(e2, k), _w(e1, k), "calendar arbitrage at K/S = 0.90");
        }
        assertFalse(accepted);
        bytes[] memory sigs = _sigs(p);
        try oracle.post(p, sigs) {
            assertTrue(false);
        } catch (bytes memory err) {
            assertEq(bytes4(err), SviMath.SviCalendarArbitrage.selector);
            (, int256 k, int256 shorter, int256 longer) = abi.decode(
                abi.encodePacked(bytes28(0), err),
                (bytes32, int256, int256, int256)
            );
            // Reported where the certified bound of w_60 − w_30 is lowest, k ≈ −0.106 (the 60-day
            // smile's own minimum is at k* = −0.0895), and the inversion is real there.
            assertApproxEqAbs(k, -0.106e18, 0.001e18);
            assertLt(longer, shorter);
        }
    }

    // ------------------------------------------------------------------ G5: first posts (documented for part 2)

    /// rv17b G5 (was `test_rv17b_F1_firstPostForLongestExpiryUnbounded`), pinned, not fixed: a
    /// first post beyond the last posted expiry is bounded only by admissibility and the calendar
    /// against its shorter neighbour: 87× the day-30 total variance one day later is accepted.
    /// Part 2 must not mark from an expiry until it has been in force for CHANGE_PERIOD
    /// (docs/vol-surface.md, "First posts"). Between two posted expiries the calendar sandwiches it.
    function test_rv17b_G5_firstPostOpenOnOneSide() public {
        uint256 e1 = _expiry(30);
        uint256 e2 = _expiry(31);
        uint256 e3 = _expiry(32);
        _postSigned(_one(T0, _flat(e1, 0.04e18)));
        _postSigned(_one(T0, _flat(e3, 3.5e18)));
        assertEq(_w(e3, 0), 0.04e18 * 87.5, "open side: accepted");
        // Between the two, above the longer: refused by the calendar.
        assertFalse(_tryPost(_one(T0, _flat(e2, 3.6e18))));
        assertFalse(_tryPost(_one(T0, _flat(e2, 0.039e18))));
        _postSigned(_one(T0, _flat(e2, 1e18)));
    }
}
