/**
 * A shop for one test file: a fresh database (PGlite in memory, or a new PostgreSQL database when
 * the file runs in the `postgres` project), migrated, optionally seeded, and the GraphQL server in
 * front of it, reached through `yoga.fetch` with no port opened.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { type DatabaseConfig, parseDatabaseUrl } from "../../src/config.js";
import { type Database, openDatabase } from "../../src/db.js";
import { createHttpServer } from "../../src/http.js";
import { migrate } from "../../src/migrate.js";
import { createShopPubSub, type ShopEvents } from "../../src/pubsub.js";
import { type SeedSizes, seedShop } from "../../src/seed.js";
import type { Strategy } from "../../src/strategy.js";
import { createShopServer, type ShopServer } from "../../src/yoga.js";

export interface GraphQLResponse<D = any> {
  data?: D;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  extensions?: { sql?: { strategy: Strategy; count: number; statements: { sql: string; durationMs: number; rows: number }[] } };
}

export interface TestShop {
  db: Database;
  prisma: Database["prisma"];
  yoga: ShopServer;
  /** Resolves once the server subscribes to this topic (call it before the client subscribes). */
  subscribed(topic: keyof ShopEvents): Promise<void>;
  /** Runs one operation through the server, as a client would. */
  gql<D = any>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { strategy?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<D>>;
  fetch(request: Request): Promise<Response>;
  close(): Promise<void>;
}

/** Which database this test run targets: the vitest project sets SHOP_TEST_DB. */
export const testDatabaseKind = process.env.SHOP_TEST_DB === "postgres" ? "postgres" : "pglite";

/** A fresh, empty database: PGlite in memory, or a new database on the TEST_DATABASE_URL server. */
export async function freshDatabase(): Promise<{ config: DatabaseConfig; drop: () => Promise<void> }> {
  if (testDatabaseKind === "pglite") return { config: parseDatabaseUrl("memory://"), drop: async () => undefined };
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error("The postgres test project needs TEST_DATABASE_URL.");
  const name = `shop_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    config: parseDatabaseUrl(url.toString(), 5),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Opens a migrated shop, seeded with `seed` sizes unless `seed` is false. */
export async function createTestShop(options: { seed?: SeedSizes | false; sqlExplain?: boolean } = {}): Promise<TestShop> {
  const { config, drop } = await freshDatabase();
  const db = await openDatabase(config);
  await migrate(db);
  if (options.seed) await seedShop(db.prisma, options.seed);
  const events = createShopPubSub();
  const waiting = new Map<string, (() => void)[]>();
  const subscribe = events.pubsub.subscribe.bind(events.pubsub);
  // Tells a test when the server has subscribed to a topic, so it publishes only once someone listens.
  events.pubsub.subscribe = ((...args: Parameters<typeof subscribe>) => {
    const iterator = subscribe(...args);
    for (const resolve of waiting.get(args[0]) ?? []) setTimeout(resolve, 50);
    waiting.delete(args[0]);
    return iterator;
  }) as typeof subscribe;
  const yoga = createShopServer({
    prisma: db.prisma,
    pubsub: events.pubsub,
    sqlExplain: options.sqlExplain ?? true,
    logging: false,
  });
  return {
    db,
    prisma: db.prisma,
    yoga,
    subscribed: (topic) => new Promise<void>((resolve) => waiting.set(topic, [...(waiting.get(topic) ?? []), resolve])),
    fetch: (request) => Promise.resolve(yoga.fetch(request)),
    async gql(query, variables, { strategy, headers } = {}) {
      const response = await yoga.fetch("http://shop.test/graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json",
          ...(strategy ? { "x-loading-strategy": strategy } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse;
    },
    async close() {
      await db.close();
      await drop();
    },
  };
}

/** The data of a response that must have succeeded; fails the test with the errors otherwise. */
export function dataOf<D = any>(response: GraphQLResponse<D>): D {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return response.data as D;
}

export const STRATEGIES: Strategy[] = ["eager", "batched", "lazy"];

/** Serves a test shop on a free local port (HTTP, SSE and WebSocket), as server.ts does. */
export async function listen(shop: TestShop): Promise<{ url: string; wsUrl: string; close(): Promise<void> }> {
  const { server, close } = createHttpServer(shop.yoga);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, close };
}
