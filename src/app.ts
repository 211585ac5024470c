/**
 * The one place the application is wired: the database (migrated and seeded when embedded), the
 * event bus, the GraphQL server and the HTTP server around it. `npm start`, the tests and the
 * benchmark all build it here, so they run the same thing.
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { createIdentify } from "./auth/viewer.js";
import { type Config, ConfigError } from "./config.js";
import { type Database, openDatabase } from "./db.js";
import { createHttpServer } from "./http.js";
import { createRateLimit } from "./limits/rate.js";
import { migrate } from "./migrate.js";
import { createShopPubSub, type ShopPubSub } from "./pubsub.js";
import { createShopServer, type ShopServer } from "./yoga.js";

export interface AppOptions {
  /** Where start-up lines go (migrations applied, demo seeded); tests pass a no-op. */
  log?: (line: string) => void;
  /** Yoga's request logging; `false` for silence (tests, benchmark). */
  logging?: boolean;
  /** Where events travel instead of the configured bus (a test that watches subscribers arrive). */
  eventTarget?: EventTarget;
}

export interface App {
  config: Config;
  db: Database;
  prisma: Database["prisma"];
  pubsub: ShopPubSub;
  yoga: ShopServer;
  /** The HTTP server (HTTP, SSE and WebSocket on the GraphQL path); not listening until `listen`. */
  server: Server;
  /** Listens on the configured port (0: any free one) and resolves with the GraphQL URL. */
  listen(host?: string): Promise<{ url: string; wsUrl: string; port: number }>;
  /** Stops listening, ends subscriptions, and closes Redis and the database. */
  close(): Promise<void>;
}

/** Opens everything the configuration names. The caller owns the result and must `close()` it. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? console.log;
  const db = await openDatabase(config.database);
  try {
    // PostgreSQL is migrated on purpose (`npm run db:migrate`); the embedded database at every start.
    if (config.database.kind === "pglite") {
      const applied = await migrate(db);
      if (applied.length) log(`Applied migrations: ${applied.join(", ")}`);
    }
    if (config.seedDemo) {
      // Imported only when needed: the seed pulls in Faker, which a serving process does not need.
      const { isShopEmpty, seedShop } = await import("./seed.js");
      if (await isShopEmpty(db.prisma)) {
        const seeded = await seedShop(db.prisma);
        log(`Seeded the demo shop: ${seeded.users} users, ${seeded.orders} orders, ${seeded.items} items.`);
      }
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  const events = createShopPubSub(config.redisUrl, options.eventTarget);
  const identify = createIdentify(config.auth, db.prisma);
  // Rate limits are counted in Redis when there is one, so they hold across instances.
  const rateRedis =
    config.redisUrl && config.limits.ratePerMinute ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
  rateRedis?.on("error", () => undefined);
  const yoga = createShopServer({
    config,
    prisma: db.prisma,
    pubsub: events.pubsub,
    identify,
    rateLimit: createRateLimit(config.limits.ratePerMinute, rateRedis),
    persistedOperations: readPersistedOperations(config.persistedOperations.file),
    logging: options.logging ?? true,
  });
  const http = createHttpServer(yoga, { identify, limits: config.limits });
  return {
    config,
    db,
    prisma: db.prisma,
    pubsub: events.pubsub,
    yoga,
    server: http.server,
    listen: (host) =>
      new Promise((resolve, reject) => {
        http.server.once("error", reject);
        http.server.listen(config.port, host, () => {
          const { port } = http.server.address() as AddressInfo;
          const origin = `${host && host !== "0.0.0.0" && host !== "::" ? host : "localhost"}:${port}`;
          resolve({ url: `http://${origin}${yoga.graphqlEndpoint}`, wsUrl: `ws://${origin}${yoga.graphqlEndpoint}`, port });
        });
      }),
    async close() {
      await http.close();
      await events.close();
      await rateRedis?.quit();
      await db.close();
    },
  };
}

/** The client's trusted documents: a JSON object from operation hash to document (codegen's manifest). */
function readPersistedOperations(file: string | undefined): Record<string, string> {
  if (!file) return {};
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`PERSISTED_OPERATIONS_FILE=${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  if (!manifest || typeof manifest !== "object" || !Object.values(manifest).every((d) => typeof d === "string")) {
    throw new ConfigError(`PERSISTED_OPERATIONS_FILE=${file} must map operation hashes to documents.`);
  }
  return manifest as Record<string, string>;
}
