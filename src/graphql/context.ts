/**
 * Everything that lives for one request: who is asking, the database client, the loading strategy,
 * the request's own DataLoaders and the record of the SQL it ran.
 */

import type { Caller } from "../auth/caller.js";
import { mayExplainSql, mayUseStrategy } from "../auth/rules.js";
import type { Viewer } from "../auth/viewer.js";
import type { Config } from "../config.js";
import type { Rows } from "../db/database.js";
import { ShopError } from "../errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { RequestBudget } from "../limits/budget.js";
import { createLoaders, type Loaders } from "../loading/loaders.js";
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES, STRATEGY_HEADER, type Strategy } from "../loading/strategy.js";
import type { ShopPubSub } from "../pubsub.js";
import { type Explain, SqlRecorder } from "../sql/recorder.js";

/** An event of a subscription as one audience resolves it (see src/graphql/events.ts). */
export interface EventScope {
  sql: SqlRecorder;
  loaders: Loaders;
  /** Reads by query, shared by the audience; none under lazy. */
  reads?: Map<string, Promise<unknown>>;
}

export interface Context {
  prisma: PrismaClient;
  /** Flat statements through the driver (the loaders'), recorded like Prisma's. */
  rows: Rows;
  pubsub: ShopPubSub;
  viewer: Viewer;
  /** Who is calling: the viewer, the client's address, the key its allowances count under. */
  caller: Caller;
  strategy: Strategy;
  /** Replaced for every event of a subscription (see src/graphql/events.ts), else fixed for the request. */
  loaders: Loaders;
  sql: SqlRecorder;
  /** The run-time bound: deadline, objects in the response, stop when the client leaves (src/limits/budget.ts). */
  budget: RequestBudget;
  /** In a subscription, the event being resolved: its loaders, reads and SQL record (see src/graphql/events.ts). */
  event?: EventScope;
}

/** What every request's context is built from: the server's long-lived parts. */
export interface ContextDeps {
  prisma: PrismaClient;
  rows: Rows;
  pubsub: ShopPubSub;
  config: Pick<Config, "lazyStrategy" | "limits" | "sqlExplain" | "production">;
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

/** What a request's client is shown of its SQL: statements when allowed, their values only in development. */
function explainFor(viewer: Viewer, config: Pick<Config, "sqlExplain" | "production">): Explain {
  if (!mayExplainSql(viewer, config)) return "off";
  return config.production ? "statements" : "params";
}

/**
 * Builds the context of one request (or of one subscription, from its connection's headers) for
 * its caller (src/auth/caller.ts). `signal` aborts when the client goes away: the request stops.
 */
export function createContext(deps: ContextDeps, caller: Caller, headers: Headers, signal?: AbortSignal): Context {
  const strategy = strategyFromHeaders(headers);
  const { viewer } = caller;
  mayUseStrategy(viewer, strategy, deps.config.lazyStrategy);
  const explain = explainFor(viewer, deps.config);
  const budget = new RequestBudget(deps.config.limits.responseObjects, signal);
  return {
    prisma: deps.prisma,
    rows: deps.rows,
    pubsub: deps.pubsub,
    viewer,
    caller,
    strategy,
    loaders: createLoaders(deps, strategy, explain),
    sql: new SqlRecorder(deps.config.limits.statements, budget.signal, deps.config.limits.concurrentStatements, explain),
    budget,
  };
}
