/**
 * A shop for one test file: the app as `npm start` builds it (`createApp`), on a fresh database
 * (PGlite in memory, or a copy of the migrated template database when the file runs in the
 * `postgres` project), reached through `yoga.fetch` with no port opened, or listening when a test
 * needs a real client.
 */
import { randomBytes } from "node:crypto";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import pg from "pg";
import { inject } from "vitest";
import { type App, type AppOptions, createApp } from "../../src/app.js";
import { createTokens } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config.js";
import { type SeedSizes, seedShop } from "../../src/db/seed.js";
import { STRATEGY_HEADER } from "../../src/loading/strategy.js";
import type { Logger } from "../../src/logging.js";
import type { ShopEvents } from "../../src/pubsub.js";
import type { SqlReport } from "../../src/sql/report.js";
import { leasePglite } from "./pglite-pool.js";

export { STRATEGIES } from "../../src/loading/strategy.js";
export type { RecordedStatement } from "../../src/sql/recorder.js";
export type { SqlReport } from "../../src/sql/report.js";

/** A GraphQL error as a client receives it. */
export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; fields?: { field: string; message: string }[]; [key: string]: unknown };
}

/** A GraphQL response as a client receives it; `D` is the shape of `data`. */
export interface GraphQLResponse<D = any> {
  data?: D;
  errors?: GraphQLErrorBody[];
  extensions?: { sql?: SqlReport };
}

/** The secret test shops sign their tokens with. */
export const TEST_SECRET = "test-secret-of-at-least-thirty-two-characters";

/** Who a test request runs as: an admin operator unless it says otherwise. */
export type As = "admin" | "anonymous" | { customer: number } | { admin: number };

export interface TestShop {
  app: App;
  /** A valid token for `who` (`Bearer` not included). */
  token(who: Exclude<As, "anonymous">, expiresIn?: string): Promise<string>;
  prisma: App["prisma"];
  /** Resolves once the server adds `count` (1) listeners on this topic (call it before the clients subscribe). */
  subscribed(topic: keyof ShopEvents, count?: number): Promise<void>;
  /** How many subscriptions the server listens on this topic for, now. */
  subscribers(topic: keyof ShopEvents): number;
  /** Runs one operation through the server, as a client would. */
  gql<D = any>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { strategy?: string; headers?: Record<string, string>; as?: As; operationName?: string },
  ): Promise<GraphQLResponse<D>>;
  fetch(request: Request): Promise<Response>;
  /** Every row of every table, to prove that a refused request wrote nothing. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

const testTokens = createTokens({
  mode: "jwt",
  secret: { kind: "configured", value: TEST_SECRET },
  jwksUrl: undefined,
  issuer: undefined,
  audience: undefined,
});

/** A valid token for `who`, signed with the test shops' secret. */
export function testToken(who: Exclude<As, "anonymous">, expiresIn = "5m"): Promise<string> {
  return testTokens.sign!(
    who === "admin"
      ? { role: "admin", userId: null }
      : "customer" in who
        ? { role: "customer", userId: who.customer }
        : { role: "admin", userId: who.admin },
    expiresIn,
  );
}

/**
 * Which database this test run targets: the vitest project sets SHOP_TEST_DB. The `pgbouncer`
 * project is PostgreSQL too, with the test shops connecting through PgBouncer (`throughPooler`).
 */
export const testDatabaseKind = process.env.SHOP_TEST_DB === "pglite" || !process.env.SHOP_TEST_DB ? "pglite" : "postgres";
export const throughPooler = process.env.SHOP_TEST_DB === "pgbouncer";

