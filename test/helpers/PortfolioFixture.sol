// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../contracts/interfaces/IMarginEngine.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {PledgeFixture} from "./PledgeFixture.sol";

/// @notice The whole protocol (`PledgeFixture`) with a PORTFOLIO account to trade in: a trader's
/// `portfolio` account, funded with `_portfolioDeposit()` of USDC and switched to PORTFOLIO
/// margin, and a market maker's account funded with $100M to take the other side of its trades
/// (`_trade(makerKey, makerAccount, portfolio, …)`).
abstract contract PortfolioFixture is PledgeFixture {
    address internal trader;
    uint256 internal makerKey;
    AccountId internal makerAccount;
    AccountId internal portfolio;

    /// @dev The trader's USDC deposit into `portfolio`, in token units. A test overrides it.
    function _portfolioDeposit() internal pure virtual returns (uint256) {
        return 100_000e6;
    }

    function setUp() public virtual override {
        super.setUp();
        address maker;
        (maker, makerKey) = makeAddrAndKey("maker");
        trader = makeAddr("trader");
        makerAccount = _account(maker, 1);
        portfolio = _account(trader, 1);
        _fundAndDeposit(maker, makerAccount, usdc, 100_000_000e6);
        _fundAndDeposit(trader, portfolio, usdc, _portfolioDeposit());
        vm.prank(trader);
        engine.setMarginMode(portfolio, IMarginEngine.MarginMode.PORTFOLIO);
    }
}
