// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {CollateralVault} from "../../contracts/vault/CollateralVault.sol";
import {ICollateralVault} from "../../contracts/interfaces/ICollateralVault.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {VaultFixture} from "../helpers/VaultFixture.sol";

/// @notice Review rv22: drives every setter the collateral deposit word copies (list, configure,
/// delist, pause, unpause) between random deposits and withdrawals, and checks each deposit
/// against a model of the full checks. A setter that forgets `_syncDepositCap` leaves the copy
/// stale, which `invariant_capCopyMatchesTheModel` or the deposit model catches.
contract DepositCapHandler is Test {
    uint256 internal constant N_TOKENS = 5;
    uint256 internal constant N_ACCOUNTS = 4;

    CollateralVault internal immutable vault;
    address internal immutable admin;
    address internal immutable riskManager;
    address internal immutable guardian;
    address internal immutable stranger = makeAddr("stranger");

    MockERC20[N_TOKENS] internal tokens;
    AccountId[N_ACCOUNTS] public accounts;

    /// @notice The model: what the config says, read from the handler's own bookkeeping.
    bool public paused;
    bool[N_TOKENS] public listed;
    bool[N_TOKENS] public enabled;
    bool[N_TOKENS] public delisted;
    uint256[N_TOKENS] public supplyCap;
    uint256[N_TOKENS] public total;

    /// @notice Calls whose outcome (success, or the exact revert) differed from the model: must stay 0.
    uint256 public mismatches;
    string public lastMismatch;
    mapping(bytes32 => uint256) public calls;

    constructor(
        CollateralVault vault_,
        address admin_,
        address riskManager_,
        address guardian_,
        MockERC20 weth,
        MockERC20 wbtc,
        uint256 wethCap,
        uint256 wbtcCap
    ) {
        vault = vault_;
        admin = admin_;
        riskManager = riskManager_;
        guardian = guardian_;
        tokens[0] = weth;
        tokens[1] = wbtc;
        tokens[2] = new MockERC20("Chainlink", "LINK", 18);
        tokens[3] = new MockERC20("Tether", "USDT", 6);
        tokens[4] = new MockERC20("Dust", "DST", 0);
        (listed[0], enabled[0], supplyCap[0]) = (true, true, wethCap);
        (listed[1], enabled[1], supplyCap[1]) = (true, true, wbtcCap);
        for (uint256 i; i < N_ACCOUNTS; ++i) {
            accounts[i] = AccountLib.accountId(makeAddr(string.concat("owner", vm.toString(i))), uint96(i % 2));
        }
    }

    // ------------------------------------------------------------------ governance

    function listAsset(uint256 tokenSeed, uint256 capSeed, uint256 capValue) external {
        uint256 t = tokenSeed % N_TOKENS;
        uint256 cap = _cap(t, capSeed, capValue);
        bytes memory expected =
            listed[t]
                ? abi.encodeWithSelector(ICollateralVault.VaultAssetAlreadyListed.selector, tokens[t])
                : bytes("");
        vm.prank(admin);
        try vault.listAsset(address(tokens[t]), 0.2e18, 0.1e18, cap) {
            _check("listAsset", expected, "");
            (listed[t], enabled[t], supplyCap[t]) = (true, true, cap);
        } catch (bytes memory err) {
            _check("listAsset", expected, err);
        }
    }

    function configureAsset(uint256 tokenSeed, bool on, uint256 capSeed, uint256 capValue) external {
        uint256 t = tokenSeed % N_TOKENS;
        uint256 cap = _cap(t, capSeed, capValue);
        bytes memory expected;
        if (!listed[t]) expected = abi.encodeWithSelector(ICollateralVault.VaultAssetNotListed.selector, tokens[t]);
        else if (on && delisted[t])
            expected = abi.encodeWithSelector(ICollateralVault.VaultAssetDelisted.selector, tokens[t]);
        vm.prank(riskManager);
        try vault.configureAsset(address(tokens[t]), on, 0.2e18, 0.1e18, cap) {
            _check("configureAsset", expected, "");
            (enabled[t], supplyCap[t]) = (on, cap);
        } catch (bytes memory err) {
            _check("configureAsset", expected, err);
        }
    }

    function delistAsset(uint256 tokenSeed) external {
        uint256 t = tokenSeed % N_TOKENS;
        bytes memory expected;
        if (!listed[t]) expected = abi.encodeWithSelector(ICollateralVault.VaultAssetNotListed.selector, tokens[t]);
        else if (delisted[t])
            expected = abi.encodeWithSelector(ICollateralVault.VaultAssetDelisted.selector, tokens[t]);
        vm.prank(admin);
        try vault.delistAsset(address(tokens[t])) {
            _check("delistAsset", expected, "");
            (delisted[t], enabled[t]) = (true, false);
        } catch (bytes memory err) {
            _check("delistAsset", expected, err);
        }
    }

    function pause() external {
        bytes memory expected = paused ? abi.encodeWithSelector(Pausable.EnforcedPause.selector) : bytes("");
        vm.prank(guardian);
        try vault.pause() {
            _check("pause", expected, "");
            paused = true;
        } catch (bytes memory err) {
            _check("pause", expected, err);
        }
    }

    function unpause() external {
        bytes memory expected = paused ? bytes("") : abi.encodeWithSelector(Pausable.ExpectedPause.selector);
        vm.prank(guardian);
        try vault.unpause() {
            _check("unpause", expected, "");
            paused = false;
        } catch (bytes memory err) {
            _check("unpause", expected, err);
        }
    }

    // ------------------------------------------------------------------ custody

    /// @dev Amounts: 0, 1, random up to 1e30, just past the cap's room, and above 2^128 − 1. The
    /// caller is the account's owner, or (one call in four) a stranger with no authority over it.
    function deposit(
        uint256 accountSeed,
        uint256 tokenSeed,
        uint256 amountSeed,
        uint256 amount,
        bool byStranger
    ) external {
        AccountId account = accounts[accountSeed % N_ACCOUNTS];
        uint256 t = tokenSeed % N_TOKENS;
        amount = _amount(t, amountSeed, amount);
        address caller = byStranger && amountSeed % 4 == 0 ? stranger : AccountLib.ownerOf(account);
        bytes memory expected = _expectedDeposit(account, t, amount, caller);
        if (expected.length == 0) {
            tokens[t].mint(caller, amount);
            vm.prank(caller);
            tokens[t].approve(address(vault), amount);
        }
        vm.prank(caller);
        try vault.deposit(account, address(tokens[t]), amount) {
            _check("deposit", expected, "");
            total[t] += amount;
        } catch (bytes memory err) {
            _check("deposit", expected, err);
        }
    }

    function withdraw(uint256 accountSeed, uint256 tokenSeed, uint256 amount) external {
        AccountId account = accounts[accountSeed % N_ACCOUNTS];
        uint256 t = tokenSeed % N_TOKENS;
        uint256 balance = vault.collateralOf(account, address(tokens[t]));
        // Few deposits land (most of the handler's are meant to be refused): look for one that did.
        for (uint256 k; k < N_ACCOUNTS * N_TOKENS && balance == 0; ++k) {
            account = accounts[(accountSeed + k / N_TOKENS) % N_ACCOUNTS];
            t = (tokenSeed + k) % N_TOKENS;
            balance = vault.collateralOf(account, address(tokens[t]));
        }
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        address holder = AccountLib.ownerOf(account);
        vm.prank(holder);
        // No risk check is set and the pause holds no exit: an owner's withdrawal always goes through.
        bytes memory expected = "";
        try vault.withdraw(account, address(tokens[t]), amount, holder) {
            _check("withdraw", expected, "");
            total[t] -= amount;
        } catch (bytes memory err) {
            _check("withdraw", expected, err);
        }
    }

    // ------------------------------------------------------------------ model

    /// @notice The full checks, in their order: pause, amount, listing, enabled, caller, supply
    /// cap, the totals' 128-bit width. Empty when the deposit must go through.
    function _expectedDeposit(
        AccountId account,
        uint256 t,
        uint256 amount,
        address caller
    ) internal view returns (bytes memory) {
        address asset = address(tokens[t]);
        if (paused) return abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        if (amount == 0) return abi.encodeWithSelector(ICollateralVault.VaultZeroAmount.selector);
        if (!listed[t]) return abi.encodeWithSelector(ICollateralVault.VaultAssetNotListed.selector, asset);
        if (!enabled[t]) return abi.encodeWithSelector(ICollateralVault.VaultAssetDisabled.selector, asset);
        if (caller != AccountLib.ownerOf(account)) {
            return abi.encodeWithSelector(ICollateralVault.VaultUnauthorized.selector, account, caller);
        }
        if (amount <= type(uint128).max && total[t] + amount > supplyCap[t]) {
            return
                abi.encodeWithSelector(
                    ICollateralVault.VaultSupplyCapExceeded.selector,
                    asset,
                    total[t] + amount,
                    supplyCap[t]
                );
        }
        if (amount > type(uint128).max || total[t] + amount > type(uint128).max) {
            return abi.encodeWithSelector(ICollateralVault.VaultAmountTooLarge.selector, amount);
        }
        return "";
    }

    /// @notice The cap copy the contract must hold: the supply cap clamped to 128 bits while
    /// deposits are open (listed, enabled, unpaused), else 0.
    function modelCap(uint256 t) external view returns (uint256) {
        if (!listed[t] || !enabled[t] || paused) return 0;
        return supplyCap[t] > type(uint128).max ? type(uint128).max : supplyCap[t];
    }

    function _cap(uint256 t, uint256 capSeed, uint256 capValue) internal view returns (uint256) {
        uint256 k = capSeed % 6;
        if (k == 0) return 0;
        if (k == 1) return type(uint256).max;
        if (k == 2) return type(uint128).max;
        if (k == 3) return total[t] == 0 ? 0 : bound(capValue, 0, total[t] - 1); // below what is held
        if (k == 4) return total[t] + bound(capValue, 0, 1e24);
        return capValue;
    }

    function _amount(uint256 t, uint256 amountSeed, uint256 amount) internal view returns (uint256) {
        uint256 k = amountSeed % 7;
        if (k == 0) return 0;
        if (k == 1) return 1;
        if (k == 2) return bound(amount, uint256(type(uint128).max) + 1, type(uint256).max);
        uint256 room = supplyCap[t] > total[t] ? supplyCap[t] - total[t] : 0;
        if (k == 3 && room < type(uint128).max) return room + 1; // just past the cap
        if (k == 4 && room <= type(uint128).max && room != 0) return room; // exactly to the cap
        if (k == 5) return type(uint128).max - (total[t] > type(uint128).max ? 0 : total[t]); // to the width
        return bound(amount, 1, 1e30);
    }

    function _check(string memory what, bytes memory expected, bytes memory got) internal {
        ++calls[keccak256(bytes(what))];
        if (keccak256(expected) != keccak256(got)) {
            ++mismatches;
            lastMismatch = string.concat(what, ": expected ", vm.toString(expected), ", got ", vm.toString(got));
        }
    }

    function token(uint256 i) external view returns (MockERC20) {
        return tokens[i];
    }

    function tokenCount() external pure returns (uint256) {
        return N_TOKENS;
    }

    function accountCount() external pure returns (uint256) {
        return N_ACCOUNTS;
    }
}

