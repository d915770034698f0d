// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PortfolioMath} from "../libraries/PortfolioMath.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @notice Test-only wrapper exposing `PortfolioMath.coverFloorUp`, so the SDK's `coverFloorUp`
/// (the full greedy order, written independently) can be compared with it on random books.
contract PortfolioCoverHarness {
    function coverFloorUp(
        SeriesId[] calldata seriesIds,
        int256[] calldata balances,
        uint256[] calldata perContractUp,
        uint256 heldWad
    ) external pure returns (uint256) {
        return PortfolioMath.coverFloorUp(seriesIds, balances, perContractUp, heldWad);
    }
}
