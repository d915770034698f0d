// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {OptionMarket} from "../../../contracts/market/OptionMarket.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice The market's packed position book (docs/performance.md, "`market.fill`"): a position's
/// balance and list place share one word, an account's nonce and open count another, a series'
/// existence and open interest a third. Checked against a plain model (an array with swap-and-pop,
/// as the unpacked book kept) over random sequences of fills, at the balance extremes, and for the
/// getters that read the packed words.
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
        assertEq(market.accountNonce(makerAccount), 6);
        _checkAgainstModel();
    }

    /// @dev The largest fills either way keep their sign and size in the packed word, with the real
    /// engine's IM check: the maker posts 9e11 USDC and sells a 3,000 call with ETH at 1e-8 USD, so
    /// a short of 2 × MAX_AMOUNT needs little margin.
    function test_extremeBalancesRoundTrip() public {
        _fundAndDeposit(maker, makerAccount, usdc, 900_000_000_000e6);
        SeriesId id = market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3000e18));
        _setPrice(ethUsd, 1);
        uint256 size = market.MAX_AMOUNT();
        IOptionMarket.Order memory order = _order(makerAccount, id, -int256(size), 0);
        _fill(order, size);
        assertEq(market.positionOf(makerAccount, id), -int256(size));
        assertEq(market.positionOf(takerAccount, id), int256(size));
        assertEq(market.openInterest(id), size);
        order.nonce = 1;
        _fill(order, size);
        assertEq(market.positionOf(makerAccount, id), -2 * int256(size));
        assertEq(market.openInterest(id), 2 * size);
        (, int256[] memory balances) = market.positionsOf(makerAccount);
        assertEq(balances[0], -2 * int256(size));
    }

    /// @dev A place plus one lives in a position word's top 8 bits: the engine's largest position
    /// limit (the market's list size) must fit.
    function test_positionLimitFitsThePlaceBits() public view {
        assertLe(engine.MAX_CROSS_POSITIONS(), 255);
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

    /// @dev The fee account check reads the open count from the account word.
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

    /// @dev The maker's signed order of `size` (its side), filled whole by the taker.
    function _step(SeriesId id, int256 size) internal {
        IOptionMarket.Order memory order = _order(makerAccount, id, size, 1e18);
        order.nonce = nonce++;
        uint256 nonceBefore = market.accountNonce(makerAccount);
        _fill(order, uint256(size > 0 ? size : -size));
        assertEq(market.accountNonce(makerAccount), nonceBefore + 1, "one nonce per change");
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
        for (uint256 s; s < SERIES; ++s) {
            int256 b = modelBalance[ids[s]];
            assertEq(market.positionOf(makerAccount, ids[s]), b);
            assertEq(market.positionOf(takerAccount, ids[s]), -b);
            assertEq(market.openInterest(ids[s]), uint256(b < 0 ? -b : b), "open interest");
        }
    }
}

/// @dev An account hook that, once armed, calls back into the market from inside a fill (the
/// market's one call out to code it does not control once a hook is set) and bubbles the revert.
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
        (bool ok, bytes memory reason) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
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
