/**
 * The one place a PrismaClient and its driver adapter are made. Embedded PGlite and PostgreSQL get
 * the same client, the same generated SQL and the same statement recording.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type {
  ArgType,
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  SqlQueryable,
  SqlResultSet,
  Transaction,
} from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { ConfigError, type DatabaseConfig } from "../config.js";
import { PrismaClient } from "../generated/prisma/client.js";
import { recordingAdapter } from "../sql/recorder.js";
import { type EmbeddedStart, lockFolder } from "./embedded.js";
import { faultOf, startupLine } from "./faults.js";
import { PGliteThread } from "./pglite-thread.js";
import { ReplicaSet } from "./replicas.js";
import { statementCachingClient } from "./statements.js";

/** What a multi-statement script runs against inside one transaction. */
export interface ScriptTransaction {
  /** Runs a script of one or more statements (no parameters). */
  exec(script: string): Promise<void>;
  /** Runs one parameterized statement and returns its rows. */
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/**
 * Runs one SQL statement through the driver adapter and returns its rows as objects keyed by
 * column name, with the driver's values (numbers, and text for numeric, bigint and timestamps):
 * the flat statements of the loaders, without Prisma's per-row result processing. Recorded and
 * queued like every other statement. `args` are bound as $1, $2, …: numbers, strings, booleans,
 * and arrays of them (`= ANY($1)`).
 */
export type Rows = <Row>(sql: string, args?: readonly unknown[]) => Promise<Row[]>;

/** An open database: the Prisma client the app uses, and what migrations need beside it. */
export interface Database {
  readonly prisma: PrismaClient;
  /** Flat statements through the same adapter, record and queue (see `Rows`). */
  readonly rows: Rows;
  readonly config: DatabaseConfig;
  /**
   * Runs `fn` in one transaction on the driver itself. Migrations need this: their scripts hold many
   * statements, which Prisma's raw queries (one prepared statement each) cannot run.
   */
  scriptTransaction<T>(fn: (tx: ScriptTransaction) => Promise<T>): Promise<T>;
  /** PGlite only: the data directory as a tar archive, which `template` (see openDatabase) starts from. */
  dump?(): Promise<Uint8Array>;
  /** PGlite in a folder: records in its lock where the server holding it answers (see DatabaseInUse). */
  announce?(url: string): void;
  /** PostgreSQL with DATABASE_REPLICA_URLS: the replicas, their health and lag (src/db/replicas.ts). */
  readonly replicas?: ReplicaSet;
  close(): Promise<void>;
}

/**
 * An embedded database opened by someone else, lent to one Database until it closes: `release` is
 * called instead of closing it (the tests keep migrated ones and reset them between uses).
 */
export { DatabaseInUse } from "./embedded.js";

export interface PGliteLease {
  client: PGliteThread;
  release(): Promise<void>;
}

function openPglite(
  config: Extract<DatabaseConfig, { kind: "pglite" }>,
  options: { onThisThread?: boolean; template?: string; lease?: PGliteLease; started?: EmbeddedStart } = {},
) {
  const { onThisThread = false, template, lease, started } = options;
  if (config.dataDir && !started) mkdirSync(config.dataDir, { recursive: true });
  const lock = started ? started.lock : config.dataDir ? lockFolder(config.dataDir) : undefined;
  // On a worker thread (see pglite-thread.ts); on this one only to measure the difference.
  const thread = started?.thread ?? (onThisThread ? undefined : (lease?.client ?? new PGliteThread(config.dataDir, template)));
  const client =
    thread ?? new PGlite({ dataDir: config.dataDir, ...(template ? { loadDataDir: new Blob([readFileSync(template)]) } : {}) });
  const adapter: SqlDriverAdapterFactory = new PrismaPGlite(client as unknown as PGlite);
  return {
    adapter,
    scriptTransaction: <T>(fn: (tx: ScriptTransaction) => Promise<T>) =>
      client.transaction((tx) =>
        fn({
          exec: async (script) => void (await tx.exec(script)),
          query: async <Row>(sql: string, params?: unknown[]) => (await tx.query<Row>(sql, params)).rows,
        }),
      ),
    dump: async () =>
      thread ? thread.dump() : new Uint8Array(await (await (client as PGlite).dumpDataDir("none")).arrayBuffer()),
    announce: (url: string) => lock?.announce(url),
    close: async () => {
      await (lease ? lease.release() : client.close());
      lock?.unlock();
    },
  };
}

function openPostgres(config: Extract<DatabaseConfig, { kind: "postgres" }>) {
  const { timeouts } = config;
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    // A request waits this long for a connection (or for a server that does not answer) and no more.
    connectionTimeoutMillis: timeouts.poolMs,
    // PostgreSQL cancels a slow statement, and ends a transaction left idle; through PgBouncer the
    // pooler's connections carry these settings (checkPoolerTimeouts).
    ...(config.pooler
      ? {}
      : { statement_timeout: timeouts.statementMs, idle_in_transaction_session_timeout: timeouts.transactionMs }),
    // This catches a server that stopped answering at all.
    query_timeout: timeouts.statementMs + 1_000,
    keepAlive: true,
    // Each connection keeps its statements prepared (src/db/statements.ts).
    Client: statementCachingClient(config.statementCacheSize),
  });
  let closing = false;
  // An idle connection that the server drops (a restart, a failover) must not crash the process:
  // the pool replaces it on the next checkout. Once we are closing, such errors are expected.
  pool.on("error", (error) => {
    if (!closing) console.error(`[shop-api] idle connection to ${config.label} lost: ${error.message}`);
  });
  const adapter: SqlDriverAdapterFactory = new PrismaPg(pool);
  return {
    adapter,
    scriptTransaction: async <T>(fn: (tx: ScriptTransaction) => Promise<T>) => {
      const conn = await pool.connect();
      try {
        await conn.query("BEGIN");
        const result = await fn({
          exec: async (script) => void (await conn.query(script)),
          query: async <Row>(sql: string, params?: unknown[]) => (await conn.query(sql, params)).rows as Row[],
        });
        await conn.query("COMMIT");
        return result;
      } catch (error) {
        await conn.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        conn.release();
      }
    },
    close: () => {
      closing = true;
      return pool.end();
    },
  };
}

