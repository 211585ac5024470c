/**
 * One operation over WebSocket (graphql-ws), answered the way an HTTP client would read it: the
 * result, or the errors of an `error` message (a refusal before execution) as `{ errors }`.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { type As, type GraphQLResponse, testToken } from "./shop.js";

/** A graphql-ws client signed in as `as` (an admin operator by default), with a strategy if given. */
export async function wsClient(wsUrl: string, options: { as?: As; strategy?: string; headers?: Record<string, string> } = {}) {
  const { as = "admin", strategy, headers } = options;
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: {
      ...(as === "anonymous" ? {} : { authorization: `Bearer ${await testToken(as)}` }),
      ...(strategy ? { "x-loading-strategy": strategy } : {}),
      ...headers,
    },
  });
}

/** The first answer to `query` over `client` (for a query, its only one). */
export async function overWebSocket<D = any>(
  client: Awaited<ReturnType<typeof wsClient>>,
  query: string,
  variables?: Record<string, unknown>,
  extensions?: Record<string, unknown>,
): Promise<GraphQLResponse<D>> {
  const operation = client.iterate({ query, variables, ...(extensions ? { extensions } : {}) });
  try {
    const { value } = await operation.next();
    return value as GraphQLResponse<D>;
  } catch (error) {
    // graphql-ws rejects with the errors of an `error` message.
    if (Array.isArray(error)) return { errors: error };
    throw error;
  } finally {
    await operation.return?.();
  }
}
