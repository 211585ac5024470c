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
import pLimit, { type LimitFunction } from "p-limit";
import PQueue from "p-queue";
import { ShopError } from "./errors.js";

/** One statement as a client sees it in `extensions.sql.statements`. */
export interface RecordedStatement {
  sql: string;
  durationMs: number;
  /** Rows returned (for a read) or affected (for a write). */
  rows: number;
}

/** The statements of one request, in the order they were sent. */
export class SqlRecorder {
  readonly statements: RecordedStatement[] = [];
  private started = 0;
  /** Statements this request has handed to the shared queue: fewer goes first. */
  queued = 0;
  /** Queues this request's statements beyond its share of the pool, so it cannot crowd others out. */
  readonly inFlight: LimitFunction;

  /**
   * `limit`: the statements one request may run; the next one is refused before it is sent.
   * `signal`: aborted when the client has gone; from then on no statement is sent for it.
   * `concurrency`: the statements it may have in flight at once outside a transaction.
   */
  constructor(
    readonly limit = Number.POSITIVE_INFINITY,
    private readonly signal?: AbortSignal,
    private readonly concurrency = Number.POSITIVE_INFINITY,
  ) {
    this.inFlight = pLimit(concurrency);
  }

  /** A new, empty record with the same limits: for one event of a long-lived subscription. */
  fresh(signal = this.signal): SqlRecorder {
    return new SqlRecorder(this.limit, signal, this.concurrency);
  }

  /** Counts a statement about to be sent; refuses it past the limit, or once the client has gone. */
  admit(): void {
    if (this.signal?.aborted) throw new ShopError("CANCELLED", "The client went away; the request was stopped.");
    if (++this.started > this.limit) {
      throw new ShopError("LIMIT_EXCEEDED", `This request needs more than ${this.limit} SQL statements.`, {
        limit: "statements",
        max: this.limit,
        value: this.started,
      });
    }
  }

  record(sql: string, startedAt: number, rows: number): void {
    const durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
    this.statements.push({ sql, durationMs, rows });
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
}

const storage = new AsyncLocalStorage<SqlRecorder>();

let sent = 0;

/**
 * How many statements this process has sent through recording adapters, inside requests or not: a
 * request refused before execution must leave it unchanged (tests assert that limits run no SQL).
 */
export function statementsSent(): number {
  return sent;
}

/** Runs `fn` so that every statement it causes, however deep, is recorded in `recorder`. */
export function withSqlRecorder<T>(recorder: SqlRecorder, fn: () => T): T {
  return storage.run(recorder, fn);
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
function recordQueries<Q extends SqlQueryable>(target: Q, sharing: Sharing): Q {
  const send = async <R>(sql: string, run: () => Promise<R>, rowsOf: (result: R) => number): Promise<R> => {
    const recorder = storage.getStore();
    if (!recorder) {
      sent++;
      return run();
    }
    const once = async () => {
      recorder.admit();
      sent++;
      const startedAt = performance.now();
      const result = await run();
      recorder.record(sql, startedAt, rowsOf(result));
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
            query.sql,
            () => obj.queryRaw(query),
            (result) => result.rows.length,
          );
      }
      if (prop === "executeRaw") {
        return (query: SqlQuery) =>
          send(
            query.sql,
            () => obj.executeRaw(query),
            (affected) => affected,
          );
      }
      if (prop === "startTransaction") {
        return async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
          recordQueries<Transaction>(await (obj as unknown as SqlDriverAdapter).startTransaction(...args), "in-transaction");
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
        return async () => recordQueries(await obj.connect(), sharing);
      }
      const value = Reflect.get(obj, prop, receiver);
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}
