// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @dev Stands in for the code an EOA delegated to under EIP-7702: it does something, but it
/// does not implement ERC-1271.
contract DelegatedCodeWithout1271 {
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        (, bytes memory result) = target.call(data);
        return result;
    }
}

/// @notice Regression tests for the margin gate and the fee account (`docs/margin-gate.md`,
/// `docs/security.md` findings 1, 6, 8, 10 and 14). Each `test_findingN_…` reproduces the
/// reviewers' attack on the real stack and passes only because the fix refuses it.
contract MarginGateTest is MarketFixture {
    address internal attacker;
    uint256 internal attackerKey;
    AccountId internal victim;
    AccountId internal sibling;
    uint256 private _nonce = 1_000;

    function setUp() public override {
        super.setUp();
        (attacker, attackerKey) = makeAddrAndKey("attacker");
        victim = _account(attacker, 1);
        sibling = _account(attacker, 2);
    }

    // ------------------------------------------------------------ finding 1 (critical)

    /// @dev Two accounts of one owner, one short a call and one long it. The feeds go stale
    /// (and the guardian even pauses): the short side buys its call back at a price equal to
    /// every USDC in the vault. The old gate let both "reducing" sides through unchecked, the
    /// short side took the whole vault as debt and the long side, holding nothing and owing
    /// nothing, withdrew it without a price. Now a side that pays without a price must end
    /// with no liability or pass an IM check; the short side would end with a debt, so the
    /// fill fails closed.
    function test_finding1_reducingFillDuringOutageCannotDrainTheVault() public {
        _fundAndDeposit(attacker, victim, usdc, 10_000e6);
        _fundAndDeposit(attacker, sibling, usdc, 1_000e6);
        _attackerTrade(victim, sibling, callId, -1e18, _floorToCash(engine.mark(callId)));
        uint256 vaultHeld = usdc.balanceOf(address(vault));
        int256 victimCash = vault.cashOf(victim);
        int256 siblingCash = vault.cashOf(sibling);

        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        vm.prank(guardian);
        market.pause();

        IOptionMarket.Order memory drain = _attackerOrder(victim, callId, 1e18, vaultHeld * 1e12);
        bytes memory sig = _signOrder(attackerKey, drain);
        // Holding nothing afterwards, the short side needs no price to be valued: its debt of
        // the whole vault is simply below IM.
        int256 equityAfter = (victimCash - int256(vaultHeld)) * 1e12;
        vm.prank(attacker);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginEngine.EngineBelowInitialMargin.selector, victim, equityAfter, 0)
        );
        market.fill(drain, sig, sibling, 1e18);

        // Nothing moved, and the long side cannot take out more than it holds.
        assertEq(vault.cashOf(victim), victimCash);
        assertEq(vault.cashOf(sibling), siblingCash);
        assertEq(market.positionOf(sibling, callId), 1e18);
        vm.prank(attacker);
        vm.expectPartialRevert(ICollateralVault.VaultInsufficientBalance.selector);
        vault.withdraw(sibling, address(usdc), vaultHeld, attacker);
        assertEq(usdc.balanceOf(address(vault)), vaultHeld);
    }

    /// @dev The same outage still lets honest sides close: a short that buys back everything
    /// and keeps cash ≥ 0 carries no liability afterwards, nor does the long side selling;
    /// the seller, then holding nothing and owing nothing, withdraws without a price.
    function test_finding1_outageStillAllowsClosingIntoNoLiability() public {
        _fundAndDeposit(attacker, victim, usdc, 10_000e6);
        _fundAndDeposit(attacker, sibling, usdc, 1_000e6);
        _attackerTrade(victim, sibling, callId, -1e18, 100e18);
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);

        _attackerTrade(victim, sibling, callId, 1e18, 150e18);
        assertEq(market.positionOf(victim, callId), 0);
        assertEq(vault.cashOf(victim), 10_000e6 + 100e6 - 150e6);
        assertEq(vault.cashOf(sibling), 1_000e6 - 100e6 + 150e6);
        vm.prank(attacker);
        vault.withdraw(sibling, address(usdc), 1_050e6, attacker);
    }

    /// @dev Without a price, a side that keeps a short (or a debt) may not pay anything, even
    /// a fair premium: a check at a valid price must allow any fall in its cash.
    function test_finding1_unpricedSideKeepingALiabilityCannotPay() public {
        _fundAndDeposit(attacker, victim, usdc, 10_000e6);
        _fundAndDeposit(attacker, sibling, usdc, 1_000e6);
        _attackerTrade(victim, sibling, callId, -2e18, 100e18);
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);

        IOptionMarket.Order memory part = _attackerOrder(victim, callId, 1e18, 1e12);
        bytes memory sig = _signOrder(attackerKey, part);
        bytes memory stale = _staleSpotError();
        vm.prank(attacker);
        vm.expectRevert(stale);
        market.fill(part, sig, sibling, 1e18);
    }

    // ------------------------------------------------------------ finding 10 (high)

    /// @dev A solvent account below maintenance (equity ~$190k, MM excess below −$100k) buys
    /// its 1,000 shorts back from a sibling at mark plus the maintenance requirement each
    /// frees. Its MM excess did not fall, so the old gate let it through: it ended holding
    /// nothing with a debt of about $100k, which the backstop's `absorbDebt` charges to the insurance fund.
    /// Now a side that starts below maintenance must end at or above it (or at or above IM)
    /// without lowering its maintenance equity.
    function test_finding10_liquidatableBuybackCannotSpendFreedRequirement() public {
        uint256 spotWad = _liquidatableShort();
        IMarginEngine.MarginState memory before = engine.accountMargin(victim);
        assertGt(before.equityMM, 100_000e18, "solvent");
        assertLt(int256(before.equityMM) - int256(before.requirementMM), -100_000e18, "liquidatable");

        uint256 priceWad = engine.mark(callId) + _shortCallMaintenance(spotWad);
        IOptionMarket.Order memory buyBack = _attackerOrder(victim, callId, 1_000e18, priceWad);
        bytes memory sig = _signOrder(attackerKey, buyBack);
        vm.prank(attacker);
        vm.expectPartialRevert(IOptionMarket.MarketStillLiquidatable.selector);
        market.fill(buyBack, sig, sibling, 1_000e18);
    }

    /// @dev A partial buyback above the mark that lifts the account back over maintenance
    /// (but not IM) still pays value away: refused. The same buyback at the mark is accepted
    /// (finding 8's restoring trade).
    function test_finding10_liquidatableAccountMayRestoreOnlyAtTheMarkOrBetter() public {
        _liquidatableShort();
        int256 equityBefore = engine.accountMargin(victim).equityMM;
        uint256 markWad = engine.mark(callId);

        IOptionMarket.Order memory dear = _attackerOrder(victim, callId, 500e18, markWad + 10e18);
        bytes memory sig = _signOrder(attackerKey, dear);
        vm.prank(attacker);
        vm.expectPartialRevert(IOptionMarket.MarketMaintenanceEquityFell.selector);
        market.fill(dear, sig, sibling, 500e18);

        // At exactly the mark, the victim taking the sibling's offer: the premium rounds up
        // against the victim by under a cent's ten-thousandth, which the rule allows for.
        _attackerTrade(sibling, victim, callId, -500e18, markWad);
        IMarginEngine.MarginState memory state = engine.accountMargin(victim);
        assertLt(state.equityMM, equityBefore, "the premium rounded up against the victim");
        assertGe(state.equityMM, equityBefore - 1e12 - 1, "by no more than the rounding allowed for");
        assertGe(state.equityMM, int256(state.requirementMM), "back above maintenance");
        assertLt(state.equityIM, int256(state.requirementIM), "still below IM");
    }

    // ------------------------------------------------------------ finding 8 (medium)

    /// @dev The owner of a liquidatable account bumps `accountNonce` with 1-wei moves so every
    /// pending bid fails with `LiquidatorAccountChanged`. Each such move is now refused (fills,
    /// transfers, new risk); deposits still work, the bid priced on the nonce lands, and a
    /// move that restores the account is accepted.
    function test_finding8_oneWeiMovesWhileLiquidatableAreRefused() public {
        _liquidatableShort();
        uint256 nonce = market.accountNonce(victim);
        uint256 markWad = engine.mark(callId);

        IOptionMarket.Order memory wei1 = _attackerOrder(victim, callId, 1, markWad);
        bytes memory sig = _signOrder(attackerKey, wei1);
        vm.prank(attacker);
        vm.expectPartialRevert(IOptionMarket.MarketStillLiquidatable.selector);
        market.fill(wei1, sig, sibling, 1);

        vm.prank(attacker);
        vm.expectPartialRevert(IOptionMarket.MarketStillLiquidatable.selector);
        market.transferPositions(victim, sibling, _ids(callId), _amounts(-1));

        IOptionMarket.Order memory more = _attackerOrder(victim, putId, -1, 0);
        sig = _signOrder(attackerKey, more);
        vm.prank(attacker);
        vm.expectPartialRevert(IMarginEngine.EngineBelowInitialMargin.selector);
        market.fill(more, sig, sibling, 1);
        assertEq(market.accountNonce(victim), nonce, "no position moved");

        _fundAndDeposit(attacker, victim, usdc, 1e6);
        AccountId bidder = _account(bob, 7);
        _fundAndDeposit(bob, bidder, usdc, 1_000_000e6);
        vm.prank(bob);
        liquidator.bid(victim, bidder, 0.1e18, type(int256).max, nonce);
        assertEq(market.positionOf(bidder, callId), -100e18);

        // Moving the remaining shorts onto the sibling's longs restores the account.
        int256 remaining = market.positionOf(victim, callId);
        vm.prank(attacker);
        market.transferPositions(victim, sibling, _ids(callId), _amounts(remaining));
        assertEq(market.positionOf(victim, callId), 0);
        assertGe(engine.excessInitial(victim), 0);
    }

    /// @dev Hardening of finding 8: a caller that starves the engine of gas must not make a
    /// priced, liquidatable account look "unpriced" (the outage rules would then let a 1-wei
    /// buyback at no cost bump its nonce). An empty revert, as running out of gas leaves, is
    /// refused; only the oracle's own errors count as "no price".
    function test_finding8_starvedValuationIsNotAnOutage() public {
        _liquidatableShort();
        uint256 nonce = market.accountNonce(victim);
        vm.mockCallRevert(address(engine), abi.encodeCall(engine.accountMargin, (victim)), "");
        IOptionMarket.Order memory wei1 = _attackerOrder(victim, callId, 1, 0);
        bytes memory sig = _signOrder(attackerKey, wei1);
        vm.prank(attacker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketValuationFailed.selector, victim));
        market.fill(wei1, sig, sibling, 1);
        assertEq(market.accountNonce(victim), nonce, "no position moved");
    }

    // ------------------------------------------------------------ finding 6 (medium)

    /// @dev The risk manager could name any account the fee account, protecting it from
    /// auctions. Fee rates stay with the risk manager; the fee account is the admin's (the
    /// timelock's), and a risk manager calling `setFeeAccount` is refused.
    function test_finding6_onlyTheAdminNamesTheFeeAccount() public {
        vm.prank(riskManager);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, riskManager, bytes32(0))
        );
        market.setFeeAccount(victim);

        vm.expectEmit(address(market));
        emit IOptionMarket.FeeAccountSet(feeAccountId);
        vm.prank(admin);
        market.setFeeAccount(feeAccountId);
        assertEq(market.feeAccount(), feeAccountId);
    }

    /// @dev A new fee account must hold nothing it could owe on: no positions, no cash debt,
    /// and not the settlement account.
    function test_finding6_newFeeAccountHoldsNoPositionAndNoDebt() public {
        _fill(_order(makerAccount, callId, 1e18, 100e18), 1e18);
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFeeAccount.selector, makerAccount));
        market.setFeeAccount(makerAccount);
        AccountId settlement = market.settlementAccount();
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFeeAccount.selector, settlement));
        market.setFeeAccount(settlement);
        vm.stopPrank();

        vm.prank(module);
        vault.moveCash(victim, sibling, 1);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidFeeAccount.selector, victim));
        market.setFeeAccount(victim);
    }

    /// @dev Once named, the fee account can neither trade (as maker or taker), nor move
    /// positions, nor bid in an auction: it never holds a position or owes cash, so there is
    /// nothing its protection from auctions could shelter.
    function test_finding6_feeAccountCannotTradeTransferOrBid() public {
        vm.prank(admin);
        market.setFeeAccount(feeAccountId);
        (address feeSigner, uint256 feeKey) = makeAddrAndKey("feeOwner");
        assertEq(feeSigner, feeOwner);
        _fundAndDeposit(feeOwner, feeAccountId, usdc, 100_000e6);
        bytes memory refused = abi.encodeWithSelector(IOptionMarket.MarketFeeAccountNotAllowed.selector, feeAccountId);

        // As taker.
        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 100e18);
        bytes memory sig = _sign(makerKey, order);
        vm.prank(feeOwner);
        vm.expectRevert(refused);
        market.fill(order, sig, feeAccountId, 1e18);

        // As maker.
        IOptionMarket.Order memory makerOrder = _order(feeAccountId, callId, -1e18, 100e18);
        sig = _signOrder(feeKey, makerOrder);
        vm.prank(taker);
        vm.expectRevert(refused);
        market.fill(makerOrder, sig, takerAccount, 1e18);

        // As either end of a transfer.
        AccountId feeSub = _account(feeOwner, 1);
        _fundAndDeposit(feeOwner, feeSub, usdc, 100_000e6);
        _fillFor(_order(makerAccount, callId, -1e18, 100e18), feeSub, 1e18);
        vm.startPrank(feeOwner);
        vm.expectRevert(refused);
        market.transferPositions(feeSub, feeAccountId, _ids(callId), _amounts(1e18));
        vm.expectRevert(refused);
        market.transferPositions(feeAccountId, feeSub, _ids(callId), _amounts(1e18));
        vm.stopPrank();

        // As a bidder (the receiver of a liquidation slice).
        _liquidatableShort();
        uint256 nonce = market.accountNonce(victim);
        vm.prank(feeOwner);
        vm.expectRevert(refused);
        liquidator.bid(victim, feeAccountId, 0.1e18, type(int256).max, nonce);
        (SeriesId[] memory held, ) = market.positionsOf(feeAccountId);
        assertEq(held.length, 0);
    }

    // ------------------------------------------------------------ finding 14 (low)

    /// @dev An owner whose address carries delegated code without ERC-1271 (EIP-7702) used to
    /// be unable to sign orders: the code made the market ask ERC-1271 only. A signature
    /// that recovers to the owner is now accepted whatever code the owner has; a stranger's
    /// signature still is not.
    function test_finding14_eip7702OwnerSignsWithItsOwnKey() public {
        vm.etch(maker, address(new DelegatedCodeWithout1271()).code);
        assertGt(maker.code.length, 0);

        IOptionMarket.Order memory order = _order(makerAccount, callId, 1e18, 100e18);
        _fill(order, 1e18);
        assertEq(market.positionOf(makerAccount, callId), 1e18);

        IOptionMarket.Order memory forged = _order(makerAccount, callId, 1e18, 100e18);
        forged.nonce = 1;
        bytes memory sig = _signOrder(attackerKey, forged);
        bytes32 hash = market.orderHash(forged);
        vm.prank(taker);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketInvalidSignature.selector, hash));
        market.fill(forged, sig, takerAccount, 1e18);
    }

    // ------------------------------------------------------------ helpers

    /// @dev The victim (500,000 USDC) sells 1,000 3000-calls to its sibling (200,000 USDC) at
    /// the mark; ETH then rises in 10-dollar steps until the victim's MM excess is below
    /// −100,000 USD. Returns the spot reached.
    function _liquidatableShort() internal returns (uint256 spotWad) {
        _fundAndDeposit(attacker, victim, usdc, 500_000e6);
        _fundAndDeposit(attacker, sibling, usdc, 200_000e6);
        _attackerTrade(victim, sibling, callId, -1_000e18, _floorToCash(engine.mark(callId)));
        int256 spot = 3_000;
        while (true) {
            IMarginEngine.MarginState memory state = engine.accountMargin(victim);
            if (state.equityMM - int256(state.requirementMM) < -100_000e18) break;
            spot += 10;
            _setPrice(ethUsd, spot * 1e8);
        }
        spotWad = uint256(spot) * 1e18;
    }

    /// @dev The attacker (owner of `makerAccount_` and `takerAccount_`) trades with itself.
    function _attackerTrade(
        AccountId makerAccount_,
        AccountId takerAccount_,
        SeriesId seriesId,
        int256 makerSize,
        uint256 priceWad
    ) internal {
        IOptionMarket.Order memory order = _attackerOrder(makerAccount_, seriesId, makerSize, priceWad);
        bytes memory sig = _signOrder(attackerKey, order);
        vm.prank(attacker);
        market.fill(order, sig, takerAccount_, makerSize >= 0 ? uint256(makerSize) : uint256(-makerSize));
    }

    function _attackerOrder(
        AccountId account,
        SeriesId seriesId,
        int256 size,
        uint256 priceWad
    ) internal returns (IOptionMarket.Order memory order) {
        order = _order(account, seriesId, size, priceWad);
        order.nonce = ++_nonce;
    }

    /// @dev The MM requirement of one short 3000 call at `spotWad` (standard params).
    function _shortCallMaintenance(uint256 spotWad) internal pure returns (uint256) {
        return MarginMath.shortRequirementUp(true, spotWad, 3_000e18, 0.08e18, 0.05e18);
    }

    /// @dev A WAD price rounded down to whole USDC units, so a premium needs no rounding.
    function _floorToCash(uint256 priceWad) internal pure returns (uint256) {
        return (priceWad / 1e12) * 1e12;
    }
}
