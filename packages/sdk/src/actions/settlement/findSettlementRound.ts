import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { aggregatorV3Abi } from "../../abis/index.js";
import { PledgeSettlementRoundNotFoundError } from "../../errors.js";
import type { ReadClient } from "../../internal/actions.js";
import { feedAnswerToWad } from "../../math/settlement.js";

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
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export interface FindSettlementRoundParameters {
  /** The Chainlink feed (proxy or aggregator) of the underlying's spot price. */
  feed: Address;
  /** Unix seconds. */
  expiry: bigint;
}

export interface FindSettlementRoundReturnType {
  /** The first round in time with `updatedAt >= expiry`, across all of the proxy's phases (ties: lower phase). */
  roundId: bigint;
  /**
   * One per other phase of the proxy (`1..current`), in increasing phase order: that phase's last
   * round before expiry, or `phase << 64` when it has none. Empty for a plain aggregator.
   */
  hints: readonly bigint[];
  /**
   * The round's raw answer: the settlement price once scaled, unless it is no price (zero or less,
   * or below 1 wei once scaled), when the oracle takes the next round after it that answers one,
   * from `expiry + settlementFallbackWait` on.
   */
  answer: bigint;
  updatedAt: bigint;
  /** The feed's `decimals()`, which scales `answer` (`feedAnswerToWad`). */
  decimals: number;
}

export type FindSettlementRoundErrorType = PledgeSettlementRoundNotFoundError | ReadContractErrorType;

/** Where expiry falls in one phase: its last round before expiry and its first round at or after it. */
interface PhaseBoundary {
  phase: bigint;
  /** In-phase number of the last round before expiry; 0 when none. */
  lastBefore: bigint;
  first?: { roundId: bigint; answer: bigint; updatedAt: bigint } | undefined;
}

/**
 * Finds what `ChainlinkOracle.postSettlementPrice` needs: the feed's first round in time with
 * `updatedAt >= expiry` and the hints that prove it. For every phase of the proxy (`1..current`,
 * `current` from `latestRoundData`; a plain aggregator is its own phase 0) it binary-searches the
 * phase's rounds (consecutive, monotone in time) for the last one before expiry, reading a past
 * phase's length from `phaseAggregators(phase).latestRound()`. The winner is the earliest first
 * round after expiry (ties: the lower phase); the other phases' last rounds before expiry are the hints.
 * Throws `PledgeSettlementRoundNotFoundError` while no round at or after expiry exists (wait).
 *
 * @example
 * const rounds = await findSettlementRound(publicClient, { feed: ethUsdFeed, expiry });
 * rounds.updatedAt >= expiry; // true
 * await postSettlementPrice(keeperWallet, { publicClient, addressBook, asset: weth, expiry, rounds });
 */
export async function findSettlementRound(
  client: ReadClient,
  params: FindSettlementRoundParameters,
): Promise<FindSettlementRoundReturnType> {
  const { feed, expiry } = params;
  const notFound = (reason: string) => new PledgeSettlementRoundNotFoundError(feed, expiry, reason);
  const [[latestId], decimals] = await Promise.all([
    readContract(client, { address: feed, abi: aggregatorV3Abi, functionName: "latestRoundData" }),
    readContract(client, { address: feed, abi: aggregatorV3Abi, functionName: "decimals" }),
  ]);
  const current = latestId >> PHASE_OFFSET;

  const boundaries: PhaseBoundary[] = [];
  for (let phase = current === 0n ? 0n : 1n; phase <= current; phase++) {
    const last = phase === current ? latestId & IN_PHASE_MASK : await phaseLength(client, feed, phase, notFound);
    boundaries.push(await phaseBoundary(client, feed, expiry, phase, last, notFound));
  }

  let winner: PhaseBoundary | undefined;
  for (const boundary of boundaries) {
    // Strictly earlier: at the same time the lower phase (seen first) wins, as on chain.
    if (boundary.first && (!winner?.first || boundary.first.updatedAt < winner.first.updatedAt)) winner = boundary;
  }
  if (!winner?.first) throw notFound(`no round at or after expiry yet (latest ${latestId}); wait`);
  const hints = boundaries.filter((b) => b.phase !== winner.phase).map((b) => (b.phase << PHASE_OFFSET) | b.lastBefore);
  return { ...winner.first, hints, decimals };
}

/** The oracle's `MAX_LIVE_ROUNDS`: how many rounds after an anchor with no price it looks at. */
const MAX_FALLBACK_ROUNDS = 16n;

export interface FindFallbackRoundParameters {
  /** The Chainlink feed (proxy or aggregator) of the underlying's spot price. */
  feed: Address;
  /** The first round after expiry (`findSettlementRound`'s `roundId`), which answers no price. */
  roundId: bigint;
  /** The feed's decimals (`findSettlementRound`'s `decimals`). */
  decimals: number;
}

