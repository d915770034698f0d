// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {OptionMarket} from "../../../contracts/market/OptionMarket.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice The market's packed position book (docs/performance.md, "`market.fill`" and "Where the gas
/// goes"): an open position is one book entry holding its series and balance, found by scanning
/// the book (no index by series since session 43); the account's first entry also holds its open
/// count (since session 44, when the account's word with its nonce went), and a series' existence
/// and open interest share one word. Checked against a plain model (an array with swap-and-pop, as the unpacked
/// book kept) over random sequences of fills, at the balance bound (`MAX_BALANCE`) and the series
/// extremes, and for the getters that read the packed words.
contract PositionBookTest is MarketFixture {
    uint256 internal constant SERIES = 6;
    uint256 internal constant DEEP = 1_000_000_000e6;

    SeriesId[SERIES] internal ids;
    /// @dev The model: the maker's open list (swap-and-pop, as before packing) and balances.
    SeriesId[] internal modelOpen;
    mapping(SeriesId => int256) internal modelBalance;
    uint256 internal nonce;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < SERIES; ++i) {
            ids[i] = market.createSeries(
                SeriesLib.Series(ethIndex, uint40(expiry), i % 2 == 0, uint128(2000e18 + 250e18 * i))
            );
        }
        _fundAndDeposit(maker, makerAccount, usdc, DEEP);
        _fundAndDeposit(taker, takerAccount, usdc, DEEP);
    }

    /// @dev Random fills that open, grow, shrink, flip and close positions: after each, the maker's
    /// list (in order), balances and nonce and the taker's mirror equal the model's, and every
    /// series' open interest is the sum of the longs.
    /// forge-config: default.fuzz.runs = 24
    function testFuzz_bookMatchesTheModel(uint256 seed) public {
        for (uint256 step; step < 24; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            SeriesId id = ids[seed % SERIES];
            int256 held = modelBalance[id];
            // A third of the steps close the maker's position exactly (when it has one).
            int256 size;
            if (held != 0 && (seed >> 8) % 3 == 0) size = -held;
            else size = int256(((seed >> 16) % 3) + 1) * 1e18 * ((seed >> 24) % 2 == 0 ? int256(1) : -1);
            _step(id, size);
            _checkAgainstModel();
        }
    }

    /// @dev Closing the first of three positions moves the last into its place, as swap-and-pop did.
    function test_closingTheFirstMovesTheLast() public {
        _step(ids[0], 1e18);
        _step(ids[1], -2e18);
        _step(ids[2], 3e18);
        _step(ids[0], -1e18);
        (SeriesId[] memory open, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(open.length, 2);
        assertEq(open[0], ids[2]);
        assertEq(balances[0], 3e18);
        assertEq(open[1], ids[1]);
        assertEq(balances[1], -2e18);
        // The moved position can close from its new place, and the list empties.
        _step(ids[2], -3e18);
        _step(ids[1], 2e18);
        (open, ) = market.positionsOf(makerAccount);
        assertEq(open.length, 0);
        assertEq(market.accountNonce(makerAccount), uint256(keccak256("")), "an empty book's digest again");
        _checkAgainstModel();
    }

    /// @dev `accountNonce` is a digest of the book's entries: it changes with every position change
    /// (`_step` checks each), is the same again for exactly the same book, and differs for the same
    /// positions in another book order (the liquidator's check only needs "not changed").
    function test_accountNonceIsADigestOfTheBook() public {
        uint256 empty = market.accountNonce(makerAccount);
        assertEq(empty, uint256(keccak256("")), "a fresh account's digest");
        _step(ids[0], 1e18);
        uint256 one = market.accountNonce(makerAccount);
        _step(ids[1], -2e18);
        _step(ids[1], 2e18);
        assertEq(market.accountNonce(makerAccount), one, "the same book, the same digest");
        _step(ids[1], -2e18);
        uint256 two = market.accountNonce(makerAccount);
        // Close the first and open it again: the same positions, now in the other order.
        _step(ids[0], -1e18);
        _step(ids[0], 1e18);
        assertNotEq(market.accountNonce(makerAccount), two, "another order, another digest");
        _checkAgainstModel();
    }

    /// @dev The first entry holds the count in its top bits: changing the first position's balance
    /// (either sign) keeps the count, and a short there is still read as a short.
    function test_theFirstEntryKeepsTheCount() public {
        _step(ids[0], -1e18);
        _step(ids[1], 2e18);
        _step(ids[2], 3e18);
        _step(ids[0], -4e18);
        _step(ids[0], 7e18);
        (SeriesId[] memory open, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(open.length, 3);
        assertEq(open[0], ids[0]);
        assertEq(balances[0], 2e18);
        assertEq(market.positionOf(makerAccount, ids[0]), 2e18);
        _step(ids[0], -5e18);
        assertEq(market.positionOf(makerAccount, ids[0]), -3e18);
        assertEq(market.positionOf(makerAccount, ids[2]), 3e18);
        _checkAgainstModel();
    }

    /// @dev The largest balances either way keep their sign and size in the book entry, with the
    /// real engine's IM check: the maker posts 9e11 USDC and sells a 3,000 call with ETH at 1e-8
    /// USD, so a short of MAX_BALANCE needs little margin. One wei more, on either side, reverts
    /// `MarketBalanceTooLarge` for the maker (checked first) and changes nothing.
    function test_extremeBalancesRoundTrip() public {
        SeriesId id = _bigBookScene();
        uint256 most = market.MAX_BALANCE();
        assertEq(most, 2 ** 90 - 1);
        IOptionMarket.Order memory order = _order(makerAccount, id, -int256(most), 0);
        _fill(order, most - 1);
        _fill(order, 1);
        assertEq(market.positionOf(makerAccount, id), -int256(most));
        assertEq(market.positionOf(takerAccount, id), int256(most));
        assertEq(market.openInterest(id), most);
        (SeriesId[] memory open, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(open[0], id);
        assertEq(balances[0], -int256(most));
        (open, balances) = market.positionsOf(takerAccount);
        assertEq(open[0], id);
        assertEq(balances[0], int256(most));

        IOptionMarket.Order memory more = _order(makerAccount, id, -1, 0);
        more.nonce = 1;
        uint256 nonceBefore = market.accountNonce(makerAccount);
        _fillExpectRevert(
            more,
            1,
            abi.encodeWithSelector(IOptionMarket.MarketBalanceTooLarge.selector, makerAccount, id, -int256(most) - 1)
        );
        assertEq(market.positionOf(makerAccount, id), -int256(most));
        assertEq(market.filled(market.orderHash(more)), 0);
        assertEq(market.accountNonce(makerAccount), nonceBefore);
        // The other way round, the maker's long is the one at the bound.
        _fill(_order(makerAccount, id, int256(2 * most), 0), 2 * most);
        assertEq(market.positionOf(makerAccount, id), int256(most));
        IOptionMarket.Order memory buy = _order(makerAccount, id, 1, 0);
        buy.nonce = 2;
        _fillExpectRevert(
            buy,
            1,
            abi.encodeWithSelector(IOptionMarket.MarketBalanceTooLarge.selector, makerAccount, id, int256(most) + 1)
        );
    }

    /// @dev A transfer that would take the receiving position past the bound reverts before the
    /// move, and the source keeps its part.
    function test_transferPastTheBoundReverts() public {
        SeriesId id = _bigBookScene();
        uint256 most = market.MAX_BALANCE();
        AccountId makerSub = _account(maker, 1);
        AccountId takerSub = _account(taker, 1);
        _fundAndDeposit(taker, takerSub, usdc, FUNDING);
        _fill(_order(makerAccount, id, int256(most), 0), most); // taker short MAX_BALANCE
        IOptionMarket.Order memory order = _order(makerSub, id, 1, 0);
        order.nonce = 1;
        _fillFor(order, takerSub, 1); // takerSub short 1
        vm.prank(taker);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarket.MarketBalanceTooLarge.selector, takerAccount, id, -int256(most) - 1)
        );
        market.transferPositions(takerSub, takerAccount, _ids(id), _amounts(-1));
        assertEq(market.positionOf(takerSub, id), -1);
        assertEq(market.positionOf(takerAccount, id), -int256(most));
    }

    /// @dev Two fills of random sizes on one position: the balance is their sum when that is within
    /// ±MAX_BALANCE, else the second fill reverts `MarketBalanceTooLarge` and the book is as after
    /// the first.
    /// forge-config: default.fuzz.runs = 48
    function testFuzz_balanceBound(uint256 first, uint256 second, bool flip) public {
        SeriesId id = _bigBookScene();
        uint256 most = market.MAX_BALANCE();
        first = bound(first, 1, most);
        second = bound(second, 1, market.MAX_AMOUNT());
        _fill(_order(makerAccount, id, -int256(first), 0), first);
        int256 size = flip ? int256(second) : -int256(second);
        IOptionMarket.Order memory order = _order(makerAccount, id, size, 0);
        order.nonce = 1;
        int256 sum = -int256(first) + size;
        if (sum > int256(most) || sum < -int256(most)) {
            _fillExpectRevert(
                order,
                second,
                abi.encodeWithSelector(IOptionMarket.MarketBalanceTooLarge.selector, makerAccount, id, sum)
            );
            sum = -int256(first);
        } else {
            _fill(order, second);
        }
        assertEq(market.positionOf(makerAccount, id), sum);
        assertEq(market.positionOf(takerAccount, id), -sum);
        (SeriesId[] memory open, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(open.length, sum == 0 ? 0 : 1);
        if (sum != 0) {
            assertEq(open[0], id);
            assertEq(balances[0], sum);
        }
    }

    /// @dev A book entry keeps a series' strike in 100 bits: the largest strike `createSeries`
    /// accepts fits, and series at the extremes (strikes MAX_STRIKE_WAD and one wei under it, 1 wei
    /// and 2^64 + 1 wei; calls and puts; the furthest expiry and the nearest) come back from
    /// `positionsOf` as their full ids. (Worthless options: the taker sells them.)
    function test_extremeSeriesRoundTrip() public {
        uint256 most = market.MAX_STRIKE_WAD();
        assertLt(most, 2 ** 100);
        SeriesId[4] memory extreme = [
            market.createSeries(SeriesLib.Series(ethIndex, _expiry(364), true, uint128(most))),
            market.createSeries(SeriesLib.Series(ethIndex, _expiry(364), true, uint128(most - 1))),
            _createSeriesBelowBand(ethIndex, 1, 1, false), // the book holds what the band refuses
            _createSeriesBelowBand(ethIndex, 1, 2 ** 64 + 1, false)
        ];
        // Long each (a long needs no margin beyond the premium, here 0).
        for (uint256 i; i < 4; ++i) {
            IOptionMarket.Order memory order = _order(makerAccount, extreme[i], int256(1e18 + i), 0);
            order.nonce = 100 + i;
            _fill(order, 1e18 + i);
        }
        (SeriesId[] memory open, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(open.length, 4);
        for (uint256 i; i < 4; ++i) {
            assertEq(open[i], extreme[i]);
            assertEq(balances[i], int256(1e18 + i));
            assertEq(market.positionOf(makerAccount, extreme[i]), int256(1e18 + i));
        }
        // Closing the first moves the last entry, series and balance, into its place.
        IOptionMarket.Order memory close = _order(makerAccount, extreme[0], -1e18, 0);
        close.nonce = 200;
        _fill(close, 1e18);
        (open, balances) = market.positionsOf(makerAccount);
        assertEq(open.length, 3);
        assertEq(open[0], extreme[3]);
        assertEq(balances[0], 1e18 + 3);
        assertEq(market.positionOf(makerAccount, extreme[3]), 1e18 + 3);
    }

    /// @dev Session 43: a series is found by comparing the bits a book entry keeps of its id. An id
    /// that differs from a held series only in bits the entry drops (strike bits 100–127; no such
    /// series can be created) must not be found as that series: it reads flat, and a transfer of it
    /// is refused without moving the held position.
    function test_anIdTheBookCannotHoldIsNeverFound() public {
        _step(ids[0], 2e18);
        SeriesId alias_ = SeriesId.wrap(SeriesId.unwrap(ids[0]) + (1 << 100));
        assertEq(market.positionOf(makerAccount, ids[0]), 2e18);
        assertEq(market.positionOf(makerAccount, alias_), 0, "an alias reads flat");
        AccountId other = _account(maker, 5);
        SeriesId[] memory moved = new SeriesId[](1);
        moved[0] = alias_;
        int256[] memory amounts = new int256[](1);
        amounts[0] = 1e18;
        vm.prank(maker);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarket.MarketInsufficientPosition.selector, makerAccount, alias_, 0, 1e18)
        );
        market.transferPositions(makerAccount, other, moved, amounts);
        assertEq(market.positionOf(makerAccount, ids[0]), 2e18);
        _checkAgainstModel();
    }

    /// @dev A series' word: no series reads as not existing with no open interest; a new one exists
    /// with none; open interest follows fills and returns to 0 while the series still exists.
    function test_seriesWord() public {
        SeriesId unknown = SeriesLib.id(SeriesLib.Series(ethIndex, uint40(expiry), true, 1234e18));
        assertFalse(market.seriesExists(unknown));
        assertEq(market.openInterest(unknown), 0);
        assertTrue(market.seriesExists(ids[3]));
        assertEq(market.openInterest(ids[3]), 0);
        _step(ids[3], 2e18);
        assertEq(market.openInterest(ids[3]), 2e18);
        _step(ids[3], -2e18);
        assertEq(market.openInterest(ids[3]), 0);
        assertTrue(market.seriesExists(ids[3]));
        // Creating it again changes nothing.
        market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, uint128(2000e18 + 250e18 * 3)));
        assertTrue(market.seriesExists(ids[3]));
    }

    /// @dev The fee account check reads the book's first entry (0 exactly when the book is empty).
    function test_feeAccountMustHoldNoPosition() public {
        _step(ids[0], 1e18);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFeeAccount.selector, makerAccount));
        market.setFeeAccount(makerAccount);
        _step(ids[0], -1e18);
        vm.prank(admin);
        market.setFeeAccount(makerAccount);
        assertEq(market.feeAccount(), makerAccount);
    }

    // ------------------------------------------------------------ helpers

    /// @dev A 3,000 call with ETH at 1e-8 USD and both accounts deep in USDC: positions of
    /// MAX_BALANCE need a few hundred dollars of margin.
    function _bigBookScene() internal returns (SeriesId id) {
        _fundAndDeposit(maker, makerAccount, usdc, 900_000_000_000e6);
        _fundAndDeposit(taker, takerAccount, usdc, 90_000_000_000e6);
        id = market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3000e18));
        _setPrice(ethUsd, 1);
    }

    /// @dev The maker's signed order of `size` (its side), filled whole by the taker.
    function _step(SeriesId id, int256 size) internal {
        IOptionMarket.Order memory order = _order(makerAccount, id, size, 1e18);
        order.nonce = nonce++;
        uint256 digestBefore = market.accountNonce(makerAccount);
        _fill(order, uint256(size > 0 ? size : -size));
        assertNotEq(market.accountNonce(makerAccount), digestBefore, "the digest changes with every change");
        int256 before = modelBalance[id];
        int256 balance = before + size;
        modelBalance[id] = balance;
        if (before == 0) {
            modelOpen.push(id);
        } else if (balance == 0) {
            for (uint256 i; i < modelOpen.length; ++i) {
                if (SeriesId.unwrap(modelOpen[i]) != SeriesId.unwrap(id)) continue;
                modelOpen[i] = modelOpen[modelOpen.length - 1];
                modelOpen.pop();
                break;
            }
        }
    }

    function _checkAgainstModel() internal view {
        (SeriesId[] memory open, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(open.length, modelOpen.length, "count");
        for (uint256 i; i < open.length; ++i) {
            assertEq(open[i], modelOpen[i], "list order");
            assertEq(balances[i], modelBalance[open[i]], "balance");
        }
        (SeriesId[] memory takerOpen, int256[] memory takerBalances) = market.positionsOf(takerAccount);
        assertEq(takerOpen.length, open.length, "taker count");
        for (uint256 i; i < takerOpen.length; ++i) {
            assertEq(takerBalances[i], -modelBalance[takerOpen[i]], "taker mirrors");
        }
        _assertRawBook(makerAccount);
        _assertRawBook(takerAccount);
        for (uint256 s; s < SERIES; ++s) {
            int256 b = modelBalance[ids[s]];
            assertEq(market.positionOf(makerAccount, ids[s]), b);
            assertEq(market.positionOf(takerAccount, ids[s]), -b);
            assertEq(market.openInterest(ids[s]), uint256(b < 0 ? -b : b), "open interest");
        }
    }
}

