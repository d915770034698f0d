// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {Vm} from "forge-std/Vm.sol";
import {IBackstop} from "../../../contracts/interfaces/IBackstop.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {Backstop} from "../../../contracts/liquidation/Backstop.sol";
import {AccountLib} from "../../../contracts/libraries/AccountLib.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {LiquidationFixture} from "../../helpers/LiquidationFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @dev A liquidator stand-in for one backstop: it reports every auction running and, asked to
/// terminate one, calls the backstop back with whatever it was armed with, passing on any revert.
/// The backstop calls the liquidator last in each step; this is where a re-entry would come from.
contract CallingBackLiquidator {
    AccountId public immutable insuranceAccount;
    IBackstop public backstop;
    bytes private _call;

    constructor(AccountId insuranceAccount_) {
        insuranceAccount = insuranceAccount_;
    }

    function setBackstop(IBackstop backstop_, bytes calldata call) external {
        (backstop, _call) = (backstop_, call);
    }

    function auctionOf(AccountId) external pure returns (ILiquidator.Auction memory a) {
        a.active = true;
    }

    function terminateAuction(AccountId) external {
        Address.functionCall(address(backstop), _call);
    }
}

/// @notice The backstop's steps (issue 16): a bare cash debt covered at par, refusals of every
/// account its condition does not hold for, and the latent-insolvency view.
contract BackstopTest is LiquidationFixture {
    address internal erin;
    uint256 internal erinKey;
    AccountId internal erinAccount;

    function setUp() public override {
        super.setUp();
        (erin, erinKey) = makeAddrAndKey("erin");
        erinAccount = _account(erin, 1);
    }

    function test_constructor_refusesZeroAddressesAndWiresTheLiquidatorsFund() public {
        vm.expectRevert(IBackstop.BackstopZeroAddress.selector);
        new Backstop(address(0), vault, engine, market, liquidator, _takeoverBudget());
        vm.expectRevert(IBackstop.BackstopZeroAddress.selector);
        new Backstop(admin, vault, engine, market, ILiquidator(address(0)), _takeoverBudget());
        assertEq(AccountId.unwrap(backstop.insuranceAccount()), AccountId.unwrap(insurance.account()));
        assertTrue(backstop.hasRole(backstop.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(vault.hasRole(Roles.MODULE_ROLE, address(backstop)));
    }

    // ------------------------------------------------------------ absorbDebt

    /// @dev A bare cash debt has nothing to sell: no auction (no discount paid on it); the
    /// insurance fund absorbs it at par, and the same call again is refused.
    function test_absorbDebt_coversABareDebtAtPar() public {
        _fundAndDeposit(alice, insurance.account(), usdc, 100_000e6);
        int256 debt = _bareDebt(carolAccount, 50_000e6);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorNothingToSell.selector, carolAccount));
        liquidator.startAuction(carolAccount);
        int256 fundBefore = vault.cashOf(insurance.account());
        vm.expectEmit(address(backstop));
        emit IBackstop.DebtAbsorbed(carolAccount, uint256(-debt));
        backstop.absorbDebt(carolAccount);
        assertEq(vault.cashOf(carolAccount), 0);
        assertEq(vault.cashOf(insurance.account()), fundBefore + debt, "covered at par");
        assertEq(backstop.badDebt(), 0);
        vm.expectRevert(abi.encodeWithSelector(IBackstop.BackstopNotAnEmptyDebtor.selector, carolAccount));
        backstop.absorbDebt(carolAccount);
    }

    /// @dev What the fund does not hold becomes bad debt, announced with its amount and total,
    /// which the liquidator reads the same.
    function test_absorbDebt_beyondTheFundIsBadDebt() public {
        _fundAndDeposit(alice, insurance.account(), usdc, 10_000e6);
        _bareDebt(erinAccount, 12_000e6); // erin's debt: 8,000 − 12,000 = −4,000 (see `_bareDebt`)
        _bareDebt(carolAccount, 18_000e6); // carol's: 8,000 − 18,000 = −10,000
        backstop.absorbDebt(erinAccount); // the fund: 10,000 → 6,000, all covered
        assertEq(backstop.badDebt(), 0);
        vm.expectEmit(address(backstop));
        emit IBackstop.BadDebtIncurred(carolAccount, 4_000e6, 4_000e6);
        backstop.absorbDebt(carolAccount);
        assertEq(backstop.badDebt(), 4_000e6);
        assertEq(liquidator.badDebt(), backstop.badDebt());
        // Cash on an index (issue 15): the fund owes nothing; every cash creditor bore the 4,000.
        assertEq(vault.cashOf(insurance.account()), 0, "the fund owes nothing on the index");
        assertEq(vault.lossSocialized() + vault.unabsorbedLoss(), 4_000e6, "shared by the creditors");
    }

    /// @dev A payment the fund covers reads `badDebt()` never and announces nothing (session 47:
    /// reading it before and after every payment cost two calls).
    function test_payFromFund_coveredReadsNoBadDebt() public {
        _fundAndDeposit(alice, insurance.account(), usdc, 10_000e6);
        _bareDebt(erinAccount, 12_000e6); // −4,000, covered
        vm.expectCall(address(vault), abi.encodeCall(ICollateralVault.badDebt, ()), 0);
        vm.recordLogs();
        backstop.absorbDebt(erinAccount);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) assertNotEq(logs[i].topics[0], IBackstop.BadDebtIncurred.selector);
        // `badDebt()`'s terms, read apart: the counted expectation above covers the test's own calls.
        assertEq(vault.lossSocialized() + vault.unabsorbedLoss(), 0);
    }

    /// @dev A write-off beyond every claim: the creditors' pass absorbs what they hold, the
    /// payee-inclusive pass and the loss held apart take the rest, and `BadDebtIncurred` still
    /// carries the whole debt (`moveCash`'s `writtenOff`) and the total after, read once.
    function test_payFromFund_beyondEveryClaimAnnouncesTheWholeDebt() public {
        // Erin's debt goes to the settlement account's raw balance, which is no claim on the index,
        // so it can exceed every claim: the fund (empty) pays it, and 5,000 is left for no claim.
        _fundAndDeposit(erin, erinAccount, usdc, 8_000e6);
        uint256 debt = vault.totalCashCredit() - 8_000e6 + 5_000e6;
        AccountId settlement = market.settlementAccount();
        vm.prank(module);
        vault.moveCash(erinAccount, settlement, 8_000e6 + debt);
        assertEq(vault.cashOf(erinAccount), -int256(debt));
        assertEq(vault.cashOf(insurance.account()), 0, "the fund holds nothing");
        uint256 before = backstop.badDebt();
        vm.expectCall(address(vault), abi.encodeCall(ICollateralVault.badDebt, ()), 1);
        vm.expectEmit(address(backstop));
        emit IBackstop.BadDebtIncurred(erinAccount, debt, before + debt);
        backstop.absorbDebt(erinAccount);
        assertEq(vault.lossSocialized() + vault.unabsorbedLoss(), before + debt);
        assertGt(vault.unabsorbedLoss(), 0, "part of it is held apart");
    }

    /// @dev The protocol's own accounts take no backstop step, even holding a bare debt (the
    /// settlement account's is a transient of settlement order).
    function test_absorbDebt_refusesProtectedAccounts() public {
        vm.prank(admin);
        market.setFeeAccount(_account(admin, 9));
        AccountId[3] memory protectedAccounts = [insurance.account(), market.settlementAccount(), market.feeAccount()];
        for (uint256 i; i < 3; ++i) {
            vm.prank(module);
            vault.moveCash(protectedAccounts[i], bobAccount, 1_000e6);
            vm.expectRevert(abi.encodeWithSelector(IBackstop.BackstopProtectedAccount.selector, protectedAccounts[i]));
            backstop.absorbDebt(protectedAccounts[i]);
        }
    }

    /// @dev Bad input: an account with no debt (empty, or healthy with cash), or with a debt next
    /// to collateral or a position (which an auction sells), is not an empty debtor.
    function test_absorbDebt_refusesAnythingButABareDebt() public {
        AccountId empty = _account(makeAddr("nobody"), 3);
        vm.expectRevert(abi.encodeWithSelector(IBackstop.BackstopNotAnEmptyDebtor.selector, empty));
        backstop.absorbDebt(empty);
        vm.expectRevert(abi.encodeWithSelector(IBackstop.BackstopNotAnEmptyDebtor.selector, bobAccount));
        backstop.absorbDebt(bobAccount); // healthy, cash only

        // A debt next to collateral: 1 WETH and −1,000 USDC.
        _fundAndDeposit(erin, erinAccount, weth, 1e18);
        vm.prank(module);
        vault.moveCash(erinAccount, bobAccount, 1_000e6);
        vm.expectRevert(abi.encodeWithSelector(IBackstop.BackstopNotAnEmptyDebtor.selector, erinAccount));
        backstop.absorbDebt(erinAccount);

        // A debt next to a position (carol short calls, her cash then taken below zero).
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -1e18, 100e18);
        vm.prank(module);
        vault.moveCash(carolAccount, bobAccount, 9_000e6);
        assertLt(vault.cashOf(carolAccount), 0);
        vm.expectRevert(abi.encodeWithSelector(IBackstop.BackstopNotAnEmptyDebtor.selector, carolAccount));
        backstop.absorbDebt(carolAccount);
    }

    /// @dev The backstop moves cash only as the vault's module: without the role it cannot act.
    function test_absorbDebt_needsTheVaultModuleRole() public {
        _bareDebt(carolAccount, 10_000e6);
        vm.prank(admin);
        vault.revokeRole(Roles.MODULE_ROLE, address(backstop));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                address(backstop),
                Roles.MODULE_ROLE
            )
        );
        backstop.absorbDebt(carolAccount);
    }

    /// @dev An auction still open on the account (settlement left it a bare debt) is ended in the
    /// same call, through the liquidator's permissionless `terminateAuction`.
    function test_absorbDebt_endsTheAccountsAuction() public {
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 100e18);
        for (int256 price = 3_000e8; engine.accountMargin(carolAccount).health < IMarginEngine.Health.INSOLVENT;) {
            price += 50e8;
            _setPrice(ethUsd, price);
        }
        liquidator.startAuction(carolAccount);
        uint40 expiry = SeriesLib.expiryOf(call30);
        vm.warp(expiry + 30);
        _setPrice(ethUsd, 9_000e8); // deep in the money: settling leaves carol a bare debt
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        market.settle(carolAccount, call30);
        assertTrue(liquidator.auctionOf(carolAccount).active);
        // The pair an indexer reads as "emptied" (docs/liquidation.md, "Events"; review rv16 F6):
        // the Backstop's DebtAbsorbed, then the Liquidator's AuctionEnded(account, false).
        vm.expectEmit(address(backstop));
        emit IBackstop.DebtAbsorbed(carolAccount, uint256(-vault.cashOf(carolAccount)));
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        backstop.absorbDebt(carolAccount);
        assertFalse(liquidator.auctionOf(carolAccount).active);
        assertEq(vault.cashOf(carolAccount), 0);
    }

    // ------------------------------------------------------------ latentInsolvency

    /// @dev The view lists exactly the accounts with maintenance equity below zero, in the order
    /// given, each with `−equityMM`, and their count and sum, as `engine.accountsMargin` values them.
    function test_latentInsolvency_listsTheAccountsBelowZeroEquity() public {
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 100e18);
        _fundAndDeposit(erin, erinAccount, usdc, 30_000e6);
        _trade(erinKey, erinAccount, bobAccount, call30, -10e18, 100e18);
        for (int256 price = 3_000e8; engine.accountMargin(carolAccount).equityMM >= 0;) {
            price += 50e8;
            _setPrice(ethUsd, price);
        }
        AccountId[] memory accounts = new AccountId[](4);
        accounts[0] = bobAccount;
        accounts[1] = carolAccount;
        accounts[2] = erinAccount;
        accounts[3] = daveAccount;
        IBackstop.LatentInsolvency memory latent = backstop.latentInsolvency(accounts);
        IMarginEngine.MarginState[] memory states = engine.accountsMargin(accounts);
        uint256 count;
        uint256 total;
        for (uint256 i; i < accounts.length; ++i) {
            if (states[i].equityMM >= 0) continue;
            assertEq(AccountId.unwrap(latent.accounts[count].account), AccountId.unwrap(accounts[i]));
            assertEq(latent.accounts[count].shortfallWad, uint256(-states[i].equityMM));
            total += uint256(-states[i].equityMM);
            ++count;
        }
        assertEq(count, 1, "carol only: erin has posted enough");
        assertEq(latent.count, count);
        assertEq(latent.accounts.length, count);
        assertEq(latent.totalShortfallWad, total);
        assertGt(total, 0);

        IBackstop.LatentInsolvency memory none = backstop.latentInsolvency(new AccountId[](0));
        assertEq(none.count, 0);
        assertEq(none.totalShortfallWad, 0);
        assertEq(none.accounts.length, 0);
        assertEq(none.unpriced.length, 0);
        assertEq(latent.unpriced.length, 0);
    }

    /// @dev Review rv16 F3: the view made one `accountsMargin` call, so one account with a position
    /// whose feeds are stale reverted it for everyone, hiding the others when it mattered. Each
    /// account is now valued on its own: the stale one is listed as unpriced, the others reported.
    function test_rv16F3_oneStaleFeedNoLongerHidesEveryAccount() public {
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 100e18);
        _bareDebt(erinAccount, 10_000e6); // cash only: needs no price, 2,000 below zero
        vm.warp(block.timestamp + 2 hours); // ETH feeds stale; BTC refreshed
        btcUsd.updateAnswer(btcUsd.latestAnswer());
        btcVol.updateAnswer(btcVol.latestAnswer());
        vm.expectRevert();
        engine.accountMargin(carolAccount);

        AccountId[] memory accounts = new AccountId[](3);
        accounts[0] = daveAccount; // cash only, solvent
        accounts[1] = carolAccount; // a short on ETH, whose feeds are stale
        accounts[2] = erinAccount;
        IBackstop.LatentInsolvency memory latent = backstop.latentInsolvency(accounts);
        assertEq(latent.count, 1);
        assertEq(AccountId.unwrap(latent.accounts[0].account), AccountId.unwrap(erinAccount));
        assertEq(latent.totalShortfallWad, 2_000e18);
        assertEq(latent.unpriced.length, 1);
        assertEq(AccountId.unwrap(latent.unpriced[0]), AccountId.unwrap(carolAccount));
    }

    /// @dev Review rv16 F3: per-account `try` must not turn the caller's gas budget into "unpriced":
    /// at every budget the view either answers exactly as with plenty of gas or reverts (out of
    /// gas valuing an account: `BackstopOutOfGas`), so the SDK splits the chunk instead.
    function test_rv16F3_outOfGasRevertsInsteadOfListingUnpriced() public {
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 100e18);
        _bareDebt(erinAccount, 10_000e6);
        AccountId[] memory accounts = new AccountId[](3);
        accounts[0] = carolAccount;
        accounts[1] = daveAccount;
        accounts[2] = erinAccount;
        bytes memory call = abi.encodeCall(IBackstop.latentInsolvency, (accounts));
        (, bytes memory full) = address(backstop).staticcall(call);
        uint256 outOfGas;
        for (uint256 budget = 20_000; budget < 400_000; budget += 2_500) {
            (bool ok, bytes memory data) = address(backstop).staticcall{gas: budget}(call);
            if (ok) {
                assertEq(keccak256(data), keccak256(full), "a success is the full answer");
            } else if (data.length >= 4 && bytes4(data) == IBackstop.BackstopOutOfGas.selector) {
                ++outOfGas;
            }
        }
        assertGt(outOfGas, 0, "some budgets ran out inside an account's valuation");
    }

    /// @dev Review rv16 F4: the insurance account's realised bad debt came back as latent
    /// insolvency when the list held it (the keeper's index does), counted twice with `badDebt()`.
    /// The protocol's own accounts (insurance, settlement, fee) are now left out.
    function test_rv16F4_protocolAccountsAreLeftOut() public {
        _bareDebt(carolAccount, 18_000e6);
        backstop.absorbDebt(carolAccount); // empty fund: 10,000 of bad debt
        assertEq(backstop.badDebt(), 10_000e6);
        AccountId settlement = market.settlementAccount();
        vm.prank(module);
        vault.moveCash(settlement, bobAccount, 1_000e6); // a transient settlement debt
        vm.prank(admin);
        market.setFeeAccount(erinAccount);
        vm.prank(module);
        vault.moveCash(erinAccount, bobAccount, 500e6);

        AccountId[] memory accounts = new AccountId[](4);
        accounts[0] = carolAccount;
        accounts[1] = insurance.account();
        accounts[2] = settlement;
        accounts[3] = erinAccount;
        // The insurance account never owes on the index (issue 15: its shortfall is shared by the
        // creditors at once), so only the settlement and fee accounts are below zero here.
        assertEq(vault.cashOf(insurance.account()), 0);
        assertLt(engine.accountMargin(settlement).equityMM, 0);
        assertLt(engine.accountMargin(erinAccount).equityMM, 0);
        IBackstop.LatentInsolvency memory latent = backstop.latentInsolvency(accounts);
        assertEq(latent.count, 0, "no protocol account counted");
        assertEq(latent.totalShortfallWad, 0);
        assertEq(latent.unpriced.length, 0);
    }

    // ------------------------------------------------------------ helpers

    /// @dev `account` posts 8,000 USDC and is left with nothing but a cash debt of `taken` − 8,000,
    /// as settling an in-the-money short leaves one; the fixture's vault module stands in.
    /// @dev Session 40: the backstop's guard (transient since then) holds for a whole step: a
    /// liquidator that calls back into the backstop from `terminateAuction`, the step's last call,
    /// is refused, and a call back that does nothing lets the step land.
    function test_aCallBackIntoTheBackstopIsRefused() public {
        CallingBackLiquidator fake = new CallingBackLiquidator(insurance.account());
        Backstop b = new Backstop(admin, vault, engine, market, ILiquidator(address(fake)), _takeoverBudget());
        vm.prank(admin);
        vault.grantRole(Roles.MODULE_ROLE, address(b));
        _fundAndDeposit(alice, insurance.account(), usdc, 100_000e6);
        _bareDebt(carolAccount, 50_000e6);
        _bareDebt(erinAccount, 50_000e6);
        bytes[3] memory calls = [
            abi.encodeCall(b.absorbDebt, (erinAccount)),
            abi.encodeCall(b.takeover, (erinAccount)),
            abi.encodeCall(b.deleverage, (erinAccount, call30, new AccountId[](0)))
        ];
        for (uint256 i; i < calls.length; ++i) {
            fake.setBackstop(b, calls[i]);
            vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
            b.absorbDebt(carolAccount);
        }
        fake.setBackstop(b, abi.encodeCall(b.budgetLeft, ()));
        b.absorbDebt(carolAccount);
        assertEq(vault.cashOf(carolAccount), 0);
    }

    function _bareDebt(AccountId account, uint256 taken) internal returns (int256 debt) {
        _fundAndDeposit(AccountLib.ownerOf(account), account, usdc, 8_000e6);
        vm.prank(module);
        vault.moveCash(account, bobAccount, taken);
        debt = vault.cashOf(account);
        assertLt(debt, 0);
    }
}
