/**
 * Reads the environment once. Everything configurable lives here, so a typo in a variable fails at
 * start with one clear line instead of surfacing as a strange error on the first request.
 */

/** Where the data lives: embedded PGlite (a folder, or memory) or a PostgreSQL server. */
export type DatabaseConfig =
  | { kind: "pglite"; dataDir: string | undefined; label: string }
  | { kind: "postgres"; url: string; poolMax: number; label: string };

export interface Config {
  port: number;
  database: DatabaseConfig;
  /** Attach the SQL each request ran to its response (`extensions.sql`). */
  sqlExplain: boolean;
  /** Seed the demo shop into an empty embedded database at start. */
  seedDemo: boolean;
  /** Redis for events across server instances; unset: events stay in this process. */
  redisUrl: string | undefined;
}

/** A configuration mistake: its message is the one line the process prints before exiting 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The embedded database's folder when DATABASE_URL is unset. */
export const DEFAULT_DATA_DIR = "./.data/shop";

const ACCEPTED_URLS =
  "unset (embedded PGlite in ./.data/shop), memory:// (PGlite in memory), file:<folder> (PGlite in that folder), " +
  "or postgresql://user@host:port/database (PostgreSQL)";

/** Maps a DATABASE_URL value to a database; throws ConfigError naming the accepted forms. */
export function parseDatabaseUrl(raw: string | undefined, poolMax = 10): DatabaseConfig {
  const url = raw?.trim();
  if (!url) return { kind: "pglite", dataDir: DEFAULT_DATA_DIR, label: `PGlite at ${DEFAULT_DATA_DIR}` };
  if (url === "memory://" || url === "memory:") return { kind: "pglite", dataDir: undefined, label: "PGlite in memory" };
  if (url.startsWith("file:")) {
    const dir = url.slice("file:".length).replace(/^\/\/(?=\/)/, "");
    if (!dir) throw new ConfigError(`DATABASE_URL=${url} names no folder. Accepted: ${ACCEPTED_URLS}.`);
    return { kind: "pglite", dataDir: dir, label: `PGlite at ${dir}` };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed?.hostname) throw new ConfigError(`DATABASE_URL is not a valid PostgreSQL URL. Accepted: ${ACCEPTED_URLS}.`);
    const host = `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
    return { kind: "postgres", url, poolMax, label: `PostgreSQL at ${host}` };
  }
  throw new ConfigError(`DATABASE_URL has an unsupported form. Accepted: ${ACCEPTED_URLS}.`);
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

function parseFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return undefined;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name}=${raw} must be 1 or 0.`);
}

/** Reads and checks the whole configuration; throws ConfigError on the first mistake. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === "production";
  const poolMax = parseInteger(env, "DATABASE_POOL_MAX", 10, 1, 1000);
  const database = parseDatabaseUrl(env.DATABASE_URL, poolMax);
  return {
    port: parseInteger(env, "PORT", 4000, 0, 65535),
    database,
    sqlExplain: parseFlag(env, "SQL_EXPLAIN") ?? !production,
    seedDemo: parseFlag(env, "SEED_DEMO") ?? database.kind === "pglite",
    redisUrl: parseRedisUrl(env.REDIS_URL),
  };
}
