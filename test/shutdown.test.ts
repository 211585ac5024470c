/**
 * Stopping the server without losing a write, with a real process (as `npm start` runs it) on
 * PostgreSQL: on SIGTERM it ends open subscriptions (SSE completes, WebSocket closes with 1001),
 * answers every request a client has already sent (none is reset), lets orders that are in the
 * middle of their transactions commit and answer even past a short grace, closes the pool and
 * exits 0.
 */
import { Agent, request as httpRequest } from "node:http";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import pg from "pg";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { dbIdOf, gid } from "./support/ids.js";
import { START_TIMEOUT_MS, startServer } from "./support/process.js";
import { freshDatabase, TEST_SECRET, testDatabaseKind, testToken } from "./support/shop.js";
import { lockWaiters, waitFor } from "./support/wait.js";

describe.runIf(testDatabaseKind === "postgres")("SIGTERM", () => {
  it(
    "finishes the twenty orders in flight past a 300 ms grace, ends subscriptions properly, and exits 0",
    async () => {
      const database = await freshDatabase();
      const server = startServer({
        DATABASE_URL: database.url,
        SEED_DEMO: "1",
        AUTH_JWT_SECRET: TEST_SECRET,
        // Far shorter than the orders below wait: past it, their transactions still commit and answer.
        SHUTDOWN_GRACE_MS: "300",
        // Room for all twenty orders to be inside their transactions at once.
        DATABASE_POOL_MAX: "25",
      });
      const holder = new pg.Client({ connectionString: database.url });
      try {
        const url = await server.ready();
        const origin = new URL(url).origin;
        const readiness = async () =>
          (await (await fetch(`${origin}/ready`)).json()) as { status: string; subscriptions: number };
        const watch = `subscription { productStockChanged(productId: "${gid("Product", 2)}") { stock } }`;

        const sse = createSseClient({ url, retryAttempts: 0 });
        const sseNext = sse.iterate({ query: watch }).next();
        let wsClosed: number | undefined;
        const ws = createWsClient({
          url: url.replace("http", "ws"),
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          on: { closed: (event) => (wsClosed = (event as { code: number }).code) },
        });
        const wsNext = ws
          .iterate({ query: watch })
          .next()
          .catch((error: unknown) => error);
        await waitFor(async () => (await readiness()).subscriptions === 2);

        // Twenty orders in the middle of their transactions: they wait on a row lock this test holds.
        await holder.connect();
        await holder.query("BEGIN");
        const product = (await holder.query(`SELECT "id" FROM "Product" WHERE "stock" >= 20 ORDER BY "id" LIMIT 1 FOR UPDATE`))
          .rows[0].id;
        const token = await testToken({ customer: 1 });
        const orders = Array.from({ length: 20 }, () =>
          fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: JSON.stringify({
              query: `mutation { createOrder(input: { items: [{ productId: "${gid("Product", product)}", quantity: 1 }] }) { id } }`,
            }),
          }),
        );
        await waitFor(async () => (await lockWaiters(holder)) === 20);

        server.child.kill("SIGTERM");
        // Subscriptions end properly: SSE completes, the WebSocket closes with 1001 (going away).
        expect((await sseNext).done).toBe(true);
        await wsNext;
        await waitFor(async () => wsClosed !== undefined);
        expect(wsClosed).toBe(1001);
        // The grace is over: it no longer accepts connections, while the orders still wait for their lock.
        await waitFor(async () =>
          fetch(`${origin}/health`).then(
            () => false,
            () => true,
          ),
        );
        expect(await lockWaiters(holder)).toBe(20);

        await holder.query("COMMIT");
        // Every order answers (no connection reset) and every answer is a committed order.
        const responses = await Promise.all(orders);
        expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
        const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
          data?: { createOrder: { id: string } };
          errors?: unknown;
        }[];
        expect(bodies.filter((body) => body.errors)).toEqual([]);
        expect(await server.exited).toBe(0);

        const committed = await holder.query(`SELECT count(*)::int AS n FROM "Order" WHERE "id" = ANY($1)`, [
          bodies.map((body) => dbIdOf(body.data!.createOrder.id)),
        ]);
        expect(committed.rows[0].n).toBe(20);
        sse.dispose();
      } finally {
        await holder.end().catch(() => undefined);
        await server.stop();
        await database.drop();
      }
    },
    START_TIMEOUT_MS * 2,
  );
});

