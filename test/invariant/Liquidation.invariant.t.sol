// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {ChainlinkOracle} from "../../contracts/oracle/ChainlinkOracle.sol";
import {CollateralVault} from "../../contracts/vault/CollateralVault.sol";
import {ICollateralVault} from "../../contracts/interfaces/ICollateralVault.sol";
import {ILiquidator} from "../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";
import {Liquidator} from "../../contracts/liquidation/Liquidator.sol";
import {MarginEngine} from "../../contracts/engine/MarginEngine.sol";
import {OptionMarket} from "../../contracts/market/OptionMarket.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {MockFaultyAggregator} from "../../contracts/mocks/MockFaultyAggregator.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {PledgeFixture} from "../helpers/PledgeFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";
import {SeriesLib} from "../../contracts/libraries/SeriesLib.sol";
import {CashIndex} from "../../contracts/libraries/CashIndex.sol";

/// @notice Random trades, price moves, time, auctions, bids and settlements against the
/// real protocol. It records every violation of a "must never happen" in a counter.
contract LiquidationHandler is Test {
    struct Stack {
        CollateralVault vault;
        MarginEngine engine;
        OptionMarket market;
        Liquidator liquidator;
        ChainlinkOracle oracle;
        MockERC20 usdc;
        MockERC20 weth;
        MockV3Aggregator ethUsd;
        MockV3Aggregator[] feeds;
        MockFaultyAggregator sequencer;
    }

    Stack internal s;
    uint256[] public traderKeys;
    AccountId[] public accounts; // traders, then the market maker, then the bidder, then the thin bidder
    SeriesId[] public series;
    AccountId public maker;
    AccountId public bidder;
    /// @dev The bidder's second account, on little cash: its batches can end below IM.
    AccountId public thinBidder;
    uint256 internal _nonce;

    // ghosts
    uint256 public auctionsOnHealthyAccounts;
    /// @dev Bids that landed on an account at or above maintenance.
    uint256 public bidsOnHealthyAccounts;
    /// @dev Deposits and trades after which the account was back above maintenance but its
    /// auction still ran (finding 3).
    uint256 public auctionsOutlivingRecovery;
    uint256 public recoveriesChecked;
    /// @dev Bids in which the insurance fund paid for an account still worth V ≥ 0.
    uint256 public fundPaidForSolventAccounts;
    uint256 public outages;
    uint256 public bidsThatWorsenedAccounts;
    /// @dev Landed bids during which the insurance fund ran dry and a loss was written off pro
    /// rata against every creditor, the liquidated account's own cash included.
    uint256 public bidsWithSocializedLoss;
    /// @dev Landed bids during which the cash market ended an epoch (every claim written down):
    /// the account's equity then falls with everyone's, so its bid is not compared.
    uint256 public bidsAcrossEpochReset;
    uint256 public auctions;
    /// @dev Single bids that opened an auction the bid did not end (it is recorded and marked).
    uint256 public auctionsOpenedByABid;
    uint256 public bids;
    uint256 public settlements;
    uint256 public batches;
    /// @dev Bids that landed inside a `bidMany` batch.
    uint256 public batchedBids;
    /// @dev Batches that landed no bid.
    uint256 public batchesAllSkipped;
    /// @dev Bids or batches after which the bidder was below initial margin.
    uint256 public biddersBelowInitialMargin;
    mapping(SeriesId seriesId => int256) public payoffSum;
    mapping(SeriesId seriesId => uint256) public settledCount;

    constructor(
        Stack memory stack,
        uint256[] memory keys,
        SeriesId[] memory seriesIds,
        address mmOwner,
        address bOwner
    ) {
        s = stack;
        traderKeys = keys;
        series = seriesIds;
        for (uint256 i; i < keys.length; ++i) {
            accounts.push(AccountLib.accountId(vm.addr(keys[i]), 1));
        }
        maker = AccountLib.accountId(mmOwner, 1);
        bidder = AccountLib.accountId(bOwner, 1);
        thinBidder = AccountLib.accountId(bOwner, 2);
        accounts.push(maker);
        accounts.push(bidder);
        accounts.push(thinBidder);
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function traderCount() external view returns (uint256) {
        return traderKeys.length;
    }

    function seriesCount() external view returns (uint256) {
        return series.length;
    }

    /// @dev A trader signs an order and the market maker fills it (refused fills are fine).
    function trade(uint256 traderSeed, uint256 seriesSeed, uint256 size, bool sell) external {
        uint256 t = traderSeed % traderKeys.length;
        SeriesId seriesId = series[seriesSeed % series.length];
        if (block.timestamp >= SeriesLib.expiryOf(seriesId)) return;
        size = bound(size, 1e17, 8e18);
        IOptionMarket.Order memory order = IOptionMarket.Order({
            account: accounts[t],
            seriesId: seriesId,
            size: sell ? -int256(size) : int256(size),
            priceWad: _fairPrice(seriesId),
            taker: AccountId.wrap(0),
            nonce: ++_nonce,
            deadline: block.timestamp
        });
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(traderKeys[t], s.market.orderHash(order));
        vm.prank(AccountLib.ownerOf(maker));
        // Sizes beyond the trader's IM are refused; fill what fits (a quarter) instead.
        try s.market.fill(order, abi.encodePacked(r, sig, v), maker, size) {
            _checkRecovery(accounts[t]);
        } catch {
            vm.prank(AccountLib.ownerOf(maker));
            try s.market.fill(order, abi.encodePacked(r, sig, v), maker, size / 4) {
                _checkRecovery(accounts[t]);
            } catch {}
        }
    }

    /// @dev A trader tops up its account with cash (anyone may deposit cash).
    function deposit(uint256 traderSeed, uint256 amount) external {
        AccountId account = accounts[traderSeed % traderKeys.length];
        amount = bound(amount, 1e6, 20_000e6);
        address owner = AccountLib.ownerOf(account);
        s.usdc.mint(owner, amount);
        vm.startPrank(owner);
        s.usdc.approve(address(s.vault), amount);
        s.vault.deposit(account, address(s.usdc), amount);
        vm.stopPrank();
        _checkRecovery(account);
    }

    /// @dev Oracle actor: time passes with no feed round (feeds may go stale).
    function outage(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 10 minutes, 3 hours));
        ++outages;
    }

    /// @dev Oracle actor: the feeds report again (possibly after an outage).
    function refreshFeeds() external {
        _refreshFeeds();
    }

    /// @dev Oracle actor: ETH/USD jumps by up to ±40 % in one round.
    function jumpPrice(uint256 seed) external {
        int256 price = s.ethUsd.latestAnswer();
        int256 next = price + (price * int256(bound(seed, 0, 80))) / 100 - (price * 40) / 100;
        if (next < 500e8) next = 500e8;
        s.ethUsd.updateAnswer(next);
    }

    /// @dev Oracle actor: the sequencer goes down, or comes back up now (grace period starts).
    function toggleSequencer(bool down) external {
        s.sequencer.setLatest(down ? int256(1) : int256(0), block.timestamp, block.timestamp);
    }

    /// @dev After a deposit or trade: an account back at or above maintenance has no auction.
    function _checkRecovery(AccountId account) private {
        if (!s.liquidator.auctionOf(account).active) return;
        try s.engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
            ++recoveriesChecked;
            if (state.health < IMarginEngine.Health.LIQUIDATABLE) ++auctionsOutlivingRecovery;
        } catch {}
    }

    /// @dev Moves ETH/USD by up to ±15 %, within [500, 20000].
    function movePrice(uint256 seed) external {
        int256 price = s.ethUsd.latestAnswer();
        int256 move = (price * int256(bound(seed, 0, 30))) / 100 - (price * 15) / 100;
        int256 next = price + move;
        if (next < 500e8) next = 500e8;
        if (next > 20_000e8) next = 20_000e8;
        s.ethUsd.updateAnswer(next);
        _keepers(seed);
    }

    /// @dev What keeper bots do after every price update: auction every account below MM,
    /// then bid on every running auction, one transaction each; or (odd seeds) all of it in
    /// one `bidMany` batch.
    function _keepers(uint256 seed) private {
        if (seed % 2 == 1) return bidMany(seed, seed % 4 == 3);
        for (uint256 i; i < accounts.length; ++i) {
            startAuction(i);
            bid(i, uint256(keccak256(abi.encode(seed, i))));
        }
    }

    /// @dev Advances up to six hours and refreshes every feed, as their heartbeats would.
    /// A feed round lands on each expiry passed on the way, as a live heartbeat would.
    function advanceTime(uint256 seconds_) external {
        uint256 target = block.timestamp + bound(seconds_, 1, 6 hours);
        for (uint256 i; i < series.length; ++i) {
            uint256 expiry = SeriesLib.expiryOf(series[i]);
            if (expiry > block.timestamp && expiry <= target) {
                vm.warp(expiry);
                _refreshFeeds();
            }
        }
        vm.warp(target);
        _refreshFeeds();
    }

    function _refreshFeeds() private {
        for (uint256 i; i < s.feeds.length; ++i) {
            s.feeds[i].updateAnswer(s.feeds[i].latestAnswer());
        }
    }

    function startAuction(uint256 seed) public {
        AccountId account = accounts[seed % accounts.length];
        IMarginEngine.Health health;
        try s.engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
            health = state.health;
        } catch {
            return;
        }
        try s.liquidator.startAuction(account) {
            ++auctions;
            if (health < IMarginEngine.Health.LIQUIDATABLE) ++auctionsOnHealthyAccounts;
        } catch {}
    }

    function bid(uint256 seed, uint256 fraction) public {
        AccountId account = accounts[seed % accounts.length];
        // A bid on an account with no auction running opens one (the one-transaction liquidation),
        // when the account is below maintenance; on a healthy one it reverts.
        if (account == bidder || account == thinBidder) return;
        fraction = bound(fraction, 0.01e18, 1e18);
        IMarginEngine.MarginState memory before;
        try s.engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
            before = state;
        } catch {
            return; // no valid price: nobody can bid
        }
        ILiquidator.BidPreview memory preview;
        try s.liquidator.previewBid(account, fraction) returns (ILiquidator.BidPreview memory p) {
            preview = p;
        } catch {
            return;
        }
        uint256 nonce = s.market.accountNonce(account);
        ICollateralVault.CashMarket memory cashBefore = _cashMarketNow();
        bool running = s.liquidator.auctionOf(account).active;
        vm.prank(AccountLib.ownerOf(bidder));
        try s.liquidator.bid(account, bidder, fraction, preview.payment, nonce) {
            if (!running && s.liquidator.auctionOf(account).active) ++auctionsOpenedByABid;
            _checkLandedBid(account, before, preview, cashBefore);
            _checkBidder(bidder);
        } catch {}
    }

    /// @dev A keeper's batch: one request per account (auctions start in it; the bidder's own
    /// accounts are skipped by the liquidator as self-bids), each capped at its preview's
    /// payment where a preview exists, by the well-funded or (`thin`) the thin bidder, whose
    /// batch may pass below IM mid-way and must not end there.
    function bidMany(uint256 seed, bool thin) public {
        AccountId who = thin ? thinBidder : bidder;
        uint256 n = accounts.length;
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](n);
        IMarginEngine.MarginState[] memory before = new IMarginEngine.MarginState[](n);
        ILiquidator.BidPreview[] memory previews = new ILiquidator.BidPreview[](n);
        for (uint256 i; i < n; ++i) {
            uint256 fraction = bound(uint256(keccak256(abi.encode(seed, i))), 0.01e18, 1e18);
            int256 cap = type(int256).max;
            try s.liquidator.previewBid(accounts[i], fraction) returns (ILiquidator.BidPreview memory p) {
                cap = p.payment;
                previews[i] = p;
            } catch {}
            try s.engine.accountMargin(accounts[i]) returns (IMarginEngine.MarginState memory state) {
                before[i] = state;
            } catch {}
            requests[i] = ILiquidator.BidRequest(accounts[i], fraction, cap, type(uint256).max);
        }
        ICollateralVault.CashMarket memory cashBefore = _cashMarketNow();
        vm.prank(AccountLib.ownerOf(who));
        try s.liquidator.bidMany(requests, who) returns (ILiquidator.BidOutcome[] memory outcomes) {
            ++batches;
            uint256 landed;
            for (uint256 i; i < n; ++i) {
                if (!outcomes[i].landed) continue;
                ++landed;
                ++batchedBids;
                _checkLandedBid(accounts[i], before[i], previews[i], cashBefore);
            }
            // A batch that landed nothing moved nothing and is not checked (ILiquidator
            // `bidMany`): a bidder a price move left below IM may still send one.
            if (landed == 0) ++batchesAllSkipped;
            else _checkBidder(who);
        } catch {}
    }

    /// @dev The cash market's supply index and epoch, interest accrued to now.
    /// @dev The cash market (indices, epoch), accrued first (anyone may; the bid would accrue the
    /// same in this block), so an index read before a bid differs from one read after it only by
    /// a loss written off in the bid.
    function _cashMarketNow() private returns (ICollateralVault.CashMarket memory) {
        s.vault.accrueInterest();
        return s.vault.cashMarket();
    }

    /// @dev The ghosts of a bid that landed on `account`, which was in state `before` with the
    /// cash market at `cashBefore`, as `preview` said.
    function _checkLandedBid(
        AccountId account,
        IMarginEngine.MarginState memory before,
        ILiquidator.BidPreview memory preview,
        ICollateralVault.CashMarket memory cashBefore
    ) private {
        ++bids;
        if (before.health < IMarginEngine.Health.LIQUIDATABLE) ++bidsOnHealthyAccounts;
        if (preview.payment < 0 && before.markValue >= 0) ++fundPaidForSolventAccounts;
        IMarginEngine.MarginState memory afterBid = s.engine.accountMargin(account);
        ICollateralVault.CashMarket memory cashAfter = s.vault.cashMarket();
        if (cashAfter.epoch != cashBefore.epoch) {
            ++bidsAcrossEpochReset;
            return;
        }
        // A fund payment beyond the fund's cash writes the rest off against every creditor
        // (ICollateralVault `moveCash`): the account's remaining credit bears its pro-rata share
        // like everyone's. That is the loss waterfall, not the bid: add it back (rounded for the
        // account, and a unit more) before comparing (CI counterexample, 2026-12-03).
        int256 equityAfter = afterBid.equityMM;
        if (cashAfter.supplyIndex < cashBefore.supplyIndex) {
            ++bidsWithSocializedLoss;
            int256 shares = s.vault.cashSharesOf(account);
            if (shares > 0) {
                uint256 lost =
                    CashIndex.toAmountUp(uint256(shares), cashBefore.supplyIndex) -
                        CashIndex.toAmountDown(uint256(shares), cashAfter.supplyIndex) +
                        1;
                equityAfter += int256(lost * 1e12); // USDC: 6 decimals
            }
        }
        // Equity per unit of remaining maintenance requirement must not fall, to the slice's
        // rounding: 1e6 wei per unit for positions (a short's remainder, toward zero), and on an
        // index above 1 the vault's share conversion, which rounds for the vault by under
        // `index / 1e18 + 2` cash units on each of the account's cash writes (allowed for two,
        // though a bid nets the slice's cash and the payment into one since session 41;
        // docs/security.md, "a liquidation slice's own rounding"). At index 1 the
        // conversion is exact and the cash term is 0 (CI counterexample, 2026-12-04: 0.3 units).
        int256 slack = 1e6 + _cashRoundingWad(cashAfter);
        if (
            afterBid.requirementMM != 0 &&
            equityAfter * int256(before.requirementMM) + int256(before.requirementMM) * slack <
                before.equityMM * int256(afterBid.requirementMM)
        ) ++bidsThatWorsenedAccounts;
    }

    /// @dev Two cash writes' share rounding at the larger index of `m`, in WAD (USDC: 6 decimals).
    function _cashRoundingWad(ICollateralVault.CashMarket memory m) private pure returns (int256) {
        uint256 index = m.supplyIndex > m.debtIndex ? m.supplyIndex : m.debtIndex;
        return index == 1e18 ? int256(0) : int256(2 * (index / 1e18 + 2) * 1e12);
    }

    /// @dev Right after its bid or batch landed, the bidder is at or above initial margin.
    function _checkBidder(AccountId who) private {
        try s.engine.excessInitial(who) returns (int256 excess) {
            if (excess < 0) ++biddersBelowInitialMargin;
        } catch {}
    }

    /// @dev Posts the settlement price of an expired series (first round at or after
    /// expiry, found by scanning the feed's rounds) and settles every account in it.
    function settleExpired(uint256 seriesSeed) external {
        SeriesId seriesId = series[seriesSeed % series.length];
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        if (block.timestamp < expiry) return;
        (, bool posted) = s.oracle.settlementPrice(address(s.weth), expiry);
        if (!posted) {
            uint256 round = s.ethUsd.latestRound();
            if (s.ethUsd.getTimestamp(round) < expiry) return;
            while (round > 1 && s.ethUsd.getTimestamp(round - 1) >= expiry) --round;
            try s.oracle.postSettlementPrice(address(s.weth), expiry, uint80(round), new uint80[](0)) {} catch {
                return;
            }
        }
        for (uint256 i; i < accounts.length; ++i) {
            if (s.market.positionOf(accounts[i], seriesId) == 0) continue;
            payoffSum[seriesId] += s.market.settle(accounts[i], seriesId);
            ++settledCount[seriesId];
            ++settlements;
        }
    }

    function _fairPrice(SeriesId seriesId) private view returns (uint256) {
        try s.engine.mark(seriesId) returns (uint256 markWad) {
            return markWad;
        } catch {
            return 1e18;
        }
    }
}

