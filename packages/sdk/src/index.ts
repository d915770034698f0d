export { type AccountId, type SeriesId, accountId, asAccountId, asSeriesId, ownerOf, seriesId } from "./accounts.js";
export { type Order, type SignedOrder, orderDomain, orderTypes } from "./orders/typedData.js";
export {
  DivFailedError,
  DivWadFailedError,
  ExpOverflowError,
  FullMulDivFailedError,
  LnWadUndefinedError,
  MathError,
  MathInputError,
  MathOverflowError,
  MulDivFailedError,
  MulWadFailedError,
} from "./math/errors.js";
export {
  WAD,
  divUp,
  divWad,
  divWadUp,
  expWad,
  fullMulDiv,
  lnWad,
  mulDivUp,
  mulWad,
  mulWadUp,
  sqrt,
} from "./math/fixedPoint.js";
export {
  BlackScholesInputOutOfRangeError,
  callDelta,
  callPrice,
  callPriceAt,
  lnMoneyness,
  putDelta,
  putPrice,
  prices,
  vega,
  volTerm,
} from "./math/blackScholes.js";
export {
  type Grid,
  addCollateral,
  addPosition,
  contingencyUp,
  coverFloorUp,
  newGrid,
  tokensToWad,
  worstLoss,
  worstTailLoss,
} from "./math/portfolioMath.js";
export {
  applyHaircutDown,
  intrinsic,
  positionRequirementUp,
  positionValue,
  shortRequirementUp,
  tokenValueDown,
} from "./math/marginMath.js";
export { EXPIRY_TIME_OF_DAY, type Series, decodeSeries, expiryAfter } from "./math/series.js";
export {
  Health,
  MarginMode,
  type CollateralInput,
  type MarginInputs,
  type MarginState,
  type PortfolioParams,
  type RiskParams,
  type UnderlyingInput,
  accountMargin,
  health,
  healthName,
  type HealthName,
  markAndSpot,
} from "./math/engine.js";
export {
  type AuctionClock,
  type AuctionParams,
  type BidPreview,
  accountPriceDown,
  bidDiscountAt,
  discountAt,
  maxFraction,
  mulWadTowardZero,
  previewBidFromState,
  quoteBid,
} from "./math/auctionMath.js";
export {
  type DeleverageHolder,
  type DeleveragePlan,
  type LatentInsolvency,
  type Shortfall,
  type TakeoverBudget,
  type TakeoverPreview,
  bankruptcyPriceOf,
  bankruptcyShadeDown,
  budgetLeftOf,
  deleverageCashOf,
  deleverageKeyOf,
  deleveragePlanOf,
  grossPositionValueUp,
  grossTermUp,
  latentInsolvencyOf,
  lossToFund,
  sortDeleverageHolders,
  takeoverPreviewFromState,
} from "./math/backstop.js";
export {
  CashUnitsUnsupportedDecimalsError,
  MAX_CASH_DECIMALS,
  checkDecimals,
  fromWadDown,
  fromWadUp,
  mulWadToCashDown,
  mulWadToCashUp,
  toWadDown,
  unitWadUp,
} from "./math/cashUnits.js";
export {
  type After as MarginGateAfter,
  type Before as MarginGateBefore,
  type Change as MarginGateChange,
  type Margin as MarginGateMargin,
  type MarginGateError,
  Verdict as MarginGateVerdict,
  ZERO_MARGIN,
  isReducing,
  marginGateError,
  verdict as marginGateVerdict,
} from "./math/marginGate.js";
export { settlementPayoff } from "./math/settlement.js";
export { Account } from "./entities/Account.js";
export * from "./abis/index.js";
export {
  type AddressBook,
  type AssetEntry,
  type PledgeContractName,
  loadAddressBook,
  readAddressBook,
} from "./addressBook.js";
export {
  type PledgeErrorAbi,
  type PledgeErrorArgs,
  type PledgeErrorContext,
  type PledgeErrorName,
  type PledgeErrorType,
  PledgeBaseError,
  PledgeError,
  PledgeMissingAddressError,
  PledgeSettlementRoundNotFoundError,
  PledgeTransactionRevertedError,
  AddressBookNotFoundError,
  ContractNotDeployedError,
  InvalidAddressBookError,
  UnknownAssetError,
  WrongChainError,
  decodePledgeError,
  formatAccount,
  formatAmount,
  formatTimestamp,
  pledgeErrorAbi,
  pledgeErrorNameOf,
} from "./errors.js";
export type { ReadClient, SignerClient, WriteParameters, WriteReturnType } from "./internal/actions.js";
export * from "./actions/index.js";
export { type PledgeAbi, type PledgeEventName, pledgeAbis, pledgeEventNames } from "./pledgeAbis.js";
export {
  type BoundReadParameters,
  type BoundWriteParameters,
  type PledgeActions,
  type PledgeWalletActions,
  pledgeActions,
  pledgeWalletActions,
} from "./clients/pledgeActions.js";
export { approximateMaintenance, approximatePortfolio } from "./math/approximate.js";
