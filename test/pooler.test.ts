/**
 * Through PgBouncer in transaction mode (`DATABASE_URL=…?pgbouncer=true`): the server sends no
 * session settings when it connects, which PgBouncer refuses, and relies on the pooler's own
 * connections for its timeouts, which the start checks. Against PostgreSQL itself (the settings
 * made per database, as `connect_query` makes them per connection) and, where PgBouncer is
 * installed (CI installs it), through a real one started with deploy/pgbouncer.ini.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.js";
import { freePort, pgbouncerFiles } from "../src/bench/processes.js";
import { ConfigError, loadConfig, parseDatabaseUrl } from "../src/config.js";
import { faultOf } from "../src/db/faults.js";
import { seedShop } from "../src/db/seed.js";
import { gid } from "./support/ids.js";
import {
  dataOf,
  freshDatabase,
  type GraphQLResponse,
  onTestServer,
  TEST_SECRET,
  testDatabaseKind,
  testToken,
  throughPooler,
} from "./support/shop.js";
import { waitFor } from "./support/wait.js";

const BASE = { AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", RATE_LIMIT_PER_MINUTE: "0", SEED_DEMO: "0", PORT: "0" };
const PGBOUNCER = spawnSync("pgbouncer", ["--version"]).status === 0;

const withPooler = (url: string) => {
  const routed = new URL(url);
  routed.searchParams.set("pgbouncer", "true");
  return routed.toString();
};

describe("DATABASE_URL with pgbouncer=true", () => {
  it("marks the pool as going through PgBouncer, and PostgreSQL's drivers never see the parameter", () => {
    expect(parseDatabaseUrl("postgresql://shop@pool:6432/shop?pgbouncer=true&sslmode=disable")).toMatchObject({
      kind: "postgres",
      url: "postgresql://shop@pool:6432/shop?sslmode=disable",
      pooler: true,
      label: "PostgreSQL at pool:6432/shop through PgBouncer",
    });
    expect(parseDatabaseUrl("postgresql://shop@db:5432/shop")).toMatchObject({ pooler: false });
  });
});

// These start their own pooler or connect straight to PostgreSQL: the `pgbouncer` project's shops already go through one.
describe.runIf(testDatabaseKind === "postgres" && !throughPooler)("through a connection pooler", () => {
  it("refuses to start, saying what to set, when the pooler's connections lack the timeouts", async () => {
    const database = await freshDatabase();
    try {
      const started = createApp(loadConfig({ ...BASE, DATABASE_URL: withPooler(database.url) }));
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(
        "its connections run with idle_in_transaction_session_timeout=0, statement_timeout=0; set connect_query = 'SET statement_timeout = 10000; SET idle_in_transaction_session_timeout = 10000' for this database in pgbouncer.ini",
      );
    } finally {
      await database.drop();
    }
  });

  it("starts when they carry them, and PostgreSQL's statement timeout still ends a slow statement", async () => {
    const database = await freshDatabase();
    const name = new URL(database.url).pathname.slice(1);
    // What connect_query does per connection, done here per database.
    await onTestServer(async (client) => {
      await client.query(`ALTER DATABASE "${name}" SET statement_timeout = 600`);
      await client.query(`ALTER DATABASE "${name}" SET idle_in_transaction_session_timeout = 5000`);
    });
    const app = await createApp(
      loadConfig({
        ...BASE,
        DATABASE_URL: withPooler(database.url),
        DATABASE_STATEMENT_TIMEOUT_MS: "600",
        DATABASE_TRANSACTION_TIMEOUT_MS: "5000",
      }),
    );
    try {
      const failure = await app.prisma.$queryRaw`SELECT pg_sleep(3)`.catch((error: unknown) => error);
      expect(faultOf(failure)).toMatchObject({ code: "TIMEOUT" });
      expect(await app.prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});

describe.runIf(testDatabaseKind === "postgres" && !throughPooler && PGBOUNCER)(
  "through PgBouncer in transaction mode (deploy/pgbouncer.ini)",
  () => {
    let dir: string;
    let bouncer: ChildProcess;
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let apps: App[];

    beforeAll(async () => {
      database = await freshDatabase();
      dir = mkdtempSync(join(tmpdir(), "shop-pgbouncer-"));
      const port = await freePort();
      const { command, args } = pgbouncerFiles(database.url, port, dir);
      bouncer = spawn(command, args, { stdio: "ignore" });
      await waitFor(
        () =>
          new Promise<boolean>((resolve) => {
            const socket = connect(port, "127.0.0.1", () => {
              socket.end();
              resolve(true);
            });
            socket.once("error", () => resolve(false));
          }),
      );
      const url = new URL(database.url);
      url.host = `127.0.0.1:${port}`;
      url.pathname = "/shop";
      // Two instances on one pooler, each with a pool of 4: more client connections than PostgreSQL sees.
      const config = loadConfig({ ...BASE, DATABASE_URL: withPooler(url.toString()), DATABASE_POOL_MAX: "4" });
      apps = [await createApp(config), await createApp(config)];
      await seedShop(apps[0]!.prisma, { users: 4, products: 1, ordersPerUser: 0, itemsPerOrder: 1 });
      await apps[0]!.prisma.product.update({ where: { id: 1 }, data: { stock: 30 } });
    });

    afterAll(async () => {
      for (const app of apps ?? []) await app.close();
      bouncer?.kill("SIGTERM");
      if (bouncer && bouncer.exitCode === null) await new Promise((resolve) => bouncer.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
      await database?.drop();
    });

    it("serves queries and orders from two instances at once: sixty orders for thirty units, exactly thirty placed", async () => {
      const token = await testToken("admin");
      const order = async (app: App, user: number): Promise<GraphQLResponse> => {
        const response = await app.yoga.fetch("http://shop.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({
            query: `mutation { createOrder(input: { userId: "${gid("User", user)}", items: [{ productId: "${gid("Product", 1)}", quantity: 1 }] }) { id } }`,
          }),
        });
        return (await response.json()) as GraphQLResponse;
      };
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => order(apps[i % 2]!, 1 + (i % 4))));
      const placed = answers.filter((answer) => answer.data?.createOrder);
      const codes = answers.flatMap((answer) => answer.errors?.map((error) => error.extensions?.code) ?? []);
      expect(placed).toHaveLength(30);
      expect(new Set(codes)).toEqual(new Set(["INSUFFICIENT_STOCK"]));
      expect(await apps[1]!.prisma.product.findUniqueOrThrow({ where: { id: 1 }, select: { stock: true } })).toEqual({
        stock: 0,
      });
      const { orders } = dataOf(
        (await (
          await apps[1]!.yoga.fetch("http://shop.test/graphql", {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-loading-strategy": "batched" },
            body: JSON.stringify({ query: "{ orders { totalCount } }" }),
          })
        ).json()) as GraphQLResponse<{ orders: { totalCount: number } }>,
      );
      expect(orders.totalCount).toBe(30);
    });
  },
);
