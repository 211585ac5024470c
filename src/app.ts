/**
 * The one place the application is wired: the database (migrated and seeded when embedded), the
 * event bus, the GraphQL server and the HTTP server around it. `npm start`, the tests and the
 * benchmark all build it here, so they run the same thing.
 */

import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { Redis } from "ioredis";
import { createIdentify } from "./auth/viewer.js";
import { type Config, ConfigError } from "./config.js";
import { type Database, openDatabase, type PGliteLease, waitForDatabase } from "./db/database.js";
import type { EmbeddedStart } from "./db/embedded.js";
import { migrate, pendingMigrations } from "./db/migrate.js";
import { RecentWriters } from "./db/replicas.js";
import { preloadGraphiQL } from "./http/graphiql-assets.js";
import { createLifecycle, type Lifecycle } from "./http/lifecycle.js";
import { createHttpServer, type SocketTimeouts } from "./http/server.js";
import { createShopServer, type ShopServer } from "./http/yoga.js";
import { createRateLimit } from "./limits/rate.js";
import { createLogger, type Logger } from "./logging.js";
import { createShopPubSub, type ShopPubSub } from "./pubsub.js";
import { startTelemetry } from "./sql/telemetry.js";

export interface AppOptions {
  /** The logger (default: one made from the configuration); tests pass a silent one. */
  logger?: Logger;
  /** Where events travel instead of the configured bus (a test that watches subscribers arrive). */
  eventTarget?: EventTarget;
  /** Runs embedded PGlite on the server's own thread, as it once did (`npm run bench:latency` compares). */
  pgliteOnThisThread?: boolean;
  /** PGlite: a migrated data directory (`Database.dump()`) a new database starts from (the tests'). */
  pgliteTemplate?: string;
  /** PGlite: an embedded database already open, lent for the app's life (the tests reuse them). */
  pglite?: PGliteLease;
  /** PGlite: the folder locked and PostgreSQL started before the app's modules loaded (src/server.ts). */
  pgliteStarted?: EmbeddedStart;
  /** Applies PostgreSQL's pending migrations too (the bench owns its database); PGlite always is. */
  migrate?: boolean;
  /** Records OpenTelemetry spans into this exporter (a test's in-memory one), whatever the configuration. */
  spanExporter?: SpanExporter;
  /** Other socket timeouts than SOCKET_TIMEOUTS (a test that waits for one to pass). */
  socketTimeouts?: Partial<SocketTimeouts>;
}

export interface App {
  config: Config;
  logger: Logger;
  db: Database;
  prisma: Database["prisma"];
  pubsub: ShopPubSub;
  yoga: ShopServer;
  /** The HTTP server (HTTP, SSE and WebSocket on the GraphQL path); not listening until `listen`. */
  server: Server;
  /** Listens on the configured port (0: any free one) and resolves with the GraphQL URL. */
  listen(host?: string): Promise<{ url: string; wsUrl: string; port: number; address: string }>;
  /** The shutdown state and the open subscriptions (`/ready` reports the first). */
  lifecycle: Lifecycle;
  /**
   * Shuts down without losing a write: `/ready` turns 503 and responses ask clients to reconnect
   * elsewhere; open subscriptions complete and WebSockets close with 1001; listening stops; requests
   * in flight finish (cut after the configured grace); then Redis and the database close.
   */
  close(): Promise<void>;
}

