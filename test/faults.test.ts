/**
 * Faults caused for real, on PostgreSQL: a server that is not there, a database that is missing or
 * not migrated, statements and transactions that wait too long, a session the server ends for
 * idling in a transaction, a pool that is full, a database that goes away for ten seconds under a
 * steady load and comes back, and Redis lost under a subscription. Each answer is a code a client
 * can act on, the process keeps serving, and no unit of stock is lost.
 */

import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { promisify } from "node:util";
import { createClient as createSseClient } from "graphql-sse";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { faultOf } from "../src/db/faults.js";
import { seedShop } from "../src/db/seed.js";
import { maskError } from "../src/errors.js";
import { statementsSent } from "../src/sql/recorder.js";
import { gid } from "./support/ids.js";
import { capturedLog } from "./support/log.js";
import { tcpProxy } from "./support/proxy.js";
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
import { lockWaiters, waitFor } from "./support/wait.js";

const serverUrl = process.env.TEST_DATABASE_URL ? new URL(process.env.TEST_DATABASE_URL) : undefined;
/**
 * These faults are PostgreSQL's own, between the app and the server: proxies cut in between, and
 * timeouts set per test. Through PgBouncer (the `pgbouncer` project) the timeouts belong to the
 * pooler and the proxies would cut the wrong link, so the file runs in the `postgres` project only;
 * test/pooler.test.ts covers the pooler.
 */
const POSTGRES_ITSELF = testDatabaseKind === "postgres" && !throughPooler;
const BASE = { AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", RATE_LIMIT_PER_MINUTE: "0", SEED_DEMO: "0", PORT: "0" };

/** A database URL that goes through `port` on this machine instead of straight to the server. */
function through(url: string, port: number): string {
  const routed = new URL(url);
  routed.hostname = "127.0.0.1";
  routed.port = String(port);
  return routed.toString();
}

/** The test server's URL, naming another database. */
function withDatabase(name: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Posts an operation to an app as an admin (or as `token`), returning the body and how long it took. */
async function ask(app: App, query: string, variables?: Record<string, unknown>, token?: string, strategy = "eager") {
  const started = performance.now();
  const response = await app.yoga.fetch("http://faults.test/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-loading-strategy": strategy,
      authorization: `Bearer ${token ?? (await testToken("admin"))}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  return { body: (await response.json()) as GraphQLResponse, ms: performance.now() - started };
}

async function ready(app: App) {
  const response = await app.yoga.fetch("http://faults.test/ready");
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const codeOf = (body: GraphQLResponse) => body.errors?.[0]?.extensions?.code;

describe.runIf(POSTGRES_ITSELF)("start-up", () => {
  it("names the problem and the fix in one line: no server, no database, a refused login, not migrated", async () => {
    const closedPort = await tcpProxy({ host: "127.0.0.1", port: 1 });
    await closedPort.cut();
    const cases: [Record<string, string>, RegExp][] = [
      [
        { DATABASE_URL: `postgresql://postgres@127.0.0.1:${closedPort.port}/shop`, DATABASE_STARTUP_TIMEOUT_MS: "600" },
        /^PostgreSQL at 127\.0\.0\.1:\d+\/shop is not reachable after 1 s \(.*\)\. Start PostgreSQL, or check DATABASE_URL\.$/,
      ],
      [
        { DATABASE_URL: withDatabase("no_such_shop") },
        /^PostgreSQL at .*: database "no_such_shop" does not exist\. Create it \(createdb -h 127\.0\.0\.1 -p \d+( -U \w+)? no_such_shop\), then run npm run db:migrate\.$/,
      ],
      [
        { DATABASE_URL: `postgresql://nobody_here@127.0.0.1:${serverUrl!.port || 5432}/postgres` },
        /^PostgreSQL at .*: the server refused the login \(.*\)\. Check the user and password in DATABASE_URL\.$/,
      ],
    ];
    const empty = `shop_empty_${Date.now()}`;
    await onTestServer((client) => client.query(`CREATE DATABASE "${empty}"`));
    // Every migration of the history is pending on an empty database, oldest first.
    const history = readdirSync(new URL("../prisma/migrations", import.meta.url), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const pending = `is not migrated (${history.length} pending: ${history.join(", ")}). Run npm run db:migrate.`;
    cases.push([{ DATABASE_URL: withDatabase(empty) }, new RegExp(`${pending.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`)]);
    try {
      for (const [env, line] of cases) {
        const failure = await createApp(loadConfig({ ...BASE, ...env })).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(ConfigError);
        expect((failure as Error).message).not.toContain("\n");
        expect((failure as Error).message).toMatch(line);
      }
    } finally {
      await onTestServer((client) => client.query(`DROP DATABASE IF EXISTS "${empty}" WITH (FORCE)`));
    }
  });

  it("npm run db:migrate on a missing database: one line, exit 1", async () => {
    const failed = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/migrate.ts"], {
      cwd: new URL("..", import.meta.url),
      env: { ...process.env, DATABASE_URL: withDatabase("no_such_shop_to_migrate") },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /database "no_such_shop_to_migrate" does not exist\. Create it \(createdb .*\), then run npm run db:migrate\.$/,
      ),
    ]);
  });

  it("waits, with backoff, for a database that comes up after the server", async () => {
    const database = await freshDatabase();
    const proxy = await tcpProxy({ host: serverUrl!.hostname, port: Number(serverUrl!.port || 5432) });
    proxy.drop();
    const starting = createApp(
      loadConfig({ ...BASE, DATABASE_URL: through(database.url, proxy.port), DATABASE_STARTUP_TIMEOUT_MS: "20000" }),
    );
    // The server keeps trying while the database hangs up on it ...
    await waitFor(async () => proxy.connections >= 3);
    // ... and starts once it answers.
    await proxy.restore();
    const app = await starting;
    try {
      expect((await ready(app)).status).toBe(200);
    } finally {
      await app.close();
      await proxy.close();
      await database.drop();
    }
  });
});