/**
 * Where `postSettlementPrice` goes once the settlement fallback is open and the first round after
 * expiry answers no price (`feedAnswerToWad` is 0):
 * - `priced`: the oracle posts this round, the first of the next 16 in the anchor's phase that
 *   answers a price (held to the feed's bounds, as any first round);
 * - `missing`: round `roundId` is not published yet and the proxy is still in the anchor's phase,
 *   so the post reverts `OracleRoundNotFound` until it is (wait);
 * - `none`: no price among those rounds, or the proxy moved to a later phase before one came, so
 *   the post reverts `OracleNoValidSettlementRound`: only governance can settle the expiry.
 */
export type FindFallbackRoundReturnType =
  | { status: "priced"; roundId: bigint; answer: bigint; updatedAt: bigint }
  | { status: "missing"; roundId: bigint }
  | { status: "none"; roundId: bigint };

/**
 * Walks the rounds after a first round that answers no price as `ChainlinkOracle._firstPricedAfter`
 * does (same rounds, same order, same outcome), so a keeper can tell "wait" from "needs governance"
 * without sending a transaction that reverts.
 *
 * @example
 * const first = await findSettlementRound(publicClient, { feed: ethUsdFeed, expiry });
 * if (feedAnswerToWad(first.answer, first.decimals) === 0n) {
 *   const next = await findFallbackRound(publicClient, { feed: ethUsdFeed, roundId: first.roundId, decimals: first.decimals });
 *   if (next.status === "priced") console.log(`settles at round ${next.roundId}`);
 * }
 */
export async function findFallbackRound(
  client: ReadClient,
  params: FindFallbackRoundParameters,
): Promise<FindFallbackRoundReturnType> {
  const { feed, roundId, decimals } = params;
  let last = roundId;
  for (let i = 1n; i <= MAX_FALLBACK_ROUNDS; i++) {
    // The phase's last possible round has no successor in the phase.
    if ((roundId & IN_PHASE_MASK) > IN_PHASE_MASK - i) break;
    const next = roundId + i;
    const round = await readRound(client, feed, next);
    if (!round) {
      const [latestId] = await readContract(client, {
        address: feed,
        abi: aggregatorV3Abi,
        functionName: "latestRoundData",
      });
      if (roundId >> PHASE_OFFSET < latestId >> PHASE_OFFSET) break;
      return { status: "missing", roundId: next };
    }
    last = next;
    if (feedAnswerToWad(round.answer, decimals) !== 0n) return { status: "priced", roundId: next, ...round };
  }
  return { status: "none", roundId: last };
}

/** The latest in-phase round number of a past phase of the proxy (0 if the phase has no aggregator). */
async function phaseLength(
  client: ReadClient,
  feed: Address,
  phase: bigint,
  notFound: (reason: string) => PledgeSettlementRoundNotFoundError,
): Promise<bigint> {
  try {
    const aggregator = await readContract(client, {
      address: feed,
      abi: proxyPhaseAbi,
      functionName: "phaseAggregators",
      args: [Number(phase)],
    });
    if (aggregator === ZERO_ADDRESS) return 0n;
    return await readContract(client, { address: aggregator, abi: latestRoundAbi, functionName: "latestRound" });
  } catch {
    throw notFound(`cannot read the length of phase ${phase} (not a Chainlink proxy?)`);
  }
}

/** Binary search of one phase, rounds `1..last`, for the boundary around `expiry`. */
async function phaseBoundary(
  client: ReadClient,
  feed: Address,
  expiry: bigint,
  phase: bigint,
  last: bigint,
  notFound: (reason: string) => PledgeSettlementRoundNotFoundError,
): Promise<PhaseBoundary> {
  if (last === 0n) return { phase, lastBefore: 0n };
  const id = (n: bigint) => (phase << PHASE_OFFSET) | n;
  const read = async (n: bigint) => {
    const round = await readRound(client, feed, id(n));
    if (!round) throw notFound(`round ${id(n)} cannot be read`);
    return round;
  };
  const lastRound = await read(last);
  if (lastRound.updatedAt < expiry) return { phase, lastBefore: last };
  const firstRound = await read(1n);
  if (firstRound.updatedAt >= expiry) return { phase, lastBefore: 0n, first: { roundId: id(1n), ...firstRound } };
  // Invariant: round `lo` is before expiry, round `hi` at or after it.
  let lo = 1n;
  let hi = last;
  let hiRound = lastRound;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    const round = await read(mid);
    if (round.updatedAt < expiry) lo = mid;
    else [hi, hiRound] = [mid, round];
  }
  return { phase, lastBefore: lo, first: { roundId: id(hi), ...hiRound } };
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
