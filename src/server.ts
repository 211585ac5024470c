/**
 * The entry point (`npm start`): read the configuration, make sure the port is free, build the
 * app, listen, and shut down without losing a write on SIGINT/SIGTERM (see App.close). A start that
 * fails says why in one line (a JSON line where logs are JSON: in production), never a stack trace
 * for a mistake of the configuration or the machine; only a bug prints its stack.
 */
import { createServer } from "node:net";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logging.js";

/**
 * Refuses a port that another process listens on, before the database is opened, migrated or
 * seeded: binding it for a moment is the only sure test.
 */
function ensurePortFree(port: number, host: string | undefined): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" || error.code === "EACCES" ? portRefused(port, host, error.code) : error),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function portRefused(port: number, host: string | undefined, code: string): ConfigError {
  const where = `${host ?? "every address"} port ${port}`;
  return new ConfigError(
    code === "EACCES"
      ? `Cannot listen on ${where}: not allowed for this user; set PORT to 1024 or above.`
      : `Cannot listen on ${where}: another process uses it (a server already running?); stop it or set PORT.`,
  );
}

async function main() {
  const config = loadConfig();
  await ensurePortFree(config.port, config.host);
  // The embedded database opens its folder on its own thread while the app's modules load.
  const pgliteStarted =
    config.database.kind === "pglite" ? (await import("./db/embedded.js")).startEmbedded(config.database) : undefined;
  const { createApp, shutdownHardMs } = await import("./app.js");
  const app = await createApp(config, { pgliteStarted });
  const { url, address } = await app.listen().catch((error: NodeJS.ErrnoException) => {
    // Taken between the check and now.
    throw error.code === "EADDRINUSE" || error.code === "EACCES" ? portRefused(config.port, config.host, error.code) : error;
  });
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
  // The configuration may be what failed: the log's format is read from the environment alone.
  const production = process.env.NODE_ENV === "production";
  const format = process.env.LOG_FORMAT?.trim() || (production ? "json" : "pretty");
  if (format === "json") {
    const logger = createLogger({ logFormat: "json", logLevel: "info" });
    if (error instanceof ConfigError) logger.fatal(`start failed: ${error.message}`);
    else logger.fatal({ err: error }, "start failed");
  } else console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
