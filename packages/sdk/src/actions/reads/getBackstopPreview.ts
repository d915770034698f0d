import type { Address, ReadContractErrorType } from "viem";
import { getBlockNumber, readContract } from "viem/actions";

import { backstopAbi, collateralVaultAbi, liquidatorAbi, marginEngineAbi, optionMarketAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { cashMarketAt } from "../../math/cashIndex.js";
import type { MarginInputs } from "../../math/engine.js";
import {
  type DeleverageHolderInput,
  type DeleveragePlan,
  type TakeoverBudget,
  type TakeoverPreview,
  deleveragePlanOf,
  takeoverPreviewFromState,
} from "../../math/backstop.js";
import type { AccountId } from "../../accounts.js";
import type { Health } from "../../math/engine.js";
import { getCashMarket } from "./getCashMarket.js";
import { getMarginInputs } from "./getMarginInputs.js";

export interface GetBackstopPreviewParameters {
  /** The account under auction. */
  account: AccountId;
  /** A series the account holds: also preview deleveraging its position there. */
  seriesId?: bigint | undefined;
  /**
   * Candidate holders of `seriesId` (the chain cannot enumerate them: pass an indexer's, e.g. the
   * keeper's index); those holding the side opposite the account's are kept, keyed and sorted.
   */
  holders?: readonly AccountId[] | undefined;
  /**
   * Value each holder the plan closes after its close, as `deleverage` does, so the plan skips
   * exactly the holders the chain skips (default true; needs `addressBook`; only while the account
   * is worth less than nothing, as `deleverage` needs). Reads the margin inputs and cash shares of
   * the closed holders only, and the cash market, in a round per skip.
   */
  valueHolders?: boolean | undefined;
  /** The cash token's decimals (default: the address book's). */
  cashDecimals?: number | undefined;
  backstop?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: the latest, fixed once so every read agrees). */
  blockNumber?: bigint | undefined;
}

export interface GetBackstopPreviewReturnType {
  blockNumber: bigint;
  /** Whether an auction is running on the account (not lapsed). */
  auctionRunning: boolean;
  /** Whether an auction is open on the account, running or lapsed (a step needs one). */
  auctionActive: boolean;
  /**
   * When a backstop step may run: `clockStart + duration` (bids do not move it); for a lapsed
   * auction still open, its stored clock start plus `duration`, already past; 0 if none is open.
   */
  readyAt: bigint;
  /** The account's health now (a step needs `LIQUIDATABLE` or `INSOLVENT`). */
  health: Health;
  budget: TakeoverBudget;
  windowLossWad: bigint;
  takeover: TakeoverPreview;
  /** For `seriesId`: the bankruptcy price, the sorted holders and the closes from the top. */
  deleverage: (DeleveragePlan & { openInterest: bigint; complete: boolean }) | undefined;
}

export type GetBackstopPreviewErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Reads once, at one block, what the backstop's waterfall would do to `account` (`docs/backstop.md`):
 * when a step may run, the takeover's value, loss and budget, and, for `seriesId`, deleveraging's
 * bankruptcy price, each holder's key, the order `deleverage` requires and what each close moves,
 * all computed by the SDK's exact twin of `BackstopMath` (`takeoverPreviewFromState`,
 * `deleveragePlanOf`). The plan skips the holders the chain skips: the insurance fund, and (with
 * `valueHolders`, the default) each holder its close would take below maintenance, valued from
 * its margin inputs as `deleverageStep` values it. `complete` says whether the holders found add
 * up to the open interest (else `deleverage` refuses with `BackstopHoldersIncomplete`). Reverts
 * while a price a position needs is invalid, like the chain.
 *
 * @example
 * // The holders come from an indexer (the keeper's); here, the maker's counterparty.
 * const preview = await getBackstopPreview(publicClient, { addressBook, account: maker, seriesId, holders: [taker] });
 * if (!preview.takeover.withinBudget && preview.takeover.valueWad < 0n && preview.deleverage?.complete) {
 *   console.log("deleverage with", preview.deleverage.holders.map((h) => h.account));
 * }
 */
