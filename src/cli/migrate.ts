/** `npm run db:migrate`: applies pending migrations to the configured database. */
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase } from "../db.js";
import { migrate } from "../migrate.js";

try {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    const applied = await migrate(db);
    console.log(
      applied.length ? `Applied to ${config.database.label}: ${applied.join(", ")}` : `${config.database.label} is up to date.`,
    );
  } finally {
    await db.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
}
