// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {VolSurfaceOracle} from "../../../contracts/oracle/VolSurfaceOracle.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {VolSurfaceOracleSetUp} from "../../helpers/VolSurfaceOracleSetUp.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Issue 17, part 2: the engine marks and margins with the vol surface
/// (`docs/vol-surface.md`, "Marks and margin"). FRESH (posted, mature, at most `surfaceMaxAge`
/// old): Black–Scholes at `markVol`, add-on `spot × addOn × (1 − confidence)` per short contract.
/// FALLBACK: a short's vol max(last mature posted vol, flat feed), a long's min (review rv20 P1,
/// `VolSurfaceMarksRv20.t.sol`), add-on at confidence 0, new risk refused with
/// `EngineVolSurfaceUnusable`, maintenance and auctions proceed.
contract VolSurfaceMarksTest is PledgeFixture {
    uint256 internal constant ADD_ON = 0.01e18;
    uint256 internal constant CONFIDENCE = 0.6e18;

    VolSurfaceOracle internal surfaces;
    uint256[3] internal keys;

    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal carolPortfolio;
    AccountId internal bobAccount;
    SeriesId internal call30;
    SeriesId internal put30;
    SeriesId internal btcCall30;

    function setUp() public override {
        super.setUp();
        keys = VolSurfaceOracleSetUp.sortedSignerKeys();
        surfaces = VolSurfaceOracleSetUp.deploy(keys, address(weth));

        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        carolPortfolio = _account(carol, 2);
        bobAccount = _account(bob, 1);
        call30 = _createSeries(ethIndex, 30, 3_300e18, true);
        put30 = _createSeries(ethIndex, 30, 2_700e18, false);
        btcCall30 = _createSeries(btcIndex, 30, 66_000e18, true);
        _fundAndDeposit(carol, carolAccount, usdc, 100_000e6);
        _fundAndDeposit(carol, carolPortfolio, usdc, 100_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 100_000_000e6);
        vm.prank(carol);
        engine.setMarginMode(carolPortfolio, IMarginEngine.MarginMode.PORTFOLIO);

        vm.prank(admin);
        engine.setVolSurface(surfaces);
        vm.startPrank(riskManager);
        engine.setConfidenceAddOn(ethIndex, 0.005e18);
        engine.setConfidenceAddOn(ethIndex, ADD_ON);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ helpers

    /// @dev A smile at 30 days (`VolSurfaceOracleSetUp.smile`): ATM vol about 70 % at `level`
    /// 1e18, about 99 % at 2e18. `VolSurfaceMarksCache` posts two of them at once.
    function _smile(
        uint256 expiry,
        int256 level,
        uint256 confidence
    ) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return VolSurfaceOracleSetUp.smile(expiry, level, confidence);
    }

    function _postSmile(int256 level, uint256 confidence) internal {
        VolSurfaceOracleSetUp.postSmile(surfaces, keys, address(weth), SeriesLib.expiryOf(call30), level, confidence);
    }

    /// @dev Moves time on by `dt` with fresh price feeds.
    function _wait(uint256 dt) internal {
        vm.warp(block.timestamp + dt);
        _refreshFeeds();
    }

    /// @dev Posts at `level` and `confidence` and waits until the surface is mature (FRESH).
    function _fresh(int256 level, uint256 confidence) internal {
        _postSmile(level, confidence);
        _wait(1 hours + 2 minutes);
        // Re-post so the surface is both mature and recent.
        _postSmile(level, confidence);
    }

    function _bs(SeriesId id, uint256 volWad) internal view returns (uint256) {
        uint256 t = SeriesLib.expiryOf(id) - block.timestamp;
        uint256 spot = oracle.spot(address(weth));
        uint256 strike = SeriesLib.strikeOf(id);
        return
            SeriesLib.isCallOf(id)
                ? BlackScholes.callPrice(spot, strike, t, volWad)
                : BlackScholes.putPrice(spot, strike, t, volWad);
    }

    function _markVol(SeriesId id) internal view returns (uint256 vol, uint256 ts, uint256 conf, bool mature) {
        return
            surfaces.markVol(address(weth), SeriesLib.expiryOf(id), oracle.spot(address(weth)), SeriesLib.strikeOf(id));
    }

    /// @dev The add-on of `contracts` short contracts at confidence `conf`, as the engine rounds it.
    function _addOn(uint256 contracts, uint256 conf) internal view returns (uint256) {
        uint256 perSpot = FixedPointMathLib.mulWadUp(oracle.spot(address(weth)), ADD_ON);
        return MarginMath.positionRequirementUp(-int256(contracts), FixedPointMathLib.mulWadUp(perSpot, 1e18 - conf));
    }

    /// @dev Carol (CROSS) sells `size` calls to bob at 100 USD.
    function _carolSellsCalls(int256 size) internal {
        _trade(carolKey, carolAccount, bobAccount, call30, -size, 100e18);
    }

    // ------------------------------------------------------------ marks

    function test_noSurface_marksAtTheFlatVolFeed() public {
        vm.prank(admin);
        engine.setVolSurface(IVolSurfaceOracle(address(0)));
        _fresh(1e18, 1e18);
        assertEq(engine.mark(call30), _bs(call30, 0.8e18), "flat feed, as before the surface");
    }

    function test_unlistedUnderlying_marksAtTheFlatVolFeed() public view {
        uint256 t = SeriesLib.expiryOf(btcCall30) - block.timestamp;
        assertEq(engine.mark(btcCall30), BlackScholes.callPrice(60_000e18, 66_000e18, t, 0.6e18));
    }

    function test_fresh_markIsBlackScholesAtMarkVol() public {
        _fresh(1e18, CONFIDENCE);
        (uint256 vol, , uint256 conf, bool mature) = _markVol(call30);
        assertTrue(mature);
        assertEq(conf, CONFIDENCE);
        assertTrue(vol != 0.8e18 && vol != 0, "a smile vol");
        assertEq(engine.mark(call30), _bs(call30, vol), "call");
        (vol, , , ) = _markVol(put30);
        assertEq(engine.mark(put30), _bs(put30, vol), "put: its own strike's vol");
    }

    function test_fresh_addOnAtConfidence() public {
        _fresh(1e18, CONFIDENCE);
        _carolSellsCalls(10e18);
        IMarginEngine.MarginState memory withAddOn = engine.accountMargin(carolAccount);
        vm.prank(riskManager);
        engine.setConfidenceAddOn(ethIndex, 0);
        IMarginEngine.MarginState memory without = engine.accountMargin(carolAccount);
        assertEq(withAddOn.requirementIM - without.requirementIM, _addOn(10e18, CONFIDENCE), "IM");
        assertEq(withAddOn.requirementMM - without.requirementMM, _addOn(10e18, CONFIDENCE), "MM");
        assertEq(withAddOn.equityIM, without.equityIM, "marks unchanged");
    }

    function test_immature_isFallbackAtTheFloorWithTheFullAddOn() public {
        _postSmile(2e18, 1e18); // ATM about 99 %, above the 80 % feed, but not mature
        (uint256 vol, , , bool mature) = _markVol(call30);
        assertFalse(mature);
        assertGt(vol, 0.8e18);
        assertEq(engine.mark(call30), _bs(call30, 0.8e18), "an immature post is not used: the floor");
    }

    function test_stale_isFallbackAtTheLargerOfLastPostAndFloor() public {
        _fresh(2e18, 1e18);
        (uint256 high, , , ) = _markVol(call30);
        assertGt(high, 0.8e18);
        _wait(2 hours + 1);
        assertEq(engine.mark(call30), _bs(call30, high), "the last mature post, above the floor");
        // The feed rises above the posted vol: the floor wins.
        ethVol.updateAnswer(1.5e8);
        assertEq(engine.mark(call30), _bs(call30, 1.5e18), "the floor, above the last post");
    }

    function test_defaults() public view {
        assertEq(engine.surfaceMaxAge(), 2 hours);
        assertEq(address(engine.volSurface()), address(surfaces));
    }

    function test_stale_boundaryIsMaxAge() public {
        _fresh(1e18, 1e18);
        (, uint256 ts, , ) = _markVol(call30);
        vm.warp(ts + 2 hours);
        _refreshFeeds();
        (uint256 vol, , , ) = _markVol(call30);
        assertEq(engine.mark(call30), _bs(call30, vol), "at maxAge: FRESH");
        vm.warp(ts + 2 hours + 1);
        _refreshFeeds();
        assertEq(engine.mark(call30), _bs(call30, 0.8e18), "a second later: FALLBACK (posted vol below the floor)");
    }

    function test_missing_isFallback() public {
        // Listed underlying, nothing posted for this expiry.
        assertEq(engine.mark(call30), _bs(call30, 0.8e18));
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginEngine.EngineVolSurfaceUnusable.selector,
                address(weth),
                SeriesLib.expiryOf(call30)
            )
        );
        this.carolSellsCallsExternal(1e18);
    }

    // ------------------------------------------------------------ fail closed for new risk

    function test_fallback_newRiskAndWithdrawalsRevert_depositsAndFreeExitsOpen() public {
        _fresh(1e18, 1e18);
        _carolSellsCalls(10e18);
        _wait(2 hours + 1); // stale
        bytes memory unusable = abi.encodeWithSelector(
            IMarginEngine.EngineVolSurfaceUnusable.selector,
            address(weth),
            SeriesLib.expiryOf(call30)
        );
        // A fill raising open interest.
        vm.expectRevert(unusable);
        this.carolSellsCallsExternal(1e18);
        // A withdrawal.
        vm.prank(carol);
        vm.expectRevert(unusable);
        vault.withdraw(carolAccount, address(usdc), 1e6, carol);
        vm.expectRevert(unusable);
        engine.checkInitialMargin(carolAccount);
        // The views value it at the FALLBACK mark with the full add-on.
        IMarginEngine.MarginState memory state = engine.accountMargin(carolAccount);
        vm.prank(riskManager);
        engine.setConfidenceAddOn(ethIndex, 0);
        assertEq(
            state.requirementMM - engine.accountMargin(carolAccount).requirementMM,
            _addOn(10e18, 0),
            "full add-on"
        );
        // Deposits stay open; an account with no position and no debt withdraws freely.
        _fundAndDeposit(carol, carolAccount, usdc, 1e6);
        AccountId free = _account(carol, 9);
        _fundAndDeposit(carol, free, usdc, 10e6);
        vm.prank(carol);
        vault.withdraw(free, address(usdc), 10e6, carol);
    }

    function carolSellsCallsExternal(int256 size) external {
        _carolSellsCalls(size);
    }

    function test_fallback_reducingFillProceeds() public {
        _fresh(1e18, 1e18);
        _carolSellsCalls(10e18);
        _wait(2 hours + 1);
        // Carol buys back half from bob at the mark: reducing on both sides, judged at the
        // FALLBACK mark.
        uint256 m = engine.mark(call30);
        _trade(carolKey, carolAccount, bobAccount, call30, 5e18, m);
        assertEq(market.positionOf(carolAccount, call30), -5e18);
    }

    function test_fallback_liquidationAndBidsProceed() public {
        _fresh(1e18, 1e18);
        // Carol sells as much as her margin allows, then spot jumps.
        _carolSellsCalls(150e18);
        _wait(2 hours + 1); // stale: FALLBACK
        _setPrice(ethUsd, 3_700e8);
        IMarginEngine.Health health = engine.accountMargin(carolAccount).health;
        assertEq(uint8(health), uint8(IMarginEngine.Health.LIQUIDATABLE), "liquidatable at the FALLBACK mark");
        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 0.1e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(bob);
        liquidator.bid(carolAccount, bobAccount, 0.1e18, preview.payment, nonce);
        // Outside the auction new risk on a FALLBACK short is still refused (carol's); bob, long
        // the calls he bought from carol less the slice, holds no short, and standard initial
        // margin counts longs at zero, so a FALLBACK long refuses nothing (docs/security.md M10).
        assertLt(market.positionOf(carolAccount, call30), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginEngine.EngineVolSurfaceUnusable.selector,
                address(weth),
                SeriesLib.expiryOf(call30)
            )
        );
        engine.checkInitialMargin(carolAccount);
        assertGt(market.positionOf(bobAccount, call30), 0);
        engine.checkInitialMargin(bobAccount);
    }

    function test_portfolio_addOnAndFailClosed() public {
        _fresh(1e18, CONFIDENCE);
        _trade(carolKey, carolPortfolio, bobAccount, call30, -10e18, 100e18);
        IMarginEngine.MarginState memory withAddOn = engine.accountMargin(carolPortfolio);
        vm.prank(riskManager);
        engine.setConfidenceAddOn(ethIndex, 0);
        IMarginEngine.MarginState memory without = engine.accountMargin(carolPortfolio);
        assertEq(withAddOn.requirementIM - without.requirementIM, _addOn(10e18, CONFIDENCE), "IM");
        assertEq(withAddOn.requirementMM - without.requirementMM, _addOn(10e18, CONFIDENCE), "MM");
        _wait(2 hours + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginEngine.EngineVolSurfaceUnusable.selector,
                address(weth),
                SeriesLib.expiryOf(call30)
            )
        );
        engine.checkInitialMargin(carolPortfolio);
        engine.accountMargin(carolPortfolio); // the view still answers
    }

    function test_expiredSeries_readsNoSurface() public {
        _fresh(1e18, 1e18);
        _carolSellsCalls(1e18);
        // Long stale by expiry, but an expired series never reads the surface.
        vm.warp(SeriesLib.expiryOf(call30));
        _refreshFeeds();
        assertEq(engine.mark(call30), 0, "intrinsic at spot 3000 < 3300");
        engine.checkInitialMargin(carolAccount);
    }

    // ------------------------------------------------------------ governance

    function test_setters_boundsRolesAndEvents() public {
        vm.startPrank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineInvalidSurfaceMaxAge.selector, 10 minutes - 1));
        engine.setSurfaceMaxAge(10 minutes - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineInvalidSurfaceMaxAge.selector, 1 days + 1));
        engine.setSurfaceMaxAge(1 days + 1);
        vm.expectEmit(address(engine));
        emit IMarginEngine.SurfaceMaxAgeSet(1 days);
        engine.setSurfaceMaxAge(1 days);
        assertEq(engine.surfaceMaxAge(), 1 days);

        vm.expectRevert(
            abi.encodeWithSelector(IMarginEngine.EngineInvalidConfidenceAddOn.selector, ethIndex, 0.05e18 + 1)
        );
        engine.setConfidenceAddOn(ethIndex, 0.05e18 + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginEngine.EngineConfidenceAddOnStepTooLarge.selector,
                ethIndex,
                ADD_ON,
                ADD_ON + 0.005e18 + 1
            )
        );
        engine.setConfidenceAddOn(ethIndex, ADD_ON + 0.005e18 + 1);
        vm.expectEmit(address(engine));
        emit IMarginEngine.ConfidenceAddOnSet(ethIndex, ADD_ON + 0.005e18);
        engine.setConfidenceAddOn(ethIndex, ADD_ON + 0.005e18);
        engine.setConfidenceAddOn(ethIndex, 0); // lowering is free
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        engine.setConfidenceAddOn(7, 0);

        vm.stopPrank();
        vm.expectEmit(address(engine));
        emit IMarginEngine.VolSurfaceSet(IVolSurfaceOracle(address(0)));
        vm.prank(admin);
        engine.setVolSurface(IVolSurfaceOracle(address(0)));
        (IVolSurfaceOracle s, uint256 maxAge, uint256 addOn) = engine.surfaceParams(ethIndex);
        assertEq(address(s), address(0));
        assertEq(maxAge, 1 days);
        assertEq(addOn, 0);

        // The surface is wiring: the admin's, not the risk manager's.
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, riskManager, bytes32(0))
        );
        vm.prank(riskManager);
        engine.setVolSurface(surfaces);
        bytes32 role = keccak256("pledge.role.riskManager");
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, role));
        vm.prank(bob);
        engine.setSurfaceMaxAge(1 hours);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, role));
        vm.prank(bob);
        engine.setConfidenceAddOn(ethIndex, 0);
    }
}
