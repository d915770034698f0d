// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {MarginEngine} from "../../../contracts/engine/MarginEngine.sol";
import {PortfolioManager} from "../../../contracts/engine/PortfolioManager.sol";
import {MarginValuation} from "../../../contracts/engine/MarginValuation.sol";
import {StandardManager} from "../../../contracts/engine/StandardManager.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IPortfolioManager} from "../../../contracts/interfaces/IPortfolioManager.sol";
import {IPledgeOracle} from "../../../contracts/interfaces/IPledgeOracle.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @dev A vol-surface oracle that lists every underlying and returns one stored surface.
contract FixedSurfaceOracle {
    IVolSurfaceOracle.Surface internal surface;

    function set(IVolSurfaceOracle.Surface calldata s) external {
        surface = s;
    }

    function isListed(address) external pure returns (bool) {
        return true;
    }

    function markSurface(address, uint256) external view returns (IVolSurfaceOracle.Surface memory) {
        return surface;
    }
}

/// @dev A market whose `positionsOf` returns the book it is given, whatever its series.
contract BookMarket {
    SeriesId[] internal ids;
    int256[] internal balances;

    function set(SeriesId[] calldata ids_, int256[] calldata balances_) external {
        (ids, balances) = (ids_, balances_);
    }

    function positionsOf(AccountId) external view returns (SeriesId[] memory, int256[] memory) {
        return (ids, balances);
    }
}

