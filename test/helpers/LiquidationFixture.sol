// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PledgeFixture} from "./PledgeFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice The whole protocol (`PledgeFixture`) with the liquidation tests' cast: Carol, who
/// sells and is liquidated (unfunded: each test gives her its own cash); Bob, who buys from her;
/// Dave, a bidder; Bob and Dave funded with 10M USDC each; and a 30-day ETH call at 3,200
/// (`call30`) to trade.
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
        _fundAndDeposit(bob, bobAccount, usdc, 10_000_000e6);
        _fundAndDeposit(dave, daveAccount, usdc, 10_000_000e6);
    }
}
