/**
 * Reads the environment once. Everything configurable lives here, so a typo in a variable fails at
 * start with one clear line instead of surfacing as a strange error on the first request.
 */

import { isIP } from "node:net";

/** How long the database may take before a request gets a code instead of waiting. */
export interface DatabaseTimeouts {
  /** One SQL statement (PostgreSQL's statement_timeout; the client gives up a second later). */
  statementMs: number;
  /** Waiting for a connection from the pool. */
  poolMs: number;
  /** Waiting for a transaction to start (Prisma's maxWait). */
  transactionWaitMs: number;
  /** A whole transaction, from start to commit. */
  transactionMs: number;
  /** At start, how long to wait (with backoff) for PostgreSQL to come up: containers start together. */
  startupMs: number;
}

export const DEFAULT_TIMEOUTS: DatabaseTimeouts = {
  statementMs: 10_000,
  poolMs: 2_000,
  transactionWaitMs: 2_000,
  transactionMs: 10_000,
  startupMs: 30_000,
};

/** Where the data lives: embedded PGlite (a folder, or memory) or a PostgreSQL server. */
export type DatabaseConfig =
  | { kind: "pglite"; dataDir: string | undefined; label: string; timeouts: DatabaseTimeouts }
  | {
      kind: "postgres";
      url: string;
      poolMax: number;
      label: string;
      timeouts: DatabaseTimeouts;
      /**
       * Through PgBouncer in transaction mode (`?pgbouncer=true`, Prisma's own spelling): no session
       * settings at connect, which PgBouncer refuses; the pooler's server connections carry the
       * timeouts instead (`connect_query`, see deploy/pgbouncer.ini), which the start checks.
       */
      pooler: boolean;
      /**
       * Prepared statements each connection keeps (`?statement_cache_size=N`, Prisma's own spelling
       * and default, 100; 0 turns it off; src/db/statements.ts). Off through PgBouncer, which cannot
       * carry a connection's named statements from one transaction to the next.
       */
      statementCacheSize: number;
    };

/** Who may call the API: tokens verified with a secret or a key set, or nobody checked (AUTH=off). */
export type AuthConfig =
  | { mode: "off" }
  | {
      mode: "jwt";
      /** HS256 secret (AUTH_JWT_SECRET); `local` when development creates and keeps its own. */
      secret: { kind: "configured"; value: string } | { kind: "local"; file: string } | undefined;
      /** Asymmetric keys (AUTH_JWKS_URL). */
      jwksUrl: string | undefined;
      issuer: string | undefined;
      audience: string | undefined;
    };

/** What one request may cost; checked before any SQL runs (statements are also counted as they run). */
export interface Limits {
  depth: number;
  aliases: number;
  directives: number;
  tokens: number;
  /** Estimated loads: every relation or derived field, once per parent it may have (lists at their `first`). */
  cost: number;
  /** SQL statements one request may run. */
  statements: number;
  /**
   * SQL statements one request may have in flight at once (outside transactions): a lazy request
   * fans out one statement per parent, and without this cap it fills the pool's queue and every
   * other request waits behind it.
   */
  concurrentStatements: number;
  nodeIds: number;
  /**
   * Objects one response may hold (list items and what each nests), counted as it is built: the
   * run-time bound behind the estimate (see src/limits/budget.ts).
   */
  responseObjects: number;
  /** How long a query may run before it is stopped (its SQL and its resolvers) with TIMEOUT. */
  requestTimeoutMs: number;
  /** Operations in one JSON-array batch. */
  batch: number;
  bodyBytes: number;
  subscriptionsPerConnection: number;
  /** Open subscriptions per client: per user (or operator token), or per address when anonymous. */
  subscriptionsPerClient: number;
  subscriptions: number;
  /** Open connections (HTTP, SSE and WebSocket) the server accepts at once. */
  connections: number;
  /** Requests per minute per identity (or per address when anonymous); 0 turns the limit off. */
  ratePerMinute: number;
}

