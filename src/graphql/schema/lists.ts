/**
 * How lists are paged, sorted and searched: the `orderBy` inputs and their Prisma form, keyset
 * paging of relation lists (shared by the eager plan and the loaders), offset paging of reports,
 * and text search.
 */
import {
  type ArgBuilder,
  decodeBase64,
  decodeCursorChunk,
  encodeBase64,
  encodeCursorChunk,
  getConnectionPageSize,
  validateConnectionArguments,
} from "@pothos/core";
import { resolveOffsetConnection } from "@pothos/plugin-relay";
import type { GraphQLResolveInfo } from "graphql";
import { badInput, notFound } from "../../errors.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, rules } from "../../limits/inputs.js";
import { MODELS, type ModelName } from "../../loading/models.js";
import { type Page, prismaOrderBy } from "../../loading/pages.js";
import { readsPageInfo } from "../../loading/plan.js";
import { pathString, withCause } from "../../sql/recorder.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { dbId } from "./ids.js";
import { decodeNodeID } from "./node-ids.js";

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
  return prismaOrderBy({ take: 0, orderBy: { column, direction } });
}

/**
 * The arguments of a list inside an object (`User.orders`, `Order.items`, `Product.orderItems`):
 * a page size, a cursor (the ID of the last item seen) and a sort order. `relationPage` checks the
 * size and decodes the cursor once per field and request, for every strategy (the eager plan reads
 * the arguments as written); the arguments carry no Pothos `validate` or `globalID` mapping, which
 * would run again for every parent (1,100 times per answer at N=100, about 1.5 kB of new objects
 * each).
 */
export function listArgs<OrderBy extends PothosSchemaTypes.InputObjectRef<Types, unknown>>(
  arg: ArgBuilder<Types>,
  orderBy: OrderBy,
) {
  return {
    first: arg.int({ description: "At most this many items (default 20, at most 100)." }),
    after: arg.id({ description: "Start after the item with this ID, in the order given by orderBy." }),
    orderBy: arg({ type: orderBy, description: "Sort order (default: id ascending)." }),
  };
}

/** The arguments `relationPage` reads, as a resolver has them or as the planner reads them (`after` undecoded). */
export interface ListArgs {
  first?: number | null;
  after?: string | { typename: string; id: string } | null;
  orderBy?: Record<string, Direction | null | undefined> | null;
}

/** Every column of each model: what a cursor row is read with, whatever the sort column is. */
const allColumns = Object.fromEntries(Object.entries(MODELS).map(([name, model]) => [name, [...model.columns.keys()]]));

/**
 * The page of a relation list of `model` rows (`first`, `after`, `orderBy`), with the list's own
 * filters (`extra`). The eager plan and the loaders both use it, so every strategy pages the same
 * way. The row named by `after` is read through the request's loaders (a batched request looks it
 * up once). Throws for arguments the field refuses, as its resolver would.
 */
export async function relationPage(
  model: ModelName,
  args: ListArgs,
  ctx: Context,
  extra: Pick<Page, "equals" | "visibility"> = {},
): Promise<Page> {
  const size = args.first ?? DEFAULT_PAGE_SIZE;
  if (!rules.pageSize.safeParse(size).success) throw badInput("first", `first must be between 0 and ${MAX_PAGE_SIZE}.`);
  const [column, direction] = sortColumn<string>(args.orderBy, ["id", "asc"]);
  const page: Page = { take: size, orderBy: { column, direction }, ...extra };
  if (args.after === undefined || args.after === null) return page;
  const after = typeof args.after === "string" ? decodeNodeID(args.after) : args.after;
  if (after.typename !== model) throw badInput("after", `after is not a ${model} ID.`);
  const afterId = dbId(after, "after");
  const cursor = await ctx.loaders.byId(model, allColumns[model]!).load(afterId);
  if (!cursor) throw notFound(model, afterId, "after");
  return { ...page, after: { value: cursor[column], id: afterId } };
}

/** A root connection's cursor: the row's id, in the format this server has always given (`GPC:N:<id>`). */
export const rowCursor = (row: { id: number }) => encodeBase64(`GPC:${encodeCursorChunk(row.id)}`);

/** The row id a root connection's cursor names; a cursor this server did not give is the client's mistake. */
function cursorId(cursor: string, field: string): number {
  try {
    const text = decodeBase64(cursor);
    if (!text.startsWith("GPC:")) throw new Error("not ours");
    const id = decodeCursorChunk(text.slice(4));
    if (typeof id === "number" && Number.isInteger(id) && id >= 1) return id;
  } catch {
    // reported below
  }
  throw badInput(field, `${field} is not a cursor this server gave out.`);
}

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/**
 * A root connection (`users`, `orders`, `products`) over Prisma's cursor paging: `find` gets the
 * rows' query (see `connectionRows`; none when only `totalCount` is asked) and the window (`cursor`,
 * `skip`, `take`, negative when paging backwards, one row more than the page when `hasNextPage`
 * (`hasPreviousPage` backwards) is asked, to tell whether another follows) and returns the rows in
 * their order; `total` counts the matches when `totalCount` is asked.
 */
export async function cursorConnection<Row extends { id: number }, Query>(
  info: GraphQLResolveInfo,
  args: ConnectionArgs,
  query: Query | undefined,
  find: (query: Query, window: { cursor?: { id: number }; skip: number; take: number }) => Promise<Row[]>,
  total: () => Promise<number>,
) {
  validateConnectionArguments(args);
  const { before, after } = args;
  if (before != null && after != null) throw badInput("before", "before and after cannot be given together.");
  if (before != null && args.first != null) throw badInput("before", "before and first cannot be given together.");
  if (after != null && args.last != null) throw badInput("after", "after and last cannot be given together.");
  const { limit } = getConnectionPageSize({ args, defaultSize: DEFAULT_PAGE_SIZE, maxSize: MAX_PAGE_SIZE });
  const backward = before != null || args.last != null;
  // The row past the page only tells whether another page follows that way: read it when that
  // is asked. Eager loads each row's whole selection, so an unasked one costs a whole subtree.
  const peek = readsPageInfo(info, backward ? "hasPreviousPage" : "hasNextPage");
  const rowsToRead = peek ? limit : limit - 1;
  const take = backward ? -rowsToRead : rowsToRead;
  const cursor = before ?? after;
  const window =
    cursor == null ? { take, skip: 0 } : { cursor: { id: cursorId(cursor, before ? "before" : "after") }, take, skip: 1 };
  // Without a query, the connection's rows were not asked for (only its totalCount).
  const rows = query === undefined ? [] : await find(query, window);
  const full = peek && rows.length === limit;
  const nodes = full ? rows.slice(backward ? 1 : 0, backward ? rows.length : -1) : rows;
  const edges = nodes.map((node) => ({ cursor: rowCursor(node), node }));
  return {
    edges,
    pageInfo: {
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
      hasPreviousPage: after != null ? true : backward ? full : false,
      hasNextPage: before != null ? true : args.last != null ? false : full,
    },
    totalCount: total,
  };
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
