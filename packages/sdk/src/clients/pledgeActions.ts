import type { AddressBook, PledgeContractName } from "../addressBook.js";
import {
  type GetAccountIdParameters,
  type GetAccountIdReturnType,
  getAccountId,
} from "../actions/accounts/getAccountId.js";
import {
  type SetMarginModeParameters,
  type SetMarginModeReturnType,
  setMarginMode,
} from "../actions/accounts/setMarginMode.js";
import {
  type SetOperatorParameters,
  type SetOperatorReturnType,
  setOperator,
} from "../actions/accounts/setOperator.js";
import {
  type TransferPositionsParameters,
  type TransferPositionsReturnType,
  transferPositions,
} from "../actions/accounts/transferPositions.js";
import { type DepositParameters, type DepositReturnType, deposit } from "../actions/collateral/deposit.js";
import { type WithdrawParameters, type WithdrawReturnType, withdraw } from "../actions/collateral/withdraw.js";
import {
  type GetPledgeEventsParameters,
  type GetPledgeEventsReturnType,
  getPledgeEvents,
} from "../actions/events/getPledgeEvents.js";
import {
  type WatchPledgeEventsParameters,
  type WatchPledgeEventsReturnType,
  watchPledgeEvents,
} from "../actions/events/watchPledgeEvents.js";
import { type BidParameters, type BidReturnType, bid } from "../actions/liquidation/bid.js";
import { type BidManyParameters, type BidManyReturnType, bidMany } from "../actions/liquidation/bidMany.js";
import {
  type GetAuctionClockParameters,
  type GetAuctionClockReturnType,
  getAuctionClock,
} from "../actions/liquidation/getAuctionClock.js";
import { type PreviewBidParameters, type PreviewBidReturnType, previewBid } from "../actions/liquidation/previewBid.js";
import {
  type StartAuctionParameters,
  type StartAuctionReturnType,
  startAuction,
} from "../actions/liquidation/startAuction.js";
import { type CancelOrderParameters, type CancelOrderReturnType, cancelOrder } from "../actions/orders/cancelOrder.js";
import {
  type CreateSeriesParameters,
  type CreateSeriesReturnType,
  createSeries,
} from "../actions/orders/createSeries.js";
import { type FillOrderParameters, type FillOrderReturnType, fillOrder } from "../actions/orders/fillOrder.js";
import {
  type GetOrderStatusParameters,
  type GetOrderStatusReturnType,
  getOrderStatus,
} from "../actions/orders/getOrderStatus.js";
import { type SetMinNonceParameters, type SetMinNonceReturnType, setMinNonce } from "../actions/orders/setMinNonce.js";
import { type SignOrderParameters, type SignOrderReturnType, signOrder } from "../actions/orders/signOrder.js";
import {
  type SimulateFillParameters,
  type SimulateFillReturnType,
  simulateFill,
} from "../actions/orders/simulateFill.js";
import {
  type GetAccountMarginParameters,
  type GetAccountMarginReturnType,
  getAccountMargin,
} from "../actions/reads/getAccountMargin.js";
import { type GetBalancesParameters, type GetBalancesReturnType, getBalances } from "../actions/reads/getBalances.js";
import {
  type GetBackstopPreviewParameters,
  type GetBackstopPreviewReturnType,
  getBackstopPreview,
} from "../actions/reads/getBackstopPreview.js";
import {
  type GetCashMarketParameters,
  type GetCashMarketReturnType,
  getCashMarket,
} from "../actions/reads/getCashMarket.js";
import {
  type GetLatentInsolvencyParameters,
  type GetLatentInsolvencyReturnType,
  getLatentInsolvency,
} from "../actions/reads/getLatentInsolvency.js";
import {
  type GetMarginInputsParameters,
  type GetMarginInputsReturnType,
  getMarginInputs,
} from "../actions/reads/getMarginInputs.js";
import {
  type GetMarketParametersParameters,
  type GetMarketParametersReturnType,
  getMarketParameters,
} from "../actions/reads/getMarketParameters.js";
import {
  type GetOpenInterestCapsParameters,
  type GetOpenInterestCapsReturnType,
  getOpenInterestCaps,
} from "../actions/reads/getOpenInterestCaps.js";
import {
  type GetOraclePricesParameters,
  type GetOraclePricesReturnType,
  getOraclePrices,
} from "../actions/reads/getOraclePrices.js";
import {
  type GetPositionsParameters,
  type GetPositionsReturnType,
  getPositions,
} from "../actions/reads/getPositions.js";
import {
  type GetSeriesListParameters,
  type GetSeriesListReturnType,
  getSeriesList,
} from "../actions/reads/getSeriesList.js";
import {
  type FindFallbackRoundParameters,
  type FindFallbackRoundReturnType,
  type FindSettlementRoundParameters,
  type FindSettlementRoundReturnType,
  findFallbackRound,
  findSettlementRound,
} from "../actions/settlement/findSettlementRound.js";
import {
  type PostSettlementPriceParameters,
  type PostSettlementPriceReturnType,
  postSettlementPrice,
} from "../actions/settlement/postSettlementPrice.js";
import {
  type RetireExpiredParameters,
  type RetireExpiredReturnType,
  retireExpired,
} from "../actions/settlement/retireExpired.js";
import { type SettleParameters, type SettleReturnType, settle } from "../actions/settlement/settle.js";
import {
  type SettleBatchParameters,
  type SettleBatchReturnType,
  settleBatch,
} from "../actions/settlement/settleBatch.js";
import type { ReadClient, SignerClient } from "../internal/actions.js";
import type { PledgeEventName } from "../pledgeAbis.js";

