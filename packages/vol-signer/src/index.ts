export { ExitCode, VolSignerError } from "./errors.js";
export { type Quote, parseQuotesCsv, parseQuotesJson, readQuotesFile } from "./quotes.js";
export { type SmilePoint, type SviFloat, type SviFitResult, fitSvi, sviFloatVariance } from "./fitSvi.js";
export { type SsviFitResult, type SsviShape, type SsviSlice, fitSsvi, fitSsviLevels, ssviShapeOf } from "./fitSsvi.js";
export { type NelderMeadOptions, type NelderMeadResult, nelderMead } from "./nelderMead.js";
export { type ImpliedVol, impliedVolWad } from "./impliedVol.js";
export {
  type BuildPostOptions,
  type BuildPostResult,
  DEFAULT_LANDING_LATENCY,
  DENSE_SPACING,
  type DroppedExpiry,
  type ExpiryFit,
  LEVEL_MOVE_THRESHOLD,
  MAX_BATCH,
  MAX_POST_AGE,
  MIN_STRIKES,
  type OracleContext,
  SHAPE_MOVE_THRESHOLD,
  type ShapeDecision,
  buildPost,
} from "./buildPost.js";
export {
  type ChangeAllowance,
  type ChangeCase,
  type ChangeRefusal,
  type LandingWindow,
  type SurfaceInForce,
  changeVerdict,
  earliestAdmittedTimestamp,
  highestAdmittedConfidence,
  landingWindow,
} from "./changeRule.js";
export { type SigningTarget, resolveSigningTarget } from "./deployment.js";
export { describeRevert, postSigned, readOracleContext } from "./chain.js";
export { PAYLOAD_KIND, type SignedPayload, mergePayloads, parsePayload, payloadToJson } from "./payload.js";
export { signPayload } from "./sign.js";
export { loadKey } from "./keys.js";
export {
  CRASH_SMILE_DELTAS,
  type CrashQuotesParameters,
  type CrashSmileLevels,
  type CrashSmileOptions,
  crashQuotePath,
  crashQuotes,
  crashSmileLevels,
  crashSmileVolAtDelta,
  inverseNormalCdf,
} from "./crashSmile.js";
