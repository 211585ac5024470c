/**
 * Who is calling, settled once per request before anything of its operations is parsed: the
 * viewer its token names, the address it comes from, and the key its allowances are counted under
 * (requests per minute, open subscriptions). The rate limit is charged here, per operation, so a
 * client over its limit costs the server a token check and no parsing, validation or planning.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Plugin } from "graphql-yoga";
import proxyAddr from "proxy-addr";
import type { Config } from "../config.js";
import type { RateLimit } from "../limits/rate.js";
import type { Identify, Viewer } from "./viewer.js";

export interface Caller {
  viewer: Viewer;
  /** The client's address, read through the proxies TRUST_PROXY names. */
  address: string;
  /** What the caller's allowances are counted under: the user (or the operator), else the address. */
  key: string;
}

/** What the Node server hands each request (yoga passes it through as the server context). */
export interface ServerContext {
  req?: { socket?: { remoteAddress?: string } };
  /** Set by src/http/server.ts for WebSocket operations: the address the connection came from. */
  address?: string;
}

/** The key a viewer's (or an anonymous address's) allowances are counted under. */
export function callerKey(viewer: Viewer, address: string): string {
  if (viewer.role === "anonymous") return `address:${address}`;
  return viewer.userId === null ? `${viewer.role}:operator` : `user:${viewer.userId}`;
}

/**
 * The client's address: the socket's, or, behind proxies TRUST_PROXY trusts, the right-most
 * X-Forwarded-For entry that is not one of them (proxy-addr, as Express reads it). The left-most
 * entries are whatever the client wrote, and are never believed.
 */
export function clientAddress(headers: Headers, socketAddress: string | undefined, trust: Config["trustProxy"]): string {
  const remoteAddress = socketAddress ?? "unknown";
  if (trust === false || trust === 0) return remoteAddress;
  const forwarded = headers.get("x-forwarded-for");
  if (!forwarded || !socketAddress) return remoteAddress;
  const req = {
    headers: { "x-forwarded-for": forwarded } as IncomingHttpHeaders,
    connection: { remoteAddress },
    socket: { remoteAddress },
  };
  const trusted = typeof trust === "number" ? (_address: string, hop: number) => hop < trust : proxyAddr.compile(trust);
  return proxyAddr(req as never, trusted);
}

/**
 * The plugin that settles the caller of each request (once, however many operations it batches)
 * and charges each operation to its allowance. A bad token or a spent allowance refuses the
 * operation before it is parsed.
 */
export function useCaller(options: { identify: Identify; rateLimit: RateLimit; trustProxy: Config["trustProxy"] }): Plugin & {
  callerOf(request: Request, server: ServerContext): Promise<Caller>;
} {
  const callers = new WeakMap<Request, Promise<Caller>>();
  const callerOf = (request: Request, server: ServerContext): Promise<Caller> => {
    let caller = callers.get(request);
    if (!caller) {
      const address = clientAddress(request.headers, server.address ?? server.req?.socket?.remoteAddress, options.trustProxy);
      caller = options.identify(request.headers).then((viewer) => ({ viewer, address, key: callerKey(viewer, address) }));
      callers.set(request, caller);
    }
    return caller;
  };
  return {
    callerOf,
    async onParams({ request, context }) {
      const caller = await callerOf(request, context as ServerContext);
      await options.rateLimit(caller.key);
    },
  };
}
