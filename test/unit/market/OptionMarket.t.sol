// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {OptionMarket} from "../../../contracts/market/OptionMarket.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @dev A minimal smart-account owner: approves digests its signer key signed.
contract TestWallet1271 is IERC1271 {
    address internal immutable signer;

    constructor(address signer_) {
        signer = signer_;
    }

    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == signer ? this.isValidSignature.selector : bytes4(0);
    }
}

/// @notice Unit tests of OptionMarket on the real stack (MarketFixture over PledgeFixture):
/// the real MarginEngine prices positions by Black–Scholes from the Chainlink mock feeds.
/// The margin-gate tests reach their situations through real levers only: thin funding,
/// a move of the ETH/USD feed, or a feed left stale ("oracle down").
contract OptionMarketTest is MarketFixture {
    /// @dev 200 billion USDC: covers a 1M-contract short or a 1e11 USD premium with fees.
    uint256 internal constant DEEP_FUNDING = 200_000_000_000e6;

    // ------------------------------------------------------------ series

    function test_createSeries_storesIdAndEmits() public {
        uint256 exp = _expiry(30);
        SeriesLib.Series memory s = SeriesLib.Series(ethIndex, uint40(exp), true, 4000e18);
        SeriesId id = SeriesLib.id(s);
        vm.expectEmit(address(market));
        emit IOptionMarket.SeriesCreated(id, ethIndex, exp, 4000e18, true);
        assertEq(market.createSeries(s), id);
        assertTrue(market.seriesExists(id));
    }

    function test_createSeries_isIdempotent() public {
        SeriesLib.Series memory s = SeriesLib.Series(ethIndex, uint40(expiry), true, 3000e18);
        vm.recordLogs();
        assertEq(market.createSeries(s), callId);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_createSeries_revertsOffGrid() public {
        uint256 exp = _expiry(2) + 1 hours;
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidExpiry.selector, exp));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(exp), true, 3000e18));
    }

    function test_createSeries_revertsAtOrBeforeNow() public {
        uint256 exp = _expiry(0);
        vm.warp(exp);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidExpiry.selector, exp));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(exp), true, 3000e18));
    }

    function test_createSeries_horizonIsInclusive() public {
        uint256 exp = _expiry(365);
        vm.warp(exp - 365 days);
        _refreshFeeds(); // createSeries reads spot (the strike band)
        market.createSeries(SeriesLib.Series(ethIndex, uint40(exp), true, 3000e18));
        vm.warp(exp - 365 days - 1);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidExpiry.selector, exp));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(exp), false, 3000e18));
    }

    function test_createSeries_revertsOnStrikeBounds() public {
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidStrike.selector, 0));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 0));
        uint128 tooHigh = 1e30 + 1;
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidStrike.selector, tooHigh));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, tooHigh));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 1e30));
    }

    /// @notice The strike band (review rv26 P2-2): a put's floor is a share of its strike, so a put
    /// struck at 1 wei cost nothing to hold — free cap squatting, and `MAX_BALANCE` reachable for
    /// 3e-7 USD. A new series is struck at least at spot / 10, read at its creation.
    function test_createSeries_refusesAStrikeBelowATenthOfSpot() public {
        uint256 minStrike = oracle.spot(address(weth)) / market.MIN_STRIKE_DIVISOR();
        assertEq(minStrike, 300e18);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketStrikeBelowBand.selector, 1, minStrike));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, 1)); // rv26's put
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketStrikeBelowBand.selector, minStrike - 1, minStrike));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, uint128(minStrike - 1)));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, uint128(minStrike)));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, uint128(minStrike)));
        // Each underlying's own spot: BTC at 60,000 lists from 6,000.
        uint256 btcMin = oracle.spot(address(wbtc)) / market.MIN_STRIKE_DIVISOR();
        assertEq(btcMin, 6_000e18);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketStrikeBelowBand.selector, 5_999e18, btcMin));
        market.createSeries(SeriesLib.Series(btcIndex, uint40(expiry), false, 5_999e18));
        market.createSeries(SeriesLib.Series(btcIndex, uint40(expiry), false, uint128(btcMin)));
        // The band follows spot at creation: after a fall to 1,000, a 100 strike lists.
        _setPrice(ethUsd, 1_000e8);
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, 100e18));
    }

    /// @notice What the band buys, pinned (the margin formula's side of S1, not the band's check): a
    /// short of 1,000 puts at the band's strike asks 10 % × 300 = 30 USD each (the standard put floor
    /// b·K), where 1,000 puts at 1 wei asked 1,000 wei (1e-15 USD) in all. The floor is set by the
    /// spot at listing: a put listed during a dip keeps its lower strike (docs/security.md S1).
    function test_strikeBand_aShortAtTheBandCarriesAFloor() public {
        SeriesId low = market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, 300e18));
        uint256 before = engine.accountMargin(makerAccount).requirementIM;
        IOptionMarket.Order memory order = _order(makerAccount, low, -1_000e18, engine.mark(low));
        _fill(order, 1_000e18);
        assertGe(engine.accountMargin(makerAccount).requirementIM - before, 30_000e18);
    }

    /// @notice Without a price, no new series (fail closed: a series is where liabilities start), but
    /// bad input is still refused as such and an existing series is still returned, with no price.
    function test_createSeries_withoutAPriceRefusesOnlyNewSeries() public {
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        bytes memory stale = _staleSpotError();
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidStrike.selector, 0));
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, 0));
        assertEq(market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3000e18)), callId);
        vm.expectRevert(stale);
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3100e18));
        _refreshFeeds();
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3100e18));
    }

    function test_createSeries_revertsUnlistedUnderlying() public {
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketUnderlyingNotListed.selector, 0));
        market.createSeries(SeriesLib.Series(0, uint40(expiry), true, 3000e18));
        uint16 unlisted = engine.underlyingCount() + 1; // WETH and WBTC are 1 and 2
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketUnderlyingNotListed.selector, unlisted));
        market.createSeries(SeriesLib.Series(unlisted, uint40(expiry), true, 3000e18));
    }

    // ------------------------------------------------------------ fills

    function test_fill_makerBuys() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 2e18, 100e18);
        bytes32 hash = market.orderHash(order);
        bytes memory sig = _sign(makerKey, order);
        vm.expectEmit(address(market));
        emit IOptionMarket.PositionChanged(makerAccount, callId, 2e18);
        vm.expectEmit(address(market));
        emit IOptionMarket.PositionChanged(takerAccount, callId, -2e18);
        vm.expectEmit(address(market));
        emit IOptionMarket.OrderFilled(hash, makerAccount, takerAccount, callId, 2e18, 100e18, 200e6, 0, 0);
        vm.prank(taker);
        assertEq(market.fill(order, sig, takerAccount, 2e18), 200e6);

        assertEq(market.positionOf(makerAccount, callId), 2e18);
        assertEq(market.positionOf(takerAccount, callId), -2e18);
        assertEq(market.openInterest(callId), 2e18);
        assertEq(vault.cashOf(makerAccount), int256(FUNDING - 200e6));
        assertEq(vault.cashOf(takerAccount), int256(FUNDING + 200e6));
        assertEq(market.filled(hash), 2e18);
        (SeriesId[] memory ids, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(ids.length, 1);
        assertEq(ids[0], callId);
        assertEq(balances[0], 2e18);
    }

    function test_fill_makerSells() public {
        IOptionMarket.Order memory order = _order(makerAccount, putId, -3e18, 50e18);
        assertEq(_fill(order, 3e18), 150e6);
        assertEq(market.positionOf(makerAccount, putId), -3e18);
        assertEq(market.positionOf(takerAccount, putId), 3e18);
        assertEq(market.openInterest(putId), 3e18);
        assertEq(vault.cashOf(makerAccount), int256(FUNDING + 150e6));
        assertEq(vault.cashOf(takerAccount), int256(FUNDING - 150e6));
    }

    function test_fill_closingRemovesOpenPositionAndInterest() public {
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18);
        IOptionMarket.Order memory close = _order(makerAccount, callId, -2e18, 100e18);
        close.nonce = 1;
        _fill(close, 2e18);
        assertEq(market.openInterest(callId), 0);
        (SeriesId[] memory ids, ) = market.positionsOf(makerAccount);
        assertEq(ids.length, 0);
        (ids, ) = market.positionsOf(takerAccount);
        assertEq(ids.length, 0);
    }

    function test_fill_premiumRoundsInMakersFavour() public {
        // 1 wei of a contract at 1 USD: 1e-18 USD, far below one USDC unit.
        assertEq(_fill(_order(makerAccount, callId, 1, 1e18), 1), 0, "maker pays: rounds down");
        assertEq(_fill(_order(makerAccount, putId, -1, 1e18), 1), 1, "maker receives: rounds up");
    }

    function test_fill_partialFills() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 5e18, 10e18);
        bytes32 hash = market.orderHash(order);
        _fill(order, 1e18);
        _fill(order, 3e18);
        assertEq(market.filled(hash), 4e18);
        assertEq(market.positionOf(makerAccount, callId), 4e18);
        _fill(order, 1e18);
        assertEq(market.filled(hash), 5e18);
    }

    function test_fill_revertsOverfill() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 5e18, 10e18);
        bytes32 hash = market.orderHash(order);
        _fill(order, 4e18);
        _fillExpectRevert(order, 2e18, abi.encodeWithSelector(IOptionMarket.MarketOverfill.selector, hash, 1e18, 2e18));
    }

    function test_fill_revertsZeroSize() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 5e18, 10e18);
        _fillExpectRevert(order, 0, abi.encodeWithSelector(IOptionMarket.MarketZeroAmount.selector));
    }

    function test_fill_revertsUnauthorizedCaller() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        bytes memory sig = _sign(makerKey, order);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketUnauthorized.selector, takerAccount, bob));
        market.fill(order, sig, takerAccount, 1e18);
    }

    function test_fill_deadlineIsInclusive() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 2e18, 10e18);
        bytes32 hash = market.orderHash(order);
        vm.warp(order.deadline);
        _fill(order, 1e18);
        vm.warp(order.deadline + 1);
        _fillExpectRevert(
            order,
            1e18,
            abi.encodeWithSelector(IOptionMarket.MarketOrderExpired.selector, hash, order.deadline)
        );
    }

    function test_cancelOrder_killsTheOrder() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 2e18, 10e18);
        bytes32 hash = market.orderHash(order);
        vm.expectEmit(address(market));
        emit IOptionMarket.OrderCancelled(hash, makerAccount);
        vm.prank(maker);
        market.cancelOrder(order);
        assertEq(market.filled(hash), type(uint256).max);
        _fillExpectRevert(order, 1e18, abi.encodeWithSelector(IOptionMarket.MarketOrderCancelled.selector, hash));
    }

    function test_cancelOrder_revertsForStranger() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 2e18, 10e18);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketUnauthorized.selector, makerAccount, taker));
        market.cancelOrder(order);
    }

    function test_setMinNonce_bulkCancels() public {
        IOptionMarket.Order memory old = _order(makerAccount, callId, 2e18, 10e18);
        IOptionMarket.Order memory fresh = _order(makerAccount, callId, 2e18, 10e18);
        fresh.nonce = 5;
        bytes32 hash = market.orderHash(old);
        vm.expectEmit(address(market));
        emit IOptionMarket.MinNonceSet(makerAccount, 5);
        vm.prank(maker);
        market.setMinNonce(makerAccount, 5);
        _fillExpectRevert(old, 1e18, abi.encodeWithSelector(IOptionMarket.MarketOrderNonceTooLow.selector, hash, 0, 5));
        _fill(fresh, 1e18);
    }

    function test_setMinNonce_onlyIncreases() public {
        vm.startPrank(maker);
        market.setMinNonce(makerAccount, 5);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidNonce.selector, 5, 5));
        market.setMinNonce(makerAccount, 5);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidNonce.selector, 5, 4));
        market.setMinNonce(makerAccount, 4);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ signatures

    function test_fill_revertsWrongSigner() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        bytes32 hash = market.orderHash(order);
        bytes memory sig = _sign(takerKey, order);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, hash));
        market.fill(order, sig, takerAccount, 1e18);
    }

    function test_fill_revertsMalformedSignature() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        bytes32 hash = market.orderHash(order);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, hash));
        market.fill(order, hex"1234", takerAccount, 1e18);
    }

    function test_fill_acceptsApprovedOperatorSigner() public {
        (address operator, uint256 operatorKey) = makeAddrAndKey("operator");
        IOptionMarket.Order memory order = _order(makerAccount, callId, 2e18, 10e18);
        bytes32 hash = market.orderHash(order);
        bytes memory sig = _sign(operatorKey, order);

        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, hash));
        market.fill(order, sig, takerAccount, 1e18);

        vm.prank(maker);
        vault.setOperator(operator, true);
        vm.prank(taker);
        market.fill(order, sig, takerAccount, 1e18);
        assertEq(market.positionOf(makerAccount, callId), 1e18);

        vm.prank(maker);
        vault.setOperator(operator, false);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, hash));
        market.fill(order, sig, takerAccount, 1e18);
    }

    function test_fill_acceptsErc1271WalletOwner() public {
        (address walletSigner, uint256 walletKey) = makeAddrAndKey("walletSigner");
        TestWallet1271 wallet = new TestWallet1271(walletSigner);
        AccountId walletAccount = _account(address(wallet), 0);
        _fundAndDeposit(alice, walletAccount, usdc, 1000e6);

        IOptionMarket.Order memory order = _order(walletAccount, callId, 2e18, 10e18);
        bytes memory sig = _sign(walletKey, order);
        vm.prank(taker);
        market.fill(order, sig, takerAccount, 1e18);
        assertEq(market.positionOf(walletAccount, callId), 1e18);

        // A key the wallet does not recognise is refused.
        bytes32 hash = market.orderHash(order);
        sig = _sign(takerKey, order);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, hash));
        market.fill(order, sig, takerAccount, 1e18);
    }

    function test_fill_replayOnAnotherMarketFails() public {
        OptionMarket other = new OptionMarket(admin, vault, engine);
        vm.prank(admin);
        vault.grantRole(Roles.MODULE_ROLE, address(other));
        other.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3000e18));

        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        bytes memory sig = _sign(makerKey, order);
        bytes32 otherHash = other.orderHash(order);
        assertTrue(otherHash != market.orderHash(order));
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, otherHash));
        other.fill(order, sig, takerAccount, 1e18);
    }

    function test_fill_replayOnAnotherChainFails() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        bytes memory sig = _sign(makerKey, order);
        bytes32 hashHere = market.orderHash(order);
        vm.chainId(block.chainid + 1);
        bytes32 hashThere = market.orderHash(order);
        assertTrue(hashThere != hashHere);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, hashThere));
        market.fill(order, sig, takerAccount, 1e18);
    }

    function test_orderHash_isTheEip712Digest() public view {
        IOptionMarket.Order memory order = _order(makerAccount, callId, -7e18, 123e18);
        order.taker = takerAccount;
        order.nonce = 9;
        bytes32 typeHash = keccak256(
            "Order(uint256 account,uint256 seriesId,int256 size,uint256 priceWad,uint256 taker,uint256 nonce,uint256 deadline)"
        );
        assertEq(market.ORDER_TYPEHASH(), typeHash);
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Pledge OptionMarket"),
                keccak256("1"),
                block.chainid,
                address(market)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                typeHash,
                order.account,
                order.seriesId,
                order.size,
                order.priceWad,
                order.taker,
                order.nonce,
                order.deadline
            )
        );
        assertEq(market.orderHash(order), keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
    }

    // ------------------------------------------------------------ counterparties and series

    function test_fill_revertsSelfTrade() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        bytes memory sig = _sign(makerKey, order);
        vm.prank(maker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketSelfTrade.selector, makerAccount));
        market.fill(order, sig, makerAccount, 1e18);
    }

    function test_fill_allowsTwoSubaccountsOfOneOwner() public {
        AccountId makerSub = _account(maker, 1);
        _fundAndDeposit(maker, makerSub, usdc, FUNDING);
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        bytes memory sig = _sign(makerKey, order);
        vm.prank(maker);
        market.fill(order, sig, makerSub, 1e18);
        assertEq(market.positionOf(makerSub, callId), -1e18);
    }

    function test_fill_enforcesTakerRestriction() public {
        AccountId other = _account(bob, 0);
        IOptionMarket.Order memory order = _order(makerAccount, callId, 2e18, 10e18);
        order.taker = other;
        bytes32 hash = market.orderHash(order);
        _fillExpectRevert(order, 1e18, abi.encodeWithSelector(IOptionMarket.MarketWrongTaker.selector, hash, other));

        order.taker = takerAccount;
        _fill(order, 1e18);
        assertEq(market.positionOf(takerAccount, callId), -1e18);
    }

    function test_fill_revertsExpiredSeries() public {
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 10e18);
        order.deadline = expiry + 1 days;
        vm.warp(expiry);
        _fillExpectRevert(
            order,
            1e18,
            abi.encodeWithSelector(IOptionMarket.MarketSeriesExpired.selector, callId, expiry)
        );
    }

    function test_fill_revertsUnknownSeries() public {
        SeriesId unknown = SeriesLib.id(SeriesLib.Series(ethIndex, uint40(expiry), true, 1234e18));
        IOptionMarket.Order memory order = _order(makerAccount, unknown, 1e18, 10e18);
        _fillExpectRevert(order, 1e18, abi.encodeWithSelector(IOptionMarket.MarketSeriesNotFound.selector, unknown));
    }

    // ------------------------------------------------------------ fees

    function test_fill_chargesFeesRoundedUp() public {
        _setFees(0.005e18, 0.01e18, feeAccountId);
        // 1 contract at 33.333…: premium 33.333333 USDC (maker pays, rounded down);
        // fees 0.5 % → 0.166666665 → 166,667 units, 1 % → 0.33333333 → 333,334 units (up).
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 33_333_333_333_333_333_333);
        bytes32 hash = market.orderHash(order);
        bytes memory sig = _sign(makerKey, order);
        vm.expectEmit(address(market));
        emit IOptionMarket.OrderFilled(
            hash,
            makerAccount,
            takerAccount,
            callId,
            1e18,
            order.priceWad,
            33_333_333,
            166_667,
            333_334
        );
        vm.prank(taker);
        assertEq(market.fill(order, sig, takerAccount, 1e18), 33_333_333);
        assertEq(vault.cashOf(makerAccount), int256(FUNDING - 33_333_333 - 166_667));
        assertEq(vault.cashOf(takerAccount), int256(FUNDING + 33_333_333 - 333_334));
        assertEq(vault.cashOf(feeAccountId), 166_667 + 333_334);
    }

    function test_fill_noFeesWithoutFeeAccount() public {
        _setFees(0.005e18, 0.01e18, AccountId.wrap(0));
        _fill(_order(makerAccount, callId, 1e18, 100e18), 1e18);
        assertEq(vault.cashOf(makerAccount), int256(FUNDING - 100e6));
        assertEq(vault.cashOf(takerAccount), int256(FUNDING + 100e6));
    }

    function test_setFees_boundsAndRole() public {
        vm.startPrank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFees.selector, 0.005e18 + 1, 0));
        market.setFees(0.005e18 + 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFees.selector, 0, 0.01e18 + 1));
        market.setFees(0, 0.01e18 + 1);
        vm.expectEmit(address(market));
        emit IOptionMarket.FeesSet(0.005e18, 0.01e18);
        market.setFees(0.005e18, 0.01e18);
        vm.stopPrank();
        assertEq(market.makerFeeWad(), 0.005e18);
        assertEq(market.takerFeeWad(), 0.01e18);

        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                alice,
                Roles.RISK_MANAGER_ROLE
            )
        );
        market.setFees(0, 0);
    }

    // ------------------------------------------------------------ margin gate

    function test_gate_blocksNewRiskBelowInitialMargin() public {
        AccountId thin = _account(taker, 1);
        _fundAndDeposit(taker, thin, usdc, 100e6);
        // Selling 2 calls for 200 USDC: equity 300 − 2 marks against 2 × 450 of requirement.
        int256 equityIM = 300e18 + MarginMath.positionValue(-2e18, engine.mark(callId));
        uint256 requirementIM = MarginMath.positionRequirementUp(-2e18, _shortCallRequirement(3_000e18));
        IOptionMarket.Order memory order = _order(makerAccount, callId, 2e18, 100e18);
        bytes memory sig = _sign(makerKey, order);
        vm.prank(taker);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginEngine.EngineBelowInitialMargin.selector, thin, equityIM, requirementIM)
        );
        market.fill(order, sig, thin, 2e18);
    }

    function test_gate_allowsReducingTradeBelowInitialMargin() public {
        (AccountId thin, uint256 spotWad) = _thinShortInMarginCall();
        int256 before = engine.excessInitial(thin);
        // Buying back 1 at 100 pays 100 and sheds one short's liability (its mark) and requirement.
        uint256 freed = engine.mark(callId) + _shortCallRequirement(spotWad);
        IOptionMarket.Order memory close = _order(makerAccount, callId, -1e18, 100e18);
        close.nonce = 1;
        _fillFor(close, thin, 1e18);
        int256 afterClose = engine.excessInitial(thin);
        assertEq(afterClose, before - 100e18 + int256(freed));
        assertLt(afterClose, 0, "still below IM: the reducing trade went through anyway");
        assertEq(market.positionOf(thin, callId), -9e18);
    }

    function test_gate_blocksReducingTradeThatWorsensExcess() public {
        (AccountId thin, uint256 spotWad) = _thinShortInMarginCall();
        int256 before = engine.excessInitial(thin);
        // Paying 100 more than the mark and requirement it frees strips value out of the account.
        // The price is a whole number of USDC units, so the premium needs no rounding.
        uint256 freed = engine.mark(callId) + _shortCallRequirement(spotWad);
        uint256 priceWad = (freed / 1e12) * 1e12 + 100e18;
        IOptionMarket.Order memory close = _order(makerAccount, callId, -1e18, priceWad);
        close.nonce = 1;
        bytes memory sig = _sign(makerKey, close);
        vm.prank(taker);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarket.MarketRiskIncreased.selector,
                thin,
                before,
                before + int256(freed) - int256(priceWad)
            )
        );
        market.fill(close, sig, thin, 1e18);
    }

    function test_gate_reducingTradeMayLowerExcessWhileStayingAboveIM() public {
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18);
        IOptionMarket.Order memory close = _order(makerAccount, callId, -1e18, 600e18);
        close.nonce = 1;
        int256 before = engine.excessInitial(takerAccount);
        // Paying 600 for a contract that frees its mark (~133) and 450 of requirement.
        uint256 freed = engine.mark(callId) + _shortCallRequirement(3_000e18);
        _fill(close, 1e18);
        int256 afterClose = engine.excessInitial(takerAccount);
        assertEq(afterClose, before - 600e18 + int256(freed));
        assertLt(afterClose, before, "the taker's excess falls");
        assertGe(afterClose, 0, "but stays at or above IM");
        assertEq(market.positionOf(takerAccount, callId), -1e18);
    }

    /// @dev Without a price a reducing side may pay premium only if it ends with no liability
    /// (finding 1, `docs/margin-gate.md`); new risk fails closed.
    function test_gate_oracleDown_reducingPaysOnlyIntoNoLiability() public {
        _fill(_order(makerAccount, callId, -2e18, 100e18), 2e18); // maker short 2, taker long 2
        _letFeedsGoStale();

        // Buying back part of the short at a price leaves the maker short with less cash: it
        // waits for a price. At zero its cash does not fall, so it may go ahead.
        IOptionMarket.Order memory part = _order(makerAccount, callId, 1e18, 100e18);
        part.nonce = 1;
        _fillExpectRevert(part, 1e18, _staleSpotError());
        IOptionMarket.Order memory free = _order(makerAccount, callId, 1e18, 0);
        free.nonce = 2;
        _fill(free, 1e18);
        assertEq(market.positionOf(makerAccount, callId), -1e18);

        // Buying back the rest leaves the maker with no short and cash ≥ 0; the taker sells
        // its long and carries no liability either: both pass without a price.
        IOptionMarket.Order memory close = _order(makerAccount, callId, 1e18, 100e18);
        close.nonce = 3;
        _fill(close, 1e18);
        assertEq(market.positionOf(makerAccount, callId), 0);
        assertEq(market.positionOf(takerAccount, callId), 0);

        IOptionMarket.Order memory open = _order(makerAccount, callId, -1e18, 100e18);
        open.nonce = 4;
        _fillExpectRevert(open, 1e18, _staleSpotError());
    }

    /// @dev Regression (review C3): an account below IM may not give away a long that hedges
    /// its short, by transfer or by a sale at any price: maintenance excess must not fall.
    function test_gate_longsCannotLeaveAHedgedAccountBelowIM() public {
        AccountId hedged = _account(maker, 5);
        AccountId sibling = _account(maker, 6);
        _fundAndDeposit(maker, hedged, usdc, 800e6);
        SeriesId longId = market.createSeries(SeriesLib.Series(1, _expiry(31), true, 3_000e18));
        SeriesId shortId = market.createSeries(SeriesLib.Series(1, _expiry(30), true, 3_000e18));
        _fillFor(_order(hedged, shortId, -1e18, engine.mark(shortId)), takerAccount, 1e18);
        _fillFor(_order(hedged, longId, 1e18, engine.mark(longId)), takerAccount, 1e18);
        ethUsd.updateAnswer(4_500e8);
        assertLt(engine.excessInitial(hedged), 0, "below IM, hedged");
        (int256 beforeIM, ) = engine.excesses(hedged);

        vm.prank(maker);
        vm.expectPartialRevert(IOptionMarket.MarketRiskIncreased.selector);
        market.transferPositions(hedged, sibling, _ids(longId), _amounts(1e18));

        IOptionMarket.Order memory dump = _order(hedged, longId, -1e18, 0);
        dump.nonce = 77;
        bytes memory sig = _sign(makerKey, dump);
        vm.prank(maker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketRiskIncreased.selector, hedged, beforeIM, beforeIM));
        market.fill(dump, sig, sibling, 1e18);
        assertEq(market.positionOf(hedged, longId), 1e18);
    }

    function test_gate_crossingZeroIsNewRisk() public {
        _fill(_order(makerAccount, callId, 1e18, 100e18), 1e18);
        _letFeedsGoStale();
        // Maker long 1 sells 2: it ends short, so the trade is not risk-reducing.
        IOptionMarket.Order memory flip = _order(makerAccount, callId, -2e18, 100e18);
        flip.nonce = 1;
        _fillExpectRevert(flip, 2e18, _staleSpotError());
    }

    function test_pause_blocksNewRiskOnly() public {
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18);
        vm.prank(guardian);
        market.pause();

        IOptionMarket.Order memory open = _order(makerAccount, putId, 1e18, 100e18);
        _fillExpectRevert(open, 1e18, abi.encodeWithSelector(IOptionMarket.MarketPausedNewRisk.selector, makerAccount));

        IOptionMarket.Order memory close = _order(makerAccount, callId, -1e18, 100e18);
        close.nonce = 1;
        _fill(close, 1e18);
        assertEq(market.positionOf(makerAccount, callId), 1e18);

        vm.prank(guardian);
        market.unpause();
        _fill(open, 1e18);
    }

    function test_pause_onlyGuardian() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, Roles.GUARDIAN_ROLE)
        );
        market.pause();
    }

    // ------------------------------------------------------------ margin modes

    function test_isolated_holdsOneSeries() public {
        vm.prank(maker);
        engine.setMarginMode(makerAccount, IMarginEngine.MarginMode.ISOLATED);

        _fill(_order(makerAccount, callId, 1e18, 10e18), 1e18);
        _fillExpectRevert(
            _order(makerAccount, putId, 1e18, 10e18),
            1e18,
            abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, makerAccount, 1)
        );

        // Adding to the held series is fine.
        IOptionMarket.Order memory more = _order(makerAccount, callId, 1e18, 10e18);
        more.nonce = 1;
        _fill(more, 1e18);
    }

    function test_cross_capsOpenPositions() public {
        uint256 cap = engine.MAX_CROSS_POSITIONS();
        for (uint256 i; i <= cap; ++i) {
            SeriesId id = market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, uint128(1000e18 + i)));
            IOptionMarket.Order memory order = _order(makerAccount, id, 1e18, 0);
            if (i < cap) {
                _fill(order, 1e18);
            } else {
                _fillExpectRevert(
                    order,
                    1e18,
                    abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, makerAccount, cap)
                );
            }
        }
        (SeriesId[] memory ids, ) = market.positionsOf(makerAccount);
        assertEq(ids.length, cap);
    }

    // ------------------------------------------------------------ transfers

    function test_transfer_movesBetweenSubaccounts() public {
        AccountId makerSub = _account(maker, 1);
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18);
        SeriesId[] memory ids = _ids(callId);
        int256[] memory amounts = _amounts(int256(0.5e18));
        vm.expectEmit(address(market));
        emit IOptionMarket.PositionsTransferred(makerAccount, makerSub, ids, amounts);
        vm.prank(maker);
        market.transferPositions(makerAccount, makerSub, ids, amounts);
        assertEq(market.positionOf(makerAccount, callId), 1.5e18);
        assertEq(market.positionOf(makerSub, callId), 0.5e18);
        assertEq(market.openInterest(callId), 2e18);
    }

    function test_transfer_movesAShort() public {
        AccountId takerSub = _account(taker, 3);
        _fundAndDeposit(taker, takerSub, usdc, FUNDING);
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18);
        vm.prank(taker);
        market.transferPositions(takerAccount, takerSub, _ids(callId), _amounts(-2e18));
        assertEq(market.positionOf(takerAccount, callId), 0);
        assertEq(market.positionOf(takerSub, callId), -2e18);
        (SeriesId[] memory ids, ) = market.positionsOf(takerAccount);
        assertEq(ids.length, 0);
    }

    function test_transfer_revertsDifferentOwners() public {
        vm.prank(maker);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarket.MarketDifferentOwners.selector, makerAccount, takerAccount)
        );
        market.transferPositions(makerAccount, takerAccount, _ids(callId), _amounts(1));
    }

    function test_transfer_revertsForStranger() public {
        AccountId makerSub = _account(maker, 1);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketUnauthorized.selector, makerAccount, taker));
        market.transferPositions(makerAccount, makerSub, _ids(callId), _amounts(1));
    }

    function test_transfer_revertsOnBadArguments() public {
        AccountId makerSub = _account(maker, 1);
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18);
        vm.startPrank(maker);
        vm.expectRevert(IOptionMarket.MarketLengthMismatch.selector);
        market.transferPositions(makerAccount, makerSub, _ids(callId), new int256[](2));
        vm.expectRevert(IOptionMarket.MarketZeroAmount.selector);
        market.transferPositions(makerAccount, makerSub, _ids(callId), _amounts(0));
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketSelfTransfer.selector, makerAccount));
        market.transferPositions(makerAccount, makerAccount, _ids(callId), _amounts(1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarket.MarketInsufficientPosition.selector,
                makerAccount,
                callId,
                int256(2e18),
                int256(3e18)
            )
        );
        market.transferPositions(makerAccount, makerSub, _ids(callId), _amounts(3e18));
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarket.MarketInsufficientPosition.selector,
                makerAccount,
                callId,
                int256(2e18),
                int256(-1e18)
            )
        );
        market.transferPositions(makerAccount, makerSub, _ids(callId), _amounts(-1e18));
        vm.stopPrank();
    }

    function test_transfer_respectsIsolatedTarget() public {
        AccountId makerSub = _account(maker, 1);
        vm.prank(maker);
        engine.setMarginMode(makerSub, IMarginEngine.MarginMode.ISOLATED);
        _fill(_order(makerAccount, callId, 1e18, 10e18), 1e18);
        _fill(_order(makerAccount, putId, 1e18, 10e18), 1e18);
        SeriesId[] memory ids = new SeriesId[](2);
        (ids[0], ids[1]) = (callId, putId);
        int256[] memory amounts = new int256[](2);
        (amounts[0], amounts[1]) = (int256(1e18), int256(1e18));
        vm.prank(maker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, makerSub, 1));
        market.transferPositions(makerAccount, makerSub, ids, amounts);
    }

    function test_fill_revertsAmountTooLarge() public {
        uint256 tooLarge = uint256(uint128(type(int128).max)) + 1;
        IOptionMarket.Order memory order = _order(makerAccount, callId, type(int256).max, 1e18);
        _fillExpectRevert(
            order,
            tooLarge,
            abi.encodeWithSelector(IOptionMarket.MarketAmountTooLarge.selector, tooLarge)
        );
    }

    // ------------------------------------------------------------ transfers: gate

    function test_transfer_netsAgainstTargetWhileOracleDown() public {
        AccountId makerSub = _account(maker, 1);
        _fundAndDeposit(maker, makerSub, usdc, FUNDING);
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18); // main long 2
        IOptionMarket.Order memory buy = _order(makerAccount, callId, 1e18, 100e18);
        buy.nonce = 1;
        bytes memory sig = _sign(makerKey, buy);
        vm.prank(maker);
        market.fill(buy, sig, makerSub, 1e18); // main long 3, sub short 1
        _letFeedsGoStale();

        // Both sides reduce step by step (the same id twice): allowed without a price.
        SeriesId[] memory ids = new SeriesId[](2);
        (ids[0], ids[1]) = (callId, callId);
        int256[] memory amounts = new int256[](2);
        (amounts[0], amounts[1]) = (int256(0.5e18), int256(0.5e18));
        vm.prank(maker);
        market.transferPositions(makerAccount, makerSub, ids, amounts);
        assertEq(market.positionOf(makerAccount, callId), 2e18);
        assertEq(market.positionOf(makerSub, callId), 0);

        // One more step would open a long in the sub: new risk, which needs a price.
        bytes memory stale = _staleSpotError();
        vm.prank(maker);
        vm.expectRevert(stale);
        market.transferPositions(makerAccount, makerSub, _ids(callId), _amounts(0.5e18));
    }

    /// @dev Long options add nothing to IM equity, so they cannot be bought on cash credit,
    /// and moving one out of an account leaves its IM excess unchanged (its MM equity, which
    /// counts longs at their mark, falls by the mark).
    function test_transfer_longsCarryNoInitialMarginValue() public {
        AccountId makerSub = _account(maker, 1);
        uint256 markWad = engine.mark(callId);
        uint256 priceWad = (markWad / 1e12) * 1e12;
        // Without cash the purchase is refused: the premium would be unbacked debt.
        _fillExpectRevert(
            _order(makerSub, callId, 2e18, priceWad),
            2e18,
            abi.encodeWithSelector(IMarginEngine.EngineBelowInitialMargin.selector, makerSub, -int256(2 * priceWad), 0)
        );
        _fundAndDeposit(maker, makerSub, usdc, 10_000e6);
        _fill(_order(makerSub, callId, 2e18, priceWad), 2e18);
        int256 before = engine.excessInitial(makerSub);
        assertEq(before, 10_000e18 - int256(2 * priceWad));
        IMarginEngine.MarginState memory stateBefore = engine.accountMargin(makerSub);
        vm.prank(maker);
        market.transferPositions(makerSub, makerAccount, _ids(callId), _amounts(1e18));
        assertEq(engine.excessInitial(makerSub), before);
        assertEq(engine.accountMargin(makerSub).equityMM, stateBefore.equityMM - int256(markWad));
    }

    function test_transfer_targetNewRiskNeedsInitialMargin() public {
        AccountId makerSub = _account(maker, 1); // holds nothing
        _fill(_order(makerAccount, callId, -2e18, 100e18), 2e18);
        // One short moved in: its mark as a liability against a 450 requirement.
        int256 equityIM = -int256(engine.mark(callId));
        uint256 requirementIM = _shortCallRequirement(3_000e18);
        vm.prank(maker);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginEngine.EngineBelowInitialMargin.selector, makerSub, equityIM, requirementIM)
        );
        market.transferPositions(makerAccount, makerSub, _ids(callId), _amounts(-1e18));
    }

    function test_transfer_pausedBlocksNewRiskForTarget() public {
        AccountId makerSub = _account(maker, 1);
        _fill(_order(makerAccount, callId, 2e18, 100e18), 2e18);
        vm.prank(guardian);
        market.pause();
        vm.prank(maker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketPausedNewRisk.selector, makerSub));
        market.transferPositions(makerAccount, makerSub, _ids(callId), _amounts(1e18));
    }

    // ------------------------------------------------------------ fuzz

    /// @dev Any fill keeps Σ positions of the series at zero, open interest equal to the
    /// longs, and the cash of maker, taker and fee account unchanged in total.
    function testFuzz_fill_conservesPositionsAndCash(
        uint256 size,
        uint256 priceWad,
        uint256 makerFee,
        uint256 takerFee,
        uint256 fillSize,
        bool makerBuys
    ) public {
        // Up to 1M contracts at up to 100,000 USD: premiums to 1e11 USD, 1 wei amounts included.
        size = bound(size, 1, 1e24);
        fillSize = bound(fillSize, 1, size);
        priceWad = bound(priceWad, 0, 1e23);
        _setFees(bound(makerFee, 0, 0.005e18), bound(takerFee, 0, 0.01e18), feeAccountId);
        // Deep funding keeps both accounts above IM whatever the premium and the short.
        _fundAndDeposit(maker, makerAccount, usdc, DEEP_FUNDING);
        _fundAndDeposit(taker, takerAccount, usdc, DEEP_FUNDING);

        int256 cashBefore = vault.cashOf(makerAccount) + vault.cashOf(takerAccount) + vault.cashOf(feeAccountId);
        _fill(_order(makerAccount, callId, makerBuys ? int256(size) : -int256(size), priceWad), fillSize);

        int256 makerPos = market.positionOf(makerAccount, callId);
        int256 takerPos = market.positionOf(takerAccount, callId);
        assertEq(makerPos + takerPos, 0);
        assertEq(makerPos, makerBuys ? int256(fillSize) : -int256(fillSize));
        assertEq(market.openInterest(callId), fillSize);
        int256 cashAfter = vault.cashOf(makerAccount) + vault.cashOf(takerAccount) + vault.cashOf(feeAccountId);
        assertEq(cashAfter, cashBefore);
        assertEq(int256(usdc.balanceOf(address(vault))), cashAfter);
    }

    // ------------------------------------------------------------ helpers

    /// @dev Fee rates from the risk manager, the fee account from the admin (the timelock).
    function _setFees(uint256 makerFeeWad, uint256 takerFeeWad, AccountId feeAccount) internal {
        vm.prank(riskManager);
        market.setFees(makerFeeWad, takerFeeWad);
        vm.prank(admin);
        market.setFeeAccount(feeAccount);
    }

    /// @dev A taker subaccount funded with 5,000 USDC sells 10 calls at 100 (at 3,000: 6,000
    /// cash less 10 marks of ~133 against 4,500 of requirement), then ETH rises in 5-dollar
    /// steps until the account is more than 1,000 below IM: a margin call, still above MM.
    function _thinShortInMarginCall() internal returns (AccountId thin, uint256 spotWad) {
        thin = _account(taker, 1);
        _fundAndDeposit(taker, thin, usdc, 5_000e6);
        _fillFor(_order(makerAccount, callId, 10e18, 100e18), thin, 10e18);
        for (int256 spot = 3_000; engine.excessInitial(thin) >= -1_000e18; spot += 5) {
            _setPrice(ethUsd, spot * 1e8);
            spotWad = uint256(spot) * 1e18;
        }
        (, int256 maintenanceExcess) = engine.excesses(thin);
        assertGe(maintenanceExcess, 0, "margin call, not liquidatable");
    }

    /// @dev The IM requirement of one short 3000 call at `spotWad` (standard params).
    function _shortCallRequirement(uint256 spotWad) internal pure returns (uint256) {
        return MarginMath.shortRequirementUp(true, spotWad, 3_000e18, 0.15e18, 0.10e18);
    }

    /// @dev Lets every feed age past its limit: the engine can price nothing ("oracle down").
    function _letFeedsGoStale() internal {
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
    }
}
