/**
 * The HTTP server around the GraphQL server: plain HTTP and SSE through yoga, and WebSocket (the
 * graphql-ws protocol) on the same path. It does not listen; the app's `listen` does.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Identify } from "./auth/viewer.js";
import type { Limits } from "./config.js";
import { limitExceeded } from "./limits/index.js";
import type { ShopServer } from "./yoga.js";

/**
 * The headers a WebSocket operation is run with: the upgrade request's, overridden by the
 * connection params (browsers cannot set headers on a WebSocket, so a client sends
 * `{ "Authorization": "Bearer …", "x-loading-strategy": "batched" }` there).
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

/** An error refused before execution, as a WebSocket client receives it (HTTP details are the HTTP layer's). */
function forTheSocket(error: GraphQLError): GraphQLError {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return new GraphQLError(error.message, { extensions });
}

/** A body of unknown length cannot be held to the size limit before it is read: ask for its length. */
function needsLength(request: IncomingMessage): boolean {
  return request.headers["transfer-encoding"] !== undefined && request.headers["content-length"] === undefined;
}

/** Creates the HTTP server, with graphql-ws attached on the GraphQL path. */
export function createHttpServer(
  yoga: ShopServer,
  options: { identify: Identify; limits: Limits },
): { server: Server; close(graceMs?: number): Promise<number> } {
  const server = createServer((request, response) => {
    if (needsLength(request)) {
      response.writeHead(411, { "content-type": "application/json; charset=utf-8", connection: "close" });
      response.end(
        JSON.stringify({ errors: [{ message: "Send the body with a Content-Length.", extensions: { code: "BAD_REQUEST" } }] }),
      );
      return;
    }
    void yoga(request, response);
  });
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: options.limits.bodyBytes });
  const open = new WeakMap<object, number>();
  const wsHandle = useServer(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      // A connection with a bad token is refused at once (close code 4403), not operation by operation.
      onConnect: async (ctx) => {
        try {
          await options.identify(headersOf(ctx.extra.request, ctx.connectionParams));
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, params) => {
        const count = open.get(ctx) ?? 0;
        if (count >= options.limits.subscriptionsPerConnection) {
          return [
            limitExceeded(
              "subscriptionsPerConnection",
              options.limits.subscriptionsPerConnection,
              count + 1,
              "This connection has too many operations open",
            ),
          ];
        }
        const request = new Request(`http://localhost${yoga.graphqlEndpoint}`, {
          headers: headersOf(ctx.extra.request, ctx.connectionParams),
        });
        const address = ctx.extra.request.socket.remoteAddress;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          request,
          params,
          address,
        });
        let args: { schema: typeof schema; document: ReturnType<typeof parse>; [key: string]: unknown };
        try {
          args = {
            schema,
            operationName: params.operationName,
            document: parse(params.query),
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
        } catch (error) {
          return [forTheSocket(error as GraphQLError)];
        }
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        open.set(ctx, count + 1);
        return args;
      },
      onComplete: (ctx) => {
        open.set(ctx, Math.max(0, (open.get(ctx) ?? 1) - 1));
      },
    },
    wsServer,
  );
  return {
    server,
    /**
     * Closes the WebSockets (code 1001, "going away"), stops accepting, and waits for the requests in
     * flight; after `graceMs` the connections still open are cut. Resolves with how many were cut.
     */
    async close(graceMs = 10_000) {
      await wsHandle.dispose();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      let cut = 0;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          cut = (server as { connections?: number }).connections ?? 0;
          server.closeAllConnections();
          resolve();
        }, graceMs);
      });
      await Promise.race([closed, late]);
      clearTimeout(timer);
      await closed;
      return cut;
    },
  };
}
