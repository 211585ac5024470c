/**
 * One event of a subscription, as each of its subscribers resolves it.
 *
 * An event must be read as the database is now, so nothing is kept from an earlier event: each
 * event gets its own loaders and its own SQL record. Subscribers who see the same rows and are
 * shown the same of the SQL (one audience: the same strategy, the same explain level, and the same
 * viewer, all admins counting as one) share the event's loaders and, when they ask the same query,
 * its read: the cost of an event does not grow with its audience. Its record holds what that
 * audience ran and nothing of another's. The reads run in the event's record, not a subscriber's,
 * so a subscriber that leaves cannot cancel the others' reads, and a subscription that lives for
 * days does not pile up a record or reach the statement cap. `lazy` stays the honest N+1: each of
 * its subscribers reads alone.
 */

import { createLoaders } from "../loading/loaders.js";
import { type SqlRecorder, withSqlRecorder } from "../sql/recorder.js";
import type { Context, EventScope } from "./context.js";

/** Keyed by the event's payload (the bus hands every subscriber of an event the same object), then by audience. */
const scopes = new WeakMap<object, Map<string, EventScope>>();

/** Subscribers who may share an event's reads and its record. */
function audience(ctx: Context): string {
  const { role, userId } = ctx.viewer;
  const who = role === "customer" ? `customer ${userId}` : role;
  return `${ctx.strategy} ${ctx.sql.explain} ${who}`;
}

function newScope(ctx: Context, sql: SqlRecorder, shared: boolean): EventScope {
  const run = <T>(read: () => PromiseLike<T>) => withSqlRecorder(sql, async () => await read());
  return { sql, loaders: createLoaders(ctx, ctx.strategy, sql.explain, run), reads: shared ? new Map() : undefined };
}

/**
 * Resolves one event for one subscriber in the event's scope. It starts before anything of the
 * event is read: Pothos plans the field's query (cursor lookups included) before its resolver runs.
 */
export function inEvent<T>(event: object, ctx: Context, resolve: () => T): T {
  let scope: EventScope;
  if (ctx.strategy === "lazy") {
    scope = newScope(ctx, ctx.sql.fresh(), false);
  } else {
    const byAudience = scopes.get(event) ?? new Map<string, EventScope>();
    scopes.set(event, byAudience);
    const key = audience(ctx);
    scope = byAudience.get(key) ?? newScope(ctx, ctx.sql.fresh({ detached: true }), true);
    byAudience.set(key, scope);
  }
  ctx.event = scope;
  ctx.loaders = scope.loaders;
  // Each event is its own response: its objects are counted afresh.
  ctx.budget.resetObjects();
  return withSqlRecorder(scope.sql, resolve);
}

/** The event's read of `query`: made once for the audience, awaited inside the event's record. */
export function eventRead<T>(ctx: Context, query: object, read: () => PromiseLike<T>): Promise<T> {
  const run = async () => await read();
  const reads = ctx.event?.reads;
  if (!reads) return run();
  const key = JSON.stringify(query);
  const found = (reads.get(key) as Promise<T> | undefined) ?? run();
  reads.set(key, found);
  return found;
}
