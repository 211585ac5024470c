/** Small helpers the type files share. */
import type { Context } from "../context.js";
import { badInput, notFound } from "../errors.js";
import type { OrderStatus } from "../generated/prisma/enums.js";

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

type Direction = "asc" | "desc";

/**
 * Prisma's orderBy for an `orderBy` argument: the one column given (id when none), then the id in
 * the same direction, so that equal values never leave the order to chance.
 */
export function orderByOf(input: Record<string, Direction | null | undefined> | null | undefined, field = "orderBy") {
  const given = Object.entries(input ?? {}).filter((entry): entry is [string, Direction] => entry[1] != null);
  if (given.length > 1) throw badInput(field, `${field} takes one column; got ${given.map(([column]) => column).join(", ")}.`);
  const [column, direction] = given[0] ?? ["id", "asc"];
  return column === "id" ? [{ id: direction }] : [{ [column]: direction }, { id: direction }];
}

/** The default number of items in a list or page. */
export const DEFAULT_PAGE_SIZE = 20;

/** Order statuses in their enum (and so sort) order. */
const STATUS_ORDER = ["PENDING", "PROCESSING", "COMPLETED", "CANCELLED"];

/**
 * The rows that come after a cursor row, as a Prisma `where`: a keyset condition on the sort column
 * and the id. (Prisma's own `cursor` option would do, but on a nested relation it loads every child
 * and pages in memory, and a parent whose list lacks the cursor row gets nothing.)
 */
function keysetAfter(orderBy: Record<string, Direction>[], cursor: Record<string, unknown>) {
  const [first] = orderBy;
  const [column, direction] = Object.entries(first!)[0]!;
  const beyond = direction === "asc" ? "gt" : "lt";
  const id = cursor.id as number;
  if (column === "id") return { id: { [beyond]: id } };
  const value = cursor[column];
  // PostgreSQL enums sort in declaration order, which Prisma can compare only with `in`.
  const pastValue =
    column === "status"
      ? {
          in: STATUS_ORDER.filter((_, i) =>
            direction === "asc" ? i > STATUS_ORDER.indexOf(value as string) : i < STATUS_ORDER.indexOf(value as string),
          ),
        }
      : { [beyond]: value };
  return { OR: [{ [column]: pastValue }, { [column]: value, id: { [beyond]: id } }] };
}

/**
 * The Prisma paging of a relation list (`first`, `after`, `orderBy`). The eager plan and the
 * loaders both use it, so every strategy pages the same way, and the database applies the
 * per-parent limit (Prisma puts LIMIT inside a LATERAL join). `cursorRow` loads the item named by
 * `after` (through the request's loaders, so a batched request looks it up once).
 */
export async function relationPage(
  args: {
    first?: number | null;
    after?: { typename: string; id: string } | null;
    orderBy?: Record<string, Direction | null | undefined> | null;
  },
  cursorRow: (id: number) => Promise<Record<string, unknown> | null>,
) {
  checkPageSize(args);
  const orderBy = orderByOf(args.orderBy);
  const page = { take: args.first ?? DEFAULT_PAGE_SIZE, orderBy };
  if (!args.after) return { ...page, where: {} };
  const afterId = dbId(args.after, "after");
  const cursor = await cursorRow(afterId);
  if (!cursor) throw notFound(args.after.typename, afterId, "after");
  return { ...page, where: keysetAfter(orderBy, cursor) };
}

/** The arguments `relationPage` reads. */
export type ListArgs = Parameters<typeof relationPage>[0];

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

/**
 * A required to-one relation through its loader. The foreign key guarantees the row; its absence
 * means it was deleted while this request ran, which the client should hear about as NOT_FOUND.
 */
export async function loadRequired<T>(loader: { load(id: number): Promise<T | null> }, type: string, id: number): Promise<T> {
  const row = await loader.load(id);
  if (!row) throw notFound(type, id);
  return row;
}

/** The transitions an order may make; anything else is INVALID_STATUS_TRANSITION. */
export const NEXT_STATUSES: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ["PROCESSING", "CANCELLED"],
  PROCESSING: ["COMPLETED", "CANCELLED"],
  COMPLETED: [],
  CANCELLED: [],
};
