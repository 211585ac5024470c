/**
 * How lists are paged, sorted and searched: the `orderBy` inputs and their Prisma form, keyset
 * paging of relation lists (shared by the eager plan and the loaders), offset paging of reports,
 * and text search.
 */
import type { ArgBuilder } from "@pothos/core";
import { resolveOffsetConnection } from "@pothos/plugin-relay";
import type { GraphQLResolveInfo } from "graphql";
import { builder } from "../builder.js";
import { badInput, notFound } from "../errors.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, rules } from "../input-rules.js";
import { ORDER_STATUSES } from "../orders/status.js";
import { pathString, withCause } from "../sql-recorder.js";
import { dbId } from "./ids.js";

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE };

type Direction = "asc" | "desc";

/** The direction of a sort. */
export const SortDirection = builder.enumType("SortDirection", {
  description: "Which way a list is sorted.",
  values: {
    ASC: { value: "asc", description: "Smallest, earliest or A first." },
    DESC: { value: "desc", description: "Largest, latest or Z first." },
  } as const,
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type DirectionField = PothosSchemaTypes.InputFieldRef<Types, Direction | null | undefined>;

/**
 * The `orderBy` argument of a list: one optional direction per sortable column, written the way
 * Prisma writes it, e.g. `orderBy: { createdAt: DESC }`. Exactly one column may be set; ties are
 * broken by id (see `orderByOf`).
 */
export function defineOrderBy<const Column extends string>(typeName: string, plural: string, columns: Record<Column, string>) {
  return builder.inputType(`${typeName}OrderBy`, {
    description: `How to sort ${plural}: set one column to ASC or DESC. Ties are broken by id, in the same direction.`,
    fields: (t) =>
      Object.fromEntries(
        Object.entries<string>(columns).map(([column, description]) => [column, t.field({ type: SortDirection, description })]),
      ) as Record<Column, DirectionField>,
  });
}

/** The one column of an `orderBy` input and its direction (`fallback` when none is set). */
export function sortColumn<C extends string>(
  input: Partial<Record<C, Direction | null | undefined>> | null | undefined,
  fallback: [C, Direction],
  field = "orderBy",
): [C, Direction] {
  const given = Object.entries(input ?? {}).filter((entry): entry is [C, Direction] => entry[1] != null);
  if (given.length > 1) throw badInput(field, `${field} takes one column; got ${given.map(([column]) => column).join(", ")}.`);
  return given[0] ?? fallback;
}

/**
 * Prisma's orderBy for an `orderBy` argument: the one column given (id when none), then the id in
 * the same direction, so that equal values never leave the order to chance.
 */
export function orderByOf(input: Record<string, Direction | null | undefined> | null | undefined): Record<string, Direction>[] {
  const [column, direction] = sortColumn<string>(input, ["id", "asc"]);
  return column === "id" ? [{ id: direction }] : [{ [column]: direction }, { id: direction }];
}

/**
 * The arguments of a list inside an object (`User.orders`, `Order.items`, `Product.orderItems`):
 * a page size, a cursor (the ID of the last item seen) and a sort order. See `relationPage`.
 */
export function listArgs<
  Item extends PothosSchemaTypes.ObjectRef<Types, unknown>,
  OrderBy extends PothosSchemaTypes.InputObjectRef<Types, unknown>,
>(arg: ArgBuilder<Types>, item: Item, orderBy: OrderBy) {
  return {
    first: arg.int({ description: "At most this many items (default 20, at most 100).", validate: rules.pageSize }),
    after: arg.globalID({ for: item, description: "Start after the item with this ID, in the order given by orderBy." }),
    orderBy: arg({ type: orderBy, description: "Sort order (default: id ascending)." }),
  };
}

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
  const position = ORDER_STATUSES.indexOf(value as (typeof ORDER_STATUSES)[number]);
  const pastValue =
    column === "status"
      ? { in: ORDER_STATUSES.filter((_, i) => (direction === "asc" ? i > position : i < position)) }
      : { [beyond]: value };
  return { OR: [{ [column]: pastValue }, { [column]: value, id: { [beyond]: id } }] };
}

/** The arguments `relationPage` reads. */
export interface ListArgs {
  first?: number | null;
  after?: { typename: string; id: string } | null;
  orderBy?: Record<string, Direction | null | undefined> | null;
}

/**
 * The Prisma paging of a relation list (`first`, `after`, `orderBy`). The eager plan and the
 * loaders both use it, so every strategy pages the same way, and the database applies the
 * per-parent limit (Prisma puts LIMIT inside a LATERAL join). `cursorRow` loads the item named by
 * `after` (through the request's loaders, so a batched request looks it up once).
 */
export async function relationPage(args: ListArgs, cursorRow: (id: number) => Promise<Record<string, unknown> | null>) {
  const orderBy = orderByOf(args.orderBy);
  const page = { take: args.first ?? DEFAULT_PAGE_SIZE, orderBy };
  if (!args.after) return { ...page, where: {} };
  const afterId = dbId(args.after, "after");
  const cursor = await cursorRow(afterId);
  if (!cursor) throw notFound(args.after.typename, afterId, "after");
  return { ...page, where: keysetAfter(orderBy, cursor) };
}

/** An offset-paginated connection (the reports) whose rows and total come from two SQL statements. */
export async function offsetPage<Row>(
  args: { first?: number | null; last?: number | null; after?: string | null; before?: string | null },
  rows: (limit: number, offset: number) => Promise<Row[]>,
  total: () => Promise<number>,
) {
  const page = await resolveOffsetConnection(
    { args, defaultSize: DEFAULT_PAGE_SIZE, maxSize: MAX_PAGE_SIZE },
    ({ limit, offset }) => rows(limit, offset),
  );
  return Object.assign(page, { totalCount: total });
}

/**
 * The options of a root connection type: its description, and a described `totalCount` (the
 * prisma plugin adds the field undescribed; a field given here replaces it, keeping its marker).
 */
export function connectionOptions(description: string, counted: string) {
  return {
    description,
    // The parent is the plugin's connection object, which carries a lazy `totalCount()`.
    fields: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, any>) => ({
      totalCount: t.int({
        description: `How many ${counted} match, across all pages.`,
        nullable: false,
        complexity: 1,
        extensions: { pothosPrismaTotalCount: true },
        resolve: (parent: { totalCount?: () => Promise<number> | number }) => parent.totalCount?.() ?? 0,
      }),
    }),
  };
}

/**
 * A case-insensitive "contains" condition on text. Prisma passes the text to LIKE as it is, so `%`
 * and `_` would match anything; they are escaped to mean themselves.
 */
export function containsText(text: string) {
  return { contains: text.replace(/[\\%_]/g, (char) => `\\${char}`), mode: "insensitive" as const };
}

/**
 * A connection's `totalCount`, sent under the cause `<connection>.totalCount` in `extensions.sql`.
 * Awaited inside: a Prisma query is sent when it is first awaited, not when it is made.
 */
export function countOf<T>(info: GraphQLResolveInfo, count: () => PromiseLike<T>): Promise<T> {
  return withCause({ field: `${pathString(info.path, true)}.totalCount` }, async () => await count());
}
