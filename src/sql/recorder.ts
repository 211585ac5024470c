/**
 * Records every SQL statement against the GraphQL request that caused it.
 *
 * The recorder rides in AsyncLocalStorage rather than in a logger callback: Prisma's `query` log
 * event is emitted outside the caller's async context, so it cannot tell concurrent requests apart.
 * Wrapping the driver adapter puts the hook where the statement actually leaves for the database.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import type {
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  SqlQueryable,
  Transaction,
} from "@prisma/driver-adapter-utils";
import type { Path } from "graphql/jsutils/Path.js";
import pLimit, { type LimitFunction } from "p-limit";
import PQueue from "p-queue";
import { ShopError } from "../errors.js";
import { inSpan, SpanKind, tracing } from "./telemetry.js";

/**
 * What caused a statement: the field whose resolver sent it (a root field, whose plan eager loads
 * in one statement), or the loader whose batch sent it, with the fields that asked it for keys.
 */
export interface StatementCause {
  /** The response path of the field that asked: with list indexes under `lazy` (one parent each), without them otherwise. */
  field: string;
  /** The DataLoader whose batch this statement is. */
  loader?: string;
  /** How many keys the batch served. */
  keys?: number;
  /** Which fields asked for those keys (response path → keys), when more than one did. */
  fields?: Record<string, number>;
}

/** One statement as a client sees it in `extensions.sql.statements`. */
export interface RecordedStatement {
  sql: string;
  /** The bound values, in the order of `$1, $2, …`; recorded only where a response may show them (development). */
  params?: unknown[];
  /** Rows returned (for a read) or affected (for a write). */
  rows: number;
  /** When the request asked for it, in ms since the request started. */
  atMs: number;
  /** How long it waited for a connection: the request's own share, then the database's. */
  waitMs: number;
  /** How long it ran, from leaving for the database to its result. */
  durationMs: number;
  /** What caused it; absent for work outside any field (none today). */
  cause?: StatementCause;
  /** Which database ran it, where there are several (`primary`, `replica 1`, …: DATABASE_REPLICA_URLS). */
  database?: string;
}

/** How a statement went, from the recording adapter to the recorder. */
interface Sent {
  sql: string;
  params: unknown[];
  cause: StatementCause | undefined;
  askedAt: number;
  startedAt: number;
  rows: number;
  database?: string;
}

/**
 * What a request's client is shown of its SQL: nothing, the statements with what caused them (an
 * admin in production with SQL_EXPLAIN=1), or also their parameters (development only: they hold
 * the data asked about). Causes are traced only when shown.
 */
export type Explain = "off" | "statements" | "params";

/** A bound value as JSON can carry it. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
  if (Array.isArray(value)) return value.map(jsonSafe);
  return value;
}

const ms = (value: number) => Math.round(value * 1000) / 1000;

/** The attributes that name a statement's or a batch's cause, as `extensions.sql` names it. */
export function causeAttributes(cause: StatementCause | undefined): Record<string, string | number> {
  if (!cause) return {};
  return {
    "shop.cause.field": cause.field,
    ...(cause.loader ? { "shop.cause.loader": cause.loader, "shop.cause.keys": cause.keys ?? 0 } : {}),
    ...(cause.fields ? { "shop.cause.fields": JSON.stringify(cause.fields) } : {}),
  };
}

/** The statements of one request, in the order they were sent. */
export class SqlRecorder {
  readonly statements: RecordedStatement[] = [];
  /** When the request started (its recorder was made), on `performance.now()`'s clock. */
  readonly startedAt = performance.now();
  private started = 0;
  /** Statements this request has handed to the shared queue: fewer goes first. */
  queued = 0;
  /** Queues this request's statements beyond its share of the pool, so it cannot crowd others out. */
  readonly inFlight: LimitFunction;
  /** Whether statements are traced to their causes: when the SQL is shown, or spans are recorded. */
  readonly tracesCauses: boolean;
  /**
   * Where this request's reads may go: `replica` once it is known to be a query whose caller wrote
   * nothing lately (src/graphql/replicas.ts); writes, transactions and everything else stay on the
   * primary.
   */
  readFrom: "primary" | "replica" = "primary";

