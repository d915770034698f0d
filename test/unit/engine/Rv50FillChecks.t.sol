// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {VolSurfaceOracle} from "../../../contracts/oracle/VolSurfaceOracle.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {VolSurfaceOracleSetUp} from "../../helpers/VolSurfaceOracleSetUp.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Review rv50: `engine.checkInitialMargins(first, second)` (issue 19, FC1) shares one
/// price cache between two standard valuations. `CheckInitialMargins.t.sol` fuzzes it without a
/// vol surface, so nothing there records an unusable (FALLBACK) surface in the cache. Here ETH
/// marks on a surface that has gone stale (FALLBACK): a CROSS short and a PORTFOLIO long on it
/// are refused new risk, a CROSS long is not. Every ordered pair of the accounts, and a first side
/// that is both on a FALLBACK short and below IM, must revert exactly as the two single checks do.
contract Rv50FillChecksTest is PledgeFixture {
    VolSurfaceOracle internal surfaces;
    uint256[3] internal keys;

    uint256 internal carolKey;
    uint256 internal bobKey;
    uint256 internal daveKey;
    uint256 internal erinKey;
    AccountId internal carolAccount; // CROSS, short an ETH call: refused on FALLBACK
    AccountId internal carolPortfolio; // PORTFOLIO, long an ETH call: refused on FALLBACK
    AccountId internal bobAccount; // CROSS, long ETH calls: a standard long is not refused
    AccountId internal daveAccount; // CROSS, short a BTC call (flat vol): unaffected
    AccountId internal erinAccount; // CROSS, short an ETH call and below IM after the move
    SeriesId internal call30;
    SeriesId internal btcCall30;

    function setUp() public override {
        super.setUp();
        keys = VolSurfaceOracleSetUp.sortedSignerKeys();
        surfaces = VolSurfaceOracleSetUp.deploy(keys, address(weth));
        vm.prank(admin);
        engine.setVolSurface(surfaces);

        address carol;
        address dave;
        address erin;
        (carol, carolKey) = makeAddrAndKey("carol");
        (bob, bobKey) = makeAddrAndKey("bob");
        (dave, daveKey) = makeAddrAndKey("dave");
        (erin, erinKey) = makeAddrAndKey("erin");
        carolAccount = _account(carol, 1);
        carolPortfolio = _account(carol, 2);
        bobAccount = _account(bob, 1);
        daveAccount = _account(dave, 1);
        erinAccount = _account(erin, 1);
        call30 = _createSeries(ethIndex, 30, 3_300e18, true);
        btcCall30 = _createSeries(btcIndex, 30, 66_000e18, true);
        _fundAndDeposit(carol, carolAccount, usdc, 100_000e6);
        _fundAndDeposit(carol, carolPortfolio, usdc, 100_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 1_000_000e6);
        _fundAndDeposit(dave, daveAccount, usdc, 100_000e6);
        _fundAndDeposit(erin, erinAccount, usdc, 1_000e6);
        vm.prank(carol);
        engine.setMarginMode(carolPortfolio, IMarginEngine.MarginMode.PORTFOLIO);

        // FRESH: every side may open.
        _postSmile();
        _wait(1 hours + 2 minutes);
        _postSmile();
        _trade(carolKey, carolAccount, bobAccount, call30, -1e18, 100e18);
        _trade(erinKey, erinAccount, bobAccount, call30, -1e18, 100e18);
        _trade(bobKey, bobAccount, carolPortfolio, call30, -0.5e18, 100e18);
        _trade(daveKey, daveAccount, bobAccount, btcCall30, -1e18, 1_000e18);
        // Stale: FALLBACK from here on.
        _wait(2 hours + 1);
    }

    function _postSmile() internal {
        VolSurfaceOracleSetUp.postSmile(surfaces, keys, address(weth), SeriesLib.expiryOf(call30), 1e18, 1e18);
    }

    function _wait(uint256 dt) internal {
        vm.warp(block.timestamp + dt);
        _refreshFeeds();
    }

    function _unusable() internal view returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IMarginEngine.EngineVolSurfaceUnusable.selector,
                address(weth),
                SeriesLib.expiryOf(call30)
            );
    }

    /// @dev The revert data of a call to the engine, empty when it passes.
    function _revertOf(bytes memory data) internal view returns (bytes memory) {
        (bool ok, bytes memory reason) = address(engine).staticcall(data);
        if (ok) return "";
        assertGt(reason.length, 0, "a check reverted without data");
        return reason;
    }

    function _single(AccountId a) internal view returns (bytes memory) {
        return _revertOf(abi.encodeCall(IMarginEngine.checkInitialMargin, (a)));
    }

    function _pair(AccountId a, AccountId b) internal view returns (bytes memory) {
        return _revertOf(abi.encodeCall(IMarginEngine.checkInitialMargins, (a, b)));
    }

    /// @notice The single checks on the stale surface, as the engine's rules say.
    function test_singleChecksOnTheStaleSurface() public view {
        assertEq(_single(carolAccount), _unusable(), "a CROSS short on FALLBACK is refused");
        assertEq(_single(carolPortfolio), _unusable(), "a PORTFOLIO long on FALLBACK is refused");
        assertEq(_single(bobAccount), bytes(""), "a CROSS long on FALLBACK is not");
        assertEq(_single(daveAccount), bytes(""), "a flat-vol short is not");
    }

    /// @notice Every ordered pair (a pair may repeat one) reverts as the two single checks in order:
    /// a FALLBACK long met by the first side's valuation (not recorded in standard margin) does not
    /// refuse the second, and a second side's FALLBACK short is refused after a first that passed.
    function test_everyPairIsTheTwoSingleChecksInOrder() public view {
        AccountId[5] memory accounts = [carolAccount, carolPortfolio, bobAccount, daveAccount, erinAccount];
        for (uint256 i; i < 5; ++i) {
            for (uint256 j; j < 5; ++j) {
                bytes memory expected = _single(accounts[i]);
                if (expected.length == 0) expected = _single(accounts[j]);
                assertEq(_pair(accounts[i], accounts[j]), expected, "the pair is the two singles in order");
            }
        }
        assertEq(_pair(bobAccount, carolAccount), _unusable(), "long first, short second: refused");
        assertEq(_pair(bobAccount, daveAccount), bytes(""), "long first, flat second: passes");
        assertEq(_pair(daveAccount, carolPortfolio), _unusable(), "a PORTFOLIO second side is refused");
    }

    /// @notice A first side both on a FALLBACK short and below IM reverts with the surface's error,
    /// as its single check does (the surface is checked before the margin), not with its IM
    /// shortfall: the shared call must not defer the first side's surface check.
    function test_firstSideOnAFallbackShortAndBelowIM_revertsWithTheSurface() public {
        _setPrice(ethUsd, 3_900e8);
        assertLt(engine.excessInitial(erinAccount), 0, "erin is below IM");
        assertEq(_single(erinAccount), _unusable(), "single: the surface first");
        assertEq(_pair(erinAccount, daveAccount), _unusable(), "pair: the surface first");
        assertEq(_pair(erinAccount, bobAccount), _unusable(), "pair with a FALLBACK long second");
        // And second: the first passes, then the second's surface error, not its shortfall.
        assertEq(_pair(daveAccount, erinAccount), _unusable(), "second side: the surface first");
    }

    /// @notice At the market: an opening fill between a FALLBACK long (standard) and a flat short
    /// passes the shared check; one where the maker holds a FALLBACK short is refused with it.
    function test_openingFills_sharedCheckAtTheMarket() public {
        vm.expectCall(address(engine), abi.encodeWithSelector(IMarginEngine.checkInitialMargins.selector));
        // Bob (long ETH calls on FALLBACK) buys a BTC call from dave: both sides open new risk.
        _trade(bobKey, bobAccount, daveAccount, btcCall30, 0.1e18, 1_000e18);
        // Carol (short an ETH call on FALLBACK) buys a BTC call from dave: refused on her surface.
        IOptionMarket.Order memory order = IOptionMarket.Order({
            account: carolAccount,
            seriesId: btcCall30,
            size: 0.1e18,
            priceWad: 1_000e18,
            taker: AccountId.wrap(0),
            nonce: 9_001,
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = _signOrder(carolKey, order);
        vm.prank(vm.addr(daveKey));
        vm.expectRevert(_unusable());
        market.fill(order, sig, daveAccount, 0.1e18);
    }
}
