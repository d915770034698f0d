// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {LiquidationFixture} from "../../helpers/LiquidationFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Review rv50: a fill asks the account hook only for a side the vault has marked
/// (issue 19, FC2). Every path that records an auction must mark the account first, or a fill
/// that restores it would leave the auction running (finding 3 again). The finding-3 tests open
/// their auctions with `startAuction`; these open them with a keeper's first bid (`bid`, `bidMany`:
/// `_record` → `_start`) and check that a later fill with a premium still ends them.
contract Rv50HookTest is LiquidationFixture {
    function setUp() public override {
        super.setUp();
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);
        // Carol sells 10 calls to bob and the price moves until she is below maintenance.
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 100e18);
        int256 price = 3_000e8;
        while (engine.accountMargin(carolAccount).health < IMarginEngine.Health.LIQUIDATABLE) {
            price += 10e8;
            _setPrice(ethUsd, price);
        }
        // Well below maintenance, so that a keeper's small first bid leaves the auction running.
        _setPrice(ethUsd, price + 100e8);
    }

    /// @dev Bob sells `size` calls back to carol at the mark: carol (the taker) pays the premium.
    function _carolBuysBack(uint256 size, uint256 nonce) internal {
        IOptionMarket.Order memory buyBack = IOptionMarket.Order(
            bobAccount,
            call30,
            -int256(size),
            engine.mark(call30),
            AccountId.wrap(0),
            nonce,
            block.timestamp
        );
        bytes memory sig = _signOrder(bobKey, buyBack);
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (carolAccount)), 1);
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (bobAccount)), 0);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        vm.prank(carol);
        market.fill(buyBack, sig, carolAccount, size);
        assertFalse(liquidator.auctionOf(carolAccount).active, "the fill ended the auction");
    }

    /// @notice An auction a keeper opens with its first bid (no `startAuction`) marks the account:
    /// a fill with a premium that restores it ends the auction.
    function test_auctionOpenedByABid_isMarked_aFillEndsIt() public {
        assertFalse(liquidator.auctionOf(carolAccount).active, "no auction yet");
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 0.01e18, type(int256).max, type(uint256).max);
        assertTrue(liquidator.auctionOf(carolAccount).active, "the bid opened the auction");
        _carolBuysBack(8e18, 501);
    }

    /// @notice The same through `bidMany` (the step runs in a self-call under `try`).
    function test_auctionOpenedByBidMany_isMarked_aFillEndsIt() public {
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](1);
        requests[0] = ILiquidator.BidRequest(carolAccount, 0.01e18, type(int256).max, type(uint256).max);
        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(requests, daveAccount);
        assertTrue(outcomes[0].landed, "the bid landed");
        assertTrue(liquidator.auctionOf(carolAccount).active, "the batch opened the auction");
        _carolBuysBack(8e18, 502);
    }

    /// @notice An auction restarted after it lapsed (a bid after `duration` at the end discount
    /// opens a new record through `_record`) keeps the mark: a fill still ends it.
    function test_auctionRestartedAfterALapse_stillMarked() public {
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 31 minutes);
        _refreshFeeds();
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 0.01e18, type(int256).max, type(uint256).max);
        assertTrue(liquidator.auctionOf(carolAccount).active, "a new auction");
        _carolBuysBack(8e18, 503);
    }

    /// @notice A non-zero price whose premium rounds to 0 (the maker buys: rounded down) moves no
    /// cash either: both sides are asked, and the marked one's auction ends.
    function test_priceThatRoundsThePremiumToZero_asksBothSides() public {
        liquidator.startAuction(carolAccount);
        // Carol buys back at 1e11 wei a contract: 5e18 × 1e11 / 1e18 = 5e11 WAD, below one cash unit.
        IOptionMarket.Order memory buyBack = IOptionMarket.Order(
            carolAccount,
            call30,
            5e18,
            1e11,
            AccountId.wrap(0),
            504,
            block.timestamp
        );
        bytes memory sig = _signOrder(carolKey, buyBack);
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (carolAccount)), 1);
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (bobAccount)), 1);
        vm.prank(bob);
        uint256 premium = market.fill(buyBack, sig, bobAccount, 5e18);
        assertEq(premium, 0, "rounded to nothing");
        assertFalse(liquidator.auctionOf(carolAccount).active, "the fill ended the auction");
    }

    /// @notice `transferPositions` still asks the hook for both sides, marked or not.
    function test_transferAsksTheHookForBothSides() public {
        AccountId bobSecond = _account(bob, 2);
        SeriesId[] memory ids = new SeriesId[](1);
        ids[0] = call30;
        int256[] memory amounts = new int256[](1);
        amounts[0] = 1e18;
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (bobAccount)), 1);
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (bobSecond)), 1);
        vm.prank(bob);
        market.transferPositions(bobAccount, bobSecond, ids, amounts);
    }
}
