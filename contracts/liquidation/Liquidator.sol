// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {IBackstop} from "../interfaces/IBackstop.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {ILiquidator} from "../interfaces/ILiquidator.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {IAccountHook} from "../interfaces/IAccountHook.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {AccountLib} from "../libraries/AccountLib.sol";
import {AuctionMath} from "../libraries/AuctionMath.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title Liquidator
/// @notice Dutch auctions over slices of accounts below maintenance margin. It holds
/// MODULE_ROLE in the vault and the market; it never holds funds itself.
contract Liquidator is ILiquidator, AccessControl, ReentrancyGuardTransient {
    uint256 private constant WAD = 1e18;

    /// @notice Hard bounds of the auction parameters.
    uint256 public constant MAX_START_DISCOUNT = 0.2e18;
    uint256 public constant MAX_END_DISCOUNT = 0.5e18;
    uint256 public constant MIN_DURATION = 1 minutes;
    uint256 public constant MAX_DURATION = 1 days;
    uint256 public constant MAX_INSURANCE_SHARE = 0.5e18;
    uint256 public constant MAX_BUFFER = 1e18;
    uint256 public constant MAX_DUST_VALUE = 10_000e18;

    ICollateralVault public immutable vault;
    IMarginEngine public immutable engine;
    IOptionMarket public immutable market;
    /// @notice The engine's oracle, read for the auction clock (`IPledgeOracle.liveSince`).
    IPledgeOracle public immutable oracle;
    /// @inheritdoc ILiquidator
    AccountId public immutable insuranceAccount;
    /// @dev The cash token's decimals, checked once by `CashUnits`.
    uint8 private immutable _cashDecimals;

    AuctionParams private _params;
    /// @inheritdoc ILiquidator
    IBackstop public backstop;
    /// @dev An auction as stored: `Auction`'s fields in one slot, its times as `uint48` (seconds
    /// good for millions of years), so opening an auction creates one slot rather than two.
    struct StoredAuction {
        bool active;
        uint48 startTime;
        uint32 bids;
        uint48 clockStart;
        uint48 lastBidTime;
        uint48 liveCheckedAt;
    }

    mapping(AccountId account => StoredAuction) private _auctions;

    constructor(
        address admin,
        ICollateralVault vault_,
        IMarginEngine engine_,
        IOptionMarket market_,
        AccountId insuranceAccount_,
        AuctionParams memory params
    ) {
        if (
            admin == address(0) ||
            address(vault_) == address(0) ||
            address(engine_) == address(0) ||
            address(market_) == address(0) ||
            insuranceAccount_.isZero()
        ) revert LiquidatorZeroAddress();
        vault = vault_;
        engine = engine_;
        market = market_;
        oracle = engine_.oracle();
        insuranceAccount = insuranceAccount_;
        _cashDecimals = CashUnits.checkDecimals(vault_.assetConfig(vault_.cashAsset()).decimals);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParams(params);
    }

    // ---------------------------------------------------------------- actions

    /// @inheritdoc ILiquidator
    function startAuction(AccountId account) external nonReentrant {
        StoredAuction memory auction = _auctions[account];
        (uint256[] memory balances, ) = vault.balancesOf(account);
        if (auction.active) {
            if (!_lapsed(auction, _liveClock(account, auction, balances))) revert LiquidatorAuctionActive(account);
            emit AuctionEnded(account, false);
        }
        IMarginEngine.MarginState memory state = engine.accountMargin(account);
        _checkAuctionable(account, state, balances);
        _start(account, 0);
        emit AuctionStarted(account, state.markValue, state.health, msg.sender);
    }

    /// @inheritdoc ILiquidator
    function bid(
        AccountId account,
        AccountId bidderAccount,
        uint256 fractionWad,
        int256 maxPayment,
        uint256 expectedNonce
    ) external nonReentrant returns (BidPreview memory preview) {
        _checkBidder(bidderAccount);
        uint256[] memory prices;
        (preview, prices) = _bid(
            BidRequest(account, fractionWad, maxPayment, expectedNonce),
            bidderAccount,
            msg.sender
        );
        engine.checkAuctionMarginAt(bidderAccount, prices);
    }

    /// @inheritdoc ILiquidator
    /// @dev Each request runs as an external self-call (`bidStep`) inside `try`, so a request
    /// that reverts for any reason (an oracle's error included, which no pre-check could
    /// predict) rolls back only its own effects and becomes a `BidSkipped`; an internal
    /// pre-check of every skip reason would duplicate `_bid`'s checks and still miss the
    /// oracle's. The guard stays held by this function for the whole batch, so `bidStep`
    /// needs none of its own and the account hooks see the liquidator as mid-bid throughout.
    function bidMany(
        BidRequest[] calldata requests,
        AccountId bidderAccount
    ) external nonReentrant returns (BidOutcome[] memory outcomes) {
        if (requests.length == 0) revert LiquidatorEmptyBatch();
        _checkBidder(bidderAccount);
        outcomes = new BidOutcome[](requests.length);
        bool landed;
        for (uint256 i; i < requests.length; ++i) {
            try this.bidStep(requests[i], bidderAccount, msg.sender) returns (BidPreview memory preview) {
                outcomes[i].landed = true;
                outcomes[i].preview = preview;
                landed = true;
            } catch (bytes memory reason) {
                // Every refusal of a step carries an error; an empty revert is a step that ran out
                // of gas. That reverts the batch, so a gas estimate never settles on a limit that
                // silently skips the last bids (the step gets 63/64 of what is left).
                if (reason.length == 0) revert LiquidatorBatchOutOfGas(i);
                bytes4 selector = bytes4(reason);
                outcomes[i].skipReason = selector;
                emit BidSkipped(requests[i].account, selector);
            }
        }
        // Once, over the batch's end state: the bidder may pass below IM between two of its own
        // bids (nobody else acts mid-transaction), never after. A batch that landed nothing
        // moved nothing, so it has nothing to check.
        if (landed) engine.checkAuctionMargin(bidderAccount);
    }

    /// @inheritdoc ILiquidator
    function bidStep(
        BidRequest calldata request,
        AccountId bidderAccount,
        address keeper
    ) external returns (BidPreview memory) {
        if (msg.sender != address(this)) revert LiquidatorOnlySelf(msg.sender);
        (BidPreview memory preview, ) = _bid(request, bidderAccount, keeper);
        return preview;
    }

    /// @inheritdoc ILiquidator
    function terminateAuction(AccountId account) external nonReentrant {
        if (!_auctions[account].active) revert LiquidatorNoAuction(account);
        IMarginEngine.MarginState memory state = engine.accountMargin(account);
        if (state.health >= IMarginEngine.Health.LIQUIDATABLE) {
            revert LiquidatorAccountStillUnderwater(account, state.equityMM - int256(state.requirementMM));
        }
        delete _auctions[account];
        emit AuctionEnded(account, false);
    }

    /// @inheritdoc IAccountHook
    /// @dev Never reverts: a valuation that fails (no valid price) leaves the auction running,
    /// and a call made while the liquidator is mid-bid is ignored (the bid ends the auction
    /// itself if it restores the account).
    function onAccountChanged(AccountId account) external {
        if (!_auctions[account].active || _reentrancyGuardEntered()) return;
        try engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
            if (state.health < IMarginEngine.Health.LIQUIDATABLE) {
                delete _auctions[account];
                emit AuctionEnded(account, false);
            }
        } catch {}
    }

    /// @inheritdoc ILiquidator
    function setAuctionParams(AuctionParams calldata params) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        _setParams(params);
    }

    /// @inheritdoc ILiquidator
    function setBackstop(IBackstop backstop_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(backstop_) == address(0)) revert LiquidatorZeroAddress();
        backstop = backstop_;
        emit BackstopSet(backstop_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ILiquidator
    function previewBid(AccountId account, uint256 fractionWad) external view returns (BidPreview memory) {
        IMarginEngine.MarginState memory state = engine.accountMargin(account);
        (uint256[] memory balances, int256 cash) = vault.balancesOf(account);
        (uint256 clockStart, ) = _auctionStart(account, state, balances);
        return _preview(account, fractionWad, state, cash, clockStart);
    }

    /// @inheritdoc ILiquidator
    function auctionClock(AccountId account) external view returns (bool running, uint256 clockStart) {
        StoredAuction memory auction = _auctions[account];
        if (!auction.active) return (false, block.timestamp);
        (uint256[] memory balances, ) = vault.balancesOf(account);
        clockStart = _liveClock(account, auction, balances);
        if (_lapsed(auction, clockStart)) return (false, block.timestamp);
        running = true;
    }

    /// @inheritdoc ILiquidator
    function auctionOf(AccountId account) external view returns (Auction memory) {
        StoredAuction memory a = _auctions[account];
        return Auction(a.active, a.startTime, a.bids, a.clockStart, a.lastBidTime, a.liveCheckedAt);
    }

    /// @inheritdoc ILiquidator
    function auctionParams() external view returns (AuctionParams memory) {
        return _params;
    }

    /// @inheritdoc ILiquidator
    function badDebt() public view returns (uint256) {
        return vault.badDebt();
    }

    /// @inheritdoc ILiquidator
    function discountAt(uint256 clockStart) public view returns (uint256) {
        return AuctionMath.discountAt(_params, clockStart, block.timestamp);
    }

    // ---------------------------------------------------------------- internal

    /// @dev The caller must be authorized for `bidderAccount`, which is not the insurance fund's.
    function _checkBidder(AccountId bidderAccount) private view {
        if (!vault.isAuthorized(bidderAccount, msg.sender)) revert LiquidatorUnauthorized(bidderAccount, msg.sender);
        if (bidderAccount == insuranceAccount) revert LiquidatorSelfBid(bidderAccount);
    }

    /// @dev One bid, shared by `bid` and `bidMany`, all but the bidder's checks (`_checkBidder`
    /// before, the IM check after); `keeper` is who sent it (the `AuctionStarted` event's).
    /// `prices` are the ones its first valuation read: nothing the bid calls writes oracle state
    /// (the vault, the market and the backstop are the protocol's own, and their one call outside
    /// it is the vault's `staticcall` of its rate model), so the valuation after the slice and the
    /// caller's check of the bidder use them rather than reading every feed again
    /// (docs/liquidation.md, "One set of prices a bid"; a callback added to this path must read
    /// them again after it).
    function _bid(
        BidRequest memory request,
        AccountId bidderAccount,
        address keeper
    ) private returns (BidPreview memory preview, uint256[] memory prices) {
        AccountId account = request.account;
        // A sibling of the liquidated account (same owner) may not bid: an owner's dust bids would
        // bump the nonce and void every pending bid, as often as it liked (review R3).
        if (AccountLib.ownerOf(bidderAccount) == AccountLib.ownerOf(account)) revert LiquidatorSelfBid(bidderAccount);
        if (request.expectedNonce != type(uint256).max) {
            uint256 nonce = market.accountNonce(account);
            if (nonce != request.expectedNonce) revert LiquidatorAccountChanged(account, request.expectedNonce, nonce);
        }

        IMarginEngine.MarginState memory state;
        (state, prices) = engine.accountMarginAndPrices(account);
        // Read once: nothing changes them before the slice, so the checks, the price and the
        // slice all use these.
        (uint256[] memory balances, int256 cash) = vault.balancesOf(account);
        (uint256 clockStart, bool starting) = _auctionStart(account, state, balances);
        preview = _preview(account, request.fractionWad, state, cash, clockStart);
        if (preview.payment > request.maxPayment) revert LiquidatorPriceLimit(preview.payment, request.maxPayment);

        // Effects: the slice, then the price, then the auction's record, once the valuation after
        // the slice says whether the auction survives the bid; the caller checks the bidder last.
        // An auction the bid opens is announced first, so the events keep their order.
        bool emptied = preview.fractionWad == WAD;
        if (starting) {
            if (_auctions[account].active) emit AuctionEnded(account, false);
            emit AuctionStarted(account, state.markValue, state.health, keeper);
        }
        int256 owed = _moveSlice(account, bidderAccount, preview.fractionWad, balances, cash);
        _pay(account, bidderAccount, preview, owed);
        emit Bid(
            account,
            bidderAccount,
            preview.fractionWad,
            preview.discountWad,
            preview.payment,
            preview.insuranceFee
        );

        // The auction ends once the account is empty or no longer liquidatable; one that survives
        // the bid is recorded.
        if (emptied || engine.accountMarginAt(account, prices).health < IMarginEngine.Health.LIQUIDATABLE) {
            delete _auctions[account];
            emit AuctionEnded(account, emptied);
        } else {
            _record(account, starting, clockStart);
        }
    }

    /// @dev A bid's cash: the slice's (`owed`, `_moveSlice`) and the price in one move between the
    /// bidder and the account, the price included when the bidder pays it (`payment` > 0); when
    /// the insurance fund pays the bidder instead (< 0), it pays after that move, as before the
    /// two were netted. Then the bidder pays the fund's fee.
    function _pay(AccountId account, AccountId bidderAccount, BidPreview memory preview, int256 owed) private {
        int256 payment = preview.payment;
        // Both below 2^198 (cash fits 197 bits; the price is a slice of the account's value).
        unchecked {
            if (payment > 0) owed += payment;
            if (owed > 0) vault.moveCash(bidderAccount, account, uint256(owed));
            else if (owed < 0) vault.moveCash(account, bidderAccount, uint256(-owed));
        }
        if (payment < 0) _payFromInsurance(account, bidderAccount, uint256(-payment));
        if (preview.insuranceFee != 0) vault.moveCash(bidderAccount, insuranceAccount, preview.insuranceFee);
    }

    /// @dev Records a bid that the auction survives. An auction the bid opened (`starting`: none
    /// was running, or it lapsed) is marked in the vault and recorded with this bid as its first;
    /// a running one records the bid (`_recordBid`). A bid the auction does not survive records
    /// nothing and marks nothing: the account hook has nothing to end.
    function _record(AccountId account, bool starting, uint256 clockStart) private {
        if (starting) _start(account, 1);
        else _recordBid(account, clockStart);
    }

    /// @dev Where the discount clock of `account`'s auction starts: for a running auction, its
    /// clock moved past outages (`_liveClock`); if none is running or it lapsed, now, once the
    /// same checks as `startAuction` pass (`starting` is then true). Either way every collateral
    /// the account holds must be priced now (`_checkCollateralPriced`). A running auction on an
    /// account left with nothing but a cash debt takes no bid: the backstop's `absorbDebt` covers
    /// that at par (finding 7). Shared by `bid` and `previewBid`, so a preview cannot disagree with the bid.
    function _auctionStart(
        AccountId account,
        IMarginEngine.MarginState memory state,
        uint256[] memory balances
    ) private view returns (uint256 clockStart, bool starting) {
        StoredAuction memory auction = _auctions[account];
        if (auction.active) {
            if (_holdsNothing(account, state, balances)) revert LiquidatorNothingToSell(account);
            _checkCollateralPriced(balances);
            clockStart = _liveClock(account, auction, balances);
            if (!_lapsed(auction, clockStart)) return (clockStart, false);
        }
        _checkAuctionable(account, state, balances);
        return (block.timestamp, true);
    }

    /// @dev Reverts with the oracle's own error while any collateral an account holds
    /// (`balances`, the vault's order) that is not delisted has no valid price. The engine
    /// counts such collateral as zero, which is right for margin checks and withdrawals but
    /// would sell it for nothing here: liquidations wait for a valid price instead (review R1).
    /// Delisted collateral (a timelocked governance act for a dead feed) counts as zero; its
    /// owners had the timelock's delay to withdraw it.
    function _checkCollateralPriced(uint256[] memory balances) private view {
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] == 0) continue;
            if (assets.length == 0) assets = vault.collateralAssets();
            if (!vault.assetConfig(assets[i]).delisted) oracle.spot(assets[i]);
        }
    }

    /// @dev Whether a running auction lapsed: `duration` passed after the later of the end
    /// discount being reached and its last bid. Nobody found it worth a bid at the end discount
    /// for a whole `duration`, so the account may have recovered unreported; a later bid
    /// restarts it at the start discount instead of selling at the end discount (finding 3).
    function _lapsed(StoredAuction memory auction, uint256 clockStart) private view returns (bool) {
        uint256 duration = _params.duration;
        uint256 from = clockStart + duration;
        if (auction.lastBidTime > from) from = auction.lastBidTime;
        return block.timestamp >= from + duration;
    }

    /// @dev The auction's `clockStart` moved past every price outage found after `liveCheckedAt`
    /// (the time up to which an earlier start or bid already checked the feeds): the latest
    /// `oracle.liveSince(asset, liveCheckedAt)` of each underlying the account holds a position in
    /// (spot and volatility feeds) and of each collateral asset it holds that is not delisted
    /// (spot), where that answer is after `liveCheckedAt` (an outage since). A walk that finds no
    /// outage leaves the clock alone, so a busy feed never holds the discount back (review R2),
    /// and each walk only covers the time since the last check.
    function _liveClock(
        AccountId account,
        StoredAuction memory auction,
        uint256[] memory balances
    ) private view returns (uint256 clock) {
        clock = auction.clockStart;
        uint256 checked = auction.liveCheckedAt;
        IPledgeOracle oracle_ = oracle;
        (SeriesId[] memory seriesIds, ) = market.positionsOf(account);
        // The underlyings already read (each is read once, however many series use it), by index
        // before the engine is asked for the asset: an index names one asset (the engine lists an
        // asset once). An index past 255 has no bit and is simply read again (the engine lists 32).
        address[] memory read = new address[](seriesIds.length);
        uint256 count;
        uint256 seen;
        for (uint256 i; i < seriesIds.length; ++i) {
            uint16 index = SeriesLib.underlyingIndexOf(seriesIds[i]);
            uint256 bit = index < 256 ? 1 << index : 0;
            if (seen & bit != 0) continue;
            seen |= bit;
            address asset = engine.underlying(index).asset;
            if (_contains(read, count, asset)) continue;
            read[count++] = asset;
            clock = _laterOutage(oracle_.liveSince(asset, checked), checked, clock);
        }
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] == 0) continue;
            if (assets.length == 0) assets = vault.collateralAssets();
            if (_contains(read, count, assets[i]) || vault.assetConfig(assets[i]).delisted) continue;
            clock = _laterOutage(oracle_.liveSince(assets[i], checked), checked, clock);
        }
    }

    /// @dev `clock` moved to `since` when that is an outage's end after `checked` and later than it.
    function _laterOutage(uint256 since, uint256 checked, uint256 clock) private pure returns (uint256) {
        return since > checked && since > clock ? since : clock;
    }

    /// @dev Whether `asset` is among the first `count` entries of `list`.
    function _contains(address[] memory list, uint256 count, address asset) private pure returns (bool) {
        for (uint256 i; i < count; ++i) {
            if (list[i] == asset) return true;
        }
        return false;
    }

    /// @dev Records a bid: the moved clock, the time up to which the feeds were checked (now, so
    /// later walks only cover the time since) and the bid's time.
    function _recordBid(AccountId account, uint256 clockStart) private {
        StoredAuction storage auction = _auctions[account];
        ++auction.bids;
        // Times up to now (`clockStart` is a start moved forward, never past now): `uint48` holds them.
        auction.clockStart = uint48(clockStart);
        auction.liveCheckedAt = uint48(block.timestamp);
        auction.lastBidTime = uint48(block.timestamp);
    }

    /// @dev Whether an auction may open on `account` now: not a protocol account, below
    /// maintenance, and holding something to sell.
    function _checkAuctionable(
        AccountId account,
        IMarginEngine.MarginState memory state,
        uint256[] memory balances
    ) private view {
        _checkNotProtected(account);
        if (state.health < IMarginEngine.Health.LIQUIDATABLE) revert LiquidatorAccountHealthy(account, state.health);
        // A bare cash debt has nothing to sell; the backstop's `absorbDebt` covers it at par instead.
        if (_holdsNothing(account, state, balances)) revert LiquidatorNothingToSell(account);
        _checkCollateralPriced(balances);
    }

    /// @dev Records the auction of `account` as opened now, with `bids` bids (0 from
    /// `startAuction`, 1 from a bid that opened it and that it survives, `_record`). The vault
    /// marks the account, so its deposits call `onAccountChanged` (and others' skip it).
    function _start(AccountId account, uint32 bids) private {
        vault.markAuctioned(account);
        uint48 now_ = uint48(block.timestamp);
        _auctions[account] = StoredAuction({
            active: true,
            startTime: now_,
            bids: bids,
            clockStart: now_,
            lastBidTime: bids == 0 ? 0 : now_,
            liveCheckedAt: now_
        });
    }

    /// @dev The one pricing path behind both `previewBid` and `bid`, for an auction whose
    /// clock started at `clockStart`, with `cash` the account's signed cash now; the numbers are
    /// `AuctionMath.quoteBid`'s.
    function _preview(
        AccountId account,
        uint256 fractionWad,
        IMarginEngine.MarginState memory state,
        int256 cash,
        uint256 clockStart
    ) private view returns (BidPreview memory p) {
        if (fractionWad == 0 || fractionWad > WAD) revert LiquidatorInvalidFraction(fractionWad);
        // Only accounts below maintenance take bids: one that recovered is not sold at a
        // discount that kept growing meanwhile (anyone may terminate its auction instead).
        if (state.health < IMarginEngine.Health.LIQUIDATABLE) revert LiquidatorAccountHealthy(account, state.health);
        AuctionParams memory params = _params;
        // An account worth less than nothing keeps the start discount (issue 16, item 4; rv16 F1).
        uint256 discountWad = AuctionMath.bidDiscountAt(params, state.markValue, clockStart, block.timestamp);
        p = AuctionMath.quoteBid(params, state, cash, _cashDecimals, discountWad, fractionWad);
        if (p.maxFractionWad == 0) revert LiquidatorAccountHealthy(account, state.health);
        uint256 minFractionWad = AuctionMath.minBidFraction(p.maxFractionWad);
        if (p.fractionWad < minFractionWad) revert LiquidatorBidTooSmall(p.fractionWad, minFractionWad);
    }

    /// @dev Moves `f` of every collateral balance and of every position, and returns the slice of
    /// the signed cash as what the bidder owes the account for it, in cash units (`_pay` moves it
    /// with the price, in one `moveCash`): a debt's slice is owed (> 0), a credit's is the
    /// account's to pay (< 0). Collateral, positive cash and positions round toward zero (a short's
    /// remainder is at most 1e-18 of a contract); the cash debt the bidder pays in rounds up, so
    /// the slice's own rounding never leaves the account debt beyond its share (CI
    /// counterexample, 2026-12-03). On an index above 1 the vault's share conversion still rounds
    /// for the vault: up to ceil(index) + 1 cash units a move. At f = 1 everything moves exactly.
    /// `balances` and `cash` are `from`'s now (`vault.balancesOf`; cash fits 197 bits, 128-bit
    /// shares times 128-bit indices over 1e18, so the casts and the unchecked negations are exact).
    function _moveSlice(
        AccountId from,
        AccountId to,
        uint256 f,
        uint256[] memory balances,
        int256 cash
    ) private returns (int256 owed) {
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            uint256 amount = f == WAD ? balances[i] : FixedPointMathLib.mulWad(balances[i], f);
            if (amount == 0) continue;
            if (assets.length == 0) assets = vault.collateralAssets();
            vault.moveCollateral(from, to, assets[i], amount);
        }
        unchecked {
            if (f == WAD) owed = -cash;
            else if (cash > 0) owed = -int256(FixedPointMathLib.mulWad(uint256(cash), f));
            else if (cash < 0) owed = int256(FixedPointMathLib.mulWadUp(SignedMath.abs(cash), f));
        }
        market.moduleSlicePositions(from, to, f);
    }

    /// @dev The protocol's own accounts are never auctioned: auctioning the insurance or the
    /// settlement account would make the fund pay a discount on its own (or a transient) debt.
    function _checkNotProtected(AccountId account) private view {
        if (account == insuranceAccount || account == market.settlementAccount() || account == market.feeAccount()) {
            revert LiquidatorProtectedAccount(account);
        }
    }

    /// @dev Whether the account holds no collateral (`balances`, its own) and no position (cash aside).
    /// Its valuation `state` answers for the positions when it can: a maintenance requirement comes
    /// only from positions (and, in PORTFOLIO, from collateral, which `balances` shows first), so a
    /// nonzero one means a position is held and the market's book need not be read
    /// (`test_holdsNothing_bareAccountsHaveNoRequirement` pins the premise in both modes). The mark
    /// value cannot answer: it counts the cash too.
    function _holdsNothing(
        AccountId account,
        IMarginEngine.MarginState memory state,
        uint256[] memory balances
    ) private view returns (bool) {
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] != 0) return false;
        }
        if (state.requirementMM != 0) return false;
        (SeriesId[] memory seriesIds, ) = market.positionsOf(account);
        return seriesIds.length == 0;
    }

    /// @dev The insurance fund pays the bidder of an insolvent `account`, through the Backstop: it
    /// books the payment in the fund's 24 h window and announces any bad debt (`BadDebtIncurred`).
    function _payFromInsurance(AccountId account, AccountId bidderAccount, uint256 amount) private {
        IBackstop b = backstop;
        if (address(b) == address(0)) revert LiquidatorZeroAddress();
        b.payFromFund(account, bidderAccount, amount);
    }

    function _setParams(AuctionParams memory p) private {
        if (
            p.startDiscountWad > MAX_START_DISCOUNT ||
            p.endDiscountWad > MAX_END_DISCOUNT ||
            p.endDiscountWad < p.startDiscountWad ||
            p.duration < MIN_DURATION ||
            p.duration > MAX_DURATION ||
            p.insuranceShareWad > MAX_INSURANCE_SHARE ||
            p.bufferWad > MAX_BUFFER ||
            p.dustValueWad > MAX_DUST_VALUE
        ) revert LiquidatorInvalidParams(p);
        _params = p;
        emit AuctionParamsSet(p);
    }
}
