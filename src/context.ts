/**
 * Everything that lives for one request: the database client, the loading strategy, the request's
 * own DataLoaders and the record of the SQL it ran.
 */
import { ShopError } from "./errors.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { createLoaders, type Loaders } from "./loaders.js";
import { SqlRecorder } from "./sql-recorder.js";
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES, STRATEGY_HEADER, type Strategy } from "./strategy.js";

export interface Context {
  prisma: PrismaClient;
  strategy: Strategy;
  loaders: Loaders;
  sql: SqlRecorder;
}

/** Reads the strategy header; an unknown value is the client's mistake and says what is accepted. */
export function strategyFromHeaders(headers: Headers): Strategy {
  const raw = headers.get(STRATEGY_HEADER)?.trim().toLowerCase();
  if (!raw) return DEFAULT_STRATEGY;
  if (isStrategy(raw)) return raw;
  throw new ShopError(
    "BAD_USER_INPUT",
    `Unknown loading strategy "${raw}" in the ${STRATEGY_HEADER} header. Accepted: ${STRATEGIES.join(", ")}.`,
    { field: STRATEGY_HEADER, accepted: [...STRATEGIES] },
  );
}

/** Builds the context of one request. */
export function createContext(prisma: PrismaClient, request: Request): Context {
  const strategy = strategyFromHeaders(request.headers);
  return { prisma, strategy, loaders: createLoaders(prisma, strategy), sql: new SqlRecorder() };
}
