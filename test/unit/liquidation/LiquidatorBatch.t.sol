// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {LiquidatorBatchFixture} from "../../helpers/LiquidatorBatchFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice `Liquidator.bidMany`: several start-and-bid requests in one transaction, each skipped
/// (never reverting the batch) when it would revert alone, the bidder's IM checked once at the end.
contract LiquidatorBatchTest is LiquidatorBatchFixture {
    // ------------------------------------------------------------ what a batch does

    /// @dev A batch leaves exactly the state and the events of the same bids sent one by one.
    function test_bidMany_equalsTheSameBidsOneByOne() public {
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = _requests(0.5e18);
        uint256 snapshot = vm.snapshotState();

        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(requests, daveAccount);
        bytes memory batched = _state();

        vm.revertToState(snapshot);
        for (uint256 i; i < 3; ++i) {
            vm.prank(dave);
            ILiquidator.BidPreview memory single = liquidator.bid(
                requests[i].account,
                daveAccount,
                requests[i].fractionWad,
                requests[i].maxPayment,
                requests[i].expectedNonce
            );
            assertTrue(outcomes[i].landed);
            assertEq(outcomes[i].skipReason, bytes4(0));
            assertEq(abi.encode(outcomes[i].preview), abi.encode(single), "outcome == the single bid's preview");
        }
        assertEq(keccak256(_state()), keccak256(batched), "batch == bids one by one");
    }

    function test_bidMany_emitsTheSingleBidsEventsWithTheCallerAsKeeper() public {
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = _requests(0.2e18);
        for (uint256 i; i < 3; ++i) {
            IMarginEngine.MarginState memory s = engine.accountMargin(shorts[i]);
            ILiquidator.BidPreview memory p = liquidator.previewBid(shorts[i], 0.2e18);
            vm.expectEmit(address(liquidator));
            emit ILiquidator.AuctionStarted(shorts[i], s.markValue, s.health, dave);
            vm.expectEmit(address(liquidator));
            emit ILiquidator.Bid(shorts[i], daveAccount, p.fractionWad, p.discountWad, p.payment, p.insuranceFee);
        }
        vm.prank(dave);
        liquidator.bidMany(requests, daveAccount);
    }

    // ------------------------------------------------------------ skips

    function test_bidMany_skipsAMovedAccount() public {
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = _requests(0.2e18);
        uint256 nonce = market.accountNonce(shorts[1]);
        requests[1].expectedNonce = nonce + 1;
        _expectSkip(shorts[1], ILiquidator.LiquidatorAccountChanged.selector);
        ILiquidator.BidOutcome[] memory outcomes = _bidMany(requests);
        _assertOnlySkipped(outcomes, 1, ILiquidator.LiquidatorAccountChanged.selector);
        assertEq(market.accountNonce(shorts[1]), nonce, "the skipped account did not move");
        assertFalse(liquidator.auctionOf(shorts[1]).active, "nor did its auction open");
    }

    function test_bidMany_skipsAHealthyAccount() public {
        _moveUntilBelowMM(shorts[0]);
        // shorts[2] holds the most cash: still above maintenance here.
        assertLt(uint8(engine.accountMargin(shorts[2]).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](2);
        requests[0] = ILiquidator.BidRequest(shorts[0], 0.2e18, type(int256).max, NO_NONCE);
        requests[1] = ILiquidator.BidRequest(shorts[2], 0.2e18, type(int256).max, NO_NONCE);
        _expectSkip(shorts[2], ILiquidator.LiquidatorAccountHealthy.selector);
        _assertOnlySkipped(_bidMany(requests), 1, ILiquidator.LiquidatorAccountHealthy.selector);
        assertFalse(liquidator.auctionOf(shorts[2]).active);
    }

    function test_bidMany_skipsARequestAboveItsPriceCap() public {
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = _requests(0.2e18);
        requests[2].maxPayment = liquidator.previewBid(shorts[2], 0.2e18).payment - 1;
        _expectSkip(shorts[2], ILiquidator.LiquidatorPriceLimit.selector);
        _assertOnlySkipped(_bidMany(requests), 2, ILiquidator.LiquidatorPriceLimit.selector);
    }

    function test_bidMany_skipsWhatABidWouldRefuse() public {
        _allUnderwater();
        AccountId daveShort = _account(dave, 7);
        AccountId settlement = market.settlementAccount();
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](4);
        requests[0] = ILiquidator.BidRequest(daveShort, 0.2e18, type(int256).max, NO_NONCE); // own account
        requests[1] = ILiquidator.BidRequest(settlement, 0.2e18, type(int256).max, NO_NONCE); // protocol's
        requests[2] = ILiquidator.BidRequest(shorts[0], 0, type(int256).max, NO_NONCE); // no fraction
        requests[3] = ILiquidator.BidRequest(shorts[1], 0.2e18, type(int256).max, NO_NONCE); // lands
        bytes4[3] memory reasons = [
            ILiquidator.LiquidatorSelfBid.selector,
            ILiquidator.LiquidatorProtectedAccount.selector,
            ILiquidator.LiquidatorInvalidFraction.selector
        ];
        ILiquidator.BidOutcome[] memory outcomes = _bidMany(requests);
        for (uint256 i; i < 3; ++i) {
            assertFalse(outcomes[i].landed);
            assertEq(outcomes[i].skipReason, reasons[i]);
        }
        assertTrue(outcomes[3].landed);
    }

    /// @dev A collateral without a valid price makes the oracle revert in that request's step
    /// only: the account waits for a price, the rest of the batch goes through.
    function test_bidMany_skipsAnAccountWhoseCollateralHasNoPrice() public {
        _fundAndDeposit(carol, shorts[0], wbtc, 1e6); // 0.01 BTC beside the cash
        _moveUntilBelowMM(shorts[0]); // now the richest: the others are below too
        _allUnderwater();
        _setPrice(btcUsd, 0);
        bytes memory oracleError;
        try oracle.spot(address(wbtc)) returns (uint256) {
            revert("the BTC feed should be invalid");
        } catch (bytes memory reason) {
            oracleError = reason;
        }
        ILiquidator.BidOutcome[] memory outcomes = _bidMany(_requests(0.2e18));
        _assertOnlySkipped(outcomes, 0, bytes4(oracleError));
    }

    /// @dev The same account twice: the second request sees the first one's effects, as a
    /// second `bid` would: a small first slice leaves room for a second; a full first slice
    /// restores the account, and the second is skipped as healthy.
    function test_bidMany_sameAccountTwice() public {
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](2);
        requests[0] = ILiquidator.BidRequest(shorts[0], 0.01e18, type(int256).max, NO_NONCE);
        requests[1] = requests[0];
        ILiquidator.BidOutcome[] memory outcomes = _bidMany(requests);
        assertTrue(outcomes[0].landed && outcomes[1].landed);
        assertEq(liquidator.auctionOf(shorts[0]).bids, 2);

        requests[0] = ILiquidator.BidRequest(shorts[1], 1e18, type(int256).max, NO_NONCE);
        requests[1] = requests[0];
        _assertOnlySkipped(_bidMany(requests), 1, ILiquidator.LiquidatorAccountHealthy.selector);

        // A nonce-checked repeat is skipped: the first bid moved the account.
        uint256 nonce = market.accountNonce(shorts[2]);
        requests[0] = ILiquidator.BidRequest(shorts[2], 0.01e18, type(int256).max, nonce);
        requests[1] = requests[0];
        _assertOnlySkipped(_bidMany(requests), 1, ILiquidator.LiquidatorAccountChanged.selector);
    }

    /// @dev A step that runs out of gas reverts the batch rather than being skipped: otherwise a
    /// gas estimate could settle on a limit at which the last bids silently drop. The limit is
    /// a third of what the batch needs, so some step runs out whatever a bid costs (at a fixed
    /// 300,000 the step that did moved from the first to the second as bids got cheaper).
    function test_bidMany_aStepOutOfGasRevertsTheBatch() public {
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = _requests(0.2e18);
        uint256 snapshot = vm.snapshotState();
        vm.prank(dave);
        uint256 before = gasleft();
        liquidator.bidMany(requests, daveAccount);
        uint256 needed = before - gasleft();
        vm.revertToState(snapshot);
        vm.prank(dave);
        vm.expectPartialRevert(ILiquidator.LiquidatorBatchOutOfGas.selector);
        liquidator.bidMany{gas: needed / 3}(requests, daveAccount);
    }

    // ------------------------------------------------------------ the bidder's initial margin

    function test_bidMany_checksTheBiddersMarginOnce() public {
        _allUnderwater();
        vm.expectCall(address(engine), abi.encodeCall(engine.checkAuctionMargin, (daveAccount)), 1);
        _bidMany(_requests(0.3e18));
    }

    function test_bidMany_revertsWholeWhenTheBidderEndsBelowInitialMargin() public {
        _allUnderwater();
        AccountId poor = _account(dave, 2); // no collateral at all
        ILiquidator.BidRequest[] memory requests = _requests(0.5e18);
        vm.prank(dave);
        vm.expectPartialRevert(IMarginEngine.EngineBelowInitialMargin.selector);
        liquidator.bidMany(requests, poor);
    }

    /// @dev Nothing landed, nothing moved: no margin check, and no revert for a bidder below IM.
    function test_bidMany_allSkippedChecksNothing() public {
        _allUnderwater();
        AccountId poor = _account(dave, 2);
        ILiquidator.BidRequest[] memory requests = _requests(0.5e18);
        for (uint256 i; i < 3; ++i) requests[i].maxPayment = 0;
        vm.expectCall(address(engine), abi.encodeCall(engine.checkInitialMargin, (poor)), 0);
        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(requests, poor);
        for (uint256 i; i < 3; ++i) assertEq(outcomes[i].skipReason, ILiquidator.LiquidatorPriceLimit.selector);
    }

    // ------------------------------------------------------------ who may call

    function test_bidMany_refusesAnUnauthorizedCallerAnEmptyBatchAndTheFund() public {
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = _requests(0.2e18);
        vm.prank(dave);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorUnauthorized.selector, bobAccount, dave));
        liquidator.bidMany(requests, bobAccount);

        AccountId fund = insurance.account();
        vm.prank(address(insurance));
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorSelfBid.selector, fund));
        liquidator.bidMany(requests, fund);

        vm.prank(dave);
        vm.expectRevert(ILiquidator.LiquidatorEmptyBatch.selector);
        liquidator.bidMany(new ILiquidator.BidRequest[](0), daveAccount);
    }

    /// @dev `bidStep` skips the bidder's checks, so only the liquidator may call it (from `bidMany`).
    function test_bidStep_onlyTheLiquidatorItself() public {
        _allUnderwater();
        ILiquidator.BidRequest memory request = ILiquidator.BidRequest(shorts[0], 0.2e18, type(int256).max, NO_NONCE);
        vm.prank(dave);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorOnlySelf.selector, dave));
        liquidator.bidStep(request, bobAccount, dave);
    }

    // ------------------------------------------------------------ properties

    /// @dev Whatever the prices, fractions, caps and nonces: a batch does exactly what the same
    /// bids sent one by one (each caught if it reverts) do, skips exactly those that would
    /// revert, and creates no cash.
    function testFuzz_bidMany_isTheSameBidsOneByOne(
        uint256 price,
        uint256[3] memory fractions,
        int256[3] memory capSlack,
        bool[3] memory staleNonce
    ) public {
        _setPrice(ethUsd, int256(bound(price, 3_300e8, 6_000e8)));
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](3);
        for (uint256 i; i < 3; ++i) {
            uint256 nonce = market.accountNonce(shorts[i]);
            requests[i] = ILiquidator.BidRequest(
                shorts[i],
                bound(fractions[i], 0, 1e18),
                int256(bound(capSlack[i], -1_000e6, 1_000e6)) + _previewPayment(shorts[i], fractions[i]),
                staleNonce[i] ? nonce + 1 : nonce
            );
        }
        int256 cashBefore = _sumCash();
        uint256 snapshot = vm.snapshotState();

        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(requests, daveAccount);
        bytes memory batched = _state();
        assertEq(_sumCash(), cashBefore, "a batch creates no cash");

        vm.revertToState(snapshot);
        for (uint256 i; i < 3; ++i) {
            vm.prank(dave);
            try
                liquidator.bid(
                    requests[i].account,
                    daveAccount,
                    requests[i].fractionWad,
                    requests[i].maxPayment,
                    requests[i].expectedNonce
                )
            returns (ILiquidator.BidPreview memory single) {
                assertTrue(outcomes[i].landed, "landed alone, skipped in the batch");
                assertEq(abi.encode(outcomes[i].preview), abi.encode(single));
            } catch (bytes memory reason) {
                assertFalse(outcomes[i].landed, "reverted alone, landed in the batch");
                assertEq(outcomes[i].skipReason, bytes4(reason));
            }
        }
        assertEq(keccak256(_state()), keccak256(batched), "batch == bids one by one");
    }

    // ------------------------------------------------------------ helpers

    function _bidMany(ILiquidator.BidRequest[] memory requests) internal returns (ILiquidator.BidOutcome[] memory) {
        vm.prank(dave);
        return liquidator.bidMany(requests, daveAccount);
    }

    function _expectSkip(AccountId account, bytes4 reason) internal {
        vm.expectEmit(address(liquidator));
        emit ILiquidator.BidSkipped(account, reason);
    }

    function _assertOnlySkipped(
        ILiquidator.BidOutcome[] memory outcomes,
        uint256 skipped,
        bytes4 reason
    ) internal pure {
        for (uint256 i; i < outcomes.length; ++i) {
            if (i == skipped) {
                assertFalse(outcomes[i].landed, "should be skipped");
                assertEq(outcomes[i].skipReason, reason);
                assertEq(outcomes[i].preview.fractionWad, 0);
            } else {
                assertTrue(outcomes[i].landed, "should land");
                assertGt(outcomes[i].preview.fractionWad, 0);
            }
        }
    }

    /// @dev ETH rises until every short account is below maintenance.
    function _allUnderwater() internal {
        _moveUntilBelowMM(shorts[2]);
        for (uint256 i; i < 3; ++i) {
            assertGe(uint8(engine.accountMargin(shorts[i]).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        }
    }

    function _moveUntilBelowMM(AccountId account) internal {
        for (int256 price = 3_000e8; engine.accountMargin(account).health < IMarginEngine.Health.LIQUIDATABLE;) {
            price += 10e8;
            _setPrice(ethUsd, price);
        }
    }

    /// @dev The preview's payment, or 0 where a preview reverts (the request is then skipped anyway).
    function _previewPayment(AccountId account, uint256 fraction) internal view returns (int256) {
        try liquidator.previewBid(account, bound(fraction, 0, 1e18)) returns (ILiquidator.BidPreview memory p) {
            return p.payment;
        } catch {
            return 0;
        }
    }

    function _sumCash() internal view returns (int256 sum) {
        sum = vault.cashOf(bobAccount) + vault.cashOf(daveAccount) + vault.cashOf(insurance.account());
        for (uint256 i; i < 3; ++i) sum += vault.cashOf(shorts[i]);
    }
}
