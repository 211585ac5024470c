/**
 * Once per run of the `pglite` project: an embedded database migrated from prisma/migrations and
 * dumped to a file, which every test shop starts from (`PGlite`'s loadDataDir) instead of running
 * initdb and the migrations itself: a third of the time each shop took to open. The dump is kept in
 * node_modules/.cache under a name made of PGlite's version and the migrations' checksums, so a
 * later run (one file, say) skips PGlite's initdb, about 4 s on a 2-core machine.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { parseDatabaseUrl } from "../../src/config.js";
import { openDatabase } from "../../src/db/database.js";
import { migrate, readMigrations } from "../../src/db/migrate.js";

const CACHE = new URL("../../node_modules/.cache/shop-test/", import.meta.url).pathname;

/** The template's file for this PGlite and these migrations. */
async function templatePath(): Promise<string> {
  const manifest = new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url);
  const pglite = JSON.parse(readFileSync(manifest, "utf8")).version as string;
  const migrations = (await readMigrations()).map((m) => `${m.name}:${m.checksum}`).join(",");
  const key = createHash("sha256").update(`${pglite}|${migrations}`).digest("hex").slice(0, 16);
  return join(CACHE, `pglite-template-${key}.tar`);
}

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const file = await templatePath();
  if (!existsSync(file)) {
    const db = await openDatabase(parseDatabaseUrl("memory://"));
    try {
      await migrate(db);
      mkdirSync(CACHE, { recursive: true });
      // Written whole, then renamed: a run beside this one reads the old name or the whole file.
      const partial = `${file}.${process.pid}`;
      writeFileSync(partial, await db.dump!());
      renameSync(partial, file);
      // Templates of other migrations or PGlite versions are not needed again.
      for (const old of readdirSync(CACHE)) {
        if (old.startsWith("pglite-template-") && join(CACHE, old) !== file) rmSync(join(CACHE, old), { force: true });
      }
    } finally {
      await db.close();
    }
  }
  project.provide("pgliteTemplate", file);
  return () => {
    if (project.vitest.state.getFiles().length > 1) process.stdout.write(HINT);
  };
}

/** What a newcomer wants next, printed after a whole run. */
const HINT = `
One file:        npx vitest run test/orders.test.ts   (add -t "<test name>" for one test)
${
  process.env.TEST_DATABASE_URL
    ? "PostgreSQL too:  this run included it (TEST_DATABASE_URL is set)"
    : "PostgreSQL too:  TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm test"
}
`;