/// @dev The standard check's per-position step, `StandardManager._position`, beside the code it
/// replaced in 7e29465 (copied below as `_refPosition` and its private helpers, unchanged but for
/// their names): both run over one book with their own fresh cache, shorts and risk arrays, with the
/// engine's registry and a surface oracle and add-on the test sets.
contract PositionParityHarness is StandardManager {
    MarginEngine internal immutable _engine;
    IVolSurfaceOracle internal _surface;
    uint256 internal _addOnWad;

    constructor(MarginEngine engine_, ICollateralVault vault_, IPledgeOracle oracle_) MarginValuation(vault_, oracle_) {
        _engine = engine_;
    }

    function setSurface(IVolSurfaceOracle surface, uint256 addOnWad) external {
        (_surface, _addOnWad) = (surface, addOnWad);
    }

    /// @notice Each position's (value, IM, MM) and the shorts by underlying, with the current code.
    function current(
        SeriesId[] calldata ids,
        int256[] calldata balances
    ) external view returns (int256[] memory values, uint256[] memory im, uint256[] memory mm, uint256[] memory q) {
        PriceCache memory cache = _newCache();
        q = new uint256[](cache.spot.length);
        uint256[][] memory risk = _noShortRisk(cache.spot.length);
        (values, im, mm) = (new int256[](ids.length), new uint256[](ids.length), new uint256[](ids.length));
        for (uint256 i; i < ids.length; ++i) {
            (values[i], im[i], mm[i]) = _position(ids[i], balances[i], cache, q, risk);
        }
    }

    /// @notice `current` with the parent's `_position`.
    function parent(
        SeriesId[] calldata ids,
        int256[] calldata balances
    ) external view returns (int256[] memory values, uint256[] memory im, uint256[] memory mm, uint256[] memory q) {
        PriceCache memory cache = _newCache();
        q = new uint256[](cache.spot.length);
        ShortRisk[] memory risk = _refNoShortRisk(cache.spot.length);
        (values, im, mm) = (new int256[](ids.length), new uint256[](ids.length), new uint256[](ids.length));
        for (uint256 i; i < ids.length; ++i) {
            (values[i], im[i], mm[i]) = _refPosition(ids[i], balances[i], cache, q, risk);
        }
    }

    // ------------------------------------------------ ab5785e's StandardManager, renamed

    /// @dev The parent's per-underlying entry (since a word array in `StandardManager`).
    struct ShortRisk {
        uint256 aIMSpot;
        uint256 aMMSpot;
        uint256 bIMSpot;
        uint256 bMMSpot;
        uint256 bIM;
        uint256 bMM;
    }

    function _refPosition(
        SeriesId seriesId,
        int256 balance,
        PriceCache memory cache,
        uint256[] memory shorts,
        ShortRisk[] memory risk
    ) internal view returns (int256 value, uint256 reqIM, uint256 reqMM) {
        uint256 spotWad;
        uint256 addOnWad;
        {
            uint256 markWad;
            bool settled;
            (markWad, spotWad, settled, , addOnWad) = _mark(seriesId, cache, balance > 0);
            value = MarginMath.positionValue(balance, markWad);
            if (balance >= 0 || settled) return (value, 0, 0);
        }
        uint16 index = SeriesLib.underlyingIndexOf(seriesId);
        shorts[index] += uint256(-balance);
        ShortRisk memory r = risk[index];
        if (_refIsUnset(r)) {
            r = _refReadShortRisk(index, spotWad);
            risk[index] = r;
        }
        (reqIM, reqMM) = _refRequirementsUp(seriesId, balance, spotWad, r);
        if (addOnWad != 0) {
            uint256 addOn = MarginMath.positionRequirementUp(balance, addOnWad);
            reqIM += addOn;
            reqMM += addOn;
        }
    }

    function _refNoShortRisk(uint256 count) private pure returns (ShortRisk[] memory risk) {
        assembly ("memory-safe") {
            risk := mload(0x40)
            mstore(risk, count)
            calldatacopy(add(risk, 0x20), calldatasize(), shl(5, count))
            mstore(0x40, add(add(risk, 0x20), shl(5, count)))
        }
    }

    function _refIsUnset(ShortRisk memory r) private pure returns (bool unset) {
        assembly ("memory-safe") {
            unset := iszero(r)
        }
    }

    function _refReadShortRisk(uint16 index, uint256 spotWad) private view returns (ShortRisk memory r) {
        (uint256 aIM, uint256 bIM, uint256 aMM, uint256 bMM) = _riskParamsOf(index);
        (r.bIM, r.bMM) = (bIM, bMM);
        r.aIMSpot = FixedPointMathLib.mulWadUp(aIM, spotWad);
        r.aMMSpot = FixedPointMathLib.mulWadUp(aMM, spotWad);
    }

    function _refRequirementsUp(
        SeriesId seriesId,
        int256 balance,
        uint256 spotWad,
        ShortRisk memory r
    ) private pure returns (uint256 reqIM, uint256 reqMM) {
        uint256 strike = SeriesLib.strikeOf(seriesId);
        uint256 otm;
        uint256 floorIM;
        uint256 floorMM;
        if (SeriesLib.isCallOf(seriesId)) {
            otm = strike > spotWad ? strike - spotWad : 0;
            floorIM = r.bIMSpot;
            floorMM = r.bMMSpot;
            if (floorIM == 0) {
                floorIM = FixedPointMathLib.mulWadUp(r.bIM, spotWad);
                floorMM = FixedPointMathLib.mulWadUp(r.bMM, spotWad);
                (r.bIMSpot, r.bMMSpot) = (floorIM, floorMM);
            }
        } else {
            otm = spotWad > strike ? spotWad - strike : 0;
            floorIM = FixedPointMathLib.mulWadUp(r.bIM, strike);
            floorMM = FixedPointMathLib.mulWadUp(r.bMM, strike);
        }
        uint256 first = r.aIMSpot > otm ? r.aIMSpot - otm : 0;
        reqIM = MarginMath.positionRequirementUp(balance, first > floorIM ? first : floorIM);
        first = r.aMMSpot > otm ? r.aMMSpot - otm : 0;
        reqMM = MarginMath.positionRequirementUp(balance, first > floorMM ? first : floorMM);
    }

    // ------------------------------------------------ registry: the engine's

    function _underlyingCount() internal view override returns (uint256) {
        return _engine.underlyingCount();
    }

    function _readAsset(uint16 index) internal view override returns (address) {
        return _engine.underlying(index).asset;
    }

    function _readListedIndex(address asset) internal view override returns (uint16) {
        return _engine.listedIndexOf(asset);
    }

    function _readSurfaceParams(uint16) internal view override returns (IVolSurfaceOracle, uint256, uint256) {
        return (_surface, 1 hours, _addOnWad);
    }

    function _riskParamsOf(
        uint16 index
    ) internal view override returns (uint256 aIM, uint256 bIM, uint256 aMM, uint256 bMM) {
        IMarginEngine.RiskParams memory p = _engine.underlying(index).params;
        return (p.aIM, p.bIM, p.aMM, p.bMM);
    }

    function _concentrationAddOnUp(
        uint256[] memory,
        uint256[] memory
    ) internal pure override returns (uint256, uint256) {
        return (0, 0);
    }
}

