// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {Test} from "forge-std/Test.sol";
import {console} from "forge-std/console.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {PortfolioMath} from "../../../contracts/libraries/PortfolioMath.sol";
contract TmpGas is Test {
    function _raw(PortfolioMath.Grid memory grid, uint256 k, uint256 t, uint256 v, uint64[] memory vs) internal view {
        int256 m = BlackScholes.lnMoneyness(grid.spotWad, k);
        uint256 g = gasleft();
        uint256 acc;
        for (uint256 j; j < 3; ++j) {
            uint256 vt2 = BlackScholes.volTerm(v * vs[j] / 1e18, t);
            for (uint256 i; i < 9; ++i) {
                acc += BlackScholes.callPriceAt(grid.shockedSpots[i], k, m + grid.lnShifts[i], vt2);
            }
        }
        console.log("  27 raw callPriceAt", g - gasleft());
    }
    function _case(uint256 s, uint256 k, uint256 t, uint256 v) internal view {
        console.log("case strike", k / 1e18, t / 1 days);
        int64[] memory ss = new int64[](9);
        for (uint256 i; i < 9; ++i) ss[i] = int64(int256(i) * 0.045e18 - 0.18e18);
        uint64[] memory vs = new uint64[](3); vs[0]=1.5e18; vs[1]=1e18; vs[2]=0.7e18;
        PortfolioMath.Grid memory grid = PortfolioMath.newGrid(s, v, ss, vs);
        uint256 c = BlackScholes.callPrice(s, k, t, v);
        uint256 id = (uint256(1) << 169) | (uint256(block.timestamp + t) << 129) | (uint256(1) << 128) | k;
        uint256 g = gasleft();
        PortfolioMath.addPosition(grid, id, -1e18, c, block.timestamp);
        console.log("  addPosition", g - gasleft());
        _raw(grid, k, t, v, vs);
    }
    function test_gas() public view {
        _case(3000e18, 3300e18, 30 days, 0.8e18);
        _case(3000e18, 1500e18, 7 days, 0.8e18);
        _case(3000e18, 3000e18, 7 days, 0.8e18);
        _case(60000e18, 40500e18, 14 days, 0.6e18);
    }
}
