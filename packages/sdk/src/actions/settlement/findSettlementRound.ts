import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { aggregatorV3Abi } from "../../abis/index.js";
import { PledgeSettlementRoundNotFoundError } from "../../errors.js";
import type { ReadClient } from "../../internal/actions.js";

/** A Chainlink proxy's phase registry (not part of `AggregatorV3Interface`). */
const proxyPhaseAbi = [
  {
    type: "function",
    name: "phaseAggregators",
    stateMutability: "view",
    inputs: [{ name: "phaseId", type: "uint16" }],
    outputs: [{ name: "", type: "address" }],
  },
] as const;
const latestRoundAbi = [
  {
    type: "function",
    name: "latestRound",
    stateMutability: "view",
    inputs: [],
    outputs: [{ name: "", type: "uint256" }],
  },
] as const;

const PHASE_OFFSET = 64n;
const IN_PHASE_MASK = (1n << PHASE_OFFSET) - 1n;

export interface FindSettlementRoundParameters {
  /** The Chainlink feed (proxy or aggregator) of the underlying's spot price. */
  feed: Address;
  /** Unix seconds. */
  expiry: bigint;
  /** Rounds to read before giving up. Default 500. */
  maxRounds?: number | undefined;
}

export interface FindSettlementRoundReturnType {
  /** The first round with `updatedAt >= expiry`. */
  roundId: bigint;
  /** The round before it (across a phase boundary, the previous phase's last round). */
  previousRoundId: bigint;
  answer: bigint;
  updatedAt: bigint;
}

export type FindSettlementRoundErrorType = PledgeSettlementRoundNotFoundError | ReadContractErrorType;

/**
 * Finds the round pair `ChainlinkOracle.postSettlementPrice` needs: scans the feed's
 * rounds backwards from the latest to the first one updated at or after `expiry`, and
 * returns it with its predecessor (which must be before `expiry`).
 *
 * @example
 * const { roundId, previousRoundId } = await findSettlementRound(publicClient, { feed: ethUsdFeed, expiry });
 */
export async function findSettlementRound(
  client: ReadClient,
  params: FindSettlementRoundParameters,
): Promise<FindSettlementRoundReturnType> {
  const { feed, expiry } = params;
  const notFound = (reason: string) => new PledgeSettlementRoundNotFoundError(feed, expiry, reason);
  const [latestId, latestAnswer, , latestUpdatedAt] = await readContract(client, {
    address: feed,
    abi: aggregatorV3Abi,
    functionName: "latestRoundData",
  });
  if (latestUpdatedAt < expiry) throw notFound(`the latest round (${latestId}) is older than expiry; wait`);

  let candidate: FindSettlementRoundReturnType = {
    roundId: latestId,
    previousRoundId: 0n,
    answer: latestAnswer,
    updatedAt: latestUpdatedAt,
  };
  for (let read = 0; read < (params.maxRounds ?? 500); read++) {
    const previousRoundId = await previousRound(client, feed, candidate.roundId);
    if (previousRoundId === undefined) throw notFound(`round ${candidate.roundId} has no predecessor`);
    const previous = await readRound(client, feed, previousRoundId);
    if (!previous) throw notFound(`round ${previousRoundId} cannot be read`);
    if (previous.updatedAt < expiry) return { ...candidate, previousRoundId };
    candidate = {
      roundId: previousRoundId,
      previousRoundId: 0n,
      answer: previous.answer,
      updatedAt: previous.updatedAt,
    };
  }
  throw notFound(`gave up after ${params.maxRounds ?? 500} rounds`);
}

/** The round before `roundId`: the previous in-phase round, or the previous phase's last round. */
async function previousRound(client: ReadClient, feed: Address, roundId: bigint): Promise<bigint | undefined> {
  if ((roundId & IN_PHASE_MASK) > 1n) return roundId - 1n;
  const phase = roundId >> PHASE_OFFSET;
  if (phase <= 1n) return undefined;
  try {
    const aggregator = await readContract(client, {
      address: feed,
      abi: proxyPhaseAbi,
      functionName: "phaseAggregators",
      args: [Number(phase - 1n)],
    });
    const last = await readContract(client, { address: aggregator, abi: latestRoundAbi, functionName: "latestRound" });
    return ((phase - 1n) << PHASE_OFFSET) | last;
  } catch {
    return undefined;
  }
}

/** A round's answer and time, or undefined when it does not exist (reverts or `updatedAt == 0`). */
async function readRound(client: ReadClient, feed: Address, roundId: bigint) {
  try {
    const [, answer, , updatedAt] = await readContract(client, {
      address: feed,
      abi: aggregatorV3Abi,
      functionName: "getRoundData",
      args: [roundId],
    });
    return updatedAt === 0n ? undefined : { answer, updatedAt };
  } catch {
    return undefined;
  }
}
