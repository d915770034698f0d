// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {VolSurfaceFixture} from "../../helpers/VolSurfaceFixture.sol";
import {VolSurfaceOracleSetUp} from "../../helpers/VolSurfaceOracleSetUp.sol";
import {VolSurfaceOracle} from "../../../contracts/oracle/VolSurfaceOracle.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";

/// @notice Unit tests of `VolSurfaceOracle`: posting, every bad-input error, quorum edge cases,
/// replay, calendar arbitrage, the bounded-change rule, governance, and two fuzz properties.
contract VolSurfaceOracleTest is VolSurfaceFixture {
    uint256 internal constant T0 = 1_700_000_000;
    address internal constant WBTC = address(0xB7);
    address internal constant STRANGER = address(0xBAD);

    function setUp() public {
        vm.warp(T0);
        _setUpSurfaceOracle();
        oracle.grantRole(Roles.RISK_MANAGER_ROLE, address(this));
    }

    // ================================================================ helpers

    /// @dev The expiry `d` days ahead on the grid (08:00 UTC).
    function _expiry(uint256 d) internal view returns (uint256) {
        return (block.timestamp / 1 days + d) * 1 days + 8 hours;
    }

    /// @dev A typical smile scaled by `level` (1e18 = base), at full confidence: the engine
    /// tests' `VolSurfaceOracleSetUp.smile` (ATM vol ~ 60-80 % at 30 days).
    function _surface(uint256 expiry, int256 level) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return VolSurfaceOracleSetUp.smile(expiry, level, 1e18);
    }

    function _post(
        address underlying,
        uint256 ts,
        IVolSurfaceOracle.SurfaceInput memory s
    ) internal pure returns (IVolSurfaceOracle.SurfacePost memory p) {
        p.underlying = underlying;
        p.timestamp = ts;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](1);
        p.surfaces[0] = s;
    }

    /// @dev Signatures by keys[i] for each i in `who`, in that order.
    function _sigs(
        IVolSurfaceOracle.SurfacePost memory p,
        uint256[] memory who
    ) internal view returns (bytes[] memory) {
        bytes32 digest = oracle.postDigest(p);
        bytes[] memory sigs = new bytes[](who.length);
        for (uint256 i; i < who.length; ++i) sigs[i] = _sig(keys[who[i]], digest);
        return sigs;
    }

    function _two() internal pure returns (uint256[] memory who) {
        who = new uint256[](2);
        (who[0], who[1]) = (0, 1);
    }

    /// @dev As `_expectRejected`, matching only the error's selector.
    function _expectRejectedPartial(IVolSurfaceOracle.SurfacePost memory p, bytes4 selector) internal {
        bytes[] memory sigs = _sigs(p, _two());
        vm.expectPartialRevert(selector);
        oracle.post(p, sigs);
    }

    /// @dev The post is refused by the change rule: in the body (`SviChangeTooLarge`) or at a wing
    /// (`SviChangeWingTooLarge`), whichever the check meets first.
    function _expectChangeRefused(IVolSurfaceOracle.SurfacePost memory p) internal {
        _expectEither(p, SviMath.SviChangeTooLarge.selector, SviMath.SviChangeWingTooLarge.selector);
    }

    /// @dev The post is refused as calendar arbitrage, in the body or at a wing.
    function _expectCalendarRefused(IVolSurfaceOracle.SurfacePost memory p) internal {
        _expectEither(p, SviMath.SviCalendarArbitrage.selector, SviMath.SviCalendarWingArbitrage.selector);
    }

    function _expectEither(IVolSurfaceOracle.SurfacePost memory p, bytes4 one, bytes4 other) internal {
        bytes[] memory sigs = _sigs(p, _two());
        try oracle.post(p, sigs) {
            assertTrue(false, "accepted");
        } catch (bytes memory err) {
            bytes4 selector = bytes4(err);
            assertTrue(selector == one || selector == other, "refused with another error");
        }
    }

    function _expectRejected(IVolSurfaceOracle.SurfacePost memory p, bytes memory err) internal {
        bytes[] memory sigs = _sigs(p, _two());
        vm.expectRevert(err);
        oracle.post(p, sigs);
    }

    // ================================================================ posting and reads

    function test_post_storesAndReads() public {
        uint256 e = _expiry(30);
        IVolSurfaceOracle.SurfaceInput memory s = _surface(e, 1e18);
        s.confidence = 0.9e18;
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IVolSurfaceOracle.SurfacePosted(WETH, e, T0, s);
        _postSigned(_post(WETH, T0, s));

        IVolSurfaceOracle.Surface memory r = oracle.surface(WETH, e);
        assertEq(r.a, s.a);
        assertEq(r.b, s.b);
        assertEq(r.rho, s.rho);
        assertEq(r.m, s.m);
        assertEq(r.sigma, s.sigma);
        assertEq(r.timestamp, T0);
        assertEq(r.confidenceWad, 0.9e18);

        (uint256 v, uint256 ts, uint256 c) = oracle.volAt(WETH, e, 2000e18, 1800e18);
        SviMath.Params memory p = SviMath.Params(s.a, s.b, s.rho, s.m, s.sigma);
        assertEq(v, SviMath.vol(p, 2000e18, 1800e18, e - T0));
        assertEq(ts, T0);
        assertEq(c, 0.9e18);
        // The put wing (low strikes) is richer than the call wing at the same distance (ρ < 0).
        (uint256 vPut, , ) = oracle.volAt(WETH, e, 2000e18, 1500e18);
        (uint256 vCall, , ) = oracle.volAt(WETH, e, 2000e18, 2666e18);
        assertGt(vPut, vCall);
    }

    function test_post_severalExpiriesInOneTransaction() public {
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = T0;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](3);
        // Out of order on purpose: the calendar check runs after every write.
        p.surfaces[0] = _surface(_expiry(60), 2e18);
        p.surfaces[1] = _surface(_expiry(7), 1e18);
        p.surfaces[2] = _surface(_expiry(30), 1.5e18);
        _postSigned(p);
        (uint256 prev, uint256 next) = oracle.neighbours(WETH, _expiry(30));
        assertEq(prev, _expiry(7));
        assertEq(next, _expiry(60));
        assertEq(oracle.surface(WETH, _expiry(60)).timestamp, T0);
    }

    function test_reads_revertWhenMissingOrExpired() public {
        uint256 e = _expiry(1);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotPosted.selector, WETH, e));
        oracle.surface(WETH, e);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotPosted.selector, WETH, e));
        oracle.volAt(WETH, e, 1e18, 1e18);
        _postSigned(_post(WETH, T0, _surface(e, 1e18)));
        vm.warp(e);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceExpired.selector, e));
        oracle.volAt(WETH, e, 1e18, 1e18);
    }

    // ================================================================ bad input

    function test_revert_unknownUnderlying() public {
        _expectRejected(
            _post(WBTC, T0, _surface(_expiry(7), 1e18)),
            abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceUnknownUnderlying.selector, WBTC)
        );
    }

    function test_revert_expiryNotOnGrid() public {
        uint256[4] memory bad = [
            _expiry(7) + 1 hours, // not 08:00
            _expiry(0) - 1 days, // past
            _expiry(366), // beyond the horizon
            0
        ];
        for (uint256 i; i < bad.length; ++i) {
            _expectRejected(
                _post(WETH, T0, _surface(bad[i], 1e18)),
                abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceExpiryNotOnGrid.selector, bad[i])
            );
        }
    }

    function test_revert_batchSize() public {
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = T0;
        _expectRejected(p, abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidBatchSize.selector, 0));
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](65);
        _expectRejected(p, abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidBatchSize.selector, 65));
    }

    function test_revert_futureAndStaleTimestamps() public {
        uint256 e = _expiry(7);
        // Up to the block time is fine; a second later is not (rv17b G4).
        _postSigned(_post(WETH, T0, _surface(e, 1e18)));
        uint256 ts = T0 + 1;
        _expectRejected(
            _post(WETH, ts, _surface(_expiry(8), 1e18)),
            abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceFutureTimestamp.selector, ts, T0)
        );
        ts = T0 - 1 hours - 1;
        _expectRejected(
            _post(WETH, ts, _surface(_expiry(8), 1e18)),
            abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceStaleTimestamp.selector, ts, T0)
        );
    }

    function test_revert_replayAndOlderTimestamp() public {
        uint256 e = _expiry(7);
        IVolSurfaceOracle.SurfacePost memory p = _post(WETH, T0, _surface(e, 1e18));
        bytes[] memory sigs = _sigs(p, _two());
        oracle.post(p, sigs);
        // The same signed post again.
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotNewer.selector, e, T0, T0));
        oracle.post(p, sigs);
        // A newer post, then an older signed one lands late.
        IVolSurfaceOracle.SurfacePost memory older = _post(WETH, T0 - 10, _surface(e, 1.1e18));
        bytes[] memory olderSigs = _sigs(older, _two());
        vm.warp(T0 + 60);
        // ×1.01 within 60 s: inside 4^(60/3600) ≈ ×1.023.
        _postSigned(_post(WETH, T0 + 60, _surface(e, 1.01e18)));
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotNewer.selector, e, T0 - 10, T0 + 60));
        oracle.post(older, olderSigs);
        assertEq(oracle.surface(WETH, e).b, 0.101e18);
    }

    function test_revert_replayOnAnotherChainOrContract() public {
        uint256 e = _expiry(7);
        IVolSurfaceOracle.SurfacePost memory p = _post(WETH, T0, _surface(e, 1e18));
        bytes[] memory sigs = _sigs(p, _two());

        // Another contract with the same signers: another domain, so the signatures recover to
        // strangers.
        address[] memory list = new address[](3);
        for (uint256 i; i < 3; ++i) list[i] = signers[i];
        VolSurfaceOracle other = new VolSurfaceOracle(address(this), list, 2, 4e18);
        other.setUnderlying(WETH, true);
        _assertRejectsAsForged(other, p, sigs);

        // The same contract on another chain id.
        uint256 id = block.chainid;
        vm.chainId(id + 1);
        _assertRejectsAsForged(oracle, p, sigs);
        vm.chainId(id);
        oracle.post(p, sigs);
    }

    /// @dev A signature over another domain recovers to some other address: rejected as an
    /// unauthorized signer (or, by chance of the recovered order, as unsorted), nothing stored.
    function _assertRejectsAsForged(
        VolSurfaceOracle target,
        IVolSurfaceOracle.SurfacePost memory p,
        bytes[] memory sigs
    ) internal {
        try target.post(p, sigs) {
            fail();
        } catch (bytes memory err) {
            bytes4 sel = bytes4(err);
            assertTrue(
                sel == IVolSurfaceOracle.VolSurfaceSignerNotAuthorized.selector ||
                    sel == IVolSurfaceOracle.VolSurfaceSignersNotSorted.selector
            );
        }
        vm.expectRevert();
        target.surface(WETH, p.surfaces[0].expiry);
    }

    function test_revert_confidenceAndRange() public {
        uint256 e = _expiry(7);
        IVolSurfaceOracle.SurfaceInput memory s = _surface(e, 1e18);
        s.confidence = 1e18 + 1;
        _expectRejected(
            _post(WETH, T0, s),
            abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidConfidence.selector, 1e18 + 1)
        );
        // Off the stored precision (1e8 wei for a, b, ρ, m, σ; 1e9 wei for confidence): refused,
        // each field on its own, so the oracle never stores anything but what was signed.
        bytes memory offQuantum = abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceParameterNotQuantized.selector, e);
        for (uint256 f; f < 6; ++f) {
            s = _surface(e, 1e18);
            if (f == 0) s.a += 1;
            if (f == 1) s.b -= 1;
            if (f == 2) s.rho -= 0.5e8;
            if (f == 3) s.m = -1;
            if (f == 4) s.sigma += 1e8 - 1;
            if (f == 5) s.confidence -= 1e8;
            _expectRejected(_post(WETH, T0, s), offQuantum);
        }
        s = _surface(e, 1e18);
        s.a = int256(1) << 64;
        _expectRejected(_post(WETH, T0, s), abi.encodeWithSelector(SviMath.SviInputOutOfRange.selector));
    }

    function test_revert_inadmissible() public {
        uint256 e = _expiry(7);
        IVolSurfaceOracle.SurfaceInput memory s = _surface(e, 1e18);
        s.b = -1;
        _expectRejected(_post(WETH, T0, s), abi.encodeWithSelector(SviMath.SviNegativeB.selector, int256(-1)));
        s = _surface(e, 1e18);
        s.rho = -1e18;
        _expectRejected(_post(WETH, T0, s), abi.encodeWithSelector(SviMath.SviRhoOutOfRange.selector, int256(-1e18)));
        s.rho = 1e18;
        _expectRejected(_post(WETH, T0, s), abi.encodeWithSelector(SviMath.SviRhoOutOfRange.selector, int256(1e18)));
        s = _surface(e, 1e18);
        s.sigma = 0;
        _expectRejected(_post(WETH, T0, s), abi.encodeWithSelector(SviMath.SviNonPositiveSigma.selector, int256(0)));
        s.sigma = -5;
        _expectRejected(_post(WETH, T0, s), abi.encodeWithSelector(SviMath.SviNonPositiveSigma.selector, int256(-5)));
        s = _surface(e, 1e18);
        // min w = a + bσ√(1−ρ²) = 0.02 − 0.1·0.2·0.9539... < 0 once a ≤ −0.0191.
        s.a = -0.02e18;
        _expectRejectedPartial(_post(WETH, T0, s), SviMath.SviNegativeVariance.selector);
        s = _surface(e, 1e18);
        s.b = 1.6e18;
        s.rho = -0.3e18; // 1.6 · 1.3 = 2.08 > 2
        _expectRejected(
            _post(WETH, T0, s),
            abi.encodeWithSelector(SviMath.SviWingTooSteep.selector, int256(1.6e18), int256(-0.3e18))
        );
        // Exactly at Lee's bound is admissible.
        s.b = 2e18;
        s.rho = 0;
        _postSigned(_post(WETH, T0, s));
    }

    function _expectRejectedWith(
        IVolSurfaceOracle.SurfacePost memory p,
        bytes[] memory sigs,
        bytes memory err
    ) internal {
        vm.expectRevert(err);
        oracle.post(p, sigs);
    }

    function test_quorum_edgeCases() public {
        IVolSurfaceOracle.SurfacePost memory p = _post(WETH, T0, _surface(_expiry(7), 1e18));
        bytes32 digest = oracle.postDigest(p);
        bytes memory s0 = _sig(keys[0], digest);
        bytes memory s1 = _sig(keys[1], digest);
        bytes memory s2 = _sig(keys[2], digest);

        // Too few.
        bytes[] memory one = new bytes[](1);
        one[0] = s0;
        _expectRejectedWith(p, one, abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceQuorumNotMet.selector, 1, 2));
        // The same signer twice.
        bytes[] memory dup = new bytes[](2);
        (dup[0], dup[1]) = (s0, s0);
        _expectRejectedWith(p, dup, abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceSignersNotSorted.selector, 1));
        // Unsorted.
        bytes[] memory rev = new bytes[](2);
        (rev[0], rev[1]) = (s1, s0);
        _expectRejectedWith(p, rev, abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceSignersNotSorted.selector, 1));
        // A stranger's signature counted towards the quorum.
        uint256 strangerKey = 0xDEAD;
        bytes memory sx = _sig(strangerKey, digest);
        bytes[] memory withStranger = new bytes[](2);
        (withStranger[0], withStranger[1]) = vm.addr(strangerKey) < signers[0] ? (sx, s0) : (s0, sx);
        if (vm.addr(strangerKey) > signers[0]) {
            _expectRejectedWith(
                p,
                withStranger,
                abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceSignerNotAuthorized.selector, vm.addr(strangerKey))
            );
        }
        // A malformed signature.
        bytes[] memory bad = new bytes[](2);
        (bad[0], bad[1]) = (s0, bytes.concat(s1, hex"00"));
        _expectRejectedWith(p, bad, abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidSignature.selector, 1));
        // A high-s (malleable) signature.
        bad[1] = _highS(keys[1], digest);
        _expectRejectedWith(p, bad, abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidSignature.selector, 1));
        // All three, sorted: fine (more than the quorum is allowed).
        bytes[] memory three = new bytes[](3);
        (three[0], three[1], three[2]) = (s0, s1, s2);
        oracle.post(p, three);
    }

    /// @dev The same signature with s replaced by n − s (and v flipped): valid for ecrecover, refused by OZ.
    function _highS(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(key, digest);
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        return abi.encodePacked(r, bytes32(n - uint256(sv)), v == 27 ? uint8(28) : uint8(27));
    }

    // ================================================================ calendar arbitrage

    function test_calendar_insertionBetweenTwoPostedExpiries() public {
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = T0;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](2);
        p.surfaces[0] = _surface(_expiry(7), 1e18);
        p.surfaces[1] = _surface(_expiry(60), 2e18);
        _postSigned(p);

        uint256 mid = _expiry(30);
        // Below the shorter neighbour everywhere.
        _expectCalendarRefused(_post(WETH, T0, _surface(mid, 0.9e18)));
        // Above the longer neighbour everywhere.
        _expectCalendarRefused(_post(WETH, T0, _surface(mid, 2.1e18)));
        // A crossing smile: above at the wings, below ATM.
        IVolSurfaceOracle.SurfaceInput memory crossing = _surface(mid, 1.5e18);
        crossing.a = 0.005e18;
        crossing.b = 0.3e18;
        _expectCalendarRefused(_post(WETH, T0, crossing));
        // In between: accepted, and the neighbours are unchanged.
        _postSigned(_post(WETH, T0, _surface(mid, 1.5e18)));
        assertEq(oracle.surface(WETH, _expiry(7)).b, 0.1e18);
        assertEq(oracle.surface(WETH, _expiry(60)).b, 0.2e18);
    }

    function test_calendar_expiredNeighbourIgnored() public {
        _postSigned(_post(WETH, T0, _surface(_expiry(1), 3e18)));
        vm.warp(_expiry(1) + 1);
        uint256 e = _expiry(7);
        (uint256 prev, ) = oracle.neighbours(WETH, e);
        assertEq(prev, 0);
        _postSigned(_post(WETH, block.timestamp, _surface(e, 1e18)));
    }

    function test_calendar_neighboursAcrossBitmapWords() public {
        // 300 days apart spans more than one 256-day bitmap word.
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = T0;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](2);
        p.surfaces[0] = _surface(_expiry(2), 1e18);
        p.surfaces[1] = _surface(_expiry(330), 3e18);
        _postSigned(p);
        (uint256 prev, uint256 next) = oracle.neighbours(WETH, _expiry(150));
        assertEq(prev, _expiry(2));
        assertEq(next, _expiry(330));
        (prev, next) = oracle.neighbours(WETH, _expiry(330));
        assertEq(prev, _expiry(2));
        assertEq(next, 0);
    }

    // ================================================================ bounded change

    function test_change_boundWidensAsConfidenceFalls() public {
        uint256 e = _expiry(30);
        _postSigned(_post(WETH, T0, _surface(e, 0.3e18)));
        // An hour apart, each post gets the full allowance R(c) (the per-time bound is
        // test_change_boundIsPerUnitOfTime). ×3.67 total variance (vol ×1.9) is inside the default limit of ×4: accepted.
        vm.warp(T0 + 1 hours);
        _postSigned(_post(WETH, T0 + 1 hours, _surface(e, 1.1e18)));
        // Up ×4.09 or down ÷4.4 at full confidence: refused.
        vm.warp(T0 + 2 hours);
        _expectChangeRefused(_post(WETH, T0 + 2 hours, _surface(e, 4.5e18)));
        _expectChangeRefused(_post(WETH, T0 + 2 hours, _surface(e, 0.25e18)));
        // The allowance is ratio / max(confidence, 0.25): ×4.09 needs confidence ≤ 4/4.09 ≈ 0.978.
        IVolSurfaceOracle.SurfaceInput memory s = _surface(e, 4.5e18);
        s.confidence = 0.98e18;
        _expectChangeRefused(_post(WETH, T0 + 2 hours, s));
        s.confidence = 0.97e18;
        _postSigned(_post(WETH, T0 + 2 hours, s));
        assertEq(oracle.surface(WETH, e).confidenceWad, 0.97e18);
        // Even at zero confidence the bound holds (×16 = 4 × 4). Raising a alone (b fixed, so Lee's
        // bound is not what refuses): w(0) from 0.18 to 2.99 (×16.6) refused, to 2.69 (×14.9) accepted.
        vm.warp(T0 + 3 hours);
        s = _surface(e, 4.5e18);
        s.confidence = 0;
        s.a = 2.9e18;
        _expectChangeRefused(_post(WETH, T0 + 3 hours, s));
        s.a = 2.6e18;
        _postSigned(_post(WETH, T0 + 3 hours, s));
        // The next full-confidence post is bounded against that one: straight back (÷14.9) refused,
        // back in two steps of less than ×4 accepted.
        vm.warp(T0 + 4 hours);
        _expectChangeRefused(_post(WETH, T0 + 4 hours, _surface(e, 4.5e18)));
        s.confidence = 1e18;
        s.a = 0.6e18;
        _postSigned(_post(WETH, T0 + 4 hours, s));
        vm.warp(T0 + 5 hours);
        _postSigned(_post(WETH, T0 + 5 hours, _surface(e, 4.5e18)));
        // A tighter governed ratio applies to the next post: ×1.11 refused, ×1.09 accepted.
        vm.expectEmit(address(oracle));
        emit IVolSurfaceOracle.ChangeRatioSet(1.1e18);
        oracle.setChangeRatio(1.1e18);
        vm.warp(T0 + 6 hours);
        _expectChangeRefused(_post(WETH, T0 + 6 hours, _surface(e, 5e18)));
        _postSigned(_post(WETH, T0 + 6 hours, _surface(e, 4.9e18)));
    }

    // ================================================================ governance

    function test_governance_boundsRolesAndEvents() public {
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidQuorum.selector, 0, 3));
        oracle.setQuorum(0);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidQuorum.selector, 4, 3));
        oracle.setQuorum(4);
        vm.expectEmit(address(oracle));
        emit IVolSurfaceOracle.QuorumSet(3);
        oracle.setQuorum(3);
        // Removing a signer below the quorum fails; lower the quorum first.
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidQuorum.selector, 3, 2));
        oracle.setSigner(signers[2], false);
        oracle.setQuorum(2);
        vm.expectEmit(address(oracle));
        emit IVolSurfaceOracle.SignerSet(signers[2], false);
        oracle.setSigner(signers[2], false);
        assertEq(oracle.signerCount(), 2);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidSigner.selector, signers[2]));
        oracle.setSigner(signers[2], false);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidSigner.selector, address(0)));
        oracle.setSigner(address(0), true);
        for (uint160 i = 1; i <= 14; ++i) oracle.setSigner(address(i), true);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidSigner.selector, address(15)));
        oracle.setSigner(address(15), true);

        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidChangeRatio.selector, 1.09e18));
        oracle.setChangeRatio(1.09e18);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidChangeRatio.selector, 16e18 + 1));
        oracle.setChangeRatio(16e18 + 1);
        vm.expectRevert(IVolSurfaceOracle.VolSurfaceInvalidConfig.selector);
        oracle.setUnderlying(address(0), true);

        vm.startPrank(STRANGER);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                STRANGER,
                oracle.DEFAULT_ADMIN_ROLE()
            )
        );
        oracle.setQuorum(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                STRANGER,
                oracle.DEFAULT_ADMIN_ROLE()
            )
        );
        oracle.setSigner(STRANGER, true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                STRANGER,
                Roles.RISK_MANAGER_ROLE
            )
        );
        oracle.setChangeRatio(2e18);
        vm.stopPrank();
    }

    function test_constructor_rejectsBadConfig() public {
        address[] memory none = new address[](0);
        vm.expectRevert(IVolSurfaceOracle.VolSurfaceInvalidConfig.selector);
        new VolSurfaceOracle(address(0), none, 1, 4e18);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidQuorum.selector, 1, 0));
        new VolSurfaceOracle(address(this), none, 1, 4e18);
        address[] memory twice = new address[](2);
        (twice[0], twice[1]) = (signers[0], signers[0]);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceInvalidSigner.selector, signers[0]));
        new VolSurfaceOracle(address(this), twice, 1, 4e18);
    }

    // ================================================================ fuzz

    /// @dev Any accepted surface has w(k) ≥ 0 (to a wei of rounding) across |k| ≤ 3; any rejected post leaves the
    /// previous surface exactly as it was.
    function testFuzz_acceptedIsNonNegative_rejectedChangesNothing(
        int256 a,
        int256 b,
        int256 rho,
        int256 m,
        int256 sigma,
        uint256 confidence,
        uint256 day
    ) public {
        uint256 e = _expiry(30);
        _postSigned(_post(WETH, T0, _surface(e, 1e18)));
        IVolSurfaceOracle.Surface memory before = oracle.surface(WETH, e);

        IVolSurfaceOracle.SurfaceInput memory s = IVolSurfaceOracle.SurfaceInput({
            expiry: bound(day, 0, 3) == 0 ? e : _expiry(bound(day, 1, 60)),
            // On the stored quanta (1e8 wei; confidence 1e9 wei), beyond the admissible ranges.
            a: bound(a, -1e10, 2e10) * 1e8,
            b: bound(b, -0.1e10, 2.2e10) * 1e8,
            rho: bound(rho, -1.05e10, 1.05e10) * 1e8,
            m: bound(m, -1e10, 1e10) * 1e8,
            sigma: bound(sigma, -0.1e10, 2e10) * 1e8,
            confidence: bound(confidence, 0, 1.1e9) * 1e9
        });
        vm.warp(T0 + 1 hours);
        IVolSurfaceOracle.SurfacePost memory p = _post(WETH, T0 + 1 hours, s);
        bytes[] memory sigs = _sigs(p, _two());
        try oracle.post(p, sigs) {
            SviMath.Params memory q = SviMath.Params(s.a, s.b, s.rho, s.m, s.sigma);
            for (int256 k = -3e18; k <= 3e18; k += 0.125e18) assertGe(SviMath.totalVariance(q, k), -1);
            assertEq(oracle.surface(WETH, s.expiry).timestamp, T0 + 1 hours);
        } catch {
            IVolSurfaceOracle.Surface memory afterwards = oracle.surface(WETH, e);
            assertEq(abi.encode(afterwards), abi.encode(before));
            if (s.expiry != e) {
                vm.expectRevert();
                oracle.surface(WETH, s.expiry);
            }
        }
    }

    /// @dev One-word packing is exact: any admissible smile on the quanta, up to the extremes of
    /// SviMath's range (|parameter| < 2**64 wei), reads back as posted, and prices as posted.
    function testFuzz_packingRoundTrips(int256 a, int256 b, int256 rho, int256 m, int256 sigma, uint256 c) public {
        int256 limit = int256((uint256(1) << 64) / 1e8); // quanta strictly below 2**64 wei
        IVolSurfaceOracle.SurfaceInput memory s;
        s.expiry = _expiry(30);
        s.rho = bound(rho, -1e10 + 1, 1e10 - 1) * 1e8;
        // Lee: b·(1 + |ρ|) ≤ 2.
        int256 absRho = s.rho < 0 ? -s.rho : s.rho;
        s.b = bound(b, 0, int256(2e36 / (1e18 + uint256(absRho))) / 1e8) * 1e8;
        s.sigma = bound(sigma, 1, limit - 1) * 1e8;
        s.m = bound(m, -limit + 1, limit - 1) * 1e8;
        s.a = bound(a, 0, limit - 1) * 1e8; // a ≥ 0 keeps the minimum variance ≥ 0
        if (uint256(a) % 2 == 1) s.a = -s.a / 1e18; // some negative a, small enough to stay admissible
        s.a = (s.a / 1e8) * 1e8;
        s.confidence = bound(c, 0, 1e9) * 1e9;
        try oracle.post(_post(WETH, T0, s), _sigs(_post(WETH, T0, s), _two())) {
            IVolSurfaceOracle.Surface memory r = oracle.surface(WETH, s.expiry);
            assertEq(r.a, s.a);
            assertEq(r.b, s.b);
            assertEq(r.rho, s.rho);
            assertEq(r.m, s.m);
            assertEq(r.sigma, s.sigma);
            assertEq(r.timestamp, T0);
            assertEq(r.confidenceWad, s.confidence);
        } catch (bytes memory err) {
            // Only inadmissibility (a negative minimum) may refuse such a smile.
            assertEq(bytes4(err), SviMath.SviNegativeVariance.selector);
        }
    }

    function test_packing_extremes() public {
        int256 top = int256((((uint256(1) << 64) - 1) / 1e8) * 1e8);
        IVolSurfaceOracle.SurfaceInput memory s = IVolSurfaceOracle.SurfaceInput({
            expiry: _expiry(30),
            a: top,
            b: 2e18,
            rho: 0,
            m: -top,
            sigma: top,
            confidence: 1e18
        });
        _postSigned(_post(WETH, T0, s));
        IVolSurfaceOracle.Surface memory r = oracle.surface(WETH, s.expiry);
        assertEq(abi.encode(r.a, r.b, r.rho, r.m, r.sigma, r.confidenceWad), abi.encode(top, 2e18, 0, -top, top, 1e18));
        s = IVolSurfaceOracle.SurfaceInput({
            expiry: _expiry(29),
            a: top,
            b: 1e8,
            rho: -1e18 + 1e8,
            m: top,
            sigma: 1e8,
            confidence: 0
        });
        _postSigned(_post(WETH, T0, s));
        r = oracle.surface(WETH, s.expiry);
        assertEq(
            abi.encode(r.a, r.b, r.rho, r.m, r.sigma, r.confidenceWad),
            abi.encode(top, 1e8, -1e18 + 1e8, top, 1e8, 0)
        );
    }
}
