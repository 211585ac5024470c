/**
 * Builds the GraphQL server (does not listen): the schema, the per-request context (identity,
 * strategy, loaders, SQL record), error masking, the limits of src/limits, the HTTP surface (CORS,
 * CSRF, body size, batching, persisted operations), @defer/@stream, GraphiQL, and the SQL report in
 * `extensions.sql`. Subscriptions are served over SSE here and over WebSocket by src/http.ts.
 */
import { useAPQ } from "@graphql-yoga/plugin-apq";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { useContentEncoding } from "@whatwg-node/server";
import { type DocumentNode, type ExecutionResult, GraphQLError, getOperationAST, NoSchemaIntrospectionCustomRule } from "graphql";
import {
  createLRUCache,
  createYoga,
  handleStreamOrSingleExecutionResult,
  isAsyncIterable,
  type Plugin,
  type YogaServerInstance,
} from "graphql-yoga";
import { clientAddress, type ServerContext, useCaller } from "./auth/caller.js";
import type { Identify } from "./auth/viewer.js";
import type { Config } from "./config.js";
import { type Context, createContext } from "./context.js";
import type { Rows } from "./db.js";
import { maskError } from "./errors.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { type GraphiQLAuth, graphiqlOptions, renderGraphiQL } from "./graphiql.js";
import { useGraphiQLAssets } from "./graphiql-assets.js";
import { useJit } from "./jit.js";
import { type Check, type Lifecycle, useHealth, useSubscriptions } from "./lifecycle.js";
import { boundLists, useBudget } from "./limits/budget.js";
import { limitExceeded, useLimits } from "./limits/index.js";
import type { RateLimit } from "./limits/rate.js";
import { type Logger, useRequestLog, yogaLogger } from "./logging.js";
import type { ShopPubSub } from "./pubsub.js";
import { schema } from "./schema/index.js";
import { withSqlRecorder } from "./sql-recorder.js";
import { sqlReport } from "./sql-report.js";
import { tracing, useTelemetry } from "./telemetry.js";

export interface ShopServerOptions {
  config: Config;
  prisma: PrismaClient;
  rows: Rows;
  pubsub: ShopPubSub;
  identify: Identify;
  rateLimit: RateLimit;
  /** The trusted documents (hash to document), from PERSISTED_OPERATIONS_FILE. */
  persistedOperations: Record<string, string>;
  logger: Logger;
  lifecycle: Lifecycle;
  /** What `/ready` asks: the database, and Redis when configured. */
  readinessChecks: Record<string, Check>;
}

export type { ServerContext };

export type ShopServer = YogaServerInstance<ServerContext, Context>;

/**
 * Runs each operation inside its request's SQL recorder, and, when the viewer may see it, adds what
 * was recorded to the result. With @defer/@stream every payload carries the record so far, so the
 * last one has the whole cost, deferred parts included.
 */
function useSqlRecorder(config: Config, logger: Logger): Plugin<Context> {
  /** Puts the SQL report into a result: the request's, or the current subscription event's. */
  const report = ({
    contextValue,
    document,
    operationName,
  }: {
    contextValue: unknown;
    document: DocumentNode;
    operationName?: string | null;
  }) => {
    const ctx = contextValue as Context;
    const operation = getOperationAST(document, operationName)?.operation ?? "query";
    return ({ result, setResult }: { result: ExecutionResult; setResult: (result: ExecutionResult) => void }) => {
      const sql = sqlReport(ctx.event?.sql ?? ctx.sql, ctx.strategy, config.nPlusOneThreshold, operation);
      // One line per request in development, where someone is watching the log.
      if (sql.warnings && !config.production) {
        logger.warn(
          { strategy: ctx.strategy, nPlusOne: sql.warnings.map(({ field, count }) => ({ field, count })) },
          `N+1: ${sql.warnings.map(({ field, count }) => `${field} ×${count}`).join(", ")}`,
        );
      }
      setResult({ ...result, extensions: { ...result.extensions, sql } });
    };
  };
  const shown = (contextValue: unknown) => (contextValue as Context).sql.explain !== "off";
  return {
    instrumentation: {
      execute: ({ context }, wrapped) => withSqlRecorder(context.sql, wrapped),
      subscribe: ({ context }, wrapped) => withSqlRecorder(context.sql, wrapped),
    },
    onExecute: ({ args }) =>
      shown(args.contextValue)
        ? { onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, report(payload.args)) }
        : undefined,
    // Each event of a subscription carries the SQL that event ran for its audience (see src/events.ts).
    onSubscribe: ({ args }) =>
      shown(args.contextValue)
        ? { onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, report(payload.args)) }
        : undefined,
  };
}

