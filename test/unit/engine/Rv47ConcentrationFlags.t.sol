// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarginEngine} from "../../../contracts/engine/MarginEngine.sol";
import {PortfolioManager} from "../../../contracts/engine/PortfolioManager.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IPledgeOracle} from "../../../contracts/interfaces/IPledgeOracle.sol";
import {IPortfolioManager} from "../../../contracts/interfaces/IPortfolioManager.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @dev An engine exposing its standard check's `_concentrationAddOnUp` (the flag-gated call).
contract ConcentrationGateProbe is MarginEngine {
    constructor(
        address admin,
        ICollateralVault vault_,
        IPledgeOracle oracle_,
        bytes memory managerCode
    ) MarginEngine(admin, vault_, oracle_, managerCode) {}

    function gatedAddOnUp(uint256[] memory shorts, uint256[] memory spots) external view returns (uint256, uint256) {
        return _concentrationAddOnUp(shorts, spots);
    }
}

/// @title Review rv47 of 1dcaad0 ("Engine: skip the concentration call")
/// @notice Pins what the commit's own tests leave open:
///  - the slot `concentrationFlags` shares with `market` and `_count`: every writer (the flag,
///    `listUnderlying` up to `MAX_UNDERLYINGS`) leaves the other two fields, and bits 240..255, as
///    they were; bit 32 (the last listable index) lands in the flag field;
///  - the gate against the manager's own answer, over all 32 indices: for any flags the manager's
///    setter can produce and any book (`shorts`, `spots` of `_count + 1` entries), the engine's
///    gated add-on equals `portfolioManager.concentrationAddOnUp` to the wei, and the manager is
///    called exactly when some short's underlying is flagged;
///  - index 0, an index past the count and `type(uint16).max` are refused (no shift of a uint64 by
///    ≥ 64 is ever reached).
contract Rv47ConcentrationFlagsTest is PledgeFixture {
    uint256 internal constant MAX_INDEX = 32; // MarginEngine.MAX_UNDERLYINGS

    ConcentrationGateProbe internal probe;
    PortfolioManager internal probeManager;
    uint64[33] internal _kappa;

    function setUp() public override {
        super.setUp();
        vm.startPrank(admin);
        probe = new ConcentrationGateProbe(admin, vault, oracle, type(PortfolioManager).creationCode);
        probe.grantRole(Roles.RISK_MANAGER_ROLE, riskManager);
        for (uint256 i = 1; i <= MAX_INDEX; ++i) {
            probe.listUnderlying(address(uint160(0xA55E7000 + i)), _standardParams());
        }
        vm.stopPrank();
        probeManager = PortfolioManager(address(probe.portfolioManager()));
        assertEq(probe.underlyingCount(), MAX_INDEX);
    }

    // ------------------------------------------------------------ helpers

    function _p(uint256 kappa, uint256 liquidity) internal pure returns (IPortfolioManager.ConcentrationParams memory) {
        // maxRatio 1: from off, any κ ≤ 1 % is one allowed step (κ·c ≤ MAX_CONCENTRATION_ADD_ON_STEP).
        return IPortfolioManager.ConcentrationParams(uint64(kappa), 1e18, uint128(liquidity));
    }

    /// @dev Sets κ of `index` on the probe's manager, through off when it is on (always a legal step).
    function _setKappa(uint16 index, uint256 kappa, uint256 liquidity) internal {
        vm.startPrank(riskManager);
        if (_kappa[index] != 0) probeManager.setConcentrationParams(index, _p(0, liquidity));
        probeManager.setConcentrationParams(index, _p(kappa, liquidity));
        vm.stopPrank();
        _kappa[index] = uint64(kappa);
    }

    /// @dev The storage slot of `engine_` whose low 160 bits hold `market_` (scanned, not hard-coded).
    function _marketSlot(address engine_, address market_) internal view returns (uint256) {
        for (uint256 s; s < 32; ++s) {
            if (address(uint160(uint256(vm.load(engine_, bytes32(s))))) == market_) return s;
        }
        revert("no market slot");
    }

    function _assertSlot(uint256 slot, uint256 count, uint64 flags, string memory where) internal view {
        uint256 word = uint256(vm.load(address(engine), bytes32(slot)));
        assertEq(address(uint160(word)), address(market), string.concat(where, ": market"));
        assertEq((word >> 160) & 0xffff, count, string.concat(where, ": _count"));
        assertEq(uint64(word >> 176), flags, string.concat(where, ": concentrationFlags"));
        assertEq(word >> 240, 0, string.concat(where, ": the top 16 bits"));
        assertEq(address(engine.market()), address(market), string.concat(where, ": market()"));
        assertEq(engine.underlyingCount(), count, string.concat(where, ": underlyingCount()"));
        assertEq(engine.concentrationFlags(), flags, string.concat(where, ": concentrationFlags()"));
    }

    // ------------------------------------------------------------ the shared slot

    /// @dev `market`, `_count` and `concentrationFlags` share one word; each writer keeps the rest.
    function test_sharedSlot_everyWriterKeepsTheOtherFields() public {
        PortfolioManager manager = PortfolioManager(address(engine.portfolioManager()));
        uint256 slot = _marketSlot(address(engine), address(market));
        _assertSlot(slot, 2, 0, "fixture");

        vm.startPrank(riskManager);
        manager.setConcentrationParams(btcIndex, _p(0.01e18, 50e18));
        _assertSlot(slot, 2, uint64(1) << btcIndex, "btc on");
        manager.setConcentrationParams(ethIndex, _p(0.003e18, 50e18));
        vm.stopPrank();
        uint64 both = (uint64(1) << ethIndex) | (uint64(1) << btcIndex);
        _assertSlot(slot, 2, both, "both on");

        // Listing every index the engine allows: `_count` grows under the flags.
        vm.startPrank(admin);
        for (uint256 i = 3; i <= MAX_INDEX; ++i) {
            engine.listUnderlying(address(uint160(0xB0B0000 + i)), _standardParams());
            _assertSlot(slot, i, both, "listing");
        }
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineTooManyUnderlyings.selector, MAX_INDEX));
        engine.listUnderlying(address(0xB0B0FFFF), _standardParams());
        vm.expectRevert(IMarginEngine.EngineMarketAlreadySet.selector);
        engine.setMarket(address(0xdead));
        vm.stopPrank();

        // The last index: bit 32, inside the uint64 field.
        vm.startPrank(riskManager);
        manager.setConcentrationParams(32, _p(0.01e18, 1e18));
        _assertSlot(slot, MAX_INDEX, both | (uint64(1) << 32), "index 32 on");
        manager.setConcentrationParams(ethIndex, _p(0, 1e18));
        manager.setConcentrationParams(btcIndex, _p(0, 1e18));
        _assertSlot(slot, MAX_INDEX, uint64(1) << 32, "1 and 2 off");
        manager.setConcentrationParams(32, _p(0, 1e18));
        _assertSlot(slot, MAX_INDEX, 0, "all off");
        vm.stopPrank();
    }

    /// @dev Index 0, the first index past the count and the largest uint16 are refused, by the
    /// manager's setter (through the engine) and by the engine's flag for the manager itself.
    function test_unlistedIndicesAreRefusedEverywhere() public {
        PortfolioManager manager = PortfolioManager(address(engine.portfolioManager()));
        uint16[3] memory bad = [uint16(0), 3, type(uint16).max];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(riskManager);
            vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
            manager.setConcentrationParams(bad[i], _p(0.01e18, 1e18));
            vm.prank(address(manager));
            vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
            engine.setConcentrationFlag(bad[i], true);
            vm.prank(address(manager));
            vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
            engine.setConcentrationFlag(bad[i], false);
        }
        assertEq(engine.concentrationFlags(), 0);
        // Another engine's manager is not this engine's.
        vm.prank(address(probeManager));
        vm.expectRevert(
            abi.encodeWithSelector(IMarginEngine.EngineCallerNotPortfolioManager.selector, address(probeManager))
        );
        engine.setConcentrationFlag(ethIndex, true);
    }

    // ------------------------------------------------------------ the gate, all 32 indices

    /// forge-config: default.fuzz.runs = 128
    function testFuzz_gateEqualsTheManager_allIndices(uint256 seed) public {
        // One book per run (a counted `expectCall` can be set once per test).
        uint256 round = 0;
        {
            // Setter calls on random indices: κ on (≤ 1 %) or off.
            for (uint256 j; j < 24; ++j) {
                uint256 r = uint256(keccak256(abi.encode(seed, round, j, "set")));
                uint16 index = uint16(1 + (r % MAX_INDEX));
                if ((r >> 8) % 4 == 0) index = uint16((r >> 8) % 2 == 0 ? 1 : MAX_INDEX); // the edges often
                uint256 kappa = (r >> 16) % 3 == 0 ? 0 : 1 + ((r >> 24) % 0.01e18);
                _setKappa(index, kappa, 1e18 + ((r >> 96) % 1_000e18));
            }
            uint64 flags;
            for (uint256 u = 1; u <= MAX_INDEX; ++u) {
                if (_kappa[u] != 0) flags |= uint64(1) << u;
            }
            assertEq(probe.concentrationFlags(), flags, "flags = (kappa > 0) per index");

            // A book: shorts on a random subset, sometimes only on unflagged or only on one index.
            uint256[] memory shorts = new uint256[](MAX_INDEX + 1);
            uint256[] memory spots = new uint256[](MAX_INDEX + 1);
            uint256 b = uint256(keccak256(abi.encode(seed, round, "book")));
            bool flaggedShort;
            for (uint256 u = 1; u <= MAX_INDEX; ++u) {
                uint256 r = uint256(keccak256(abi.encode(b, u)));
                spots[u] = 1e18 + (r % 1e24);
                uint256 mode = b % 4;
                bool on =
                    mode == 0
                        ? (r >> 100) % 2 == 0
                        : mode == 1
                            ? _kappa[u] == 0 // only unflagged underlyings
                            : mode == 2
                                ? u == 1 + ((b >> 8) % MAX_INDEX) // a single underlying
                                : (r >> 100) % 8 == 0;
                if (on) shorts[u] = 1 + ((r >> 128) % 1e24);
                if (on && _kappa[u] != 0) flaggedShort = true;
            }
            (uint256 wantIM, uint256 wantMM) = probeManager.concentrationAddOnUp(shorts, spots);
            vm.expectCall(
                address(probeManager),
                abi.encodeWithSelector(probeManager.concentrationAddOnUp.selector),
                flaggedShort ? 1 : 0
            );
            (uint256 im, uint256 mm) = probe.gatedAddOnUp(shorts, spots);
            assertEq(im, wantIM, "initial add-on = the manager's");
            assertEq(mm, wantMM, "maintenance add-on = the manager's");
            if (!flaggedShort) assertEq(im + mm, 0);
        }
    }

    /// @dev A short on index 32 alone, flagged: the gate reaches the last bit (a loop bound or a
    /// shift that stops at 31, or that starts past 1, shows here).
    function test_gate_lastAndFirstIndex() public {
        uint256[] memory shorts = new uint256[](MAX_INDEX + 1);
        uint256[] memory spots = new uint256[](MAX_INDEX + 1);
        for (uint256 u = 1; u <= MAX_INDEX; ++u) spots[u] = 1_000e18;
        uint16[2] memory edges = [uint16(MAX_INDEX), uint16(1)];
        for (uint256 e; e < 2; ++e) {
            uint16 index = edges[e];
            _setKappa(index, 0.01e18, 10e18);
            shorts[index] = 20e18;
            (uint256 im, uint256 mm) = probe.gatedAddOnUp(shorts, spots);
            // κ·S·Q·min(Q/L, c) = 0.01 · 1,000 · 20 · min(2, 1) = 200; maintenance half.
            assertEq(im, 200e18, "initial");
            assertEq(mm, 100e18, "maintenance");
            _setKappa(index, 0, 10e18);
            shorts[index] = 0;
        }
    }
}
