// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {LiquidatorBatchFixture} from "../../helpers/LiquidatorBatchFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

/// @notice Adversarial review of `Liquidator.bidMany` (issue 14, review 6 in docs/security.md). Each test states an
/// attack on the batch and passes while the system resists it.
contract LiquidatorBatchReview14Test is LiquidatorBatchFixture {
    // ------------------------------------------------------------ gas (63/64 rule)

    /// @dev Attack: pick (or let a gas estimate settle on) a gas limit at which one step runs out of
    /// gas deep inside (the engine's `try oracle.spot` of a collateral, the oracle's feed
    /// `staticcall`, which turn an out-of-gas into "no price" or a named error) so that the step
    /// is skipped with a non-empty reason, or mispriced, and the batch still succeeds. Safe when,
    /// at every gas limit, the batch either reverts or lands every request exactly as it does with
    /// ample gas. The collateral-holding account is last, where a skip is cheapest to survive.
    function test_review14_noGasLimitSkipsOrMispricesABid() public {
        // shorts[2] holds WBTC beside its cash: its step values a collateral through the
        // engine's try/catch and prices it through `_checkCollateralPriced`.
        _fundAndDeposit(carol, shorts[2], wbtc, 1e6);
        _allUnderwater();
        ILiquidator.BidRequest[] memory requests = _requests(0.2e18);
        uint256 snapshot = vm.snapshotState();

        // Warm up once, so the sweep below compares like with like (same warm slots).
        vm.prank(dave);
        liquidator.bidMany(requests, daveAccount);
        vm.revertToState(snapshot);
        uint256 g0 = gasleft();
        vm.prank(dave);
        ILiquidator.BidOutcome[] memory full = liquidator.bidMany(requests, daveAccount);
        uint256 used = g0 - gasleft();
        bytes memory fullState = _state();
        for (uint256 i; i < 3; ++i) assertTrue(full[i].landed, "lands with ample gas");
        vm.revertToState(snapshot);

        uint256 successes;
        uint256 stepSize = used / 300;
        for (uint256 gasLimit = used / 3; gasLimit <= used + used / 10; gasLimit += stepSize) {
            vm.prank(dave);
            try liquidator.bidMany{gas: gasLimit}(requests, daveAccount) returns (
                ILiquidator.BidOutcome[] memory outcomes
            ) {
                ++successes;
                for (uint256 i; i < 3; ++i) {
                    assertTrue(outcomes[i].landed, "a gas limit silently skipped a bid");
                    assertEq(abi.encode(outcomes[i].preview), abi.encode(full[i].preview), "mispriced");
                }
                assertEq(keccak256(_state()), keccak256(fullState), "a gas limit changed what the batch did");
            } catch {}
            vm.revertToState(snapshot);
        }
        assertGt(successes, 0, "the sweep reached limits that succeed");
    }

    // ------------------------------------------------------------ insurance fund

    /// @dev Attack: split one insolvent account into many small slices in one batch (cheap now:
    /// ~10k gas a slice instead of a transaction each) so that the fund pays more per unit of
    /// account taken than one whole bid would, e.g. from the remainders that rounding leaves
    /// with the account. Safe when the fund's outflow over the split is at most the whole bid's
    /// pro rata to the fraction actually taken, plus a unit per slice of rounding.
    function testFuzz_review14_splitBatchDrainsTheFundNoFaster(uint256 pieces, uint256 fraction) public {
        pieces = bound(pieces, 2, 12);
        fraction = bound(fraction, 0.01e18, 0.9e18);
        _setPrice(ethUsd, 6_000e8);
        AccountId target = shorts[0];
        IMarginEngine.MarginState memory s = engine.accountMargin(target);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.INSOLVENT), "set-up: insolvent");
        ILiquidator.BidPreview memory whole = liquidator.previewBid(target, 1e18);
        assertLt(whole.payment, 0, "set-up: the fund pays for it");
        int256 positionBefore = market.positionOf(target, call30);
        uint256 snapshot = vm.snapshotState();

        int256 fundBefore = vault.cashOf(insurance.account());
        vm.prank(dave);
        liquidator.bid(target, daveAccount, 1e18, type(int256).max, NO_NONCE);
        uint256 wholeOutflow = uint256(fundBefore - vault.cashOf(insurance.account()));
        vm.revertToState(snapshot);

        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](pieces);
        for (uint256 i; i < pieces; ++i)
            requests[i] = ILiquidator.BidRequest(target, fraction, type(int256).max, NO_NONCE);
        vm.prank(dave);
        liquidator.bidMany(requests, daveAccount);
        uint256 splitOutflow = uint256(fundBefore - vault.cashOf(insurance.account()));
        // The share of the account taken, read off the position (the account's only non-cash part).
        uint256 taken = 1e18 - (uint256(-market.positionOf(target, call30)) * 1e18) / uint256(-positionBefore);
        assertLe(splitOutflow, (wholeOutflow * taken) / 1e18 + pieces + 1, "split slices drained the fund faster");
    }

    // ------------------------------------------------------------ a skip after effects

    /// @dev Attack on the bookkeeping: a step that fails after its effects started (auction
    /// opened, `AuctionStarted` emitted, clock recorded, the debt slice's cash moved) must leave
    /// nothing behind but `BidSkipped`, or the account's auction or cash is left half-moved. The
    /// slice's position move is made to revert for one account. (The events are not asserted
    /// here: the Solidity test runner's `vm.recordLogs` also records logs of reverted frames,
    /// which a chain drops.)
    function test_review14_aLateSkipLeavesOnlyBidSkipped() public {
        _allUnderwater();
        AccountId target = shorts[1];
        bytes memory failure = abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, daveAccount, 0);
        vm.mockCallRevert(
            address(market),
            abi.encodeCall(market.moduleSlicePositions, (target, daveAccount, 0.2e18)),
            failure
        );
        int256 targetCash = vault.cashOf(target);
        int256 fundCash = vault.cashOf(insurance.account());
        uint256 nonce = market.accountNonce(target);

        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(_requests(0.2e18), daveAccount);

        assertFalse(outcomes[1].landed);
        assertEq(outcomes[1].skipReason, IOptionMarket.MarketTooManyPositions.selector);
        assertTrue(outcomes[0].landed && outcomes[2].landed);
        assertFalse(liquidator.auctionOf(target).active, "the skipped step's auction stayed open");
        assertEq(vault.cashOf(target), targetCash, "the skipped step's cash moved");
        assertEq(market.accountNonce(target), nonce);
        // The fund's cash changed only by the landed bids' fees.
        assertEq(
            vault.cashOf(insurance.account()) - fundCash,
            int256(outcomes[0].preview.insuranceFee + outcomes[2].preview.insuranceFee)
        );
    }

    // ------------------------------------------------------------ griefing the whole batch

    /// @dev Attack (denial of liquidation): the owner of one liquidatable account in a keeper's
    /// batch front-runs it by adding a dust of every listed collateral to that account (finding
    /// 12 lets only the owner add non-cash collateral, and only the owner needs to). Each new
    /// asset costs the step a price read, a valuation, a slot for the bidder and, on a running
    /// auction, a walk of up to 16 feed rounds (`liveSince`): ~150k gas. The keeper sends its
    /// estimate (`eth_estimateGas` on the latest block) plus 30 %, so the step runs out of gas and,
    /// by design (`LiquidatorBatchOutOfGas`), reverts the whole batch: every other account's bid
    /// with it, where a single `bid` would have lost only the owner's own account. Safe when such
    /// a batch still lands. With the vault's `MAX_COLLATERAL_ASSETS` (8) listed, it does not.
    function test_review14_ownerDustDelaysABatchOneTickAtMost() public {
        MockERC20[] memory extra = _listCollateralUpToTheMax();
        _allUnderwater();
        // Keepers opened the auctions a while ago; the feeds kept updating since.
        for (uint256 i; i < 3; ++i) liquidator.startAuction(shorts[i]);
        for (uint256 k; k < 20; ++k) {
            vm.warp(block.timestamp + 30);
            _refreshFeeds();
            for (uint256 j; j < _extraFeeds.length; ++j) _extraFeeds[j].updateAnswer(1e8);
        }
        ILiquidator.BidRequest[] memory requests = _requests(0.2e18);
        uint256 snapshot = vm.snapshotState();
        vm.prank(dave);
        liquidator.bidMany(requests, daveAccount); // warm
        vm.revertToState(snapshot);
        uint256 g0 = gasleft();
        vm.prank(dave);
        liquidator.bidMany(requests, daveAccount);
        uint256 estimate = g0 - gasleft();
        vm.revertToState(snapshot);

        // The front-run: a dust of every non-cash collateral into the batch's first account.
        _fundAndDeposit(carol, shorts[0], wbtc, 1);
        for (uint256 j; j < extra.length; ++j) _fundAndDeposit(carol, shorts[0], extra[j], 1);
        assertGe(uint8(engine.accountMargin(shorts[0]).health), uint8(IMarginEngine.Health.LIQUIDATABLE));

        // At the keeper's old estimate plus 30 %, a batch short of gas reverts whole (never a silent
        // skip) and moves nothing: the open finding P2 of review 6 (docs/security.md).
        vm.prank(dave);
        try liquidator.bidMany{gas: (estimate * 13) / 10}(requests, daveAccount) {} catch (bytes memory reason) {
            assertEq(
                bytes4(reason),
                ILiquidator.LiquidatorBatchOutOfGas.selector,
                "short of gas: the batch reverts whole"
            );
        }
        // What bounds it: the keeper's next tick estimates on the grown account and every bid lands;
        // the owner cannot grow it again (every listed asset is already held).
        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(requests, daveAccount);
        for (uint256 i; i < 3; ++i) assertTrue(outcomes[i].landed, "every bid lands once re-estimated");
    }

    MockV3Aggregator[] internal _extraFeeds;

    /// @dev Lists collateral-only assets (spot feed at $1) until the vault holds its maximum.
    function _listCollateralUpToTheMax() internal returns (MockERC20[] memory extra) {
        uint256 n = vault.MAX_COLLATERAL_ASSETS() - vault.collateralAssets().length;
        extra = new MockERC20[](n);
        vm.startPrank(admin);
        for (uint256 j; j < n; ++j) {
            extra[j] = new MockERC20("Extra", "XTR", 18);
            MockV3Aggregator feed = new MockV3Aggregator(8, 1e8);
            _extraFeeds.push(feed);
            oracle.setSpotFeed(address(extra[j]), IChainlinkOracle.FeedConfig(address(feed), SPOT_MAX_AGE, 0, 0));
            vault.listAsset(address(extra[j]), 0.10e18, 0.05e18, 1e30);
        }
        vm.stopPrank();
    }

    // ------------------------------------------------------------ helpers

    function _allUnderwater() internal {
        for (int256 price = 3_000e8; engine.accountMargin(shorts[2]).health < IMarginEngine.Health.LIQUIDATABLE;) {
            price += 10e8;
            _setPrice(ethUsd, price);
        }
        for (uint256 i; i < 3; ++i) {
            assertGe(uint8(engine.accountMargin(shorts[i]).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        }
    }
}