  /**
   * `limit`: the statements one request may run; the next one is refused before it is sent.
   * `signal`: aborted when the request is stopped (its client gone, its deadline or a cap passed;
   * see src/limits/budget.ts); from then on no statement is sent for it, and its reason is thrown.
   * `concurrency`: the statements it may have in flight at once outside a transaction.
   * `explain`: what this request's client is shown (see `Explain`).
   */
  constructor(
    readonly limit = Number.POSITIVE_INFINITY,
    private readonly signal?: AbortSignal,
    private readonly concurrency = Number.POSITIVE_INFINITY,
    readonly explain: Explain = "off",
  ) {
    this.inFlight = pLimit(concurrency);
    this.tracesCauses = explain !== "off" || tracing();
  }

  /**
   * A new, empty record with the same limits: for one event of a long-lived subscription. It stops
   * with this request's client unless `detached` (an event shared by several subscribers must not
   * stop when one of them leaves).
   */
  fresh({ detached = false } = {}): SqlRecorder {
    return new SqlRecorder(this.limit, detached ? undefined : this.signal, this.concurrency, this.explain);
  }

  /** Counts a statement about to be sent; refuses it past the limit, or once the client has gone. */
  admit(): void {
    if (this.signal?.aborted) {
      const reason = this.signal.reason as unknown;
      throw reason instanceof ShopError ? reason : new ShopError("CANCELLED", "The client went away; the request was stopped.");
    }
    if (++this.started > this.limit) {
      throw new ShopError("LIMIT_EXCEEDED", `This request needs more than ${this.limit} SQL statements.`, {
        limit: "statements",
        max: this.limit,
        value: this.started,
      });
    }
  }

  record({ sql, params, cause, askedAt, startedAt, rows, database }: Sent): void {
    const statement: RecordedStatement = {
      sql,
      rows,
      atMs: ms(askedAt - this.startedAt),
      waitMs: ms(startedAt - askedAt),
      durationMs: ms(performance.now() - startedAt),
    };
    if (this.explain === "params") statement.params = params.map(jsonSafe);
    if (cause) statement.cause = cause;
    if (database) statement.database = database;
    this.statements.push(statement);
  }

  /** Milliseconds since the request started. */
  elapsedMs(): number {
    return ms(performance.now() - this.startedAt);
  }
}

/** Every connection stayed busy for longer than a statement may wait: a fault, SERVICE_UNAVAILABLE. */
export class DatabaseBusy extends Error {
  override name = "DatabaseBusy";
  /** The kind faults.ts maps, like the driver adapter's own kinds. */
  readonly kind = "DatabaseBusy";
}

/** How the statements of all requests share the database. */
export interface StatementQueueOptions {
  /** Statements sent at once outside transactions (the pool's size). */
  slots: number;
  /** How long a statement may wait for a slot before its request gets SERVICE_UNAVAILABLE. */
  waitMs: number;
  /** The database's name in the record, where there are several. */
  database?: string;
}

/** The request a statement belongs to, and what in it caused the statement. */
interface Scope {
  recorder: SqlRecorder;
  cause?: StatementCause;
}

const storage = new AsyncLocalStorage<Scope>();

let sent = 0;

/**
 * How many statements this process has sent through recording adapters, inside requests or not: a
 * request refused before execution must leave it unchanged (tests assert that limits run no SQL).
 */
export function statementsSent(): number {
  return sent;
}

/**
 * Runs `fn` so that every statement it causes, however deep, is recorded in `recorder` (still
 * attributed to the cause it runs under, if any).
 */
export function withSqlRecorder<T>(recorder: SqlRecorder, fn: () => T): T {
  return storage.run({ recorder, cause: storage.getStore()?.cause }, fn);
}

/** Where the statement about to be sent may read from: its request's choice, else the primary. */
export function currentReadFrom(): "primary" | "replica" {
  return storage.getStore()?.recorder.readFrom ?? "primary";
}

/** A GraphQL response path as a string: `users.edges.0.node.orders`, or without list indexes. */
export function pathString(path: Path | undefined, indexes: boolean): string {
  const keys: (string | number)[] = [];
  for (let link = path; link; link = link.prev) if (indexes || typeof link.key === "string") keys.push(link.key);
  return keys.reverse().join(".");
}

/**
 * Runs `fn` so that the statements it sends are attributed to `cause`: a root field's resolver, a
 * loader's batch. One context per field or batch, and only while the SQL is shown or traced.
 */
export function withCause<T>(cause: StatementCause, fn: () => T): T {
  const scope = storage.getStore();
  if (!scope?.recorder.tracesCauses) return fn();
  return storage.run({ recorder: scope.recorder, cause }, fn);
}

