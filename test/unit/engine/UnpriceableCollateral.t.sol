// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Finding 12: dust of a listed asset whose feed is stale used to make an account
/// impossible to value, so it could neither be liquidated nor withdraw. Now only the owner or an
/// operator may deposit non-cash collateral, collateral that cannot be priced counts as zero, and
/// the admin can delist an asset for good.
contract UnpriceableCollateralTest is PledgeFixture {
    MockERC20 internal link;
    MockV3Aggregator internal linkUsd;
    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal bobAccount;
    SeriesId internal call30;

    function setUp() public override {
        super.setUp();
        link = new MockERC20("Chainlink", "LINK", 18);
        linkUsd = new MockV3Aggregator(8, 20e8);
        vm.startPrank(admin);
        vault.listAsset(address(link), 0.2e18, 0.1e18, 1e9 * 1e18);
        oracle.setSpotFeed(address(link), IChainlinkOracle.FeedConfig(address(linkUsd), SPOT_MAX_AGE, 0, 0));
        vm.stopPrank();
        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        bobAccount = _account(bob, 1);
        call30 = _createSeries(ethIndex, 30, 3_200e18, true);
    }

    /// @notice The attack: a stranger plants one wei of LINK in someone else's account, then the
    /// LINK feed goes stale. The deposit is now refused; cash may still be given by anyone, and
    /// the owner's operator may still deposit collateral.
    function test_finding12_strangerCannotPlantNonCashCollateral() public {
        link.mint(alice, 1);
        vm.startPrank(alice);
        link.approve(address(vault), 1);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultUnauthorized.selector, carolAccount, alice));
        vault.deposit(carolAccount, address(link), 1);
        vm.stopPrank();

        _fundAndDeposit(alice, carolAccount, usdc, 1e6);
        assertEq(vault.cashOf(carolAccount), 1e6, "anyone may still give cash");

        vm.prank(carol);
        vault.setOperator(alice, true);
        vm.prank(alice);
        vault.deposit(carolAccount, address(link), 1);
        assertEq(vault.collateralOf(carolAccount, address(link)), 1, "an operator may deposit");
    }

    /// @notice The owner's own shield: it deposits dust LINK into its risky account and the LINK
    /// feed goes stale. The account is still valued (the dust counts as zero) and still withdraws
    /// its free collateral. Once under maintenance, its auction waits for a LINK price (review
    /// R1: unpriced collateral is never sold for nothing) or for LINK's delisting, after which
    /// the dust counts as zero and the auction starts.
    function test_finding12_ownerDustOnStaleFeedStillLiquidatableAndWithdraws() public {
        _fundAndDeposit(carol, carolAccount, usdc, 10_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 1_000_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, engine.mark(call30));
        _fundAndDeposit(carol, carolAccount, link, 1);

        // LINK's feed dies; ETH's stays fresh.
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        _refreshFeeds();
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        oracle.spot(address(link));

        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.HEALTHY));
        vm.prank(carol);
        vault.withdraw(carolAccount, address(usdc), 1_000e6, carol);

        _setPrice(ethUsd, 4_500e8);
        s = engine.accountMargin(carolAccount);
        assertGe(uint8(s.health), uint8(IMarginEngine.Health.LIQUIDATABLE), "not liquidatable");
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        liquidator.startAuction(carolAccount);
        vm.prank(admin);
        vault.delistAsset(address(link));
        liquidator.startAuction(carolAccount);
        assertTrue(liquidator.auctionOf(carolAccount).active, "auction did not start");
    }

    /// @notice Collateral whose price cannot be read counts as zero in both equities and in the
    /// mark value, instead of reverting; it counts again once the feed is back.
    function test_finding12_unpriceableCollateralCountsAsZero() public {
        _fundAndDeposit(carol, carolAccount, usdc, 1_000e6);
        _fundAndDeposit(carol, carolAccount, link, 100e18);
        IMarginEngine.MarginState memory fresh = engine.accountMargin(carolAccount);
        assertEq(fresh.equityIM, 1_000e18 + 1_600e18); // $2,000 of LINK less 20 %
        assertEq(fresh.equityMM, 1_000e18 + 1_800e18);

        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        IMarginEngine.MarginState memory stale = engine.accountMargin(carolAccount);
        assertEq(stale.equityIM, 1_000e18);
        assertEq(stale.equityMM, 1_000e18);
        assertEq(stale.markValue, 1_000e18);

        linkUsd.updateAnswer(20e8);
        assertEq(engine.accountMargin(carolAccount).equityIM, fresh.equityIM);
    }

    /// @notice Delisting (admin, i.e. the timelock): no more deposits, the risk manager cannot
    /// enable it again, the engine values it at zero even with a live feed, and withdrawals work.
    function test_finding12_delistedAssetIsValuedAtZeroAndOnlyWithdrawn() public {
        _fundAndDeposit(carol, carolAccount, usdc, 1_000e6);
        _fundAndDeposit(carol, carolAccount, link, 100e18);

        bytes32 adminRole = vault.DEFAULT_ADMIN_ROLE();
        vm.prank(riskManager);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, riskManager, adminRole)
        );
        vault.delistAsset(address(link));
        vm.prank(admin);
        vm.expectRevert(ICollateralVault.VaultCashNotDelistable.selector);
        vault.delistAsset(address(usdc));

        vm.prank(admin);
        vm.expectEmit(address(vault));
        emit ICollateralVault.AssetDelisted(address(link));
        vault.delistAsset(address(link));
        ICollateralVault.AssetConfig memory config = vault.assetConfig(address(link));
        assertTrue(config.delisted && !config.enabled && config.listed);

        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetDelisted.selector, address(link)));
        vault.delistAsset(address(link));
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetDelisted.selector, address(link)));
        vault.configureAsset(address(link), true, 0.2e18, 0.1e18, 1e27);

        link.mint(carol, 1);
        vm.startPrank(carol);
        link.approve(address(vault), 1);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetDisabled.selector, address(link)));
        vault.deposit(carolAccount, address(link), 1);
        vm.stopPrank();

        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(s.equityIM, 1_000e18, "a delisted asset still counts");
        assertEq(s.markValue, 1_000e18);

        vm.prank(carol);
        vault.withdraw(carolAccount, address(link), 100e18, carol);
        assertEq(link.balanceOf(carol), 100e18 + 1);
    }
}