export interface Config {
  production: boolean;
  /** The address to listen on: loopback in development, all interfaces in production, unless HOST says. */
  host: string | undefined;
  port: number;
  /** How long a shutdown waits for requests in flight before it cuts them. */
  shutdownGraceMs: number;
  /** `json`: one JSON object a line (production); `pretty`: readable lines (development). */
  logFormat: "json" | "pretty";
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  database: DatabaseConfig;
  /**
   * Streaming replicas of a PostgreSQL primary (DATABASE_REPLICA_URLS) that queries read from, and
   * how far behind one may be before it is skipped (DATABASE_REPLICA_MAX_LAG_MS).
   */
  replicas: { databases: Extract<DatabaseConfig, { kind: "postgres" }>[]; maxLagMs: number };
  auth: AuthConfig;
  limits: Limits;
  /** Attach the SQL each request ran to its response (`extensions.sql`); in production, admins only. */
  sqlExplain: boolean;
  /** Where OpenTelemetry traces go over OTLP/HTTP (from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT); none when unset. */
  tracesUrl: string | undefined;
  /** The N+1 detector warns when one field sends the same statement more than this many times in a request. */
  nPlusOneThreshold: number;
  /** Who may pick the `lazy` strategy: everyone in development; in production nobody unless LAZY_STRATEGY=1, then admins. */
  lazyStrategy: "everyone" | "admins" | "nobody";
  graphiql: boolean;
  introspection: boolean;
  /** Origins allowed to call the API from a browser (CORS); none but the API's own by default. */
  corsOrigins: string[];
  /**
   * Which proxies in front of the server to believe about the client's address (X-Forwarded-For):
   * none (false), the nearest N hops, or these addresses and ranges (see `parseTrustProxy`).
   */
  trustProxy: false | number | string[];
  /**
   * Trusted documents: the client's manifest (hash to document). `only` runs nothing else; otherwise
   * its operations are known to the APQ store from the start, beside any that clients register.
   */
  persistedOperations: { mode: "off" | "only"; file: string | undefined };
  /** Seed the demo shop into an empty embedded database at start. */
  seedDemo: boolean;
  /** Redis for events across server instances (and rate limits); unset: both stay in this process. */
  redisUrl: string | undefined;
}

/** A configuration mistake: its message is the one line the process prints before exiting 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where development keeps the token secret it creates on first use (beside the embedded database). */
export const LOCAL_SECRET_FILE = "./.data/jwt-secret";

/** Prisma's default for `statement_cache_size` (src/db/statements.ts). */
export const DEFAULT_STATEMENT_CACHE_SIZE = 100;
/** The most a connection may keep: each holds a plan in PostgreSQL's memory, per connection. */
const MAX_STATEMENT_CACHE_SIZE = 1_000;

/** The embedded database's folder when DATABASE_URL is unset. */
export const DEFAULT_DATA_DIR = "./.data/shop";

const ACCEPTED_URLS =
  "unset (embedded PGlite in ./.data/shop), memory:// (PGlite in memory), file:<folder> (PGlite in that folder), " +
  "or postgresql://user@host:port/database (PostgreSQL)";

