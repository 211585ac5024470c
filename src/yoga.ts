/**
 * Builds the GraphQL server (does not listen): the schema, the per-request context, error masking,
 * @defer/@stream, GraphiQL, and the plugin that records each request's SQL and reports it in
 * `extensions.sql`. Subscriptions are served over SSE here and over WebSocket by src/http.ts.
 */
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createYoga, handleStreamOrSingleExecutionResult, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { type Context, createContext } from "./context.js";
import { maskError } from "./errors.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { GRAPHIQL_EXAMPLES } from "./graphiql.js";
import type { ShopPubSub } from "./pubsub.js";
import { schema } from "./schema/index.js";
import { withSqlRecorder } from "./sql-recorder.js";
import { DEFAULT_STRATEGY, STRATEGY_HEADER } from "./strategy.js";

export interface ShopServerOptions {
  prisma: PrismaClient;
  pubsub: ShopPubSub;
  /** Put the statements each request ran in `extensions.sql`. */
  sqlExplain: boolean;
  /** Yoga's logger; `false` for silence (tests). */
  logging?: boolean;
}

export type ShopServer = YogaServerInstance<Record<string, never>, Context>;

/**
 * Runs each operation inside its request's SQL recorder, and, when explaining, adds what was
 * recorded to the result. With @defer/@stream every payload carries the record so far, so the last
 * one has the whole cost, deferred parts included.
 */
function useSqlRecorder(explain: boolean): Plugin<Context> {
  return {
    instrumentation: {
      execute: ({ context }, wrapped) => withSqlRecorder(context.sql, wrapped),
      subscribe: ({ context }, wrapped) => withSqlRecorder(context.sql, wrapped),
    },
    onExecute: () =>
      explain
        ? {
            onExecuteDone: (payload) =>
              handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
                const { sql, strategy } = payload.args.contextValue as Context;
                setResult({
                  ...result,
                  extensions: {
                    ...result.extensions,
                    sql: { strategy, count: sql.statements.length, statements: [...sql.statements] },
                  },
                });
              }),
          }
        : undefined,
  };
}

/** Creates the server for a database client and an event bus. */
export function createShopServer(options: ShopServerOptions): ShopServer {
  const deps = { prisma: options.prisma, pubsub: options.pubsub };
  return createYoga<Record<string, never>, Context>({
    schema,
    context: ({ request }) => createContext(deps, request.headers),
    maskedErrors: { maskError },
    logging: options.logging ?? true,
    plugins: [useDeferStream(), useSqlRecorder(options.sqlExplain)],
    // GraphiQL's code is served from this package, not a CDN, so it works offline and behind firewalls.
    renderGraphiQL,
    graphiql: {
      title: "Shop API",
      defaultQuery: GRAPHIQL_EXAMPLES,
      headers: JSON.stringify({ [STRATEGY_HEADER]: DEFAULT_STRATEGY }, null, 2),
      shouldPersistHeaders: true,
    },
  });
}