abstract contract LiquidationSetup is PledgeFixture {
    /// @dev The vault's `_cash` mapping's slot (`_vaultCashSlot`), for `_isMarked`.
    uint256 private _cashSlot;
    LiquidationHandler internal handler;
    MockFaultyAggregator internal sequencer;

    /// @dev An L2 deployment: the handler's oracle actor takes the sequencer down and up.
    function _sequencerFeed() internal override returns (address) {
        sequencer = new MockFaultyAggregator(0);
        sequencer.setLatest(0, block.timestamp - 2 hours, block.timestamp - 2 hours);
        return address(sequencer);
    }

    function setUp() public virtual override {
        super.setUp();
        uint256[] memory keys = new uint256[](4);
        for (uint256 i; i < 4; ++i) {
            keys[i] = uint256(keccak256(abi.encode("trader", i)));
            address owner = vm.addr(keys[i]);
            _fundAndDeposit(owner, _account(owner, 1), usdc, 3_000e6 + 2_000e6 * i);
            // Half the traders are on portfolio margin, so auctions and bids also meet scenario-margined books.
            if (i % 2 == 1) {
                vm.prank(owner);
                engine.setMarginMode(_account(owner, 1), IMarginEngine.MarginMode.PORTFOLIO);
            }
        }
        address mm = makeAddr("marketMaker");
        address dave = makeAddr("bidder");
        _fundAndDeposit(mm, _account(mm, 1), usdc, 50_000_000e6);
        _fundAndDeposit(dave, _account(dave, 1), usdc, 50_000_000e6);
        _fundAndDeposit(dave, _account(dave, 2), usdc, 2_000e6);
        _fundAndDeposit(alice, insurance.account(), usdc, 20_000e6);

        SeriesId[] memory seriesIds = new SeriesId[](4);
        seriesIds[0] = _createSeries(ethIndex, 1, 3_000e18, true);
        seriesIds[1] = _createSeries(ethIndex, 1, 2_800e18, false);
        seriesIds[2] = _createSeries(ethIndex, 14, 3_300e18, true);
        seriesIds[3] = _createSeries(ethIndex, 14, 2_600e18, false);

        MockV3Aggregator[] memory feeds = new MockV3Aggregator[](4);
        (feeds[0], feeds[1], feeds[2], feeds[3]) = (ethUsd, btcUsd, ethVol, btcVol);
        handler = new LiquidationHandler(
            LiquidationHandler.Stack(vault, engine, market, liquidator, oracle, usdc, weth, ethUsd, feeds, sequencer),
            keys,
            seriesIds,
            mm,
            dave
        );
        _targetActions();
        _cashSlot = _vaultCashSlot();
    }

    /// @dev Whether the vault's word for `account` carries the auction mark (`markAuctioned`),
    /// which the vault keeps in private storage with no view.
    function _isMarked(AccountId account) internal view returns (bool) {
        bytes32 word = vm.load(address(vault), keccak256(abi.encode(account, _cashSlot)));
        return int256(uint256(word)) >= int256(1) << 249; // the vault's AUCTIONED_FROM
    }

    /// @dev The slot of the vault's `_cash` mapping: the one whose word for a fresh account the
    /// liquidator's `markAuctioned` sets (a probe account outside the handler's, left marked).
    function _vaultCashSlot() private returns (uint256 slot) {
        AccountId probe = AccountLib.accountId(makeAddr("markProbe"), 1);
        vm.prank(address(liquidator));
        vault.markAuctioned(probe);
        while (vm.load(address(vault), keccak256(abi.encode(probe, slot))) == bytes32(0)) {
            require(++slot < 256, "no slot holds the vault's mark");
        }
    }

    /// @dev The fuzzer calls only the handler's actions: its views and forge-std's helpers would
    /// dilute the runs. A configuration with more actors targets its own handler instead.
    function _targetActions() internal virtual {
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](12);
        actions[0] = LiquidationHandler.trade.selector;
        actions[1] = LiquidationHandler.movePrice.selector;
        actions[2] = LiquidationHandler.advanceTime.selector;
        actions[3] = LiquidationHandler.startAuction.selector;
        actions[4] = LiquidationHandler.bid.selector;
        actions[5] = LiquidationHandler.settleExpired.selector;
        actions[6] = LiquidationHandler.deposit.selector;
        actions[7] = LiquidationHandler.outage.selector;
        actions[8] = LiquidationHandler.refreshFeeds.selector;
        actions[9] = LiquidationHandler.jumpPrice.selector;
        actions[10] = LiquidationHandler.toggleSequencer.selector;
        actions[11] = LiquidationHandler.bidMany.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: actions}));
    }
}