/** Maps a DATABASE_URL value to a database; throws ConfigError naming the accepted forms. */
export function parseDatabaseUrl(
  raw: string | undefined,
  poolMax = 10,
  timeouts: DatabaseTimeouts = DEFAULT_TIMEOUTS,
): DatabaseConfig {
  const url = raw?.trim();
  if (!url) return { kind: "pglite", dataDir: DEFAULT_DATA_DIR, label: `PGlite at ${DEFAULT_DATA_DIR}`, timeouts };
  if (url === "memory://" || url === "memory:")
    return { kind: "pglite", dataDir: undefined, label: "PGlite in memory", timeouts };
  if (url.startsWith("file:")) {
    const dir = url.slice("file:".length).replace(/^\/\/(?=\/)/, "");
    if (!dir) throw new ConfigError(`DATABASE_URL=${url} names no folder. Accepted: ${ACCEPTED_URLS}.`);
    return { kind: "pglite", dataDir: dir, label: `PGlite at ${dir}`, timeouts };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed?.hostname) throw new ConfigError(`DATABASE_URL is not a valid PostgreSQL URL. Accepted: ${ACCEPTED_URLS}.`);
    const host = `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
    const pooler = parsed.searchParams.get("pgbouncer") === "true";
    const statementCacheSize = statementCacheSizeOf(parsed.searchParams.get("statement_cache_size"), pooler);
    // Ours to read, not PostgreSQL's: the drivers never see them.
    const ours = ["pgbouncer", "statement_cache_size"].filter((name) => parsed.searchParams.has(name));
    for (const name of ours) parsed.searchParams.delete(name);
    const label = `PostgreSQL at ${host}${pooler ? " through PgBouncer" : ""}`;
    return { kind: "postgres", url: ours.length ? parsed.href : url, poolMax, label, timeouts, pooler, statementCacheSize };
  }
  throw new ConfigError(`DATABASE_URL has an unsupported form. Accepted: ${ACCEPTED_URLS}.`);
}

function statementCacheSizeOf(raw: string | null, pooler: boolean): number {
  if (raw === null) return pooler ? 0 : DEFAULT_STATEMENT_CACHE_SIZE;
  const size = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(size) || size < 0 || size > MAX_STATEMENT_CACHE_SIZE) {
    throw new ConfigError(
      `DATABASE_URL's statement_cache_size=${raw} must be a whole number from 0 to ${MAX_STATEMENT_CACHE_SIZE}.`,
    );
  }
  if (size > 0 && pooler) {
    throw new ConfigError(
      `DATABASE_URL's statement_cache_size=${raw} cannot be used with pgbouncer=true: PgBouncer in transaction mode does not keep a connection's prepared statements. Use statement_cache_size=0 or connect to PostgreSQL directly.`,
    );
  }
  return size;
}

function parseRedisUrl(raw: string | undefined): string | undefined {
  const url = raw?.trim();
  if (!url) return undefined;
  if (!/^rediss?:\/\/./.test(url)) throw new ConfigError("REDIS_URL must look like redis://host:6379 (or rediss:// for TLS).");
  return url;
}

function parseInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

/** The OTLP/HTTP traces URL, as OpenTelemetry's own settings give it: the signal's, or the base one plus `/v1/traces`. */
function parseTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    (env.OTEL_EXPORTER_OTLP_ENDPOINT && `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces`);
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
    return url.href;
  } catch {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, e.g. http://collector:4318; got "${raw}".`);
  }
}

function parseFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return undefined;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name}=${raw} must be 1 or 0.`);
}

/** Names proxy-addr understands besides addresses and CIDR ranges. */
const PROXY_RANGES = ["loopback", "linklocal", "uniquelocal"];

/**
 * TRUST_PROXY: how many proxies stand between the clients and this server (`1`: one balancer), or
 * which addresses they have (`10.0.0.0/8,loopback`). The client's address is then read from the
 * right of X-Forwarded-For, past the trusted hops only: the left-most entries are the client's to
 * write and are never believed.
 */
function parseTrustProxy(env: NodeJS.ProcessEnv): Config["trustProxy"] {
  const raw = env.TRUST_PROXY?.trim().toLowerCase();
  if (!raw || raw === "0" || raw === "false" || raw === "off" || raw === "no") return false;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 32) throw new ConfigError(`TRUST_PROXY=${raw}: at most 32 proxy hops.`);
    return hops;
  }
  const entries = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split("/");
    const ip = address && (isIP(address) || PROXY_RANGES.includes(address));
    const prefix = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address ?? "") === 6 ? 128 : 32));
    if (!ip || !prefix || extra !== undefined || (bits !== undefined && PROXY_RANGES.includes(address!))) {
      throw new ConfigError(
        `TRUST_PROXY must be a number of proxy hops (1 for one balancer) or addresses and ranges such as 10.0.0.0/8,loopback; got ${entry}.`,
      );
    }
  }
  return entries;
}

function parseOrigins(env: NodeJS.ProcessEnv): string[] {
  const origins = (env.CORS_ORIGINS ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new ConfigError(`CORS_ORIGINS must list origins such as https://shop.example.com (no path, no *); got ${origin}.`);
    }
  }
  return origins;
}

