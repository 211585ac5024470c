/**
 * The HTTP server around the GraphQL server: plain HTTP and SSE through yoga, and WebSocket (the
 * graphql-ws protocol) on the same path. Every WebSocket operation runs through yoga's own
 * pipeline (`getResultForParams`), so persisted operations, introspection, limits, rate limits,
 * the budget and the request log hold on it exactly as on HTTP. It does not listen; the app's
 * `listen` does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type ExecutionResult, GraphQLError, parse } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { isAsyncIterable } from "graphql-yoga";
import { type WebSocket, WebSocketServer } from "ws";
import type { Identify } from "../auth/viewer.js";
import type { Limits } from "../config.js";
import { maskError } from "../errors.js";
import { limitExceeded } from "../limits/index.js";
import { STRATEGY_HEADER } from "../loading/strategy.js";
import { type Logger, withOperationLog } from "../logging.js";
import type { ServerContext, ShopServer } from "./yoga.js";

/** How long a connection may stay silent or slow, and how often a WebSocket is asked if it is there. */
export interface SocketTimeouts {
  /** A client's time to send a request's headers (a connection that sends nothing is closed then). */
  headersMs: number;
  /** Its time to send the whole request. */
  requestMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveMs: number;
  /** How often a WebSocket is pinged; one that has not answered the previous ping is closed. */
  webSocketPingMs: number;
}

export const SOCKET_TIMEOUTS: SocketTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  webSocketPingMs: 30_000,
};

/** How long nothing must come before a draining server stops listening. */
const QUIET_MS = 250;

/** The connection params a WebSocket client may set as headers: what a browser cannot send on the upgrade. */
const CONNECTION_PARAMS = new Set(["authorization", STRATEGY_HEADER, "x-request-id"]);

/**
 * The headers a WebSocket operation is run with: the upgrade request's, with the connection params
 * that a browser cannot send as headers (`{ "Authorization": "Bearer …", "x-loading-strategy":
 * "batched" }`). Nothing else: X-Forwarded-For, say, is the proxies' to write, not the client's.
 */
function headersOf(request: IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  for (const [name, value] of Object.entries(connectionParams ?? {})) {
    if (typeof value === "string" && CONNECTION_PARAMS.has(name.toLowerCase())) headers.set(name, value);
  }
  return headers;
}

/** An error refused before execution, as a WebSocket client receives it (HTTP details are the HTTP layer's). */
function forTheSocket(error: GraphQLError): GraphQLError {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return new GraphQLError(error.message, { nodes: error.nodes, extensions });
}

/** A body of unknown length cannot be held to the size limit before it is read: ask for its length. */
function needsLength(request: IncomingMessage): boolean {
  return request.headers["transfer-encoding"] !== undefined && request.headers["content-length"] === undefined;
}

/**
 * What graphql-ws is handed for an operation yoga has already run: a subscription document whose
 * "subscribe" returns yoga's result, a stream or a single answer, which graphql-ws then sends.
 */
const ANSWERED = parse("subscription Answered { __typename }");

export interface HttpServer {
  server: Server;
  /**
   * Shuts the transports down without dropping a request a client has sent: see `drain`.
   * Resolves with how many connections had to be cut in the end.
   */
  close(graceMs: number, options: { endGrace(): void; hardMs: number }): Promise<number>;
}

