// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PledgeFixture} from "./PledgeFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice The whole protocol (`PledgeFixture`) with the liquidation tests' cast: Carol, who
/// sells and is liquidated (unfunded: each test gives her its own cash); Bob, who buys from her;
/// Dave, a bidder; Bob and Dave funded (10M USDC each unless `_castCash` says otherwise); and a
/// 30-day ETH call at 3,200 (`call30`) to trade. With the steps most liquidation tests take:
/// push Carol under water, then start her auction and let it run unbid.
abstract contract LiquidationFixture is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    uint256 internal bobKey;
    address internal dave = makeAddr("dave");
    AccountId internal carolAccount;
    AccountId internal bobAccount;
    AccountId internal daveAccount;
    SeriesId internal call30;

    function setUp() public virtual override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        // The same address as `bob`, now with the key that signs his orders.
        (bob, bobKey) = makeAddrAndKey("bob");
        carolAccount = _account(carol, 1);
        bobAccount = _account(bob, 1);
        daveAccount = _account(dave, 1);
        call30 = _createSeries(ethIndex, 30, 3_200e18, true);
        (uint256 bobCash, uint256 daveCash) = _castCash();
        _fundAndDeposit(bob, bobAccount, usdc, bobCash);
        _fundAndDeposit(dave, daveAccount, usdc, daveCash);
    }

    /// @dev The USDC (6 decimals) Bob and Dave are funded with.
    function _castCash() internal pure virtual returns (uint256 bobCash, uint256 daveCash) {
        return (10_000_000e6, 10_000_000e6);
    }

    /// @dev ETH up in 50-dollar steps until Carol's mark value is below zero.
    function _pushInsolvent() internal {
        while (engine.accountMargin(carolAccount).markValue >= 0) _bumpEth(50e8);
    }

    /// @dev ETH's feed moved by `step` (8 decimals).
    function _bumpEth(int256 step) internal {
        _setPrice(ethUsd, ethUsd.latestAnswer() + step);
    }

    /// @dev Starts Carol's auction and lets it run its duration unbid (feeds kept fresh).
    function _startAndWait() internal {
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
    }
}
