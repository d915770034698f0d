// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, Vm} from "forge-std/Test.sol";
import {ICollateralVault} from "../../contracts/interfaces/ICollateralVault.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {MockRateModel} from "../../contracts/mocks/MockRateModel.sol";
import {CollateralVault} from "../../contracts/vault/CollateralVault.sol";
import {VaultFixture} from "../helpers/VaultFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";

/// @notice Drives cash on the index: deposits, withdrawals, module moves, payments out of the
/// insurance fund beyond its balance (socialised losses), and, as actors, time and a rate model
/// whose rate changes and that sometimes fails. It holds MODULE_ROLE and tracks what the dust
/// bound allows.
contract CashHandler is Test {
    uint256 internal constant WAD = 1e18;
    uint256 public constant ACCOUNTS = 6;

    CollateralVault internal immutable vault;
    MockERC20 internal immutable usdc;
    MockRateModel internal immutable model;
    AccountId public immutable fund;
    address[3] internal owners;
    AccountId[ACCOUNTS] internal _accounts;

    uint256 public minted;
    /// @notice The rounding dust the bound of `docs/cash.md` allows so far, cash units.
    uint256 public dustAllowance;
    /// @notice Times an index moved the wrong way: the debt index down, or the supply index down
    /// without a loss written off.
    uint256 public indexRegressions;
    uint256 public losses;
    /// @notice Fund payments that wrote a debt off (`moveCash`'s `writtenOff` > 0).
    uint256 public writeOffs;
    /// @notice Moves whose `writtenOff` was not `badDebt()`'s rise (or was nonzero for a payer
    /// other than the fund).
    uint256 public writeOffMismatches;
    /// @notice Epoch resets whose event wrote off more than the claims, or an epoch ended without
    /// its event.
    uint256 public epochMismatches;
    /// @notice Cash epochs ended (review rv15b B): a loss beyond what a cut to the floor absorbs.
    uint256 public epochsEnded;
    /// @notice Epochs that ended with a nonzero closing rate (what was left converted).
    uint256 public convertingEpochs;
    /// @notice How far the supply share total may exceed Σ accounts: a share per account per epoch.
    uint256 public shareDustAllowance;
    uint256 internal _lastSupplyIndex = WAD;
    uint256 internal _lastDebtIndex = WAD;

    constructor(CollateralVault vault_, MockERC20 usdc_, MockRateModel model_, AccountId fund_) {
        vault = vault_;
        usdc = usdc_;
        model = model_;
        fund = fund_;
        owners = [makeAddr("owner0"), makeAddr("owner1"), makeAddr("owner2")];
        for (uint256 i; i < ACCOUNTS - 1; ++i) _accounts[i] = AccountLib.accountId(owners[i % 3], uint96(i / 3));
        _accounts[ACCOUNTS - 1] = fund_;
    }

    function accounts(uint256 i) external view returns (AccountId) {
        return _accounts[i];
    }

    function owner(uint256 i) external view returns (address) {
        return owners[i];
    }

    // ------------------------------------------------------------ cash

    function deposit(uint256 seed, uint256 amount) external {
        AccountId account = _accounts[seed % ACCOUNTS];
        amount = bound(amount, 1, 1e15);
        address holder = owners[seed % 3];
        usdc.mint(holder, amount);
        minted += amount;
        vm.startPrank(holder);
        usdc.approve(address(vault), amount);
        _before();
        vault.deposit(account, address(usdc), amount);
        vm.stopPrank();
        _after(1);
    }

    function withdraw(uint256 seed, uint256 amount) external {
        uint256 i = seed % (ACCOUNTS - 1);
        AccountId account = _accounts[i];
        int256 cash = vault.cashOf(account);
        if (cash <= 0) return;
        amount = bound(amount, 1, uint256(cash));
        address holder = AccountLib.ownerOf(account);
        _before();
        vm.prank(holder);
        // An illiquid vault refuses (others owe the rest); that refusal is expected.
        try vault.withdraw(account, address(usdc), amount, holder) {} catch {}
        _after(1);
    }

    function moveCash(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        AccountId from = _accounts[fromSeed % (ACCOUNTS - 1)];
        AccountId to = _accounts[toSeed % ACCOUNTS];
        if (from == to) return;
        amount = bound(amount, 1, 1e14);
        _before();
        (, , uint256 writtenOff) = vault.moveCash(from, to, amount);
        if (writtenOff != 0) ++writeOffMismatches; // only the insurance account's debt is written off
        _after(2);
    }

    /// @dev The fund pays up to what it holds plus a tenth of the supply: what it lacks is a loss.
    function payFromFund(uint256 toSeed, uint256 amount) external {
        AccountId to = _accounts[toSeed % (ACCOUNTS - 1)];
        int256 held = vault.cashOf(fund);
        uint256 most = (held > 0 ? uint256(held) : 0) + vault.totalCashCredit() / 10;
        if (most == 0) return;
        amount = bound(amount, 1, most);
        _before();
        _checkedPay(to, amount);
        _after(3);
    }

    /// @dev The fund pays more than every claim (up to three times the supply): the cash epoch ends
    /// (every claim written off, closing rate 0), and what the payee-inclusive pass cannot absorb
    /// is held apart (that pass may end an epoch with a nonzero closing rate).
    function payFromFundBeyondEveryClaim(uint256 toSeed, uint256 amount) external {
        AccountId to = _accounts[toSeed % (ACCOUNTS - 1)];
        int256 held = vault.cashOf(fund);
        uint256 credit = vault.totalCashCredit();
        _payFromFund(to, (held > 0 ? uint256(held) : 0) + credit + bound(amount, 1, 2 * credit + 1e6));
    }

    /// @dev The fund pays what it holds and all but `left` of every claim (`left` up to a
    /// hundred-thousandth of them): a cut near the floor, or past it an epoch that converts what
    /// is left at a nonzero closing rate (review rv15e 1).
    function payFromFundNearEveryClaim(uint256 toSeed, uint256 left) external {
        AccountId to = _accounts[toSeed % (ACCOUNTS - 1)];
        int256 held = vault.cashOf(fund);
        uint256 credit = vault.totalCashCredit();
        if (credit < 2) return;
        _payFromFund(to, (held > 0 ? uint256(held) : 0) + credit - bound(left, 1, credit / 1e5 + 1));
    }

    /// @dev A fund payment that may end epochs. Each `CashEpochReset` converts the old shares at
    /// its closing rate, rounded down: the rate's rounding costs under a unit per 1e18 old shares
    /// (at most (claims + 1) × 1e6 of them, the index being ≥ 1e12), and each account's conversion
    /// under a share (a unit at 1e18), so the dust allowance grows by that, and the share totals
    /// may exceed Σ accounts by up to a share per account per epoch.
    function _payFromFund(AccountId to, uint256 amount) private {
        _before();
        uint256 epoch = vault.cashEpoch();
        vm.recordLogs();
        _checkedPay(to, amount);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 ended;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] != ICollateralVault.CashEpochReset.selector) continue;
            (, uint256 claims, uint256 written, uint256 rate) = abi.decode(
                logs[i].data,
                (uint256, uint256, uint256, uint256)
            );
            if (written > claims) ++epochMismatches;
            if (rate != 0) ++convertingEpochs;
            dustAllowance += 2 + ACCOUNTS + (claims + 1) / 1e12;
            shareDustAllowance += ACCOUNTS;
            ++ended;
        }
        if (vault.cashEpoch() != epoch + ended) ++epochMismatches; // an epoch ended without its event
        epochsEnded += ended;
        _after(3);
    }

    /// @dev The fund pays `to`; what the move reports written off must be exactly what `badDebt()`
    /// rose by, the epoch-ending and held-apart passes included (the backstop's event relies on it).
    /// Counted, not asserted: a handler's failed assertion is a revert, which the campaign discards.
    function _checkedPay(AccountId to, uint256 amount) private {
        uint256 badDebtBefore = vault.badDebt();
        (, , uint256 writtenOff) = vault.moveCash(fund, to, amount);
        if (writtenOff != vault.badDebt() - badDebtBefore) ++writeOffMismatches;
        if (writtenOff != 0) ++writeOffs;
    }

    // ------------------------------------------------------------ actors: time and the rate model

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 30 days));
    }

    function setRate(uint256 rate) external {
        model.setMode(MockRateModel.Mode.Fixed);
        model.setRate(bound(rate, 0, vault.MAX_RATE_PER_SECOND()));
    }

    function breakModel(uint256 seed) external {
        model.setMode(MockRateModel.Mode(1 + (seed % 6)));
    }

    function accrue() external {
        _before();
        vault.accrueInterest();
        _after(0);
    }

    // ------------------------------------------------------------ bookkeeping

    uint256 private _lossBefore;

    function _before() private {
        _lossBefore = vault.lossSocialized();
    }

    /// @dev Allows, per call: two units and one share of the larger index per account written, and
    /// for an accrual and a loss each one unit plus one wei of index per 1e18 supply shares.
    function _after(uint256 touched) private {
        ICollateralVault.CashMarket memory m = vault.cashMarket();
        uint256 index = m.supplyIndex > m.debtIndex ? m.supplyIndex : m.debtIndex;
        uint256 perIndex = 2 + m.totalSupplyShares / WAD;
        dustAllowance += touched * (2 + index / WAD) + 2 * perIndex;
        bool lost = vault.lossSocialized() != _lossBefore;
        if (lost) ++losses;
        if (m.debtIndex < _lastDebtIndex) ++indexRegressions;
        if (m.supplyIndex < _lastSupplyIndex && !lost) ++indexRegressions;
        _lastSupplyIndex = m.supplyIndex;
        _lastDebtIndex = m.debtIndex;
    }
}

