/**
 * The HTTP server around the GraphQL server: plain HTTP and SSE through yoga, and WebSocket
 * (the graphql-ws protocol) on the same path. It does not listen; server.ts (and the tests) do.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { ShopServer } from "./yoga.js";

/**
 * The headers a WebSocket operation is run with: the upgrade request's, overridden by the
 * connection params (browsers cannot set headers on a WebSocket, so a client sends
 * `{ "x-loading-strategy": "batched" }` there).
 */
function headersOf(request: IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  for (const [name, value] of Object.entries(connectionParams ?? {})) {
    if (typeof value === "string") headers.set(name, value);
  }
  return headers;
}

/** Creates the HTTP server, with graphql-ws attached on the GraphQL path. */
export function createHttpServer(yoga: ShopServer): { server: Server; close(): Promise<void> } {
  const server = createServer(yoga);
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const wsHandle = useServer(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const request = new Request(`http://localhost${yoga.graphqlEndpoint}`, {
          headers: headersOf(ctx.extra.request, ctx.connectionParams),
        });
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...ctx, request, params });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length ? errors : args;
      },
    },
    wsServer,
  );
  return {
    server,
    async close() {
      await wsHandle.dispose();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