/** Creates the HTTP server, with graphql-ws attached on the GraphQL path. */
export function createHttpServer(
  yoga: ShopServer,
  options: { identify: Identify; limits: Limits; logger: Logger; timeouts?: Partial<SocketTimeouts> },
): HttpServer {
  const timeouts = { ...SOCKET_TIMEOUTS, ...options.timeouts };
  let draining = false;
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      // How often Node checks those timeouts (its default, 30 s, kept a silent socket for a minute).
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
    },
    (request, response) => {
      if (needsLength(request)) {
        response.writeHead(411, { "content-type": "application/json; charset=utf-8", connection: "close" });
        response.end(
          JSON.stringify({ errors: [{ message: "Send the body with a Content-Length.", extensions: { code: "BAD_REQUEST" } }] }),
        );
        return;
      }
      if (draining) response.shouldKeepAlive = false;
      void yoga(request, response);
    },
  );
  server.maxConnections = options.limits.connections;
  // From its first request on, a connection is held to the request and keep-alive timeouts instead.
  server.on("request", (request: IncomingMessage) => request.socket.setTimeout(0));
  server.on("upgrade", (request: IncomingMessage) => request.socket.setTimeout(0));

  const connections = new Set<Socket>();
  const settled: (() => void)[] = [];
  /** Requests being answered, and when a connection or a request last came or went. */
  let inFlight = 0;
  let lastActivity = 0;
  server.on("request", (_request: IncomingMessage, response: ServerResponse) => {
    inFlight++;
    lastActivity = performance.now();
    response.once("close", () => {
      inFlight--;
      lastActivity = performance.now();
    });
  });
  server.on("connection", (socket) => {
    lastActivity = performance.now();
    connections.add(socket);
    // Node's headersTimeout starts with a request's first byte: a connection that sends nothing at
    // all is closed by this one (Node destroys a socket whose timeout nobody handles).
    socket.setTimeout(timeouts.headersMs);
    socket.once("close", () => {
      connections.delete(socket);
      if (connections.size === 0) for (const resolve of settled.splice(0)) resolve();
    });
  });

  // Upgrades handed over by hand (not `{ server }`): the HTTP server's own errors (a busy port)
  // stay its own, instead of reaching graphql-ws as an "internal error" with a stack trace.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: options.limits.bodyBytes });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? "/", "http://localhost").pathname !== yoga.graphqlEndpoint) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit("connection", ws, request));
  });
  // A WebSocket that stops answering pings (a client gone without closing) is closed, not kept.
  const alive = new WeakSet<WebSocket>();
  wsServer.on("connection", (socket) => {
    alive.add(socket);
    socket.on("pong", () => alive.add(socket));
  });
  const heartbeat = setInterval(() => {
    for (const socket of wsServer.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, timeouts.webSocketPingMs);
  heartbeat.unref();

  const open = new WeakMap<object, number>();
  /** Each connection's operations in flight, so that a completed or closed one stops its work. */
  const running = new WeakMap<object, Map<string, AbortController>>();
  const wsHandle = useServer(
    {
      subscribe: (args: { rootValue?: unknown }) => args.rootValue as never,
      // A connection with a bad token is refused at once (close code 4403), not operation by operation.
      onConnect: async (ctx) => {
        try {
          await options.identify(headersOf(ctx.extra.request, ctx.connectionParams));
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, id, params) => {
        // A place is taken before the first await, so operations sent at once cannot all pass.
        const count = open.get(ctx) ?? 0;
        if (count >= options.limits.subscriptionsPerConnection) {
          return [
            forTheSocket(
              limitExceeded(
                "subscriptionsPerConnection",
                options.limits.subscriptionsPerConnection,
                count + 1,
                "This connection has too many operations open",
              ),
            ),
          ];
        }
        open.set(ctx, count + 1);
        const release = () => open.set(ctx, Math.max(0, (open.get(ctx) ?? 1) - 1));
        const stop = new AbortController();
        const operations = running.get(ctx) ?? new Map<string, AbortController>();
        running.set(ctx, operations);
        operations.set(id, stop);
        const headers = headersOf(ctx.extra.request, ctx.connectionParams);
        const request = new Request(`http://localhost${yoga.graphqlEndpoint}`, {
          method: "POST",
          headers,
          signal: stop.signal,
        });
        const server: ServerContext = { address: ctx.extra.request.socket.remoteAddress };
        const refuse = (errors: readonly GraphQLError[]) => {
          operations.delete(id);
          release();
          return errors.map(forTheSocket);
        };
        const result = await withOperationLog(options.logger, headers.get("x-request-id"), async () =>
          yoga.getResultForParams(
            {
              params: {
                query: params.query,
                operationName: params.operationName ?? undefined,
                variables: params.variables ?? undefined,
                extensions: params.extensions ?? undefined,
              },
              request,
            },
            server,
          ),
        ).catch((error: unknown) => ({ errors: [maskError(error, options.logger) as GraphQLError] }));
        // Refused before it ran (a limit, a persisted-only server, introspection, the rate): an error
        // message, as graphql-ws sends a validation error. An error a field raised is a result.
        if (!isAsyncIterable(result)) {
          const single = result as ExecutionResult;
          if (single.errors?.length && single.data === undefined && single.errors.every((error) => !error.path)) {
            return refuse(single.errors as GraphQLError[]);
          }
        }
        return { schema: yoga.getEnveloped().schema, document: ANSWERED, rootValue: result };
      },
      onComplete: (ctx, id) => {
        running.get(ctx)?.get(id)?.abort();
        running.get(ctx)?.delete(id);
        open.set(ctx, Math.max(0, (open.get(ctx) ?? 1) - 1));
      },
      onClose: (ctx) => {
        for (const stop of running.get(ctx)?.values() ?? []) stop.abort();
        running.delete(ctx);
      },
    },
    wsServer,
  );

  /**
   * Resolves once no request is being answered and no connection or request has come for
   * QUIET_MS, or at `deadline`.
   */
  const quiet = async (deadline: number) => {
    while (performance.now() < deadline) {
      if (inFlight === 0 && performance.now() - lastActivity >= QUIET_MS) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  /** Resolves once every connection has closed, or after `ms`; true when they all did. */
  const allClosed = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (connections.size === 0) return resolve(true);
      const timer = setTimeout(() => resolve(false), Math.max(0, ms));
      settled.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });

  return {
    server,
    /**
     * The drain. WebSockets close first (code 1001, "going away"; their clients reconnect
     * elsewhere). The server keeps accepting meanwhile, and keeps its keep-alive connections: a
     * request already on its way (in the kernel's accept queue, where closing the listener would
     * reset it, or on a connection Node thinks idle) is read and answered, with `Connection:
     * close`. Once nothing has come for a moment (QUIET_MS) it stops listening and closes the idle
     * connections; once every connection has closed, or the grace is over, the drain ends. Past the grace, queries still running are
     * stopped (SERVICE_UNAVAILABLE, retryable) while mutations finish their transactions, and only
     * after `hardMs` more are the connections still open cut.
     */
    async close(graceMs, { endGrace, hardMs }) {
      draining = true;
      const deadline = performance.now() + graceMs;
      clearInterval(heartbeat);
      await wsHandle.dispose();
      await quiet(deadline);
      // Stops listening, and closes the connections that are idle now (Node ≥ 19): after a quiet
      // moment, none of them has a request on its way.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const drained = await allClosed(deadline - performance.now());
      if (drained) {
        await stopped;
        return 0;
      }
      endGrace();
      server.closeIdleConnections();
      const finished = await allClosed(hardMs);
      const cut = finished ? 0 : connections.size;
      if (!finished) server.closeAllConnections();
      await stopped;
      return cut;
    },
  };
}
