// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";
import {SviHarness} from "../../../contracts/test/SviHarness.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {ChosenSurfaceOracle, MarkParityHarness, refTotalVariance} from "./MarkVolParity.t.sol";

/// @title Review rv47 of 789af0e ("Engine: read the cached vol surface in place")
/// @notice The commit's differential cover (`MarkVolParity.t.sol`) drew smiles with b = ρ = m = 0
/// and σ fixed, and its reference evaluated them through the same (new) `SviMath.totalVariance`,
/// so a swapped or shifted word among b, ρ, m, σ, or a term dropped from the stack form's range
/// check, passed it. Its reference now evaluates the smile with `refTotalVariance` (the parent's
/// `SviMath.totalVariance`, verbatim), and here:
///  - books on fully random smiles (every parameter drawn, now and then one at or past the 2**64
///    range bound), FRESH, stale, immature and missing, long and short, marked by the engine's
///    `_mark` and by that parent copy (`MarkParityHarness.parentMarks`, struct fields by name):
///    every mark, vol, add-on, FALLBACK record and revert equal;
///  - `SviMath.totalVariance`'s stack form (through both overloads' harness) against the parent's
///    `totalVariance(Params)`, at the bounds of every parameter and of k.
contract Rv47SurfaceInPlaceTest is PledgeFixture {
    MarkParityHarness internal harness;
    ChosenSurfaceOracle internal surfaces;
    SviHarness internal svi;

    function setUp() public override {
        super.setUp();
        harness = new MarkParityHarness(engine, vault, oracle);
        surfaces = new ChosenSurfaceOracle();
        svi = new SviHarness();
    }

    function _word(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    function _range(uint256 r, int256 lo, int256 hi) private pure returns (int256) {
        return lo + int256(r % uint256(hi - lo + 1));
    }

    /// @dev A value at or just inside the range bound, either sign.
    function _edge(uint256 r) private pure returns (int256 v) {
        int256 limit = int256(uint256(1) << 64);
        uint256 pick = r % 5;
        v =
            pick == 0
                ? limit
                : pick == 1
                    ? limit - 1
                    : pick == 2
                        ? limit + 1
                        : pick == 3
                            ? type(int256).max
                            : type(int256).min;
        if (pick < 3 && (r >> 8) & 1 == 1) v = -v;
    }

    function _randomSurface(uint256 r) private view returns (IVolSurfaceOracle.Surface memory s) {
        s.a = _range(_word(r, 1), -0.5e18, 2e18);
        s.b = _range(_word(r, 2), 0, 1.9e18);
        s.rho = _range(_word(r, 3), -0.999e18, 0.999e18);
        s.m = _range(_word(r, 4), -0.5e18, 0.5e18);
        s.sigma = _range(_word(r, 5), 1, 1e18);
        uint256 e = _word(r, 6);
        if (e % 8 == 0) {
            int256 v = _edge(e >> 8);
            uint256 which = (e >> 100) % 5;
            if (which == 0) s.a = v;
            else if (which == 1) s.b = v;
            else if (which == 2) s.rho = v;
            else if (which == 3) s.m = v;
            else s.sigma = v;
        }
        uint256 t = _word(r, 7);
        s.timestamp = t % 6 == 0 ? 0 : block.timestamp - ((t >> 8) % 2 hours);
        s.confidenceWad = _word(r, 8) % 1e18;
        s.maturesAt = _word(r, 9) % block.timestamp; // a word the engine must not take for another
        s.mature = _word(r, 10) % 4 != 0;
    }

    function _mockUnderlying(address asset, uint256 r) private {
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (asset)), abi.encode(100e18 + (r % 100_000e18)));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (asset)), abi.encode(0.05e18 + ((r >> 72) % 3e18)));
        surfaces.set(asset, (r >> 240) % 5 != 0, _randomSurface(r));
    }

    function _book(uint256 seed) private view returns (SeriesId[] memory ids, bool[] memory longs) {
        uint256 n = 1 + (seed % 10);
        ids = new SeriesId[](n);
        longs = new bool[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = _word(seed, 100 + i);
            uint16 index = r % 2 == 0 ? ethIndex : btcIndex;
            uint256 spot = index == ethIndex ? 3_000e18 : 60_000e18;
            // Live series, 1 s to ~60 days out; strikes from spot/4 to 4·spot.
            uint40 expiry = uint40(block.timestamp + 1 + ((r >> 130) % 60) * 1 days + ((r >> 140) % 3));
            uint256 strike = spot / 4 + ((r >> 2) % (4 * spot));
            ids[i] = SeriesLib.id(SeriesLib.Series(index, expiry, (r >> 1) & 1 == 1, uint128(strike)));
            longs[i] = (r >> 3) & 1 == 1;
        }
    }

    /// forge-config: default.fuzz.runs = 512
    function testFuzz_marksOnRandomSmilesMatchAnIndependentParent(uint256 seed) public {
        vm.warp(block.timestamp + 40 days);
        uint256 r = _word(seed, 1);
        _mockUnderlying(address(weth), r);
        _mockUnderlying(address(wbtc), _word(seed, 2));
        harness.setSurface(IVolSurfaceOracle(address(surfaces)), 0.01e18 + ((r >> 16) % 0.19e18));
        (SeriesId[] memory ids, bool[] memory longs) = _book(seed);
        (bool ok, bytes memory out) = address(harness).staticcall(abi.encodeCall(harness.currentMarks, (ids, longs)));
        (bool wantOk, bytes memory want) = address(harness).staticcall(
            abi.encodeCall(harness.parentMarks, (ids, longs))
        );
        assertEq(ok, wantOk, "reverts where the parent did not, or not where it did");
        assertEq(out, want, "marks, vols, add-ons, FALLBACK record or revert data differ from the parent's");
    }

    /// @dev One FRESH, mature smile with every parameter non-zero and distinct: the engine's vol is
    /// the parent's and differs from the vol with any two of b, ρ, m, σ swapped (so the test above
    /// can see a swapped word).
    function test_distinctParameters_eachWordMatters() public {
        vm.warp(block.timestamp + 40 days);
        IVolSurfaceOracle.Surface memory s;
        (s.a, s.b, s.rho, s.m, s.sigma) = (0.02e18, 0.3e18, -0.4e18, 0.1e18, 0.2e18);
        s.timestamp = block.timestamp - 60;
        s.confidenceWad = 0.7e18;
        s.maturesAt = block.timestamp - 1 days;
        s.mature = true;
        surfaces.set(address(weth), true, s);
        harness.setSurface(IVolSurfaceOracle(address(surfaces)), 0.02e18);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(3_000e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.8e18));
        SeriesId[] memory ids = new SeriesId[](2);
        bool[] memory longs = new bool[](2);
        // `ChosenSurfaceOracle` reads an expiry divisible by 3 s (every 08:00 one) as immature.
        ids[0] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(10) + 1, true, 3_600e18));
        ids[1] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(10) + 1, false, 2_400e18));
        longs[0] = true;
        uint256[] memory got = harness.currentMarks(ids, longs);
        uint256[] memory want = harness.parentMarks(ids, longs);
        assertEq(abi.encode(got), abi.encode(want));
        // FRESH: the add-on is spot·addOn·(1 − confidence), so the confidence word was read.
        uint256 addOn = FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(3_000e18, 0.02e18), 0.3e18);
        assertEq(got[4], addOn, "the per-contract add-on at confidence 0.7");
        assertEq(got[9], addOn, "the per-contract add-on at confidence 0.7");
        assertTrue(got[3] != 0.8e18 && got[8] != 0.8e18, "the smile's vols, not the feed's");
        assertEq(got[10], 0, "no FALLBACK record");
        // Each pair swapped moves the vol.
        int256[4] memory w = [s.b, s.rho, s.m, s.sigma];
        for (uint256 i; i < 4; ++i) {
            for (uint256 j = i + 1; j < 4; ++j) {
                int256[4] memory v = w;
                (v[i], v[j]) = (v[j], v[i]);
                IVolSurfaceOracle.Surface memory t = s;
                (t.b, t.rho, t.m, t.sigma) = (v[0], v[1], v[2], v[3]);
                surfaces.set(address(weth), true, t);
                uint256[] memory other = harness.parentMarks(ids, longs);
                assertTrue(other[8] != got[8] || other[3] != got[3], "a swap the parity cannot see");
            }
        }
    }

    // ------------------------------------------------------------ SviMath's stack form

    /// @dev The parent's `totalVariance(Params)` (`refTotalVariance`), as an external call for
    /// `staticcall`.
    function parentTotalVariance(SviMath.Params calldata p, int256 k) external pure returns (int256) {
        return refTotalVariance(p, k);
    }

    function _sameAsParent(SviMath.Params memory p, int256 k) private view {
        (bool ok, bytes memory out) = address(svi).staticcall(abi.encodeCall(svi.totalVariance, (p, k)));
        (bool wantOk, bytes memory want) = address(this).staticcall(abi.encodeCall(this.parentTotalVariance, (p, k)));
        assertEq(ok, wantOk, "reverts where the parent did not, or not where it did");
        assertEq(out, want, "w or revert data");
    }

    /// @dev Each parameter, and k, at and around its bound, both signs.
    function test_stackForm_rangeBoundsOfEveryParameter() public view {
        int256 limit = int256(uint256(1) << 64);
        int256[7] memory edges = [
            limit - 1,
            limit,
            limit + 1,
            -(limit - 1),
            -limit,
            type(int256).max,
            type(int256).min
        ];
        for (uint256 which; which < 5; ++which) {
            for (uint256 e; e < edges.length; ++e) {
                SviMath.Params memory p = SviMath.Params(0.04e18, 0.2e18, -0.3e18, 0.05e18, 0.1e18);
                if (which == 0) p.a = edges[e];
                else if (which == 1) p.b = edges[e];
                else if (which == 2) p.rho = edges[e];
                else if (which == 3) p.m = edges[e];
                else p.sigma = edges[e];
                _sameAsParent(p, 0.1e18);
                bool inRange = e == 0 || e == 3;
                (bool ok, ) = address(svi).staticcall(abi.encodeCall(svi.totalVariance, (p, 0.1e18)));
                assertEq(ok, inRange, "the bound is |x| < 2**64");
            }
        }
        int256 kLimit = int256(uint256(1) << 72);
        SviMath.Params memory q = SviMath.Params(0.04e18, 0.2e18, -0.3e18, 0.05e18, 0.1e18);
        int256[4] memory ks = [kLimit - 1, kLimit, -(kLimit - 1), -kLimit];
        for (uint256 i; i < 4; ++i) _sameAsParent(q, ks[i]);
    }

    /// forge-config: default.fuzz.runs = 1024
    function testFuzz_stackFormEqualsTheParent(
        int256 a,
        int256 b,
        int256 rho,
        int256 m,
        int256 sigma,
        int256 k
    ) public view {
        // Mostly in range, so the formula (not only the bound) is compared.
        if (uint256(a) % 4 != 0) {
            a = a % (int256(1) << 64);
            b = b % (int256(1) << 64);
            rho = rho % (int256(1) << 64);
            m = m % (int256(1) << 64);
            sigma = sigma % (int256(1) << 64);
            k = k % (int256(1) << 72);
        }
        _sameAsParent(SviMath.Params(a, b, rho, m, sigma), k);
    }
}
