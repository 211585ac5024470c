/**
 * Builds the GraphQL server (does not listen): the schema, the per-request context (identity,
 * strategy, loaders, SQL record), error masking, and the plugins in the order they act: the HTTP
 * surface (src/http: body size, batching, CSRF, headers, GraphiQL), the caller and its rate limit,
 * persisted operations, the limits of src/limits, @defer/@stream, compiled execution, the run-time
 * budget and the SQL report in `extensions.sql`, one file each. Subscriptions are served over SSE here and over WebSocket by src/http/server.ts.
 */
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { Redis } from "ioredis";
import { type ServerContext, useCaller } from "../auth/caller.js";
import type { Identify } from "../auth/viewer.js";
import type { Config } from "../config.js";
import type { Rows } from "../db/database.js";
import type { RecentWriters, ReplicaStatus } from "../db/replicas.js";
import { maskError } from "../errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { type Context, createContext } from "../graphql/context.js";
import { useNoIntrospection } from "../graphql/introspection.js";
import { useJit } from "../graphql/jit.js";
import { persistedOperationPlugins } from "../graphql/persisted.js";
import { useReadReplicas } from "../graphql/replicas.js";
import { schema } from "../graphql/schema/index.js";
import { useSqlRecorder } from "../graphql/sql-extension.js";
import { boundLists, useBudget } from "../limits/budget.js";
import { useLimits } from "../limits/index.js";
import type { RateLimit } from "../limits/rate.js";
import { type Logger, useRequestLog, yogaLogger } from "../logging.js";
import type { ShopPubSub } from "../pubsub.js";
import { tracing, useTelemetry } from "../sql/telemetry.js";
import { useBatchLimit } from "./batch-limit.js";
import { useBodyLimit } from "./body-limit.js";
import { useBrowserPage } from "./browser-page.js";
import { useFormPostProtection } from "./form-post.js";
import { fromThisMachine, type GraphiQLAuth, graphiqlOptions, renderGraphiQL } from "./graphiql.js";
import { useGraphiQLAssets, useGraphiQLDelivery } from "./graphiql-assets.js";
import { type Check, type Lifecycle, useHealth, useSubscriptions } from "./lifecycle.js";
import { useSecurityHeaders } from "./security-headers.js";

export interface ShopServerOptions {
  config: Config;
  prisma: PrismaClient;
  rows: Rows;
  pubsub: ShopPubSub;
  identify: Identify;
  rateLimit: RateLimit;
  /** The trusted documents (hash to document), from PERSISTED_OPERATIONS_FILE. */
  persistedOperations: Record<string, string>;
  /** Where automatic persisted queries are shared by every instance (REDIS_URL), if anywhere. */
  redis?: Redis;
  /** With read replicas: who wrote lately, whose queries read from the primary (src/graphql/replicas.ts). */
  recentWriters?: RecentWriters;
  /** With read replicas: their state, for /ready's body. */
  replicaStatus?: () => ReplicaStatus[];
  logger: Logger;
  lifecycle: Lifecycle;
  /** What `/ready` asks: the database, and Redis when configured. */
  readinessChecks: Record<string, Check>;
}

export type { ServerContext };

export type ShopServer = YogaServerInstance<ServerContext, Context>;

/** The schema with every list of objects under the request's budget (src/limits/budget.ts). */
const boundSchema = boundLists(schema);

/** Creates the server for a database client, an event bus and the identity of callers. */
export function createShopServer(options: ShopServerOptions): ShopServer {
  const { config } = options;
  const deps = { prisma: options.prisma, rows: options.rows, pubsub: options.pubsub, config };
  const caller = useCaller({ identify: options.identify, rateLimit: options.rateLimit, trustProxy: config.trustProxy });
  const graphiqlAuth: GraphiQLAuth =
    config.auth.mode === "off"
      ? { mode: "off" }
      : !config.production && config.auth.secret?.kind === "local" && options.identify.tokens
        ? { mode: "demo", tokens: options.identify.tokens, prisma: options.prisma }
        : { mode: "bring-your-own" };
  return createYoga<ServerContext, Context>({
    schema: boundSchema,
    context: async ({ request, ...server }) =>
      createContext(deps, await caller.callerOf(request, server as ServerContext), request.headers, request.signal),
    maskedErrors: { maskError: (error) => maskError(error, options.logger) },
    logging: yogaLogger(options.logger),
    // An origin not on the list gets no CORS headers at all (not even `null`).
    cors: (request) => {
      const origin = request.headers.get("origin");
      return origin && config.corsOrigins.includes(origin)
        ? { origin: [origin], credentials: false, methods: ["GET", "POST"], maxAge: 600 }
        : false;
    },
    // The count is checked by useBatchLimit, so that its refusal is a LIMIT_EXCEEDED like the others.
    batching: config.limits.batch > 0 ? { limit: Number.MAX_SAFE_INTEGER } : false,
    plugins: [
      // The request's span around everything else, when traces are recorded.
      ...(tracing() ? [useTelemetry()] : []),
      useHealth(
        options.readinessChecks,
        options.lifecycle,
        config.database.timeouts.poolMs,
        options.logger,
        options.replicaStatus,
      ),
      useRequestLog(options.logger),
      useBodyLimit(config.limits.bodyBytes),
      useBatchLimit(config.limits.batch),
      useFormPostProtection(),
      useSecurityHeaders(),
      useGraphiQLDelivery(),
      ...(config.graphiql ? [useGraphiQLAssets("/graphql")] : []),
      useBrowserPage("/graphql", config.graphiql),
      // Who is calling, and its rate limit, before anything of the operation is read.
      caller,
      ...persistedOperationPlugins(config, options.persistedOperations, options.redis),
      useLimits(config.limits),
      ...(config.introspection ? [] : [useNoIntrospection()]),
      useSubscriptions(
        { total: config.limits.subscriptions, perClient: config.limits.subscriptionsPerClient },
        options.lifecycle,
      ),
      useDeferStream(),
      // Queries and mutations compiled once per document (graphql-jit); the rest on graphql-js.
      useJit(),
      // The run-time bound: the deadline, the objects in a response, and a stop (no further list is
      // filled, no statement sent) when the client leaves or the shutdown's grace is over. After
      // the executor's other plugins, so that it races the execution they set up.
      useBudget({ timeoutMs: config.limits.requestTimeoutMs, shutdown: options.lifecycle.graceOver }),
      useSqlRecorder(config, options.logger),
      ...(options.recentWriters ? [useReadReplicas(options.recentWriters)] : []),
    ],
    renderGraphiQL,
    // The root leads to GraphiQL, or says where the API is (src/http/browser-page.ts).
    landingPage: false,
    // Demo tokens only for a browser on this machine; anyone else brings their own.
    graphiql: config.graphiql
      ? (request, server) =>
          graphiqlOptions(fromThisMachine(request, server as ServerContext, config) ? graphiqlAuth : { mode: "bring-your-own" })
      : false,
  });
}
