import type { Address, ReadContractErrorType, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { readContract, simulateContract } from "viem/actions";

import { chainlinkOracleAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  assertAsset,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import { findSettlementRound } from "./findSettlementRound.js";

export interface PostSettlementPriceParameters extends WriteParameters {
  /** The underlying (as listed in the oracle). */
  asset: Address;
  /** Unix seconds. */
  expiry: bigint;
  /**
   * The first round in time after expiry and its hints (one per other phase of the feed's proxy), or
   * nothing: then `findSettlementRound` finds them on the oracle's feed.
   */
  rounds?: { roundId: bigint; hints: readonly bigint[] } | undefined;
  oracle?: Address | undefined;
}

/** `result` is the settlement price, WAD. */
export type PostSettlementPriceReturnType = WriteReturnType<bigint>;

export type PostSettlementPriceErrorType =
  PledgeErrorType | ReadContractErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Records the settlement price of `asset` at `expiry` (permissionless, idempotent): the
 * answer of the feed's first round in time at or after expiry, across the proxy's phases,
 * proved by its in-phase predecessor and one hint per other phase. A first round later
 * than the oracle's `maxSettlementDelay` is accepted from `expiry + settlementFallbackWait`
 * on; before that the simulation throws `OracleSettlementFallbackNotOpen`. A first round that
 * answers no price (zero or less) throws `OracleInvalidPrice` until then; from then on the same
 * call records the next round after it in its phase that answers a price (docs/oracle.md, "An
 * invalid first round"), so the price may differ from the `answer` that `findSettlementRound`
 * returned.
 *
 * @example
 * const { result: priceWad } = await postSettlementPrice(keeperWallet, { publicClient, addressBook, asset: weth, expiry });
 * // or with rounds found earlier:
 * const rounds = await findSettlementRound(publicClient, { feed: ethUsdFeed, expiry });
 * await postSettlementPrice(keeperWallet, { publicClient, addressBook, asset: weth, expiry, rounds });
 */
export async function postSettlementPrice(
  client: SignerClient,
  params: PostSettlementPriceParameters,
): Promise<PostSettlementPriceReturnType> {
  const address = contractAddress(params.oracle, params.addressBook, "ChainlinkOracle");
  const { publicClient, asset, expiry } = params;
  return sendSimulated(client, params, async () => {
    await assertAsset(publicClient, params.addressBook, asset);
    let rounds = params.rounds;
    if (!rounds) {
      const { aggregator } = await readContract(publicClient, {
        address,
        abi: chainlinkOracleAbi,
        functionName: "spotFeed",
        args: [asset],
      });
      rounds = await findSettlementRound(publicClient, { feed: aggregator, expiry });
    }
    return simulateContract(publicClient, {
      account: client.account,
      address,
      abi: chainlinkOracleAbi,
      functionName: "postSettlementPrice",
      args: [asset, expiry, rounds.roundId, rounds.hints],
    });
  });
}
