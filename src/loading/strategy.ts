/** How a request loads relations. The whole point of this server is to compare them. */
export const STRATEGIES = ["eager", "batched", "lazy"] as const;

export type Strategy = (typeof STRATEGIES)[number];

/** The request header that picks the strategy. */
export const STRATEGY_HEADER = "x-loading-strategy";

export const DEFAULT_STRATEGY: Strategy = "eager";

export function isStrategy(value: string): value is Strategy {
  return (STRATEGIES as readonly string[]).includes(value);
}
