/**
 * What an operator needs from a running server: `/health` (the process answers), `/ready` (the
 * database, and Redis when configured, answer within a short time; not while shutting down), and a
 * shutdown that ends open subscriptions properly instead of leaving their connections to be cut.
 */
import { setMaxListeners } from "node:events";
import type { ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Viewer } from "../auth/viewer.js";
import type { ReplicaStatus } from "../db/replicas.js";
import { ShopError } from "../errors.js";
import { limitExceeded } from "../limits/index.js";
import type { Logger } from "../logging.js";

/** A dependency `/ready` checks: resolves when it answers, rejects (or is too slow) when not. */
export type Check = () => Promise<unknown>;

export interface Lifecycle {
  /** True from the moment a shutdown starts: `/ready` says so and new subscriptions are refused. */
  shuttingDown: boolean;
  /** Aborts when the shutdown's grace is over: queries still running stop (src/limits/budget.ts). */
  readonly graceOver: AbortSignal;
  /** Ends the grace: what still runs of queries stops and answers SERVICE_UNAVAILABLE. */
  endGrace(): void;
  /** Ends every open subscription: SSE streams complete, WebSocket operations get their complete message. */
  endSubscriptions(): Promise<void>;
  /** Subscriptions open now, for tests and /ready's body. */
  readonly openSubscriptions: number;
  /** Ends the subscriptions of a user who may no longer sign in (deactivated, deleted), with UNAUTHENTICATED. */
  revoke(userId: number): void;
}

/** An open subscription's stream, which can be ended with an error its subscriber receives. */
interface Endable<R> extends AsyncIterableIterator<R | ExecutionResult> {
  end(reason: ShopError): void;
}

/**
 * `source`, until `end` is called: then the subscriber receives one last result carrying the
 * reason, the stream completes, and the source is closed.
 */
function endable<R>(source: AsyncIterator<R>): Endable<R> {
  let ended: ShopError | undefined;
  let done = false;
  let wake: ((reason: ShopError) => void) | undefined;
  const woken = new Promise<ShopError>((resolve) => (wake = resolve));
  const finish = () => {
    done = true;
    return source.return?.() ?? Promise.resolve({ done: true as const, value: undefined });
  };
  const stream: Endable<R> = {
    [Symbol.asyncIterator]: () => stream,
    async next() {
      if (done) return { done: true, value: undefined };
      if (!ended) {
        const next = await Promise.race([source.next().then((result) => ({ result })), woken.then(() => undefined)]);
        if (next) {
          if (next.result.done) done = true;
          return next.result;
        }
      }
      void finish();
      return { done: false, value: { errors: [ended!] } };
    },
    async return() {
      await finish();
      return { done: true, value: undefined };
    },
    end(reason) {
      if (ended || done) return;
      ended = reason;
      wake?.(reason);
    },
  };
  return stream;
}

/** The longest delay setTimeout keeps (a later expiry is re-armed when it comes). */
const MAX_DELAY = 2 ** 31 - 1;

interface Tracked extends Lifecycle {
  /** Tracks a subscription's stream for its viewer; resolves to the stream to serve, and a function for its end. */
  track<R>(result: AsyncIterator<R>, viewer: Viewer): { stream: Endable<R>; untrack(): void };
}

export function createLifecycle(): Tracked {
  const open = new Set<AsyncIterator<unknown>>();
  const byUser = new Map<number, Set<Endable<unknown>>>();
  const grace = new AbortController();
  // Every query in flight listens for the end of the grace.
  setMaxListeners(0, grace.signal);
  return {
    shuttingDown: false,
    graceOver: grace.signal,
    endGrace: () => grace.abort(),
    get openSubscriptions() {
      return open.size;
    },
    track(result, viewer) {
      const stream = endable(result);
      open.add(stream);
      const mine = viewer.userId === null ? undefined : (byUser.get(viewer.userId) ?? new Set());
      if (mine) byUser.set(viewer.userId!, mine.add(stream as Endable<unknown>));
      // A subscription lives no longer than the token it was made with.
      let timer: NodeJS.Timeout | undefined;
      const expireAt = (at: number) => {
        timer = setTimeout(
          () => {
            if (Date.now() < at) return expireAt(at);
            stream.end(new ShopError("UNAUTHENTICATED", "The token has expired; subscribe again with a new one."));
          },
          Math.min(Math.max(0, at - Date.now()), MAX_DELAY),
        );
        timer.unref();
      };
      if (viewer.expiresAt !== undefined) expireAt(viewer.expiresAt);
      return {
        stream,
        untrack() {
          clearTimeout(timer);
          open.delete(stream);
          mine?.delete(stream as Endable<unknown>);
          if (mine?.size === 0) byUser.delete(viewer.userId!);
        },
      };
    },
    revoke(userId) {
      for (const stream of byUser.get(userId) ?? []) {
        stream.end(new ShopError("UNAUTHENTICATED", "Your account can no longer sign in; this subscription has ended."));
      }
    },
    async endSubscriptions() {
      await Promise.allSettled([...open].map((result) => result.return?.()));
      open.clear();
    },
  };
}