/**
 * Prisma's relation joins (the eager plan's one statement) build every nested row as `jsonb` and
 * aggregate `jsonb`: PostgreSQL converts and copies each level's values into binary JSON, then back
 * to text for the client, which only parses it. Plain `json` builds the same text without the
 * round trip; `npm run bench:load` measured the eager statement's PostgreSQL CPU at about half.
 * (prisma/prisma#22596, #23139: relationJoins' overhead on nested joins.) Only the statements that
 * carry Prisma's relation data are touched, and only those two function names: the text each
 * builds parses to the same values (keys in a different order, which JSON.parse does not mind).
 */
export function lighterJoins(sql: string): string {
  if (!sql.includes('"__prisma_data__"')) return sql;
  return sql.replaceAll("JSONB_BUILD_OBJECT(", "JSON_BUILD_OBJECT(").replaceAll("JSONB_AGG(", "JSON_AGG(");
}

/** A queryable whose statements go through `lighterJoins`, transactions included. */
function withLighterJoins<Q extends SqlQueryable>(target: Q): Q {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (prop === "queryRaw") return (query: SqlQuery) => obj.queryRaw({ ...query, sql: lighterJoins(query.sql) });
      if (prop === "startTransaction") {
        return async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
          withLighterJoins<Transaction>(await (obj as unknown as SqlDriverAdapter).startTransaction(...args));
      }
      const value = Reflect.get(obj, prop, receiver);
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}

/** How the driver binds a value: arrays as lists, the rest by their JavaScript type. */
function argType(value: unknown): ArgType {
  const item = Array.isArray(value) ? value[0] : value;
  const arity = Array.isArray(value) ? "list" : "scalar";
  if (typeof item === "number") return { scalarType: Number.isInteger(item) ? "int" : "float", arity };
  if (typeof item === "boolean") return { scalarType: "boolean", arity };
  if (typeof item === "bigint") return { scalarType: "bigint", arity };
  return { scalarType: item === undefined ? "unknown" : "string", arity };
}

/** A result set as objects keyed by column name. */
function rowsOf<Row>({ columnNames, rows }: SqlResultSet): Row[] {
  const width = columnNames.length;
  const objects = new Array<Row>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const values = rows[r]!;
    const row: Record<string, unknown> = {};
    for (let c = 0; c < width; c++) row[columnNames[c]!] = values[c];
    objects[r] = row as Row;
  }
  return objects;
}

