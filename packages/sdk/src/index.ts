export { accountId, ownerOf, seriesId } from "./accounts.js";
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
  mulWad,
  mulWadUp,
  sqrt,
} from "./math/fixedPoint.js";
export {
  BlackScholesInputOutOfRangeError,
  callDelta,
  callPrice,
  putDelta,
  putPrice,
  prices,
  vega,
} from "./math/blackScholes.js";
export {
  applyHaircutDown,
  cashToWad,
  intrinsic,
  positionRequirementUp,
  positionValue,
  shortRequirementUp,
  tokenValueDown,
} from "./math/marginMath.js";
