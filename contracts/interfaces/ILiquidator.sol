// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountHook} from "./IAccountHook.sol";
import {IBackstop} from "./IBackstop.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title ILiquidator
/// @notice Dutch auctions over slices of whole accounts that fell below maintenance
/// margin. A bid takes a fraction f of every collateral balance, of the signed cash and
/// of every position, and pays for it `f × (C + H − d·|H|)` in cash, where C is the
/// account's signed cash (at face value), H = V − C the rest of its mark-to-market value V
/// (collateral and positions, no haircuts) and d the discount, which grows with time while
/// the account is solvent and stays at the start discount while its maintenance equity is below
/// zero (so the fund never pays more for a bankrupt account the longer nobody bids).
/// When that price is negative (an insolvent account), the insurance fund pays the bidder
/// instead; whatever the fund cannot cover is the protocol's explicit bad debt, which the vault
/// writes off against every cash creditor at once by lowering the supply index
/// (`ICollateralVault.LossSocialized`, `docs/cash.md`). Cash, including what earlier
/// bids paid in, is never discounted, so splitting a bid gains nothing and a cash debt
/// costs the fund its face value; no auction opens or takes a bid while a collateral the
/// account holds (not delisted) has no valid price; the auction clock runs only while the
/// prices the account needs are live;
/// an auction ends when its account recovers (the market and the vault tell the liquidator
/// through `IAccountHook`) and lapses when nobody bid for `duration` at the end discount.
interface ILiquidator is IAccountHook {
    /// @notice Auction parameters, all bounded by hard-coded limits.
    /// @param startDiscountWad Discount at the auction's start (5 % = 0.05e18).
    /// @param endDiscountWad Discount reached after `duration`, then flat.
    /// @param duration Seconds from start to end discount.
    /// @param insuranceShareWad Share of the discount a solvent bid pays to the insurance fund.
    /// @param bufferWad A bid may restore the account to `(1 + buffer) × requirementIM`, no further.
    /// @param dustValueWad Accounts whose |V| is at most this are taken whole.
    struct AuctionParams {
        uint64 startDiscountWad;
        uint64 endDiscountWad;
        uint32 duration;
        uint64 insuranceShareWad;
        uint64 bufferWad;
        uint128 dustValueWad;
    }

    /// @notice A running auction.
    /// @param active Whether an auction is open (it may still have lapsed: see `auctionClock`).
    /// @param startTime When it opened.
    /// @param bids Bids taken so far.
    /// @param clockStart Where the discount clock started, as of the last bid: `startTime`
    /// moved past any price outage (`IPledgeOracle.liveSince`). `auctionClock` gives the
    /// current value.
    /// @param lastBidTime When the last bid landed (0 = none yet).
    /// @param liveCheckedAt The time up to which the feeds were checked for outages (the start
    /// or the last bid): the clock only moves for an outage found after it.
    struct Auction {
        bool active;
        uint64 startTime;
        uint32 bids;
        uint64 clockStart;
        uint64 lastBidTime;
        uint64 liveCheckedAt;
    }

    /// @notice What a bid of a given fraction would do, from one function shared by
    /// `previewBid` and `bid`.
    /// @param fractionWad The fraction the bid takes (the request, capped at `maxFractionWad`).
    /// @param maxFractionWad The largest fraction a bid may take now.
    /// @param discountWad The current discount.
    /// @param markValueWad The account's mark-to-market value V (no haircuts), WAD.
    /// @param payment Cash units the bidder pays the account (> 0), or the insurance fund
    /// pays the bidder (< 0).
    /// @param insuranceFee Cash units the bidder pays the insurance fund (solvent accounts).
    /// @param equityIMAfter Expected `equityIM` of the liquidated account after the bid.
    /// @param requirementIMAfter Expected `requirementIM` after the bid.
    /// @param equityMMAfter Expected `equityMM` after the bid.
    /// @param requirementMMAfter Expected `requirementMM` after the bid.
    struct BidPreview {
        uint256 fractionWad;
        uint256 maxFractionWad;
        uint256 discountWad;
        int256 markValueWad;
        int256 payment;
        uint256 insuranceFee;
        int256 equityIMAfter;
        uint256 requirementIMAfter;
        int256 equityMMAfter;
        uint256 requirementMMAfter;
    }

    /// @notice One request of a `bidMany` batch: the arguments of `bid` for one account.
    /// @param account The account to bid on (its auction starts if none is running).
    /// @param fractionWad The fraction to take, capped at the current maximum.
    /// @param maxPayment The most the bidder pays (a negative cap demands at least that much from the fund).
    /// @param expectedNonce The account's expected `accountNonce`, or `type(uint256).max` for no check.
    struct BidRequest {
        AccountId account;
        uint256 fractionWad;
        int256 maxPayment;
        uint256 expectedNonce;
    }

