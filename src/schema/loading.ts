/** How root fields and to-one relations load under the request's strategy (see src/strategy.ts). */

import type { Path } from "graphql/jsutils/Path.js";
import type { Context } from "../context.js";
import { notFound } from "../errors.js";
import type { Columns } from "../loaders.js";

/**
 * The columns a Pothos selection reads from its own table (select mode): the entries that are
 * `true`, without relations or counts, which the loaders read. Undefined when it names none: every
 * column.
 */
export function columnsOf(query: object): Columns {
  const select = (query as { select?: Record<string, unknown> }).select;
  if (!select) return undefined;
  return Object.fromEntries(Object.entries(select).filter(([, value]) => value === true)) as Record<string, true>;
}

/**
 * The query a root field hands Prisma. Eager requests keep Pothos' whole nested selection (one
 * statement with joins); batched and lazy keep paging and the row's own columns, so each relation
 * below resolves through the loaders and shows its own cost.
 *
 * Lookups by id use `findFirst`, not `findUnique`: Prisma merges the `findUnique` calls of one tick
 * into a single statement, even across concurrent requests, which would hide the lazy strategy's
 * cost and charge one request's SQL record for another's rows.
 */
export function rootQuery<Q extends object>(ctx: Context, query: Q): Q {
  if (ctx.strategy === "eager") return query;
  const { include: _include, select: _select, ...paging } = query as Q & { include?: unknown; select?: unknown };
  const select = columnsOf(query);
  return (select ? { ...paging, select } : paging) as Q;
}

/**
 * A required to-one relation through its loader. The foreign key guarantees the row; its absence
 * means it was deleted while this request ran, which the client should hear about as NOT_FOUND.
 */
export async function loadRequired<T>(
  loader: { load(id: number, from?: Path): Promise<T | null> },
  type: string,
  id: number,
  from?: Path,
): Promise<T> {
  const row = await loader.load(id, from);
  if (!row) throw notFound(type, id);
  return row;
}
