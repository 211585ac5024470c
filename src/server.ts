/**
 * The entry point: read the configuration, open the database, migrate and seed the embedded one,
 * serve, and shut down cleanly on SIGINT/SIGTERM.
 */
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db.js";
import { createHttpServer } from "./http.js";
import { migrate } from "./migrate.js";
import { createShopPubSub } from "./pubsub.js";
import { isShopEmpty, seedShop } from "./seed.js";
import { createShopServer } from "./yoga.js";

async function main() {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  if (config.database.kind === "pglite") {
    const applied = await migrate(db);
    if (applied.length) console.log(`Applied migrations: ${applied.join(", ")}`);
  }
  if (config.seedDemo && (await isShopEmpty(db.prisma))) {
    const seeded = await seedShop(db.prisma);
    console.log(`Seeded the demo shop: ${seeded.users} users, ${seeded.orders} orders, ${seeded.items} items.`);
  }

  const events = createShopPubSub(config.redisUrl);
  const yoga = createShopServer({ prisma: db.prisma, pubsub: events.pubsub, sqlExplain: config.sqlExplain });
  const { server, close } = createHttpServer(yoga);
  server.listen(config.port, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const events = config.redisUrl ? "events through Redis" : "events in process";
    console.log(`Shop API on ${config.database.label}, ${events}: http://localhost:${port}${yoga.graphqlEndpoint}`);
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    server.closeIdleConnections();
    void close()
      .then(() => Promise.all([events.close(), db.close()]))
      .then(() => process.exit(0));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