contract CashIndexInvariantTest is VaultFixture {
    CashHandler internal handler;
    MockRateModel internal model;
    AccountId internal fund;

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        fund = _account(makeAddr("insuranceFund"), 0);
        model = new MockRateModel(uint256(0.2e18) / 365 days);
        handler = new CashHandler(vault, usdc, model, fund);
        vm.startPrank(admin);
        vault.grantRole(Roles.MODULE_ROLE, address(handler));
        vault.setInsuranceAccount(fund);
        vault.setRateModel(model);
        vm.stopPrank();
        vm.startPrank(riskManager);
        vault.configureAsset(address(usdc), true, 0, 0, type(uint256).max);
        vault.setReserveShare(0.1e18);
        vm.stopPrank();
        targetContract(address(handler));
    }

    function _signedSum() internal view returns (int256 sum) {
        for (uint256 i; i < handler.ACCOUNTS(); ++i) sum += vault.cashOf(handler.accounts(i));
    }

    /// @dev Σ supply − Σ debt, less the loss held apart, never exceeds the cash tokens held, at every
    /// step, with interest accruing; the difference is dust within the documented bound, plus what
    /// each ended epoch's claims were worth beyond the loss they bore. A loss beyond every claim
    /// (every claim of the epoch written off, the payee's too in a second pass, the rest held apart
    /// as `unabsorbedLoss`) leaves claims that no token backs by exactly that loss: each fund
    /// payment adds the payee's claim and removes only what the write-offs reached, so
    /// tokens = Σ claims − unabsorbedLoss + dust. What creditors may withdraw never exceeds the tokens.
    function invariant_tokensCoverEveryClaimToTheDust() public view {
        int256 held = int256(usdc.balanceOf(address(vault)));
        int256 backed = _signedSum() - int256(vault.unabsorbedLoss());
        assertGe(held, backed, "claims beyond the loss held apart exceed the tokens held");
        assertLe(uint256(held - backed), handler.dustAllowance() + handler.ACCOUNTS(), "dust above its bound");
        assertLe(vault.cashLiquidity(), uint256(held), "withdrawable above the tokens held");
    }

    /// @dev The debt share total is exactly Σ debt shares; the supply share total is Σ supply shares
    /// (an older epoch's read converted) plus at most a share per account per ended epoch: the
    /// total was converted as a whole, each account rounded down on its own.
    function invariant_shareTotalsAreExact() public view {
        uint256 supply;
        uint256 debt;
        for (uint256 i; i < handler.ACCOUNTS(); ++i) {
            int256 shares = vault.cashSharesOf(handler.accounts(i));
            if (shares > 0) supply += uint256(shares);
            else debt += uint256(-shares);
        }
        ICollateralVault.CashMarket memory m = vault.cashMarket();
        assertGe(m.totalSupplyShares, supply, "supply total below the accounts'");
        assertLe(m.totalSupplyShares - supply, handler.shareDustAllowance(), "supply shares drifted");
        assertEq(m.totalDebtShares, debt, "debt shares drifted");
    }

    /// @dev Accrual is monotone: the debt index never falls; the supply index falls only with a loss.
    function invariant_indicesMoveOneWay() public view {
        assertEq(handler.indexRegressions(), 0);
    }

    /// @dev `moveCash` reports as written off exactly what `badDebt()` rose by (the backstop
    /// announces that figure without reading `badDebt()` before the move), and nothing for a payer
    /// other than the fund; each epoch reset announces itself and writes off at most the claims.
    function invariant_writeOffsAreReportedExactly() public view {
        assertEq(handler.writeOffMismatches(), 0, "writtenOff is badDebt's rise");
        assertEq(handler.epochMismatches(), 0, "epoch resets");
    }

    /// @dev Every token is in a wallet or the vault.
    function invariant_noValueCreated() public view {
        uint256 held = usdc.balanceOf(address(vault));
        for (uint256 o; o < 3; ++o) held += usdc.balanceOf(handler.owner(o));
        assertEq(held, handler.minted());
    }
}
