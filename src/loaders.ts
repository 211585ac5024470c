/**
 * Per-request DataLoaders: the `batched` strategy's whole mechanism, and the `lazy` strategy's too.
 *
 * Each relation has one batch function. `batched` lets DataLoader collect every key asked for in one
 * tick and run it once (`WHERE key IN (...)`); `lazy` turns batching and caching off, so the very same
 * function runs once per parent: the N+1 problem, produced by the code that also solves it, which is
 * why both strategies return identical data by construction.
 *
 * Batch functions keep DataLoader's contract: one result per key, in the order of the keys.
 */
import DataLoader from "dataloader";
import type { Path } from "graphql/jsutils/Path.js";
import type { Order, OrderItem, Product, User } from "./generated/prisma/client.js";
import { Prisma, type PrismaClient } from "./generated/prisma/client.js";
import { type Explain, pathString, type StatementCause, withCause } from "./sql-recorder.js";
import type { Strategy } from "./strategy.js";
import { causeAttributes, inSpan, SpanKind, tracing } from "./telemetry.js";

type Key = number;

/** The columns a loader reads (`{ name: true, ... }`, the id always among them), or every column. */
export type Columns = Record<string, true> | undefined;

/** Each parent's list of children, in key order; a parent that is gone has none. */
function childrenByKey<Parent extends { id: Key }, Child>(
  keys: readonly Key[],
  parents: Parent[],
  children: (parent: Parent) => Child[],
): Child[][] {
  const found = new Map(parents.map((parent) => [parent.id, children(parent)]));
  return keys.map((key) => found.get(key) ?? []);
}

/** One row (or null) per key, in key order. */
function byKey<Row>(keys: readonly Key[], rows: Row[], keyOf: (row: Row) => Key): (Row | null)[] {
  const found = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => found.get(key) ?? null);
}

/** An aggregate per key, with `empty` for keys that have no rows to aggregate. */
function valueByKey<V>(keys: readonly Key[], rows: { key: Key; value: V | null }[], empty: V): V[] {
  const found = new Map(rows.map((row) => [Number(row.key), row.value ?? empty]));
  return keys.map((key) => found.get(key) ?? empty);
}

const ZERO = new Prisma.Decimal(0);

/**
 * Whether loaders note which fields ask them for keys, so that each batch's statements name their
 * cause: `exact` (lazy: one parent per batch, its path with list indexes), `fields` (the paths
 * without indexes, with how many keys each asked for), or `off` (nobody is shown the SQL).
 */
export type Trace = "off" | "exact" | "fields";

/**
 * A DataLoader with a name, which, while its request's SQL is shown, remembers which fields asked
 * for each key and runs each batch under that cause (see `withCause`): every statement in
 * `extensions.sql` then says which loader sent it, for how many keys, from which fields.
 */
export class ShopLoader<V> {
  readonly #loader: DataLoader<Key, V>;
  readonly #trace: Trace;
  /** The fields that asked for a key not yet sent, oldest first. */
  readonly #askedBy = new Map<Key, string[]>();
  /** Keys already sent: with the cache on, asking again costs no statement and is not noted. */
  readonly #sent = new Set<Key>();

  constructor(
    readonly name: string,
    batch: (keys: readonly Key[]) => Promise<V[]>,
    options: DataLoader.Options<Key, V>,
    trace: Trace,
    run?: <T>(read: () => Promise<T>) => Promise<T>,
  ) {
    this.#trace = trace;
    const traced =
      trace === "off"
        ? batch
        : (keys: readonly Key[]) => {
            const cause = this.#causeOf(keys);
            const sent = tracing()
              ? inSpan(`dataloader ${name}`, causeAttributes(cause), SpanKind.INTERNAL, () => withCause(cause, () => batch(keys)))
              : withCause(cause, () => batch(keys));
            // A failed batch leaves DataLoader's cache: asking again sends it again, and is noted again.
            return sent.catch((error: unknown) => {
              for (const key of keys) this.#sent.delete(key);
              throw error;
            });
          };
    this.#loader = new DataLoader<Key, V>(run ? (keys) => run(() => traced(keys)) : traced, options);
  }

