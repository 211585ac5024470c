/** Small helpers the type files share. */
import type { Context } from "../context.js";
import { badInput } from "../errors.js";

/**
 * The query a root field hands Prisma. Eager requests keep Pothos' whole nested selection (one
 * statement with joins); batched and lazy keep only paging, so each relation below resolves through
 * the loaders and shows its own cost.
 *
 * Lookups by id use `findFirst`, not `findUnique`: Prisma merges the `findUnique` calls of one tick
 * into a single statement, even across concurrent requests, which would hide the lazy strategy's
 * cost and charge one request's SQL record for another's rows.
 */
export function rootQuery<Q extends object>(ctx: Context, query: Q): Q {
  if (ctx.strategy === "eager") return query;
  const { include: _include, select: _select, ...paging } = query as Q & { include?: unknown; select?: unknown };
  return paging as Q;
}

/** An orderBy list that always ends on the id, so equal values never make the order random. */
export function orderByWithId<F extends string>(
  orderBy: { field: F; direction?: "asc" | "desc" | null } | null | undefined,
): ({ [K in F]?: "asc" | "desc" } | { id: "asc" | "desc" })[] {
  if (!orderBy || orderBy.field === "id") return [{ id: orderBy?.direction ?? "asc" }];
  const direction = orderBy.direction ?? "asc";
  return [{ [orderBy.field]: direction } as { [K in F]?: "asc" | "desc" }, { id: direction }];
}

/**
 * The database id inside a decoded global ID. The relay plugin has already checked the type name;
 * this checks the rest ("User:abc" decodes fine but names no row).
 */
export function dbId(globalId: { typename: string; id: string }, field: string): number {
  const id = Number(globalId.id);
  if (!/^\d{1,15}$/.test(globalId.id) || id < 1) {
    throw badInput(field, `${field} is not a valid ${globalId.typename} ID.`);
  }
  return id;
}

/** The most items one page may hold; `first`/`last` above it are refused rather than quietly cut. */
export const MAX_PAGE_SIZE = 100;

/** Refuses page sizes outside 0..MAX_PAGE_SIZE, naming the argument. */
export function checkPageSize(args: { first?: number | null; last?: number | null }): void {
  for (const name of ["first", "last"] as const) {
    const size = args[name];
    if (size != null && (size < 0 || size > MAX_PAGE_SIZE)) {
      throw badInput(name, `${name} must be between 0 and ${MAX_PAGE_SIZE}; page through longer lists with cursors.`);
    }
  }
}
