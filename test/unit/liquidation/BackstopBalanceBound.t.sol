// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {BackstopFixture} from "../../helpers/BackstopFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @title The market's per-position bound against the backstop (review rv26)
/// @notice `OptionMarket.MAX_BALANCE` (2^90 − 1 WAD) bounds one account's position in one series.
/// It was reachable for almost nothing with a put struck at 1 wei (P2-2; `createSeries` now refuses
/// strikes below a tenth of spot, so the set-up lists that put around the band), and a fund position at it
/// refuses a takeover with the market's error, which `deleverage` bubbles: it is not a refusal for
/// budget, so it never opens ADL on other holders (P2-1; docs/backstop.md, "The fund's book after a
/// takeover").
contract BackstopBalanceBoundTest is BackstopFixture {
    uint256 internal constant WAD = 1e18;

    address internal zed;
    uint256 internal zedKey;
    address internal sac = makeAddr("sac");
    AccountId internal sacAccount;
    AccountId internal zedAccount;
    AccountId internal zed2Account;
    SeriesId internal put1;

    function setUp() public override {
        super.setUp();
        (zed, zedKey) = makeAddrAndKey("zed");
        sacAccount = _account(sac, 1);
        zedAccount = _account(zed, 1);
        zed2Account = _account(zed, 2);
        put1 = _createSeriesBelowBand(ethIndex, 30, 1, false); // refused since the strike band
        _fundAndDeposit(zed, zedAccount, usdc, 10e6);
        _fundAndDeposit(zed, zed2Account, usdc, 10e6);
        _fundAndDeposit(sac, sacAccount, usdc, 10e6);
    }

    /// @dev Before the strike band: a 1-wei-strike put's standard floor is b·K, so with ETH at 3,000
    /// and 10 USDC an account could short the whole bound (the series is listed around the band
    /// here; `createSeries` refuses it now: docs/security.md S1).
    function test_boundWasReachableForAlmostNothingBeforeTheBand() public {
        uint256 most = market.MAX_BALANCE();
        _trade(zedKey, zedAccount, sacAccount, put1, -int256(most), 0);
        assertEq(market.positionOf(zedAccount, put1), -int256(most));
        IMarginEngine.MarginState memory s = engine.accountMargin(zedAccount);
        // Under a millionth of a dollar of initial margin, and the account is healthy.
        assertLt(s.requirementIM, 1e12);
        assertGe(s.equityIM, int256(s.requirementIM));
    }

    /// @dev The fund long MAX_BALANCE − 1 of put1 (a takeover of `sac`, here its move done as the
    /// Backstop does it); carol long 2 of put1 and insolvent: the takeover reverts
    /// MarketBalanceTooLarge, and deleverage bubbles it (not a budget refusal).
    function test_fundAtTheBoundRefusesTakeoverAndAdlWithTheMarketsError() public {
        uint256 most = market.MAX_BALANCE();
        _trade(zedKey, zedAccount, sacAccount, put1, -int256(most - 1), 0);
        vm.prank(address(backstop));
        market.moduleSlicePositions(sacAccount, fund, WAD);
        assertEq(market.positionOf(fund, put1), int256(most - 1));
        _trade(zedKey, zed2Account, carolAccount, put1, -2, 0);

        _pushInsolvent();
        _startAndWait();

        bytes memory err = abi.encodeWithSelector(
            IOptionMarket.MarketBalanceTooLarge.selector,
            fund,
            put1,
            int256(most) + 1
        );
        vm.expectRevert(err);
        backstop.takeover(carolAccount);
        AccountId[] memory holders = new AccountId[](3);
        (holders[0], holders[1], holders[2]) = (bobAccount, daveAccount, erinAccount);
        // The simulated takeover refuses first, with the market's error, not a budget refusal:
        // deleveraging never opens on the holders.
        vm.expectRevert(err);
        backstop.deleverage(carolAccount, call30, holders);
        // Bidders can still take the account.
        assertTrue(liquidator.auctionOf(carolAccount).active);
    }
}