/** Runs SQL on the test server's maintenance connection (TEST_DATABASE_URL). */
export async function onTestServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database as a DATABASE_URL: PGlite in memory, or on PostgreSQL a copy of the template
 * database that global-setup.ts migrated once for the whole run (a file copy, no migrations).
 */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (testDatabaseKind === "pglite") return { url: "memory://", drop: async () => undefined };
  const name = `shop_test_${randomBytes(6).toString("hex")}`;
  await onTestServer((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${inject("templateDatabase")}"`));
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  if (throughPooler) {
    url.host = `127.0.0.1:${inject("pgbouncerPort")}`;
    url.searchParams.set("pgbouncer", "true");
  }
  return {
    url: url.toString(),
    drop: () => onTestServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * An event target that tells a test when the server listens on a topic (for `count` subscribers):
 * the exact moment an event published to it will be delivered to them.
 */
function observedEventTarget() {
  const target = new EventTarget();
  const listeners = new Map<string, number>();
  const waiting: { topic: string; remaining: number; resolve: () => void }[] = [];
  // A topic with an id (`orderStatusChanged(orderId:)`) listens on "<topic>:<id>".
  const topicOf = (type: string) => type.split(":")[0]!;
  const addEventListener = target.addEventListener.bind(target);
  const removeEventListener = target.removeEventListener.bind(target);
  target.addEventListener = (type, ...rest) => {
    addEventListener(type, ...rest);
    const topic = topicOf(type);
    listeners.set(topic, (listeners.get(topic) ?? 0) + 1);
    for (const wait of waiting.filter((w) => w.topic === topic)) {
      wait.remaining -= 1;
      if (wait.remaining > 0) continue;
      waiting.splice(waiting.indexOf(wait), 1);
      wait.resolve();
    }
  };
  target.removeEventListener = (type, ...rest) => {
    removeEventListener(type, ...rest);
    const topic = topicOf(type);
    listeners.set(topic, (listeners.get(topic) ?? 1) - 1);
  };
  /**
   * Resolves once `count` listeners have been added to `topic` after this call (counting additions,
   * not the level, so a subscription still closing elsewhere cannot hold it back).
   */
  const listening = (topic: string, count = 1) =>
    new Promise<void>((resolve) => waiting.push({ topic, remaining: count, resolve }));
  return { target, listening, listeners: (topic: string) => listeners.get(topic) ?? 0 };
}

/** Opens a shop on a fresh database, seeded with `seed` sizes unless `seed` is false. */
export async function createTestShop(
  options: {
    seed?: SeedSizes | false;
    sqlExplain?: boolean;
    env?: Record<string, string>;
    logger?: Logger;
    spanExporter?: SpanExporter;
    socketTimeouts?: AppOptions["socketTimeouts"];
  } = {},
): Promise<TestShop> {
  const database = await freshDatabase();
  const events = observedEventTarget();
  const config = loadConfig({
    DATABASE_URL: database.url,
    DATABASE_POOL_MAX: "5",
    PORT: "0",
    SEED_DEMO: "0",
    SQL_EXPLAIN: options.sqlExplain === false ? "0" : "1",
    AUTH_JWT_SECRET: TEST_SECRET,
    RATE_LIMIT_PER_MINUTE: "0",
    LOG_LEVEL: "silent",
    ...options.env,
  });
  const app = await createApp(config, {
    // PGlite: a migrated database, kept by this worker between shops (test/support/pglite-pool.ts).
    pglite: testDatabaseKind === "pglite" && database.url === "memory://" ? leasePglite(inject("pgliteTemplate")) : undefined,
    eventTarget: events.target,
    logger: options.logger,
    spanExporter: options.spanExporter,
    socketTimeouts: options.socketTimeouts,
  });
  if (options.seed) await seedShop(app.prisma, options.seed);
  return {
    app,
    prisma: app.prisma,
    subscribed: (topic, count) => events.listening(topic, count),
    subscribers: (topic) => events.listeners(topic),
    fetch: (request) => Promise.resolve(app.yoga.fetch(request)),
    async snapshot() {
      const [users, products, orders, items] = await Promise.all([
        app.prisma.user.findMany({ orderBy: { id: "asc" } }),
        app.prisma.product.findMany({ orderBy: { id: "asc" } }),
        app.prisma.order.findMany({ orderBy: { id: "asc" } }),
        app.prisma.orderItem.findMany({ orderBy: { id: "asc" } }),
      ]);
      return JSON.stringify({ users, products, orders, items });
    },
    token: testToken,
    async gql(query, variables, { strategy, headers, as = "admin", operationName } = {}) {
      const response = await app.yoga.fetch("http://shop.test/graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json",
          ...(strategy ? { [STRATEGY_HEADER]: strategy } : {}),
          ...(as === "anonymous" ? {} : { authorization: `Bearer ${await testToken(as)}` }),
          ...headers,
        },
        body: JSON.stringify({ query, variables, operationName }),
      });
      return (await response.json()) as GraphQLResponse;
    },
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

/** The data of a response that must have succeeded; fails the test with the errors otherwise. */
export function dataOf<D = any>(response: GraphQLResponse<D>): D {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return response.data as D;
}

/** The one error of a response that must have failed with exactly one. */
export function errorOf(response: GraphQLResponse): GraphQLErrorBody {
  if (response.errors?.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(response)}`);
  return response.errors[0]!;
}

/** Serves a test shop on a free local port (HTTP, SSE and WebSocket), as `npm start` does. */
export async function listen(shop: TestShop): Promise<{ url: string; wsUrl: string }> {
  return shop.app.listen("127.0.0.1");
}