/// @dev The suite's invariants that hold at any rate; each configuration adds its own
/// reconciliation of cash and tokens.
abstract contract LiquidationInvariants is LiquidationSetup {
    function invariant_noHealthyAccountAuctioned() public view {
        assertEq(handler.auctionsOnHealthyAccounts(), 0);
    }

    function invariant_noHealthyAccountBidOn() public view {
        assertEq(handler.bidsOnHealthyAccounts(), 0);
    }

    /// @dev The insurance fund pays only to liquidate accounts worth less than nothing.
    function invariant_fundNeverPaysForASolventAccount() public view {
        assertEq(handler.fundPaidForSolventAccounts(), 0);
    }

    /// @dev Finding 3: a deposit or trade that restores an account ends its auction.
    function invariant_noAuctionOutlivesARecoveryByDepositOrTrade() public view {
        assertEq(handler.auctionsOutlivingRecovery(), 0);
    }

    /// @dev Bids one at a time or in a batch: the bidder never ends below initial margin (a
    /// batch is checked once, at its end).
    function invariant_bidderNeverEndsBelowInitialMargin() public view {
        assertEq(handler.biddersBelowInitialMargin(), 0);
    }

    /// @dev Only a marked account can be under auction (docs/security.md FC2; review helper-152):
    /// the vault calls the account hook on deposits into marked accounts only, so an unmarked
    /// account under auction could recover by a deposit and keep its auction running. Auctions
    /// open by `startAuction`, by a bid and in a batch.
    function invariant_everyActiveAuctionIsMarked() public view {
        for (uint256 i; i < handler.accountCount(); ++i) {
            AccountId account = handler.accounts(i);
            if (liquidator.auctionOf(account).active) assertTrue(_isMarked(account), "under auction, unmarked");
        }
    }

    function invariant_bidsNeverWorsenTheAccount() public view {
        assertEq(handler.bidsThatWorsenedAccounts(), 0);
    }

    function invariant_positionsNetToZero() public view {
        for (uint256 j; j < handler.seriesCount(); ++j) {
            SeriesId seriesId = handler.series(j);
            int256 net;
            for (uint256 i; i < handler.accountCount(); ++i) {
                net += market.positionOf(handler.accounts(i), seriesId);
            }
            assertEq(net, 0);
        }
    }

    /// @dev `positionsOf` equals the per-series balances, always, through bids (the liquidator's
    /// slices move every position of an account), trades and settlement: every series with a
    /// nonzero `positionOf` is listed exactly once with that balance, and nothing else is listed.
    function invariant_positionsOfEqualsPerSeriesBalances() public view {
        for (uint256 i; i < handler.accountCount(); ++i) {
            AccountId account = handler.accounts(i);
            (SeriesId[] memory ids, int256[] memory balances) = market.positionsOf(account);
            uint256 open;
            for (uint256 j; j < handler.seriesCount(); ++j) {
                SeriesId seriesId = handler.series(j);
                int256 balance = market.positionOf(account, seriesId);
                uint256 listed;
                for (uint256 k; k < ids.length; ++k) {
                    if (ids[k] != seriesId) continue;
                    ++listed;
                    assertEq(balances[k], balance, "listed balance");
                }
                assertEq(listed, balance != 0 ? 1 : 0, "listed once when open, never when flat");
                if (balance != 0) ++open;
            }
            assertEq(ids.length, open, "nothing else listed");
        }
    }

    /// @dev Once a series is fully settled, its payoffs sum to zero up to rounding, which
    /// only ever favours the settlement account.
    function invariant_settlementZeroSum() public view {
        for (uint256 j; j < handler.seriesCount(); ++j) {
            SeriesId seriesId = handler.series(j);
            if (market.openInterest(seriesId) != 0) continue;
            int256 total = handler.payoffSum(seriesId);
            assertLe(total, 0);
            assertGe(total, -int256(handler.settledCount(seriesId)));
        }
        assertGe(vault.cashOf(market.settlementAccount()), 0);
    }
}

