/**
 * Builds the GraphQL server (does not listen): the schema, the per-request context, error masking,
 * GraphiQL, and the plugin that records each request's SQL and reports it in `extensions.sql`.
 */
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { type Context, createContext } from "./context.js";
import { maskError } from "./errors.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { schema } from "./schema/index.js";
import { withSqlRecorder } from "./sql-recorder.js";
import { STRATEGY_HEADER } from "./strategy.js";

export interface ShopServerOptions {
  prisma: PrismaClient;
  /** Put the statements each request ran in `extensions.sql`. */
  sqlExplain: boolean;
  /** Yoga's logger; `false` for silence (tests). */
  logging?: boolean;
}

/**
 * Runs each operation inside its request's SQL recorder, and, when explaining, adds what was
 * recorded to the result. The recorder is created with the context, so it is per request.
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
            onExecuteDone: ({ args, result, setResult }) => {
              if (!("data" in result || "errors" in result)) return;
              const { sql, strategy } = args.contextValue as Context;
              setResult({
                ...result,
                extensions: {
                  ...result.extensions,
                  sql: { strategy, count: sql.statements.length, statements: sql.statements },
                },
              });
            },
          }
        : undefined,
  };
}

const EXAMPLE_QUERY = `# Run this, then change the ${STRATEGY_HEADER} header below to "batched" or "lazy"
# and compare extensions.sql.count in the response.
query CustomersOrders {
  users(first: 5) {
    totalCount
    edges {
      node {
        name
        orderCount
        totalSpent
        orders {
          status
          total
          items { quantity product { name price } }
        }
      }
    }
  }
}
`;

/** Creates the server for a database client. */
export function createShopServer(options: ShopServerOptions): YogaServerInstance<Record<string, never>, Context> {
  return createYoga<Record<string, never>, Context>({
    schema,
    context: ({ request }) => createContext(options.prisma, request),
    maskedErrors: { maskError },
    logging: options.logging ?? true,
    plugins: [useSqlRecorder(options.sqlExplain)],
    graphiql: {
      title: "Shop API",
      defaultQuery: EXAMPLE_QUERY,
      headers: JSON.stringify({ [STRATEGY_HEADER]: "eager" }),
      shouldPersistHeaders: true,
    },
  });
}
