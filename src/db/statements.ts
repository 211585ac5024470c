/**
 * Prepared statements kept per connection, as Prisma's own query engine kept them before driver
 * adapters (`statement_cache_size` in the connection URL, 100 by default, off with
 * `pgbouncer=true`). Through `@prisma/adapter-pg` every statement is sent unnamed, so PostgreSQL
 * parses and plans it again on every execution: for the eager plan's one statement at N = 10 that
 * was about 15% of its CPU (docs/strategies.md). Here a connection prepares each parameterized
 * statement it runs once, under a name of its own, and executes it by name after that: PostgreSQL
 * skips the parse, and after five executions it may keep a generic plan and skip planning too.
 *
 * Bounded: each connection keeps its `size` most recently used statements and deallocates the one
 * that falls out (PostgreSQL holds a prepared statement's plan in the connection's memory). Names
 * are never reused on a connection, so a statement queued behind a `DEALLOCATE` can never run a
 * plan that is gone. A `DEALLOCATE` refused inside a failed transaction is retried at the next
 * eviction, so the count stays bounded by `size` plus those few.
 *
 * A migration that changes a column's type under a running server makes PostgreSQL refuse a
 * prepared statement that returns it ("cached plan must not change result type"): such a
 * statement is deallocated, prepared again and run once more, so the change costs no request.
 */
import pg from "pg";

type QueryConfig = { text: string; values?: unknown[]; name?: string };

/**
 * The statement a `query(…)` call runs, as one config, when it is worth a name: one with parameters
 * (BEGIN, COMMIT and the like have none) that is not named already. Either call form: a config
 * object (the Prisma adapter's), or the text, its values, and perhaps a callback.
 */
function cacheable(args: unknown[]): { config: QueryConfig; rest: unknown[] } | undefined {
  const [first, ...rest] = args;
  if (typeof first === "string" && Array.isArray(rest[0]) && rest[0].length > 0) {
    return { config: { text: first, values: rest[0] }, rest: rest.slice(1) };
  }
  if (typeof first !== "object" || first === null) return undefined;
  const { text, values, name } = first as Partial<QueryConfig>;
  const named = typeof text === "string" && !name && Array.isArray(values) && values.length > 0;
  return named ? { config: first as QueryConfig, rest } : undefined;
}

/** What a connection holds: its statements' names by text, least recently used first. */
class StatementCache {
  readonly #names = new Map<string, string>();
  #counter = 0;
  /** Deallocations that failed; retried with the next one. */
  #stale: string[] = [];

  constructor(
    private readonly size: number,
    private readonly deallocate: (name: string) => Promise<unknown>,
    private readonly forget: (name: string) => void,
  ) {}

  nameFor(text: string): string {
    const known = this.#names.get(text);
    if (known !== undefined) {
      this.#names.delete(text);
      this.#names.set(text, known);
      return known;
    }
    const name = `shop_s${++this.#counter}`;
    this.#names.set(text, name);
    if (this.#names.size > this.size) {
      const [oldest, evicted] = this.#names.entries().next().value!;
      this.#names.delete(oldest);
      this.#release(evicted);
    }
    return name;
  }

  /** Forgets a statement whose plan PostgreSQL refuses to reuse; the next use prepares it again. */
  drop(text: string): void {
    const name = this.#names.get(text);
    if (name === undefined) return;
    this.#names.delete(text);
    this.#release(name);
  }

  #release(name: string): void {
    const due = [...this.#stale, name];
    this.#stale = [];
    for (const stale of due) {
      this.deallocate(stale).then(
        () => this.forget(stale),
        // 26000: never prepared (its parse failed with its transaction), so nothing to free.
        (error: { code?: string }) => (error.code === "26000" ? this.forget(stale) : this.#stale.push(stale)),
      );
    }
  }
}

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed since it was
 * prepared (a migration changed a column's type under a running server): SQLSTATE 0A000.
 */
const planChanged = (error: unknown) =>
  (error as { code?: string }).code === "0A000" &&
  /cached plan must not change result type/.test(String((error as Error).message));

/**
 * A `pg.Client` class for `pg.Pool({ Client })` whose connections keep their last `size`
 * parameterized statements prepared. `size` 0 gives pg's own client.
 */
export function statementCachingClient(size: number): typeof pg.Client {
  if (size <= 0) return pg.Client;
  return class StatementCachingClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      // pg's client-side record of what this connection has parsed (`connection.parsedStatements`):
      // a deallocated name is dropped from it, or it would grow with every eviction.
      const parsed = () =>
        (this as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection?.parsedStatements;
      const cache = new StatementCache(
        size,
        (name) => query(`DEALLOCATE ${name}`) as Promise<unknown>,
        (name) => void delete parsed()?.[name],
      );
      const run = (config: QueryConfig) => query({ ...config, name: cache.nameFor(config.text) }) as Promise<unknown>;
      // A statement whose plan went stale is prepared again and run once more: it failed before
      // running (outside a transaction it simply succeeds now; inside one, the transaction had
      // already failed with it, and its retry is the transaction's).
      const runOrRetry = (config: QueryConfig) =>
        run(config).catch((error: unknown) => {
          if (!planChanged(error)) throw error;
          cache.drop(config.text);
          return run(config).catch((retry: { code?: string }) => {
            // 25P02: the transaction failed with the first attempt; its error is the one to see.
            throw retry.code === "25P02" ? error : retry;
          });
        });
      this.query = ((...args: unknown[]) => {
        const statement = cacheable(args);
        if (!statement) return query(...args);
        const result = runOrRetry(statement.config);
        // pg.Pool's query() passes a callback (Prisma's adapter queries through the pool).
        const callback = statement.rest.find((arg) => typeof arg === "function") as
          | ((error: unknown, result?: unknown) => void)
          | undefined;
        if (!callback) return result;
        result.then(
          (value) => callback(undefined, value),
          (error: unknown) => callback(error),
        );
        return undefined;
      }) as pg.Client["query"];
    }
  } as typeof pg.Client;
}
