export { accountId, ownerOf, seriesId } from "./accounts.js";
export { type Order, type SignedOrder, orderDomain, orderTypes } from "./orders/typedData.js";
export * from "./abis/index.js";
export { type AddressBook, type AssetEntry, type PledgeContractName, loadAddressBook } from "./addressBook.js";
export {
  type PledgeErrorAbi,
  type PledgeErrorArgs,
  type PledgeErrorName,
  type PledgeErrorType,
  PledgeBaseError,
  PledgeError,
  PledgeMissingAddressError,
  PledgeSettlementRoundNotFoundError,
  PledgeTransactionRevertedError,
  decodePledgeError,
  formatAccount,
  formatAmount,
  pledgeErrorAbi,
} from "./errors.js";
export type { ReadClient, SignerClient, WriteParameters, WriteReturnType } from "./internal/actions.js";
export * from "./actions/index.js";
