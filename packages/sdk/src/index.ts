export { accountId, ownerOf, seriesId } from "./accounts.js";
export { type Order, type SignedOrder, orderDomain, orderTypes } from "./orders/typedData.js";