    /// @notice How one request of a `bidMany` batch ended.
    /// @param landed Whether the bid landed; if not, nothing of it happened.
    /// @param skipReason The selector of the error that skipped it (0 if it landed).
    /// @param preview What the bid did (all zero if skipped).
    struct BidOutcome {
        bool landed;
        bytes4 skipReason;
        BidPreview preview;
    }

    // ---------------------------------------------------------------- errors

    error LiquidatorZeroAddress();
    error LiquidatorAccountHealthy(AccountId account, IMarginEngine.Health health);
    error LiquidatorAuctionActive(AccountId account);
    error LiquidatorNoAuction(AccountId account);
    error LiquidatorAccountStillUnderwater(AccountId account, int256 excessIM);
    error LiquidatorInvalidFraction(uint256 fractionWad);
    /// @notice The bid takes `fractionWad` (after the cap at the largest fraction), less than the
    /// `minFractionWad` every bid must take (`AuctionMath.minBidFraction`: 1 %, or the largest
    /// fraction when that is less): a dust bid moves nothing but the lapse and the book's digest
    /// (`accountNonce`).
    error LiquidatorBidTooSmall(uint256 fractionWad, uint256 minFractionWad);
    error LiquidatorPriceLimit(int256 payment, int256 maxPayment);
    error LiquidatorAccountChanged(AccountId account, uint256 expectedNonce, uint256 nonce);
    error LiquidatorUnauthorized(AccountId bidderAccount, address caller);
    /// @notice The bidder account is the insurance fund's or has the liquidated account's owner.
    error LiquidatorSelfBid(AccountId account);
    error LiquidatorInvalidParams(AuctionParams params);
    /// @notice The insurance, settlement and fee accounts are the protocol's own: never auctioned.
    error LiquidatorProtectedAccount(AccountId account);
    /// @notice The account holds no collateral and no position: there is nothing to sell.
    error LiquidatorNothingToSell(AccountId account);
    /// @notice `bidMany` was given no request.
    error LiquidatorEmptyBatch();
    /// @notice The batch ran out of gas at request `index` (where gas ran out, which is not
    /// necessarily the request that cost more than expected): send it with more gas.
    error LiquidatorBatchOutOfGas(uint256 index);
    /// @notice `bidStep` is the liquidator's own step of `bidMany`: `caller` is not the liquidator.
    error LiquidatorOnlySelf(address caller);

    // ---------------------------------------------------------------- events

    event AuctionStarted(AccountId indexed account, int256 markValueWad, IMarginEngine.Health health, address keeper);
    event Bid(
        AccountId indexed account,
        AccountId indexed bidderAccount,
        uint256 fractionWad,
        uint256 discountWad,
        int256 payment,
        uint256 insuranceFee
    );
    /// @notice The auction of `account` ended. `emptied` is true when a bid took the whole account;
    /// false when it ended otherwise: restored at or above maintenance (a bid, a deposit, a fill,
    /// `terminateAuction`), lapsed, or emptied of a bare cash debt by the Backstop's `absorbDebt`,
    /// which then ends it through `terminateAuction`: a `DebtAbsorbed(account, …)` of the Backstop
    /// earlier in the same transaction tells that case apart (the Liquidator does not know the
    /// Backstop; saying `true` there would cost its bytes).
    event AuctionEnded(AccountId indexed account, bool emptied);
    /// @notice A `bidMany` request on `account` reverted with the error whose selector is
    /// `reason` and was skipped: nothing of it happened.
    event BidSkipped(AccountId indexed account, bytes4 reason);
    /// @notice The Backstop the Liquidator pays insolvent bids' bidders through (`setBackstop`).
    event BackstopSet(IBackstop backstop);
    event AuctionParamsSet(AuctionParams params);

    // ---------------------------------------------------------------- actions

    /// @notice Starts an auction on `account`, which must be below maintenance margin and hold
    /// something to sell, every collateral it holds (not delisted) with a valid price (else
    /// the oracle's error: the engine counts an unpriceable collateral as zero, which must not
    /// sell it for nothing). Permissionless. An auction that lapsed (see `auctionClock`) is ended
    /// and a new one starts at the start discount.
    function startAuction(AccountId account) external;

    /// @notice Takes `fractionWad` (capped at the current maximum) of `account` into
    /// `bidderAccount`. The caller must be authorized for `bidderAccount`, which must end
    /// at or above IM, and whose owner is not the liquidated account's (`LiquidatorSelfBid`:
    /// an owner's dust bids would otherwise change the book's digest and void every pending bid).
    /// `maxPayment` caps what the bidder pays (a negative cap demands at least that much from
    /// the insurance fund); `expectedNonce` must equal the market's `accountNonce(account)`,
    /// so a bid cannot land on an account that changed, unless it is `type(uint256).max`,
    /// which skips that check: the bid is then priced at execution and bounded by
    /// `maxPayment` alone (what keepers use, since anyone who moves the account first voids
    /// a nonce-checked bid). Reverts with the oracle's error while a collateral the account
    /// holds (not delisted) has no valid price: liquidations wait for one.
    /// If no auction is running, the bid first starts one, with the same checks and the
    /// same `AuctionStarted` event as `startAuction` (so at the starting discount): a keeper
    /// starts and bids in one transaction, in the block after the price moved. A lapsed
    /// auction restarts the same way. An account that holds nothing but a cash debt takes no
    /// bid (`LiquidatorNothingToSell`): the backstop's `absorbDebt` (`IBackstop`) covers it at par.
    function bid(
        AccountId account,
        AccountId bidderAccount,
        uint256 fractionWad,
        int256 maxPayment,
        uint256 expectedNonce
    ) external returns (BidPreview memory);

