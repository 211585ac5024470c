/**
 * Requests per minute, per caller (the user, the operator, or the address when anonymous; see
 * src/auth/caller.ts), with rate-limiter-flexible. With Redis the count is shared by every server
 * instance; if Redis is unreachable each instance counts alone rather than letting everything through.
 */
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ShopError } from "../errors.js";

/** Charges one operation to its caller's key; throws RATE_LIMITED (HTTP 429 with Retry-After) past the limit. */
export type RateLimit = (key: string) => Promise<void>;

export function createRateLimit(perMinute: number, redis?: Redis): RateLimit {
  if (perMinute === 0) return async () => undefined;
  const options = { points: perMinute, duration: 60, keyPrefix: "shop-rate" };
  const memory = new RateLimiterMemory(options);
  const limiter = redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
  return async (key) => {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new ShopError("RATE_LIMITED", `Too many requests: at most ${perMinute} a minute. Try again in ${seconds} s.`, {
        retryAfter: seconds,
        http: { status: 429, headers: { "Retry-After": String(seconds) } },
      });
    }
  };
}
