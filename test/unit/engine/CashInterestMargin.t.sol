// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {MockRateModel} from "../../../contracts/mocks/MockRateModel.sol";
import {KinkRateModel} from "../../../contracts/rates/KinkRateModel.sol";
import {LiquidationFixture} from "../../helpers/LiquidationFixture.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Issue 15, item 4: the engine values negative cash with interest accrued to now (a view
/// accrual, no transaction needed), so interest alone can take an account below maintenance, and
/// the liquidator then sells it as any other; but never within a block of the action that left it
/// healthy.
contract CashInterestMarginTest is LiquidationFixture {
    SeriesId internal put30;

    function setUp() public override {
        super.setUp();
        put30 = _createSeries(ethIndex, 30, 2_000e18, false);
    }

    /// @dev Carol posts `weth` WETH, sells one 3,200 call to Bob at its mark, then buys one 2,000
    /// put from him paying all of her initial-margin excess but `leftWad`: she ends with a cash debt,
    /// `leftWad` above initial margin.
    function _borrowToInitialMargin(uint256 wethAmount, uint256 leftWad) internal {
        _fundAndDeposit(carol, carolAccount, weth, wethAmount);
        _trade(carolKey, carolAccount, bobAccount, call30, -1e18, engine.mark(call30));
        int256 excess = engine.excessInitial(carolAccount);
        // Bob sells the put; Carol pays for it with the rest of her excess (longs count nothing
        // towards initial margin, so the premium comes straight off it).
        _trade(bobKey, bobAccount, carolAccount, put30, -1e18, uint256(excess) - leftWad);
    }

    function _setRate(uint256 ratePerYear) internal {
        KinkRateModel model = new KinkRateModel(KinkRateModel.Params(uint64(ratePerYear), 0, 0, 0.8e18));
        vm.prank(admin);
        vault.setRateModel(model);
    }

    /// @dev Days pass with no transaction from Carol and prices unchanged; only interest moves her.
    function test_interestAloneTakesAnAccountBelowMaintenance_andTheLiquidatorSellsIt() public {
        _borrowToInitialMargin(2e18, 50e18);
        assertLt(vault.cashOf(carolAccount), 0, "carol owes cash");
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.HEALTHY));
        _setRate(4e18);

        // Without interest the same days leave her healthy (time decay is on her side).
        uint256 snapshot = vm.snapshotState();
        vm.prank(admin);
        vault.setRateModel(KinkRateModel(address(0)));
        vm.warp(block.timestamp + 20 days);
        _refreshFeeds();
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.HEALTHY));
        vm.revertToState(snapshot);

        uint256 day;
        while (engine.accountMargin(carolAccount).health < IMarginEngine.Health.LIQUIDATABLE) {
            vm.warp(block.timestamp + 1 days);
            _refreshFeeds();
            assertLt(++day, 20, "interest never took her below maintenance");
        }
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.LIQUIDATABLE));

        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(
            carolAccount,
            daveAccount,
            1e18,
            preview.payment,
            type(uint256).max
        );
        assertEq(abi.encode(done), abi.encode(preview), "the bid did what the preview said");
        s = engine.accountMargin(carolAccount);
        assertTrue(preview.fractionWad == 1e18 || s.equityIM >= int256(s.requirementIM), "not restored");
        assertFalse(liquidator.auctionOf(carolAccount).active);
        assertEq(liquidator.badDebt(), 0);
    }

    /// @dev The engine's view accrues: equity falls by exactly the interest, with no transaction.
    function test_engineValuesDebtWithInterestAccruedToNow() public {
        _fundAndDeposit(carol, carolAccount, weth, 2e18);
        vm.prank(module);
        vault.moveCash(carolAccount, bobAccount, 4_000e6);
        _setRate(1e18);
        int256 equityBefore = engine.accountMargin(carolAccount).equityIM;
        vm.warp(block.timestamp + 30 days);
        _refreshFeeds();
        int256 owed = vault.cashOf(carolAccount);
        assertLt(owed, -4_000e6);
        assertEq(vault.cashMarket().lastAccrual + 30 days, block.timestamp, "nothing was sent");
        assertEq(engine.accountMargin(carolAccount).equityIM - equityBefore, (owed + 4_000e6) * 1e12);
    }

    /// @dev An action leaves an account at or above initial margin; in the same block nothing
    /// changes, and a block (12 s) later, even at the highest rate, it is not liquidatable.
    function testFuzz_interestNeverMakesAHealthyAccountLiquidatableWithinABlock(
        uint256 wethAmount,
        uint256 left
    ) public {
        wethAmount = bound(wethAmount, 1.5e18, 50e18);
        // At least a cash unit: the premium rounds up to whole units, in the seller's favour.
        left = bound(left, 1e12, 10e18);
        MockRateModel model = new MockRateModel(vault.MAX_RATE_PER_SECOND());
        vm.prank(admin);
        vault.setRateModel(model);
        _borrowToInitialMargin(wethAmount, left);
        IMarginEngine.MarginState memory after_ = engine.accountMargin(carolAccount);
        assertLe(uint8(after_.health), uint8(IMarginEngine.Health.MARGIN_CALL));
        vault.accrueInterest();
        assertEq(abi.encode(engine.accountMargin(carolAccount)), abi.encode(after_), "same block, same margin");
        vm.warp(block.timestamp + 12);
        assertLt(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
    }
}
