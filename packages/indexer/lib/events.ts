/** Events that change a parameter, a role, a listing or the pause: `parameter` rows of `event_log`. */
const PARAMETER_EVENT = /(Set|Configured|Listed|Delisted|Granted|Revoked|Changed|Paused|Unpaused)$/;

/** Activity that only looks like a setter by its name. */
const NOT_PARAMETERS = new Set(["OperatorSet", "MinNonceSet", "MarginModeSet", "PositionChanged"]);

/**
 * Whether an event is a parameter change (`parameter`) or protocol activity (`activity`).
 *
 * @example
 * eventKind("FeesSet"); // "parameter"
 * eventKind("OrderFilled"); // "activity"
 */
export function eventKind(name: string): "parameter" | "activity" {
  return PARAMETER_EVENT.test(name) && !NOT_PARAMETERS.has(name) ? "parameter" : "activity";
}

/**
 * An event's decoded arguments as JSON: integers as decimal strings, structs and arrays kept.
 *
 * @example
 * jsonArgs({ amount: 5n, ids: [1n] }); // { amount: "5", ids: ["1"] }
 */
export function jsonArgs(value: Record<string, unknown>): Record<string, unknown> {
  return toJson(value) as Record<string, unknown>;
}

function toJson(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toJson(item)]));
  return value;
}
