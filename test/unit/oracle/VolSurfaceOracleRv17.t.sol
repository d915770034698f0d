// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VolSurfaceFixture} from "../../helpers/VolSurfaceFixture.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";

/// @notice Regression tests for review rv17 (notes/rv17-findings.md, repros by the reviewer in
/// test/review/Rv17Surface.t.sol of that worktree), each asserting the fixed behaviour (F2/F3 since
/// rv17b G1 by the calendar and change checks at every k, docs/vol-surface.md).
contract VolSurfaceOracleRv17Test is VolSurfaceFixture {
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

    // ------------------------------------------------------------------ F1: per unit of time

    /// The reviewer's chain: ×4 per post, four posts in one block. Fixed: the second post is
    /// 3,001 s after the first, so it may move at most 4^(3001/3600) ≈ ×3.18; ×4 is refused, and
    /// nothing in the block moves w beyond ×4.
    function test_rv17_F1_changeBoundRatchetsWithinOneBlock() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0 - 3000, _flat(e, 0.04e18)));
        int256 a = 0.04e18;
        for (uint256 i = 1; i <= 4; ++i) {
            a *= 4;
            assertFalse(_tryPost(_one(T0 + i, _flat(e, a))), "a x4 step in the same block was accepted");
        }
        assertEq(block.timestamp, T0);
        assertLe(_w(e, 0), 0.04e18 * 4, "variance moved beyond x4 in one block");
    }

    /// Chained posts at the most each may move multiply to at most the governed ratio per hour:
    /// six 10-minute steps of just under 4^(1/6) reach < ×4 after an hour, and one more step a
    /// second later (any visible move) is refused.
    function test_rv17_F1_chainedPostsBoundedPerHour() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        int256 a = 0.04e18;
        for (uint256 i = 1; i <= 6; ++i) {
            vm.warp(T0 + i * 10 minutes);
            // 4^(1/6) = 1.2599…; step ×1.2599 floored to the 1e8 quantum.
            a = ((a * 1.2599e18) / 1e18 / 1e8) * 1e8;
            _postSigned(_one(block.timestamp, _flat(e, a)));
        }
        assertLe(_w(e, 0), 0.04e18 * 4);
        assertGe(_w(e, 0), (0.04e18 * 399) / 100);
        vm.warp(block.timestamp + 1);
        // One second allows 4^(1/3600) ≈ ×1.000385: ×1.001 refused, ×1.0003 accepted.
        IVolSurfaceOracle.SurfacePost memory p = _one(block.timestamp, _flat(e, ((a * 1.001e18) / 1e18 / 1e8) * 1e8));
        bytes[] memory sigs = _sigs(p);
        vm.expectPartialRevert(SviMath.SviChangeTooLarge.selector);
        oracle.post(p, sigs);
        _postSigned(_one(block.timestamp, _flat(e, ((a * 1.0003e18) / 1e18 / 1e8) * 1e8)));
    }

    /// The reviewer's laundering: ×16 at confidence 0 one second after the previous post is now
    /// refused outright (1 s allows 16^(1/3600)).
    function test_rv17_F1_lowConfidenceJumpRelabelledFullConfidence() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        IVolSurfaceOracle.SurfaceInput memory s = _flat(e, 0.64e18);
        s.confidence = 0;
        assertFalse(_tryPost(_one(T0 + 1, s)), "x16 one second later");
        s.confidence = 1e18;
        assertFalse(_tryPost(_one(T0 + 2, s)), "x16 two seconds later");
        IVolSurfaceOracle.Surface memory r = oracle.surface(WETH, e);
        assertTrue(!(r.confidenceWad == 1e18 && r.a == 0.64e18), "x16 jump now stands at full confidence");
    }

    /// A ×16 jump an hour later at confidence 0 is allowed, but re-posting it at full confidence
    /// does not relabel it: the stored confidence rises by at most 1 per hour.
    function test_rv17_F1_lowConfidenceCarriedForward() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        vm.warp(T0 + 1 hours);
        IVolSurfaceOracle.SurfaceInput memory s = _flat(e, 0.64e18);
        s.confidence = 0;
        _postSigned(_one(block.timestamp, s));
        s.confidence = 1e18;
        vm.warp(T0 + 1 hours + 1);
        _postSigned(_one(block.timestamp, s));
        // 1 s: (1e9 / 3600) steps of 1e-9 = 2.77777e-4.
        assertEq(oracle.surface(WETH, e).confidenceWad, 277_777e9);
        vm.warp(T0 + 1 hours + 1 + 30 minutes);
        _postSigned(_one(block.timestamp, s));
        assertEq(oracle.surface(WETH, e).confidenceWad, 277_777e9 + 500_000_000e9);
        // Falling is immediate.
        s.confidence = 0.1e18;
        vm.warp(block.timestamp + 1);
        _postSigned(_one(block.timestamp, s));
        assertEq(oracle.surface(WETH, e).confidenceWad, 0.1e18);
        // After a full hour the posted confidence stands.
        s.confidence = 1e18;
        vm.warp(block.timestamp + 1 hours);
        _postSigned(_one(block.timestamp, s));
        assertEq(oracle.surface(WETH, e).confidenceWad, 1e18);
    }

    // ------------------------------------------------------------------ F5: no timestamp after the block

    /// The reviewer's repro: a post signed 2 min ahead. Since rv17b G4 it is refused outright, so
    /// `volAt` never reports a future time, and a correction signed on a true clock 60 s later lands.
    function test_rv17_F5_futureTimestampFreezesCorrections() public {
        uint256 e = _expiry(30);
        IVolSurfaceOracle.SurfacePost memory ahead = _one(T0 + 120, _flat(e, 0.04e18));
        bytes[] memory sigs = _sigs(ahead);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceFutureTimestamp.selector, T0 + 120, T0));
        oracle.post(ahead, sigs);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        (, uint256 ts, ) = oracle.volAt(WETH, e, 2000e18, 2000e18);
        assertEq(ts, T0);
        vm.warp(T0 + 60);
        _postSigned(_one(T0 + 60, _flat(e, 0.0401e18)));
        assertEq(oracle.surface(WETH, e).timestamp, T0 + 60);
        assertEq(oracle.surface(WETH, e).a, 0.0401e18);
    }

    /// A second post for the same expiry in the same block is not newer: its timestamp cannot be
    /// after the block, and the first one already holds the block's time.
    function test_rv17_F5_onePostPerExpiryPerBlock() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        IVolSurfaceOracle.SurfacePost memory p = _one(T0, _flat(e, 0.0401e18));
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotNewer.selector, e, T0, T0));
        oracle.post(p, sigs);
    }

    // ------------------------------------------------------------------ F4: expired in flight is skipped

    /// The reviewer's repro: a batch signed at 07:50 with today's 08:00 expiry lands at 08:00:00;
    /// today's member is skipped with an event and the 30-day member applies.
    function test_rv17_F4_batchRevertsWhenOneMemberExpiresInFlight() public {
        uint256 today = (T0 / 1 days + 1) * 1 days + 8 hours; // next 08:00
        vm.warp(today - 10 minutes);
        uint256 e30 = _expiry(30);
        _postSigned(_one(block.timestamp - 3600, _flat(e30, 0.04e18)));
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](2);
        p.surfaces[0] = _flat(today, 0.01e18);
        p.surfaces[1] = _flat(e30, 0.05e18);
        bytes[] memory sigs = _sigs(p);
        vm.warp(today); // lands 10 min later, well within MAX_POST_AGE
        vm.expectEmit(address(oracle));
        emit IVolSurfaceOracle.SurfaceExpiredInFlight(WETH, today);
        oracle.post(p, sigs);
        assertEq(oracle.surface(WETH, e30).a, 0.05e18);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotPosted.selector, WETH, today));
        oracle.surface(WETH, today);
    }

    /// Every other grid check stays strict: an expiry already past when signed, or not at 08:00,
    /// still reverts the whole batch.
    function test_rv17_F4_otherGridErrorsStillRevert() public {
        uint256 past = (T0 / 1 days) * 1 days + 8 hours; // 08:00 today or earlier, before T0
        if (past > T0) past -= 1 days;
        uint256 e30 = _expiry(30);
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = T0;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](2);
        p.surfaces[0] = _flat(e30, 0.05e18);
        p.surfaces[1] = _flat(past, 0.01e18);
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceExpiryNotOnGrid.selector, past));
        oracle.post(p, sigs);
        p.surfaces[1] = _flat(_expiry(31) + 1, 0.05e18);
        sigs = _sigs(p);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceExpiryNotOnGrid.selector, _expiry(31) + 1));
        oracle.post(p, sigs);
    }

    // ------------------------------------------------------------------ F2/F3: checked at every k

    /// The reviewer's calendar repro: the 60-day smile dips to 0.030 at k = 0.125, between check
    /// points, below the 30-day 0.040. Fixed: the calendar is proven at every k; the bound is
    /// lowest at the dip's vertex, which the error reports.
    function test_rv17_F2_calendarArbitrageBetweenCheckPoints() public {
        uint256 e1 = _expiry(30);
        uint256 e2 = _expiry(60);
        _postSigned(_one(T0, _flat(e1, 0.04e18)));
        IVolSurfaceOracle.SurfaceInput memory s = IVolSurfaceOracle.SurfaceInput({
            expiry: e2,
            a: 0.03e18,
            b: 0.08e18,
            rho: 0,
            m: 0.125e18,
            sigma: 0.0001e18,
            confidence: 1e18
        });
        IVolSurfaceOracle.SurfacePost memory p = _one(T0, s);
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(
            abi.encodeWithSelector(
                SviMath.SviCalendarArbitrage.selector,
                int256(0.125e18),
                int256(0.04e18),
                int256(0.030008e18)
            )
        );
        oracle.post(p, sigs);
        // Nothing was stored for the 60-day expiry.
        vm.expectRevert();
        oracle.surface(WETH, e2);
    }

    /// The reviewer's change repro, an hour later so the full ×4 applies: every fixed point moves
    /// < ×4 but w at k = 0.125 falls ×39.7. Refused since rv17b G1 by the change rule at every k:
    /// here first at the right wing, whose slope goes from 0 (flat) to 0.074 (0.90 annualised at
    /// 30 days), far beyond ×4 of the floor's (annualised 0.0025 since rv17c H1).
    function test_rv17_F3_changeBoundBypassedBetweenCheckPoints() public {
        uint256 e = _expiry(30);
        _postSigned(_one(T0, _flat(e, 0.04e18)));
        IVolSurfaceOracle.SurfaceInput memory s = IVolSurfaceOracle.SurfaceInput({
            expiry: e,
            a: 0.001e18,
            b: 0.074e18,
            rho: 0,
            m: 0.125e18,
            sigma: 0.0001e18,
            confidence: 1e18
        });
        vm.warp(T0 + 1 hours);
        IVolSurfaceOracle.SurfacePost memory p = _one(T0 + 1 hours, s);
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(
            abi.encodeWithSelector(SviMath.SviChangeWingTooLarge.selector, true, int256(0), int256(0.074e18))
        );
        oracle.post(p, sigs);
        assertEq(oracle.surface(WETH, e).a, 0.04e18);
        // With the wings kept within the ratio (b = 1e-4), the dip itself is refused in the body,
        // at its vertex.
        s.b = 0.0001e18;
        s.a = 0.001e18;
        p = _one(T0 + 1 hours, s);
        sigs = _sigs(p);
        vm.expectPartialRevert(SviMath.SviChangeTooLarge.selector);
        oracle.post(p, sigs);
    }

    /// Removing a narrow dip: in force a dip to 0.0010074 at k = 0.125; a flat 0.04 (×39.7 there,
    /// < ×4 at every old fixed point) is refused, the error at the old vertex.
    function test_rv17_F3_removingADipCheckedAtOldVertex() public {
        uint256 e = _expiry(30);
        IVolSurfaceOracle.SurfaceInput memory s = IVolSurfaceOracle.SurfaceInput({
            expiry: e,
            a: 0.001e18,
            b: 0.074e18,
            rho: 0,
            m: 0.125e18,
            sigma: 0.0001e18,
            confidence: 1e18
        });
        _postSigned(_one(T0, s));
        vm.warp(T0 + 1 hours);
        IVolSurfaceOracle.SurfacePost memory p = _one(T0 + 1 hours, _flat(e, 0.04e18));
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(
            abi.encodeWithSelector(
                SviMath.SviChangeTooLarge.selector,
                int256(0.125e18),
                int256(0.0010074e18),
                int256(0.04e18)
            )
        );
        oracle.post(p, sigs);
    }
}