describe.runIf(testDatabaseKind === "postgres")("SIGTERM as requests arrive", () => {
  /** A createOrder for one unit of `product`, as customer 1. */
  const orderBody = (product: number) =>
    JSON.stringify({
      query: `mutation { createOrder(input: { items: [{ productId: "${gid("Product", product)}", quantity: 1 }] }) { id } }`,
    });

  /** POSTs over node:http with `agent`; a socket error is an answer too: `{ status: 0, error }`. */
  const post = (url: string, agent: Agent, headers: Record<string, string>, body: string) =>
    new Promise<{ status: number; body?: { data?: any; errors?: any[] }; error?: string }>((resolve) => {
      const request = httpRequest(
        url,
        { method: "POST", agent, headers: { "content-type": "application/json", ...headers } },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => resolve({ status: response.statusCode!, body: text ? JSON.parse(text) : undefined }));
          response.on("error", (error) => resolve({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }));
        },
      );
      request.on("error", (error) => resolve({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }));
      request.end(body);
    });

  it(
    "answers every request already sent: twenty on open keep-alive connections and twenty on new ones, none reset",
    async () => {
      const database = await freshDatabase();
      const server = startServer({ DATABASE_URL: database.url, SEED_DEMO: "1", AUTH_JWT_SECRET: TEST_SECRET });
      const counter = new pg.Client({ connectionString: database.url });
      const kept = new Agent({ keepAlive: true, maxSockets: 20 });
      const fresh = new Agent({ keepAlive: false });
      try {
        const url = await server.ready();
        const origin = new URL(url).origin;
        await counter.connect();
        const headers = { authorization: `Bearer ${await testToken({ customer: 1 })}` };
        const product = (await counter.query(`SELECT "id" FROM "Product" WHERE "stock" >= 40 ORDER BY "id" LIMIT 1`)).rows[0].id;
        // Twenty keep-alive connections, open and idle, as a busy client or a balancer keeps them.
        const warm = await Promise.all(Array.from({ length: 20 }, () => post(`${origin}/health`, kept, {}, "")));
        expect(warm.every((answer) => answer.status === 200)).toBe(true);
        expect(Object.values(kept.freeSockets).flat()).toHaveLength(20);
        // Forty orders and the signal in the same moment: twenty on those connections, twenty on
        // connections still being opened.
        const onOpen = Array.from({ length: 20 }, () => post(url, kept, headers, orderBody(product)));
        const onNew = Array.from({ length: 20 }, () => post(url, fresh, headers, orderBody(product)));
        server.child.kill("SIGTERM");
        const answers = await Promise.all([...onOpen, ...onNew]);
        // No request was reset. A new connection may find the server no longer listening (refused:
        // nothing was sent, sending it again is safe); nothing else may fail.
        expect(answers.filter((answer) => answer.status === 0 && answer.error !== "ECONNREFUSED")).toEqual([]);
        // The orders sent on open connections were all read and placed.
        expect(answers.slice(0, 20).map((answer) => answer.status)).toEqual(Array(20).fill(200));
        const placed = answers.filter((answer) => answer.body?.data?.createOrder);
        for (const answer of answers.filter((a) => a.body && !a.body.data?.createOrder)) {
          expect(answer.body?.errors?.[0]?.extensions).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
        }
        expect(await server.exited).toBe(0);
        const committed = await counter.query(
          `SELECT count(*)::int AS n FROM "OrderItem" WHERE "productId" = $1 AND "orderId" = ANY($2)`,
          [product, placed.map((answer) => dbIdOf(answer.body!.data.createOrder.id))],
        );
        expect(committed.rows[0].n).toBe(placed.length);
        const refused = answers.filter((answer) => answer.error === "ECONNREFUSED").length;
        console.log(`SIGTERM with 40 orders arriving: ${placed.length} placed, ${refused} refused before sending, 0 reset`);
      } finally {
        kept.destroy();
        fresh.destroy();
        await counter.end().catch(() => undefined);
        await server.stop();
        await database.drop();
      }
    },
    START_TIMEOUT_MS * 2,
  );
});