export async function getBackstopPreview(
  client: ReadClient,
  params: GetBackstopPreviewParameters,
): Promise<GetBackstopPreviewReturnType> {
  const backstop = contractAddress(params.backstop, params.addressBook, "Backstop");
  return pledgeRead(client, params.addressBook, async () => {
    const blockNumber = params.blockNumber ?? (await getBlockNumber(client, { cacheTime: 0 }));
    const at = { blockNumber };
    const [engine, market, liquidator, insuranceAccount] = await Promise.all([
      readContract(client, { address: backstop, abi: backstopAbi, functionName: "engine", ...at }),
      readContract(client, { address: backstop, abi: backstopAbi, functionName: "market", ...at }),
      readContract(client, { address: backstop, abi: backstopAbi, functionName: "liquidator", ...at }),
      readContract(client, { address: backstop, abi: backstopAbi, functionName: "insuranceAccount", ...at }),
    ]);
    const [state, budget, windowLossWad, clock, auction, auctionParams] = await Promise.all([
      readContract(client, {
        address: engine,
        abi: marginEngineAbi,
        functionName: "accountMargin",
        args: [params.account],
        ...at,
      }),
      readContract(client, { address: backstop, abi: backstopAbi, functionName: "takeoverBudget", ...at }),
      readContract(client, { address: backstop, abi: backstopAbi, functionName: "windowLoss", ...at }),
      readContract(client, {
        address: liquidator,
        abi: liquidatorAbi,
        functionName: "auctionClock",
        args: [params.account],
        ...at,
      }),
      readContract(client, {
        address: liquidator,
        abi: liquidatorAbi,
        functionName: "auctionOf",
        args: [params.account],
        ...at,
      }),
      readContract(client, { address: liquidator, abi: liquidatorAbi, functionName: "auctionParams", ...at }),
    ]);
    const [auctionRunning, clockStart] = clock;
    const auctionActive = auction.active;
    // A lapsed auction's clock is not reported (`auctionClock` says now); its stored clock start
    // is at or before the live one, and the lapse is past it by 2·duration, so this is past too.
    const duration = BigInt(auctionParams.duration);
    const readyAt = !auctionActive ? 0n : (auctionRunning ? clockStart : auction.clockStart) + duration;
    const takeover = takeoverPreviewFromState(state, budget, windowLossWad);

    let deleverage: GetBackstopPreviewReturnType["deleverage"];
    if (params.seriesId !== undefined) {
      const seriesId = params.seriesId;
      const [seriesIds, balances] = await readContract(client, {
        address: market,
        abi: optionMarketAbi,
        functionName: "positionsOf",
        args: [params.account],
        ...at,
      });
      const marks = await Promise.all(
        seriesIds.map((id) =>
          readContract(client, { address: engine, abi: marginEngineAbi, functionName: "mark", args: [id], ...at }),
        ),
      );
      const positions = seriesIds.map((id, i) => ({ seriesId: id, balance: balances[i]!, markWad: marks[i]! }));
      const own = positions.find((p) => p.seriesId === seriesId)?.balance ?? 0n;
      const candidates = [...new Set(params.holders ?? [])].filter((h) => h !== params.account);
      const held = await Promise.all(
        candidates.map((h) =>
          readContract(client, {
            address: market,
            abi: optionMarketAbi,
            functionName: "positionOf",
            args: [h, seriesId],
            ...at,
          }),
        ),
      );
      const opposite = candidates
        .map((account, i) => ({ account, balance: held[i]! }))
        .filter((h) => h.balance !== 0n && h.balance > 0n !== own > 0n);
      const states =
        opposite.length === 0
          ? []
          : await readContract(client, {
              address: engine,
              abi: marginEngineAbi,
              functionName: "accountsMargin",
              args: [opposite.map((h) => h.account)],
              ...at,
            });
      const [openInterest, cashDecimals] = await Promise.all([
        readContract(client, {
          address: market,
          abi: optionMarketAbi,
          functionName: "openInterest",
          args: [seriesId],
          ...at,
        }),
        Promise.resolve(params.cashDecimals ?? params.addressBook?.cash.decimals),
      ]);
      if (cashDecimals === undefined) throw new RangeError("cashDecimals: pass it, or an address book");
      const planInput = {
        markValue: state.markValue,
        positions,
        seriesId,
        holders: opposite.map((h, i): DeleverageHolderInput => ({ ...h, equityMM: states[i]!.equityMM })),
        cashDecimals,
        insuranceAccount: insuranceAccount as AccountId,
        cashIndex: undefined as { supplyIndex: bigint; debtIndex: bigint } | undefined,
      };
      let plan = deleveragePlanOf(planInput);
      const addressBook = params.addressBook;
      if (params.valueHolders !== false && addressBook !== undefined && state.markValue < 0n) {
        // Each round values the holders the plan closes unvalued; a skip reaches further down.
        const valued = new Map<AccountId, { inputs: MarginInputs; cashShares: bigint }>();
        for (let unvalued = plan.closes.filter((c) => c.excessMMAfter === undefined); unvalued.length !== 0;) {
          const vault = addressBook.contracts.CollateralVault;
          const [read, cash] = await Promise.all([
            Promise.all(
              unvalued.map(({ account }) =>
                Promise.all([
                  getMarginInputs(client, { addressBook, account, blockNumber }),
                  readContract(client, {
                    address: vault,
                    abi: collateralVaultAbi,
                    functionName: "cashSharesOf",
                    args: [account],
                    ...at,
                  }),
                ]),
              ),
            ),
            planInput.cashIndex === undefined ? getCashMarket(client, { vault, blockNumber }) : undefined,
          ]);
          unvalued.forEach(({ account }, i) => valued.set(account, { inputs: read[i]![0], cashShares: read[i]![1] }));
          if (cash !== undefined) planInput.cashIndex = cashMarketAt(cash, cash.timestamp).market;
          planInput.holders = planInput.holders.map((h) => ({ ...h, ...valued.get(h.account) }));
          plan = deleveragePlanOf(planInput);
          unvalued = plan.closes.filter((c) => c.excessMMAfter === undefined);
        }
      }
      deleverage = { ...plan, openInterest, complete: plan.oppositeSum === openInterest };
    }
    const health = state.health as Health;
    return { blockNumber, auctionRunning, auctionActive, readyAt, health, budget, windowLossWad, takeover, deleverage };
  });
}
