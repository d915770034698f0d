// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice Issue 12 review, P4: `setMarginMode` checked only the position lock, so the owner or
/// any operator it approved could switch a healthy account with a debt straight into liquidation.
/// A switch now needs initial margin in the new mode whenever the account owes cash.
contract MarginModeSwitchTest is PledgeFixture {
    uint256 internal constant WETH_HELD = 10e18;
    uint256 internal constant DEBT = 24_000e6;

    address internal lender = makeAddr("lender");
    address internal bot = makeAddr("bot");
    AccountId internal account;
    AccountId internal lenderAccount;

    function setUp() public virtual override {
        super.setUp();
        account = _account(alice, 0);
        lenderAccount = _account(lender, 0);
        _fundAndDeposit(alice, account, weth, WETH_HELD);
        _fundAndDeposit(lender, lenderAccount, usdc, DEBT);
        vm.prank(alice);
        vault.setOperator(bot, true);
    }

    /// @dev A collateral-only account with a cash debt (in the protocol: a premium or a payoff
    /// whose position has since closed; here a module moves it directly).
    function _borrow() internal {
        vm.prank(module);
        vault.moveCash(account, lenderAccount, DEBT);
    }

    /// The attack: healthy in CROSS (10 WETH at 2,700 against 24,000 USDC), liquidatable as a
    /// portfolio. The switch is refused with the new mode's initial-margin shortfall.
    function test_switchIntoLiquidation_refused() public {
        _borrow();
        _setPrice(ethUsd, 2_700e8);
        assertEq(uint8(engine.accountMargin(account).health), uint8(IMarginEngine.Health.HEALTHY));
        IMarginEngine.MarginState memory asPortfolio = engine.portfolioManager().accountMargin(account);
        assertLt(asPortfolio.equityIM, int256(asPortfolio.requirementIM));

        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginEngine.EngineBelowInitialMargin.selector,
                account,
                asPortfolio.equityIM,
                asPortfolio.requirementIM
            )
        );
        vm.prank(bot);
        engine.setMarginMode(account, IMarginEngine.MarginMode.PORTFOLIO);
        assertEq(uint8(engine.marginModeOf(account)), uint8(IMarginEngine.MarginMode.CROSS));
    }

    /// A debt with enough margin in the new mode may switch.
    function test_switchWithDebt_meetingNewInitialMargin() public {
        _borrow();
        _setPrice(ethUsd, 4_000e8);
        vm.prank(alice);
        engine.setMarginMode(account, IMarginEngine.MarginMode.PORTFOLIO);
        assertEq(uint8(engine.marginModeOf(account)), uint8(IMarginEngine.MarginMode.PORTFOLIO));
        assertEq(uint8(engine.accountMargin(account).health), uint8(IMarginEngine.Health.HEALTHY));
    }

    /// Fail closed: without a price, an account that owes cash cannot change how it is valued
    /// (its unpriceable WETH counts as zero, so its debt alone is below initial margin).
    function test_switchWithDebt_withoutPrice_refused() public {
        _borrow();
        vm.warp(block.timestamp + 2 days);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginEngine.EngineBelowInitialMargin.selector, account, -24_000e18, 0)
        );
        vm.prank(alice);
        engine.setMarginMode(account, IMarginEngine.MarginMode.PORTFOLIO);
        assertEq(uint8(engine.marginModeOf(account)), uint8(IMarginEngine.MarginMode.CROSS));
    }

    /// Without a debt there is nothing to check: the switch needs no price.
    function test_switchWithoutDebt_needsNoPrice() public {
        vm.warp(block.timestamp + 2 days);
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        oracle.spot(address(weth));
        vm.prank(alice);
        engine.setMarginMode(account, IMarginEngine.MarginMode.PORTFOLIO);
        assertEq(uint8(engine.marginModeOf(account)), uint8(IMarginEngine.MarginMode.PORTFOLIO));
    }
}