/** Opens the configured database. The caller owns it and must `close()` it. */
export async function openDatabase(
  config: DatabaseConfig,
  options: {
    pgliteOnThisThread?: boolean;
    /** PGlite: a data directory dumped by `Database.dump()` to start from (tests: one migrated database for all). */
    pgliteTemplate?: string;
    /** PGlite: an embedded database already open, to use instead of opening one (see PGliteLease). */
    pglite?: PGliteLease;
    /** PGlite: the folder already locked and PostgreSQL starting on its thread (`startEmbedded`), now the Database's. */
    pgliteStarted?: EmbeddedStart;
    /** PostgreSQL: streaming replicas of this primary that requests' reads may go to (see src/db/replicas.ts). */
    replicas?: { databases: Extract<DatabaseConfig, { kind: "postgres" }>[]; maxLagMs: number };
  } = {},
): Promise<Database> {
  const driver =
    config.kind === "pglite"
      ? openPglite(config, {
          onThisThread: options.pgliteOnThisThread,
          template: options.pgliteTemplate,
          lease: options.pglite,
          started: options.pgliteStarted,
        })
      : openPostgres(config);
  // Requests share the connections. PGlite has one, so one statement at a time: the others wait
  // in the queue, where their wait is measured apart from their execution (extensions.sql).
  const replicaConfigs = config.kind === "postgres" ? (options.replicas?.databases ?? []) : [];
  const primary = recordingAdapter(driver.adapter, {
    slots: config.kind === "postgres" ? config.poolMax : 1,
    waitMs: config.timeouts.poolMs,
    ...(replicaConfigs.length ? { database: "primary" } : {}),
  });
  // With replicas, each has its own pool and queue; one set watches them, and every connection
  // Prisma or the loaders make routes a query's reads through it.
  const replicaDrivers = replicaConfigs.map(openPostgres);
  const replicaAdapters = replicaDrivers.map((replica, i) =>
    recordingAdapter(replica.adapter, {
      slots: replicaConfigs[i]!.poolMax,
      waitMs: config.timeouts.poolMs,
      database: `replica ${i + 1}`,
    }),
  );
  const replicas = replicaConfigs.length
    ? new ReplicaSet(
        await primary.connect(),
        await Promise.all(
          replicaAdapters.map(async (replica, i) => ({ name: `replica ${i + 1}`, conn: await replica.connect() })),
        ),
        options.replicas!.maxLagMs,
      )
    : undefined;
  const adapter: SqlDriverAdapterFactory = replicas
    ? new Proxy(primary, {
        get(obj, prop, receiver) {
          if (prop === "connect") {
            return async () => replicas.router(await obj.connect(), await Promise.all(replicaAdapters.map((r) => r.connect())));
          }
          const value = Reflect.get(obj, prop, receiver);
          return typeof value === "function" ? value.bind(obj) : value;
        },
      })
    : primary;
  if (replicas) void replicas.check();
  const prisma = new PrismaClient({
    // Outermost, so that the SQL recorded (and shown in extensions.sql) is the SQL that ran.
    adapter: new Proxy(adapter, {
      get(obj, prop, receiver) {
        if (prop === "connect") return async () => withLighterJoins(await obj.connect());
        const value = Reflect.get(obj, prop, receiver);
        return typeof value === "function" ? value.bind(obj) : value;
      },
    }),
    transactionOptions: { maxWait: config.timeouts.transactionWaitMs, timeout: config.timeouts.transactionMs },
  });
  // A second adapter on the same pool (or PGlite), for the flat statements.
  const raw = adapter.connect();
  raw.catch(() => undefined);
  return {
    prisma,
    rows: async (sql, args = []) => rowsOf(await (await raw).queryRaw({ sql, args: [...args], argTypes: args.map(argType) })),
    config,
    scriptTransaction: driver.scriptTransaction,
    ...("dump" in driver ? { dump: driver.dump as () => Promise<Uint8Array> } : {}),
    ...("announce" in driver ? { announce: driver.announce as (url: string) => void } : {}),
    ...(replicas ? { replicas } : {}),
    async close() {
      replicas?.close();
      await prisma.$disconnect();
      await Promise.all(replicaDrivers.map((replica) => replica.close()));
      await driver.close();
    },
  };
}

/**
 * Waits for the database to answer, with backoff, up to its startup timeout (a server and its
 * database often start together). A fault that waiting cannot cure (no such database, a refused
 * login) ends the wait at once. Either way the error is one line naming the problem and the fix.
 */
export async function waitForDatabase(
  db: Database,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  const deadline = Date.now() + db.config.timeouts.startupMs;
  for (let pause = 250; ; pause = Math.min(pause * 2, 2_000)) {
    try {
      await db.prisma.$queryRaw`SELECT 1`;
      if (db.config.kind === "postgres" && db.config.pooler) await checkPoolerTimeouts(db);
      return;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const fault = faultOf(error);
      if (!fault) throw error;
      const curable = fault.kind !== "DatabaseDoesNotExist" && fault.kind !== "DatabaseAccessDenied";
      if (!curable || Date.now() + pause > deadline) {
        const url = db.config.kind === "postgres" ? new URL(db.config.url) : undefined;
        throw new ConfigError(startupLine(fault, db.config.label, url, curable ? db.config.timeouts.startupMs : 0));
      }
      await sleep(pause);
    }
  }
}

/**
 * Through PgBouncer the server cannot set its timeouts per connection (PgBouncer refuses startup
 * parameters, and a `SET` would stay on a connection other clients get next): the pooler sets them
 * on its own connections (`connect_query`). A pooler that does not would let a statement run
 * forever, so the start refuses, saying what to set.
 */
async function checkPoolerTimeouts(db: Database): Promise<void> {
  const { statementMs, transactionMs } = db.config.timeouts;
  const wanted = { statement_timeout: statementMs, idle_in_transaction_session_timeout: transactionMs };
  const rows = await db.rows<{ name: keyof typeof wanted; setting: string }>(
    "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout')",
  );
  const wrong = rows.filter((row) => Number(row.setting) !== wanted[row.name]);
  if (wrong.length === 0) return;
  const connectQuery = Object.entries(wanted)
    .map(([name, ms]) => `SET ${name} = ${ms}`)
    .join("; ");
  throw new ConfigError(
    `${db.config.label}: its connections run with ${wrong.map((row) => `${row.name}=${row.setting}`).join(", ")}; ` +
      `set connect_query = '${connectQuery}' for this database in pgbouncer.ini (as deploy/pgbouncer.ini does).`,
  );
}
