// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";
import {OptionMarket} from "../../contracts/market/OptionMarket.sol";
import {SeriesLib} from "../../contracts/libraries/SeriesLib.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {VaultFixture} from "./VaultFixture.sol";

/// @notice An OptionMarket wired to the VaultFixture's vault and to whichever margin
/// engine the test passes to `_setUpMarket`, so the same tests run against a test
/// double today and the real MarginEngine later. WETH is underlying 1; one call and one
/// put expire a week out at 08:00 UTC; maker and taker accounts hold ample USDC.
abstract contract MarketFixture is VaultFixture {
    /// @dev A realistic "now", so expiry arithmetic has room on both sides.
    uint256 internal constant START = 1_750_000_000;
    uint256 internal constant FUNDING = 1_000_000e6;

    OptionMarket internal market;
    IMarginEngine internal engine;
    uint16 internal ethIndex;
    uint256 internal expiry;
    uint256 internal callId;
    uint256 internal putId;

    address internal maker;
    uint256 internal makerKey;
    address internal taker;
    uint256 internal takerKey;
    address internal feeOwner = makeAddr("feeOwner");
    uint256 internal makerAccount;
    uint256 internal takerAccount;
    uint256 internal feeAccountId;

    function _setUpMarket(IMarginEngine engine_) internal {
        vm.warp(START);
        engine = engine_;
        market = new OptionMarket(admin, vault, engine);
        vm.startPrank(admin);
        vault.grantRole(Roles.MODULE_ROLE, address(market));
        market.grantRole(Roles.RISK_MANAGER_ROLE, riskManager);
        market.grantRole(Roles.GUARDIAN_ROLE, guardian);
        engine.setMarket(address(market));
        ethIndex = engine.listUnderlying(address(weth), IMarginEngine.RiskParams(0.15e18, 0.1e18, 0.08e18, 0.05e18));
        vm.stopPrank();

        expiry = _gridExpiry(7);
        callId = market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 3000e18));
        putId = market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), false, 2500e18));

        (maker, makerKey) = makeAddrAndKey("maker");
        (taker, takerKey) = makeAddrAndKey("taker");
        makerAccount = _account(maker, 0);
        takerAccount = _account(taker, 0);
        feeAccountId = _account(feeOwner, 0);
        _fundAndDeposit(maker, makerAccount, usdc, FUNDING);
        _fundAndDeposit(taker, takerAccount, usdc, FUNDING);
    }

    /// @dev 08:00 UTC, `daysAhead` days after today.
    function _gridExpiry(uint256 daysAhead) internal view returns (uint256) {
        return (block.timestamp / 1 days + daysAhead) * 1 days + 8 hours;
    }

    function _order(
        uint256 account,
        uint256 seriesId,
        int256 size,
        uint256 priceWad
    ) internal view returns (IOptionMarket.Order memory) {
        return IOptionMarket.Order(account, seriesId, size, priceWad, 0, 0, block.timestamp + 1 hours);
    }

    function _sign(uint256 key, IOptionMarket.Order memory order) internal view returns (bytes memory) {
        return _signDigest(key, market.orderHash(order));
    }

    function _signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev `taker` fills `fillSize` of an order signed by `maker`'s key.
    function _fill(IOptionMarket.Order memory order, uint256 fillSize) internal returns (uint256 premium) {
        bytes memory signature = _sign(makerKey, order);
        vm.prank(taker);
        premium = market.fill(order, signature, takerAccount, fillSize);
    }

    /// @dev Like `_fill`, expecting the fill itself to revert with `revertData`.
    function _fillExpectRevert(IOptionMarket.Order memory order, uint256 fillSize, bytes memory revertData) internal {
        bytes memory signature = _sign(makerKey, order);
        vm.prank(taker);
        vm.expectRevert(revertData);
        market.fill(order, signature, takerAccount, fillSize);
    }
}