/// @dev At the cash market's zero rate (no rate model): nothing accrues, so the books balance to the unit.
contract LiquidationInvariantTest is LiquidationInvariants {
    function invariant_cashAndTokensReconcile() public view {
        int256 sum = vault.cashOf(insurance.account()) + vault.cashOf(market.settlementAccount());
        for (uint256 i; i < handler.accountCount(); ++i) {
            sum += vault.cashOf(handler.accounts(i));
        }
        uint256 tokens = usdc.balanceOf(address(vault));
        if (vault.badDebt() == 0) {
            // At the zero rate and without a loss nothing rounds: the books balance to the unit.
            assertEq(int256(tokens), sum);
            // The settlement account's raw cash is outside the index totals (ICollateralVault
            // `setSettlementAccount`): settlement rounds for the vault, so it can hold dust.
            assertEq(
                int256(vault.totalCashCredit()) -
                    int256(vault.totalCashDebt()) +
                    vault.cashOf(market.settlementAccount()),
                int256(tokens)
            );
        } else {
            // A loss shared pro rata rounds for the vault (a cut of at least the loss), and one held
            // apart leaves claims no token backs by exactly it: the tokens cover every other claim
            // (the dust bound is `CashIndex.invariant.t.sol`'s), and withdrawals never exceed them.
            assertGe(int256(tokens), sum - int256(vault.unabsorbedLoss()));
            assertLe(vault.cashLiquidity(), tokens);
        }
    }
}

