// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

contract SettlementTest is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal bobAccount;
    SeriesId internal call7;
    SeriesId internal put7;
    uint256 internal expiry;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        bobAccount = _account(bob, 1);
        call7 = _createSeries(ethIndex, 7, 3_000e18, true);
        put7 = _createSeries(ethIndex, 7, 3_000e18, false);
        expiry = _expiry(7);
        _fundAndDeposit(carol, carolAccount, usdc, 100_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 100_000e6);
        // Carol is short 2 calls and long 1 put; Bob holds the other side.
        _trade(carolKey, carolAccount, bobAccount, call7, -2e18, 150e18);
        _trade(carolKey, carolAccount, bobAccount, put7, 1e18, 120e18);
    }

    function test_settleBeforeExpiryOrPriceFails() public {
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketSeriesNotExpired.selector, call7, expiry));
        market.settle(carolAccount, call7);
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketSettlementPriceMissing.selector, call7));
        market.settle(carolAccount, call7);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarket.MarketSeriesNotFound.selector,
                SeriesId.wrap(SeriesId.unwrap(call7) + 1)
            )
        );
        market.settle(carolAccount, SeriesId.wrap(SeriesId.unwrap(call7) + 1));
    }

    function test_settleMovesThePayoffAndClosesThePosition() public {
        _postSettlement(3_250e8);
        int256 carolCash = vault.cashOf(carolAccount);
        int256 bobCash = vault.cashOf(bobAccount);

        vm.expectEmit(address(market));
        emit IOptionMarket.PositionSettled(carolAccount, call7, -2e18, -500e6);
        assertEq(market.settle(carolAccount, call7), -500e6); // 2 × (3250 − 3000)
        assertEq(market.settle(bobAccount, call7), 500e6);
        assertEq(market.settle(carolAccount, put7), 0); // OTM put closes for nothing
        assertEq(market.settle(bobAccount, put7), 0);

        assertEq(vault.cashOf(carolAccount), carolCash - 500e6);
        assertEq(vault.cashOf(bobAccount), bobCash + 500e6);
        assertEq(vault.cashOf(market.settlementAccount()), 0, "zero-sum per series");
        assertEq(market.openInterest(call7), 0);
        (SeriesId[] memory ids, ) = market.positionsOf(carolAccount);
        assertEq(ids.length, 0);

        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketNothingToSettle.selector, carolAccount, call7));
        market.settle(carolAccount, call7);
    }

    function test_settleBatchSkipsSettledPairs() public {
        _postSettlement(2_800e8);
        market.settle(carolAccount, put7); // a competing keeper got here first
        AccountId[] memory accounts = new AccountId[](4);
        SeriesId[] memory ids = new SeriesId[](4);
        (accounts[0], ids[0]) = (carolAccount, call7);
        (accounts[1], ids[1]) = (bobAccount, call7);
        (accounts[2], ids[2]) = (carolAccount, put7);
        (accounts[3], ids[3]) = (bobAccount, put7);
        assertEq(market.settleBatch(accounts, ids), 3);
        assertEq(market.openInterest(call7) + market.openInterest(put7), 0);
        assertEq(vault.cashOf(market.settlementAccount()), 0);
        vm.expectRevert(IOptionMarket.MarketLengthMismatch.selector);
        market.settleBatch(accounts, new SeriesId[](1));
    }

    /// Session 43: a batch finds each pair in the book after the pairs before it were settled. A
    /// pair named twice is settled once (the second finds it flat); Carol's put, moved to her
    /// call's place when the call closed (swap-and-pop), is found there and settled.
    function test_settleBatchSettlesARepeatedPairOnce() public {
        _postSettlement(3_250e8);
        int256 carolCash = vault.cashOf(carolAccount);
        AccountId[] memory accounts = new AccountId[](3);
        SeriesId[] memory ids = new SeriesId[](3);
        (accounts[0], ids[0]) = (carolAccount, call7);
        (accounts[1], ids[1]) = (carolAccount, call7);
        (accounts[2], ids[2]) = (carolAccount, put7);
        assertEq(market.settleBatch(accounts, ids), 2);
        assertEq(vault.cashOf(carolAccount), carolCash - 500e6, "the call's payoff, once; the put's is 0");
        assertEq(market.positionOf(carolAccount, call7), 0);
        assertEq(market.positionOf(carolAccount, put7), 0);
        (SeriesId[] memory open, ) = market.positionsOf(carolAccount);
        assertEq(open.length, 0);
    }

    function test_settlementWorksWhilePaused() public {
        _postSettlement(3_100e8);
        vm.prank(guardian);
        market.pause();
        market.settle(carolAccount, call7);
    }

    /// @dev Settlement is zero-sum per series, up to rounding that only ever favours the
    /// settlement account (never more than one cash unit per settled position).
    function testFuzz_settlementIsZeroSum(uint256 price, uint256 size) public {
        size = bound(size, 1, 5e18);
        AccountId dave = _account(makeAddr("dave"), 1);
        _fundAndDeposit(makeAddr("dave"), dave, usdc, 100_000e6);
        _trade(carolKey, carolAccount, dave, call7, int256(size), 1e18);
        price = bound(price, 1_000e8, 6_000e8);
        _postSettlement(int256(price));
        int256 before = vault.cashOf(carolAccount) + vault.cashOf(bobAccount) + vault.cashOf(dave);
        market.settle(bobAccount, call7);
        market.settle(dave, call7);
        // Buying back exactly her 2 calls from Dave leaves Carol flat: nothing of hers to settle.
        if (market.positionOf(carolAccount, call7) != 0) market.settle(carolAccount, call7);
        int256 afterAll = vault.cashOf(carolAccount) + vault.cashOf(bobAccount) + vault.cashOf(dave);
        int256 pool = vault.cashOf(market.settlementAccount());
        assertEq(afterAll + pool, before, "cash conserved");
        assertGe(pool, 0);
        assertLe(pool, 3);
        assertEq(market.openInterest(call7), 0);
    }

    function _postSettlement(int256 answer) internal {
        vm.warp(expiry + 30);
        ethUsd.updateAnswer(answer);
        uint80 round = uint80(ethUsd.latestRound());
        oracle.postSettlementPrice(address(weth), expiry, round, new uint80[](0));
    }
}