describe.runIf(POSTGRES_ITSELF)("timeouts instead of hangs", () => {
  let app: App;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let holder: pg.Client;
  let poolOfTwo: Record<string, string>;

  beforeAll(async () => {
    database = await freshDatabase();
    poolOfTwo = {
      ...BASE,
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: "2",
      DATABASE_STATEMENT_TIMEOUT_MS: "700",
      DATABASE_POOL_TIMEOUT_MS: "400",
      DATABASE_TRANSACTION_WAIT_MS: "400",
    };
    app = await createApp(loadConfig(poolOfTwo));
    await seedShop(app.prisma, { users: 30, products: 10, ordersPerUser: 4, itemsPerOrder: 3 });
    holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await app?.close();
    await database?.drop();
  });

  it("a statement that waits on a lock answers TIMEOUT, rolls back, and leaves the pool usable", async () => {
    await holder.query("BEGIN");
    await holder.query(`SELECT * FROM "Product" WHERE "id" = 1 FOR UPDATE`);
    try {
      const before = await app.prisma.product.findUniqueOrThrow({ where: { id: 1 } });
      const res = await ask(app, `mutation { restockProduct(id: "${gid("Product", 1)}", quantity: 5) { stock } }`);
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "TIMEOUT", retryable: true });
      await holder.query("ROLLBACK");
      expect((await app.prisma.product.findUniqueOrThrow({ where: { id: 1 } })).stock).toBe(before.stock);
      expect(dataOf((await ask(app, `{ products(first: 1) { totalCount } }`)).body)).toEqual({ products: { totalCount: 10 } });
    } finally {
      await holder.query("ROLLBACK");
    }
  });

  it("a full pool answers SERVICE_UNAVAILABLE at once rather than queueing without end", async () => {
    await holder.query("BEGIN");
    await holder.query(`SELECT * FROM "Product" WHERE "id" IN (2, 3) FOR UPDATE`);
    try {
      // Two restocks wait on the locks and hold both connections of the pool ...
      const blocked = [2, 3].map((id) =>
        ask(app, `mutation { restockProduct(id: "${gid("Product", id)}", quantity: 1) { stock } }`),
      );
      await waitFor(async () => {
        const n = await lockWaiters(holder);
        return n === 2;
      });
      // ... so a third request cannot get one.
      const third = await ask(app, `{ users(first: 1) { totalCount } }`);
      expect(codeOf(third.body)).toBe("SERVICE_UNAVAILABLE");
      await holder.query("ROLLBACK");
      for (const res of await Promise.all(blocked)) expect(res.body.errors ?? []).toEqual([]);
    } finally {
      await holder.query("ROLLBACK");
    }
    expect(dataOf((await ask(app, `{ users(first: 1) { totalCount } }`)).body)).toEqual({ users: { totalCount: 30 } });
  });

  it("a hundred orders at once for twenty units on a pool of two: exactly twenty placed, the rest a code", async () => {
    const product = await app.prisma.product.update({ where: { id: 9 }, data: { stock: 20 } });
    const unitsOrdered = async () =>
      (await app.prisma.orderItem.aggregate({ where: { productId: product.id }, _sum: { quantity: true } }))._sum.quantity ?? 0;
    const orderedBefore = await unitsOrdered();
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => testToken({ customer: i + 1 })));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        ask(
          app,
          `mutation { createOrder(input: { items: [{ productId: "${gid("Product", product.id)}", quantity: 1 }] }) { id } }`,
          {},
          tokens[i % 10],
        ),
      ),
    );
    const codes = count(results.map((r) => codeOf(r.body) ?? "OK"));
    console.log(`100 orders for 20 units, pool of 2: ${JSON.stringify(codes)}`);
    expect(
      Object.keys(codes).filter(
        (code) => !["OK", "INSUFFICIENT_STOCK", "SERVICE_UNAVAILABLE", "TIMEOUT", "CONFLICT"].includes(code),
      ),
    ).toEqual([]);
    const placed = (await unitsOrdered()) - orderedBefore;
    const now = await app.prisma.product.findUniqueOrThrow({ where: { id: product.id } });
    // Every answer is the truth: as many OKs as units taken, and no unit lost.
    expect(codes.OK ?? 0).toBe(placed);
    expect(now.stock + placed).toBe(20);
  });

  it("fifty heavy requests on a pool of two: each request's share of the pool keeps them answering, orders stay exact", async () => {
    // Lazy: one statement per parent, some 500 per request, on a pool of two connections.
    const heavy = `{ users(first: 30) { edges { node { orders(first: 10) { items(first: 10) { product { name } } } } } } }`;
    const customer = await testToken({ customer: 1 });
    const burst = async (target: App) => {
      // Each answer is stamped with when it arrived, to compare the light requests with the heavy ones.
      let settled = 0;
      const stamped = (answer: Promise<{ body: GraphQLResponse; ms: number }>) =>
        answer.then((r) => {
          settled++;
          return { ...r, at: performance.now() };
        });
      const sentBefore = statementsSent();
      const heavyOnes = Array.from({ length: 50 }, (_, i) =>
        stamped(
          i % 10 === 0
            ? ask(
                target,
                `mutation { createOrder(input: { items: [{ productId: "${gid("Product", (i % 10) + 4)}", quantity: 1 }] }) { id } }`,
                {},
                customer,
              )
            : ask(target, heavy, undefined, undefined, "lazy"),
        ),
      );
      // The light requests come once the heavy ones are well under way (or all answered).
      await waitFor(async () => statementsSent() - sentBefore >= 300 || settled === 50, 4000);
      const lightOnes = Array.from({ length: 10 }, () => stamped(ask(target, `{ products(first: 1) { totalCount } }`)));
      const results = await Promise.all([...heavyOnes, ...lightOnes]);
      const codes = results.map((r) => codeOf(r.body) ?? "OK");
      return {
        results,
        codes,
        heavyOk: codes.filter((code, i) => i < 50 && i % 10 !== 0 && code === "OK").length,
        placed: codes.filter((code, i) => i < 50 && i % 10 === 0 && code === "OK").length,
      };
    };
    const stockBefore = (await app.prisma.product.aggregate({ _sum: { stock: true } }))._sum.stock!;
    // The same burst, side by side: with one statement in flight per request (half the pool), and
    // with no cap, where each lazy request sends thirty at once and crowds the queue for the pool.
    const uncapped = await createApp(loadConfig({ ...poolOfTwo, MAX_CONCURRENT_STATEMENTS: "1000" }));
    const without = await burst(uncapped).finally(() => uncapped.close());
    const capped = await burst(app);
    console.log(
      `45 lazy requests and 5 orders at once on a pool of two, then 10 light requests: ` +
        `one statement in flight per request ${JSON.stringify(count(capped.codes))}, ` +
        `no cap ${JSON.stringify(count(without.codes))}; ` +
        `light requests answered in ${Math.round(Math.max(...capped.results.slice(50).map((r) => r.ms)))} ms at most`,
    );
    for (const { codes, results } of [without, capped]) {
      expect(codes.filter((code) => !["OK", "SERVICE_UNAVAILABLE", "TIMEOUT"].includes(code))).toEqual([]);
      // Bounded by the timeouts (pool 0.4 s, statement 0.7 s), never the minutes an unbounded queue takes.
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(20_000);
    }
    // With the cap more heavy requests complete; without it they time out waiting for the pool.
    expect(capped.heavyOk).toBeGreaterThan(without.heavyOk + 10);
    // The light requests go before the heavy ones' next statements: they get their data while the
    // heavy ones still run.
    expect(capped.codes.slice(50)).toEqual(Array(10).fill("OK"));
    const lastHeavy = Math.max(...capped.results.slice(0, 50).map((r) => r.at));
    expect(capped.results.slice(50).every((r) => r.at < lastHeavy)).toBe(true);
    // Afterwards the server serves normally, and every unit of stock is accounted for.
    expect(dataOf((await ask(app, `{ products(first: 1) { totalCount } }`)).body)).toEqual({ products: { totalCount: 10 } });
    const after = (await app.prisma.product.aggregate({ _sum: { stock: true } }))._sum.stock;
    expect(after).toBe(stockBefore - without.placed - capped.placed);
  });
});

