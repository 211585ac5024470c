/**
 * A page of a relation list (`User.orders`, `Order.items`, `Product.orderItems`) as one value that
 * every strategy turns into its own query: the eager plan into a nested Prisma `select` (the database
 * applies each parent's LIMIT inside a LATERAL join), the loaders into one flat statement for all
 * parents (`= ANY($1)`, each parent's page cut by `row_number()`). Both read the same rows in the
 * same order, which is what keeps the strategies' answers identical.
 */
import { ORDER_STATUSES } from "../orders/status.js";
import { column, type Model } from "./models.js";

export type Direction = "asc" | "desc";

/** What the viewer may see of a list's rows, in terms both queries can state. */
export type Visibility =
  | { kind: "all" }
  | { kind: "none" }
  /** Rows whose `column` is the viewer's user id (`Order.userId`). */
  | { kind: "owned"; column: string; userId: number }
  /** Order lines of the viewer's own orders. */
  | { kind: "linesOf"; userId: number };

export interface Page {
  /** At most this many rows per parent. */
  take: number;
  /** The sort column; ties are broken by `id` in the same direction. */
  orderBy: { column: string; direction: Direction };
  /** Only rows after this one in that order (keyset paging from an `after` cursor). */
  after?: { value: unknown; id: number };
  /** Column equalities (`status: COMPLETED`). */
  equals?: Readonly<Record<string, unknown>>;
  visibility?: Visibility;
}

/** The `orderBy` of a page, as Prisma takes it: the column, then the id. */
export function prismaOrderBy(page: Page): Record<string, Direction>[] {
  const { column: name, direction } = page.orderBy;
  return name === "id" ? [{ id: direction }] : [{ [name]: direction }, { id: direction }];
}

/** A visibility as a Prisma `where`. */
export function prismaVisibility(visibility: Visibility | undefined): Record<string, unknown> {
  switch (visibility?.kind) {
    case undefined:
    case "all":
      return {};
    case "none":
      return { id: { in: [] } };
    case "owned":
      return { [visibility.column]: visibility.userId };
    case "linesOf":
      return { order: { userId: visibility.userId } };
  }
}

/**
 * The rows that come after a cursor row, as a Prisma `where`: a keyset condition on the sort
 * column and the id. (Prisma's own `cursor` option would do, but on a nested relation it loads every
 * child and pages in memory, and a parent whose list lacks the cursor row gets nothing.)
 */
function prismaAfter(page: Page): Record<string, unknown> {
  if (!page.after) return {};
  const { column: name, direction } = page.orderBy;
  const beyond = direction === "asc" ? "gt" : "lt";
  const { value, id } = page.after;
  if (name === "id") return { id: { [beyond]: id } };
  // PostgreSQL enums sort in declaration order, which Prisma can compare only with `in`.
  const position = ORDER_STATUSES.indexOf(value as (typeof ORDER_STATUSES)[number]);
  const pastValue =
    name === "status"
      ? { in: ORDER_STATUSES.filter((_, i) => (direction === "asc" ? i > position : i < position)) }
      : { [beyond]: value };
  return { OR: [{ [name]: pastValue }, { [name]: value, id: { [beyond]: id } }] };
}

/** A page as the arguments of a nested Prisma relation: `{ where, orderBy, take }`. */
export function prismaPage(page: Page): { where: Record<string, unknown>; orderBy: Record<string, Direction>[]; take: number } {
  return {
    where: { ...page.equals, ...prismaAfter(page), AND: [prismaVisibility(page.visibility)] },
    orderBy: prismaOrderBy(page),
    take: page.take,
  };
}

/** Collects a statement's bound values and names their placeholders ($1, $2, …). */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A visibility as a SQL condition on `model`'s rows. */
export function sqlVisibility(model: Model, visibility: Visibility | undefined, params: Params): string {
  switch (visibility?.kind) {
    case undefined:
    case "all":
      return "TRUE";
    case "none":
      return "FALSE";
    case "owned":
      return `${column(model, visibility.column)} = ${params.add(visibility.userId)}`;
    case "linesOf":
      return `"orderId" IN (SELECT "id" FROM "Order" WHERE "userId" = ${params.add(visibility.userId)})`;
  }
}

/**
 * One statement for the pages of many parents: the rows of `model` whose `parentColumn` is one of
 * `parentIds`, at most `page.take` per parent in the page's order, with `columns` (the parent
 * column and the id always among them). PostgreSQL compares enums in declaration order, so the
 * keyset condition needs no special case here.
 */
export function pagesSql(
  model: Model,
  parentColumn: string,
  parentIds: readonly number[],
  columns: readonly string[],
  page: Page,
) {
  const params = new Params();
  const parent = column(model, parentColumn);
  const list = columns.map((name) => column(model, name)).join(", ");
  const sort = column(model, page.orderBy.column);
  const direction = page.orderBy.direction === "asc" ? "ASC" : "DESC";
  const order = page.orderBy.column === "id" ? `"id" ${direction}` : `${sort} ${direction}, "id" ${direction}`;
  const conditions = [`${parent} = ANY(${params.add([...parentIds])})`];
  for (const [name, value] of Object.entries(page.equals ?? {})) conditions.push(`${column(model, name)} = ${params.add(value)}`);
  if (page.after) {
    const beyond = page.orderBy.direction === "asc" ? ">" : "<";
    const id = params.add(page.after.id);
    if (page.orderBy.column === "id") conditions.push(`"id" ${beyond} ${id}`);
    else {
      const value = params.add(page.after.value);
      conditions.push(`(${sort} ${beyond} ${value} OR (${sort} = ${value} AND "id" ${beyond} ${id}))`);
    }
  }
  if (page.visibility && page.visibility.kind !== "all") conditions.push(sqlVisibility(model, page.visibility, params));
  const sql = `SELECT ${list} FROM (SELECT ${list}, row_number() OVER (PARTITION BY ${parent} ORDER BY ${order}) AS "rank" FROM ${model.table} WHERE ${conditions.join(" AND ")}) AS "page" WHERE "rank" <= ${params.add(page.take)} ORDER BY ${parent}, "rank"`;
  return { sql, args: params.values };
}
