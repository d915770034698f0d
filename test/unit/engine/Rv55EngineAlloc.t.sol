// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {MarginEngine} from "../../../contracts/engine/MarginEngine.sol";
import {PortfolioManager} from "../../../contracts/engine/PortfolioManager.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {CashUnits} from "../../../contracts/libraries/CashUnits.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @dev A market that holds no book of its own: each account's book is mocked (`vm.mockCall`) per test.
contract Rv55BookMarket {
    function positionsOf(AccountId) external pure returns (SeriesId[] memory ids, int256[] memory balances) {
        return (ids, balances);
    }
}

/// @dev A vol-surface oracle with one chosen surface per underlying (any expiry).
contract Rv55SurfaceOracle {
    mapping(address => bool) public isListed;
    mapping(address => IVolSurfaceOracle.Surface) internal _surfaces;

    function set(address asset, IVolSurfaceOracle.Surface calldata s) external {
        isListed[asset] = true;
        _surfaces[asset] = s;
    }

    function markSurface(address asset, uint256) external view returns (IVolSurfaceOracle.Surface memory) {
        return _surfaces[asset];
    }
}

/// @title Review rv55 of the standard check's allocation change (staged on d8022fd)
/// @notice `_newCache`'s one allocation, `_zeros`, `_collateralMargin` (collateral summed without
/// `Holding`s), positions added unchecked into the caller's `MarginState`, and `_riskParamsOf` on
/// the stack, checked on two engines built from the changed source — the `hardhat build` artifact
/// (IR pipeline, what the deploy uses) and this test job's own build (legacy pipeline). Both value
/// accounts whose vault balances, collateral configs, prices and books are mocked, and each state
/// is compared, to the wei and revert for revert, with `refMargin`: the parent's (d8022fd's)
/// semantics written out from the libraries (`_holdings`/`_holding` priced first, then summed
/// checked; positions summed from zero, then added checked). During the review the same cases
/// also ran against d8022fd's deployed engine, which agreed.
contract Rv55EngineAllocTest is PledgeFixture {
    uint256 private constant WAD = 1e18;

    MarginEngine internal irEngine;
    MarginEngine internal legacyEngine;
    Rv55BookMarket internal book;
    Rv55SurfaceOracle internal surfaces;
    uint8 internal cashDecimals;

    function setUp() public override {
        super.setUp();
        book = new Rv55BookMarket();
        surfaces = new Rv55SurfaceOracle();
        cashDecimals = vault.assetConfig(vault.cashAsset()).decimals;
        bytes memory managerIR = vm.getCode("contracts/engine/PortfolioManager.sol:PortfolioManager");
        irEngine = MarginEngine(
            deployCode("contracts/engine/MarginEngine.sol:MarginEngine", abi.encode(admin, vault, oracle, managerIR))
        );
        legacyEngine = new MarginEngine(admin, vault, oracle, type(PortfolioManager).creationCode);
        assertTrue(address(irEngine).code.length != address(legacyEngine).code.length, "not the IR artifact");
        _wire(irEngine);
        _wire(legacyEngine);
    }

    function _wire(MarginEngine e) private {
        vm.startPrank(admin);
        e.grantRole(Roles.RISK_MANAGER_ROLE, riskManager);
        assertEq(e.listUnderlying(address(weth), _standardParams()), ethIndex);
        assertEq(e.listUnderlying(address(wbtc), IMarginEngine.RiskParams(0.2e18, 0.12e18, 0.1e18, 0.06e18)), btcIndex);
        e.setMarket(address(book));
        vm.stopPrank();
    }

    function _engines() private view returns (MarginEngine[2] memory) {
        return [irEngine, legacyEngine];
    }

    // ---------------------------------------------------------------- mocks

    function _word(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    function _fakeAsset(uint256 i) private pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("rv55 collateral", i)))));
    }

    function _mockBalances(AccountId a, uint256[] memory balances, int256 cash) private {
        vm.mockCall(address(vault), abi.encodeCall(vault.balancesOf, (a)), abi.encode(balances, cash));
    }

    function _mockAssets(address[] memory assets) private {
        vm.mockCall(address(vault), abi.encodeCall(vault.collateralAssets, ()), abi.encode(assets));
    }

    function _mockConfig(address asset, bool delisted, uint8 decimals, uint256 ih, uint256 mh) private {
        ICollateralVault.AssetConfig memory c = ICollateralVault.AssetConfig({
            listed: true,
            enabled: !delisted,
            delisted: delisted,
            decimals: decimals,
            initialHaircutWad: uint64(ih),
            maintenanceHaircutWad: uint64(mh),
            supplyCap: type(uint256).max,
            totalSupplied: 0
        });
        vm.mockCall(address(vault), abi.encodeCall(vault.assetConfig, (asset)), abi.encode(c));
    }

    /// @dev `ok == false`: the oracle reverts (stale, failing or out-of-bounds feed).
    function _mockSpot(address asset, uint256 price, bool ok) private {
        if (ok) vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (asset)), abi.encode(price));
        else vm.mockCallRevert(address(oracle), abi.encodeCall(oracle.spot, (asset)), abi.encode("stale"));
    }

    function _mockVol(address asset, uint256 vol) private {
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (asset)), abi.encode(vol));
    }

    function _mockBook(AccountId a, SeriesId[] memory ids, int256[] memory balances) private {
        vm.mockCall(address(book), abi.encodeCall(book.positionsOf, (a)), abi.encode(ids, balances));
    }

    function _series(uint16 index, uint256 daysOut, bool isCall, uint256 strike) private view returns (SeriesId) {
        return
            SeriesLib.id(
                SeriesLib.Series(index, uint40(block.timestamp + daysOut * 1 days + 1 hours), isCall, uint128(strike))
            );
    }

    // ---------------------------------------------------------------- the parent, written out

    /// @notice The parent's standard margin state of `a` on engine `e`'s registry.
    function refMargin(MarginEngine e, AccountId a) external view returns (IMarginEngine.MarginState memory s) {
        int256 cashWad;
        uint256[] memory values;
        ICollateralVault.AssetConfig[] memory configs;
        (cashWad, values, configs) = _refHoldings(a);
        (s.equityIM, s.equityMM, s.markValue) = (cashWad, cashWad, cashWad);
        for (uint256 i; i < values.length; ++i) {
            if (values[i] == 0) continue;
            s.equityIM += int256(MarginMath.applyHaircutDown(values[i], configs[i].initialHaircutWad));
            s.equityMM += int256(MarginMath.applyHaircutDown(values[i], configs[i].maintenanceHaircutWad));
            s.markValue += int256(values[i]);
        }
        _refPositions(e, a, s);
        s.health = _refHealth(s);
    }

    /// @dev `_holdings` and `_holding`: every collateral balance priced before any is summed.
    function _refHoldings(
        AccountId a
    ) private view returns (int256 cashWad, uint256[] memory values, ICollateralVault.AssetConfig[] memory configs) {
        (uint256[] memory balances, int256 cash) = vault.balancesOf(a);
        cashWad = CashUnits.toWadDown(cash, cashDecimals);
        values = new uint256[](balances.length);
        configs = new ICollateralVault.AssetConfig[](balances.length);
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] == 0) continue;
            if (assets.length == 0) assets = vault.collateralAssets();
            configs[i] = vault.assetConfig(assets[i]);
            if (configs[i].delisted) continue;
            uint256 price;
            try oracle.spot(assets[i]) returns (uint256 p) {
                price = p;
            } catch {}
            if (price == 0) continue;
            values[i] = MarginMath.tokenValueDown(balances[i], configs[i].decimals, price);
        }
    }

    /// @dev The positions summed from zero (true sums: checked), then added to the state, checked.
    function _refPositions(MarginEngine e, AccountId a, IMarginEngine.MarginState memory s) private view {
        (SeriesId[] memory ids, int256[] memory balances) = book.positionsOf(a);
        require(ids.length == balances.length, "book");
        int256 sumIM;
        int256 sumMM;
        uint256[] memory gross = new uint256[](3);
        for (uint256 i; i < ids.length; ++i) {
            (int256 value, uint256 reqIM, uint256 reqMM) = _refPosition(e, ids[i], balances[i]);
            if (balances[i] < 0) gross[SeriesLib.underlyingIndexOf(ids[i])] += uint256(-balances[i]);
            if (value < 0) sumIM += value;
            sumMM += value;
            s.requirementIM += reqIM;
            s.requirementMM += reqMM;
        }
        s.equityIM += sumIM;
        s.equityMM += sumMM;
        s.markValue += sumMM;
    }

    function _refPosition(
        MarginEngine e,
        SeriesId id,
        int256 balance
    ) private view returns (int256 value, uint256 reqIM, uint256 reqMM) {
        (uint256 mark, uint256 spot, uint256 addOnPer) = _refMark(e, id, balance > 0);
        value = MarginMath.positionValue(balance, mark);
        if (balance >= 0) return (value, 0, 0);
        (reqIM, reqMM) = _refRequirements(e, id, balance, spot);
        uint256 addOn = MarginMath.positionRequirementUp(balance, addOnPer);
        (reqIM, reqMM) = (reqIM + addOn, reqMM + addOn);
    }

    /// @dev A live series' Black–Scholes mark, its spot, and its confidence add-on per short contract.
    function _refMark(
        MarginEngine e,
        SeriesId id,
        bool isLong
    ) private view returns (uint256 mark, uint256 spot, uint256 addOnPer) {
        spot = oracle.spot(e.underlying(SeriesLib.underlyingIndexOf(id)).asset);
        uint256 vol;
        (vol, addOnPer) = _refVol(e, id, spot, isLong);
        uint256 strike = SeriesLib.strikeOf(id);
        // The engine takes ln(S/K) first (`_mark`), which refuses a zero spot; `callPrice` would price it.
        BlackScholes.lnMoneyness(spot, strike);
        mark = BlackScholes.callPrice(spot, strike, SeriesLib.expiryOf(id) - block.timestamp, vol);
        if (!SeriesLib.isCallOf(id)) mark = mark + strike - spot;
    }

    function _refRequirements(
        MarginEngine e,
        SeriesId id,
        int256 balance,
        uint256 spot
    ) private view returns (uint256 reqIM, uint256 reqMM) {
        IMarginEngine.RiskParams memory p = e.underlying(SeriesLib.underlyingIndexOf(id)).params;
        bool isCall = SeriesLib.isCallOf(id);
        uint256 strike = SeriesLib.strikeOf(id);
        reqIM = MarginMath.positionRequirementUp(
            balance,
            MarginMath.shortRequirementUp(isCall, spot, strike, p.aIM, p.bIM)
        );
        reqMM = MarginMath.positionRequirementUp(
            balance,
            MarginMath.shortRequirementUp(isCall, spot, strike, p.aMM, p.bMM)
        );
    }

    /// @dev The vol a live series marks at and its confidence add-on per short contract
    /// (docs/vol-surface.md, "Marks and margin").
    function _refVol(
        MarginEngine e,
        SeriesId id,
        uint256 spot,
        bool isLong
    ) private view returns (uint256 vol, uint256 addOnPer) {
        uint16 index = SeriesLib.underlyingIndexOf(id);
        (IVolSurfaceOracle so, uint256 maxAge, uint256 addOnWad) = e.surfaceParams(index);
        address asset = e.underlying(index).asset;
        if (address(so) == address(0) || !so.isListed(asset)) return (oracle.vol(asset), 0);
        uint256 confidence;
        (vol, confidence) = _refSurfaceVol(
            so.markSurface(asset, SeriesLib.expiryOf(id)),
            maxAge,
            asset,
            id,
            spot,
            isLong
        );
        addOnPer = FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(spot, addOnWad), WAD - confidence);
    }

    function _refSurfaceVol(
        IVolSurfaceOracle.Surface memory sf,
        uint256 maxAge,
        address asset,
        SeriesId id,
        uint256 spot,
        bool isLong
    ) private view returns (uint256 vol, uint256 confidence) {
        confidence = sf.confidenceWad;
        if (sf.mature) {
            int256 k = -BlackScholes.lnMoneyness(spot, SeriesLib.strikeOf(id));
            int256 w = SviMath.totalVariance(sf.a, sf.b, sf.rho, sf.m, sf.sigma, k);
            vol = SviMath.volFromVariance(w, SeriesLib.expiryOf(id) - sf.timestamp);
        }
        if (!sf.mature || sf.timestamp == 0 || sf.timestamp + maxAge < block.timestamp) {
            uint256 feed = oracle.vol(asset);
            if (!sf.mature || (isLong ? vol > feed : vol < feed)) vol = feed;
            confidence = 0;
        }
    }

    function _refHealth(IMarginEngine.MarginState memory s) private pure returns (IMarginEngine.Health) {
        if (s.equityMM < 0) return IMarginEngine.Health.INSOLVENT;
        if (s.equityMM < int256(s.requirementMM)) return IMarginEngine.Health.LIQUIDATABLE;
        if (s.equityIM < int256(s.requirementIM)) return IMarginEngine.Health.MARGIN_CALL;
        return IMarginEngine.Health.HEALTHY;
    }

    // ---------------------------------------------------------------- comparisons

    /// @dev `accountMargin`, `accountsMargin([a])` and the parent agree on `a`: all revert, or all
    /// return one state to the wei. Returns whether they returned.
    function _assertParity(MarginEngine e, AccountId a, string memory tag) private view returns (bool ok) {
        bytes memory got;
        (ok, got) = address(e).staticcall(abi.encodeCall(e.accountMargin, (a)));
        (bool wantOk, bytes memory want) = address(this).staticcall(abi.encodeCall(this.refMargin, (e, a)));
        assertEq(ok, wantOk, string.concat(tag, ": reverts where the parent did not, or not where it did"));
        AccountId[] memory one = new AccountId[](1);
        one[0] = a;
        (bool batchOk, bytes memory batch) = address(e).staticcall(abi.encodeCall(e.accountsMargin, (one)));
        assertEq(batchOk, ok, string.concat(tag, ": batch and single disagree on reverting"));
        if (!ok) return false;
        assertEq(got, want, string.concat(tag, ": state differs from the parent's"));
        assertEq(
            abi.encode(abi.decode(batch, (IMarginEngine.MarginState[]))[0]),
            got,
            string.concat(tag, ": batch state differs")
        );
    }

    /// @dev `_assertParity` on the new code's two builds.
    function _assertBothEngines(AccountId a, string memory tag) private view returns (bool ok) {
        ok = _assertParity(irEngine, a, string.concat(tag, " [IR]"));
        assertEq(
            _assertParity(legacyEngine, a, string.concat(tag, " [legacy]")),
            ok,
            string.concat(tag, ": builds disagree")
        );
    }

    // ---------------------------------------------------------------- generators

    /// @dev Up to 8 collateral assets (fakes, WETH and WBTC) with drawn configs, balances and prices:
    /// zero, dust and huge balances, 0 to 36 decimals, delisted, reverting and zero prices.
    function _mockCollateral(AccountId a, uint256 seed, int256 cash, bool wild) private {
        uint256 n = 1 + (seed % 8);
        address[] memory assets = new address[](n);
        uint256[] memory balances = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = _word(seed, 10 + i);
            assets[i] =
                i == 0 && r % 3 == 0
                    ? address(weth)
                    : i == 1 && r % 3 == 0
                        ? address(wbtc)
                        : _fakeAsset(i);
            balances[i] = _drawBalance(r >> 8, wild);
            _mockDrawnConfig(assets[i], r);
            _mockDrawnPrice(assets[i], r, wild);
        }
        _mockAssets(assets);
        _mockBalances(a, balances, cash);
    }

    /// @dev Zero, dust, ordinary, up to the vault's 2**128, or (`wild`) any uint256.
    function _drawBalance(uint256 r, bool wild) private pure returns (uint256) {
        uint256 kind = r % 7;
        if (kind == 4 && !wild) kind = 3;
        uint256 m = r >> 8;
        if (kind == 0) return 0;
        if (kind == 1) return 1 + (m % 10);
        if (kind == 2) return m % 1e30;
        if (kind == 3) return m % (uint256(1) << 128);
        if (kind == 4) return m;
        return kind == 5 ? 1 : type(uint128).max;
    }

    /// @dev Haircuts 0 to the vault's 90 % (maintenance at most initial), 0 to 36 decimals, delisted now and then.
    function _mockDrawnConfig(address asset, uint256 r) private {
        uint256 ih =
            (r >> 40) % 4 == 0
                ? 0
                : (r >> 40) % 4 == 1
                    ? 0.9e18
                    : (r >> 48) % (0.9e18 + 1);
        uint256 mh = (r >> 100) % 3 == 0 ? ih : (r >> 104) % (ih + 1);
        _mockConfig(asset, (r >> 160) % 6 == 0, uint8((r >> 168) % 37), ih, mh);
    }

    /// @dev A price of 0, 1 wei, ordinary, (`wild`) to 2**200 or any uint256, or a reverting
    /// (unpriceable) read.
    function _mockDrawnPrice(address asset, uint256 r, bool wild) private {
        uint256 kind = (r >> 176) % 7;
        if ((kind == 3 || kind == 4) && !wild) kind = 2;
        uint256 m = _word(r, 1);
        uint256 price =
            kind == 0
                ? 0
                : kind == 1
                    ? 1
                    : kind == 2
                        ? 1 + (m % 1e24)
                        : kind == 3
                            ? m % (uint256(1) << 200)
                            : kind == 4
                                ? m
                                : 1e18 + (m % 100_000e18);
        _mockSpot(asset, price, kind != 6 || (r >> 200) % 2 == 0);
    }

    /// @dev A cash balance within the 2**200 units `_standardMargin`'s bound assumes of the vault
    /// (2**240 in WAD; the vault's own bound is about 2**148 units: shares and indices below 2**104).
    function _cash(uint256 r) private pure returns (int256 cash) {
        uint256 kind = r % 5;
        uint256 m = r >> 8;
        if (kind == 0) return 0;
        uint256 mag =
            kind == 1
                ? m % 1e24
                : kind == 2
                    ? m % (uint256(1) << 148)
                    : kind == 3
                        ? (uint256(1) << 148)
                        : m % (uint256(1) << 200);
        cash = (r >> 7) & 1 == 1 ? -int256(mag) : int256(mag);
    }

    /// @dev Live series on WETH and WBTC, 1 to 365 days out, strikes 1 wei to 1e30, balances of
    /// either sign, log-uniform up to 2**`maxBits` (255: type(int256).max), and when `maxBits` is
    /// 255 now and then type(int256).min.
    function _mockRandomBook(AccountId a, uint256 seed, uint256 n, uint256 maxBits) private {
        SeriesId[] memory ids = new SeriesId[](n);
        int256[] memory balances = new int256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = _word(seed, 1000 + i);
            uint256 strike = 10 ** ((r >> 8) % 31);
            strike = strike + ((r >> 16) % strike);
            if (strike > 1e30) strike = 1e30;
            ids[i] = _series(r % 2 == 0 ? ethIndex : btcIndex, 1 + ((r >> 64) % 364), (r >> 1) & 1 == 1, strike);
            uint256 bits = (r >> 72) % (maxBits + 1);
            uint256 mag =
                bits == 255 ? uint256(type(int256).max) : (uint256(1) << bits) | ((r >> 80) % (uint256(1) << bits));
            balances[i] = (r >> 2) & 1 == 1 ? -int256(mag) : int256(mag);
            if (maxBits == 255 && (r >> 240) % 97 == 0) balances[i] = type(int256).min;
        }
        _mockBook(a, ids, balances);
    }

    /// @dev WETH and WBTC spots and vols: ordinary, or drawn log-uniform up to the mark's domain
    /// (spot < 2**120) and now and then past it.
    function _mockUnderlyings(uint256 seed) private {
        for (uint256 k; k < 2; ++k) {
            uint256 r = _word(seed, 77 + k);
            address asset = k == 0 ? address(weth) : address(wbtc);
            uint256 spot =
                r % 3 == 0 ? (k == 0 ? 3_000e18 : 60_000e18) : (uint256(1) << ((r >> 8) % 121)) + ((r >> 16) % 1e18);
            _mockSpot(asset, spot, true);
            _mockVol(asset, 0.01e18 + ((r >> 100) % 5e18));
        }
    }

    // ---------------------------------------------------------------- tests

    /// @notice Collateral of every kind (delisted, unpriceable, zero-price, zero-balance, dust, up
    /// to 2**256 − 1 native units at 0 to 36 decimals, haircuts 0 to 90 %) with cash and a small book:
    /// the new `_collateralMargin` gives the parent's state and reverts where it reverted.
    /// forge-config: default.fuzz.runs = 512
    function testFuzz_rv55_collateralMatchesParent(uint256 seed) public {
        AccountId a = _account(alice, 1);
        _mockCollateralPub(a, seed);
        _assertBothEngines(a, "collateral");
    }

    function _mockCollateralPub(AccountId a, uint256 seed) internal {
        _mockCollateral(a, seed, _cash(_word(seed, 1)), _word(seed, 6) % 2 == 0);
        _mockRandomBook(a, seed, _word(seed, 2) % 4, 80);
    }

    /// @notice Up to 128 positions with balances to the ends of int256, extreme spots and vols, and
    /// cash to ±2**200 units: the unchecked sums into the state give the parent's checked ones.
    /// forge-config: default.fuzz.runs = 96
    function testFuzz_rv55_positionsMatchParent(uint256 seed) public {
        AccountId a = _account(bob, 1);
        _mockPositionsPub(a, seed);
        _assertBothEngines(a, "positions");
    }

    function _mockPositionsPub(AccountId a, uint256 seed) internal {
        _mockCollateral(a, _word(seed, 3), _cash(_word(seed, 4)), false);
        _mockUnderlyings(seed);
        uint256 n = _word(seed, 5) % 4 == 0 ? 128 : 1 + (_word(seed, 5) % 128);
        uint256[6] memory caps = [uint256(64), 96, 128, 136, 160, 255];
        _mockRandomBook(a, seed, n, caps[_word(seed, 7) % 6]);
    }

    /// @notice The largest magnitudes reachable at once: the vault's largest cash either way, eight
    /// collateral assets each at the largest value a 90 % haircut can take, and 128 positions each
    /// worth about 2**196 (the `mulWad` bound), long or short: no revert, and the parent's state.
    function test_rv55_reachableExtremesMatchParent() public {
        uint256 spot = (uint256(1) << 119) + 12345;
        _mockSpot(address(weth), spot, true);
        _mockVol(address(weth), 0.8e18);
        // Deep in the money: a call worth about spot.
        SeriesId id = _series(ethIndex, 30, true, 1);
        int256 size = int256(type(uint256).max / spot / 2);
        for (uint256 c; c < 4; ++c) {
            AccountId a = _account(alice, uint96(100 + c));
            address[] memory assets = new address[](8);
            uint256[] memory balances = new uint256[](8);
            for (uint256 i; i < 8; ++i) {
                assets[i] = _fakeAsset(i);
                balances[i] = type(uint128).max;
                _mockConfig(assets[i], false, 0, 0.9e18, 0.9e18);
                // valueWad = balance × price just under 2**256 / 1e17, the most `applyHaircutDown` takes.
                _mockSpot(assets[i], (type(uint256).max / 1e17) / type(uint128).max, true);
            }
            _mockAssets(assets);
            int256 cash = int256(uint256(1) << 148);
            _mockBalances(a, balances, c % 2 == 0 ? cash : -cash);
            SeriesId[] memory ids = new SeriesId[](128);
            int256[] memory held = new int256[](128);
            for (uint256 i; i < 128; ++i) {
                ids[i] = id;
                held[i] = c < 2 ? size : -size;
            }
            _mockBook(a, ids, held);
            assertTrue(_assertBothEngines(a, "extremes"), "reverted");
        }
    }

    /// @notice `accountsMargin` writes each standard account into its own zeroed element of
    /// `new MarginState[](n)`: with repeated accounts, empty ones, a PORTFOLIO one between them and
    /// an account with requirements before one without, every element equals the single view.
    function test_rv55_batchElementsAreDistinctStates() public {
        AccountId rich = _account(alice, 1);
        AccountId empty = _account(bob, 1);
        AccountId portfolio = _account(alice, 2);
        AccountId longs = _account(bob, 2);
        {
            // Two fake assets (one of them unpriceable), WETH and WBTC as collateral.
            address[] memory assets = new address[](4);
            (assets[0], assets[1], assets[2], assets[3]) = (_fakeAsset(0), address(weth), address(wbtc), _fakeAsset(3));
            _mockAssets(assets);
            _mockConfig(assets[0], false, 6, 0.02e18, 0.01e18);
            _mockSpot(assets[0], 1e18, true);
            _mockConfig(assets[3], false, 18, 0.5e18, 0.3e18);
            _mockSpot(assets[3], 0, false);
            uint256[] memory balances = new uint256[](4);
            (balances[0], balances[1], balances[2], balances[3]) = (250_000e6, 40e18, 2e8, 1_000e18);
            _mockBalances(rich, balances, -50_000e6);
        }
        {
            SeriesId[] memory ids = new SeriesId[](3);
            int256[] memory held = new int256[](3);
            (ids[0], held[0]) = (_series(ethIndex, 7, true, 3_200e18), -10e18);
            (ids[1], held[1]) = (_series(btcIndex, 14, false, 55_000e18), -2e18);
            (ids[2], held[2]) = (_series(ethIndex, 7, false, 2_800e18), 5e18);
            _mockBook(rich, ids, held);
            ids = new SeriesId[](2);
            held = new int256[](2);
            (ids[0], held[0]) = (_series(ethIndex, 30, true, 3_500e18), 50e18);
            (ids[1], held[1]) = (_series(btcIndex, 30, false, 50_000e18), 1e18);
            _mockBook(longs, ids, held);
        }
        uint256[] memory none = new uint256[](4);
        _mockBalances(longs, none, -20_000e6);
        none[1] = 7e18;
        _mockBalances(portfolio, none, 5_000e6);
        AccountId[] memory batch = new AccountId[](8);
        (batch[0], batch[1], batch[2], batch[3]) = (rich, empty, rich, portfolio);
        (batch[4], batch[5], batch[6], batch[7]) = (longs, empty, portfolio, rich);
        for (uint256 k; k < 2; ++k) {
            MarginEngine e = _engines()[k];
            vm.prank(alice);
            e.setMarginMode(portfolio, IMarginEngine.MarginMode.PORTFOLIO);
            IMarginEngine.MarginState[] memory states = e.accountsMargin(batch);
            assertEq(states.length, batch.length);
            for (uint256 i; i < batch.length; ++i) {
                assertEq(abi.encode(states[i]), abi.encode(e.accountMargin(batch[i])), "batch element != single view");
                if (batch[i] != portfolio) {
                    assertEq(abi.encode(states[i]), abi.encode(this.refMargin(e, batch[i])), "!= parent");
                }
            }
            assertGt(states[0].requirementIM, 0);
            assertEq(states[1].requirementIM, 0, "empty account took another's requirement");
            assertEq(states[1].equityMM, 0, "empty account took another's equity");
            assertEq(states[4].requirementMM, 0, "longs took another's requirement");
        }
    }

    /// @notice The views and checks built on `_margin` and `_checkInitialWith` (a named return
    /// variable and a local state, each zeroed) agree with the state: `excesses`, `excessInitial`,
    /// `checkInitialMargin`'s revert and its arguments, and `checkInitialMargins` on both orders.
    function test_rv55_checksAgreeWithTheState() public {
        AccountId healthy = _account(alice, 1);
        AccountId short = _account(bob, 1);
        uint256[] memory none = new uint256[](2);
        _mockBalances(healthy, none, 100_000e6);
        _mockBalances(short, none, 1_000e6);
        SeriesId[] memory ids = new SeriesId[](1);
        int256[] memory held = new int256[](1);
        (ids[0], held[0]) = (_series(ethIndex, 7, true, 3_000e18), -10e18);
        _mockBook(healthy, ids, held);
        _mockBook(short, ids, held);
        for (uint256 k; k < 2; ++k) {
            MarginEngine e = _engines()[k];
            for (uint256 j; j < 2; ++j) {
                AccountId a = j == 0 ? healthy : short;
                IMarginEngine.MarginState memory s = e.accountMargin(a);
                (int256 im, int256 mm) = e.excesses(a);
                assertEq(im, s.equityIM - int256(s.requirementIM));
                assertEq(mm, s.equityMM - int256(s.requirementMM));
                assertEq(e.excessInitial(a), im);
                if (im >= 0) {
                    e.checkInitialMargin(a);
                } else {
                    vm.expectRevert(
                        abi.encodeWithSelector(
                            IMarginEngine.EngineBelowInitialMargin.selector,
                            a,
                            s.equityIM,
                            s.requirementIM
                        )
                    );
                    e.checkInitialMargin(a);
                }
            }
            IMarginEngine.MarginState memory bad = e.accountMargin(short);
            assertLt(bad.equityIM, int256(bad.requirementIM), "the test's short account must be below IM");
            e.checkInitialMargins(healthy, healthy);
            bytes memory err = abi.encodeWithSelector(
                IMarginEngine.EngineBelowInitialMargin.selector,
                short,
                bad.equityIM,
                bad.requirementIM
            );
            vm.expectRevert(err);
            e.checkInitialMargins(healthy, short);
            vm.expectRevert(err);
            e.checkInitialMargins(short, healthy);
        }
    }

    /// @notice The surface fields `_newCache` does not write (oracle, max age, the FALLBACK record,
    /// the surface slots) and the two it does (mode, add-on) in use: a FRESH surface with a
    /// confidence add-on on WETH and a stale one on WBTC, long and short. States equal the parent's;
    /// a check for new risk refuses the first stale short met, not a stale long.
    function test_rv55_surfaceFieldsAroundTheOneAllocation() public {
        vm.startPrank(admin);
        for (uint256 k; k < 2; ++k) _engines()[k].setVolSurface(IVolSurfaceOracle(address(surfaces)));
        vm.stopPrank();
        vm.startPrank(riskManager);
        for (uint256 k; k < 2; ++k) {
            _engines()[k].setConfidenceAddOn(ethIndex, 0.005e18);
            _engines()[k].setConfidenceAddOn(btcIndex, 0.004e18);
        }
        vm.stopPrank();
        surfaces.set(address(weth), _surface(block.timestamp - 10 minutes, 0.6e18));
        surfaces.set(address(wbtc), _surface(block.timestamp - 3 hours, 0.9e18));

        AccountId mixed = _account(alice, 1);
        AccountId staleLongs = _account(alice, 2);
        uint256[] memory none = new uint256[](2);
        _mockBalances(mixed, none, 10_000_000e6);
        _mockBalances(staleLongs, none, 10_000_000e6);
        SeriesId staleShort = _series(btcIndex, 21, true, 70_000e18);
        SeriesId[] memory ids = new SeriesId[](5);
        int256[] memory held = new int256[](5);
        (ids[0], held[0]) = (_series(ethIndex, 7, true, 3_300e18), -10e18);
        (ids[1], held[1]) = (_series(ethIndex, 7, false, 2_700e18), 4e18);
        (ids[2], held[2]) = (_series(btcIndex, 14, false, 50_000e18), 1e18);
        (ids[3], held[3]) = (staleShort, -2e18);
        (ids[4], held[4]) = (_series(btcIndex, 28, true, 80_000e18), -1e18);
        _mockBook(mixed, ids, held);
        SeriesId[] memory longIds = new SeriesId[](1);
        int256[] memory longHeld = new int256[](1);
        (longIds[0], longHeld[0]) = (ids[2], 3e18);
        _mockBook(staleLongs, longIds, longHeld);

        assertTrue(_assertBothEngines(mixed, "surfaces"), "reverted");
        assertTrue(_assertBothEngines(staleLongs, "stale longs"), "reverted");
        for (uint256 k; k < 2; ++k) {
            MarginEngine e = _engines()[k];
            vm.expectRevert(
                abi.encodeWithSelector(
                    IMarginEngine.EngineVolSurfaceUnusable.selector,
                    address(wbtc),
                    SeriesLib.expiryOf(staleShort)
                )
            );
            e.checkInitialMargin(mixed);
            e.checkInitialMargin(staleLongs);
            assertEq(e.mark(ids[0]), legacyEngine.mark(ids[0]));
        }
    }

    function _surface(uint256 postedAt, uint256 confidence) private pure returns (IVolSurfaceOracle.Surface memory s) {
        s.a = 0.02e18;
        s.b = 0.1e18;
        s.rho = -0.3e18;
        s.m = 0.05e18;
        s.sigma = 0.2e18;
        s.timestamp = postedAt;
        s.confidenceWad = confidence;
        s.maturesAt = postedAt;
        s.mature = true;
    }

    /// @notice 63/64 rule (review rv36 P2-1): collateral is still priced before the positions, so a
    /// caller who starves a collateral price read (counted 0 by its try/catch) never gets a state
    /// back. Over a sweep of gas limits on the IR engine, with the real oracle and vault, every call
    /// that returns returns the full-gas state.
    function test_rv55_starvedCollateralReadNeverReturns() public {
        AccountId a = _account(alice, 1);
        _fundAndDeposit(alice, a, weth, 10e18);
        _fundAndDeposit(alice, a, wbtc, 1e8);
        for (uint256 withBook; withBook < 2; ++withBook) {
            if (withBook == 1) {
                SeriesId[] memory ids = new SeriesId[](1);
                int256[] memory held = new int256[](1);
                (ids[0], held[0]) = (_series(ethIndex, 7, true, 3_300e18), -1e18);
                _mockBook(a, ids, held);
            }
            bytes memory call = abi.encodeCall(irEngine.accountMargin, (a));
            (bool ok, bytes memory full) = address(irEngine).staticcall(call);
            assertTrue(ok);
            uint256 start = gasleft();
            (ok, ) = address(irEngine).staticcall(call);
            uint256 used = start - gasleft();
            uint256 returned;
            for (uint256 g = 5_000; g < used + 2_000; g += 97) {
                bytes memory out;
                (ok, out) = address(irEngine).staticcall{gas: g}(call);
                if (!ok) continue;
                ++returned;
                assertEq(out, full, "a starved call returned another state");
            }
            assertGt(returned, 0);
        }
    }
}