/** A read's parameters with the address book made optional: the extension supplies it. */
export type BoundReadParameters<params> = Omit<params, "addressBook"> & { addressBook?: AddressBook | undefined };

/** A write's parameters with the address book and public client made optional: the extension supplies them. */
export type BoundWriteParameters<params> = Omit<params, "addressBook" | "publicClient"> & {
  addressBook?: AddressBook | undefined;
  publicClient?: ReadClient | undefined;
};

/** The reads of `pledgeActions`, each the free function of the same name with the client and address book bound. */
export type PledgeActions = {
  getAccountMargin(params: BoundReadParameters<GetAccountMarginParameters>): Promise<GetAccountMarginReturnType>;
  getBalances(params: BoundReadParameters<GetBalancesParameters>): Promise<GetBalancesReturnType>;
  getCashMarket(params?: BoundReadParameters<GetCashMarketParameters>): Promise<GetCashMarketReturnType>;
  getLatentInsolvency(
    params: BoundReadParameters<GetLatentInsolvencyParameters>,
  ): Promise<GetLatentInsolvencyReturnType>;
  getBackstopPreview(params: BoundReadParameters<GetBackstopPreviewParameters>): Promise<GetBackstopPreviewReturnType>;
  getPositions(params: BoundReadParameters<GetPositionsParameters>): Promise<GetPositionsReturnType>;
  getMarginInputs(params: BoundReadParameters<GetMarginInputsParameters>): Promise<GetMarginInputsReturnType>;
  getMarketParameters(
    params?: BoundReadParameters<GetMarketParametersParameters>,
  ): Promise<GetMarketParametersReturnType>;
  getOraclePrices(params: BoundReadParameters<GetOraclePricesParameters>): Promise<GetOraclePricesReturnType>;
  getOpenInterestCaps(
    params: BoundReadParameters<GetOpenInterestCapsParameters>,
  ): Promise<GetOpenInterestCapsReturnType>;
  getOrderStatus(params: BoundReadParameters<GetOrderStatusParameters>): Promise<GetOrderStatusReturnType>;
  getSeriesList(params?: BoundReadParameters<GetSeriesListParameters>): Promise<GetSeriesListReturnType>;
  simulateFill(params: BoundReadParameters<SimulateFillParameters>): Promise<SimulateFillReturnType>;
  getAuctionClock(params: BoundReadParameters<GetAuctionClockParameters>): Promise<GetAuctionClockReturnType>;
  previewBid(params: BoundReadParameters<PreviewBidParameters>): Promise<PreviewBidReturnType>;
  findSettlementRound(params: FindSettlementRoundParameters): Promise<FindSettlementRoundReturnType>;
  findFallbackRound(params: FindFallbackRoundParameters): Promise<FindFallbackRoundReturnType>;
  getPledgeEvents<
    contract extends PledgeContractName,
    eventName extends PledgeEventName<contract> | undefined = undefined,
  >(
    params: GetPledgeEventsParameters<contract, eventName>,
  ): Promise<GetPledgeEventsReturnType<contract, eventName>>;
  watchPledgeEvents<
    contract extends PledgeContractName,
    eventName extends PledgeEventName<contract> | undefined = undefined,
  >(
    params: WatchPledgeEventsParameters<contract, eventName>,
  ): WatchPledgeEventsReturnType;
};