/// @dev Proves the handler's actions reach auctions and bids, so the invariants are not vacuous.
contract LiquidationHandlerSmokeTest is LiquidationSetup {
    function test_handlerDoesThings() public {
        handler.trade(0, 2, 2e18, true);
        assertLt(market.positionOf(handler.accounts(0), handler.series(2)), 0, "trade");
        handler.movePrice(30);
        handler.movePrice(30);
        handler.movePrice(30);
        assertGe(handler.auctions(), 1, "keepers auctioned the short");
        assertTrue(_isMarked(handler.accounts(0)), "the auctioned account is marked");
        assertFalse(_isMarked(handler.accounts(1)), "an account never auctioned is not");
        assertGe(handler.bids(), 1, "keepers bid");
        assertEq(handler.auctionsOnHealthyAccounts(), 0);
        assertEq(handler.bidsThatWorsenedAccounts(), 0);
        // Expiry and settlement.
        handler.trade(1, 0, 1e18, false);
        for (uint256 i; i < 6; ++i) handler.advanceTime(6 hours);
        handler.settleExpired(0);
        assertGe(handler.settlements(), 2, "both sides settled");
    }

    /// @dev The batch action reaches landed bids, skips and the thin bidder's refused batches.
    function test_handlerBatches() public {
        handler.bidMany(99, false); // nobody below maintenance yet: all skipped
        assertEq(handler.batchesAllSkipped(), 1, "a batch skipped everything");
        handler.trade(0, 2, 2e18, true);
        handler.trade(2, 2, 2e18, true);
        for (uint256 i; i < 4 && handler.batchedBids() == 0; ++i) {
            handler.jumpPrice(80);
            handler.bidMany(i, false);
        }
        assertGe(handler.batchedBids(), 1, "a batch landed bids");
        assertGe(handler.batches(), 2);
        assertEq(handler.bidsOnHealthyAccounts(), 0);
        assertEq(handler.biddersBelowInitialMargin(), 0);
        assertEq(handler.bidsThatWorsenedAccounts(), 0);
    }

    /// @dev Regression (CI, 2026-12-02): the thin bidder's own short went below IM on a price
    /// jump, then its batch found nothing to bid on. Nothing moved, so the liquidator checks
    /// nothing; the handler counted the bidder below IM as if the batch had put it there.
    function test_batchThatLandsNothingIsNotABidderCheck() public {
        AccountId thin = handler.thinBidder();
        uint256 traderKey = uint256(keccak256(abi.encode("trader", uint256(0))));
        _trade(traderKey, handler.accounts(0), thin, handler.series(2), 1e18, 200e18);
        for (uint256 i; i < 8 && engine.excessInitial(thin) >= 0; ++i) handler.jumpPrice(80);
        assertLt(engine.excessInitial(thin), 0, "the jump left the thin bidder below IM");
        handler.bidMany(1, true);
        assertEq(handler.batchesAllSkipped(), 1, "the batch landed nothing");
        assertEq(handler.biddersBelowInitialMargin(), 0);
    }

    /// @dev Regression (CI, 2026-12-03): the shrunk sequence behind `bidsNeverWorsenTheAccount`.
    /// A portfolio account worth less than nothing, with a cash debt, took a batched bid; the
    /// debt's slice rounded down, so the account kept 0.68 µUSDC of debt beyond its share.
    function test_batchedBidOnADebtNeverWorsensTheAccount() public {
        handler.jumpPrice(3836684797);
        handler.movePrice(19775);
        handler.trade(7579, 3492, 9047, false);
        handler.jumpPrice(1470);
        handler.movePrice(513309506822749548680752436597239531932360833546873376837185905910127969);
        assertGe(handler.batchedBids(), 1, "the batch landed a bid");
        assertEq(handler.bidsThatWorsenedAccounts(), 0);
    }

    /// @dev Regression (CI, 2026-12-03, second): the shrunk sequence behind
    /// `bidsNeverWorsenTheAccount` at the zero rate. A standard account worth less than nothing
    /// took two batched bids; the second emptied the insurance fund, and the loss written off pro
    /// rata cut the account's remaining cash (0.0119 USDC) with every other creditor's. The handler
    /// compared before and after as if the bid had taken it.
    function test_bidThatSocializesALossIsNotAWorseningBid() public {
        handler.trade(
            1966,
            1055583478698144884869230550034955855942311616990775630,
            236826862931020476780196763068193049328775717739,
            true
        );
        handler.jumpPrice(type(uint256).max - 1);
        handler.jumpPrice(63872326847110800558618611901796355961937589550433552464455);
        handler.jumpPrice(115792089237316195423570985008687907853269984654529054930016616955889274112970);
        handler.movePrice(42605137457895616627395200383329202748328019111598686477605628192126447709885);
        uint256 lossBefore = vault.lossSocialized();
        handler.bidMany(8912, false);
        assertGt(vault.lossSocialized(), lossBefore, "the batch's fund payment socialized a loss");
        assertEq(handler.bidsWithSocializedLoss(), 1, "the handler saw it");
        assertEq(handler.bids(), 2);
        assertEq(handler.bidsThatWorsenedAccounts(), 0);
    }

    /// @dev A single bid on an account below maintenance with no auction running opens one, and a
    /// partial bid leaves it running: recorded and marked (`invariant_everyActiveAuctionIsMarked`
    /// meets such auctions, not only the keepers' `startAuction`s).
    function test_aBidOpensAnAuctionItDoesNotEnd() public {
        handler.trade(0, 2, 2e18, true);
        AccountId account = handler.accounts(0);
        // Jumps call no keeper: nothing opens the auction before the bid.
        for (uint256 i; i < 4 && engine.accountMargin(account).health < IMarginEngine.Health.LIQUIDATABLE; ++i) {
            handler.jumpPrice(70); // +30 %
        }
        assertFalse(liquidator.auctionOf(account).active, "no auction yet");
        assertFalse(_isMarked(account), "not marked yet");
        handler.bid(0, liquidator.previewBid(account, 1e18).maxFractionWad / 2);
        assertEq(handler.auctionsOpenedByABid(), 1, "the bid opened the auction");
        assertTrue(liquidator.auctionOf(account).active, "and it survived the bid");
        assertTrue(_isMarked(account), "marked");
    }

    /// @dev The oracle actors and the recovery check reach their cases.
    function test_oracleActorsAndRecoveryCheck() public {
        handler.trade(0, 2, 2e18, true);
        AccountId account = handler.accounts(0);
        for (int256 price = 3_000e8; engine.accountMargin(account).health < IMarginEngine.Health.LIQUIDATABLE;) {
            price += 50e8;
            ethUsd.updateAnswer(price);
        }
        liquidator.startAuction(account);
        handler.deposit(0, 20_000e6);
        assertFalse(liquidator.auctionOf(account).active, "the deposit ended the auction");
        assertEq(handler.auctionsOutlivingRecovery(), 0);
        handler.outage(3 hours);
        handler.bid(0, 1e18); // stale prices: no bid
        handler.toggleSequencer(true);
        handler.refreshFeeds();
        handler.toggleSequencer(false);
        handler.jumpPrice(80);
        assertEq(handler.bidsOnHealthyAccounts(), 0);
        assertEq(handler.outages(), 1);
    }
}
