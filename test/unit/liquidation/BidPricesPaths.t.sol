// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {VolSurfaceOracle} from "../../../contracts/oracle/VolSurfaceOracle.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {VolSurfaceOracleSetUp} from "../../helpers/VolSurfaceOracleSetUp.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice One set of prices a bid (`BidPrices.t.sol`) on every path a seeded price reaches
/// (review rv59 P2-1): a surface underlying FRESH, FALLBACK with no mature post, and FALLBACK
/// after a mature post went stale (where the flat vol bounds the last posted vol), collateral in
/// an underlying (`_collateralPrice`), an expired series with no settlement price (marked at
/// spot), a flat underlying beside them and a PORTFOLIO account. What must never happen: any
/// account valued, or checked, at another account's prices differently from the feeds.
contract BidPricesPathsTest is PledgeFixture {
    VolSurfaceOracle internal surfaces;
    uint256[3] internal keys;
    address internal carol;
    uint256 internal carolKey;
    AccountId internal bobAccount;
    /// @dev Carol's books, one path each (`setUp`), and Bob, long against them all.
    AccountId[6] internal books;
    SeriesId internal call30;
    SeriesId internal put30;
    SeriesId internal btcCall30;
    SeriesId internal call1;

    function setUp() public override {
        super.setUp();
        keys = VolSurfaceOracleSetUp.sortedSignerKeys();
        surfaces = VolSurfaceOracleSetUp.deploy(keys, address(weth));
        (carol, carolKey) = makeAddrAndKey("carol");
        bobAccount = _account(bob, 1);
        call30 = _createSeries(ethIndex, 30, 3_300e18, true);
        put30 = _createSeries(ethIndex, 30, 2_700e18, false);
        btcCall30 = _createSeries(btcIndex, 30, 66_000e18, true);
        call1 = _createSeries(ethIndex, 1, 3_000e18, true);
        _fundAndDeposit(bob, bobAccount, usdc, 100_000_000e6);
        for (uint96 i; i < books.length; ++i) books[i] = _account(carol, i + 1);
        // 0: short ETH calls, on cash.
        _fundAndDeposit(carol, books[0], usdc, 100_000e6);
        _trade(carolKey, books[0], bobAccount, call30, -5e18, 100e18);
        // 1: WETH collateral, long ETH puts, short BTC calls.
        _fundAndDeposit(carol, books[1], weth, 50e18);
        _fundAndDeposit(carol, books[1], usdc, 10_000e6);
        _trade(carolKey, books[1], bobAccount, put30, 3e18, 50e18);
        _trade(carolKey, books[1], bobAccount, btcCall30, -1e18, 1_000e18);
        // 2: short a one-day ETH call left to expire unsettled, long an ETH call.
        _fundAndDeposit(carol, books[2], usdc, 100_000e6);
        _trade(carolKey, books[2], bobAccount, call1, -2e18, 50e18);
        _trade(carolKey, books[2], bobAccount, call30, 1e18, 150e18);
        // 3: PORTFOLIO, short ETH calls.
        _fundAndDeposit(carol, books[3], usdc, 100_000e6);
        vm.prank(carol);
        engine.setMarginMode(books[3], IMarginEngine.MarginMode.PORTFOLIO);
        _trade(carolKey, books[3], bobAccount, call30, -2e18, 100e18);
        // 4: WBTC collateral only. 5: thin, short ETH puts and BTC calls near its IM.
        _fundAndDeposit(carol, books[4], wbtc, 1e8);
        _fundAndDeposit(carol, books[5], usdc, 20_000e6);
        _trade(carolKey, books[5], bobAccount, put30, -4e18, 60e18);
        _trade(carolKey, books[5], bobAccount, btcCall30, -1e18, 1_000e18);
        // ETH marks on the surface from now on (the trades above needed none).
        vm.prank(admin);
        engine.setVolSurface(surfaces);
        vm.prank(riskManager);
        engine.setConfidenceAddOn(ethIndex, 0.005e18);
    }

    /// @dev Random feeds and one of three surface states; every account (and Bob) valued at every
    /// account's prices equals its valuation at the feeds, and its auction check (a bidder's)
    /// passes or reverts with the same data.
    function testFuzz_everyPathAgreesAtTheFirstValuationsPrices(uint256 seed) public {
        vm.warp(SeriesLib.expiryOf(call1) + 1 + (seed % 1 hours));
        _setPrice(ethUsd, int256(2_000e8 + ((seed >> 16) % 2_500e8)));
        _setPrice(btcUsd, int256(40_000e8 + ((seed >> 64) % 50_000e8)));
        _setPrice(ethVol, int256(0.3e8 + ((seed >> 112) % 1.2e8)));
        _setPrice(btcVol, int256(0.3e8 + ((seed >> 160) % 1.2e8)));
        uint256 state = (seed >> 208) % 3; // 0: no mature post (FALLBACK at the feed); 1: FRESH; 2: stale
        if (state != 0) {
            // Levels in steps of 0.05: the smile's a and b stay on the oracle's 1e8 quantum.
            int256 level = int256(0.6e18 + ((seed >> 224) % 29) * 0.05e18);
            _postSmile(level);
            _wait(1 hours + 2 minutes);
            _postSmile(level);
        }
        if (state == 2) _wait(engine.surfaceMaxAge() + 1);

        AccountId[7] memory all = [books[0], books[1], books[2], books[3], books[4], books[5], bobAccount];
        for (uint256 i; i < all.length; ++i) {
            (, uint256[] memory prices) = engine.accountMarginAndPrices(all[i]);
            for (uint256 j; j < all.length; ++j) {
                assertEq(
                    abi.encode(engine.accountMarginAt(all[j], prices)),
                    abi.encode(engine.accountMargin(all[j])),
                    "at the feeds' prices == at the feeds"
                );
                (bool fresh, bytes memory freshData) = address(engine).staticcall(
                    abi.encodeCall(engine.checkAuctionMargin, (all[j]))
                );
                (bool seeded, bytes memory seededData) = address(engine).staticcall(
                    abi.encodeCall(engine.checkAuctionMarginAt, (all[j], prices))
                );
                assertEq(seeded, fresh, "the check passes at the prices iff at the feeds");
                assertEq(seededData, freshData, "with the same revert");
            }
        }
    }

    /// @dev The fuzz's three states are what they say: the surface's short is marked off the flat
    /// feed when FRESH and at the bound when stale, and the flat vol was read (seeded) whenever
    /// FALLBACK.
    function test_theStatesReachTheirPaths() public {
        vm.warp(SeriesLib.expiryOf(call1) + 1);
        _refreshFeeds();
        (, uint256[] memory prices) = engine.accountMarginAndPrices(books[0]);
        uint256 n = prices.length / 2;
        assertGt(prices[n + ethIndex], 0, "FALLBACK reads the flat vol");
        _postSmile(2e18);
        _wait(1 hours + 2 minutes);
        _postSmile(2e18);
        (, prices) = engine.accountMarginAndPrices(books[0]);
        assertEq(prices[n + ethIndex], 0, "FRESH needs no flat vol");
        uint256 freshRequirement = _requirementMM(books[0]);
        _wait(engine.surfaceMaxAge() + 1);
        (, prices) = engine.accountMarginAndPrices(books[0]);
        assertGt(prices[n + ethIndex], 0, "stale: the flat vol bounds the last posted one");
        uint256 staleRequirement = _requirementMM(books[0]);
        assertGt(staleRequirement, freshRequirement, "stale: the add-on at confidence 0");
        (, prices) = engine.accountMarginAndPrices(books[1]);
        assertGt(prices[ethIndex], 0, "WETH collateral priced");
        assertGt(prices[btcIndex], 0);
        (, bool posted) = oracle.settlementPrice(address(weth), SeriesLib.expiryOf(call1));
        assertFalse(posted, "the one-day call expired unsettled");
        uint256 spot = oracle.spot(address(weth));
        assertEq(engine.mark(call1), spot > 3_000e18 ? spot - 3_000e18 : 0, "marked at spot");
    }

    // ------------------------------------------------------------ helpers

    function _postSmile(int256 level) internal {
        VolSurfaceOracleSetUp.postSmile(surfaces, keys, address(weth), SeriesLib.expiryOf(call30), level, 0.6e18);
    }

    function _wait(uint256 dt) internal {
        vm.warp(block.timestamp + dt);
        _refreshFeeds();
    }

    function _requirementMM(AccountId a) internal view returns (uint256) {
        return engine.accountMargin(a).requirementMM;
    }
}
