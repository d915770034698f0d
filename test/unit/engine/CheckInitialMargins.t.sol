// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PortfolioFixture} from "../../helpers/PortfolioFixture.sol";

/// @notice `engine.checkInitialMargins(first, second)` (issue 19: both sides of a fill checked at
/// one set of prices, read once) is `checkInitialMargin(first)` then `checkInitialMargin(second)`:
/// the same passes and the same reverts, byte for byte, in that order, whatever the modes, the
/// prices and the feeds' state. And the batch view `accountsMargin`, which shares its price cache
/// the same way, is each account's `accountMargin`.
contract CheckInitialMarginsTest is PortfolioFixture {
    address internal carol;
    uint256 internal carolKey;
    AccountId internal thin;
    AccountId internal hedged;
    SeriesId internal ethCall;
    SeriesId internal btcPut;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        thin = _account(carol, 1);
        hedged = _account(carol, 2);
        _fundAndDeposit(carol, thin, usdc, 2_000e6);
        _fundAndDeposit(carol, hedged, usdc, 5_000e6);
        _fundAndDeposit(carol, hedged, weth, 1e18);
        ethCall = _createSeries(ethIndex, 30, 3_200e18, true);
        btcPut = _createSeries(btcIndex, 60, 55_000e18, false);
        // Shorts in every account, near their IM: a price move sends some of them below it.
        _trade(makerKey, makerAccount, thin, ethCall, 1e18, engine.mark(ethCall));
        _trade(makerKey, makerAccount, hedged, ethCall, 1e18, engine.mark(ethCall));
        _trade(makerKey, makerAccount, portfolio, btcPut, 10e18, engine.mark(btcPut));
        _trade(makerKey, makerAccount, portfolio, ethCall, 20e18, engine.mark(ethCall));
    }

    /// @notice An opening fill checks both sides in one engine call, not two.
    function test_anOpeningFillChecksBothSidesInOneCall() public {
        vm.expectCall(address(engine), abi.encodeWithSelector(engine.checkInitialMargins.selector), 1);
        vm.expectCall(address(engine), abi.encodeWithSelector(engine.checkInitialMargin.selector), 0);
        _trade(makerKey, makerAccount, thin, btcPut, 0.01e18, engine.mark(btcPut));
    }

    /// @notice Random pairs of the four accounts (a pair may repeat one), after a random move of
    /// either spot (and, one seed in four, a stale ETH feed): the pair's check reverts exactly as
    /// the first account's single check, else as the second's, else passes.
    function testFuzz_isTheTwoSingleChecksInOrder(uint256 seed) public {
        AccountId[4] memory accounts = [thin, hedged, portfolio, makerAccount];
        AccountId first = accounts[seed % 4];
        AccountId second = accounts[(seed >> 8) % 4];
        _movePrices(seed >> 16);

        bytes memory expected = _revertOf(abi.encodeCall(IMarginEngine.checkInitialMargin, (first)));
        if (expected.length == 0) expected = _revertOf(abi.encodeCall(IMarginEngine.checkInitialMargin, (second)));
        bytes memory actual = _revertOf(abi.encodeCall(IMarginEngine.checkInitialMargins, (first, second)));
        assertEq(actual, expected, "the pair's verdict is the two single checks' in order");
    }

    /// @notice Random lists of the four accounts (repeats allowed) at random spots: the batch view
    /// is every single view, field by field; with a stale feed both revert alike.
    function testFuzz_batchViewIsTheSingleViews(uint256 seed) public {
        AccountId[4] memory pool = [thin, hedged, portfolio, makerAccount];
        AccountId[] memory accounts = new AccountId[](1 + (seed % 6));
        for (uint256 i; i < accounts.length; ++i) accounts[i] = pool[(seed >> (8 + 2 * i)) % 4];
        _movePrices(seed >> 32);

        bytes memory batch = _revertOf(abi.encodeCall(IMarginEngine.accountsMargin, (accounts)));
        bytes memory firstFailure;
        for (uint256 i; i < accounts.length && firstFailure.length == 0; ++i) {
            firstFailure = _revertOf(abi.encodeCall(IMarginEngine.accountMargin, (accounts[i])));
        }
        assertEq(batch, firstFailure, "the batch reverts as its first failing account");
        if (batch.length != 0) return;
        IMarginEngine.MarginState[] memory states = engine.accountsMargin(accounts);
        for (uint256 i; i < accounts.length; ++i) {
            assertEq(abi.encode(states[i]), abi.encode(engine.accountMargin(accounts[i])), "a batch state");
        }
    }

    /// @dev ETH to 2,400–3,800 and BTC to 45,000–65,000 USD; one seed in four, two hours on with
    /// only the BTC feeds refreshed, so the ETH feeds are stale.
    function _movePrices(uint256 seed) internal {
        _setPrice(ethUsd, int256(2_400e8 + (seed % 1_400e8)));
        _setPrice(btcUsd, int256(45_000e8 + ((seed >> 48) % 20_000e8)));
        if ((seed >> 96) % 4 == 0) {
            vm.warp(block.timestamp + 2 hours);
            _setPrice(btcUsd, btcUsd.latestAnswer());
            _setPrice(btcVol, btcVol.latestAnswer());
        }
    }

    /// @dev The revert data of a call to the engine, empty when it passes; a pass is marked apart
    /// from an empty revert, which no check gives.
    function _revertOf(bytes memory data) internal view returns (bytes memory) {
        (bool ok, bytes memory reason) = address(engine).staticcall(data);
        if (ok) return "";
        assertGt(reason.length, 0, "a check reverted without data");
        return reason;
    }
}