    /// @notice Runs `bid` for each request in order, for the same `bidderAccount`, in one
    /// transaction: each starts its account's auction if none is running and bids, with its
    /// own price cap and nonce guard. A request that would revert on its own (the account
    /// moved past `expectedNonce`, recovered, priced above `maxPayment`, a collateral it holds
    /// has no valid price, a self-bid, anything else) is skipped instead: its effects roll
    /// back, `BidSkipped` says why, and the batch goes on. The caller must be authorized for
    /// `bidderAccount` (`LiquidatorUnauthorized`), which is not the insurance fund's
    /// (`LiquidatorSelfBid`); both revert the whole batch. The bidder's initial margin is
    /// checked once, after the last request, and reverts the whole batch if it fails
    /// (`IMarginEngine.EngineBelowInitialMargin`): the bidder may be below IM between two of
    /// its own requests, never at the end. A batch in which nothing landed skips that check.
    /// Events, prices, fees and the auction's clock are exactly those of the same `bid`s sent
    /// one after the other in that order. Reverts on an empty batch (`LiquidatorEmptyBatch`)
    /// and when a request runs out of gas (`LiquidatorBatchOutOfGas`: an empty revert is never
    /// a skip, so a gas estimate cannot settle on a limit that silently drops the last bids).
    /// @return outcomes One per request, in order.
    function bidMany(
        BidRequest[] calldata requests,
        AccountId bidderAccount
    ) external returns (BidOutcome[] memory outcomes);

    /// @notice One request of `bidMany`, callable only by the liquidator itself
    /// (`LiquidatorOnlySelf`), while `bidMany` holds the reentrancy guard: `bid` without the
    /// bidder's checks (authorization and IM, which `bidMany` runs once). `keeper` is the
    /// `bidMany` caller, named in `AuctionStarted`.
    function bidStep(
        BidRequest calldata request,
        AccountId bidderAccount,
        address keeper
    ) external returns (BidPreview memory);

    /// @notice Ends the auction of an account that is back at or above maintenance margin
    /// (no longer liquidatable). Permissionless.
    function terminateAuction(AccountId account) external;

    /// @notice Sets the auction parameters (risk manager, within hard bounds).
    function setAuctionParams(AuctionParams calldata params) external;

    /// @notice Sets the Backstop through which the insurance fund pays the bidders of insolvent
    /// accounts (`IBackstop.payFromFund`: it books the payment in the takeover budget's window and
    /// announces any bad debt). Admin (the timelock); until it is set, a bid the fund must pay
    /// for reverts `LiquidatorZeroAddress`.
    function setBackstop(IBackstop backstop_) external;

    /// @notice The Backstop that pays insolvent bids' bidders from the fund (`setBackstop`).
    function backstop() external view returns (IBackstop);

    // ---------------------------------------------------------------- views

    /// @notice Exactly what `bid` would do now with `fractionWad` (same code path),
    /// including on an account below maintenance with no auction running yet, which `bid`
    /// would start at the starting discount.
    function previewBid(AccountId account, uint256 fractionWad) external view returns (BidPreview memory);

    function auctionOf(AccountId account) external view returns (Auction memory);

    /// @notice The discount clock of `account`'s auction now, as `bid` prices it.
    /// @return running Whether an auction is running and has not lapsed; if false, a bid
    /// would start a new auction now, at the start discount.
    /// @return clockStart The time the discount counts from: the stored clock start moved past
    /// every price outage found since `liveCheckedAt` (the latest `liveSince` of the spot and
    /// volatility feeds the account needs, where it reports one); `block.timestamp` when not
    /// running. An auction lapses once `duration` has passed after both the end discount was
    /// reached and the last bid.
    function auctionClock(AccountId account) external view returns (bool running, uint256 clockStart);

    /// @notice The discount of an auction whose clock started at `clockStart`, now, for a solvent
    /// account; a bid on an account whose maintenance equity is below zero gets the start discount
    /// (`previewBid` says which applies).
    function discountAt(uint256 clockStart) external view returns (uint256);

    function auctionParams() external view returns (AuctionParams memory);

    /// @notice The insurance fund's account in the vault.
    function insuranceAccount() external view returns (AccountId);

    /// @notice Bad debt so far, cash units: the vault's `badDebt()` (losses written off against the
    /// creditors, plus any debt of the insurance account the supply index could not absorb).
    function badDebt() external view returns (uint256);
}