/** Opens everything the configuration names. The caller owns the result and must `close()` it. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  // Allowed on purpose (config.ts), but in production it must not go unnoticed.
  if (config.production && config.auth.mode === "off") {
    logger.warn(
      "AUTH=off: every caller is an admin; no token is checked. Set AUTH_JWT_SECRET or AUTH_JWKS_URL (and unset AUTH) to require tokens.",
    );
  }
  // A configuration mistake stops the start before anything is opened.
  const persistedOperations = readPersistedOperations(config.persistedOperations.file);
  const log = (line: string) => logger.info(line);
  const db = await openDatabase(config.database, {
    pgliteOnThisThread: options.pgliteOnThisThread,
    pgliteTemplate: options.pgliteTemplate,
    pglite: options.pglite,
    pgliteStarted: options.pgliteStarted,
    replicas: config.replicas,
  });
  try {
    // PostgreSQL is migrated on purpose (`npm run db:migrate`); the embedded database at every start.
    if (config.database.kind === "pglite" || options.migrate) {
      if (config.database.kind === "postgres") await waitForDatabase(db);
      const applied = await migrate(db);
      if (applied.length) log(`Applied migrations: ${applied.join(", ")}`);
    } else {
      await waitForDatabase(db);
      const pending = await pendingMigrations(db);
      if (pending.length) {
        throw new ConfigError(
          `${config.database.label} is not migrated (${pending.length} pending: ${pending.join(", ")}). Run npm run db:migrate.`,
        );
      }
    }
    if (config.seedDemo) {
      // Imported only when needed: the seed pulls in Faker, which a serving process does not need.
      const { isShopEmpty, seedShop } = await import("./db/seed.js");
      if (await isShopEmpty(db.prisma)) {
        const seeded = await seedShop(db.prisma);
        log(`Seeded the demo shop: ${seeded.users} users, ${seeded.orders} orders, ${seeded.items} items.`);
      }
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  // Traces from here on: the server's requests (the start-up's statements are not a request's).
  const spansTo = options.spanExporter ?? config.tracesUrl;
  const stopTelemetry = spansTo ? await startTelemetry("shop-api", spansTo).catch(closing(db)) : undefined;
  const events = createShopPubSub({ logger, redisUrl: config.redisUrl, eventTarget: options.eventTarget });
  const identify = createIdentify(config.auth, db.prisma);
  const lifecycle = createLifecycle();
  // Users deactivated or deleted, on any instance: their subscriptions end here too.
  const revocations = events.pubsub.subscribe("userRevoked");
  void (async () => {
    for await (const { userId } of revocations) lifecycle.revoke(userId);
  })();
  // Rate limits and automatic persisted queries are kept in Redis when there is one, so they hold
  // across instances. A command Redis does not answer within a second fails (each user has a way
  // on without it), rather than waiting for Redis to come back.
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 1_000 }) : undefined;
  redis?.on("error", () => undefined);
  const yoga = createShopServer({
    config,
    prisma: db.prisma,
    rows: db.rows,
    pubsub: events.pubsub,
    identify,
    rateLimit: createRateLimit(config.limits.ratePerMinute, redis),
    persistedOperations,
    redis,
    ...(db.replicas
      ? { recentWriters: new RecentWriters(config.replicas.maxLagMs, redis), replicaStatus: () => db.replicas!.status() }
      : {}),
    logger,
    lifecycle,
    readinessChecks: {
      database: () => db.prisma.$queryRaw`SELECT 1`,
      ...(config.redisUrl ? { redis: () => events.ping() } : {}),
    },
  });
  const http = createHttpServer(yoga, { identify, limits: config.limits, logger, timeouts: options.socketTimeouts });
  return {
    config,
    logger,
    db,
    prisma: db.prisma,
    pubsub: events.pubsub,
    yoga,
    server: http.server,
    listen: (host = config.host) =>
      new Promise((resolve, reject) => {
        http.server.once("error", reject);
        http.server.listen(config.port, host, () => {
          const { address, port } = http.server.address() as AddressInfo;
          // The address it really listens on; a wildcard is reached as localhost from this machine.
          const wildcard = address === "0.0.0.0" || address === "::";
          const origin = `${wildcard ? "localhost" : address.includes(":") ? `[${address}]` : address}:${port}`;
          db.announce?.(`http://${origin}${yoga.graphqlEndpoint}`);
          // GraphiQL's code (9 MB) loads now, not at start nor on the first visit.
          if (config.graphiql) preloadGraphiQL();
          resolve({
            url: `http://${origin}${yoga.graphqlEndpoint}`,
            wsUrl: `ws://${origin}${yoga.graphqlEndpoint}`,
            port,
            address: `${address.includes(":") ? `[${address}]` : address}:${port}`,
          });
        });
      }),
    lifecycle,
    async close() {
      lifecycle.shuttingDown = true;
      await lifecycle.endSubscriptions();
      await revocations.return?.();
      const cut = await http.close(config.shutdownGraceMs, {
        endGrace: () => lifecycle.endGrace(),
        hardMs: shutdownHardMs(config) - config.shutdownGraceMs,
      });
      if (cut) logger.warn({ connections: cut }, `cut ${cut} connections still open after ${config.shutdownGraceMs} ms`);
      await events.close();
      try {
        await redis?.quit();
        await db.close();
      } finally {
        await stopTelemetry?.();
      }
    },
  };
}

/**
 * How long a shutdown may take in all: the grace, then as long as a mutation's transaction may
 * still take to commit (its timeout, and a statement's), so that no write is cut between its
 * commit and its answer.
 */
export function shutdownHardMs(config: Config): number {
  const { transactionMs, statementMs } = config.database.timeouts;
  return config.shutdownGraceMs + Math.max(transactionMs, statementMs) + 1_000;
}

/** Closes `db`, then rethrows: a start that fails after opening the database leaves nothing open. */
function closing(db: { close(): Promise<void> }) {
  return async (error: unknown): Promise<never> => {
    await db.close();
    throw error;
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
