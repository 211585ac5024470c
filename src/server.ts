/**
 * The entry point (`npm start`): read the configuration, build the app, listen, and shut down
 * cleanly on SIGINT/SIGTERM.
 */
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

async function main() {
  const config = loadConfig();
  const app = await createApp(config);
  const { url } = await app.listen();
  const events = config.redisUrl ? "events through Redis" : "events in process";
  console.log(`Shop API on ${config.database.label}, ${events}: ${url}`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    void app.close().then(() => process.exit(0));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