function parseAuth(env: NodeJS.ProcessEnv, production: boolean): AuthConfig {
  const mode = env.AUTH?.trim().toLowerCase();
  if (mode === "off") return { mode: "off" };
  if (mode && mode !== "on" && mode !== "jwt") throw new ConfigError(`AUTH=${mode} must be off, or unset.`);
  const secret = env.AUTH_JWT_SECRET?.trim();
  const jwksUrl = env.AUTH_JWKS_URL?.trim() || undefined;
  if (secret && secret.length < 32) throw new ConfigError("AUTH_JWT_SECRET must be at least 32 characters (256 bits for HS256).");
  if (secret && jwksUrl) throw new ConfigError("Set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both.");
  if (jwksUrl && !URL.canParse(jwksUrl))
    throw new ConfigError("AUTH_JWKS_URL must be a URL, e.g. https://idp.example.com/.well-known/jwks.json.");
  if (production && !secret && !jwksUrl) {
    throw new ConfigError(
      "NODE_ENV=production needs AUTH_JWT_SECRET or AUTH_JWKS_URL to verify tokens (or AUTH=off to run without authorization on purpose).",
    );
  }
  return {
    mode: "jwt",
    secret: secret
      ? { kind: "configured", value: secret }
      : jwksUrl
        ? undefined
        : { kind: "local", file: env.AUTH_LOCAL_SECRET_FILE?.trim() || LOCAL_SECRET_FILE },
    jwksUrl,
    issuer: env.AUTH_ISSUER?.trim() || undefined,
    audience: env.AUTH_AUDIENCE?.trim() || undefined,
  };
}

function parsePersisted(env: NodeJS.ProcessEnv): Config["persistedOperations"] {
  const mode = env.PERSISTED_OPERATIONS?.trim().toLowerCase() || "off";
  if (mode !== "off" && mode !== "only") throw new ConfigError(`PERSISTED_OPERATIONS=${mode} must be off or only.`);
  const file = env.PERSISTED_OPERATIONS_FILE?.trim() || undefined;
  if (mode === "only" && !file)
    throw new ConfigError("PERSISTED_OPERATIONS=only needs PERSISTED_OPERATIONS_FILE (the client's manifest).");
  return { mode, file };
}

/**
 * Only the database settings (DATABASE_URL and its pool and timeouts): what `npm run db:migrate`
 * and `npm run db:seed` need, in production too, where the server's other settings do not concern them.
 */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const poolMax = parseInteger(env, "DATABASE_POOL_MAX", 10, 1, 1000);
  const ms = (name: string, fallback: number) => parseInteger(env, name, fallback, 1, 3_600_000);
  return parseDatabaseUrl(env.DATABASE_URL, poolMax, {
    statementMs: ms("DATABASE_STATEMENT_TIMEOUT_MS", DEFAULT_TIMEOUTS.statementMs),
    poolMs: ms("DATABASE_POOL_TIMEOUT_MS", DEFAULT_TIMEOUTS.poolMs),
    transactionWaitMs: ms("DATABASE_TRANSACTION_WAIT_MS", DEFAULT_TIMEOUTS.transactionWaitMs),
    transactionMs: ms("DATABASE_TRANSACTION_TIMEOUT_MS", DEFAULT_TIMEOUTS.transactionMs),
    startupMs: parseInteger(env, "DATABASE_STARTUP_TIMEOUT_MS", DEFAULT_TIMEOUTS.startupMs, 0, 3_600_000),
  });
}

/** DATABASE_REPLICA_URLS: PostgreSQL URLs (comma-separated), each with the primary's pool size and timeouts. */
function parseReplicas(env: NodeJS.ProcessEnv, primary: DatabaseConfig): Config["replicas"] {
  const maxLagMs = parseInteger(env, "DATABASE_REPLICA_MAX_LAG_MS", 1_000, 0, 3_600_000);
  const urls = (env.DATABASE_REPLICA_URLS ?? "")
    .split(",")
    .map((url) => url.trim())
    .filter(Boolean);
  if (urls.length === 0) return { databases: [], maxLagMs };
  if (primary.kind !== "postgres") {
    throw new ConfigError("DATABASE_REPLICA_URLS needs DATABASE_URL to name their PostgreSQL primary (postgresql://…).");
  }
  const databases = urls.map((url, i) => {
    const replica = url.startsWith("postgres") ? parseDatabaseUrl(url, primary.poolMax, primary.timeouts) : undefined;
    if (replica?.kind !== "postgres") {
      throw new ConfigError(
        `DATABASE_REPLICA_URLS: replica ${i + 1} is not a PostgreSQL URL (postgresql://user@host:port/database).`,
      );
    }
    return { ...replica, label: `replica ${i + 1} (${replica.label})` };
  });
  return { databases, maxLagMs };
}

