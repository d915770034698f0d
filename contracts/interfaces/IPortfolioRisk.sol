// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "./IMarginEngine.sol";

/// @title IPortfolioRisk
/// @notice The portfolio requirement of one underlying (`docs/portfolio-margin.md`), as a pure
/// function of the book: the margin engine gathers positions, marks and prices and asks this
/// contract for the number. It lives in its own deployed contract so the engine keeps room under
/// EIP-170 (the first step of the manager split).
interface IPortfolioRisk {
    /// @notice One underlying's book: its spot and implied vol, collateral held in the underlying
    /// itself (native units, decimals), and the positions on it that a price can still move.
    /// @param volWad Only read when a live series is in the book.
    struct Book {
        uint256 spotWad;
        uint256 volWad;
        uint256 heldTokens;
        uint8 heldDecimals;
        uint256[] seriesIds;
        int256[] balances;
        uint256[] marks;
    }

    /// @notice The initial portfolio requirement of `book`, rounded up:
    /// `max(worst grid loss, tailWeight × worst tail loss, cover floor) + contingency`, with the
    /// cover floor charging each short the spread width to the long that really covers it, or its
    /// standard requirement under `standard` (initial parameters) if none does.
    /// @param timestamp The time the valuation is at (the block's).
    function requirementUp(
        Book calldata book,
        IMarginEngine.PortfolioParams calldata params,
        IMarginEngine.RiskParams calldata standard,
        uint256 timestamp
    ) external pure returns (uint256);
}
