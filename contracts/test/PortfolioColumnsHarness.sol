// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PortfolioMath} from "../libraries/PortfolioMath.sol";

/// @notice Test-only wrapper exposing `PortfolioMath.columnsToPrice`, so the SDK's `columnsToPrice`
/// can be compared with it on random books and grids.
contract PortfolioColumnsHarness {
    function columnsToPrice(
        int256[] memory balances,
        uint64[] memory volShocksWad,
        uint64[] memory skewShocksWad
    ) external pure returns (uint64[] memory, uint64[] memory) {
        PortfolioMath.columnsToPrice(balances, volShocksWad, skewShocksWad);
        return (volShocksWad, skewShocksWad);
    }
}
