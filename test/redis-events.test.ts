/**
 * Events across server instances: two apps on one PostgreSQL database and one Redis, each with its
 * own Redis connections, as two processes would have; a subscriber on the first sees the order
 * placed through the second.
 */
import { createClient } from "graphql-sse";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { seedShop } from "../src/seed.js";
import { gid } from "./support/ids.js";
import { dataOf, freshDatabase, type GraphQLResponse, TEST_SECRET, testDatabaseKind, testToken } from "./support/shop.js";

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
});
