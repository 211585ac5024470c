/**
 * Once per run of the `postgres` project: a database migrated from prisma/migrations, which every
 * test file copies (CREATE DATABASE … TEMPLATE) instead of migrating its own.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { parseDatabaseUrl } from "../../src/config.js";
import { openDatabase } from "../../src/db/database.js";
import { migrate } from "../../src/db/migrate.js";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error("The postgres test project needs TEST_DATABASE_URL.");
  const name = `shop_template_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase(parseDatabaseUrl(url.toString(), 1));
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  project.provide("templateDatabase", name);
  return () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