/** The writes (and signing) of `pledgeWalletActions`, each the free function of the same name with its defaults bound. */
export type PledgeWalletActions = {
  getAccountId(params: GetAccountIdParameters): GetAccountIdReturnType;
  signOrder(params: BoundReadParameters<SignOrderParameters>): Promise<SignOrderReturnType>;
  deposit(params: BoundWriteParameters<DepositParameters>): Promise<DepositReturnType>;
  withdraw(params: BoundWriteParameters<WithdrawParameters>): Promise<WithdrawReturnType>;
  setOperator(params: BoundWriteParameters<SetOperatorParameters>): Promise<SetOperatorReturnType>;
  setMarginMode(params: BoundWriteParameters<SetMarginModeParameters>): Promise<SetMarginModeReturnType>;
  transferPositions(params: BoundWriteParameters<TransferPositionsParameters>): Promise<TransferPositionsReturnType>;
  fillOrder(params: BoundWriteParameters<FillOrderParameters>): Promise<FillOrderReturnType>;
  cancelOrder(params: BoundWriteParameters<CancelOrderParameters>): Promise<CancelOrderReturnType>;
  setMinNonce(params: BoundWriteParameters<SetMinNonceParameters>): Promise<SetMinNonceReturnType>;
  createSeries(params: BoundWriteParameters<CreateSeriesParameters>): Promise<CreateSeriesReturnType>;
  startAuction(params: BoundWriteParameters<StartAuctionParameters>): Promise<StartAuctionReturnType>;
  bid(params: BoundWriteParameters<BidParameters>): Promise<BidReturnType>;
  bidMany(params: BoundWriteParameters<BidManyParameters>): Promise<BidManyReturnType>;
  postSettlementPrice(
    params: BoundWriteParameters<PostSettlementPriceParameters>,
  ): Promise<PostSettlementPriceReturnType>;
  settle(params: BoundWriteParameters<SettleParameters>): Promise<SettleReturnType>;
  settleBatch(params: BoundWriteParameters<SettleBatchParameters>): Promise<SettleBatchReturnType>;
  retireExpired(params: BoundWriteParameters<RetireExpiredParameters>): Promise<RetireExpiredReturnType>;
};

/**
 * A viem client extension: `publicClient.extend(pledgeActions({ addressBook }))` gives the client
 * every Pledge read (and the event readers and watcher) as a method, with the address book bound.
 * Each method returns what the free function of the same name returns; an `addressBook` passed
 * to a call overrides the bound one.
 *
 * @example
 * const pledge = publicClient.extend(pledgeActions({ addressBook }));
 * const { cash } = await pledge.getBalances({ account });
 * const fills = await pledge.getPledgeEvents({ contract: "OptionMarket", eventName: "OrderFilled" });
 */
