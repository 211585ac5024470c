/**
 * Once per run of the `pglite` project: an embedded database migrated from prisma/migrations and
 * dumped to a file, which every test shop starts from (`PGlite`'s loadDataDir) instead of running
 * initdb and the migrations itself: a third of the time each shop took to open.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { parseDatabaseUrl } from "../../src/config.js";
import { openDatabase } from "../../src/db/database.js";
import { migrate } from "../../src/db/migrate.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "shop-pglite-template-"));
  const file = join(dir, "migrated.tar");
  const db = await openDatabase(parseDatabaseUrl("memory://"));
  try {
    await migrate(db);
    writeFileSync(file, await db.dump!());
  } finally {
    await db.close();
  }
  project.provide("pgliteTemplate", file);
  return () => {
    rmSync(dir, { recursive: true, force: true });
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
