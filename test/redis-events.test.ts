/**
 * Events across server instances: two server processes on one PostgreSQL database and one Redis;
 * a subscriber on the first sees the order placed through the second.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createClient } from "graphql-sse";
import { describe, expect, it } from "vitest";
import { type ServerProcess, startServer } from "./support/process.js";
import { freshDatabase, testDatabaseKind } from "./support/shop.js";

const redisUrl = process.env.TEST_REDIS_URL;

describe.runIf(testDatabaseKind === "postgres" && redisUrl)("two server instances with REDIS_URL", () => {
  it("deliver an order placed on one to a subscriber on the other", async () => {
    const database = await freshDatabase();
    if (database.config.kind !== "postgres") throw new Error("needs PostgreSQL");
    const env = { DATABASE_URL: database.config.url, REDIS_URL: redisUrl!, SEED_DEMO: "1" };
    await promisify(execFile)(process.execPath, ["--import", "tsx", "src/migrate-cli.ts"], {
      cwd: new URL("..", import.meta.url),
      env: { ...process.env, ...env },
    });
    const servers: ServerProcess[] = [];
    try {
      servers.push(startServer(env));
      const first = await servers[0]!.ready();
      servers.push(startServer({ ...env, SEED_DEMO: "0" }));
      const second = await servers[1]!.ready();
      expect(servers[0]!.output()).toContain("events through Redis");

      const client = createClient({ url: first });
      const events = client.iterate<{ orderCreated: { id: string; user: { name: string } } }>({
        query: "subscription { orderCreated { id user { name } } }",
      });
      const next = events.next();
      const placeOrder = async () => {
        const response = await fetch(second, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: `mutation { createOrder(input: { userId: "${Buffer.from("User:1").toString("base64")}", items: [{ productId: "${Buffer.from("Product:1").toString("base64")}", quantity: 1 }] }) { id } }`,
          }),
        });
        const placed = (await response.json()) as { data?: { createOrder: { id: string } }; errors?: unknown };
        expect(placed.errors).toBeUndefined();
        return placed.data!.createOrder.id;
      };
      // The subscriber's Redis SUBSCRIBE completes at its own pace, in another process: place an
      // order every second until one arrives (an order placed before it listened is simply missed).
      const placedIds: string[] = [];
      let event: Awaited<typeof next> | undefined;
      for (let attempt = 0; attempt < 15 && !event; attempt++) {
        placedIds.push(await placeOrder());
        event = await Promise.race([next, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000))]);
      }
      expect(event, "no event reached the subscriber on the other instance").toBeDefined();
      expect(placedIds).toContain(event!.value.data?.orderCreated.id);
      await events.return?.();
      client.dispose();
    } finally {
      for (const server of servers) await server.stop();
      await database.drop();
    }
  });
});
