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
import type { FieldNode } from "graphql";
import type { Path } from "graphql/jsutils/Path.js";
import type { Rows } from "../db/database.js";
import { causeAttributes, type Explain, pathString, type StatementCause, withCause } from "../sql/recorder.js";
import { inSpan, SpanKind, tracing } from "../sql/telemetry.js";
import { column, MODELS, type ModelName } from "./models.js";
import { type Page, Params, pagesSql, sqlVisibility, type Visibility } from "./pages.js";
import type { Strategy } from "./strategy.js";

/** A field's place in a document: its node, or its nodes when it has several (`fieldKey` in plan.ts). */
export type FieldKey = FieldNode | string;

type Key = number;

/**
 * A row as the loaders read it: the columns asked for, with the driver's values (numbers, and text
 * for decimals and timestamps, which the scalars serialize as they are).
 */
export type Row = { id: number } & Record<string, unknown>;

/** Each parent's rows, in key order; a parent with none (or gone) has an empty list. */
function groupedByKey(keys: readonly Key[], rows: Row[], keyOf: string): Row[][] {
  const groups = new Map<Key, Row[]>();
  for (const row of rows) {
    const key = row[keyOf] as Key;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return keys.map((key) => groups.get(key) ?? []);
}

/** One row (or null) per key, in key order. */
function byKey<Row>(keys: readonly Key[], rows: Row[], keyOf: (row: Row) => Key): (Row | null)[] {
  const found = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => found.get(key) ?? null);
}

/** An aggregate per key (as the driver gives it), with `empty` for keys that have no rows to aggregate. */
function valueByKey<V>(keys: readonly Key[], rows: { key: Key; value: unknown }[], empty: V, as: (value: unknown) => V): V[] {
  const found = new Map(rows.map((row) => [Number(row.key), row.value == null ? empty : as(row.value)]));
  return keys.map((key) => found.get(key) ?? empty);
}