/** Refuses a body over the limit by its declared length (src/http.ts refuses bodies of unknown length). */
function useBodyLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length <= maxBytes) return;
      const error = limitExceeded("bodyBytes", maxBytes, length, "The request body is too large");
      endResponse(
        new fetchAPI.Response(
          JSON.stringify({ errors: [{ message: error.message, extensions: { ...error.extensions, http: undefined } }] }),
          {
            status: 413,
            headers: { "content-type": "application/json; charset=utf-8", connection: "close" },
          },
        ),
      );
    },
  };
}

/**
 * A form or multipart POST from another site can run a mutation without a CORS preflight; such a
 * POST needs a header a browser form cannot set. GETs pass: they never run mutations.
 */
function useFormPostProtection(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ["x-graphql-csrf"] });
  return {
    onRequestParse(payload) {
      if (payload.request.method === "GET") return;
      try {
        return csrf.onRequestParse?.(payload);
      } catch {
        throw new GraphQLError("A form or text POST needs the x-graphql-csrf header; send JSON, or add the header.", {
          extensions: { code: "BAD_REQUEST", http: { status: 403 } },
        });
      }
    },
  };
}

/** JSON-array batching up to `max` operations; a larger batch is refused whole, before any runs. */
function useBatchLimit(max: number): Plugin {
  return {
    onRequestParse: () => ({
      onRequestParseDone({ requestParserResult }) {
        if (Array.isArray(requestParserResult) && requestParserResult.length > max) {
          const error = limitExceeded("batch", max, requestParserResult.length, "Too many operations in one batch");
          throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 413 } } });
        }
      },
    }),
  };
}

/**
 * GraphiQL's page carries its whole bundle (some 9 MB): it is sent compressed, and a browser may
 * keep it for ten minutes (it is `private`: in development it carries demo tokens). Only the page:
 * compressing an SSE stream would hold its events back, and compressed request bodies would slip
 * past the body limit.
 */
function useGraphiQLDelivery(): Plugin {
  const { onResponse } = useContentEncoding();
  return {
    onResponse(payload) {
      if (!payload.response.headers.get("content-type")?.startsWith("text/html")) return;
      payload.response.headers.set("cache-control", "private, max-age=600");
      return onResponse?.(payload as never);
    },
  };
}

/** Headers that keep the GraphiQL page from being framed, sniffed or made to load foreign code. */
function useSecurityHeaders(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set("x-content-type-options", "nosniff");
      response.headers.set("referrer-policy", "no-referrer");
      // CORS answers depend on the Origin: caches must keep them apart.
      response.headers.append("vary", "Origin");
      if (!response.headers.get("content-type")?.startsWith("text/html")) return;
      response.headers.set("x-frame-options", "DENY");
      response.headers.set(
        "content-security-policy",
        // GraphiQL's code, its editor's workers and its stylesheet come from this server (see
        // src/graphiql-assets.ts); no script runs inline. Styles set by React stay inline.
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
    },
  };
}

/**
 * A hash as the server keeps it: codegen's trusted-documents manifest names operations
 * `sha256:<hex>`, Apollo's automatic persisted queries send the bare `<hex>`; both name one document.
 */
export const bareHash = (hash: string) => hash.replace(/^sha256:/, "");

/**
 * Persisted-query requests the plugins below would misread: only version 1 of the extension exists
 * (an unknown version was run as a plain query), and a `sha256:` hash is taken as the bare one.
 */
