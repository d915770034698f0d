// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PortfolioFixture} from "../../helpers/PortfolioFixture.sol";

/// @notice Review rv21 K1 (docs/security.md K1), fixed: the put-wing skew moves shorts only. Before,
/// a 1-year 600-strike put (spot 3,000, ln(S/K) ≈ 1.61, marked at 80 %: about $8) was repriced at
/// 120 % + 161 % = 281 % in the skewed crash column and gained ~49× its mark, so on a covered-call
/// book (cover floor 0: the held WETH covers the calls) ten of them ($82) halved the requirement
/// ($5,997 → $2,613). Now a long keeps the parallel shift alone and the skew cannot lower it.
contract PortfolioSkewSidesTest is PortfolioFixture {
    /// @dev Sets the ETH grid's skew shocks (default grid otherwise), as the risk manager.
    function _setSkews(uint64 crash, uint64 flat, uint64 calm) internal {
        IMarginEngine.PortfolioParams memory p = engine.defaultPortfolioParams();
        (p.skewShocksWad[0], p.skewShocksWad[1], p.skewShocksWad[2]) = (crash, flat, calm);
        vm.prank(riskManager);
        engine.setPortfolioParams(ethIndex, p);
    }

    function test_rv21_K1_fixed_wingLongsGainNothingFromTheSkew() public {
        _fundAndDeposit(trader, portfolio, weth, 10e18);
        // A synthetic short put: 10 WETH held, 10 one-year ATM calls sold.
        SeriesId calls = _createSeries(ethIndex, 364, 3_000e18, true);
        _trade(makerKey, makerAccount, portfolio, calls, 10e18, engine.mark(calls));
        _setSkews(1e18, 0, 0);
        uint256 before = engine.accountMargin(portfolio).requirementIM;

        SeriesId wing = _createSeries(ethIndex, 364, 600e18, false);
        uint256 premium = (engine.mark(wing) * 10e18) / 1e18;
        _trade(makerKey, makerAccount, portfolio, wing, -10e18, engine.mark(wing));
        uint256 withSkew = engine.accountMargin(portfolio).requirementIM;
        _setSkews(0, 0, 0);
        uint256 noSkew = engine.accountMargin(portfolio).requirementIM;

        assertLt(premium, 100e18, "the wing costs under $100");
        // No short sits in the put wing (the calls are at the money): the skew changes nothing.
        assertEq(withSkew, noSkew, "a long in the put wing gains nothing from the skew");
        assertGt(withSkew * 100, before * 85, "the $82 of wing longs take under 15 % off the requirement");
    }
}
