/**
 * Events across server instances: two apps on one PostgreSQL database and one Redis, each with its
 * own Redis connections, as two processes would have; a subscriber on the first sees the order
 * placed through the second. With Redis cut off from one instance, that instance's own
 * subscribers still see what it commits.
 */

import { createHash } from "node:crypto";
import { createClient } from "graphql-sse";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { seedShop } from "../src/db/seed.js";
import { gid } from "./support/ids.js";
import { capturedLog } from "./support/log.js";
import { tcpProxy } from "./support/proxy.js";
import { dataOf, freshDatabase, type GraphQLResponse, TEST_SECRET, testDatabaseKind, testToken } from "./support/shop.js";
import { waitFor } from "./support/wait.js";

const redisUrl = process.env.TEST_REDIS_URL;

/** How many connections Redis counts as subscribed to a channel. */
async function subscribers(redis: Redis, channel: string): Promise<number> {
  const [, count] = (await redis.pubsub("NUMSUB", channel)) as [string, number];
  return Number(count);
}

describe.runIf(testDatabaseKind === "postgres" && redisUrl)("two server instances with REDIS_URL", () => {
  it("deliver an order placed on one to a subscriber on the other", async () => {
    const database = await freshDatabase();
    const config = loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl!,
      PORT: "0",
      SEED_DEMO: "0",
      AUTH_JWT_SECRET: TEST_SECRET,
    });
    const apps: App[] = [];
    const redis = new Redis(redisUrl!);
    try {
      apps.push(await createApp(config));
      apps.push(await createApp(config));
      const [first, second] = apps as [App, App];
      await seedShop(first.prisma, { users: 2, products: 2, ordersPerUser: 0, itemsPerOrder: 1 });
      const { url } = await first.listen("127.0.0.1");
      const token = await testToken("admin");
      const client = createClient({ url, headers: { authorization: `Bearer ${token}` } });
      const events = client.iterate<{ orderCreated: { id: string; user: { name: string } } }>({
        query: "subscription { orderCreated { id user { name } } }",
      });
      const before = await subscribers(redis, "orderCreated");
      const next = events.next();
      // Redis tells when the first app's SUBSCRIBE is through: from then on, an event reaches it.
      for (let i = 0; (await subscribers(redis, "orderCreated")) <= before; i++) {
        if (i > 1000) throw new Error("the first app never subscribed in Redis");
      }

      const response = await second.yoga.fetch("http://second/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: `mutation { createOrder(input: { userId: "${gid("User", 1)}", items: [{ productId: "${gid("Product", 1)}", quantity: 1 }] }) { id } }`,
        }),
      });
      const placed = dataOf((await response.json()) as GraphQLResponse<{ createOrder: { id: string } }>);
      const event = await next;
      expect(event.value.data?.orderCreated.id).toBe(placed.createOrder.id);
      await events.return?.();
      client.dispose();
    } finally {
      redis.disconnect();
      for (const app of apps) await app.close();
      await database.drop();
    }
  });

  it("while Redis is out of reach, deliver what an instance commits to its own subscribers, with a warning; then cross again", async () => {
    const database = await freshDatabase();
    const redisAt = new URL(redisUrl!);
    const proxy = await tcpProxy({ host: redisAt.hostname, port: Number(redisAt.port || 6379) });
    const env = {
      DATABASE_URL: database.url,
      PORT: "0",
      SEED_DEMO: "0",
      AUTH_JWT_SECRET: TEST_SECRET,
      RATE_LIMIT_PER_MINUTE: "0",
    };
    let onWarning: (() => void) | undefined;
    const log = capturedLog("warn", () => onWarning?.());
    const apps: App[] = [];
    const redis = new Redis(redisUrl!);
    const clients: ReturnType<typeof createClient>[] = [];
    try {
      // The first instance reaches Redis through the proxy, the second directly.
      apps.push(await createApp(loadConfig({ ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` }), { logger: log.logger }));
      apps.push(await createApp(loadConfig({ ...env, REDIS_URL: redisUrl!, LOG_LEVEL: "silent" })));
      const [first, second] = apps as [App, App];
      await seedShop(first.prisma, { users: 2, products: 2, ordersPerUser: 0, itemsPerOrder: 1 });
      const token = await testToken("admin");
      const watch = async (app: App) => {
        const client = createClient({ url: (await app.listen("127.0.0.1")).url, headers: { authorization: `Bearer ${token}` } });
        clients.push(client);
        return client.iterate<{ orderCreated: { id: string } }>({ query: "subscription { orderCreated { id } }" });
      };
      const order = async (app: App) => {
        const response = await app.yoga.fetch("http://shop.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({
            query: `mutation { createOrder(input: { userId: "${gid("User", 1)}", items: [{ productId: "${gid("Product", 1)}", quantity: 1 }] }) { id } }`,
          }),
        });
        return dataOf((await response.json()) as GraphQLResponse<{ createOrder: { id: string } }>).createOrder.id;
      };
      // Redis counts both instances' SUBSCRIBE: from then on an event published reaches both.
      const subscribed = async () => Number(((await redis.pubsub("NUMSUB", "orderCreated")) as [string, number])[1]) >= 2;
      const onFirst = await watch(first);
      const onSecond = await watch(second);
      const [firstNext, secondNext] = [onFirst.next(), onSecond.next()];
      await waitFor(subscribed);

      await proxy.cut();
      // The order publishes two events: the new order, and product 1's stock.
      const topics = ["orderCreated", "productStockChanged:1"];
      const warned = new Promise<void>((resolve) => {
        onWarning = () => log.lines.filter((line) => line.topic).length === topics.length && resolve();
      });
      const during = await order(first);
      expect((await firstNext).value.data?.orderCreated.id).toBe(during);
      await warned;
      expect(log.lines.filter((line) => line.topic)).toEqual(
        topics.map((topic) =>
          expect.objectContaining({
            level: 40,
            topic,
            // ioredis' reason in parentheses: it gave up on the command after its retries.
            msg: expect.stringMatching(
              new RegExp(
                `^Redis PUBLISH of ${topic} failed \\(.*max retries.*\\): delivered to this instance's subscribers only$`,
              ),
            ),
          }),
        ),
      );

      await proxy.restore();
      // Both of the first instance's connections answer again, and its subscriber is back on the channel.
      await waitFor(async () => (await first.yoga.fetch("http://shop.test/ready")).status === 200);
      await waitFor(subscribed);
      const after = await order(first);
      // The second instance heard of the order placed during the outage only if Redis took its
      // PUBLISH after all (written before the cut was seen): then once, before this one.
      const heard: string[] = [(await secondNext).value.data?.orderCreated.id];
      if (heard[0] === during) heard.push((await onSecond.next()).value.data?.orderCreated.id);
      expect(heard.at(-1)).toBe(after);
      // The first instance's subscriber had it at once; a second time too, if Redis took it after all.
      let mine = (await onFirst.next()).value.data?.orderCreated.id;
      if (mine === during) mine = (await onFirst.next()).value.data?.orderCreated.id;
      expect(mine).toBe(after);
      expect(log.lines.filter((line) => line.topic)).toHaveLength(topics.length);
      await onFirst.return?.();
      await onSecond.return?.();
    } finally {
      for (const client of clients) client.dispose();
      redis.disconnect();
      for (const app of apps) await app.close();
      await proxy.close();
      await database.drop();
    }
  });

  it("share automatic persisted queries: a document registered on one runs by its hash on the other; without Redis, the client sends its text again", async () => {
    const database = await freshDatabase();
    const redisAt = new URL(redisUrl!);
    const proxy = await tcpProxy({ host: redisAt.hostname, port: Number(redisAt.port || 6379) });
    const env = { DATABASE_URL: database.url, PORT: "0", SEED_DEMO: "0", AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent" };
    const apps: App[] = [];
    const redis = new Redis(redisUrl!);
    // A document no earlier run registered: Redis outlives test runs.
    const query = `query Catalogue { products(first: 2) { totalCount } } # ${Date.now()} ${Math.random()}`;
    const hash = createHash("sha256").update(query).digest("hex");
    const persistedQuery = { version: 1, sha256Hash: hash };
    const send = async (app: App, body: object) => {
      const response = await app.yoga.fetch("http://shop.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as GraphQLResponse<{ products: { totalCount: number } }> };
    };
    try {
      apps.push(await createApp(loadConfig({ ...env, REDIS_URL: redisUrl! })));
      apps.push(await createApp(loadConfig({ ...env, REDIS_URL: redisUrl! })));
      apps.push(await createApp(loadConfig({ ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` })));
      apps.push(await createApp(loadConfig(env)));
      const [first, second, behindProxy, alone] = apps as [App, App, App, App];
      await seedShop(first.prisma, { users: 1, products: 3, ordersPerUser: 0, itemsPerOrder: 1 });

      expect((await send(second, { extensions: { persistedQuery } })).status).toBe(404);
      expect(dataOf((await send(first, { query, extensions: { persistedQuery } })).body)).toEqual({
        products: { totalCount: 3 },
      });
      // The plugin stores what it checked; Redis keeps it for a day.
      expect(await redis.get(`shop-apq:${hash}`)).toBe(query);
      expect(await redis.ttl(`shop-apq:${hash}`)).toBeGreaterThan(86_000);
      expect(dataOf((await send(second, { extensions: { persistedQuery } })).body)).toEqual({ products: { totalCount: 3 } });
      // An instance without Redis knows only what it was sent itself.
      const unknown = await send(alone, { extensions: { persistedQuery } });
      expect([unknown.status, unknown.body.errors?.[0]?.extensions?.code]).toEqual([404, "PERSISTED_QUERY_NOT_FOUND"]);

      // Redis out of reach: the hash alone is unknown, the text with it runs, and nothing fails.
      await proxy.cut();
      const cut = await send(behindProxy, { extensions: { persistedQuery } });
      expect([cut.status, cut.body.errors?.[0]?.extensions?.code]).toEqual([404, "PERSISTED_QUERY_NOT_FOUND"]);
      expect(dataOf((await send(behindProxy, { query, extensions: { persistedQuery } })).body)).toEqual({
        products: { totalCount: 3 },
      });
      // And this instance now knows it, Redis or not.
      expect(dataOf((await send(behindProxy, { extensions: { persistedQuery } })).body)).toEqual({ products: { totalCount: 3 } });
      await proxy.restore();
    } finally {
      redis.disconnect();
      for (const app of apps) await app.close();
      await proxy.close();
      await database.drop();
    }
  });
});