contract DepositCapCopyInvariantTest is VaultFixture {
    DepositCapHandler internal handler;
    /// @dev The slot of `CollateralVault._assets`, found in setUp from WETH's stored supply cap.
    uint256 internal assetsSlot;

    error AssetsSlotNotFound();

    function setUp() public override {
        super.setUp();
        handler = new DepositCapHandler(vault, admin, riskManager, guardian, weth, wbtc, WETH_CAP, WBTC_CAP);
        assetsSlot = _findAssetsSlot();
        targetContract(address(handler));
    }

    /// @dev (a) Every collateral asset's stored cap copy equals the model's.
    function invariant_capCopyMatchesTheModel() public view {
        for (uint256 t; t < handler.tokenCount(); ++t) {
            assertEq(_storedCap(address(handler.token(t))), handler.modelCap(t), "stale deposit cap copy");
        }
    }

    /// @dev (b) Every call, deposits above all, succeeded or reverted exactly as the model says.
    function invariant_everyCallMatchesTheModel() public view {
        assertEq(handler.mismatches(), 0, handler.lastMismatch());
    }

    /// @dev (c) The stored total is the sum of the balances, and the tokens the vault holds.
    function invariant_totalIsTheSumOfBalances() public view {
        for (uint256 t; t < handler.tokenCount(); ++t) {
            address asset = address(handler.token(t));
            uint256 sum;
            for (uint256 i; i < handler.accountCount(); ++i) {
                sum += vault.collateralOf(handler.accounts(i), asset);
            }
            uint256 word = uint256(vm.load(address(vault), _assetSlot(asset)));
            assertEq(uint128(word), sum, "stored total != sum of balances");
            assertEq(handler.total(t), sum, "model total != sum of balances");
            assertEq(handler.token(t).balanceOf(address(vault)), sum, "tokens held != sum of balances");
        }
    }

    function _storedCap(address asset) internal view returns (uint256) {
        return uint256(vm.load(address(vault), _assetSlot(asset))) >> 128;
    }

    function _assetSlot(address asset) internal view returns (bytes32) {
        return keccak256(abi.encode(asset, assetsSlot));
    }

    /// @dev `StoredAsset` is three words: total | cap copy, flags, supply cap. WETH's third word
    /// holds WETH_CAP and its first the same cap as its copy, in exactly one mapping slot.
    function _findAssetsSlot() internal view returns (uint256) {
        for (uint256 s; s < 256; ++s) {
            bytes32 base = keccak256(abi.encode(address(weth), s));
            if (
                uint256(vm.load(address(vault), bytes32(uint256(base) + 2))) == WETH_CAP &&
                uint256(vm.load(address(vault), base)) == WETH_CAP << 128
            ) return s;
        }
        revert AssetsSlotNotFound();
    }
}
