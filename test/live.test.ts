/**
 * Live updates over both transports, with the real graphql-sse and graphql-ws clients against a
 * listening server: events arrive after a mutation commits, and never for one that rolled back.
 */
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { statementsSent } from "../src/sql/recorder.js";
import { gid } from "./support/ids.js";
import { createTestShop, dataOf, listen, type SqlReport, type TestShop } from "./support/shop.js";
import { waitFor } from "./support/wait.js";

let shop: TestShop;
let server: { url: string; wsUrl: string };

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 5, products: 6, ordersPerUser: 1, itemsPerOrder: 1 } });
  server = await listen(shop);
});
afterAll(async () => {
  await shop?.close();
});

/** Starts an iterator and waits until the server has subscribed to the topic on its behalf. */
async function subscribed<T>(
  topic: Parameters<TestShop["subscribed"]>[0],
  start: () => AsyncIterableIterator<T>,
): Promise<{ next: Promise<IteratorResult<T>>; iterator: AsyncIterableIterator<T> }> {
  const ready = shop.subscribed(topic);
  const iterator = start();
  const next = iterator.next();
  await withTimeout(ready);
  return { next, iterator };
}

function withTimeout<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms)),
  ]);
}

const PLACE = `mutation($input: CreateOrderInput!) { createOrder(input: $input) { id total } }`;

describe("over Server-Sent Events (graphql-sse)", () => {
  it("delivers orderCreated with the order as committed", async () => {
    const client = createSseClient({
      url: server.url,
      headers: async () => ({ authorization: `Bearer ${await shop.token("admin")}` }),
    });
    const { next, iterator } = await subscribed("orderCreated", () =>
      client.iterate<{ orderCreated: { id: string; total: string; user: { id: string }; items: { quantity: number }[] } }>({
        query: `subscription { orderCreated { id total user { id } items { quantity } } }`,
      }),
    );
    const placed = dataOf(
      await shop.gql(PLACE, { input: { userId: gid("User", 2), items: [{ productId: gid("Product", 1), quantity: 1 }] } }),
    );
    const event = await withTimeout(next);
    expect(event.value.data?.orderCreated).toEqual({
      id: placed.createOrder.id,
      total: placed.createOrder.total,
      user: { id: gid("User", 2) },
      items: [{ quantity: 1 }],
    });
    // In development each event carries the SQL it ran, like a query: eager reads the order with its
    // user and items in one statement; its total is an aggregate, through its loader.
    const sql = (event.value.extensions as { sql?: SqlReport } | undefined)?.sql;
    expect(sql?.strategy).toBe("eager");
    expect(sql?.statements.map((statement) => statement.cause)).toEqual([
      { field: "orderCreated" },
      { field: "orderCreated.total", loader: "totalOfOrder", keys: 1, fields: { "orderCreated.total": 1 } },
    ]);
    expect(sql!.statements[0]!.sql).toMatch(/FROM "public"\."Order" .* LEFT JOIN LATERAL .*"public"\."OrderItem"/);
    await iterator.return?.();
    client.dispose();
  });
});

