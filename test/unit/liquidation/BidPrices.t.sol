// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {LiquidatorBatchFixture} from "../../helpers/LiquidatorBatchFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice One set of prices a bid (docs/liquidation.md): the bid's first valuation returns the
/// prices it read (`accountMarginAndPrices`), and the valuation after the slice and the bidder's
/// check take them (`accountMarginAt`, `checkAuctionMarginAt`) instead of reading the feeds again.
/// What must never happen: a valuation at given prices that differs from the feeds' valuation
/// at those prices, a bid that checks anyone at prices other than its own block's feeds, or a
/// malformed price list taken.
contract BidPricesTest is LiquidatorBatchFixture {
    SeriesId internal btcPut;
    /// @dev Carol's fourth account, long the BTC puts Dave is short.
    AccountId internal btcLong;
    /// @dev Carol's fifth account, PORTFOLIO, short one ETH call.
    AccountId internal portfolio;

    function setUp() public override {
        super.setUp();
        btcPut = _createSeries(btcIndex, 30, 55_000e18, false);
        btcLong = _account(carol, 4);
        _fundAndDeposit(carol, btcLong, usdc, 1_000_000e6);
        // Dave short 2 BTC puts: his check needs the BTC feeds, which a bid on an ETH book never reads.
        _trade(carolKey, btcLong, daveAccount, btcPut, 2e18, 500e18);
        portfolio = _account(carol, 5);
        _fundAndDeposit(carol, portfolio, usdc, 100_000e6);
        vm.prank(carol);
        engine.setMarginMode(portfolio, IMarginEngine.MarginMode.PORTFOLIO);
        _trade(carolKey, portfolio, bobAccount, call30, -1e18, 100e18);
    }

    // ------------------------------------------------------------ the engine's views

    function test_accountMarginAndPrices_returnsTheStateAndTheFeedsItRead() public view {
        (IMarginEngine.MarginState memory state, uint256[] memory prices) = engine.accountMarginAndPrices(shorts[0]);
        assertEq(abi.encode(state), abi.encode(engine.accountMargin(shorts[0])), "the state is accountMargin's");
        uint256 n = engine.underlyingCount() + 1;
        assertEq(prices.length, 2 * n, "a spot and a vol per index");
        assertEq(prices[ethIndex], oracle.spot(address(weth)));
        assertEq(prices[n + ethIndex], oracle.vol(address(weth)));
        assertEq(prices[btcIndex], 0, "a feed the ETH book never read");
        assertEq(prices[n + btcIndex], 0);
        assertEq(prices[0], 0, "index 0 is never listed");
        assertEq(prices[n], 0);
    }

    function test_accountMarginAndPrices_aPortfolioAccountReturnsNone() public view {
        (IMarginEngine.MarginState memory state, uint256[] memory prices) = engine.accountMarginAndPrices(portfolio);
        assertEq(abi.encode(state), abi.encode(engine.accountMargin(portfolio)));
        assertEq(prices.length, 0);
    }

    /// @dev Every account valued at any account's prices equals its valuation at the feeds, on
    /// random feeds: entries a source never read (0) are read, the ones it read are the feeds'.
    function testFuzz_accountMarginAt_equalsAccountMarginAtTheFeeds(uint256 seed) public {
        _setPrice(ethUsd, int256(1_500e8 + (seed % 4_000e8)));
        _setPrice(btcUsd, int256(30_000e8 + ((seed >> 64) % 60_000e8)));
        _setPrice(ethVol, int256(0.2e8 + ((seed >> 128) % 2e8)));
        _setPrice(btcVol, int256(0.2e8 + ((seed >> 192) % 2e8)));
        AccountId[5] memory accounts = [shorts[0], bobAccount, daveAccount, btcLong, portfolio];
        for (uint256 i; i < accounts.length; ++i) {
            (, uint256[] memory prices) = engine.accountMarginAndPrices(accounts[i]);
            for (uint256 j; j < accounts.length; ++j) {
                assertEq(
                    abi.encode(engine.accountMarginAt(accounts[j], prices)),
                    abi.encode(engine.accountMargin(accounts[j])),
                    "at the feeds' prices == at the feeds"
                );
            }
        }
    }

    /// @dev The prices given are the prices used: a valuation at doubled ETH prices equals the
    /// feeds' valuation once the feeds are moved there. A PORTFOLIO account ignores them.
    function test_accountMarginAt_valuesAtThePricesGiven() public {
        (, uint256[] memory prices) = engine.accountMarginAndPrices(bobAccount);
        uint256 n = prices.length / 2;
        prices[ethIndex] *= 2;
        prices[n + ethIndex] = 1.2e18;
        IMarginEngine.MarginState memory before = engine.accountMargin(bobAccount);
        IMarginEngine.MarginState memory atGiven = engine.accountMarginAt(bobAccount, prices);
        IMarginEngine.MarginState memory portfolioAtGiven = engine.accountMarginAt(portfolio, prices);
        assertNotEq(atGiven.markValue, before.markValue, "Bob's calls are worth more at a doubled spot");
        assertEq(abi.encode(portfolioAtGiven), abi.encode(engine.accountMargin(portfolio)), "PORTFOLIO reads its own");

        _setPrice(ethUsd, 6_000e8);
        _setPrice(ethVol, 1.2e8);
        assertEq(abi.encode(atGiven), abi.encode(engine.accountMargin(bobAccount)), "given == the feeds moved there");
    }

    function test_accountMarginAt_emptyPricesReadTheFeeds() public view {
        uint256[] memory none;
        assertEq(abi.encode(engine.accountMarginAt(daveAccount, none)), abi.encode(engine.accountMargin(daveAccount)));
        engine.checkAuctionMarginAt(daveAccount, none);
    }

    function test_accountMarginAt_rejectsAMalformedList() public {
        uint256 expected = 2 * (engine.underlyingCount() + 1);
        uint256[3] memory lengths = [uint256(1), expected - 1, expected + 2];
        AccountId[2] memory accounts = [daveAccount, portfolio];
        for (uint256 i; i < lengths.length; ++i) {
            uint256[] memory prices = new uint256[](lengths[i]);
            for (uint256 j; j < accounts.length; ++j) {
                vm.expectRevert(
                    abi.encodeWithSelector(IMarginEngine.EnginePricesMismatch.selector, lengths[i], expected)
                );
                engine.accountMarginAt(accounts[j], prices);
                vm.expectRevert(
                    abi.encodeWithSelector(IMarginEngine.EnginePricesMismatch.selector, lengths[i], expected)
                );
                engine.checkAuctionMarginAt(accounts[j], prices);
            }
        }
    }

    /// @dev `checkAuctionMarginAt` is `checkAuctionMargin` at the prices given: a bidder just
    /// above IM at the feeds fails at prices that make its shorts dearer.
    function test_checkAuctionMarginAt_checksAtThePricesGiven() public {
        AccountId thin = _account(dave, 3);
        _fundAndDeposit(dave, thin, usdc, 1_000_000e6);
        _trade(carolKey, btcLong, thin, btcPut, 2e18, 500e18);
        // Withdraw down to just above IM.
        int256 excess = engine.excessInitial(thin);
        vm.prank(dave);
        vault.withdraw(thin, address(usdc), (uint256(excess) * 99) / 100 / 1e12, dave);
        (, uint256[] memory prices) = engine.accountMarginAndPrices(thin);
        engine.checkAuctionMarginAt(thin, prices);
        prices[btcIndex] = (prices[btcIndex] * 8) / 10;
        vm.expectPartialRevert(IMarginEngine.EngineBelowInitialMargin.selector);
        engine.checkAuctionMarginAt(thin, prices);
    }

    // ------------------------------------------------------------ the bid

    /// @dev A partial bid reads each feed once: the first valuation's prices serve the valuation
    /// after the slice and the bidder's check, which reads only the BTC feeds the ETH book did not.
    function test_bid_readsEachFeedOnceAndChecksAtTheFirstValuationsPrices() public {
        _moveUntilBelowMM(shorts[0]);
        (, uint256[] memory prices) = engine.accountMarginAndPrices(shorts[0]);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), 1);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), 1);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.spot, (address(wbtc))), 1);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.vol, (address(wbtc))), 1);
        vm.expectCall(address(engine), abi.encodeCall(engine.accountMarginAt, (shorts[0], prices)), 1);
        vm.expectCall(address(engine), abi.encodeCall(engine.checkAuctionMarginAt, (daveAccount, prices)), 1);
        vm.prank(dave);
        liquidator.bid(shorts[0], daveAccount, 0.5e18, type(int256).max, NO_NONCE);
    }

    /// @dev The prices live in one bid's frame, not in the transaction (the transient cache
    /// rejected in session 35): a feed moved between two bids of one transaction is read by the
    /// second, and its bidder checked at the new price.
    function test_bid_aFeedMovedBetweenTwoBidsOfOneTransactionIsReadAgain() public {
        _allUnderwater();
        vm.prank(dave);
        liquidator.bid(shorts[0], daveAccount, 0.5e18, type(int256).max, NO_NONCE);
        _setPrice(ethUsd, ethUsd.latestAnswer() + 50e8);
        (, uint256[] memory prices) = engine.accountMarginAndPrices(shorts[1]);
        assertEq(prices[ethIndex], oracle.spot(address(weth)));
        vm.expectCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), 1);
        vm.expectCall(address(engine), abi.encodeCall(engine.checkAuctionMarginAt, (daveAccount, prices)), 1);
        vm.prank(dave);
        liquidator.bid(shorts[1], daveAccount, 0.5e18, type(int256).max, NO_NONCE);
    }

    /// @dev Fail closed: a price the first valuation did not read is read, never assumed. With
    /// the BTC spot stale, a bid on the ETH book stops at the bidder's check, which needs it.
    function test_bid_aStaleFeedOnlyTheBidderNeedsStopsTheBid() public {
        _moveUntilBelowMM(shorts[0]);
        uint256 updatedAt = btcUsd.latestTimestamp();
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        ethUsd.updateAnswer(ethUsd.latestAnswer());
        ethVol.updateAnswer(ethVol.latestAnswer());
        btcVol.updateAnswer(btcVol.latestAnswer());
        vm.prank(dave);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(btcUsd), updatedAt, SPOT_MAX_AGE)
        );
        liquidator.bid(shorts[0], daveAccount, 0.5e18, type(int256).max, NO_NONCE);
    }

    function _moveUntilBelowMM(AccountId account) internal {
        for (int256 price = 3_000e8; engine.accountMargin(account).health < IMarginEngine.Health.LIQUIDATABLE;) {
            price += 10e8;
            _setPrice(ethUsd, price);
        }
    }

    function _allUnderwater() internal {
        _moveUntilBelowMM(shorts[2]);
    }
}
