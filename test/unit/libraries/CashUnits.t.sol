// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {CashUnits} from "../../../contracts/libraries/CashUnits.sol";
import {PolicyHarness} from "../../../contracts/test/PolicyHarness.sol";

contract CashUnitsTest is Test {
    PolicyHarness internal harness = new PolicyHarness();

    function test_toWadDown_roundsTowardMinusInfinity() public pure {
        assertEq(CashUnits.toWadDown(-1, 6), -1e12);
        assertEq(CashUnits.toWadDown(5, 18), 5);
        // Above 18 decimals a debt rounds away from zero, a credit toward it.
        assertEq(CashUnits.toWadDown(-1, 24), -1);
        assertEq(CashUnits.toWadDown(1, 24), 0);
        assertEq(CashUnits.toWadDown(-2e6, 24), -2);
    }

    function test_fromWad_roundsAsNamed() public pure {
        assertEq(CashUnits.fromWadDown(1e12 + 1, 6), 1);
        assertEq(CashUnits.fromWadUp(1e12 + 1, 6), 2);
        assertEq(CashUnits.fromWadUp(1e12, 6), 1);
        assertEq(CashUnits.fromWadDown(3, 20), 300);
        assertEq(CashUnits.fromWadUp(3, 20), 300);
    }

    function test_mulWadToCash_roundsOnce() public pure {
        // 1.5 contracts × 0.000001333 USD = 0.0000019995 USD: 1 or 2 micro-USD.
        assertEq(CashUnits.mulWadToCashDown(1.5e18, 1.333e12, 6), 1);
        assertEq(CashUnits.mulWadToCashUp(1.5e18, 1.333e12, 6), 2);
        assertEq(CashUnits.mulWadToCashDown(1e18, 1, 20), 100);
    }

    function test_unitWadUp() public pure {
        assertEq(CashUnits.unitWadUp(6), 1e12);
        assertEq(CashUnits.unitWadUp(18), 1);
        assertEq(CashUnits.unitWadUp(30), 1);
    }

    function test_decimalsAboveTheVaultLimitRevert() public {
        assertEq(CashUnits.checkDecimals(36), 36);
        vm.expectRevert(abi.encodeWithSelector(CashUnits.CashUnitsUnsupportedDecimals.selector, uint8(37)));
        harness.toWadDown(1, 37);
        vm.expectRevert(abi.encodeWithSelector(CashUnits.CashUnitsUnsupportedDecimals.selector, uint8(255)));
        harness.fromWadUp(1, 255);
    }

    /// @dev Down never exceeds up, and they differ by at most one cash unit.
    function testFuzz_downAndUpBracket(uint128 amountWad, uint8 decimals) public pure {
        decimals = uint8(bound(decimals, 0, 36));
        uint256 down = CashUnits.fromWadDown(amountWad, decimals);
        uint256 up = CashUnits.fromWadUp(amountWad, decimals);
        uint256 multiplier = decimals > 18 ? 10 ** (decimals - 18) : 1;
        assertLe(down, up);
        assertLe(up - down, multiplier);
    }

    /// @dev Cash → WAD → cash round trips exactly at up to 18 decimals.
    function testFuzz_roundTrip(int128 cash, uint8 decimals) public pure {
        decimals = uint8(bound(decimals, 0, 18));
        int256 wad = CashUnits.toWadDown(cash, decimals);
        uint256 magnitude = wad >= 0 ? uint256(wad) : uint256(-wad);
        uint256 back = CashUnits.fromWadDown(magnitude, decimals);
        assertEq(back, cash >= 0 ? uint256(int256(cash)) : uint256(-int256(cash)));
    }
}
