/** `npm run db:migrate`: applies pending migrations to the configured database (it reads only the database settings). */
import { loadDatabaseConfig } from "../config.js";
import { openDatabase, waitForDatabase } from "../db/database.js";
import { migrate } from "../db/migrate.js";
import { runCli } from "./run.js";

runCli(import.meta.url, "usage: npm run db:migrate", async () => {
  const database = loadDatabaseConfig();
  const db = await openDatabase(database);
  try {
    if (database.kind === "postgres") await waitForDatabase(db);
    const applied = await migrate(db);
    console.log(applied.length ? `Applied to ${database.label}: ${applied.join(", ")}` : `${database.label} is up to date.`);
  } finally {
    await db.close();
  }
});
