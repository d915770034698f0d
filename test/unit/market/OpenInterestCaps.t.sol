// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {IPortfolioManager} from "../../../contracts/interfaces/IPortfolioManager.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";

/// @notice Issue 16, item 2: open-interest caps per series and per underlying
/// (`OptionMarket.setOpenInterestCaps`). Only a fill that raises open interest meets a cap, and
/// its revert names the cap and the room left; closing fills, transfers, liquidation slices and
/// settlement never do.
contract OpenInterestCapsTest is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    uint256 internal bobKey;
    address internal dave = makeAddr("dave");
    AccountId internal carolAccount;
    AccountId internal bobAccount;
    AccountId internal daveAccount;
    SeriesId internal call7;
    SeriesId internal put7;
    SeriesId internal btcCall7;
    uint256 internal expiry;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        (bob, bobKey) = makeAddrAndKey("bob");
        carolAccount = _account(carol, 1);
        bobAccount = _account(bob, 1);
        daveAccount = _account(dave, 1);
        call7 = _createSeries(ethIndex, 7, 3_000e18, true);
        put7 = _createSeries(ethIndex, 7, 2_800e18, false);
        btcCall7 = _createSeries(btcIndex, 7, 60_000e18, true);
        expiry = _expiry(7);
        _fundAndDeposit(carol, carolAccount, usdc, 1_000_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 1_000_000e6);
        _fundAndDeposit(dave, daveAccount, usdc, 1_000_000e6);
    }

    // ------------------------------------------------------------ governance

    function test_setOpenInterestCaps_boundsRoleAndEvent() public {
        (uint128 seriesCap, uint128 underlyingCap) = market.openInterestCaps(ethIndex);
        assertEq(seriesCap, 0, "no cap by default");
        assertEq(underlyingCap, 0, "no cap by default");

        uint256 max = market.MAX_AMOUNT();
        vm.startPrank(riskManager);
        _expectInvalid(1e18 - 1, 0);
        _expectInvalid(0, 1e18 - 1);
        _expectInvalid(max + 1, 0);
        _expectInvalid(0, max + 1);
        _expectInvalid(5e18 + 1, 5e18); // a per-series cap above the underlying's

        vm.expectEmit(address(market));
        emit IOptionMarket.OpenInterestCapsSet(ethIndex, 1e18, max);
        market.setOpenInterestCaps(ethIndex, 1e18, max);
        (seriesCap, underlyingCap) = market.openInterestCaps(ethIndex);
        assertEq(seriesCap, 1e18);
        assertEq(underlyingCap, max);
        market.setOpenInterestCaps(ethIndex, max, 0); // only a per-series cap
        market.setOpenInterestCaps(ethIndex, 0, 5e18); // only an underlying cap
        market.setOpenInterestCaps(ethIndex, 0, 0); // back to no cap
        (seriesCap, underlyingCap) = market.openInterestCaps(ethIndex);
        assertEq(seriesCap + underlyingCap, 0);
        vm.stopPrank();

        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                alice,
                Roles.RISK_MANAGER_ROLE
            )
        );
        market.setOpenInterestCaps(ethIndex, 1e18, 0);
    }

    /// @dev Review rv16c F5: caps are refused for index 0 and never-listed indexes, with the error
    /// `createSeries` gives them.
    function test_setOpenInterestCaps_refusesAnUnlistedUnderlying() public {
        uint16[3] memory unlisted = [uint16(0), 3, 999];
        vm.startPrank(riskManager);
        for (uint256 i; i < unlisted.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketUnderlyingNotListed.selector, unlisted[i]));
            market.setOpenInterestCaps(unlisted[i], 1e18, 1e18);
        }
        vm.stopPrank();
    }

    // ------------------------------------------------------------ caps

    function test_seriesCap_refusesAnOpeningFillNamingTheRoom() public {
        _setCaps(ethIndex, 10e18, 0);
        _trade(carolKey, carolAccount, bobAccount, call7, -6e18, 100e18);
        assertEq(market.openInterest(call7), 6e18);

        _expectTradeRevert(
            call7,
            -5e18,
            abi.encodeWithSelector(IOptionMarket.MarketSeriesOpenInterestCap.selector, call7, 10e18, 4e18)
        );
        // Exactly the room fits; the cap binds every series of the underlying on its own.
        _trade(carolKey, carolAccount, bobAccount, call7, -4e18, 100e18);
        assertEq(market.openInterest(call7), 10e18);
        _trade(carolKey, carolAccount, bobAccount, put7, -10e18, 50e18);
        assertEq(market.underlyingOpenInterest(ethIndex), 20e18);
        // BTC has caps of its own (none here).
        _trade(carolKey, carolAccount, bobAccount, btcCall7, -50e18, 2_000e18);
    }

    function test_underlyingCap_sumsEverySeries() public {
        _setCaps(ethIndex, 0, 10e18);
        _trade(carolKey, carolAccount, bobAccount, call7, -6e18, 100e18);
        _expectTradeRevert(
            put7,
            -5e18,
            abi.encodeWithSelector(IOptionMarket.MarketUnderlyingOpenInterestCap.selector, ethIndex, 10e18, 4e18)
        );
        _trade(carolKey, carolAccount, bobAccount, put7, -4e18, 50e18);
        assertEq(market.underlyingOpenInterest(ethIndex), 10e18);
        assertEq(market.underlyingOpenInterest(btcIndex), 0);
    }

    function test_capBelowOpenInterest_refusesOpeningWithNoRoomButNeverClosing() public {
        _trade(carolKey, carolAccount, bobAccount, call7, -10e18, 100e18); // carol short 10, bob long 10
        _setCaps(ethIndex, 2e18, 3e18); // now far below the open interest

        // Opening more is refused, with no room left.
        _expectTradeRevert(
            call7,
            -1e18,
            abi.encodeWithSelector(IOptionMarket.MarketSeriesOpenInterestCap.selector, call7, 2e18, 0)
        );
        // Closing: carol buys back 3 from bob (open interest 10 → 7).
        _trade(carolKey, carolAccount, bobAccount, call7, 3e18, 100e18);
        assertEq(market.openInterest(call7), 7e18);
        // One side closing, the other opening: bob sells 2 of his longs to dave (open interest stays 7).
        _trade(bobKey, bobAccount, daveAccount, call7, -2e18, 100e18);
        assertEq(market.openInterest(call7), 7e18);
        assertEq(market.positionOf(daveAccount, call7), 2e18);
        // A transfer between one owner's subaccounts moves what exists.
        AccountId bob2 = _account(bob, 2);
        vm.prank(bob);
        market.transferPositions(bobAccount, bob2, _ids(call7), _amounts(5e18));
        assertEq(market.openInterest(call7), 7e18);
        assertEq(market.underlyingOpenInterest(ethIndex), 7e18);
    }

    function test_caps_neverBlockALiquidationBid() public {
        AccountId thin = _account(carol, 2);
        _fundAndDeposit(carol, thin, usdc, 8_000e6);
        _trade(carolKey, thin, bobAccount, call7, -10e18, 100e18);
        _setCaps(ethIndex, 1e18, 1e18); // no room at all
        for (int256 price = 3_000e8; engine.accountMargin(thin).health < IMarginEngine.Health.LIQUIDATABLE;) {
            price += 10e8;
            _setPrice(ethUsd, price);
        }
        uint256 openInterest = market.openInterest(call7);
        vm.prank(dave);
        liquidator.bid(thin, daveAccount, 1e18, type(int256).max, type(uint256).max);
        assertLt(market.positionOf(daveAccount, call7), 0, "the bidder took a slice of the short");
        assertEq(market.openInterest(call7), openInterest, "a slice moves what exists");
    }

    function test_caps_neverBlockSettlement() public {
        _trade(carolKey, carolAccount, bobAccount, call7, -4e18, 100e18);
        _setCaps(ethIndex, 1e18, 1e18);
        vm.warp(expiry + 30);
        ethUsd.updateAnswer(3_100e8);
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        market.settle(carolAccount, call7);
        market.settle(bobAccount, call7);
        assertEq(market.openInterest(call7), 0);
        assertEq(market.underlyingOpenInterest(ethIndex), 0);
    }

    /// @dev Security, "cap griefing": a wash pair of one owner's accounts can fill the cap and stop
    /// others opening, but it blocks no exit, and the short side pays margin on the whole size,
    /// quadratically so with the concentration add-on on.
    function test_capGriefing_blocksNoExitAndCostsTheGrieferMargin() public {
        _trade(carolKey, carolAccount, bobAccount, call7, -5e18, 100e18); // an honest position
        _setCaps(ethIndex, 100e18, 0);
        (address eve, uint256 eveKey) = makeAddrAndKey("eve");
        AccountId eveShort = _account(eve, 1);
        AccountId eveLong = _account(eve, 2);
        _fundAndDeposit(eve, eveShort, usdc, 1_000_000e6);
        _fundAndDeposit(eve, eveLong, usdc, 1_000_000e6);
        _trade(eveKey, eveShort, eveLong, call7, -95e18, 100e18); // the cap is full
        _expectTradeRevert(
            call7,
            -1e18,
            abi.encodeWithSelector(IOptionMarket.MarketSeriesOpenInterestCap.selector, call7, 100e18, 0)
        );
        // Carol and Bob still close.
        _trade(carolKey, carolAccount, bobAccount, call7, 5e18, 100e18);
        assertEq(market.positionOf(carolAccount, call7), 0);
        // Holding the cap ties up Eve's margin: the standard requirement on 95 shorts, and with the
        // add-on (κ 5 %, L 10) another 0.05 × 3,000 × 95 × 4 (ratio capped) = 57,000 USD.
        uint256 standard = engine.accountMargin(eveShort).requirementIM;
        IPortfolioManager manager = engine.portfolioManager();
        vm.startPrank(riskManager); // in steps of +1 % of spot per contract (κ·c)
        for (uint64 kappa = 0.0025e18; kappa <= 0.05e18; kappa += 0.0025e18) {
            manager.setConcentrationParams(ethIndex, IPortfolioManager.ConcentrationParams(kappa, 4e18, 10e18));
        }
        vm.stopPrank();
        assertEq(engine.accountMargin(eveShort).requirementIM - standard, 57_000e18);
    }

    /// @dev Review rv16c F1: an expired series held its room under the underlying cap until every
    /// long was settled, which needs the settlement price. `retireExpired` releases it at expiry,
    /// for anyone, once; settling the series later lowers only its own open interest.
    function test_retireExpired_releasesTheUnderlyingCapAtExpiry() public {
        _setCaps(ethIndex, 0, 10e18);
        _trade(carolKey, carolAccount, bobAccount, call7, -10e18, 100e18); // the cap is full
        SeriesId[] memory ids = _ids(call7);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketSeriesNotExpired.selector, call7, expiry));
        market.retireExpired(ids);

        vm.warp(expiry + 30);
        _refreshFeeds();
        SeriesId next = _createSeries(ethIndex, 7, 3_000e18, true); // the next weekly
        // Expired, no settlement price yet: the expired longs still hold the room.
        _expectTradeRevert(
            next,
            -1e18,
            abi.encodeWithSelector(IOptionMarket.MarketUnderlyingOpenInterestCap.selector, ethIndex, 10e18, 0)
        );

        vm.expectEmit(address(market));
        emit IOptionMarket.SeriesRetired(call7, 10e18);
        vm.prank(dave); // anyone, with no price posted
        market.retireExpired(ids);
        assertTrue(market.seriesRetired(call7));
        assertEq(market.underlyingOpenInterest(ethIndex), 0);
        assertEq(market.openInterest(call7), 10e18, "the series keeps its own count until settled");
        _trade(carolKey, carolAccount, bobAccount, next, -10e18, 100e18); // the whole cap is back

        vm.recordLogs();
        assertEq(market.retireExpired(ids), 0, "already retired: skipped, not refused");
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(market.underlyingOpenInterest(ethIndex), 10e18, "the live series: nothing subtracted twice");
        SeriesId unknown = SeriesId.wrap(123);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketSeriesNotFound.selector, unknown));
        market.retireExpired(_ids(unknown));

        // Settling the retired series leaves the underlying's sum (the live series) alone.
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        market.settle(bobAccount, call7);
        market.settle(carolAccount, call7);
        assertEq(market.openInterest(call7), 0);
        assertEq(market.underlyingOpenInterest(ethIndex), 10e18, "the live series alone");
    }

    /// @dev Review rv16c2 K1: a batch was voided (`MarketSeriesAlreadyRetired`) when anyone retired
    /// one of its ids first, and series with no open interest cost a retirement for nothing. Both
    /// are now skipped; the rest of the batch retires, and the count says how many did.
    function test_retireExpired_skipsRetiredAndEmptySeriesInABatch() public {
        SeriesId s1 = _createSeries(ethIndex, 7, 3_300e18, true);
        SeriesId s2 = _createSeries(ethIndex, 7, 3_400e18, true);
        SeriesId empty = _createSeries(ethIndex, 7, 3_500e18, true);
        _trade(carolKey, carolAccount, bobAccount, s1, -3e18, 10e18);
        _trade(carolKey, carolAccount, bobAccount, s2, -4e18, 10e18);
        uint256 before = market.underlyingOpenInterest(ethIndex);
        vm.warp(_expiry(7));
        SeriesId[] memory batch = new SeriesId[](3);
        (batch[0], batch[1], batch[2]) = (s1, s2, empty);
        vm.prank(dave);
        assertEq(market.retireExpired(_ids(s2)), 1); // the front-run
        vm.expectEmit(address(market));
        emit IOptionMarket.SeriesRetired(s1, 3e18);
        assertEq(market.retireExpired(batch), 1, "s1 only: s2 was retired first, empty holds nothing");
        assertTrue(market.seriesRetired(s1));
        assertFalse(market.seriesRetired(empty), "no open interest: left alone");
        assertEq(market.underlyingOpenInterest(ethIndex), before - 7e18);
        // An unknown or unexpired id still refuses the whole batch.
        _refreshFeeds(); // createSeries reads spot (the strike band)
        SeriesId live = _createSeries(ethIndex, 14, 3_000e18, true);
        batch[2] = live;
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarket.MarketSeriesNotExpired.selector, live, SeriesLib.expiryOf(live))
        );
        market.retireExpired(batch);
    }

    /// @dev Review rv16c2 G1 (documented, not prevented; this pins the cost so a change shows): a
    /// wash box of two call series one wei of strike apart, held in two PORTFOLIO accounts at
    /// price 0, fills a 10,000-contract underlying cap. Each short is covered by the same
    /// account's long, so the requirement is only the contingency, 0.5 % of spot per contract of
    /// open interest (15 USD at 3,000), and no fee is paid even at the highest rates (fees are a
    /// share of the premium). Opening fills on the underlying then wait; raising the cap (the risk
    /// manager's response) lets them through again.
    function test_capSquatting_aOneWeiBoxCostsOnlyTheContingency() public {
        uint256 q = 5_000e18;
        _setCaps(ethIndex, 0, 2 * q);
        vm.prank(admin);
        market.setFeeAccount(_account(admin, 9));
        vm.prank(riskManager);
        market.setFees(0.005e18, 0.01e18); // the highest fees
        (address eve, uint256 eveKey) = makeAddrAndKey("eve");
        SeriesId k0 = _createSeries(ethIndex, 60, 3_300e18, true);
        SeriesId k1 = _createSeries(ethIndex, 60, 3_300e18 + 1, true);
        AccountId a = _account(eve, 1);
        AccountId b = _account(eve, 2);
        _fundAndDeposit(eve, a, usdc, 1_000_000e6);
        _fundAndDeposit(eve, b, usdc, 1_000_000e6);
        vm.startPrank(eve);
        engine.setMarginMode(a, IMarginEngine.MarginMode.PORTFOLIO);
        engine.setMarginMode(b, IMarginEngine.MarginMode.PORTFOLIO);
        vm.stopPrank();
        uint256 paid;
        for (uint256 i; i < 10; ++i) {
            paid += _trade(eveKey, b, a, k0, -int256(q / 10), 0);
            paid += _trade(eveKey, a, b, k1, -int256(q / 10), 0);
        }
        assertEq(paid, 0, "no premium, so no fee");
        assertEq(vault.cashOf(_account(admin, 9)), 0, "the fee account got nothing");
        assertEq(market.underlyingOpenInterest(ethIndex), 2 * q, "the underlying cap is full");

        // The cost: the contingency, 0.5 % of spot per contract of open interest (±2 %).
        uint256 im = engine.accountMargin(a).requirementIM + engine.accountMargin(b).requirementIM;
        uint256 perContract = (im * 1e18) / (2 * q);
        assertApproxEqRel(perContract, 15e18, 0.02e18, "15 USD of IM per contract of cap held");
        assertEq(uint8(engine.accountMargin(a).health), uint8(IMarginEngine.Health.HEALTHY));
        assertEq(uint8(engine.accountMargin(b).health), uint8(IMarginEngine.Health.HEALTHY));

        // Everyone else waits to open on ETH; the room is public, and raising the cap ends it.
        assertEq(market.underlyingOpenInterest(ethIndex), 2 * q);
        _expectTradeRevert(
            call7,
            -1e18,
            abi.encodeWithSelector(IOptionMarket.MarketUnderlyingOpenInterestCap.selector, ethIndex, 2 * q, 0)
        );
        _setCaps(ethIndex, 0, 3 * q);
        _trade(carolKey, carolAccount, bobAccount, call7, -1e18, 100e18);
        assertEq(market.openInterest(call7), 1e18);
    }

    function test_defaults_noCapHoldsAnyFill() public {
        _trade(carolKey, carolAccount, bobAccount, call7, -1_000e18, 100e18);
        assertEq(market.openInterest(call7), 1_000e18);
        assertEq(market.underlyingOpenInterest(ethIndex), 1_000e18);
    }

    /// @dev Random fills (opening, closing, crossing zero) between three accounts under random
    /// caps: a fill that goes through never leaves a capped open interest above its cap unless it
    /// did not raise it, a fill refused by a cap would have raised it past that cap, and the
    /// underlying's open interest is always the sum over its series not yet retired: before
    /// expiry, after one of them is retired, and while both are settled.
    function testFuzz_noFillTakesOpenInterestPastACap(uint256 seed) public {
        fuzzSeriesCap = 5e18 + (seed % 20) * 1e18;
        fuzzUnderlyingCap = fuzzSeriesCap + ((seed >> 8) % 15) * 1e18;
        _setCaps(ethIndex, fuzzSeriesCap, fuzzUnderlyingCap);
        for (uint256 step; step < 24; ++step) {
            _randomFill(uint256(keccak256(abi.encode(seed, step))), step);
            assertEq(
                market.underlyingOpenInterest(ethIndex),
                market.openInterest(call7) + market.openInterest(put7),
                "underlying open interest is the sum over its series"
            );
        }
        vm.warp(expiry + 30);
        _refreshFeeds();
        market.retireExpired(_ids(call7));
        assertEq(market.underlyingOpenInterest(ethIndex), market.openInterest(put7), "the put alone");
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        AccountId[3] memory holders = [carolAccount, bobAccount, daveAccount];
        for (uint256 i; i < holders.length; ++i) {
            for (uint256 j; j < 2; ++j) {
                SeriesId id = j == 0 ? call7 : put7;
                if (market.positionOf(holders[i], id) != 0) market.settle(holders[i], id);
                assertEq(
                    market.underlyingOpenInterest(ethIndex),
                    market.openInterest(put7),
                    "the sum over unretired series"
                );
            }
        }
        assertEq(market.underlyingOpenInterest(ethIndex) + market.openInterest(call7), 0, "all settled");
    }

    uint256 internal fuzzSeriesCap;
    uint256 internal fuzzUnderlyingCap;

    function _randomFill(uint256 r, uint256 step) internal {
        // Carol or Bob makes (Dave has no key here: he only takes); anyone else takes.
        AccountId maker = r % 2 == 0 ? carolAccount : bobAccount;
        AccountId taker = (r >> 8) % 2 == 0 ? daveAccount : (r % 2 == 0 ? bobAccount : carolAccount);
        SeriesId id = (r >> 16) % 2 == 0 ? call7 : put7;
        uint256 amount = (((r >> 24) % 6) + 1) * 1e18;
        int256 size = (r >> 40) % 2 == 0 ? int256(amount) : -int256(amount);
        uint256 seriesBefore = market.openInterest(id);
        uint256 totalBefore = market.underlyingOpenInterest(ethIndex);
        IOptionMarket.Order memory order = IOptionMarket.Order(
            maker,
            id,
            size,
            50e18,
            AccountId.wrap(0),
            step,
            block.timestamp + 1 hours
        );
        bytes memory signature = _signOrder(r % 2 == 0 ? carolKey : bobKey, order);
        vm.prank(_ownerOf(taker));
        try market.fill(order, signature, taker, amount) {
            if (market.openInterest(id) > seriesBefore) {
                assertLe(market.openInterest(id), fuzzSeriesCap, "a fill took a series past its cap");
                assertLe(market.underlyingOpenInterest(ethIndex), fuzzUnderlyingCap, "past the underlying cap");
            }
        } catch (bytes memory reason) {
            bytes4 selector = bytes4(reason);
            if (selector == IOptionMarket.MarketSeriesOpenInterestCap.selector) {
                assertGt(seriesBefore + amount, fuzzSeriesCap, "refused within the series cap");
            } else if (selector == IOptionMarket.MarketUnderlyingOpenInterestCap.selector) {
                assertGt(totalBefore + amount, fuzzUnderlyingCap, "refused within the underlying cap");
            }
        }
    }

    // ------------------------------------------------------------ helpers

    function _setCaps(uint16 index, uint256 seriesCap, uint256 underlyingCap) internal {
        vm.prank(riskManager);
        market.setOpenInterestCaps(index, seriesCap, underlyingCap);
    }

    function _expectInvalid(uint256 seriesCap, uint256 underlyingCap) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarket.MarketInvalidOpenInterestCaps.selector,
                ethIndex,
                seriesCap,
                underlyingCap
            )
        );
        market.setOpenInterestCaps(ethIndex, seriesCap, underlyingCap);
    }

    /// @dev Carol (maker) trades `makerSize` of `id` with Bob, expecting `revertData`.
    function _expectTradeRevert(SeriesId id, int256 makerSize, bytes memory revertData) internal {
        IOptionMarket.Order memory order = IOptionMarket.Order(
            carolAccount,
            id,
            makerSize,
            100e18,
            AccountId.wrap(0),
            type(uint64).max,
            block.timestamp + 1 hours
        );
        bytes memory signature = _signOrder(carolKey, order);
        vm.prank(bob);
        vm.expectRevert(revertData);
        market.fill(order, signature, bobAccount, uint256(makerSize > 0 ? makerSize : -makerSize));
    }

    function _ownerOf(AccountId account) internal pure returns (address) {
        return address(uint160(AccountId.unwrap(account) >> 96));
    }

    function _ids(SeriesId id) internal pure returns (SeriesId[] memory ids) {
        ids = new SeriesId[](1);
        ids[0] = id;
    }

    function _amounts(int256 amount) internal pure returns (int256[] memory amounts) {
        amounts = new int256[](1);
        amounts[0] = amount;
    }
}