/** An exact sum of money, as the Decimal scalar serializes it. */
const ZERO = "0.00";

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
    /** One value per key, in key order; an Error fails that key's load (DataLoader's contract). */
    batch: (keys: readonly Key[]) => Promise<(V | Error)[]>,
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

  /** The values for many keys at once (one batch, in their order). */
  loadMany(keys: readonly Key[]): Promise<V[]> {
    return Promise.all(keys.map((key) => this.load(key)));
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

/** `ordersOfUser`: a relation list's loader name, from its parent model and relation. */
const listName = (parent: ModelName, relation: string) => `${relation}Of${parent}`;

/** `orderItem`: a model's loader name. */
const rowName = (model: ModelName) => `${model[0]!.toLowerCase()}${model.slice(1)}`;

/**
 * Creates the loaders of one request. Never share them between requests: they cache rows. (One
 * event of a subscription is the exception: its subscribers share the event's loaders, see
 * src/graphql/events.ts.) `run` wraps each batch: an event runs its reads in its own SQL record. `explain`
 * is what the request's client is shown of its SQL: loaders trace their callers only when it is
 * shown.
 *
 * Every loader sends one flat statement per batch through the driver (`rows`): rows by id, the
 * pages of many parents at once, or an aggregate grouped by key.
 */
export function createLoaders(
  db: { rows: Rows },
  strategy: Strategy,
  explain: Explain = "off",
  run?: <T>(read: () => Promise<T>) => Promise<T>,
) {
  // Eager requests reach a loader only for what their plan could not load (a derived sum, a list
  // asked for twice with different arguments, a deferred part): batched, never N+1.
  const options = strategy === "lazy" ? { batch: false, cache: false } : {};
  const trace: Trace = explain === "off" && !tracing() ? "off" : strategy === "lazy" ? "exact" : "fields";
  const loader = <V>(name: string, batch: (keys: readonly Key[]) => Promise<(V | Error)[]>) =>
    new ShopLoader<V>(name, batch, options, trace, run);
  const { rows } = db;

  const byIdLoaders = new Map<string, ShopLoader<Row | null>>();

  const pageLoaders = new Map<string, ShopLoader<Row[]>>();
  /** Per field of the request: the loader a field's resolver asks for each parent. */
  const perField = new Map<FieldKey, unknown>();

  /**
   * Aggregates: one grouped statement per level, computed by the database. Made on first use: most
   * requests ask for none of them.
   */
  const aggregate = <V>(name: string, sql: string, empty: V, as: (value: unknown) => V) => {
    let made: ShopLoader<V> | undefined;
    return () =>
      (made ??= loader<V>(name, async (keys) =>
        valueByKey(keys, await rows<{ key: Key; value: unknown }>(sql, [[...keys]]), empty, as),
      ));
  };

  return {
    /**
     * The rows of `model` with these ids, with these columns (the id always among them); with a
     * `visibility`, only those the viewer may see (the others answer as missing ones). A missing
     * row is null, or with `missing`, that error: the load fails with it (DataLoader's contract),
     * so a caller that refuses a missing row needs no further promise per row to say so. (Loaders
     * with and without `missing` are apart; with it, one per model and columns, so pass the same
     * refusal for a model every time.)
     */
    byId(
      model: ModelName,
      columns: readonly string[],
      visibility?: Visibility,
      missing?: (id: Key) => Error,
    ): ShopLoader<Row | null> {
      const key = `${model} ${columns.join(",")} ${visibility ? JSON.stringify(visibility) : ""}${missing ? " missing" : ""}`;
      let found = byIdLoaders.get(key);
      if (!found) {
        const target = MODELS[model];
        const params = new Params();
        const ids = params.add(null);
        const where = visibility ? ` AND ${sqlVisibility(target, visibility, params)}` : "";
        const sql = `SELECT ${columns.map((name) => column(target, name)).join(", ")} FROM ${target.table} WHERE "id" = ANY(${ids})${where}`;
        found = loader<Row | null>(rowName(model), async (keys) => {
          const args = [...params.values];
          args[0] = [...keys];
          const found = byKey(keys, await rows<Row>(sql, args), (row) => row.id);
          return missing ? found.map((row, i) => row ?? missing(keys[i]!)) : found;
        });
        byIdLoaders.set(key, found);
      }
      return found;
    },

    /** The pages of `relation`, a list of `parent`, for many parents at once: one statement. */
    pages(parent: ModelName, relation: string, page: Page, columns: readonly string[]): ShopLoader<Row[]> {
      const list = MODELS[parent].relations.get(relation);
      if (!list?.list || !list.backReference) throw new Error(`${parent}.${relation} is not a list relation.`);
      const target = MODELS[list.target];
      const backReference = list.backReference;
      const read = [...new Set(["id", backReference, ...columns])];
      const key = JSON.stringify([parent, relation, page, read]);
      let found = pageLoaders.get(key);
      if (!found) {
        found = loader<Row[]>(listName(parent, relation), async (parentIds) => {
          const { sql, args } = pagesSql(target, backReference, parentIds, read, page);
          return groupedByKey(parentIds, await rows<Row>(sql, args), backReference);
        });
        pageLoaders.set(key, found);
      }
      return found;
    },

    /**
     * What a field asks of the loaders, settled once per request: its arguments are the same for
     * every parent, so its loader (and its page, cursor lookup included) is made at the first
     * parent (`setForField`) and found here for the others.
     */
    forField(node: FieldKey): unknown {
      return perField.get(node);
    },

    setForField<T>(node: FieldKey, value: T): T {
      perField.set(node, value);
      return value;
    },

    orderCountOfUser: aggregate(
      "orderCountOfUser",
      `SELECT "userId" AS key, count(*)::int AS value FROM "Order" WHERE "userId" = ANY($1) GROUP BY "userId"`,
      0,
      Number,
    ),
    totalSpentOfUser: aggregate(
      "totalSpentOfUser",
      `SELECT o."userId" AS key, SUM(i."quantity" * i."unitPrice") AS value
        FROM "Order" o JOIN "OrderItem" i ON i."orderId" = o."id"
        WHERE o."userId" = ANY($1) AND o."status" = 'COMPLETED'
        GROUP BY o."userId"`,
      ZERO,
      String,
    ),
    itemCountOfOrder: aggregate(
      "itemCountOfOrder",
      `SELECT "orderId" AS key, SUM("quantity")::bigint AS value FROM "OrderItem" WHERE "orderId" = ANY($1) GROUP BY "orderId"`,
      0,
      Number,
    ),
    totalOfOrder: aggregate(
      "totalOfOrder",
      `SELECT "orderId" AS key, SUM("quantity" * "unitPrice") AS value FROM "OrderItem" WHERE "orderId" = ANY($1) GROUP BY "orderId"`,
      ZERO,
      String,
    ),
    unitsSoldOfProduct: aggregate(
      "unitsSoldOfProduct",
      `SELECT i."productId" AS key, SUM(i."quantity")::bigint AS value
        FROM "OrderItem" i JOIN "Order" o ON o."id" = i."orderId"
        WHERE i."productId" = ANY($1) AND o."status" = 'COMPLETED'
        GROUP BY i."productId"`,
      0,
      Number,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
