// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {VolSurfaceFixture} from "../../helpers/VolSurfaceFixture.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";

/// @notice Regression tests for review rv17d S1 and V1 (notes/rv17d-findings.md; the reviewer's
/// repros were test/review/Rv17dSurface.t.sol and rv17d.signer.test.ts of that worktree).
/// S1: a skew move across the 32-expiry batch boundary froze the whole surface, because either
/// batch alone is a calendar-inverted intermediate state. Now a post carries up to 64 expiries and
/// an underlying holds at most 64 live ones, so the whole live term structure always moves in one
/// post. V1: `volAt` divided w by expiry − now while the change rule annualises by expiry − the
/// post's timestamp, so reads drifted up between posts; it now returns the posted annualised vol.
/// Review rv17e (T1): a post adding a new expiry before an update in force is capped too.
contract VolSurfaceOracleRv17dTest is VolSurfaceFixture {
    /// 2023-11-15 04:00 UTC; day 19,676 is bit 220 of bitmap word 76, so a year of expiries spans
    /// words 76–78.
    uint256 internal constant T0 = 19_676 days + 4 hours;
    uint256 internal constant DAY0 = 19_676 days + 8 hours;
    uint256 internal constant YEAR = 365 days;

    function setUp() public {
        vm.warp(T0);
        _setUpSurfaceOracle();
    }

    // ================================================================ helpers

    function _day(uint256 d) internal pure returns (uint256) {
        return DAY0 + d * 1 days;
    }

    /// @dev On the 1e-10 quantum, to the nearest step.
    function _q(int256 x) internal pure returns (int256) {
        return x >= 0 ? ((x + 0.5e8) / 1e8) * 1e8 : -((-x + 0.5e8) / 1e8) * 1e8;
    }

    /// @dev The exact SSVI smile of rv17d's S1 surface: θ = 0.36·T (60 % ATM vol), T from `ts`,
    /// φ = θ^−½, so a = θ(1 − ρ²)/2, b = √θ/2, m = −ρ√θ, σ = √(1 − ρ²)·√θ.
    function _ssvi(
        uint256 expiry,
        uint256 ts,
        int256 rho
    ) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        uint256 theta = (0.36e18 * (expiry - ts)) / YEAR;
        int256 root = int256(FixedPointMathLib.sqrt(theta * 1e18));
        int256 oneMinusRho2 = 1e18 - (rho * rho) / 1e18;
        return
            IVolSurfaceOracle.SurfaceInput({
                expiry: expiry,
                a: _q((int256(theta) * oneMinusRho2) / 2e18),
                b: _q(root / 2),
                rho: rho,
                m: _q((-rho * root) / 1e18),
                sigma: _q((int256(FixedPointMathLib.sqrt(uint256(oneMinusRho2) * 1e18)) * root) / 1e18),
                confidence: 1e18
            });
    }

    /// @dev A plain admissible smile, the same at every expiry (so every calendar pair is equal).
    function _flat(uint256 expiry) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return
            IVolSurfaceOracle.SurfaceInput({
                expiry: expiry,
                a: 0.02e18,
                b: 0.1e18,
                rho: -0.3e18,
                m: 0,
                sigma: 0.2e18,
                confidence: 1e18
            });
    }

    /// @dev The S1 surface for days [from, to], signed at `ts`.
    function _ssviPost(
        uint256 from,
        uint256 to,
        uint256 ts,
        int256 rho
    ) internal pure returns (IVolSurfaceOracle.SurfacePost memory p) {
        p.underlying = WETH;
        p.timestamp = ts;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](to - from + 1);
        for (uint256 d = from; d <= to; ++d) p.surfaces[d - from] = _ssvi(_day(d), ts, rho);
    }

    /// @dev `_flat` smiles for `count` days from `from`, signed now.
    function _flatPost(uint256 from, uint256 count) internal view returns (IVolSurfaceOracle.SurfacePost memory p) {
        p.underlying = WETH;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](count);
        for (uint256 i; i < count; ++i) p.surfaces[i] = _flat(_day(from + i));
    }

    /// @dev The post is refused as calendar arbitrage, in the body or at a wing.
    function _expectCalendarRefused(IVolSurfaceOracle.SurfacePost memory p) internal {
        bytes[] memory sigs = _sigs(p);
        try oracle.post(p, sigs) {
            assertTrue(false, "accepted");
        } catch (bytes memory err) {
            bytes4 selector = bytes4(err);
            assertTrue(
                selector == SviMath.SviCalendarArbitrage.selector ||
                    selector == SviMath.SviCalendarWingArbitrage.selector,
                "refused with another error"
            );
        }
    }

    // ================================================================ S1

    /// rv17d S1: 40 daily expiries of a 60 %-vol SSVI surface (ρ −0.3), then two hours later the
    /// same level with ρ −0.35. Posted as [32, 8] either way round, the first post is the refused
    /// intermediate state (the put wing inverts at the day-32/33 boundary when steepening the short
    /// side first, the call wing when the long side goes first). In one post of 40, accepted.
    function test_rv17d_S1_skewMoveOfFortyExpiriesInOnePost_fixed() public {
        _postSigned(_ssviPost(1, 40, T0, -0.3e18));
        assertEq(oracle.liveExpiryCount(WETH), 40);
        vm.warp(T0 + 2 hours);
        uint256 ts = block.timestamp;
        // The old batching, both orders: refused at the boundary.
        _expectCalendarRefused(_ssviPost(1, 32, ts, -0.35e18));
        _expectCalendarRefused(_ssviPost(33, 40, ts, -0.35e18));
        // The whole term structure at once.
        _postSigned(_ssviPost(1, 40, ts, -0.35e18));
        for (uint256 d = 1; d <= 40; ++d) assertEq(oracle.surface(WETH, _day(d)).rho, -0.35e18);
    }

    /// The cap: 64 live expiries post in one transaction; a 65th is refused
    /// `VolSurfaceTooManyExpiries(65, 64)`, in its own post or with the others; updates at the cap
    /// still land; once one expires, a new one is accepted.
    function test_rv17d_S1_liveExpiriesCappedAtMaxBatch() public {
        assertEq(oracle.MAX_BATCH(), 64);
        // Days 1–64 straddle bitmap words 76 and 77 (day 19,712 is bit 0 of word 77).
        _postSigned(_flatPost(1, 64));
        assertEq(oracle.liveExpiryCount(WETH), 64);
        uint256[] memory live = oracle.liveExpiries(WETH);
        assertEq(live.length, 64);
        for (uint256 i; i < 64; ++i) assertEq(live[i], _day(1 + i));

        IVolSurfaceOracle.SurfacePost memory extra = _flatPost(65, 1);
        bytes[] memory sigs = _sigs(extra);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceTooManyExpiries.selector, 65, 64));
        oracle.post(extra, sigs);
        // Far away (another bitmap word): counted all the same.
        extra = _flatPost(300, 1);
        sigs = _sigs(extra);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceTooManyExpiries.selector, 65, 64));
        oracle.post(extra, sigs);

        // An update of all 64 at the cap: no new expiry, accepted.
        vm.warp(T0 + 1 hours);
        _postSigned(_flatPost(1, 64));
        assertEq(oracle.surface(WETH, _day(64)).timestamp, T0 + 1 hours);

        // Day 1 expires (at its 08:00 exactly it is no longer live): room for one more.
        vm.warp(_day(1));
        assertEq(oracle.liveExpiryCount(WETH), 63);
        assertEq(oracle.liveExpiries(WETH)[0], _day(2));
        _postSigned(_flatPost(65, 1));
        assertEq(oracle.liveExpiryCount(WETH), 64);
        extra = _flatPost(66, 1);
        sigs = _sigs(extra);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceTooManyExpiries.selector, 65, 64));
        oracle.post(extra, sigs);
    }

    /// A post of 64 new expiries refused whole when one more is already live, and nothing is
    /// stored; the bound counts what the post adds, not only its length.
    function test_rv17d_S1_capCountsExpiriesInForce() public {
        _postSigned(_flatPost(100, 1));
        IVolSurfaceOracle.SurfacePost memory p = _flatPost(1, 64);
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceTooManyExpiries.selector, 65, 64));
        oracle.post(p, sigs);
        assertEq(oracle.liveExpiryCount(WETH), 1);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceNotPosted.selector, WETH, _day(1)));
        oracle.surface(WETH, _day(1));
    }

    /// Expired posted expiries are never calendar neighbours, at the boundary second too: at its
    /// 08:00 a day is expired (`volAt` reverts) and no longer a neighbour, so a smile below it on
    /// the next day is accepted.
    function test_rv17d_S1_expiredNeverANeighbour() public {
        IVolSurfaceOracle.SurfaceInput memory high = _flat(_day(1));
        high.a = 0.5e18;
        IVolSurfaceOracle.SurfacePost memory p = _flatPost(1, 1);
        p.surfaces[0] = high;
        _postSigned(p);
        // While day 1 is live, a lower day 2 inverts against it.
        _expectCalendarRefused(_flatPost(2, 1));
        vm.warp(_day(1) - 1);
        (uint256 prev, ) = oracle.neighbours(WETH, _day(2));
        assertEq(prev, _day(1));
        vm.warp(_day(1));
        (prev, ) = oracle.neighbours(WETH, _day(2));
        assertEq(prev, 0);
        // Asked about an expired day, the view skips expired days above it too.
        (, uint256 next) = oracle.neighbours(WETH, _day(0));
        assertEq(next, 0);
        _postSigned(_flatPost(2, 1));
        assertEq(oracle.liveExpiryCount(WETH), 1);
    }

    /// Fuzz: over random posts of new expiries and random time steps, the live count never exceeds
    /// MAX_BATCH, equals a brute-force count of the posted days still in the future, and a post is
    /// refused `VolSurfaceTooManyExpiries` exactly when it would exceed the cap.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_rv17d_S1_liveCountNeverExceedsMax(uint256 seed) public {
        bool[800] memory posted; // by day offset from DAY0
        uint256 today; // days since DAY0 whose 08:00 has passed: day offsets ≤ today are expired
        for (uint256 step; step < 24; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            if (seed % 3 == 0) {
                uint256 skip = (seed >> 8) % 20;
                today += skip;
                vm.warp(_day(today) + 1);
            }
            uint256 count = 1 + ((seed >> 16) % 24);
            uint256 start = today + 1 + ((seed >> 24) % 300);
            // Fresh days only (a repeat would be an update, bounded by the change rule).
            uint256 fresh;
            for (uint256 d = start; d < start + count && d <= today + 365; ++d) if (!posted[d]) ++fresh;
            if (fresh == 0) continue;
            IVolSurfaceOracle.SurfacePost memory p;
            p.underlying = WETH;
            p.timestamp = block.timestamp;
            p.surfaces = new IVolSurfaceOracle.SurfaceInput[](fresh);
            uint256 j;
            for (uint256 d = start; d < start + count && d <= today + 365; ++d) {
                if (!posted[d]) p.surfaces[j++] = _flat(_day(d));
            }
            uint256 liveBefore;
            for (uint256 d = today + 1; d < 800; ++d) if (posted[d]) ++liveBefore;
            bytes[] memory sigs = _sigs(p);
            if (liveBefore + fresh > 64) {
                vm.expectRevert(
                    abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceTooManyExpiries.selector, liveBefore + fresh, 64)
                );
                oracle.post(p, sigs);
            } else {
                oracle.post(p, sigs);
                for (uint256 i; i < fresh; ++i) posted[(p.surfaces[i].expiry - DAY0) / 1 days] = true;
            }
            uint256 live;
            for (uint256 d = today + 1; d < 800; ++d) if (posted[d]) ++live;
            assertEq(oracle.liveExpiryCount(WETH), live);
            assertEq(oracle.liveExpiries(WETH).length, live);
            assertLe(live, 64);
        }
    }

    // ================================================================ V1

    /// rv17d V1: a 50 % smile posted 15 min before expiry read 86.6 % ten minutes later (w over
    /// expiry − now). `volAt` is now the posted annualised vol, w over expiry − timestamp.
    function test_rv17d_V1_volAtIsThePostedAnnualisedVol_fixed() public {
        uint256 front = DAY0;
        vm.warp(front - 15 minutes);
        IVolSurfaceOracle.SurfaceInput memory s = IVolSurfaceOracle.SurfaceInput({
            expiry: front,
            a: int256(((0.25e18 * 15 minutes) / YEAR / 1e8) * 1e8),
            b: 0,
            rho: 0,
            m: 0,
            sigma: 0.1e18,
            confidence: 1e18
        });
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](1);
        p.surfaces[0] = s;
        _postSigned(p);
        (uint256 v0, , ) = oracle.volAt(WETH, front, 2000e18, 2000e18);
        assertApproxEqRel(v0, 0.5e18, 1e14);
        vm.warp(front - 5 minutes);
        (uint256 v1, uint256 ts, ) = oracle.volAt(WETH, front, 2000e18, 2000e18);
        assertEq(v1, v0, "no drift between posts");
        assertEq(v1, SviMath.vol(SviMath.Params(s.a, 0, 0, 0, 0.1e18), 2000e18, 2000e18, front - ts));
        vm.warp(front - 1);
        (uint256 v2, , ) = oracle.volAt(WETH, front, 2000e18, 2000e18);
        assertEq(v2, v0);
    }

    /// rv17d V1b: 5 min before expiry, the backdated full-confidence post the reviewer found read
    /// 188 %; the read is now the posted vol, at most ×2 (vol, ×4 in annualised variance plus the
    /// floor) of the 50 % smile in force.
    function test_rv17d_V1b_backdatedFrontPostReadsWithinTheDoubling_fixed() public {
        uint256 front = DAY0;
        vm.warp(front - 65 minutes);
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = WETH;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](1);
        p.surfaces[0] = _flatVariance(front, 0.25e18, 65 minutes);
        _postSigned(p);
        vm.warp(front - 5 minutes);
        uint256 ts = block.timestamp - 2297;
        uint256 credit = ts - (block.timestamp - 1 hours);
        uint256 allowed = SviMath.allowedChangeRatioOver(4e18, 1e18, credit);
        uint256 q = (allowed * 0.2525e18) / 1e18 - 0.0025e18;
        p.timestamp = ts;
        p.surfaces[0] = _flatVariance(front, (q * 99) / 100, front - ts);
        _postSigned(p);
        (uint256 v, , ) = oracle.volAt(WETH, front, 2000e18, 2000e18);
        assertLe(v, 1.005e18, "at full confidence the 50 % smile goes no higher than ~100 % in an hour");
    }

    /// @dev A flat smile of annualised variance `varWad` over `tau` seconds (w on the quantum, down).
    function _flatVariance(
        uint256 expiry,
        uint256 varWad,
        uint256 tau
    ) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return
            IVolSurfaceOracle.SurfaceInput({
                expiry: expiry,
                a: int256(((varWad * tau) / YEAR / 1e8) * 1e8),
                b: 0,
                rho: 0,
                m: 0,
                sigma: 0.1e18,
                confidence: 1e18
            });
    }

    // ================================================================ rv17e

    /// Gas of the largest post: 64 first posts of the S1 SSVI surface (wings, not flat), and a
    /// whole-surface skew move ten minutes later, both 2-of-3. Logged, bounded by 10M (a block).
    function test_rv17e_sound_gasOf64ExpiryPostsFitsABlock() public {
        IVolSurfaceOracle.SurfacePost memory p = _ssviPost(1, 64, T0, -0.3e18);
        bytes[] memory sigs = _sigs(p);
        uint256 g = gasleft();
        oracle.post(p, sigs);
        g -= gasleft();
        emit log_named_uint("64 first posts, execution gas", g);
        assertLt(g, 10_000_000);
        vm.warp(T0 + 2 hours);
        p = _ssviPost(1, 64, block.timestamp, -0.35e18);
        sigs = _sigs(p);
        g = gasleft();
        oracle.post(p, sigs);
        g -= gasleft();
        emit log_named_uint("64 updates (skew move), execution gas", g);
        assertLt(g, 10_000_000);
    }

    /// Gas of a one-expiry first post where the count reads three cold bitmap words (T0's first
    /// live day is bit 221 of word 76, the horizon ends in word 78), with neighbours in the
    /// far words: execution gas (no 21k base, no calldata).
    function test_rv17e_sound_gasOneExpiryFirstPostThreeWords() public {
        _postSigned(_flatPost(1, 1));
        _postSigned(_flatPost(364, 1));
        IVolSurfaceOracle.SurfacePost memory p = _flatPost(200, 1);
        bytes[] memory sigs = _sigs(p);
        uint256 g = gasleft();
        oracle.post(p, sigs);
        g -= gasleft();
        emit log_named_uint("one expiry first post between far neighbours, execution gas", g);
        assertLt(g, 120_000 - 21_000);
    }

    /// rv17e T1 (test gap): a post that adds a new expiry and then updates one in force (any
    /// whole-surface post whose new expiry is not its last member, e.g. a new front or a new
    /// weekly between dailies) must still be capped. Passes on HEAD;
    /// fails on the mutant `added = _store(...)` (last member decides), which every rv17d test
    /// lets through: none posts a new expiry together with updates.
    function test_rv17e_T1_newExpiryBeforeAnUpdateIsCapped() public {
        _postSigned(_flatPost(2, 64)); // days 2–65: the cap
        vm.warp(T0 + 1 hours);
        IVolSurfaceOracle.SurfacePost memory p = _flatPost(1, 2); // day 1 new, day 2 an update
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceTooManyExpiries.selector, 65, 64));
        oracle.post(p, sigs);
        assertEq(oracle.liveExpiryCount(WETH), 64);
    }
}
