/**
 * The hard bound on what one request does once it runs, whatever its estimate said (the estimate is
 * lifted out of the way here with MAX_COST): a response that would hold more objects than
 * MAX_RESPONSE_OBJECTS stops there, a query that runs past REQUEST_TIMEOUT_MS answers TIMEOUT at
 * once, and a client that leaves stops the work, not only the SQL. Each answer is one error with
 * its code and no partial data, on every strategy and over WebSocket too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statementsSent } from "../src/sql/recorder.js";
import { gid } from "./support/ids.js";
import { capturedLog, type LogLine } from "./support/log.js";
import { createTestShop, dataOf, errorOf, listen, STRATEGIES, type TestShop } from "./support/shop.js";
import { overWebSocket, wsClient } from "./support/ws.js";

let shop: TestShop;
let server: { url: string; wsUrl: string };
const lines: LogLine[] = [];
const finished = new Map<string, (line: LogLine) => void>();

beforeAll(async () => {
  const log = capturedLog("info", (line) => {
    lines.push(line);
    if (line.msg === "request") finished.get(line.requestId)?.(line);
  });
  shop = await createTestShop({
    seed: { users: 6, products: 5, ordersPerUser: 3, itemsPerOrder: 2 },
    logger: log.logger,
    env: { MAX_COST: "100000000", MAX_DEPTH: "60", MAX_RESPONSE_OBJECTS: "100", REQUEST_TIMEOUT_MS: "1000" },
  });
  server = await listen(shop);
});
afterAll(() => shop?.close());

/** The customer's orders, each order's customer (themselves), their orders again, `levels` deep. */
const cycle = (levels: number, page = 3) =>
  `{ me { ${`orders(first: ${page}) { id user { `.repeat(levels)}id${" } }".repeat(levels)} } }`;

describe("objects in one response", () => {
  it.each(STRATEGIES)("stop at MAX_RESPONSE_OBJECTS, from rows loaded once (%s): one error, no data", async (strategy) => {
    const customer = { customer: 1 };
    // 3 orders, each with its user: 6 objects, then 9 orders and users: 24, … under the cap of 100.
    expect(dataOf(await shop.gql(cycle(2), {}, { strategy, as: customer })).me.orders).toHaveLength(3);
    const before = statementsSent();
    const response = await shop.gql(cycle(5), {}, { strategy, as: customer });
    expect(errorOf(response).extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "responseObjects", max: 100 });
    expect(response.data).toBeUndefined();
    // Nothing past the level where the cap was reached was loaded.
    expect(statementsSent() - before).toBeLessThanOrEqual(strategy === "lazy" ? 1 + 2 * (3 + 9 + 27 + 81) : 1 + 5 * 2);
    const client = await wsClient(server.wsUrl, { as: customer, strategy });
    try {
      expect(errorOf(await overWebSocket(client, cycle(5))).extensions).toMatchObject({ limit: "responseObjects" });
    } finally {
      await client.dispose();
    }
  });
});

describe("objects in one response, through a fragment shared by two places", () => {
  it.each(STRATEGIES)("are counted with what each place adds to it (%s)", async (strategy) => {
    // Each order line weighs 1 where only the fragment selects it, and 4 (the line, its order, the
    // order's user, its product) where the operation adds to-one objects of its own beside it.
    const DOCUMENT = `fragment F on Product { orderItems(first: 20) { id } }
      query Light { products(first: 5) { edges { node { ...F } } } }
      query Heavy { products(first: 5) { edges { node { ...F orderItems(first: 20) { order { user { id } } product { id } } } } } }`;
    const lines = (response: Awaited<ReturnType<TestShop["gql"]>>) =>
      (dataOf(response) as { products: { edges: { node: { orderItems: unknown[] } }[] } }).products.edges.flatMap(
        ({ node }) => node.orderItems,
      ).length;
    // 5 products and their edges, and 36 lines: under the cap of 100.
    expect(lines(await shop.gql(DOCUMENT, {}, { strategy, operationName: "Light" }))).toBe(36);
    // The same lines with three objects more each: over it, though the fragment's node was weighed first.
    const heavy = await shop.gql(DOCUMENT, {}, { strategy, operationName: "Heavy" });
    expect(errorOf(heavy).extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "responseObjects", max: 100 });
  });
});