  /**
   * The value for `key`, asked for by the field at `from` (its resolver's `info.path`). Without
   * `from` (a cursor row looked up while a list's query is planned) the loader itself is named.
   */
  load(key: Key, from?: Path): Promise<V> {
    if (this.#trace !== "off" && !this.#sent.has(key)) {
      const asked = this.#askedBy.get(key) ?? [];
      asked.push(from ? pathString(from, this.#trace === "exact") : this.name);
      this.#askedBy.set(key, asked);
    }
    return this.#loader.load(key);
  }

  #causeOf(keys: readonly Key[]): StatementCause {
    const fields = new Map<string, number>();
    for (const key of keys) {
      const asked = this.#askedBy.get(key) ?? [];
      // Lazy sends one key per batch in the order they were asked: the oldest asker is this one.
      const served = this.#trace === "exact" ? asked.splice(0, 1) : asked.splice(0);
      if (asked.length === 0) this.#askedBy.delete(key);
      if (this.#trace === "fields") this.#sent.add(key);
      for (const field of served) fields.set(field, (fields.get(field) ?? 0) + 1);
    }
    const [field = this.name] = fields.keys();
    return { field, loader: this.name, keys: keys.length, fields: Object.fromEntries(fields) };
  }
}

/**
 * Creates the loaders of one request. Never share them between requests: they cache rows. (One
 * event of a subscription is the exception: its subscribers share the event's loaders, see
 * src/schema/subscriptions.ts.) `run` wraps each batch: an event runs its reads in its own SQL
 * record. `explain` is what the request's client is shown of its SQL: loaders trace their callers
 * only when it is shown.
 */
export function createLoaders(
  prisma: PrismaClient,
  strategy: Strategy,
  explain: Explain = "off",
  run?: <T>(read: () => Promise<T>) => Promise<T>,
) {
  // Eager requests rarely reach a loader (the root query preloads relations); when Pothos cannot
  // preload a field they fall back to batching, never to N+1.
  const options = strategy === "lazy" ? { batch: false, cache: false } : {};
  const trace: Trace = explain === "off" && !tracing() ? "off" : strategy === "lazy" ? "exact" : "fields";
  const loader = <V>(name: string, batch: (keys: readonly Key[]) => Promise<V[]>) =>
    new ShopLoader<V>(name, batch, options, trace, run);

  /** One loader per distinct argument set, since the arguments are part of the query. */
  const perArgs = <A, V>(make: (args: A) => ShopLoader<V>) => {
    const loaders = new Map<string, ShopLoader<V>>();
    return (args: A) => {
      const id = JSON.stringify(args);
      const found = loaders.get(id) ?? make(args);
      loaders.set(id, found);
      return found;
    };
  };

  /** The rows with these ids, with these columns (all when undefined), one loader per column set. */
  const byIds = <Row extends { id: Key }>(
    name: string,
    findMany: (args: { where: { id: { in: Key[] } }; select: Columns }) => Promise<unknown[]>,
  ) =>
    perArgs((select: Columns) =>
      loader<Row | null>(name, async (ids) =>
        byKey(ids, (await findMany({ where: { id: { in: [...ids] } }, select })) as Row[], (row) => row.id),
      ),
    );

  return {
    // Rows typed whole: a selection (Pothos' select mode) reads only the columns its fields need.
    user: byIds<User>("user", (args) => prisma.user.findMany(args)),
    order: byIds<Order>("order", (args) => prisma.order.findMany(args)),
    orderItem: byIds<OrderItem>("orderItem", (args) => prisma.orderItem.findMany(args)),
    product: byIds<Product>("product", (args) => prisma.product.findMany(args)),
    // To-many relations load through their parents, so that the database applies each list's
    // page (LIMIT inside a LATERAL join) per parent; the query is the one the eager plan uses.
    ordersOfUser: perArgs((query: Prisma.User$ordersArgs) =>
      loader<Order[]>("ordersOfUser", async (userIds) => {
        const users = await prisma.user.findMany({ where: { id: { in: [...userIds] } }, select: { id: true, orders: query } });
        return childrenByKey(userIds, users, (user) => user.orders);
      }),
    ),
    itemsOfOrder: perArgs((query: Prisma.Order$itemsArgs) =>
      loader<OrderItem[]>("itemsOfOrder", async (orderIds) => {
        const orders = await prisma.order.findMany({ where: { id: { in: [...orderIds] } }, select: { id: true, items: query } });
        return childrenByKey(orderIds, orders, (order) => order.items);
      }),
    ),
    itemsOfProduct: perArgs((query: Prisma.Product$orderItemsArgs) =>
      loader<OrderItem[]>("itemsOfProduct", async (productIds) => {
        const products = await prisma.product.findMany({
          where: { id: { in: [...productIds] } },
          select: { id: true, orderItems: query },
        });
        return childrenByKey(productIds, products, (product) => product.orderItems);
      }),
    ),

    // Derived values: one grouped statement per level, computed by the database.
    orderCountOfUser: loader<number>("orderCountOfUser", async (userIds) => {
      const rows = await prisma.order.groupBy({
        by: ["userId"],
        where: { userId: { in: [...userIds] } },
        _count: { _all: true },
      });
      return valueByKey(
        userIds,
        rows.map((r) => ({ key: r.userId, value: r._count._all })),
        0,
      );
    }),
    totalSpentOfUser: loader<Prisma.Decimal>("totalSpentOfUser", async (userIds) => {
      const rows = await prisma.$queryRaw<{ key: number; value: Prisma.Decimal | null }[]>`
        SELECT o."userId" AS key, SUM(i."quantity" * i."unitPrice") AS value
        FROM "Order" o JOIN "OrderItem" i ON i."orderId" = o."id"
        WHERE o."userId" = ANY(${[...userIds]}) AND o."status" = 'COMPLETED'
        GROUP BY o."userId"`;
      return valueByKey(userIds, rows, ZERO);
    }),
    itemCountOfOrder: loader<number>("itemCountOfOrder", async (orderIds) => {
      const rows = await prisma.orderItem.groupBy({
        by: ["orderId"],
        where: { orderId: { in: [...orderIds] } },
        _sum: { quantity: true },
      });
      return valueByKey(
        orderIds,
        rows.map((r) => ({ key: r.orderId, value: r._sum.quantity })),
        0,
      );
    }),
    totalOfOrder: loader<Prisma.Decimal>("totalOfOrder", async (orderIds) => {
      const rows = await prisma.$queryRaw<{ key: number; value: Prisma.Decimal | null }[]>`
        SELECT "orderId" AS key, SUM("quantity" * "unitPrice") AS value
        FROM "OrderItem" WHERE "orderId" = ANY(${[...orderIds]})
        GROUP BY "orderId"`;
      return valueByKey(orderIds, rows, ZERO);
    }),
    unitsSoldOfProduct: loader<number>("unitsSoldOfProduct", async (productIds) => {
      const rows = await prisma.orderItem.groupBy({
        by: ["productId"],
        where: { productId: { in: [...productIds] }, order: { status: "COMPLETED" } },
        _sum: { quantity: true },
      });
      return valueByKey(
        productIds,
        rows.map((r) => ({ key: r.productId, value: r._sum.quantity })),
        0,
      );
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
