import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { liquidatorAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import type { BidPreview } from "../../math/auctionMath.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import type { AccountId } from "../../accounts.js";

export interface PreviewBidParameters {
  /** The account under auction. */
  account: AccountId;
  /** Fraction of the account to take, WAD (capped on chain at `maxFractionWad`). */
  fractionWad: bigint;
  liquidator?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: latest), so the preview matches a margin state read there. */
  blockNumber?: bigint | undefined;
}

/** `ILiquidator.BidPreview`: what `bid` would do now, from the same function (the math mirror's type). */
export type PreviewBidReturnType = BidPreview;

export type PreviewBidErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Previews a bid on an auctioned account; the liquidator's `bid` runs the same code.
 *
 * @example
 * const preview = await previewBid(publicClient, { addressBook, account, fractionWad: 10n ** 18n });
 * console.log(`pay ${preview.payment} for ${preview.fractionWad} at discount ${preview.discountWad}`);
 */
export async function previewBid(client: ReadClient, params: PreviewBidParameters): Promise<PreviewBidReturnType> {
  const address = contractAddress(params.liquidator, params.addressBook, "Liquidator");
  return pledgeRead(client, params.addressBook, async () => ({
    ...(await readContract(client, {
      address,
      abi: liquidatorAbi,
      functionName: "previewBid",
      args: [params.account, params.fractionWad],
      ...(params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber }),
    })),
  }));
}

/** The default slack of `bid` and `bidMany` over the preview's payment: 10 basis points. */
export const DEFAULT_BID_SLIPPAGE_BPS = 10n;

/**
 * The `maxPayment` a bid sends for a previewed `payment`: the payment plus `slippageBps` of its
 * size, rounded up (a bidder paid by the fund accepts that much less). The preview is of the
 * latest block and the bid lands in a later one: the marks move with time (theta) and, while
 * the account's value is below zero, the discount no longer grows to cover it (issue 16).
 *
 * @example
 * withBidSlippage(-1_000_000n, 10n) === -999_000n; // paid 1 USDC, accepts 0.999
 */
export function withBidSlippage(payment: bigint, slippageBps: bigint = DEFAULT_BID_SLIPPAGE_BPS): bigint {
  if (slippageBps < 0n) throw new RangeError(`slippageBps must not be negative: ${slippageBps}`);
  const size = payment < 0n ? -payment : payment;
  return payment + (size * slippageBps + 9_999n) / 10_000n;
}