/** A statement's span name: its verb and first table, as OpenTelemetry's database conventions suggest. */
function spanName(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "SQL";
  const table = /\b(?:FROM|INTO|UPDATE)\s+(?:"\w+"\.)?"(\w+)"/i.exec(sql)?.[1];
  return table ? `${verb} ${table}` : verb;
}

function statementAttributes(sql: string, cause: StatementCause | undefined, waitMs: number): Record<string, string | number> {
  return { "db.system.name": "postgresql", "db.query.text": sql, "shop.sql.wait_ms": ms(waitMs), ...causeAttributes(cause) };
}

/** Where a queryable's statements wait: a shared queue, nowhere (a transaction), or only per request. */
type Sharing = { queue: PQueue; waitMs: number } | "in-transaction" | undefined;

/**
 * Wraps a queryable so its reads and writes report to the current request's recorder.
 *
 * Outside a transaction a request's statement waits for one of the request's own slots
 * (`MAX_CONCURRENT_STATEMENTS`), then for one of the database's (`queue`), where the request that
 * has sent the fewest statements goes first: a light request is not queued behind heavy ones, and
 * heavy ones advance in turn. Waiting there is bounded by the pool timeout. Inside a transaction
 * nothing waits: the transaction already holds its connection, and holding its statements back
 * could deadlock against the request's own statements outside it.
 */
function recordQueries<Q extends SqlQueryable>(target: Q, sharing: Sharing, database?: string): Q {
  const send = async <R>(query: SqlQuery, run: () => Promise<R>, rowsOf: (result: R) => number): Promise<R> => {
    const scope = storage.getStore();
    if (!scope) {
      sent++;
      return run();
    }
    const { recorder, cause } = scope;
    const askedAt = performance.now();
    const once = async () => {
      recorder.admit();
      sent++;
      const startedAt = performance.now();
      const result = tracing()
        ? await inSpan(
            spanName(query.sql),
            statementAttributes(query.sql, cause, startedAt - askedAt),
            SpanKind.CLIENT,
            async (span) => {
              const result = await run();
              span.setAttribute("db.response.returned_rows", rowsOf(result));
              return result;
            },
          )
        : await run();
      recorder.record({ sql: query.sql, params: query.args, cause, askedAt, startedAt, rows: rowsOf(result), database });
      return result;
    };
    if (sharing === "in-transaction") return once();
    if (!sharing) return recorder.inFlight(once);
    const { queue, waitMs } = sharing;
    return recorder.inFlight(() => {
      if (queue.size === 0 && queue.pending < queue.concurrency) {
        return queue.add(once, { priority: -recorder.queued++ });
      }
      // It has to wait: for no longer than the pool timeout, and the clock stops once it runs.
      const waiting = new AbortController();
      const timer = setTimeout(
        () => waiting.abort(new DatabaseBusy(`Every database connection stayed busy for ${waitMs} ms.`)),
        waitMs,
      );
      const started = () => {
        clearTimeout(timer);
        return once();
      };
      return queue.add(started, { priority: -recorder.queued++, signal: waiting.signal }).finally(() => clearTimeout(timer));
    });
  };
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (prop === "queryRaw") {
        return (query: SqlQuery) =>
          send(
            query,
            () => obj.queryRaw(query),
            (result) => result.rows.length,
          );
      }
      if (prop === "executeRaw") {
        return (query: SqlQuery) =>
          send(
            query,
            () => obj.executeRaw(query),
            (affected) => affected,
          );
      }
      if (prop === "startTransaction") {
        return async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
          recordQueries<Transaction>(
            await (obj as unknown as SqlDriverAdapter).startTransaction(...args),
            "in-transaction",
            database,
          );
      }
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}

/**
 * An adapter factory whose connections record their statements and share the database fairly
 * between requests (see `recordQueries`); everything else passes through.
 */
export function recordingAdapter<F extends SqlDriverAdapterFactory>(factory: F, options?: StatementQueueOptions): F {
  const sharing: Sharing = options && { queue: new PQueue({ concurrency: options.slots }), waitMs: options.waitMs };
  return new Proxy(factory, {
    get(obj, prop, receiver) {
      if (prop === "connect") {
        return async () => recordQueries(await obj.connect(), sharing, options?.database);
      }
      const value = Reflect.get(obj, prop, receiver);
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}