/**
 * Counts open subscriptions, in all and per client (src/auth/caller.ts), refuses one past either
 * limit or during shutdown, and lets shutdown end them. A place is taken when the subscription is
 * asked for, before its first await, so that subscriptions asked for at once cannot all pass the
 * check; it is given back if no stream comes of it, or when the stream ends.
 */
export function useSubscriptions(limits: { total: number; perClient: number }, lifecycle: Lifecycle): Plugin {
  const tracked = lifecycle as Tracked;
  let taken = 0;
  const byClient = new Map<string, number>();
  const release = (key: string) => {
    taken--;
    const left = (byClient.get(key) ?? 1) - 1;
    if (left > 0) byClient.set(key, left);
    else byClient.delete(key);
  };
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      if (lifecycle.shuttingDown) {
        setResultAndStopExecution({
          errors: [
            new ShopError("SERVICE_UNAVAILABLE", "The server is shutting down; subscribe again in a moment.", {
              retryable: true,
            }),
          ],
        });
        return;
      }
      if (taken >= limits.total) {
        setResultAndStopExecution({
          errors: [limitExceeded("subscriptions", limits.total, taken + 1, "This server has too many open subscriptions")],
        });
        return;
      }
      const { key } = (args.contextValue as unknown as { caller: { key: string } }).caller;
      const mine = byClient.get(key) ?? 0;
      if (mine >= limits.perClient) {
        setResultAndStopExecution({
          errors: [limitExceeded("subscriptionsPerClient", limits.perClient, mine + 1, "You have too many open subscriptions")],
        });
        return;
      }
      taken++;
      byClient.set(key, mine + 1);
      const { viewer } = (args.contextValue as unknown as { caller: { viewer: Viewer } }).caller;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(result && typeof result === "object" && Symbol.asyncIterator in result)) {
            release(key);
            return;
          }
          const { stream, untrack } = tracked.track(result as AsyncIterator<ExecutionResult>, viewer);
          setResult(stream);
          return {
            onEnd: () => {
              untrack();
              release(key);
            },
          };
        },
      };
    },
  };
}

/** Races a check against a time limit: undefined when it answered, else what failed and why. */
async function probe(check: Check, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (error) {
    return ((error as Error).message ?? String(error)).trim().split("\n").at(-1);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/ready`, answered before anything GraphQL happens. (`/health`, the process answering at all, is
 * yoga's own: 200 with an empty body, no database call.) The body says which dependency is
 * unavailable, never why: the reason (a host, a port, a driver message) is for the operator, in
 * the log, once when a dependency fails and once when it is back.
 */
export function useHealth(
  checks: Record<string, Check>,
  lifecycle: Lifecycle,
  timeoutMs: number,
  logger: Logger,
  /** Read replicas' state, shown in the body: a replica down or lagging makes reads use the primary, not the instance unready. */
  replicas?: () => ReplicaStatus[],
): Plugin {
  const failing = new Set<string>();
  const note = (name: string, failure: string | undefined) => {
    if (failure && !failing.has(name))
      logger.warn({ check: name, reason: failure }, `/ready: ${name} is unavailable: ${failure}`);
    else if (!failure && failing.delete(name)) logger.info({ check: name }, `/ready: ${name} is available again`);
    if (failure) failing.add(name);
  };
  const json = (fetchAPI: { Response: typeof Response }, status: number, body: object) =>
    new fetchAPI.Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
    });
  return {
    // While shutting down, every answer asks its client to open its next request elsewhere.
    onResponse({ response }) {
      if (lifecycle.shuttingDown) response.headers.set("connection", "close");
    },
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== "/ready" || request.method !== "GET") return;
      if (lifecycle.shuttingDown) {
        endResponse(json(fetchAPI, 503, { status: "shutting down", subscriptions: lifecycle.openSubscriptions }));
        return;
      }
      const results = Object.fromEntries(
        await Promise.all(
          Object.entries(checks).map(async ([name, check]) => {
            const failure = await probe(check, timeoutMs);
            note(name, failure);
            return [name, failure ? "unavailable" : "ok"] as const;
          }),
        ),
      );
      const ready = Object.values(results).every((result) => result === "ok");
      endResponse(
        json(fetchAPI, ready ? 200 : 503, {
          status: ready ? "ready" : "unavailable",
          ...results,
          ...(replicas ? { replicas: replicas() } : {}),
          subscriptions: lifecycle.openSubscriptions,
        }),
      );
    },
  };
}