/// @dev What the parity suites share (this file's and `StandardPositionParityEdges.t.sol`): the
/// harness, a surface oracle the runs set, and the comparison of the current step with the parent.
abstract contract PositionParityTestBase is PledgeFixture {
    PositionParityHarness internal harness;
    FixedSurfaceOracle internal surface;

    function setUp() public virtual override {
        super.setUp();
        harness = new PositionParityHarness(engine, vault, oracle);
        surface = new FixedSurfaceOracle();
    }

    function _word(uint256 seed, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    /// @dev Marks on the fixed surface drawn from `r` (its level, age, confidence and maturity), with
    /// the confidence add-on `addOnWad`.
    function _setRandomSurface(uint256 r, uint256 addOnWad) internal {
        IVolSurfaceOracle.Surface memory s;
        s.a = int256(0.001e18 + ((r >> 8) % 1e18));
        s.sigma = 0.1e18;
        s.timestamp = block.timestamp - ((r >> 80) % 2 hours);
        s.confidenceWad = (r >> 120) % 1e18;
        s.mature = (r >> 200) % 4 != 0;
        surface.set(s);
        harness.setSurface(IVolSurfaceOracle(address(surface)), addOnWad);
    }

    /// @dev Asserts that the current step and the parent return the same bytes (results or revert
    /// data) for the book, and returns whether they did not revert.
    function _assertSame(SeriesId[] memory ids, int256[] memory balances) internal view returns (bool ok) {
        bytes memory out;
        bytes memory want;
        (ok, out) = address(harness).staticcall(abi.encodeCall(harness.current, (ids, balances)));
        bool wantOk;
        (wantOk, want) = address(harness).staticcall(abi.encodeCall(harness.parent, (ids, balances)));
        assertEq(ok, wantOk, "reverts where the parent did not, or not where it did");
        assertEq(out, want, "results or revert data differ from the parent's");
    }
}

/// @title The standard check's per-position step against the code it replaced (review rv32)
/// @notice 7e29465 rewrote `StandardManager._position` (|balance| taken once, Solady's mulWad /
/// mulWadUp called directly, unchecked reads of the shorts and risk arrays). Over fuzzed books —
/// balances of both signs up to ±(2^98 − 1) and to the ends of int256, strikes, live, expired and
/// settled series, spots, vols, surface add-ons — the new step must return what the old one did,
/// to the wei, and revert exactly where it did, with the same data.
contract StandardPositionParityTest is PositionParityTestBase {
    /// @dev A balance: zero, small, up to ±(2^98 − 1), or anywhere in int256 (its ends included).
    function _balance(uint256 r) private pure returns (int256 b) {
        uint256 kind = r % 8;
        uint256 v = r >> 8;
        if (kind == 0) return 0;
        if (kind == 1) return type(int256).min;
        if (kind == 2) return type(int256).max;
        if (kind == 3) return int256(v % (uint256(1) << 255)) * (r & 0x10 == 0 ? int256(1) : -1);
        if (kind < 6) b = int256(v % (uint256(1) << 98));
        else b = int256(1 + (v % 100e18));
        if ((r >> 4) & 1 == 1) b = -b;
    }

    /// @dev A series id: underlying ETH or BTC, strike in (0, 1e30], live, expired unsettled or
    /// expired settled (settlement mocked at a fuzzed price).
    function _series(uint256 r) private returns (SeriesId id) {
        uint16 index = r % 2 == 0 ? ethIndex : btcIndex;
        bool isCall = (r >> 1) & 1 == 1;
        uint256 strike = (r >> 2) % 4 == 0 ? 1 + ((r >> 8) % 1e30) : 1e18 + ((r >> 8) % 200_000e18);
        uint256 state = (r >> 120) % 3;
        uint40 expiry =
            state == 0
                ? uint40(block.timestamp + 1 + ((r >> 130) % 365 days))
                : uint40(block.timestamp - 1 - ((r >> 130) % 30 days));
        id = SeriesLib.id(SeriesLib.Series(index, expiry, isCall, uint128(strike)));
        address asset = index == ethIndex ? address(weth) : address(wbtc);
        vm.mockCall(
            address(oracle),
            abi.encodeCall(oracle.settlementPrice, (asset, expiry)),
            abi.encode(1 + ((r >> 170) % 200_000e18), state == 2)
        );
    }

    function _mockPrices(uint256 seed) private {
        uint256 r = _word(seed, 1);
        uint256 ethSpot = r % 4 == 0 ? 1 + ((r >> 8) % 1e24) : 100e18 + ((r >> 8) % 10_000e18);
        uint256 btcSpot = (r >> 100) % 4 == 0 ? 1 + ((r >> 108) % 1e24) : 10_000e18 + ((r >> 108) % 200_000e18);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(ethSpot));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(wbtc))), abi.encode(btcSpot));
        r = _word(seed, 2);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.05e18 + (r % 3e18)));
        vm.mockCall(
            address(oracle),
            abi.encodeCall(oracle.vol, (address(wbtc))),
            abi.encode(0.05e18 + ((r >> 128) % 3e18))
        );
    }

    /// @dev Half the runs mark on a surface (mature or not, fresh or stale) with an add-on up to 20 %.
    function _mockSurface(uint256 seed) private {
        uint256 r = _word(seed, 3);
        if (r % 2 == 0) return;
        _setRandomSurface(r, (r >> 160) % 0.2e18);
    }

    function _book(uint256 seed) private returns (SeriesId[] memory ids, int256[] memory balances) {
        uint256 n = 1 + (seed % 8);
        ids = new SeriesId[](n);
        balances = new int256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = _series(_word(seed, 100 + i));
            balances[i] = _balance(_word(seed, 200 + i));
        }
    }

    function testFuzz_positionsMatchTheParent(uint256 seed) public {
        vm.warp(block.timestamp + 40 days);
        _mockPrices(seed);
        _mockSurface(seed);
        (SeriesId[] memory ids, int256[] memory balances) = _book(seed);
        _assertSame(ids, balances);
    }

    /// @dev The same with every balance a short within ±(2^98 − 1) and realistic prices, so the
    /// runs reach the requirements (and the shorts count) rather than stopping at a revert.
    function testFuzz_shortBooksMatchTheParent(uint256 seed) public {
        vm.warp(block.timestamp + 40 days);
        vm.mockCall(
            address(oracle),
            abi.encodeCall(oracle.spot, (address(weth))),
            abi.encode(2_000e18 + (seed % 2_000e18))
        );
        vm.mockCall(
            address(oracle),
            abi.encodeCall(oracle.spot, (address(wbtc))),
            abi.encode(40_000e18 + (seed % 40_000e18))
        );
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.8e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(wbtc))), abi.encode(0.6e18));
        _mockSurface(seed);
        (SeriesId[] memory ids, int256[] memory balances) = _book(seed);
        for (uint256 i; i < ids.length; ++i) {
            uint256 r = _word(seed, 300 + i);
            balances[i] = -int256(1 + (r % (uint256(1) << 98)));
            ids[i] = SeriesLib.id(
                SeriesLib.Series(
                    r % 2 == 0 ? ethIndex : btcIndex,
                    uint40(block.timestamp + 1 days + ((r >> 100) % 300 days)),
                    (r >> 1) & 1 == 1,
                    uint128(1_000e18 + ((r >> 2) % 80_000e18))
                )
            );
        }
        assertTrue(_assertSame(ids, balances), "a realistic short book reverted");
    }

    /// @dev Sizes, gross shorts and marks on both sides of 2**128, where `_position` switches
    /// between its written-out arithmetic and the library's checked calls (issue 19, session 24):
    /// shorts around 2**127 and 2**128 whose gross crosses 2**128 within a book, expired unsettled
    /// series marked at an intrinsic value on either side of 2**128, live series at ordinary prices.
    function testFuzz_writtenOutArithmeticBoundaries(uint256 seed) public {
        vm.warp(block.timestamp + 40 days);
        uint256 r = _word(seed, 7);
        uint256[4] memory spots = [uint256(2_500e18), (uint256(1) << 128) - 1e18, (uint256(1) << 128) + 3e18, 1 << 200];
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(spots[r % 4]));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(wbtc))), abi.encode(50_000e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.8e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(wbtc))), abi.encode(0.6e18));
        _mockSurface(seed);
        uint256 n = 1 + ((r >> 8) % 6);
        SeriesId[] memory ids = new SeriesId[](n);
        int256[] memory balances = new int256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 w = _word(seed, 400 + i);
            uint256 near = w % 3 == 0 ? uint256(1) << 127 : uint256(1) << 128;
            // Within a few contracts of 2**127 or 2**128 (either side), or an ordinary size.
            uint256 size = (w >> 2) % 4 == 0 ? 1 + ((w >> 8) % 1_000e18) : near - 4 + ((w >> 8) % 9);
            balances[i] = -int256(size);
            bool expired = (w >> 100) % 3 == 0;
            ids[i] = SeriesLib.id(
                SeriesLib.Series(
                    (w >> 101) % 4 == 0 ? btcIndex : ethIndex,
                    expired
                        ? uint40(block.timestamp - 1 - ((w >> 110) % 10 days))
                        : uint40(block.timestamp + 1 days + ((w >> 110) % 300 days)),
                    (w >> 102) & 1 == 1,
                    uint128(1_000e18 + ((w >> 140) % 80_000e18))
                )
            );
            address asset = (w >> 101) % 4 == 0 ? address(wbtc) : address(weth);
            vm.mockCall(
                address(oracle),
                abi.encodeCall(oracle.settlementPrice, (asset, SeriesLib.expiryOf(ids[i]))),
                abi.encode(uint256(0), false)
            );
        }
        _assertSame(ids, balances);
    }

    /// @dev A series on an index past the registry (count + 1, and beyond): `_mark`'s one index
    /// check is all that keeps the cache's unchecked reads (`_at`, `_setAt`) inside their arrays.
    /// Off by one (`>`), index count + 1 would read the next array's length word as its spot and
    /// mark without reverting.
    function _pastTheRegistry(uint256 k) private view returns (SeriesId) {
        uint16 index = uint16(engine.underlyingCount() + 1 + (k % (65_536 - 1 - engine.underlyingCount())));
        return SeriesLib.id(SeriesLib.Series(index, _expiry(7), true, 3_000e18));
    }

    function testFuzz_markPastTheRegistryReverts(uint256 k, bool expired) public {
        SeriesId id = k % 2 == 0 ? _pastTheRegistry(0) : _pastTheRegistry(k);
        if (expired) {
            vm.warp(_expiry(8));
            _refreshFeeds();
        }
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        engine.mark(id);
    }

    /// @dev A market answering with a series past the registry (a long and a short) cannot get it
    /// valued: both the standard check and the portfolio manager's revert.
    function test_bookPastTheRegistryReverts() public {
        BookMarket book = new BookMarket();
        MarginEngine engine2 = new MarginEngine(address(this), vault, oracle, type(PortfolioManager).creationCode);
        engine2.listUnderlying(address(weth), _standardParams());
        engine2.listUnderlying(address(wbtc), _standardParams());
        engine2.setMarket(address(book));
        AccountId account = _account(alice, 9);
        IPortfolioManager pm = engine2.portfolioManager();
        SeriesId[] memory ids = new SeriesId[](2);
        int256[] memory balances = new int256[](2);
        ids[0] = SeriesLib.id(SeriesLib.Series(1, _expiry(7), false, 3_000e18));
        ids[1] = _pastTheRegistry(0);
        for (uint256 sign; sign < 2; ++sign) {
            (balances[0], balances[1]) = (1e18, sign == 0 ? int256(1e18) : -1e18);
            book.set(ids, balances);
            vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
            engine2.accountMargin(account);
            vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
            pm.accountMarginFor(account, false);
        }
    }
}