describe.runIf(POSTGRES_ITSELF)("a session the server ends for idling in a transaction (25P03)", () => {
  /** Resolves once PostgreSQL no longer runs the backend `pid`. */
  const ended = (pid: number) =>
    waitFor(() =>
      onTestServer(async (client) => (await client.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).rowCount === 0),
    );

  it("is TIMEOUT, retryable, as PostgreSQL reports it to the connection", async () => {
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    // The listener stays: the hang-up that follows the server's report is an error event too.
    const first = new Promise<Error>((resolve) => client.on("error", resolve));
    await client.connect();
    try {
      await client.query("SET idle_in_transaction_session_timeout = 50");
      await client.query("BEGIN");
      const error = await first;
      expect(error).toMatchObject({ code: "25P03", severity: "FATAL" });
      expect(faultOf(error)).toEqual({ code: "TIMEOUT", kind: "25P03", detail: error.message });
      const log = capturedLog("warn");
      expect(maskError(error, log.logger)).toMatchObject({ extensions: { code: "TIMEOUT", retryable: true } });
      expect(log.lines).toMatchObject([{ level: 40, msg: "database fault", err: { code: "25P03" } }]);
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  it("is TIMEOUT through Prisma when the next statement crosses the server's hang-up, and the pool recovers", async () => {
    const database = await freshDatabase();
    const proxy = await tcpProxy({ host: serverUrl!.hostname, port: Number(serverUrl!.port || 5432) });
    // The server's idle_in_transaction_session_timeout is DATABASE_TRANSACTION_TIMEOUT_MS; Prisma's
    // own timeout is the same, so either may end a transaction first. This one lets the server win.
    const app = await createApp(
      loadConfig({ ...BASE, DATABASE_URL: through(database.url, proxy.port), DATABASE_TRANSACTION_TIMEOUT_MS: "200" }),
    );
    try {
      const failure = await app.prisma
        .$transaction(
          async (tx) => {
            const [backend] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
            proxy.hold();
            await ended(backend!.pid);
            // The statement leaves before the server's farewell arrives: it is that statement's answer.
            // (`then` sends it: a Prisma query is sent when it is first awaited.)
            const next = tx.$queryRaw`SELECT 1`.then(() => undefined);
            await proxy.clientSent();
            proxy.release();
            await next;
          },
          { timeout: 30_000 },
        )
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: "P2010", meta: { driverAdapterError: { cause: { originalCode: "25P03" } } } });
      expect(faultOf(failure)).toMatchObject({ code: "TIMEOUT", kind: "25P03" });
      expect(maskError(failure, capturedLog("warn").logger)).toMatchObject({
        message: "The database took too long to answer; try again.",
        extensions: { code: "TIMEOUT", retryable: true },
      });
      expect(dataOf((await ask(app, `{ products(first: 1) { totalCount } }`)).body)).toEqual({ products: { totalCount: 0 } });
    } finally {
      proxy.release();
      await app.close();
      await proxy.close();
      await database.drop();
    }
  });
});

describe.runIf(POSTGRES_ITSELF)("a database outage of ten seconds under load", () => {
  it("fails fast with codes, reports not ready, recovers, and loses no unit of stock", async () => {
    const database = await freshDatabase();
    const proxy = await tcpProxy({ host: serverUrl!.hostname, port: Number(serverUrl!.port || 5432) });
    const app = await createApp(loadConfig({ ...BASE, DATABASE_URL: through(database.url, proxy.port), DATABASE_POOL_MAX: "4" }));
    try {
      await seedShop(app.prisma, { users: 10, products: 5, ordersPerUser: 0, itemsPerOrder: 1 });
      const start = await app.prisma.product.findMany({ select: { id: true, stock: true }, orderBy: { id: "asc" } });
      const tokens = await Promise.all(Array.from({ length: 4 }, (_, i) => testToken({ customer: i + 1 })));
      let phase: "before" | "down" | "after" = "before";
      const seen: Record<string, { ms: number; code: string }[]> = { before: [], down: [], after: [] };
      let running = true;
      const load = Array.from({ length: 4 }, async (_, worker) => {
        for (let i = 0; running; i++) {
          const atPhase = phase;
          const res =
            i % 2
              ? await ask(app, `{ products(first: 5) { edges { node { stock } } } }`)
              : await ask(
                  app,
                  `mutation { createOrder(input: { items: [{ productId: "${gid("Product", (i % 5) + 1)}", quantity: 1 }] }) { id } }`,
                  {},
                  tokens[worker],
                );
          if (atPhase === phase) seen[phase]!.push({ ms: res.ms, code: codeOf(res.body) ?? "OK" });
        }
      });
      await waitFor(async () => seen.before!.length >= 20);

      await proxy.cut();
      const cutAt = performance.now();
      phase = "down";
      let notReadyAfter = Number.NaN;
      let notReady: unknown;
      while (performance.now() - cutAt < 10_000) {
        const r = await ready(app);
        if (r.status === 503 && Number.isNaN(notReadyAfter)) notReadyAfter = performance.now() - cutAt;
        if (r.status === 503) notReady = r.body;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // It says what is unavailable, never where it is or what the driver said (that is in the log).
      expect(notReady).toMatchObject({ status: "unavailable", database: "unavailable" });
      expect(JSON.stringify(notReady)).not.toMatch(/127\.0\.0\.1|reach|:\d{4,5}/);
      await proxy.restore();
      const restoredAt = performance.now();
      phase = "after";
      await waitFor(async () => seen.after!.some((r) => r.code === "OK"), 2000);
      const recoveredAfter = performance.now() - restoredAt;
      running = false;
      await Promise.all(load);

      const down = seen.down!;
      console.log(
        `outage: ${down.length} requests during 10 s down, slowest ${Math.round(Math.max(...down.map((r) => r.ms)))} ms, codes ${JSON.stringify(count(down.map((r) => r.code)))}; /ready 503 after ${Math.round(notReadyAfter)} ms; first success ${Math.round(recoveredAfter)} ms after the restart`,
      );
      expect(down.length).toBeGreaterThan(10);
      expect(down.filter((r) => r.code === "OK" || r.code === "SERVICE_UNAVAILABLE" || r.code === "TIMEOUT").length).toBe(
        down.length,
      );
      expect(Math.max(...down.map((r) => r.ms))).toBeLessThan(2_000);
      expect(notReadyAfter).toBeLessThan(5_000);
      expect(recoveredAfter).toBeLessThan(5_000);
      expect((await ready(app)).status).toBe(200);
      // No partial order: for every product, stock + units ordered = where it started.
      for (const product of start) {
        const now = await app.prisma.product.findUniqueOrThrow({ where: { id: product.id } });
        const ordered = await app.prisma.orderItem.aggregate({ where: { productId: product.id }, _sum: { quantity: true } });
        expect(now.stock + (ordered._sum.quantity ?? 0)).toBe(product.stock);
      }
    } finally {
      await app.close();
      await proxy.close();
      await database.drop();
    }
  });
});

function count(codes: string[]) {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

describe.runIf(POSTGRES_ITSELF && process.env.TEST_REDIS_URL)("Redis lost under a subscription", () => {
  it("queries and orders keep working, /ready says so, and the subscription resumes when Redis is back", async () => {
    const redisUrl = new URL(process.env.TEST_REDIS_URL!);
    const proxy = await tcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    const database = await freshDatabase();
    const app = await createApp(
      loadConfig({ ...BASE, DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${proxy.port}` }),
    );
    const { url } = await app.listen("127.0.0.1");
    const client = createSseClient({ url, retryAttempts: 0 });
    try {
      await seedShop(app.prisma, { users: 3, products: 2, ordersPerUser: 0, itemsPerOrder: 1 });
      const watch = client.iterate<{ productStockChanged: { stock: number } }>({
        query: `subscription { productStockChanged(productId: "${gid("Product", 1)}") { stock } }`,
      });
      const first = watch.next();
      const redis = new Redis(process.env.TEST_REDIS_URL!);
      const subscribed = async () =>
        Number(((await redis.pubsub("NUMSUB", "productStockChanged:1")) as [string, number])[1]) >= 1;
      await waitFor(subscribed);

      await proxy.cut();
      await waitFor(async () => (await ready(app)).status === 503);
      expect((await ready(app)).body.redis).toBe("unavailable");
      const token = await testToken({ customer: 1 });
      const during = await ask(
        app,
        `mutation { createOrder(input: { items: [{ productId: "${gid("Product", 2)}", quantity: 1 }] }) { id } }`,
        {},
        token,
      );
      expect(during.body.errors ?? []).toEqual([]);

      await proxy.restore();
      await waitFor(async () => (await ready(app)).status === 200, 1000);
      // Redis itself says when the server's subscriber is back on the channel ...
      await waitFor(subscribed, 1000);
      redis.disconnect();
      // ... and an order placed now reaches the subscription opened before Redis went away.
      const placed = await ask(
        app,
        `mutation { createOrder(input: { items: [{ productId: "${gid("Product", 1)}", quantity: 1 }] }) { id } }`,
        {},
        token,
      );
      expect(placed.body.errors ?? []).toEqual([]);
      const stock = (await app.prisma.product.findUniqueOrThrow({ where: { id: 1 } })).stock;
      expect((await first).value?.data?.productStockChanged).toEqual({ stock });
    } finally {
      client.dispose();
      await app.close();
      await proxy.close();
      await database.drop();
    }
  });
});
