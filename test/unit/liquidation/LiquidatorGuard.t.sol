// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {IBackstop} from "../../../contracts/interfaces/IBackstop.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {LiquidationFixture} from "../../helpers/LiquidationFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @dev A backstop that, when the liquidator asks it to pay an insolvent account's bidder, calls
/// the liquidator back with whatever it was armed with, and passes on any revert. The one call a
/// bid makes to an address governance sets: the place a re-entry would come from.
contract CallingBackBackstop {
    address private immutable _liquidator;
    bytes private _call;

    constructor(address liquidator_) {
        _liquidator = liquidator_;
    }

    function arm(bytes calldata data) external {
        _call = data;
    }

    function payFromFund(AccountId, AccountId, uint256) external {
        Address.functionCall(_liquidator, _call);
    }
}

/// @notice The liquidator's reentrancy guard is held for a whole bid (issue 19 made it transient,
/// EIP-1153, where it was a storage slot written and refunded every call): a call back into the
/// liquidator from inside a bid is refused, and the account hook called from inside a bid returns
/// before it values anything. Session 40; docs/security.md, "Reentrancy".
contract LiquidatorGuardTest is LiquidationFixture {
    CallingBackBackstop internal evil;
    address internal erin;
    uint256 internal erinKey;
    AccountId internal erinAccount;

    function setUp() public override {
        super.setUp();
        (erin, erinKey) = makeAddrAndKey("erin");
        erinAccount = _account(erin, 1);
        // Carol and Erin each short 10 calls on 8,000 USDC; ETH at 9,000 leaves both worth less
        // than nothing, so a whole bid on Carol is paid by the backstop.
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 100e18);
        _fundAndDeposit(erin, erinAccount, usdc, 8_000e6);
        _trade(erinKey, erinAccount, bobAccount, call30, -10e18, 100e18);
        _setPrice(ethUsd, 9_000e8);
        evil = new CallingBackBackstop(address(liquidator));
        vm.prank(admin);
        liquidator.setBackstop(IBackstop(address(evil)));
    }

    /// @dev Every guarded entry point, called back from inside a bid, reverts the bid with the
    /// guard's error.
    function test_aCallBackIntoTheLiquidatorMidBidIsRefused() public {
        liquidator.startAuction(erinAccount);
        bytes[4] memory calls = [
            abi.encodeCall(liquidator.startAuction, (erinAccount)),
            abi.encodeCall(liquidator.terminateAuction, (erinAccount)),
            abi.encodeCall(liquidator.bid, (erinAccount, daveAccount, 1e18, type(int256).max, type(uint256).max)),
            abi.encodeCall(liquidator.bidMany, (new ILiquidator.BidRequest[](0), daveAccount))
        ];
        for (uint256 i; i < calls.length; ++i) {
            evil.arm(calls[i]);
            ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
            assertLt(preview.payment, 0, "the backstop pays the bidder");
            vm.prank(dave);
            vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
            liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, type(uint256).max);
        }
        // Unarmed (a call that does nothing), the same bid lands: the refusals were the guard's.
        evil.arm(abi.encodeCall(liquidator.auctionParams, ()));
        ILiquidator.BidPreview memory p = liquidator.previewBid(carolAccount, 1e18);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, p.payment, type(uint256).max);
        assertEq(market.positionOf(carolAccount, call30), 0);
    }

    /// @dev In a batch the guard is `bidMany`'s, held across its self-calls (`bidStep`): the call
    /// back is refused there too, and the step is skipped with the guard's error.
    function test_aCallBackFromABatchStepIsRefused() public {
        liquidator.startAuction(erinAccount);
        evil.arm(abi.encodeCall(liquidator.terminateAuction, (erinAccount)));
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](1);
        requests[0] = ILiquidator.BidRequest(carolAccount, 1e18, type(int256).max, type(uint256).max);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.BidSkipped(carolAccount, ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(requests, daveAccount);
        assertFalse(outcomes[0].landed);
        assertEq(outcomes[0].skipReason, ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        assertEq(market.positionOf(carolAccount, call30), -10e18, "nothing of the step happened");
    }

    /// @dev The account hook, called from inside a bid on an account whose auction runs, returns
    /// before it values the account.
    function test_theHookMidBidValuesNothing() public {
        liquidator.startAuction(erinAccount);
        evil.arm(abi.encodeCall(IAccountHook.onAccountChanged, (erinAccount)));
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.accountMargin, (erinAccount)), 0);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, type(uint256).max);
        assertTrue(liquidator.auctionOf(erinAccount).active);
    }

    /// @dev The control: the same hook call outside a bid values the account.
    function test_theHookOutsideABidValuesTheAccount() public {
        liquidator.startAuction(erinAccount);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.accountMargin, (erinAccount)), 1);
        liquidator.onAccountChanged(erinAccount);
        assertTrue(liquidator.auctionOf(erinAccount).active, "still worth less than nothing: it runs");
    }

    /// @dev The record, one slot now: what `auctionOf` reports through a start, a partial bid and
    /// a lapse's restart (the times as `uint64` in the interface, `uint48` in storage).
    function test_theAuctionRecordRoundTrips() public {
        evil.arm(abi.encodeCall(liquidator.auctionParams, ()));
        uint256 started = block.timestamp;
        liquidator.startAuction(erinAccount);
        assertEq(
            abi.encode(liquidator.auctionOf(erinAccount)),
            abi.encode(ILiquidator.Auction(true, uint64(started), 0, uint64(started), 0, uint64(started)))
        );
        vm.warp(started + 100);
        _refreshFeeds();
        ILiquidator.BidPreview memory preview = liquidator.previewBid(erinAccount, 0.1e18);
        assertLt(preview.fractionWad, 1e18, "a partial bid");
        vm.prank(dave);
        liquidator.bid(erinAccount, daveAccount, preview.fractionWad, type(int256).max, type(uint256).max);
        assertEq(
            abi.encode(liquidator.auctionOf(erinAccount)),
            abi.encode(
                ILiquidator.Auction(
                    true,
                    uint64(started),
                    1,
                    uint64(started),
                    uint64(started + 100),
                    uint64(started + 100)
                )
            )
        );

        // Unbid past its lapse (`duration` after the later of the end discount and the last bid),
        // the next bid restarts it: a new record, its first bid.
        uint256 duration = liquidator.auctionParams().duration;
        vm.warp(started + 100 + 2 * duration);
        _refreshFeeds();
        uint256 restarted = block.timestamp;
        preview = liquidator.previewBid(erinAccount, 0.1e18);
        vm.prank(dave);
        liquidator.bid(erinAccount, daveAccount, preview.fractionWad, type(int256).max, type(uint256).max);
        assertEq(
            abi.encode(liquidator.auctionOf(erinAccount)),
            abi.encode(
                ILiquidator.Auction(true, uint64(restarted), 1, uint64(restarted), uint64(restarted), uint64(restarted))
            )
        );
    }
}
