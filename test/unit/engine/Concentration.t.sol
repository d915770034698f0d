// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IPortfolioManager} from "../../../contracts/interfaces/IPortfolioManager.sol";
import {PortfolioManager} from "../../../contracts/engine/PortfolioManager.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Issue 16, item 2: the concentration add-on (`docs/risk-model.md`, "Concentration").
/// An account with Q gross short contracts on an underlying adds `κ·S·Q·min(Q / L, maxRatio)` to
/// its initial requirement and half of it to maintenance, in CROSS, ISOLATED and PORTFOLIO mode;
/// off (κ = 0) by default.
contract ConcentrationTest is PledgeFixture {
    uint64 internal constant KAPPA = 0.05e18; // 5 % of spot per contract at Q = L
    uint64 internal constant MAX_RATIO = 2e18;
    uint128 internal constant LIQUIDITY = 100e18; // 100 contracts

    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal carolPortfolio;
    AccountId internal bobAccount;
    SeriesId internal call30;
    SeriesId internal put30;
    SeriesId internal btcCall30;
    PortfolioManager internal manager;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        carolPortfolio = _account(carol, 2);
        bobAccount = _account(bob, 1);
        call30 = _createSeries(ethIndex, 30, 3_300e18, true);
        put30 = _createSeries(ethIndex, 30, 2_700e18, false);
        btcCall30 = _createSeries(btcIndex, 30, 66_000e18, true);
        manager = PortfolioManager(address(engine.portfolioManager()));
        _fundAndDeposit(carol, carolAccount, usdc, 10_000_000e6);
        _fundAndDeposit(carol, carolPortfolio, usdc, 10_000_000e6);
        _fundAndDeposit(bob, bobAccount, usdc, 100_000_000e6);
        vm.prank(carol);
        engine.setMarginMode(carolPortfolio, IMarginEngine.MarginMode.PORTFOLIO);
    }

    // ------------------------------------------------------------ governance

    function test_setConcentrationParams_boundsRoleAndEvent() public {
        IPortfolioManager.ConcentrationParams memory p = manager.concentrationParams(ethIndex);
        assertEq(p.kappaWad, 0, "off by default");

        vm.startPrank(riskManager);
        _expectInvalid(_params(0.25e18 + 1, MAX_RATIO, LIQUIDITY));
        _expectInvalid(_params(KAPPA, 0.1e18 - 1, LIQUIDITY));
        _expectInvalid(_params(KAPPA, 4e18 + 1, LIQUIDITY));
        _expectInvalid(_params(KAPPA, MAX_RATIO, 1e18 - 1));
        _expectInvalid(_params(KAPPA, MAX_RATIO, 1e27 + 1));
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        manager.setConcentrationParams(3, _params(KAPPA, MAX_RATIO, LIQUIDITY));

        // The bounds themselves are accepted (κ reached in steps); κ = 0 turns the add-on off with
        // valid L and ratio, in one call.
        vm.stopPrank();
        _setParams(ethIndex, 0.25e18, 4e18, 1e27);
        vm.startPrank(riskManager);
        manager.setConcentrationParams(ethIndex, _params(0, 0.1e18, 1e18));
        vm.expectEmit(address(manager));
        emit IPortfolioManager.ConcentrationParamsSet(ethIndex, _params(0.005e18, MAX_RATIO, LIQUIDITY));
        manager.setConcentrationParams(ethIndex, _params(0.005e18, MAX_RATIO, LIQUIDITY));
        vm.stopPrank();
        p = manager.concentrationParams(ethIndex);
        assertEq(abi.encode(p), abi.encode(_params(0.005e18, MAX_RATIO, LIQUIDITY)));

        // The engine's risk manager role governs it; nobody else, not even the engine's admin.
        for (uint256 i; i < 2; ++i) {
            address caller = i == 0 ? alice : admin;
            vm.prank(caller);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector,
                    caller,
                    Roles.RISK_MANAGER_ROLE
                )
            );
            manager.setConcentrationParams(ethIndex, _params(KAPPA, MAX_RATIO, LIQUIDITY));
        }
    }

    /// @dev Review rv16c F3 and rv16c2 H1: one call from off to the bounds, or one call of a
    /// multiplicative step from a live setting (κ 5→10 %, L halved: ×4), took an account at twice
    /// its maintenance requirement to liquidation. Each raise is now bounded in absolute terms:
    /// the per-contract add-on rises by at most `MAX_CONCENTRATION_ADD_ON_STEP` of spot at any
    /// size. Lowering is free.
    function test_setConcentrationParams_boundsEachRaise() public {
        assertEq(manager.MAX_CONCENTRATION_ADD_ON_STEP(), 0.01e18);
        vm.startPrank(riskManager);
        _expectStep(_params(0.0025e18 + 1, 4e18, LIQUIDITY)); // from off: κ·c above 1 %
        manager.setConcentrationParams(ethIndex, _params(0.0025e18, 4e18, LIQUIDITY)); // κ·c = 1 %
        manager.setConcentrationParams(ethIndex, _params(0.005e18, 4e18, LIQUIDITY)); // +1 % at saturation
        _expectStep(_params(0.0075e18 + 1, 4e18, LIQUIDITY));
        // L halved, κ and c kept: 0.005·(min(Q/50, 4) − min(Q/100, 4)) peaks at Q = 200, +1 %.
        manager.setConcentrationParams(ethIndex, _params(0.005e18, 4e18, LIQUIDITY / 2));
        _expectStep(_params(0.005e18, 4e18, LIQUIDITY / 4 - 1)); // peaks at Q ≈ 100 a wei above 1 %
        manager.setConcentrationParams(ethIndex, _params(0.005e18, 2e18, LIQUIDITY / 2)); // lowering: free
        _expectStep(_params(0.005e18 + 1, 4e18, LIQUIDITY / 2)); // the ratio doubled and κ a wei up
        manager.setConcentrationParams(ethIndex, _params(0.005e18, 4e18, LIQUIDITY / 2)); // the ratio doubled: +1 %
        // A higher κ under a much lower ratio lowers the add-on everywhere: free.
        manager.setConcentrationParams(ethIndex, _params(0.05e18, 0.1e18, 1e27));
        _expectStep(_params(0.05e18, 4e18, 1e27)); // back to ratio 4 with L at the bound: +20 %
        manager.setConcentrationParams(ethIndex, _params(0, 0.1e18, 1e27)); // off from anywhere
        _expectStep(_params(0.05e18, 4e18, 1e18)); // the old single step from off: +20 %
        manager.setConcentrationParams(ethIndex, _params(0.0025e18, 4e18, 1e18));
        manager.setConcentrationParams(ethIndex, _params(0, 4e18, 1e18));
        vm.stopPrank();
    }

    /// @dev Review rv16c2 H1, the reviewer's account: 200 short C(3300), κ 5 %, ratio 4, L 100,
    /// kept at 2.05× maintenance. The multiplicative step (κ 10 %, L 50) made it liquidatable in
    /// one call; it is refused now, and the largest allowed call adds at most 0.5 % of spot of
    /// maintenance per short contract, which leaves it healthy.
    function test_oneAllowedCallFromALiveSettingAddsAtMostTheStep() public {
        AccountId maker = _account(carol, 8);
        _fundAndDeposit(carol, maker, usdc, 1_000_000e6);
        SeriesId call30Otm = _createSeries(ethIndex, 30, 3_300e18, true);
        _trade(carolKey, maker, bobAccount, call30Otm, -200e18, 30e18);
        _setParams(ethIndex, 0.05e18, 4e18, 100e18);
        IMarginEngine.MarginState memory state = engine.accountMargin(maker);
        uint256 excess = uint256(state.equityMM) - (state.requirementMM * 205) / 100;
        vm.prank(carol);
        vault.withdraw(maker, address(usdc), excess / 1e12, carol);
        state = engine.accountMargin(maker);
        assertGt(state.equityMM, 2 * int256(state.requirementMM), "more than twice maintenance");
        uint256 mmBefore = state.requirementMM;

        vm.startPrank(riskManager);
        _expectStep(_params(0.10e18, 4e18, 50e18)); // ×4: the rv16c2 H1 call
        _expectStep(_params(0.0525e18 + 1, 4e18, 100e18));
        manager.setConcentrationParams(ethIndex, _params(0.0525e18, 4e18, 100e18)); // +1 % of spot at Q ≥ 400
        vm.stopPrank();
        state = engine.accountMargin(maker);
        // Q = 200 < L·c: 0.0025 × 3,000 × 200 × 2 = 3,000 IM, 1,500 MM; the bound (0.5 % × S × Q) is 3,000.
        assertLe(state.requirementMM - mmBefore, (0.005e18 * 3_000 * 200e18) / 1e18 + 1e18);
        assertEq(uint8(state.health), uint8(IMarginEngine.Health.HEALTHY));
    }

    /// @dev The rv16c F3 account (100 short calls, 60,000 USD, over twice maintenance): the largest
    /// single step from off (κ·c = 1 %: κ 0.25 %, L 1, ratio 4) leaves it healthy; the jump to
    /// κ 25 % that made it liquidatable is refused, and so is the old 5-point step.
    function test_oneRaiseNoLongerLiquidatesAHealthyAccount() public {
        SeriesId call30Otm = _createSeries(ethIndex, 30, 3_300e18, true);
        AccountId maker = _account(carol, 7);
        _fundAndDeposit(carol, maker, usdc, 60_000e6);
        _trade(carolKey, maker, bobAccount, call30Otm, -100e18, 30e18);
        IMarginEngine.MarginState memory state = engine.accountMargin(maker);
        assertGt(state.equityMM, 2 * int256(state.requirementMM), "more than twice maintenance");

        vm.startPrank(riskManager);
        _expectStep(_params(0.25e18, 4e18, 1e18));
        _expectStep(_params(0.05e18, 4e18, 1e18));
        manager.setConcentrationParams(ethIndex, _params(0.0025e18, 4e18, 1e18));
        vm.stopPrank();
        state = engine.accountMargin(maker);
        assertGt(state.equityMM, int256(state.requirementMM), "one step leaves it above maintenance");
        assertLt(uint8(state.health), uint8(IMarginEngine.Health.LIQUIDATABLE));
    }

    // ------------------------------------------------------------ the add-on

    /// @dev Review rv16c F4 (documented, not prevented): the add-on is per account, so one owner
    /// moving shorts to fresh subaccounts (`transferPositions`: no fill, fee or cap) pays 1/N of
    /// the quadratic part. Q = 400 = c·L on one account pays 240,000 USD; ten pieces of 40 pay
    /// 24,000. The open-interest caps, not the add-on, bound the total (`docs/risk-model.md`).
    function test_splittingOverSubaccountsDividesTheAddOn() public {
        _setParams(ethIndex, KAPPA, 4e18, LIQUIDITY);
        _trade(carolKey, carolAccount, bobAccount, call30, -400e18, 100e18);
        uint256 whole = MarginMath.concentrationAddOnUp(400e18, 3_000e18, KAPPA, LIQUIDITY, 4e18);
        assertEq(whole, 240_000e18); // 0.05 × 3,000 × 400 × 4
        uint256 total = MarginMath.concentrationAddOnUp(40e18, 3_000e18, KAPPA, LIQUIDITY, 4e18);
        SeriesId[] memory ids = new SeriesId[](1);
        ids[0] = call30;
        int256[] memory amounts = new int256[](1);
        amounts[0] = -40e18;
        for (uint96 i = 1; i < 10; ++i) {
            AccountId sub = _account(carol, 10 + i);
            _fundAndDeposit(carol, sub, usdc, 1_000_000e6);
            vm.prank(carol);
            market.transferPositions(carolAccount, sub, ids, amounts);
            total += MarginMath.concentrationAddOnUp(40e18, 3_000e18, KAPPA, LIQUIDITY, 4e18);
        }
        assertEq(market.positionOf(carolAccount, call30), -40e18);
        assertEq(total, whole / 10, "ten subaccounts pay a tenth");
    }

    /// @dev 50 short calls, κ = 5 %, L = 100, ETH at 3,000: Q / L = 0.5, so the add-on is
    /// 0.05 × 3,000 × 50 × 0.5 = 3,750 USD on initial margin and 1,875 on maintenance; twice the
    /// size pays four times (15,000), and past maxRatio × L = 200 contracts it grows linearly.
    function test_cross_addOnMatchesTheHandCalculation() public {
        _trade(carolKey, carolAccount, bobAccount, call30, -50e18, 100e18);
        IMarginEngine.MarginState memory off = engine.accountMargin(carolAccount);
        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        IMarginEngine.MarginState memory on = engine.accountMargin(carolAccount);
        assertEq(on.requirementIM - off.requirementIM, 3_750e18);
        assertEq(on.requirementMM - off.requirementMM, 1_875e18);
        assertEq(on.equityIM, off.equityIM, "equity is untouched");

        _trade(carolKey, carolAccount, bobAccount, call30, -50e18, 100e18); // 100 contracts
        _assertAddOn(carolAccount, 15_000e18);
        _trade(carolKey, carolAccount, bobAccount, call30, -200e18, 100e18); // 300 contracts, ratio capped at 2
        _assertAddOn(carolAccount, 90_000e18); // 0.05 × 3,000 × 300 × 2
    }

    /// @dev Q is the gross short count of every unsettled series on the underlying (calls and
    /// puts, never netted by longs), and each underlying has its own parameters.
    function test_addOnCountsGrossShortsPerUnderlying() public {
        _trade(carolKey, carolAccount, bobAccount, call30, -30e18, 100e18);
        _trade(carolKey, carolAccount, bobAccount, put30, -20e18, 100e18);
        SeriesId call3000 = _createSeries(ethIndex, 30, 3_000e18, true);
        _trade(carolKey, carolAccount, bobAccount, call3000, 40e18, 300e18); // a long nets nothing
        _trade(carolKey, carolAccount, bobAccount, btcCall30, -10e18, 2_000e18); // BTC: off
        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        _assertAddOn(carolAccount, 3_750e18); // Q = 50 on ETH, as 50 calls alone

        _setParams(btcIndex, 0.01e18, MAX_RATIO, 20e18); // BTC: 0.01 × 60,000 × 10 × 0.5 = 3,000
        _assertAddOn(carolAccount, 6_750e18);
    }

    /// @dev Security, "OI inflation": the add-on reads only the account's own shorts and the
    /// governed L, so nobody else's trades (a wash pair inflating open interest, say) move it.
    function test_othersOpenInterestDoesNotMoveTheAddOn() public {
        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        _trade(carolKey, carolAccount, bobAccount, call30, -50e18, 100e18);
        IMarginEngine.MarginState memory before = engine.accountMargin(carolAccount);
        (address eve, uint256 eveKey) = makeAddrAndKey("eve");
        AccountId eveShort = _account(eve, 1);
        _fundAndDeposit(eve, eveShort, usdc, 10_000_000e6);
        _fundAndDeposit(eve, _account(eve, 2), usdc, 10_000_000e6);
        _trade(eveKey, eveShort, _account(eve, 2), call30, -1_000e18, 100e18);
        assertEq(market.openInterest(call30), 1_050e18);
        assertEq(abi.encode(engine.accountMargin(carolAccount)), abi.encode(before));
    }

    function test_portfolio_addOnMatchesTheHandCalculation() public {
        _trade(carolKey, carolPortfolio, bobAccount, call30, -50e18, 100e18);
        IMarginEngine.MarginState memory off = engine.accountMargin(carolPortfolio);
        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        IMarginEngine.MarginState memory on = engine.accountMargin(carolPortfolio);
        assertEq(on.requirementIM - off.requirementIM, 3_750e18);
        assertEq(on.requirementMM - off.requirementMM, 1_875e18, "half, not the portfolio's mmFactor");
        // A hedged book pays it too: liquidating 50 contracts is the same job either way.
        _trade(carolKey, carolPortfolio, bobAccount, _createSeries(ethIndex, 30, 3_200e18, true), 50e18, 150e18);
        _assertAddOn(carolPortfolio, 3_750e18);
    }

    function test_settledShortsCarryNoAddOn() public {
        SeriesId call7 = _createSeries(ethIndex, 7, 3_300e18, true);
        _trade(carolKey, carolAccount, bobAccount, call7, -50e18, 30e18);
        _trade(carolKey, carolPortfolio, bobAccount, call7, -50e18, 30e18);
        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        uint256 exp = _expiry(7);
        vm.warp(exp + 30);
        ethUsd.updateAnswer(3_000e8);
        // Expired, price not posted: still at risk (at spot), still charged.
        _assertAddOn(carolAccount, 3_750e18);
        oracle.postSettlementPrice(address(weth), exp, uint80(ethUsd.latestRound()), new uint80[](0));
        _refreshFeeds();
        assertEq(engine.accountMargin(carolAccount).requirementIM, 0, "settled: nothing required");
        assertEq(engine.accountMargin(carolPortfolio).requirementIM, 0, "settled: nothing required");
    }

    /// @dev The add-on is part of initial margin on every trade: a fill the account could afford
    /// without it is refused once it would take the account below IM.
    function test_addOnIsEnforcedOnNewRisk() public {
        AccountId thin = _account(carol, 3);
        _fundAndDeposit(carol, thin, usdc, 50_000e6);
        // 15,000 of IM without the add-on; 0.05 × 3,000 × 50 × 4 = 30,000 more with it.
        _trade(carolKey, thin, bobAccount, call30, -50e18, 100e18);
        _setParams(ethIndex, KAPPA, 4e18, 10e18);
        assertEq(uint8(engine.accountMargin(thin).health), uint8(IMarginEngine.Health.HEALTHY));
        vm.expectRevert(); // EngineBelowInitialMargin, bubbled by the market's gate
        this.tradeExternal(thin, call30, -10e18);
        // Closing stays open: the add-on shrinks faster than the position.
        _trade(carolKey, thin, bobAccount, call30, 10e18, 100e18);
    }

    function tradeExternal(AccountId account, SeriesId id, int256 size) external {
        _trade(carolKey, account, bobAccount, id, size, 100e18);
    }

    /// @dev With the defaults (κ = 0 everywhere) nothing changes: the standard requirement is the
    /// per-contract sum, to the wei, and explicit "off" parameters give the same numbers.
    function test_defaults_changeNothing() public {
        _trade(carolKey, carolAccount, bobAccount, call30, -50e18, 100e18);
        _trade(carolKey, carolAccount, bobAccount, put30, -20e18, 100e18);
        IMarginEngine.MarginState memory state = engine.accountMargin(carolAccount);
        IMarginEngine.RiskParams memory p = _standardParams();
        uint256 expected =
            MarginMath.positionRequirementUp(
                -50e18,
                MarginMath.shortRequirementUp(true, 3_000e18, 3_300e18, p.aIM, p.bIM)
            ) +
                MarginMath.positionRequirementUp(
                    -20e18,
                    MarginMath.shortRequirementUp(false, 3_000e18, 2_700e18, p.aIM, p.bIM)
                );
        assertEq(state.requirementIM, expected);
        IMarginEngine.MarginState memory portfolio = engine.accountMargin(carolPortfolio);
        _setParams(ethIndex, 0, MAX_RATIO, LIQUIDITY);
        assertEq(abi.encode(engine.accountMargin(carolAccount)), abi.encode(state));
        assertEq(abi.encode(engine.accountMargin(carolPortfolio)), abi.encode(portfolio));
        uint256[] memory shorts = new uint256[](3);
        shorts[1] = 70e18;
        uint256[] memory spots = new uint256[](3);
        spots[1] = 3_000e18;
        (uint256 initialWad, uint256 maintenanceWad) = manager.concentrationAddOnUp(shorts, spots);
        assertEq(initialWad + maintenanceWad, 0);
    }

    // ------------------------------------------------------------ the engine's flags

    /// @dev The engine keeps one bit per underlying, set while its κ > 0, so a standard check
    /// asks the manager only for a book with a short on a flagged underlying. Every accepted call
    /// sets the bit from κ; a refused call leaves it.
    function test_concentrationFlags_followEveryAcceptedCall() public {
        uint64 eth = uint64(1) << ethIndex;
        uint64 btc = uint64(1) << btcIndex;
        assertEq(engine.concentrationFlags(), 0, "off by default");
        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        assertEq(engine.concentrationFlags(), eth);
        _setParams(btcIndex, 0.01e18, MAX_RATIO, 20e18);
        assertEq(engine.concentrationFlags(), eth | btc);
        vm.startPrank(riskManager);
        _expectInvalid(_params(KAPPA, 0.1e18 - 1, LIQUIDITY)); // refused with κ > 0
        _expectStep(_params(0.25e18, MAX_RATIO, LIQUIDITY)); // refused with κ > 0
        manager.setConcentrationParams(ethIndex, _params(0, MAX_RATIO, LIQUIDITY));
        assertEq(engine.concentrationFlags(), btc, "off again: the bit is cleared");
        _expectInvalid(_params(0, 0.1e18 - 1, LIQUIDITY)); // refused with κ = 0
        vm.stopPrank();
        assertEq(engine.concentrationFlags(), btc, "a refused call changes nothing");
    }

    /// @dev Every listable index has a bit in the 64-bit flags (review rv47 P3-1: past 63,
    /// `uint64(1) << index` would be 0 and the add-on of that underlying silently skipped).
    function test_concentrationFlags_haveABitForEveryListableIndex() public view {
        assertLt(engine.MAX_UNDERLYINGS(), 64);
    }

    /// @dev Only the engine's own manager writes a flag, and only for a listed underlying.
    function test_setConcentrationFlag_onlyTheManagerOnAListedIndex() public {
        address[3] memory callers = [alice, admin, riskManager];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineCallerNotPortfolioManager.selector, callers[i]));
            engine.setConcentrationFlag(ethIndex, true);
        }
        vm.prank(address(manager));
        vm.expectRevert(abi.encodeWithSelector(IMarginEngine.EngineUnderlyingNotListed.selector, address(0)));
        engine.setConcentrationFlag(3, true);
        assertEq(engine.concentrationFlags(), 0);
    }

    /// @dev A standard check calls the manager only when a short of the book is on a flagged
    /// underlying; a long on one, or a short on another, asks nothing and adds nothing. Three
    /// checks below, one call in all: the last, whose add-on only the manager can have computed.
    function test_standardCheckAsksTheManagerOnlyForAFlaggedShort() public {
        _trade(carolKey, carolAccount, bobAccount, call30, -50e18, 100e18); // short ETH
        _trade(carolKey, carolAccount, bobAccount, btcCall30, 10e18, 2_000e18); // long BTC
        vm.expectCall(address(manager), abi.encodeWithSelector(manager.concentrationAddOnUp.selector), 1);
        IMarginEngine.MarginState memory off = engine.accountMargin(carolAccount);

        _setParams(btcIndex, 0.01e18, MAX_RATIO, 20e18);
        assertEq(abi.encode(engine.accountMargin(carolAccount)), abi.encode(off), "a flagged long adds nothing");

        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        IMarginEngine.MarginState memory on = engine.accountMargin(carolAccount);
        assertEq(on.requirementIM - off.requirementIM, 3_750e18);
    }

    /// @dev Any sequence of calls, accepted or refused, on both underlyings: the flags equal
    /// "κ > 0" for each, and a book short on both pays exactly the formula's add-on of each.
    function testFuzz_flagsAndAddOnFollowTheParams(uint256 seed) public {
        _trade(carolKey, carolAccount, bobAccount, call30, -50e18, 100e18);
        _trade(carolKey, carolAccount, bobAccount, btcCall30, -10e18, 2_000e18);
        IMarginEngine.MarginState memory off = engine.accountMargin(carolAccount);
        uint16[2] memory indices = [ethIndex, btcIndex];
        uint256[2] memory shorts = [uint256(50e18), 10e18];
        uint256[2] memory spots = [uint256(3_000e18), 60_000e18];
        for (uint256 i; i < 8; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint16 index = indices[r & 1];
            uint256 kappa = (r >> 1) % 4 == 0 ? 0 : bound(r >> 8, 1, 0.03e18);
            IPortfolioManager.ConcentrationParams memory p = _params(
                kappa,
                bound(r >> 72, 0.05e18, 4.5e18),
                bound(r >> 136, 0.5e18, 1e22)
            );
            vm.prank(riskManager);
            try manager.setConcentrationParams(index, p) {} catch {}

            uint256 addOn;
            for (uint256 u; u < 2; ++u) {
                IPortfolioManager.ConcentrationParams memory q = manager.concentrationParams(indices[u]);
                assertEq((engine.concentrationFlags() >> indices[u]) & 1 == 1, q.kappaWad != 0, "flag = (kappa > 0)");
                addOn += MarginMath.concentrationAddOnUp(
                    shorts[u],
                    spots[u],
                    q.kappaWad,
                    q.liquidityWad,
                    q.maxRatioWad
                );
            }
            IMarginEngine.MarginState memory state = engine.accountMargin(carolAccount);
            assertEq(state.requirementIM, off.requirementIM + addOn, "initial");
            assertEq(state.requirementMM, off.requirementMM + FixedPointMathLib.mulWadUp(addOn, 0.5e18), "maintenance");
        }
    }

    // ------------------------------------------------------------ the formula

    /// @dev Monotone in size (a larger book never pays less), quadratic up to the cap (twice the
    /// size pays four times, up to rounding), linear beyond it, never above κ × maxRatio × S × Q.
    function testFuzz_addOnIsMonotoneInSize(
        uint256 q1,
        uint256 q2,
        uint256 kappa,
        uint256 ratio,
        uint256 l
    ) public pure {
        q1 = bound(q1, 0, 1e30);
        q2 = bound(q2, q1, 1e30);
        kappa = bound(kappa, 1, 0.25e18);
        ratio = bound(ratio, 0.1e18, 4e18);
        l = bound(l, 1e18, 1e27);
        uint256 spot = 3_000e18;
        uint256 a1 = MarginMath.concentrationAddOnUp(q1, spot, kappa, l, ratio);
        uint256 a2 = MarginMath.concentrationAddOnUp(q2, spot, kappa, l, ratio);
        assertLe(a1, a2, "monotone in size");
        // Never more than κ · S per contract times the capped ratio.
        uint256 ceiling = FixedPointMathLib.mulWadUp(
            FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(kappa, spot), q2),
            ratio
        );
        assertLe(a2, ceiling);
        // Rounding up adds a few wei: compare only add-ons where that is far below the tolerance.
        if (q1 != 0 && 2 * q1 <= (l * ratio) / 1e18 && q1 >= 1e18 && a1 >= 1e9) {
            uint256 doubled = MarginMath.concentrationAddOnUp(2 * q1, spot, kappa, l, ratio);
            assertApproxEqRel(doubled, 4 * a1, 1e12, "quadratic below the cap");
        }
    }

    /// @dev On chain, in both modes: the add-on part of the requirement grows with every short
    /// added, whatever the series, and equals the formula at the account's gross short count.
    function testFuzz_accountAddOnIsMonotoneInSize(uint256 first, uint256 second, bool portfolio) public {
        first = bound(first, 1e16, 150e18);
        second = bound(second, 1e16, 150e18);
        AccountId account = portfolio ? carolPortfolio : carolAccount;
        _setParams(ethIndex, KAPPA, MAX_RATIO, LIQUIDITY);
        _trade(carolKey, account, bobAccount, call30, -int256(first), 100e18);
        uint256 before = _addOn(account);
        assertEq(before, MarginMath.concentrationAddOnUp(first, 3_000e18, KAPPA, LIQUIDITY, MAX_RATIO));
        _trade(carolKey, account, bobAccount, put30, -int256(second), 100e18);
        uint256 grown = _addOn(account);
        assertGt(grown, before, "more shorts, more add-on");
        assertEq(grown, MarginMath.concentrationAddOnUp(first + second, 3_000e18, KAPPA, LIQUIDITY, MAX_RATIO));
    }

    // ------------------------------------------------------------ helpers

    /// @dev The initial add-on of `account` under ETH's current parameters (BTC off).
    function _addOn(AccountId account) internal returns (uint256 addOn) {
        IPortfolioManager.ConcentrationParams memory saved = manager.concentrationParams(ethIndex);
        uint256 on = engine.accountMargin(account).requirementIM;
        _setParams(ethIndex, 0, MAX_RATIO, LIQUIDITY);
        addOn = on - engine.accountMargin(account).requirementIM;
        _setParams(ethIndex, saved.kappaWad, saved.maxRatioWad, saved.liquidityWad);
    }

    function _assertAddOn(AccountId account, uint256 expected) internal {
        IMarginEngine.MarginState memory on = engine.accountMargin(account);
        IPortfolioManager.ConcentrationParams memory saved = manager.concentrationParams(ethIndex);
        IPortfolioManager.ConcentrationParams memory savedBtc = manager.concentrationParams(btcIndex);
        _setParams(ethIndex, 0, MAX_RATIO, LIQUIDITY);
        _setParams(btcIndex, 0, MAX_RATIO, LIQUIDITY);
        IMarginEngine.MarginState memory off = engine.accountMargin(account);
        assertEq(on.requirementIM - off.requirementIM, expected, "initial add-on");
        assertEq(on.requirementMM - off.requirementMM, (expected + 1) / 2, "maintenance add-on");
        if (saved.liquidityWad != 0) _setParams(ethIndex, saved.kappaWad, saved.maxRatioWad, saved.liquidityWad);
        if (savedBtc.liquidityWad != 0) {
            _setParams(btcIndex, savedBtc.kappaWad, savedBtc.maxRatioWad, savedBtc.liquidityWad);
        }
    }

    /// @dev Sets the parameters the way the risk manager must (`PortfolioConcentrationStepTooLarge`):
    /// off (free) when the ratio or L change, then κ up in steps that raise κ·c by at most
    /// `MAX_CONCENTRATION_ADD_ON_STEP` each; a lower κ in one call.
    function _setParams(uint16 index, uint64 kappa, uint64 ratio, uint128 liquidity) internal {
        IPortfolioManager.ConcentrationParams memory p = manager.concentrationParams(index);
        vm.startPrank(riskManager);
        if (p.maxRatioWad != ratio || p.liquidityWad != liquidity || p.kappaWad > kappa) {
            p = _params(0, ratio, liquidity);
            manager.setConcentrationParams(index, p);
        }
        uint256 step = (manager.MAX_CONCENTRATION_ADD_ON_STEP() * 1e18) / ratio - 1;
        while (p.kappaWad < kappa) {
            p.kappaWad = uint64(FixedPointMathLib.min(kappa, p.kappaWad + step));
            manager.setConcentrationParams(index, p);
        }
        vm.stopPrank();
    }

    function _params(
        uint256 kappa,
        uint256 ratio,
        uint256 liquidity
    ) internal pure returns (IPortfolioManager.ConcentrationParams memory) {
        return IPortfolioManager.ConcentrationParams(uint64(kappa), uint64(ratio), uint128(liquidity));
    }

    function _expectStep(IPortfolioManager.ConcentrationParams memory p) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IPortfolioManager.PortfolioConcentrationStepTooLarge.selector,
                ethIndex,
                manager.concentrationParams(ethIndex),
                p
            )
        );
        manager.setConcentrationParams(ethIndex, p);
    }

    function _expectInvalid(IPortfolioManager.ConcentrationParams memory p) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IPortfolioManager.PortfolioInvalidConcentrationParams.selector, ethIndex, p)
        );
        manager.setConcentrationParams(ethIndex, p);
    }
}
