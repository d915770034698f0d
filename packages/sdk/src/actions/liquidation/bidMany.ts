import {
  type Address,
  type Hex,
  type ReadContractErrorType,
  type SimulateContractErrorType,
  type WriteContractErrorType,
  maxUint256,
} from "viem";
import { readContract, simulateContract } from "viem/actions";

import { liquidatorAbi, optionMarketAbi } from "../../abis/index.js";
import { type PledgeErrorName, type PledgeErrorType, pledgeErrorNameOf } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import type { BidPreview } from "../../math/auctionMath.js";
import { previewBid, withBidSlippage } from "./previewBid.js";
import type { AccountId } from "../../accounts.js";

/** One bid of a batch: `ILiquidator.BidRequest`, with the same defaults as `bid`. */
export interface BidManyRequest {
  /** The account to bid on; its auction starts if none is running. */
  account: AccountId;
  /** Fraction to take, WAD (capped on chain). */
  fractionWad: bigint;
  /** Most the bidder pays, cash units; defaults to `withBidSlippage(previewBid(...).payment, slippageBps)`. */
  maxPayment?: bigint | undefined;
  /**
   * Defaults to the market's current `accountNonce(account)`, a digest of its positions; `maxUint256` skips the check
   * (the bid is then bounded by `maxPayment` alone, as keepers send it). The default is read
   * before the batch: an account listed twice is moved by its first bid, so its second request,
   * with the default, is always skipped (`LiquidatorAccountChanged`); pass `maxUint256` there.
   */
  expectedNonce?: bigint | undefined;
}

export interface BidManyParameters extends WriteParameters {
  /** The bids, in the order the liquidator runs them; at least one. */
  requests: readonly BidManyRequest[];
  /** Receives every slice; must end the batch at or above initial margin. */
  bidderAccount: AccountId;
  /** Slack over each preview for a request without `maxPayment`, basis points (default 10). */
  slippageBps?: bigint | undefined;
  liquidator?: Address | undefined;
  /** Needed only to read nonces that are not given. */
  market?: Address | undefined;
}

/** How one request of the batch ended (`ILiquidator.BidOutcome`, its reason named). */
export interface BidManyOutcome {
  /** Whether the bid landed; if not, nothing of it happened. */
  landed: boolean;
  /** The selector of the error that skipped it (`0x00000000` if it landed). */
  skipReason: Hex;
  /** The Pledge error that selector names, when it is one. */
  skippedBy: PledgeErrorName | undefined;
  /** What the bid did, as `previewBid` describes it (all zero if skipped). */
  preview: BidPreview;
}

/** `result` is one outcome per request, in order. */
export type BidManyReturnType = WriteReturnType<readonly BidManyOutcome[]>;

export type BidManyErrorType =
  PledgeErrorType | ReadContractErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Bids on several accounts in one transaction (`Liquidator.bidMany`): each request starts its
 * auction if needed and bids with its own `maxPayment` and `expectedNonce`. A request that would
 * revert on its own (the account moved, recovered, or priced above its cap) is skipped, not the
 * batch; the bidder's initial margin is checked once, at the end, and reverts the whole batch.
 *
 * @example
 * const { result } = await bidMany(keeperWallet, {
 *   publicClient,
 *   addressBook,
 *   bidderAccount,
 *   requests: [{ account, fractionWad: 10n ** 18n, expectedNonce: SKIP_NONCE_CHECK }],
 * });
 * for (const outcome of result) console.log(outcome.landed ? outcome.preview.payment : outcome.skippedBy);
 */
export async function bidMany(client: SignerClient, params: BidManyParameters): Promise<BidManyReturnType> {
  const address = contractAddress(params.liquidator, params.addressBook, "Liquidator");
  const { publicClient } = params;
  const sent = await sendSimulated(client, params, async () => {
    const requests = await Promise.all(
      params.requests.map(async (request) => {
        const [maxPayment, expectedNonce] = await Promise.all([
          request.maxPayment ??
            previewBid(publicClient, {
              liquidator: address,
              account: request.account,
              fractionWad: request.fractionWad,
            }).then((preview) => withBidSlippage(preview.payment, params.slippageBps)),
          request.expectedNonce ??
            readContract(publicClient, {
              address: contractAddress(params.market, params.addressBook, "OptionMarket"),
              abi: optionMarketAbi,
              functionName: "accountNonce",
              args: [request.account],
            }),
        ]);
        return { account: request.account, fractionWad: request.fractionWad, maxPayment, expectedNonce };
      }),
    );
    return simulateContract(publicClient, {
      account: client.account,
      address,
      abi: liquidatorAbi,
      functionName: "bidMany",
      args: [requests, params.bidderAccount],
    });
  });
  return {
    ...sent,
    result: sent.result.map((outcome) => ({
      landed: outcome.landed,
      skipReason: outcome.skipReason,
      skippedBy: pledgeErrorNameOf(outcome.skipReason),
      preview: { ...outcome.preview },
    })),
  };
}

/** `expectedNonce` that skips the liquidator's nonce check (`type(uint256).max`). */
export const SKIP_NONCE_CHECK = maxUint256;
