// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBackstop} from "../../contracts/interfaces/IBackstop.sol";
import {LiquidationFixture} from "./LiquidationFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";

/// @notice The backstop tests' book (`LiquidationFixture`'s cast): Carol (8,000 USDC) has sold
/// 10 calls at 100, 4 to Bob (1M USDC), 3 to Dave (50,000) and 3 to Erin (10,000), so each holder
/// stands at a different leverage for auto-deleveraging; the insurance fund (`fund`) holds 2M USDC.
abstract contract BackstopFixture is LiquidationFixture {
    address internal erin = makeAddr("erin");
    AccountId internal erinAccount;
    AccountId internal fund;

    function setUp() public virtual override {
        super.setUp();
        erinAccount = _account(erin, 1);
        fund = insurance.account();
        _fundAndDeposit(erin, erinAccount, usdc, 10_000e6);
        _fundAndDeposit(alice, fund, usdc, 2_000_000e6);
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -4e18, 100e18);
        _trade(carolKey, carolAccount, daveAccount, call30, -3e18, 100e18);
        _trade(carolKey, carolAccount, erinAccount, call30, -3e18, 100e18);
    }

    function _castCash() internal pure virtual override returns (uint256 bobCash, uint256 daveCash) {
        return (1_000_000e6, 50_000e6);
    }

    function _setBudget(uint256 perTakeover, uint256 perWindow) internal {
        vm.prank(riskManager);
        backstop.setTakeoverBudget(IBackstop.TakeoverBudget(uint128(perTakeover), uint128(perWindow)));
    }
}
