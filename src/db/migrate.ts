/**
 * Applies prisma/migrations in order, the way `prisma migrate deploy` does, without Prisma's native
 * schema engine (which cannot always be downloaded). Each migration runs in its own transaction and is
 * recorded in `_prisma_migrations` with Prisma's columns and checksum, so the real Prisma CLI agrees
 * later that it is applied.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Database } from "./database.js";

/** prisma/migrations, found from this file: two levels up from src/db/, three from a build in dist/src/db/. */
export const MIGRATIONS_DIR =
  ["../../prisma/migrations", "../../../prisma/migrations"]
    .map((path) => fileURLToPath(new URL(path, import.meta.url)))
    .find((dir) => existsSync(dir)) ?? fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/** The lock id `prisma migrate` itself takes, so our runner and Prisma's never interleave. */
const ADVISORY_LOCK_ID = 72707369;

const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** The migrations on disk, oldest first (folder names start with a timestamp). */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

interface HistoryRow {
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies every pending migration and returns the names it applied. A migration that failed earlier
 * and was never resolved stops the run, as it does for `prisma migrate deploy`.
 */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const applied: string[] = [];
  for (const migration of migrations) {
    const done = await db.scriptTransaction(async (tx) => {
      // Inside the lock the history is read again: another process may have just applied it.
      await tx.query("SELECT pg_advisory_xact_lock($1)", [ADVISORY_LOCK_ID]);
      await tx.exec(CREATE_HISTORY_TABLE);
      const history = await tx.query<HistoryRow>(
        `SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE migration_name = $1`,
        [migration.name],
      );
      if (history.some((row) => row.finished_at && !row.rolled_back_at)) return false;
      if (history.some((row) => !row.finished_at && !row.rolled_back_at)) {
        throw new Error(
          `Migration ${migration.name} failed earlier and is not resolved; fix the database, then mark it with \`prisma migrate resolve\`.`,
        );
      }
      const startedAt = new Date();
      await tx.exec(migration.sql);
      await tx.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, now(), $3, $4, 1)`,
        [randomUUID(), migration.checksum, migration.name, startedAt],
      );
      return true;
    });
    if (done) applied.push(migration.name);
  }
  return applied;
}

/** The migrations on disk that the database has not applied (all of them when it has no history). */
export async function pendingMigrations(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const [history] = await db.prisma.$queryRaw<{ exists: boolean }[]>`
    SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS exists`;
  if (!history?.exists) return migrations.map((m) => m.name);
  const applied = await db.prisma.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
  const done = new Set(applied.map((row) => row.migration_name));
  return migrations.map((m) => m.name).filter((name) => !done.has(name));
}