function usePersistedQueryExtension(): Plugin {
  return {
    onParams({ params, setParams }) {
      const persisted = (params.extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery;
      if (persisted === undefined || persisted === null) return;
      const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
      if (version !== 1 || typeof sha256Hash !== "string") {
        throw new GraphQLError("Only version 1 of the persistedQuery extension, with a sha256Hash string, is supported.", {
          extensions: { code: "PERSISTED_QUERY_NOT_SUPPORTED", http: { status: 400 } },
        });
      }
      if (sha256Hash.startsWith("sha256:")) {
        setParams({
          ...params,
          extensions: { ...params.extensions, persistedQuery: { version, sha256Hash: bareHash(sha256Hash) } },
        });
      }
    },
  };
}

/** The trusted documents, or APQ (seeded with them) when the server also runs other operations. */
function persistedOperationPlugins(config: Config, documents: Record<string, string>): Plugin[] {
  const trusted = new Map(Object.entries(documents).map(([hash, document]) => [bareHash(hash), document]));
  if (config.persistedOperations.mode === "only") {
    return [
      usePersistedQueryExtension(),
      usePersistedOperations({
        getPersistedOperation: (hash) => trusted.get(bareHash(hash)) ?? null,
        allowArbitraryOperations: false,
      }),
    ];
  }
  const store = createLRUCache<string>({ max: 1000 + trusted.size, ttl: 0 });
  for (const [hash, document] of trusted) store.set(hash, document);
  return [usePersistedQueryExtension(), useAPQ({ store })];
}

/** graphql-js's "Did you mean …?" hints: with introspection off they would spell out the schema. */
const SUGGESTION = / ?Did you mean [^?]*\?$/;

function withoutSuggestion(error: Error): GraphQLError {
  const { nodes, path, extensions } = error as GraphQLError;
  if (!SUGGESTION.test(error.message) && error instanceof GraphQLError) return error;
  return new GraphQLError(error.message.replace(SUGGESTION, ""), { nodes, path, extensions });
}

/**
 * Introspection off, on every transport: the validation rule refuses `__schema` and `__type`
 * (yoga's own plugin decides per HTTP request, so a WebSocket operation slipped past it), and the
 * suggestions that would name fields, arguments and values go from every error.
 */
function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result, setResult }) => {
        if (result.some((error) => SUGGESTION.test(error.message))) setResult(result.map(withoutSuggestion));
      };
    },
    onExecutionResult({ result, setResult }) {
      if (isAsyncIterable(result) || Array.isArray(result)) return;
      const errors = (result as ExecutionResult).errors;
      if (errors?.some((error) => SUGGESTION.test(error.message))) {
        setResult({ ...(result as ExecutionResult), errors: errors.map(withoutSuggestion) });
      }
    },
  };
}

/** True for a request from this machine that no proxy forwarded: only those get GraphiQL's demo tokens. */
function fromThisMachine(request: Request, server: ServerContext, config: Config): boolean {
  if (request.headers.has("x-forwarded-for") && config.trustProxy === false) return false;
  const address = clientAddress(request.headers, server.address ?? server.req?.socket?.remoteAddress, config.trustProxy);
  return /^(127\.|::1$|::ffff:127\.)/.test(address);
}

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
      useHealth(options.readinessChecks, options.lifecycle, config.database.timeouts.poolMs, options.logger),
      useRequestLog(options.logger),
      useBodyLimit(config.limits.bodyBytes),
      useBatchLimit(config.limits.batch),
      useFormPostProtection(),
      useSecurityHeaders(),
      useGraphiQLDelivery(),
      ...(config.graphiql ? [useGraphiQLAssets("/graphql")] : []),
      // Who is calling, and its rate limit, before anything of the operation is read.
      caller,
      ...persistedOperationPlugins(config, options.persistedOperations),
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
    ],
    renderGraphiQL,
    // Demo tokens only for a browser on this machine; anyone else brings their own.
    graphiql: config.graphiql
      ? (request, server) =>
          graphiqlOptions(fromThisMachine(request, server as ServerContext, config) ? graphiqlAuth : { mode: "bring-your-own" })
      : false,
  });
}
