// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {MarginEngine} from "../../../contracts/engine/MarginEngine.sol";
import {PortfolioManager} from "../../../contracts/engine/PortfolioManager.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {CashUnits} from "../../../contracts/libraries/CashUnits.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

contract MarginEngineTest is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal bobAccount;
    SeriesId internal call30;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        bobAccount = _account(bob, 1);
        call30 = _createSeries(ethIndex, 30, 3_200e18, true);
    }

    // ------------------------------------------------------------ valuation

    function test_collateralOnlyEquity() public {
        _fundAndDeposit(alice, _account(alice, 0), weth, 1e18);
        _fundAndDeposit(alice, _account(alice, 0), usdc, 500e6);
        IMarginEngine.MarginState memory s = engine.accountMargin(_account(alice, 0));
        // 1 WETH at 3000: 2700 after a 10 % IM haircut, 2850 after a 5 % MM haircut.
        assertEq(s.equityIM, 2_700e18 + 500e18);
        assertEq(s.equityMM, 2_850e18 + 500e18);
        assertEq(s.requirementIM, 0);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.HEALTHY));
    }

    function test_shortCallValuationMatchesTheMath() public {
        _openShortCall(1e18, 100e18);
        uint256 spot = 3_000e18;
        uint256 markWad = BlackScholes.callPrice(spot, 3_200e18, _expiry(30) - block.timestamp, 0.8e18);
        assertEq(engine.mark(call30), markWad);

        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        int256 cashWad = CashUnits.toWadDown(vault.cashOf(carolAccount), 6);
        int256 expectedEquity = cashWad - int256(markWad);
        assertEq(s.equityIM, expectedEquity);
        assertEq(s.equityMM, expectedEquity);
        assertEq(s.requirementIM, MarginMath.shortRequirementUp(true, spot, 3_200e18, 0.15e18, 0.10e18));
        assertEq(s.requirementMM, MarginMath.shortRequirementUp(true, spot, 3_200e18, 0.08e18, 0.05e18));

        // The long side needs nothing; its mark counts for maintenance and the mark value
        // but not for initial margin (no leverage on long options).
        IMarginEngine.MarginState memory l = engine.accountMargin(bobAccount);
        int256 bobCash = CashUnits.toWadDown(vault.cashOf(bobAccount), 6);
        assertEq(l.requirementIM, 0);
        assertEq(l.equityIM, bobCash);
        assertEq(l.equityMM, bobCash + int256(markWad));
        assertEq(l.markValue, bobCash + int256(markWad));
    }

    function test_healthWalksDownAsThePriceRises() public {
        _openShortCall(10e18, 100e18);
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.HEALTHY));
        IMarginEngine.Health last = IMarginEngine.Health.HEALTHY;
        for (int256 price = 3_000e8; price < 12_000e8; price += 250e8) {
            _setPrice(ethUsd, price);
            IMarginEngine.Health h = engine.accountMargin(carolAccount).health;
            assertGe(uint8(h), uint8(last), "health improved as price moved against the short");
            last = h;
        }
        assertEq(uint8(last), uint8(IMarginEngine.Health.INSOLVENT));
    }

    function test_batchViewEqualsSingleViews() public {
        _openShortCall(2e18, 150e18);
        AccountId[] memory accounts = new AccountId[](3);
        accounts[0] = carolAccount;
        accounts[1] = bobAccount;
        accounts[2] = _account(alice, 9);
        IMarginEngine.MarginState[] memory states = engine.accountsMargin(accounts);
        for (uint256 i; i < 3; ++i) {
            IMarginEngine.MarginState memory single = engine.accountMargin(accounts[i]);
            assertEq(states[i].equityIM, single.equityIM);
            assertEq(states[i].equityMM, single.equityMM);
            assertEq(states[i].requirementIM, single.requirementIM);
            assertEq(states[i].requirementMM, single.requirementMM);
        }
    }

    function test_excessInitialAndCheck() public {
        _openShortCall(1e18, 100e18);
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(engine.excessInitial(carolAccount), s.equityIM - int256(s.requirementIM));
        engine.checkInitialMargin(carolAccount);
    }

    // ------------------------------------------------------------ expiry

    function test_expiredSeriesMarksIntrinsicAtSpotThenAtSettlement() public {
        _openShortCall(1e18, 100e18);
        uint256 expiry = _expiry(30);
        vm.warp(expiry + 10);
        _setPrice(ethUsd, 3_500e8); // first round after expiry
        uint80 settleRound = uint80(ethUsd.latestRound());
        btcUsd.updateAnswer(60_000e8);
        ethVol.updateAnswer(0.8e8);
        assertEq(engine.mark(call30), 300e18);
        assertGt(engine.accountMargin(carolAccount).requirementIM, 0);

        vm.warp(expiry + 600);
        _setPrice(ethUsd, 4_000e8); // spot moves on; the settlement price does not
        assertEq(engine.mark(call30), 800e18);
        oracle.postSettlementPrice(address(weth), expiry, settleRound, new uint80[](0));
        assertEq(engine.mark(call30), 300e18);
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(s.requirementIM, 0, "a settled payoff needs no margin");
        assertEq(s.requirementMM, 0);
    }

    // ------------------------------------------------------------ withdrawals (risk check)

    function test_withdrawalBelowInitialMarginReverts() public {
        _openShortCall(1e18, 100e18);
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        uint256 excessCash = uint256(s.equityIM - int256(s.requirementIM)) / 1e12;
        // One cash unit more than the excess takes the account under IM.
        vm.prank(carol);
        vm.expectPartialRevert(IMarginEngine.EngineBelowInitialMargin.selector);
        vault.withdraw(carolAccount, address(usdc), excessCash + 1, carol);
        // Exactly the excess is fine: the account ends at IM.
        vm.prank(carol);
        vault.withdraw(carolAccount, address(usdc), excessCash, carol);
        assertGe(engine.excessInitial(carolAccount), 0);
    }

    function test_staleFeedBlocksRiskyWithdrawalsButNotFreeOnes() public {
        _openShortCall(1e18, 100e18);
        _fundAndDeposit(alice, _account(alice, 0), weth, 1e18);
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        vm.prank(carol);
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        vault.withdraw(carolAccount, address(usdc), 1e6, carol);
        // No positions, no debt: nothing to price, the withdrawal goes through.
        vm.prank(alice);
        vault.withdraw(_account(alice, 0), address(weth), 1e18, alice);
    }

    // ------------------------------------------------------------ governance

    /// @dev The confidence add-on is stored in the underlying's asset slot (issue 19: a check reads
    /// both): raising it to the maximum, re-setting the risk parameters and listing another
    /// underlying leave every field where it was.
    function test_confidenceAddOnBesideTheAssetKeepsEveryField() public {
        uint256 max = 0.05e18; // MarginEngine.MAX_CONFIDENCE_ADD_ON
        uint256 step = 0.005e18; // MarginEngine.MAX_CONFIDENCE_ADD_ON_STEP
        vm.startPrank(riskManager);
        for (uint256 a = step; a <= max; a += step) engine.setConfidenceAddOn(ethIndex, a);
        IMarginEngine.RiskParams memory p = IMarginEngine.RiskParams({
            aIM: 0.2e18,
            bIM: 0.12e18,
            aMM: 0.1e18,
            bMM: 0.06e18
        });
        engine.setRiskParams(ethIndex, p);
        vm.stopPrank();
        vm.prank(admin);
        uint16 usdcIndex = engine.listUnderlying(address(usdc), _standardParams());

        IMarginEngine.Underlying memory u = engine.underlying(ethIndex);
        assertEq(u.asset, address(weth));
        assertEq(abi.encode(u.params), abi.encode(p));
        (, , uint256 addOn) = engine.surfaceParams(ethIndex);
        assertEq(addOn, max);
        (, , addOn) = engine.surfaceParams(btcIndex);
        assertEq(addOn, 0);
        (, , addOn) = engine.surfaceParams(usdcIndex);
        assertEq(addOn, 0);
        assertEq(engine.underlying(usdcIndex).asset, address(usdc));

        vm.prank(riskManager);
        engine.setConfidenceAddOn(ethIndex, 0);
        (, , addOn) = engine.surfaceParams(ethIndex);
        assertEq(addOn, 0);
        assertEq(engine.underlying(ethIndex).asset, address(weth));
    }

    function test_listUnderlying_boundsAndRoles() public {
        IMarginEngine.RiskParams memory p = _standardParams();
        vm.prank(riskManager);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, riskManager, bytes32(0))
        );
        engine.listUnderlying(address(usdc), p);
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingAlreadyListed.selector, address(weth)));
        engine.listUnderlying(address(weth), p);
        vm.expectRevert(IMarginEngine.EngineZeroAddress.selector);
        engine.listUnderlying(address(0), p);
        p.aMM = 0.2e18; // above aIM
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineInvalidRiskParams.selector, p));
        engine.listUnderlying(address(usdc), p);
        vm.stopPrank();
        assertEq(engine.underlyingIndexOf(address(wbtc)), btcIndex);
        assertEq(engine.underlyingCount(), 2);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(usdc)));
        engine.underlyingIndexOf(address(usdc));
    }

    function test_setRiskParams_boundedAndEmitted() public {
        IMarginEngine.RiskParams memory p = IMarginEngine.RiskParams(0.2e18, 0.12e18, 0.1e18, 0.06e18);
        vm.expectEmit(address(engine));
        emit IMarginEngine.RiskParamsSet(ethIndex, p);
        vm.prank(riskManager);
        engine.setRiskParams(ethIndex, p);
        assertEq(engine.underlying(ethIndex).params.aIM, 0.2e18);

        p.aIM = 0.6e18; // above the 50 % hard bound
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineInvalidRiskParams.selector, p));
        engine.setRiskParams(ethIndex, p);
        p = IMarginEngine.RiskParams(0.2e18, 0.12e18, 0.001e18, 0.06e18); // MM below the floor
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineInvalidRiskParams.selector, p));
        engine.setRiskParams(ethIndex, p);
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        engine.setRiskParams(9, _standardParams());
    }

    function test_setMarket_once() public {
        vm.startPrank(admin);
        vm.expectRevert(IMarginEngine.EngineMarketAlreadySet.selector);
        engine.setMarket(address(1));
        MarginEngine fresh = new MarginEngine(admin, vault, oracle, type(PortfolioManager).creationCode);
        vm.expectRevert(IMarginEngine.EngineZeroAddress.selector);
        fresh.setMarket(address(0));
        vm.stopPrank();
        vm.expectRevert(IMarginEngine.EngineZeroAddress.selector);
        new MarginEngine(admin, vault, IChainlinkOracle(address(0)), type(PortfolioManager).creationCode);
    }

    /// @dev The engine deploys the manager from the creation code its deployer passes: code that
    /// deploys nothing (empty, or a constructor that reverts) or a contract that does not name this
    /// engine as its own is refused, with nothing deployed.
    function test_constructor_refusesCodeThatIsNotItsManager() public {
        vm.expectRevert(IMarginEngine.EngineInvalidManagerCode.selector);
        new MarginEngine(admin, vault, oracle, "");
        // The engine's own creation code: its constructor cannot decode (vault, oracle) and reverts.
        vm.expectRevert(IMarginEngine.EngineInvalidManagerCode.selector);
        new MarginEngine(admin, vault, oracle, type(MarginEngine).creationCode);
        vm.expectRevert(IMarginEngine.EngineInvalidManagerCode.selector);
        new MarginEngine(admin, vault, oracle, type(ForeignManager).creationCode);
        // Initcode that deploys an empty runtime; answers that are not exactly one clean word
        // naming the engine, or that come with a revert (review rv42).
        vm.expectRevert(IMarginEngine.EngineInvalidManagerCode.selector);
        new MarginEngine(admin, vault, oracle, hex"00");
        vm.expectRevert(IMarginEngine.EngineInvalidManagerCode.selector);
        new MarginEngine(admin, vault, oracle, type(DirtyWordManager).creationCode);
        vm.expectRevert(IMarginEngine.EngineInvalidManagerCode.selector);
        new MarginEngine(admin, vault, oracle, type(RevertingEchoManager).creationCode);
        vm.expectRevert(IMarginEngine.EngineInvalidManagerCode.selector);
        new MarginEngine(admin, vault, oracle, type(LongAnswerManager).creationCode);
        MarginEngine fresh = new MarginEngine(admin, vault, oracle, type(PortfolioManager).creationCode);
        assertEq(address(fresh.portfolioManager().engine()), address(fresh));
    }

    // ------------------------------------------------------------ properties

    /// @dev Margin only tightens as the price moves against a short: a short call's
    /// excess over IM and MM never rises when spot rises.
    function testFuzz_marginTightensAgainstShortCall(uint256 up, uint256 size) public {
        size = bound(size, 1e16, 5e18);
        up = bound(up, 1, 4_000e8);
        _openShortCall(size, 100e18);
        IMarginEngine.MarginState memory before = engine.accountMargin(carolAccount);
        _setPrice(ethUsd, 3_000e8 + int256(up));
        IMarginEngine.MarginState memory afterMove = engine.accountMargin(carolAccount);
        assertLe(afterMove.equityIM - int256(afterMove.requirementIM), before.equityIM - int256(before.requirementIM));
        assertLe(afterMove.equityMM - int256(afterMove.requirementMM), before.equityMM - int256(before.requirementMM));
    }

    /// @dev ... and a short put's excess never rises when spot falls.
    function testFuzz_marginTightensAgainstShortPut(uint256 down, uint256 strikeSeed) public {
        uint256 strike = bound(strikeSeed, 20, 40) * 100e18;
        SeriesId put = _createSeries(ethIndex, 30, strike, false);
        down = bound(down, 1, 2_500e8);
        _fundAndDeposit(carol, carolAccount, weth, 10e18);
        _fundAndDeposit(bob, bobAccount, usdc, 100_000e6);
        _trade(carolKey, carolAccount, bobAccount, put, -1e18, 100e18);
        IMarginEngine.MarginState memory before = engine.accountMargin(carolAccount);
        _setPrice(ethUsd, 3_000e8 - int256(down));
        IMarginEngine.MarginState memory afterMove = engine.accountMargin(carolAccount);
        assertLe(afterMove.equityMM - int256(afterMove.requirementMM), before.equityMM - int256(before.requirementMM));
    }

    /// @dev Requirements never fall when a short grows.
    function testFuzz_requirementNeverFallsWhenShortGrows(uint256 first, uint256 more) public {
        first = bound(first, 1e15, 3e18);
        more = bound(more, 1e15, 3e18);
        _openShortCall(first, 100e18);
        uint256 reqBefore = engine.accountMargin(carolAccount).requirementIM;
        _trade(carolKey, carolAccount, bobAccount, call30, -int256(more), 100e18);
        assertGe(engine.accountMargin(carolAccount).requirementIM, reqBefore);
    }

    // ------------------------------------------------------------ helpers

    /// @dev Carol (10,000 USDC) sells `size` of the 30-day 3200 call to Bob (cash) at `priceWad`.
    /// Cash collateral, so a price rise is not offset by collateral gains.
    function _openShortCall(uint256 size, uint256 priceWad) internal {
        _fundAndDeposit(carol, carolAccount, usdc, 10_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 1_000_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -int256(size), priceWad);
    }
}

/// @dev A contract answering `engine()` with another address: not a manager of the engine that deploys it.
contract ForeignManager {
    function engine() external pure returns (address) {
        return address(0xdead);
    }
}

/// @dev Answers with the caller's address under a dirty upper byte.
contract DirtyWordManager {
    fallback() external {
        assembly {
            mstore(0, or(caller(), shl(200, 1)))
            return(0, 32)
        }
    }
}

/// @dev Reverts, with the caller's address as its 32 bytes of revert data.
contract RevertingEchoManager {
    fallback() external {
        assembly {
            mstore(0, caller())
            revert(0, 32)
        }
    }
}

/// @dev Answers 64 bytes, the first word the caller.
contract LongAnswerManager {
    fallback() external {
        assembly {
            mstore(0, caller())
            mstore(32, 0)
            return(0, 64)
        }
    }
}
