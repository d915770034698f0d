// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @title The registry's fields stay independent once the confidence add-on shares the asset's slot
/// @notice Review rv46 (commit 2bd921e moved `_confidenceAddOn[index]` into
/// `StoredUnderlying { address asset; uint96 confidenceAddOnWad; RiskParams params; }`). These
/// tests pin correct behaviour; they pass on the commit as-is.
///  - A random sequence of `setConfidenceAddOn`, `setRiskParams`, `listUnderlying` and refused
///    calls against a shadow model: after every call, every index's `underlying()` (asset, params)
///    and `surfaceParams()` add-on equal the model (a write to one field or one index that moves
///    any other, or a read of the wrong index or field, fails here; the fixture's other tests list
///    ETH and BTC with equal parameters and an add-on on ETH only).
///  - Refused writes (above the bound, above the step, at and above 2**96) leave the slot as it was:
///    the bound is checked before the `uint96` cast, so no value truncates into the asset's slot.
///  - The slot itself: the add-on is the high 96 bits of the word whose low 160 bits are the asset
///    (the gas claim of the commit, which its own test checks only through the getters). The
///    mapping's base slot is found by scanning, so the test does not hard-code the layout.
/// The Solidity tests compile the engine through the legacy pipeline; the deployed engine is the
/// IR build, checked by test/integration/confidenceAddOnPackingIR.test.ts.
contract ConfidenceAddOnPackingTest is PledgeFixture {
    uint256 internal constant MAX = 0.05e18; // MarginEngine.MAX_CONFIDENCE_ADD_ON
    uint256 internal constant STEP = 0.005e18; // MarginEngine.MAX_CONFIDENCE_ADD_ON_STEP
    uint256 internal constant MAX_INDEX = 32; // MarginEngine.MAX_UNDERLYINGS

    address[33] internal _asset;
    uint256[33] internal _addOn;
    IMarginEngine.RiskParams[33] internal _params;
    uint256 internal _count;

    function setUp() public override {
        super.setUp();
        _count = engine.underlyingCount();
        assertEq(_count, 2);
        _asset[ethIndex] = address(weth);
        _asset[btcIndex] = address(wbtc);
        _params[ethIndex] = _standardParams();
        _params[btcIndex] = _standardParams();
    }

    // ------------------------------------------------------------ model

    function _randomParams(uint256 r) internal pure returns (IMarginEngine.RiskParams memory p) {
        // aIM, bIM in [0.01, 0.5]; aMM, bMM in [0.01, aIM / bIM] (MarginEngine._checkParams).
        p.aIM = uint64(0.01e18 + (r % 0.49e18));
        p.bIM = uint64(0.01e18 + ((r >> 64) % 0.49e18));
        p.aMM = uint64(0.01e18 + ((r >> 128) % (p.aIM - 0.01e18 + 1)));
        p.bMM = uint64(0.01e18 + ((r >> 192) % (p.bIM - 0.01e18 + 1)));
    }

    function _checkAll(string memory where) internal view {
        for (uint256 i = 0; i <= _count + 1 && i <= MAX_INDEX; ++i) {
            uint16 index = uint16(i);
            IMarginEngine.Underlying memory u = engine.underlying(index);
            (, , uint256 addOn) = engine.surfaceParams(index);
            assertEq(u.asset, _asset[i], string.concat(where, ": asset"));
            assertEq(abi.encode(u.params), abi.encode(_params[i]), string.concat(where, ": params"));
            assertEq(addOn, _addOn[i], string.concat(where, ": add-on"));
        }
    }

    /// @dev A listed index in [1, _count].
    function _pick(uint256 r) internal view returns (uint16) {
        return uint16(1 + (r % _count));
    }

    // ------------------------------------------------------------ tests

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_registryFieldsStayIndependent(uint256 seed) public {
        for (uint256 n; n < 40; ++n) {
            uint256 r = uint256(keccak256(abi.encode(seed, n)));
            uint256 op = r % 5;
            r = uint256(keccak256(abi.encode(r)));
            if (op == 0 || op == 1) {
                // A raise within the step, or any lowering.
                uint16 index = _pick(r);
                uint256 top = _addOn[index] + STEP;
                if (top > MAX) top = MAX;
                uint256 a = (r >> 16) % (top + 1);
                if ((r >> 200) % 4 == 0) a = top; // the edge often
                vm.prank(riskManager);
                engine.setConfidenceAddOn(index, a);
                _addOn[index] = a;
            } else if (op == 2) {
                uint16 index = _pick(r);
                IMarginEngine.RiskParams memory p = _randomParams(uint256(keccak256(abi.encode(r, "p"))));
                vm.prank(riskManager);
                engine.setRiskParams(index, p);
                _params[index] = p;
            } else if (op == 3) {
                if (_count == MAX_INDEX) continue;
                // An asset whose low bits are all ones, so an add-on written over it (or it over the
                // add-on) shows in both fields.
                address asset = address(uint160(type(uint160).max - _count));
                IMarginEngine.RiskParams memory p = _randomParams(uint256(keccak256(abi.encode(r, "l"))));
                vm.prank(admin);
                uint16 index = engine.listUnderlying(asset, p);
                assertEq(index, _count + 1);
                _count = index;
                _asset[index] = asset;
                _params[index] = p;
            } else {
                // Refused: above the bound, above the step, at 2**96 and beyond (no truncation).
                uint16 index = _pick(r);
                uint256 current = _addOn[index];
                uint256[5] memory bad = [
                    MAX + 1,
                    current + STEP + 1,
                    uint256(1) << 96,
                    (uint256(1) << 96) + current,
                    type(uint256).max
                ];
                uint256 a = bad[(r >> 32) % 5];
                if (a <= MAX && a <= current + STEP) continue;
                vm.prank(riskManager);
                vm.expectRevert();
                engine.setConfidenceAddOn(index, a);
            }
            _checkAll(string.concat("op ", vm.toString(op), " at step ", vm.toString(n)));
        }
    }

    /// @dev The bound is checked before the `uint96` cast: from the maximum, 2**96 (which would
    /// truncate to 0) and 2**96 + MAX (which would truncate to MAX) are refused with the bound's
    /// error, not stored.
    function test_valuesThatWouldTruncateAreRefusedByTheBound() public {
        vm.startPrank(riskManager);
        for (uint256 a = STEP; a <= MAX; a += STEP) engine.setConfidenceAddOn(ethIndex, a);
        uint256[3] memory bad = [uint256(1) << 96, (uint256(1) << 96) + MAX, type(uint256).max];
        for (uint256 i; i < 3; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IMarginEngine.EngineInvalidConfidenceAddOn.selector, ethIndex, bad[i])
            );
            engine.setConfidenceAddOn(ethIndex, bad[i]);
        }
        vm.stopPrank();
        (, , uint256 addOn) = engine.surfaceParams(ethIndex);
        assertEq(addOn, MAX);
        assertEq(engine.underlying(ethIndex).asset, address(weth));
    }

    /// @dev Index 0 and indices past the count are not listed: no write reaches them (the listed
    /// check reads the same slot the add-on is written to).
    function test_unlistedIndicesTakeNoAddOn() public {
        vm.startPrank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        engine.setConfidenceAddOn(0, STEP);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        engine.setConfidenceAddOn(3, STEP);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        engine.setConfidenceAddOn(type(uint16).max, 0);
        vm.stopPrank();
        (, , uint256 addOn) = engine.surfaceParams(0);
        assertEq(addOn, 0);
        assertEq(engine.underlying(0).asset, address(0));
    }

    /// @dev The packing itself: the word whose low 160 bits are the asset holds the add-on in its
    /// high 96, for each listed index, and no other word of the mapping's entry holds it.
    function test_addOnIsTheHighBitsOfTheAssetWord() public {
        vm.startPrank(riskManager);
        engine.setConfidenceAddOn(ethIndex, STEP);
        engine.setConfidenceAddOn(ethIndex, 2 * STEP);
        engine.setConfidenceAddOn(btcIndex, STEP - 7);
        vm.stopPrank();
        uint256 base = _underlyingsBase();
        _assertWord(base, ethIndex, address(weth), 2 * STEP);
        _assertWord(base, btcIndex, address(wbtc), STEP - 7);
        // The params' word follows (four uint64 in one slot), untouched by the add-on.
        IMarginEngine.RiskParams memory p = _standardParams();
        uint256 paramsWord = uint256(
            vm.load(address(engine), bytes32(uint256(keccak256(abi.encode(uint256(ethIndex), base))) + 1))
        );
        assertEq(
            paramsWord,
            uint256(p.aIM) | (uint256(p.bIM) << 64) | (uint256(p.aMM) << 128) | (uint256(p.bMM) << 192)
        );
    }

    function _assertWord(uint256 base, uint16 index, address asset, uint256 addOn) internal view {
        uint256 word = uint256(vm.load(address(engine), keccak256(abi.encode(uint256(index), base))));
        assertEq(address(uint160(word)), asset, "low 160 bits: the asset");
        assertEq(word >> 160, addOn, "high 96 bits: the add-on");
    }

    /// @dev The base slot of `_underlyings`: the first slot `b` with `keccak(ethIndex, b)` holding
    /// WETH in its low 160 bits and `keccak(btcIndex, b)` holding WBTC.
    function _underlyingsBase() internal view returns (uint256) {
        for (uint256 b; b < 64; ++b) {
            uint256 e = uint256(vm.load(address(engine), keccak256(abi.encode(uint256(ethIndex), b))));
            uint256 w = uint256(vm.load(address(engine), keccak256(abi.encode(uint256(btcIndex), b))));
            if (address(uint160(e)) == address(weth) && address(uint160(w)) == address(wbtc)) return b;
        }
        revert("no _underlyings mapping found");
    }
}
