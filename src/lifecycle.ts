/**
 * What an operator needs from a running server: `/health` (the process answers), `/ready` (the
 * database, and Redis when configured, answer within a short time; not while shutting down), and a
 * shutdown that ends open subscriptions properly instead of leaving their connections to be cut.
 */
import type { Plugin } from "graphql-yoga";
import { ShopError } from "./errors.js";
import { limitExceeded } from "./limits/index.js";

/** A dependency `/ready` checks: resolves when it answers, rejects (or is too slow) when not. */
export type Check = () => Promise<unknown>;

export interface Lifecycle {
  /** True from the moment a shutdown starts: `/ready` says so and new subscriptions are refused. */
  shuttingDown: boolean;
  /** Ends every open subscription: SSE streams complete, WebSocket operations get their complete message. */
  endSubscriptions(): Promise<void>;
  /** Subscriptions open now, for tests and /ready's body. */
  readonly openSubscriptions: number;
}

interface Tracked extends Lifecycle {
  track(result: AsyncIterator<unknown>): () => void;
}

export function createLifecycle(): Tracked {
  const open = new Set<AsyncIterator<unknown>>();
  return {
    shuttingDown: false,
    get openSubscriptions() {
      return open.size;
    },
    track(result) {
      open.add(result);
      return () => open.delete(result);
    },
    async endSubscriptions() {
      await Promise.allSettled([...open].map((result) => result.return?.()));
      open.clear();
    },
  };
}

/** Counts open subscriptions, refuses one past the limit or during shutdown, and lets shutdown end them. */
export function useSubscriptions(max: number, lifecycle: Lifecycle): Plugin {
  const tracked = lifecycle as Tracked;
  return {
    onSubscribe({ setResultAndStopExecution }) {
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
      if (lifecycle.openSubscriptions >= max) {
        setResultAndStopExecution({
          errors: [
            limitExceeded("subscriptions", max, lifecycle.openSubscriptions + 1, "This server has too many open subscriptions"),
          ],
        });
        return;
      }
      return {
        onSubscribeResult({ result }) {
          if (!(result && typeof result === "object" && Symbol.asyncIterator in result)) return;
          const untrack = tracked.track(result as AsyncIterator<unknown>);
          return { onEnd: untrack };
        },
      };
    },
  };
}

/** Races a check against a time limit; the result names what failed and why. */
async function probe(check: Check, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return "ok";
  } catch (error) {
    return `error: ${((error as Error).message ?? String(error)).trim().split("\n").at(-1)}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/ready`, answered before anything GraphQL happens. (`/health`, the process answering at all, is
 * yoga's own: 200 with an empty body, no database call.)
 */
export function useHealth(checks: Record<string, Check>, lifecycle: Lifecycle, timeoutMs: number): Plugin {
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
        await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await probe(check, timeoutMs)] as const)),
      );
      const ready = Object.values(results).every((result) => result === "ok");
      endResponse(
        json(fetchAPI, ready ? 200 : 503, {
          status: ready ? "ready" : "unavailable",
          ...results,
          subscriptions: lifecycle.openSubscriptions,
        }),
      );
    },
  };
}
