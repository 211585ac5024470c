/** `npm run db:migrate`: applies pending migrations to the configured database. */
import { loadConfig } from "../config.js";
import { openDatabase, waitForDatabase } from "../db.js";
import { migrate } from "../migrate.js";
import { runCli } from "./run.js";

runCli(import.meta.url, "usage: npm run db:migrate", async () => {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    if (config.database.kind === "postgres") await waitForDatabase(db);
    const applied = await migrate(db);
    console.log(
      applied.length ? `Applied to ${config.database.label}: ${applied.join(", ")}` : `${config.database.label} is up to date.`,
    );
  } finally {
    await db.close();
  }
});