export function pledgeActions(defaults: { addressBook: AddressBook }) {
  return (client: ReadClient): PledgeActions => {
    const read = <params extends { addressBook?: AddressBook | undefined }>(params: params) => ({
      ...params,
      addressBook: params.addressBook ?? defaults.addressBook,
    });
    return {
      getAccountMargin: (params) => getAccountMargin(client, read(params)),
      getBalances: (params) => getBalances(client, read(params)),
      getCashMarket: (params = {}) => getCashMarket(client, read(params)),
      getLatentInsolvency: (params) => getLatentInsolvency(client, read(params)),
      getBackstopPreview: (params) => getBackstopPreview(client, read(params)),
      getPositions: (params) => getPositions(client, read(params)),
      getMarginInputs: (params) => getMarginInputs(client, read(params)),
      getMarketParameters: (params = {}) => getMarketParameters(client, read(params)),
      getOraclePrices: (params) => getOraclePrices(client, read(params)),
      getOpenInterestCaps: (params) => getOpenInterestCaps(client, read(params)),
      getOrderStatus: (params) => getOrderStatus(client, read(params)),
      getSeriesList: (params = {}) => getSeriesList(client, read(params)),
      simulateFill: (params) => simulateFill(client, read(params)),
      getAuctionClock: (params) => getAuctionClock(client, read(params)),
      previewBid: (params) => previewBid(client, read(params)),
      findSettlementRound: (params) => findSettlementRound(client, params),
      findFallbackRound: (params) => findFallbackRound(client, params),
      getPledgeEvents: (params) => getPledgeEvents(client, read(params)),
      watchPledgeEvents: (params) => watchPledgeEvents(client, read(params)),
    };
  };
}

/**
 * A viem client extension for a wallet client: `walletClient.extend(pledgeWalletActions({
 * addressBook, publicClient }))` gives it every Pledge write (and `signOrder`, `getAccountId`)
 * as a method, with the address book and the public client that simulates and confirms bound.
 *
 * @example
 * const trader = walletClient.extend(pledgeWalletActions({ addressBook, publicClient }));
 * await trader.deposit({ account: trader.getAccountId({ subId: 1n }), asset: usdc, amount });
 */
export function pledgeWalletActions(defaults: { addressBook: AddressBook; publicClient: ReadClient }) {
  return (client: SignerClient): PledgeWalletActions => {
    const write = <params extends { addressBook?: AddressBook | undefined; publicClient?: ReadClient | undefined }>(
      params: params,
    ) => ({
      ...params,
      addressBook: params.addressBook ?? defaults.addressBook,
      publicClient: params.publicClient ?? defaults.publicClient,
    });
    return {
      getAccountId: (params) => getAccountId(client, params),
      signOrder: (params) => signOrder(client, { ...params, addressBook: params.addressBook ?? defaults.addressBook }),
      deposit: (params) => deposit(client, write(params)),
      withdraw: (params) => withdraw(client, write(params)),
      setOperator: (params) => setOperator(client, write(params)),
      setMarginMode: (params) => setMarginMode(client, write(params)),
      transferPositions: (params) => transferPositions(client, write(params)),
      fillOrder: (params) => fillOrder(client, write(params)),
      cancelOrder: (params) => cancelOrder(client, write(params)),
      setMinNonce: (params) => setMinNonce(client, write(params)),
      createSeries: (params) => createSeries(client, write(params)),
      startAuction: (params) => startAuction(client, write(params)),
      bid: (params) => bid(client, write(params)),
      bidMany: (params) => bidMany(client, write(params)),
      postSettlementPrice: (params) => postSettlementPrice(client, write(params)),
      settle: (params) => settle(client, write(params)),
      settleBatch: (params) => settleBatch(client, write(params)),
      retireExpired: (params) => retireExpired(client, write(params)),
    };
  };
}
