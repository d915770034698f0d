// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {MarketLimits} from "../../../contracts/market/MarketLimits.sol";
import {OptionMarket} from "../../../contracts/market/OptionMarket.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice `MarketLimits` runs the market's open-interest cap setter, `retireExpired` and `setFees`
/// by DELEGATECALL, for room: it must act exactly as the market (its storage, its roles, its events)
/// and never as itself.
contract MarketLimitsTest is PledgeFixture {
    /// @dev `MarketLimitsState`'s variables sit at slots 0–3 of the market, as in `MarketLimits`.
    function test_sharedStateSitsAtTheSameSlots() public {
        vm.prank(riskManager);
        market.setOpenInterestCaps(ethIndex, 2e18, 3e18);
        // slot 1: mapping(uint16 => OpenInterestCaps), packed (seriesCap low, underlyingCap high)
        bytes32 caps = vm.load(address(market), keccak256(abi.encode(uint256(ethIndex), uint256(1))));
        assertEq(uint256(caps), (uint256(3e18) << 128) | 2e18, "caps at slot 1");

        vm.prank(riskManager);
        market.setFees(0.004e18, 0.009e18);
        // slot 3: the two fees, packed (maker low, taker high)
        assertEq(uint256(vm.load(address(market), bytes32(uint256(3)))), (uint256(0.009e18) << 64) | 0.004e18);
        assertEq(market.makerFeeWad(), 0.004e18);
        assertEq(market.takerFeeWad(), 0.009e18);

        // slot 0 (underlying sum) and slot 2 (retired), through a series that expires with open
        // interest (one with none is skipped)
        SeriesId s = _createSeries(ethIndex, 7, 3_000e18, true);
        (address carol, uint256 carolKey) = makeAddrAndKey("carol");
        AccountId carolAccount = _account(carol, 1);
        AccountId bobAccount = _account(bob, 1);
        _fundAndDeposit(carol, carolAccount, usdc, 100_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 100_000e6);
        _trade(carolKey, carolAccount, bobAccount, s, -1e18, 10e18);
        vm.warp(_expiry(7));
        SeriesId[] memory ids = new SeriesId[](1);
        ids[0] = s;
        market.retireExpired(ids);
        assertTrue(market.seriesRetired(s));
        assertEq(
            uint256(vm.load(address(market), keccak256(abi.encode(SeriesId.unwrap(s), uint256(2))))),
            1,
            "retired at slot 2"
        );
        vm.store(address(market), keccak256(abi.encode(uint256(ethIndex), uint256(0))), bytes32(uint256(7)));
        assertEq(market.underlyingOpenInterest(ethIndex), 7, "underlying sum at slot 0");
    }

    /// @dev Called directly, the extension would act on its own empty storage: it refuses.
    function test_calledDirectly_refuses() public {
        MarketLimits limits = new MarketLimits(IMarginEngine(address(engine)));
        vm.startPrank(riskManager);
        vm.expectRevert(MarketLimits.MarketLimitsNotDelegated.selector);
        limits.setOpenInterestCaps(ethIndex, 0, 0);
        vm.expectRevert(MarketLimits.MarketLimitsNotDelegated.selector);
        limits.setFees(0, 0);
        vm.expectRevert(MarketLimits.MarketLimitsNotDelegated.selector);
        limits.retireExpired(new SeriesId[](0));
        vm.stopPrank();
    }

    /// @dev The role checks are the market's own (its AccessControl), with the market's error.
    function test_rolesAreTheMarkets() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                alice,
                Roles.RISK_MANAGER_ROLE
            )
        );
        vm.prank(alice);
        market.setFees(0, 0);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFees.selector, 0.005e18 + 1, 0));
        vm.prank(riskManager);
        market.setFees(0.005e18 + 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFees.selector, 0, 0.01e18 + 1));
        vm.prank(riskManager);
        market.setFees(0, 0.01e18 + 1);
        // The market's bounds and the extension's are the same numbers.
        assertEq(OptionMarket(address(market)).MAX_MAKER_FEE_WAD(), 0.005e18);
        assertEq(OptionMarket(address(market)).MAX_TAKER_FEE_WAD(), 0.01e18);
    }
}
