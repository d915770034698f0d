import type { Address, ReadContractErrorType, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { readContract, simulateContract } from "viem/actions";

import { liquidatorAbi, optionMarketAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import { type PreviewBidReturnType, previewBid, withBidSlippage } from "./previewBid.js";
import type { AccountId } from "../../accounts.js";

export interface BidParameters extends WriteParameters {
  /** The account under auction. */
  account: AccountId;
  /** Receives the positions; must end at or above initial margin. */
  bidderAccount: AccountId;
  /** Fraction to take, WAD (capped on chain). */
  fractionWad: bigint;
  /** Most the bidder pays, cash units; defaults to `withBidSlippage(previewBid(...).payment, slippageBps)`. */
  maxPayment?: bigint | undefined;
  /** Slack over the preview when `maxPayment` is not given, basis points (default 10). */
  slippageBps?: bigint | undefined;
  /** Defaults to the market's current `accountNonce(account)`, a digest of its positions. */
  expectedNonce?: bigint | undefined;
  liquidator?: Address | undefined;
  /** Needed only to read the nonce when `expectedNonce` is not given. */
  market?: Address | undefined;
}

/** `result` is the executed bid, as `previewBid` describes it. */
export type BidReturnType = WriteReturnType<PreviewBidReturnType>;

export type BidErrorType = PledgeErrorType | ReadContractErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Bids on an auctioned account: takes `fractionWad` of its positions and collateral into
 * `bidderAccount` at the current discount. Guards against price moves (`maxPayment`) and
 * against the account changing since the preview (`expectedNonce`).
 *
 * @example
 * const { result } = await bid(keeperWallet, { publicClient, addressBook, account, bidderAccount, fractionWad: 10n ** 18n });
 */
export async function bid(client: SignerClient, params: BidParameters): Promise<BidReturnType> {
  const address = contractAddress(params.liquidator, params.addressBook, "Liquidator");
  const { publicClient } = params;
  const sent = await sendSimulated(client, params, async () => {
    const [maxPayment, expectedNonce] = await Promise.all([
      params.maxPayment ??
        previewBid(publicClient, {
          liquidator: address,
          account: params.account,
          fractionWad: params.fractionWad,
        }).then((preview) => withBidSlippage(preview.payment, params.slippageBps)),
      params.expectedNonce ??
        readContract(publicClient, {
          address: contractAddress(params.market, params.addressBook, "OptionMarket"),
          abi: optionMarketAbi,
          functionName: "accountNonce",
          args: [params.account],
        }),
    ]);
    return simulateContract(publicClient, {
      account: client.account,
      address,
      abi: liquidatorAbi,
      functionName: "bid",
      args: [params.account, params.bidderAccount, params.fractionWad, maxPayment, expectedNonce],
    });
  });
  return { ...sent, result: { ...sent.result } };
}