/** Reads and checks the whole configuration; throws ConfigError on the first mistake. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === "production";
  const database = loadDatabaseConfig(env);
  const lazy = parseFlag(env, "LAZY_STRATEGY");
  const logFormat = env.LOG_FORMAT?.trim() || (production ? "json" : "pretty");
  if (logFormat !== "json" && logFormat !== "pretty") throw new ConfigError(`LOG_FORMAT=${logFormat} must be json or pretty.`);
  const logLevel = env.LOG_LEVEL?.trim() || "info";
  if (!["debug", "info", "warn", "error", "silent"].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL=${logLevel} must be debug, info, warn, error or silent.`);
  }
  return {
    production,
    // In development nothing outside this machine reaches the server (or its GraphiQL tokens).
    host: env.HOST?.trim() || (production ? undefined : "127.0.0.1"),
    port: parseInteger(env, "PORT", 4000, 0, 65535),
    shutdownGraceMs: parseInteger(env, "SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    logFormat,
    logLevel: logLevel as Config["logLevel"],
    database,
    replicas: parseReplicas(env, database),
    auth: parseAuth(env, production),
    limits: {
      depth: parseInteger(env, "MAX_DEPTH", 12, 1, 100),
      aliases: parseInteger(env, "MAX_ALIASES", 30, 0, 1000),
      directives: parseInteger(env, "MAX_DIRECTIVES", 30, 0, 1000),
      tokens: parseInteger(env, "MAX_TOKENS", 5000, 100, 1_000_000),
      cost: parseInteger(env, "MAX_COST", 100_000, 1, 100_000_000),
      statements: parseInteger(env, "MAX_STATEMENTS", 2000, 1, 1_000_000),
      concurrentStatements: parseInteger(
        env,
        "MAX_CONCURRENT_STATEMENTS",
        database.kind === "postgres" ? Math.max(1, Math.floor(database.poolMax / 2)) : 4,
        1,
        1000,
      ),
      nodeIds: parseInteger(env, "MAX_NODE_IDS", 100, 1, 10_000),
      responseObjects: parseInteger(env, "MAX_RESPONSE_OBJECTS", 20_000, 1, 100_000_000),
      requestTimeoutMs: parseInteger(env, "REQUEST_TIMEOUT_MS", 15_000, 1, 3_600_000),
      batch: parseInteger(env, "MAX_BATCH", 10, 0, 1000),
      bodyBytes: parseInteger(env, "MAX_BODY_BYTES", 1024 * 1024, 1024, 100 * 1024 * 1024),
      subscriptionsPerConnection: parseInteger(env, "MAX_SUBSCRIPTIONS_PER_CONNECTION", 10, 0, 10_000),
      subscriptionsPerClient: parseInteger(env, "MAX_SUBSCRIPTIONS_PER_CLIENT", 50, 0, 1_000_000),
      subscriptions: parseInteger(env, "MAX_SUBSCRIPTIONS", 1000, 0, 1_000_000),
      connections: parseInteger(env, "MAX_CONNECTIONS", 2000, 1, 1_000_000),
      ratePerMinute: parseInteger(env, "RATE_LIMIT_PER_MINUTE", 1200, 0, 10_000_000),
    },
    sqlExplain: parseFlag(env, "SQL_EXPLAIN") ?? !production,
    tracesUrl: parseTracesUrl(env),
    nPlusOneThreshold: parseInteger(env, "N_PLUS_ONE_THRESHOLD", 2, 1, 1_000_000),
    lazyStrategy: !production ? "everyone" : lazy ? "admins" : "nobody",
    graphiql: parseFlag(env, "GRAPHIQL") ?? !production,
    introspection: parseFlag(env, "INTROSPECTION") ?? !production,
    corsOrigins: parseOrigins(env),
    trustProxy: parseTrustProxy(env),
    persistedOperations: parsePersisted(env),
    seedDemo: parseFlag(env, "SEED_DEMO") ?? database.kind === "pglite",
    redisUrl: parseRedisUrl(env.REDIS_URL),
  };
}