describe("over WebSocket (graphql-ws)", () => {
  it("delivers orderStatusChanged for the watched order, with the strategy from connection params", async () => {
    const placed = dataOf(
      await shop.gql(PLACE, { input: { userId: gid("User", 3), items: [{ productId: gid("Product", 2), quantity: 1 }] } }),
    );
    const client = createWsClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: async () => ({ "x-loading-strategy": "batched", authorization: `Bearer ${await shop.token("admin")}` }),
    });
    const { next, iterator } = await subscribed("orderStatusChanged", () =>
      client.iterate<{ orderStatusChanged: { id: string; status: string; user: { name: string } } }>({
        query: `subscription($id: ID!) { orderStatusChanged(orderId: $id) { id status user { name } } }`,
        variables: { id: placed.createOrder.id },
      }),
    );
    dataOf(
      await shop.gql(`mutation($id: ID!) { updateOrderStatus(id: $id, status: PROCESSING) { id } }`, {
        id: placed.createOrder.id,
      }),
    );
    const event = await withTimeout(next);
    expect(event.value.data?.orderStatusChanged).toMatchObject({ id: placed.createOrder.id, status: "PROCESSING" });
    // Batched: the order, then its user through the loader, both this event's own statements.
    const sql = (event.value.extensions as { sql?: SqlReport } | undefined)?.sql;
    expect(sql?.statements.map((statement) => statement.cause)).toEqual([
      { field: "orderStatusChanged" },
      { field: "orderStatusChanged.user", loader: "user", keys: 1, fields: { "orderStatusChanged.user": 1 } },
    ]);
    await iterator.return?.();
    await client.dispose();
  });

  it("delivers productStockChanged after a commit, and nothing for a rolled-back order", async () => {
    const client = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket });
    const watched = gid("Product", 3);
    const { next, iterator } = await subscribed("productStockChanged", () =>
      client.iterate<{ productStockChanged: { id: string; stock: number } }>({
        query: `subscription($id: ID!) { productStockChanged(productId: $id) { id stock } }`,
        variables: { id: watched },
      }),
    );
    // Takes the watched product's stock, then fails on the second line: rolled back, so no event.
    const refused = await shop.gql(PLACE, {
      input: {
        userId: gid("User", 1),
        items: [
          { productId: watched, quantity: 1 },
          { productId: gid("Product", 4), quantity: 100000 },
        ],
      },
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe("INSUFFICIENT_STOCK");
    const restocked = dataOf(
      await shop.gql(`mutation($id: ID!) { restockProduct(id: $id, quantity: 5) { stock } }`, { id: watched }),
    );
    const event = await withTimeout(next);
    expect(event.value.data?.productStockChanged).toEqual({ id: watched, stock: restocked.restockProduct.stock });
    await iterator.return?.();
    await client.dispose();
  });

  it("reports to each audience of an event only its own statements, cursor lookups included", async () => {
    const customer = await shop.prisma.user.findFirstOrThrow({ where: { orders: { some: {} } }, select: { id: true } });
    const watched = gid("Product", 5);
    const watch = (token: string, strategy: string, query: string) => {
      const client = createWsClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { "x-loading-strategy": strategy, authorization: `Bearer ${token}` },
      });
      return { client, iterator: client.iterate<unknown>({ query, variables: { id: watched } }) };
    };
    const lines = `subscription($id: ID!) { productStockChanged(productId: $id) { stock orderItems { id order { id } } } }`;
    const paged = `subscription($id: ID!) { productStockChanged(productId: $id) { stock orderItems(first: 1, after: "${gid("OrderItem", 1)}") { id } } }`;
    const ready = shop.subscribed("productStockChanged", 3);
    const watchers = [
      watch(await shop.token("admin"), "eager", lines),
      watch(await shop.token({ customer: customer.id }), "eager", lines),
      watch(await shop.token("admin"), "batched", paged),
    ];
    const nexts = watchers.map(({ iterator }) => iterator.next());
    await withTimeout(ready);
    dataOf(await shop.gql(`mutation($id: ID!) { restockProduct(id: $id, quantity: 1) { stock } }`, { id: watched }));
    const [admin, mine, batched] = (await withTimeout(Promise.all(nexts))).map(
      (event) => (event.value as { extensions?: { sql?: SqlReport } }).extensions!.sql!,
    );
    // One statement each for the admin and the customer (eager), never the other's: the customer's
    // filters the lines by their user, the admin's does not.
    expect([admin!.count, mine!.count]).toEqual([1, 1]);
    expect(mine!.statements[0]!.params).toContain(customer.id);
    expect(admin!.statements[0]!.params).not.toContain(customer.id);
    // The cursor row is looked up while the query is planned, before the resolver: in the event's record.
    expect(batched!.statements.map((statement) => statement.cause?.loader)).toContain("orderItem");
    for (const { iterator, client } of watchers) {
      await iterator.return?.();
      await client.dispose();
    }
  });

  it("serves queries and mutations too", async () => {
    const client = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket });
    const result = await client.iterate({ query: `{ products(first: 2) { totalCount } }` }).next();
    expect(result.value.data).toEqual({ products: { totalCount: 6 } });
    await client.dispose();
  });
});

describe("an event with many subscribers", () => {
  let crowd: TestShop;
  let wsUrl: string;
  beforeAll(async () => {
    crowd = await createTestShop({
      seed: { users: 5, products: 6, ordersPerUser: 1, itemsPerOrder: 1 },
      env: { MAX_SUBSCRIPTIONS_PER_CONNECTION: "1000", MAX_SUBSCRIPTIONS_PER_CLIENT: "1000", MAX_SUBSCRIPTIONS: "2000" },
    });
    ({ wsUrl } = await listen(crowd));
  });
  afterAll(() => crowd?.close());

  /** Statements sent for one order while `count` subscribers, on one connection, watch orderCreated. */
  async function orderWatchedBy(count: number, strategy: string) {
    // The subscriptions of the previous round have gone.
    await waitFor(async () => crowd.subscribers("orderCreated") === 0);
    const client = createWsClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: async () => ({ "x-loading-strategy": strategy, authorization: `Bearer ${await crowd.token("admin")}` }),
    });
    const ready = crowd.subscribed("orderCreated", count);
    const iterators = Array.from({ length: count }, () =>
      client.iterate<{ orderCreated: { id: string; user: { name: string }; items: { product: { name: string } }[] } }>({
        query: `subscription { orderCreated { id user { name } items { quantity product { name } } } }`,
      }),
    );
    const events = iterators.map((iterator) => iterator.next());
    await withTimeout(ready);
    const before = statementsSent();
    const placed = dataOf(
      await crowd.gql(PLACE, { input: { userId: gid("User", 4), items: [{ productId: gid("Product", 5), quantity: 1 }] } }),
    );
    const received = await withTimeout(Promise.all(events));
    const statements = statementsSent() - before;
    await Promise.all(iterators.map((iterator) => iterator.return?.()));
    await client.dispose();
    // Every subscriber gets the order as committed.
    expect(new Set(received.map((event) => event.value.data?.orderCreated.id))).toEqual(new Set([placed.createOrder.id]));
    return statements;
  }

  it("costs the same SQL whatever its subscribers, except under lazy (the honest N+1)", async () => {
    const figures: Record<string, number[]> = {};
    for (const strategy of ["eager", "batched"]) {
      figures[strategy] = [];
      for (const count of [1, 100, 500]) figures[strategy].push(await orderWatchedBy(count, strategy));
    }
    figures.lazy = [await orderWatchedBy(1, "lazy"), await orderWatchedBy(10, "lazy")];
    console.log(`statements per order, with 1, 100 and 500 subscribers (lazy: 1 and 10): ${JSON.stringify(figures)}`);
    expect(new Set(figures.eager).size).toBe(1);
    expect(new Set(figures.batched).size).toBe(1);
    // Lazy: the same reads for each subscriber, on top of the order's own statements.
    const ownStatements = figures.eager![0]! - 1;
    expect(figures.lazy[1]! - ownStatements).toBe(10 * (figures.lazy[0]! - ownStatements));
  });
});