/// @dev An account hook that, once armed, calls back into the market from inside a fill (the
/// market's one call out to code it does not control once a hook is set, for a side the vault has
/// marked) and bubbles the revert.
contract ReentrantHook is IAccountHook {
    address internal target;
    bytes internal data;

    function arm(address target_, bytes calldata data_) external {
        (target, data) = (target_, data_);
    }

    function onAccountChanged(AccountId) external {
        address to = target;
        if (to == address(0)) return;
        target = address(0);
        Address.functionCall(to, data);
    }
}

/// @notice The market's transient reentrancy guard: a call back into the market from inside a fill
/// finds it locked, and the lock is gone once the fill returns (the next fill in the same
/// transaction runs).
contract MarketReentrancyTest is MarketFixture {
    OptionMarket internal market2;
    ReentrantHook internal hook;
    SeriesId internal id2;

    function setUp() public override {
        super.setUp();
        hook = new ReentrantHook();
        market2 = new OptionMarket(admin, vault, engine);
        vm.startPrank(admin);
        vault.grantRole(Roles.MODULE_ROLE, address(market2));
        market2.setAccountHook(hook);
        vm.stopPrank();
        id2 = market2.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3000e18));
    }

    function test_fillCannotBeReentered() public {
        IOptionMarket.Order memory order = _order(makerAccount, id2, 1e18, 1e18);
        bytes memory signature = _signFor2(order);
        // The market calls the hook only for a side the vault has marked as auctioned (issue 19).
        vm.prank(address(market2));
        vault.markAuctioned(takerAccount);
        hook.arm(address(market2), abi.encodeCall(market2.setMinNonce, (takerAccount, 5)));
        vm.prank(taker);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        market2.fill(order, signature, takerAccount, 1e18);
        // Unarmed, the same fill goes through, and a second one right after it in this transaction.
        hook.arm(address(0), "");
        vm.startPrank(taker);
        market2.fill(order, signature, takerAccount, 0.5e18);
        market2.fill(order, signature, takerAccount, 0.5e18);
        vm.stopPrank();
        assertEq(market2.positionOf(takerAccount, id2), -1e18);
    }

    function _signFor2(IOptionMarket.Order memory order) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(makerKey, market2.orderHash(order));
        return abi.encodePacked(r, s, v);
    }
}
