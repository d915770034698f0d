// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PositionParityTestBase} from "./StandardPositionParity.t.sol";

/// @dev Review rv37: the fast/slow split of `_position` and `_requirementsUp` at the 2**128
/// boundary, against the frozen parent, with magnitudes drawn log-uniformly (so sizes, gross sums,
/// marks, per-contract requirements and add-ons land on both sides of 2**128). Mutation-checked:
/// dropping `gross`, `size` or `markWad` from `_position`'s bound, or `size` or `addOnWad` from
/// `_requirementsUp`'s, fails a test here (the pre-existing parity fuzz catches only `size` in
/// `_requirementsUp`). `test_dirtyHighBitsId` fails on the change as reviewed (legacy pipeline:
/// `_riskOf` uses its `uint16 index` unmasked) and passes with `and(index, 0xffff)`.
contract StandardPositionParityEdgesTest is PositionParityTestBase {
    /// @dev Log-uniform in [0, 2**256), with the 2**128 neighbourhood over-weighted.
    function _log(uint256 r) private pure returns (uint256) {
        uint256 k = r % 16;
        if (k == 0) return (uint256(1) << 128) - 1 - ((r >> 8) % 4);
        if (k == 1) return (uint256(1) << 128) + ((r >> 8) % 4);
        if (k == 2) return (uint256(1) << 127) + ((r >> 8) % 4);
        return (r >> 8) >> ((r >> 4) % 248);
    }

    function _balance(uint256 r) private pure returns (int256 b) {
        uint256 m = _log(r >> 3);
        if (m > uint256(type(int256).max)) m = uint256(type(int256).max) - (r % 3);
        b = int256(m);
        if (r % 8 != 0) b = -b; // mostly shorts
        if (r % 64 == 1) b = type(int256).min;
    }

    function _mock(uint256 seed) private {
        uint256 r = _word(seed, 1);
        // spot: realistic, or log-uniform (live series need < 2**120; expired take anything)
        uint256 ethSpot = r % 3 == 0 ? 1 + _log(r >> 2) : 100e18 + ((r >> 8) % 10_000e18);
        uint256 btcSpot = (r >> 100) % 3 == 0 ? 1 + _log(r >> 102) : 10_000e18 + ((r >> 108) % 200_000e18);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(ethSpot));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(wbtc))), abi.encode(btcSpot));
        r = _word(seed, 2);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.01e18 + (r % 3e18)));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(wbtc))), abi.encode((r >> 128) % 3e18));
        // risk params: the fixture's, or any uint64s
        r = _word(seed, 3);
        if (r % 2 == 0) {
            for (uint256 u; u < 2; ++u) {
                uint16 index = u == 0 ? ethIndex : btcIndex;
                IMarginEngine.Underlying memory und = engine.underlying(index);
                uint256 w = _word(r, u);
                und.params = IMarginEngine.RiskParams({
                    aIM: uint64(_log(w)),
                    bIM: uint64(_log(w >> 64)),
                    aMM: uint64(_log(w >> 128)),
                    bMM: uint64(_log(w >> 192))
                });
                vm.mockCall(address(engine), abi.encodeCall(engine.underlying, (index)), abi.encode(und));
            }
        }
        // surface with an add-on: none, realistic, or log-uniform (to 2**256)
        r = _word(seed, 4);
        if (r % 3 == 0) return;
        _setRandomSurface(r, (r >> 160) % 2 == 0 ? (r >> 161) % 0.2e18 : _log(_word(seed, 5)));
    }

    function _series(uint256 r, uint16 index) private returns (SeriesId id) {
        bool isCall = (r >> 1) & 1 == 1;
        uint256 strike = (r >> 2) % 2 == 0 ? 1 + ((r >> 8) % 100_000e18) : 1 + (_log(r >> 8) >> 128);
        uint256 state = (r >> 120) % 4; // 0, 1 live; 2 expired; 3 settled
        uint40 expiry =
            state < 2
                ? uint40(block.timestamp + 1 + ((r >> 130) % 365 days))
                : uint40(block.timestamp - 1 - ((r >> 130) % 30 days));
        id = SeriesLib.id(SeriesLib.Series(index, expiry, isCall, uint128(strike)));
        address asset = index == ethIndex ? address(weth) : address(wbtc);
        vm.mockCall(
            address(oracle),
            abi.encodeCall(oracle.settlementPrice, (asset, expiry)),
            abi.encode(_log(r >> 140), state == 3)
        );
    }

    function testFuzz_logMagnitudesMatchTheParent(uint256 seed) public {
        vm.warp(block.timestamp + 40 days);
        _mock(seed);
        uint256 n = 1 + (seed % 10);
        SeriesId[] memory ids = new SeriesId[](n);
        int256[] memory balances = new int256[](n);
        uint16 only = (seed >> 8) % 2 == 0 ? ethIndex : btcIndex;
        for (uint256 i; i < n; ++i) {
            uint256 r = _word(seed, 100 + i);
            // mostly one underlying, so gross sums build up
            ids[i] = _series(r, (r >> 250) % 4 == 0 ? (only == ethIndex ? btcIndex : ethIndex) : only);
            balances[i] = _balance(_word(seed, 200 + i));
        }
        _assertSame(ids, balances);
    }

    // ---------------------------------------------------------------- directed

    function _realistic(uint256 addOnWad) private {
        vm.warp(block.timestamp + 40 days);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(3_000e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(wbtc))), abi.encode(60_000e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.8e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(wbtc))), abi.encode(0.6e18));
        if (addOnWad != 0) {
            IVolSurfaceOracle.Surface memory s;
            s.a = 0.04e18;
            s.sigma = 0.1e18;
            s.timestamp = block.timestamp;
            s.confidenceWad = 0.5e18;
            s.mature = true;
            surface.set(s);
            harness.setSurface(IVolSurfaceOracle(address(surface)), addOnWad);
        }
    }

    /// @dev Gross shorts crossing 2**128 on one underlying, sizes at 2**128 ± 1, an add-on: every
    /// position takes a different branch (fast, fast, slow by gross, slow by size), none reverts.
    function test_grossAndSizesAcross2pow128() public {
        _realistic(0.1e18);
        uint256 t = uint256(1) << 128;
        int256[6] memory sizes = [-int256(t - 1), -int256(t - 1), -1, -int256(t), -int256(t + 1), int256(1e18)];
        SeriesId[] memory ids = new SeriesId[](6);
        int256[] memory balances = new int256[](6);
        for (uint256 i; i < 6; ++i) {
            ids[i] = SeriesLib.id(
                SeriesLib.Series(ethIndex, _expiry(7 + i), i % 2 == 0, uint128(2_000e18 + i * 500e18))
            );
            balances[i] = sizes[i];
        }
        assertTrue(_assertSame(ids, balances), "reverted");
        (, , , uint256[] memory q) = harness.current(ids, balances);
        assertEq(q[ethIndex], t * 4, "gross past 2**128");
    }

    /// @dev A per-contract add-on above 2**128 (surface add-on 2**130): `_requirementsUp`'s slow path
    /// with small sizes.
    function test_addOnAbove2pow128() public {
        _realistic(uint256(1) << 130);
        SeriesId[] memory ids = new SeriesId[](2);
        int256[] memory balances = new int256[](2);
        ids[0] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(7), true, 3_000e18));
        ids[1] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(9), false, 2_500e18));
        (balances[0], balances[1]) = (-5e18, -(int256(1) << 100));
        assertTrue(_assertSame(ids, balances), "reverted");
    }

    /// @dev A WETH expiry a day past, its settlement price not posted, with WETH's spot at `spotWad`.
    function _expiredUnsettledAtSpot(uint256 spotWad) private returns (uint40 expiry) {
        vm.warp(block.timestamp + 40 days);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(spotWad));
        expiry = uint40(block.timestamp - 1 days);
        vm.mockCall(
            address(oracle),
            abi.encodeCall(oracle.settlementPrice, (address(weth), expiry)),
            abi.encode(0, false)
        );
    }

    /// @dev An expired unsettled series at a spot of 2**180: mark and per-contract requirement above
    /// 2**128 (`_position`'s and `_requirementsUp`'s slow paths), no revert.
    function test_hugeExpiredMark() public {
        uint40 expiry = _expiredUnsettledAtSpot(uint256(1) << 180);
        SeriesId[] memory ids = new SeriesId[](2);
        int256[] memory balances = new int256[](2);
        ids[0] = SeriesLib.id(SeriesLib.Series(ethIndex, expiry, true, 3_000e18));
        ids[1] = SeriesLib.id(SeriesLib.Series(ethIndex, expiry, false, 3_000e18));
        (balances[0], balances[1]) = (-3, -7);
        assertTrue(_assertSame(ids, balances), "reverted");
    }

    /// @dev An expired unsettled call at a spot of 2**150 (mark ≈ 2**150, above 2**128) and a size of
    /// 2**107: the value's product passes 2**256 (the parent's `mulWadUp` reverts) while every
    /// requirement product stays below it, so only `_position`'s mark bound keeps the revert.
    function test_markAbove2pow128Overflows() public {
        uint40 expiry = _expiredUnsettledAtSpot(uint256(1) << 150);
        SeriesId[] memory ids = new SeriesId[](1);
        int256[] memory balances = new int256[](1);
        ids[0] = SeriesLib.id(SeriesLib.Series(ethIndex, expiry, true, 1));
        balances[0] = -(int256(1) << 107);
        assertFalse(_assertSame(ids, balances), "did not revert");
        (, bytes memory data) = address(harness).staticcall(abi.encodeCall(harness.current, (ids, balances)));
        assertEq(data, abi.encodeWithSignature("MulWadFailed()"), "MulWadFailed");
    }

    /// @dev Gross shorts overflowing 2**256 at a mark of 0 (spot 1 wei, calls far out of the money):
    /// the checked sum's Panic 0x11 at the third position, as the parent.
    function test_grossOverflowPanics() public {
        vm.warp(block.timestamp + 40 days);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(1));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.05e18));
        SeriesId[] memory ids = new SeriesId[](3);
        int256[] memory balances = new int256[](3);
        for (uint256 i; i < 3; ++i) {
            ids[i] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(7), true, 1e18));
        }
        (balances[0], balances[1], balances[2]) = (type(int256).min + 1, type(int256).min + 1, -2);
        assertFalse(_assertSame(ids, balances), "did not revert");
        (, bytes memory data) = address(harness).staticcall(abi.encodeCall(harness.current, (ids, balances)));
        assertEq(data, abi.encodeWithSignature("Panic(uint256)", 0x11), "Panic 0x11");
    }

    /// @dev A series id with bits set above the index field (bit 250): every field decodes as the
    /// clean id's does; a legacy-compiled `_riskOf` taking a `uint16` into assembly unmasked
    /// would read `risk` far out of bounds.
    function test_dirtyHighBitsId() public {
        _realistic(0);
        SeriesId clean = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(7), true, 3_000e18));
        SeriesId dirty = SeriesId.wrap(SeriesId.unwrap(clean) | (uint256(1) << 250));
        SeriesId[] memory ids = new SeriesId[](1);
        int256[] memory balances = new int256[](1);
        balances[0] = -1e18;
        ids[0] = clean;
        assertTrue(_assertSame(ids, balances), "clean reverted");
        ids[0] = dirty;
        _assertSame(ids, balances);
    }
}
