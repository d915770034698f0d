import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { liquidatorAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import type { AuctionClock } from "../../math/auctionMath.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import type { AccountId } from "../../accounts.js";

export interface GetAuctionClockParameters {
  /** The account under auction. */
  account: AccountId;
  /** Read at this block (default: latest), so the clock matches a margin state read there. */
  blockNumber?: bigint | undefined;
  liquidator?: Address | undefined;
  addressBook?: AddressBook | undefined;
}

/** The running auction's clock, or undefined when a bid would start a new auction. */
export type GetAuctionClockReturnType = AuctionClock | undefined;

export type GetAuctionClockErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Reads what `previewBidFromState` needs about an auction: `auctionClock` (the clock start
 * moved past price outages found after `auctionOf`'s `liveCheckedAt`; not running when none is
 * open or it lapsed). Undefined means a bid would start a new auction at the start discount.
 *
 * @example
 * const clock = await getAuctionClock(publicClient, { addressBook, account });
 * clock === undefined; // false
 */
export async function getAuctionClock(
  client: ReadClient,
  params: GetAuctionClockParameters,
): Promise<GetAuctionClockReturnType> {
  const address = contractAddress(params.liquidator, params.addressBook, "Liquidator");
  const at = params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber };
  return pledgeRead(client, params.addressBook, async () => {
    const [[running, clockStart], auction] = await Promise.all([
      readContract(client, {
        address,
        abi: liquidatorAbi,
        functionName: "auctionClock",
        args: [params.account],
        ...at,
      }),
      readContract(client, { address, abi: liquidatorAbi, functionName: "auctionOf", args: [params.account], ...at }),
    ]);
    return running ? { clockStart, liveCheckedAt: auction.liveCheckedAt } : undefined;
  });
}
