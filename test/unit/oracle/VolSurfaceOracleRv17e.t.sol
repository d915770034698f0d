// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {VolSurfaceOracle} from "../../../contracts/oracle/VolSurfaceOracle.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";

/// @notice Review rv17e of the rv17d S1/V1 fixes (notes/rv17e-findings.md). T1: a post that adds a
/// new expiry *before* an update in force must be capped too (a mutant where the last member decides
/// passed every rv17d test). Also pins the gas the one-post guarantee relies on: 64 expiries fit a
/// block, and a one-expiry first post reading three bitmap words stays under the 120k budget.
contract VolSurfaceOracleRv17eTest is Test {
    /// 2023-11-15 04:00 UTC; day 19,676 is bit 220 of bitmap word 76, so a year of expiries spans
    /// words 76–78.
    uint256 internal constant T0 = 19_676 days + 4 hours;
    uint256 internal constant DAY0 = 19_676 days + 8 hours;
    uint256 internal constant YEAR = 365 days;
    address internal constant WETH = address(0xE7);

    VolSurfaceOracle internal oracle;
    uint256[3] internal keys;

    function setUp() public {
        vm.warp(T0);
        uint256[3] memory k = [uint256(0xA11CE), 0xB0B, 0xC4A1];
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (vm.addr(k[j]) < vm.addr(k[i])) (k[i], k[j]) = (k[j], k[i]);
            }
        }
        address[] memory list = new address[](3);
        for (uint256 i; i < 3; ++i) {
            keys[i] = k[i];
            list[i] = vm.addr(k[i]);
        }
        oracle = new VolSurfaceOracle(address(this), list, 2, 4e18);
        oracle.setUnderlying(WETH, true);
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

    function _sigs(IVolSurfaceOracle.SurfacePost memory p) internal view returns (bytes[] memory sigs) {
        bytes32 digest = oracle.postDigest(p);
        sigs = new bytes[](2);
        for (uint256 i; i < 2; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    function _post(IVolSurfaceOracle.SurfacePost memory p) internal {
        oracle.post(p, _sigs(p));
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
        _post(_flatPost(1, 1));
        _post(_flatPost(364, 1));
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
        _post(_flatPost(2, 64)); // days 2–65: the cap
        vm.warp(T0 + 1 hours);
        IVolSurfaceOracle.SurfacePost memory p = _flatPost(1, 2); // day 1 new, day 2 an update
        bytes[] memory sigs = _sigs(p);
        vm.expectRevert(abi.encodeWithSelector(IVolSurfaceOracle.VolSurfaceTooManyExpiries.selector, 65, 64));
        oracle.post(p, sigs);
        assertEq(oracle.liveExpiryCount(WETH), 64);
    }
}