/** Holds the database busy (a lock on the product table) until `release` is called. */
async function holdProducts() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const transaction = shop.prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`LOCK TABLE "Product" IN ACCESS EXCLUSIVE MODE`;
      held();
      await gate;
    },
    { timeout: 60_000 },
  );
  await holding;
  return { release, done: transaction };
}

describe("the deadline", () => {
  it("a query still running at REQUEST_TIMEOUT_MS answers TIMEOUT then, and sends nothing more", async () => {
    const { release, done } = await holdProducts();
    let released = false;
    try {
      const before = statementsSent();
      const response = await shop.gql(`{ products(first: 2) { totalCount edges { node { name } } } }`);
      // It answered while its statement was still held up by the lock.
      expect(released).toBe(false);
      expect(errorOf(response).extensions).toMatchObject({ code: "TIMEOUT", limit: "requestTimeoutMs", max: 1000 });
      expect(response.data).toBeUndefined();
      released = true;
      release();
      await done;
      // What was already out finishes; nothing else of it is sent.
      const sent = statementsSent() - before;
      await shop.gql("{ __typename }");
      expect(statementsSent() - before).toBe(sent);
      expect(sent).toBeLessThanOrEqual(2);
    } finally {
      release();
      await done.catch(() => undefined);
    }
  });

  it("does not cut a mutation short: its transaction commits and it answers with what it wrote", async () => {
    const { release, done } = await holdProducts();
    try {
      const order = shop.gql(
        `mutation { createOrder(input: { userId: "${gid("User", 1)}", items: [{ productId: "${gid("Product", 1)}", quantity: 1 }] }) { id status } }`,
      );
      // A query sent after it times out: the mutation, held up by the same lock, is past its deadline too.
      expect(errorOf(await shop.gql("{ products(first: 1) { totalCount } }")).extensions?.code).toBe("TIMEOUT");
      release();
      expect(dataOf(await order).createOrder.status).toBe("PENDING");
    } finally {
      release();
      await done;
    }
  });
});

describe("a response built from cached rows", () => {
  it("stops being built when its request is stopped: the event loop gets its turns while it is built", async () => {
    // Loaders cache rows, so below the first levels this response comes from memory alone: some
    // two million objects, from four statements. Without turns of the event loop while it is
    // built, the deadline's timer (like a client's disconnect, a SIGTERM or /health) would wait
    // for all of it.
    const roomy = await createTestShop({
      seed: { users: 2, products: 2, ordersPerUser: 10, itemsPerOrder: 1 },
      logger: capturedLog("info", (line) => {
        if (line.msg === "request") finished.get(line.requestId)?.(line);
      }).logger,
      env: { MAX_COST: "100000000", MAX_DEPTH: "60", MAX_RESPONSE_OBJECTS: "100000000", REQUEST_TIMEOUT_MS: "200" },
    });
    try {
      const logged = new Promise<LogLine>((resolve) => finished.set("cached", resolve));
      const response = await roomy.gql(
        cycle(6, 10),
        {},
        { strategy: "batched", as: { customer: 1 }, headers: { "x-request-id": "cached" } },
      );
      expect(errorOf(response).extensions).toMatchObject({ code: "TIMEOUT" });
      const [operation] = (await logged).operations;
      expect(operation.statements).toBe(3);
      expect(operation.objects).toBeGreaterThan(0);
      expect(operation.objects).toBeLessThan((2 * 10 ** 6) / 2);
    } finally {
      await roomy.close();
    }
  });
});
