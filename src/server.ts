/**
 * The entry point (`npm start`): read the configuration, build the app, listen, and shut down
 * without losing a write on SIGINT/SIGTERM (see App.close).
 */
import { createApp, shutdownHardMs } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

async function main() {
  const config = loadConfig();
  const app = await createApp(config);
  const { url, address } = await app.listen();
  const events = config.redisUrl ? "events through Redis" : "events in process";
  app.logger.info(`Shop API on ${config.database.label}, ${events}, listening on ${address}: ${url}`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.logger.info(`${signal}: finishing the requests in flight, then closing (at most ${config.shutdownGraceMs} ms)`);
    // A shutdown that hangs anyway (a stuck close) must still end the process.
    setTimeout(() => process.exit(1), shutdownHardMs(config) + 5_000).unref();
    app.close().then(
      () => {
        app.logger.info("closed");
        process.exit(0);
      },
      (error: unknown) => {
        app.logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
