/**
 * Unexpected failures reach the client masked, with a stable code, and reach the log with their
 * cause and the request id; faults of the database are SERVICE_UNAVAILABLE (a warning, not an
 * error); expected client errors are never logged as errors; every response says its request id.
 * A production server that checks no token says so when it starts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturedLog } from "./support/log.js";
import { createTestShop, errorOf, listen, type TestShop } from "./support/shop.js";
import { overWebSocket, wsClient } from "./support/ws.js";

let shop: TestShop;
const log = capturedLog("info");
const lines = log.lines;

beforeAll(async () => {
  shop = await createTestShop({
    seed: { users: 3, products: 3, ordersPerUser: 1, itemsPerOrder: 1 },
    logger: log.logger,
  });
});
afterAll(() => shop?.close());

/** The log lines of one request, found by its id. */
const logOf = (requestId: string) => lines.filter((line) => line.requestId === requestId);

describe("a bug", () => {
  it("is masked as 'Unexpected error.' with INTERNAL_SERVER_ERROR, and logged as an error with its cause and the request id", async () => {
    // A failure the API cannot expect: the database itself raises an error on insert.
    await shop.prisma.$executeRawUnsafe(
      `CREATE FUNCTION shop_test_boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'boom in a trigger'; END $$ LANGUAGE plpgsql`,
    );
    await shop.prisma.$executeRawUnsafe(
      `CREATE TRIGGER boom BEFORE INSERT ON "User" FOR EACH ROW EXECUTE FUNCTION shop_test_boom()`,
    );
    try {
      const res = await shop.gql(
        `mutation { createUser(input: { name: "X", email: "x@example.com" }) { id } }`,
        {},
        {
          headers: { "x-request-id": "req-bug-1" },
        },
      );
      expect(errorOf(res)).toMatchObject({
        message: "Unexpected error.",
        extensions: { code: "INTERNAL_SERVER_ERROR" },
        path: ["createUser"],
      });
      expect(JSON.stringify(res)).not.toMatch(/boom|trigger|stack|at .*\.ts/);
      const logged = logOf("req-bug-1");
      const error = logged.find((line) => line.level === 50);
      expect(error?.msg).toBe("unexpected error");
      expect(JSON.stringify(error?.err)).toMatch(/boom in a trigger/);
      // Once: not again by yoga, which logs what the mask rewrote.
      expect(lines.filter((line) => line.level >= 50)).toHaveLength(1);
      expect(logged.find((line) => line.msg === "request")?.errors).toEqual(["INTERNAL_SERVER_ERROR"]);
    } finally {
      await shop.prisma.$executeRawUnsafe(`DROP TRIGGER boom ON "User"`);
      await shop.prisma.$executeRawUnsafe(`DROP FUNCTION shop_test_boom()`);
    }
  });
});

describe("a fault of the database", () => {
  it("is SERVICE_UNAVAILABLE, retryable, and a warning in the log", async () => {
    // The tables are gone (a database that is not migrated): the operator's problem, not a bug.
    await shop.prisma.$executeRawUnsafe(`ALTER TABLE "Product" RENAME TO "ProductGone"`);
    const before = lines.length;
    try {
      const res = await shop.gql(
        `{ products(first: 1) { edges { node { name } } } }`,
        {},
        { headers: { "x-request-id": "req-fault-1" } },
      );
      expect(errorOf(res)).toMatchObject({ extensions: { code: "SERVICE_UNAVAILABLE", retryable: true }, path: ["products"] });
      expect(JSON.stringify(res)).not.toMatch(/ProductGone|Product"|relation/);
      const logged = logOf("req-fault-1");
      expect(logged.find((line) => line.level === 40)?.msg).toBe("database fault");
      // One warning, and no error line from anyone (yoga logs what the mask rewrote).
      expect(
        lines
          .slice(before)
          .filter((line) => line.level >= 40)
          .map((line) => line.msg),
      ).toEqual(["database fault"]);
    } finally {
      await shop.prisma.$executeRawUnsafe(`ALTER TABLE "ProductGone" RENAME TO "Product"`);
    }
    const healthy = await shop.gql(`{ products(first: 1) { totalCount } }`);
    expect(healthy.data).toEqual({ products: { totalCount: 3 } });
  });
});

describe("the request log", () => {
  it("has one line per request with its id, operations, strategy, statements, status and duration", async () => {
    const response = await shop.fetch(
      new Request("http://shop.test/graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-request-id": "req-log-1",
          "x-loading-strategy": "batched",
          authorization: `Bearer ${await shop.token("admin")}`,
        },
        body: JSON.stringify({ query: "query Customers { users(first: 2) { edges { node { orders { id } } } } }" }),
      }),
    );
    expect(response.headers.get("x-request-id")).toBe("req-log-1");
    const [line] = logOf("req-log-1");
    expect(line).toMatchObject({
      msg: "request",
      level: 30,
      method: "POST",
      path: "/graphql",
      status: 200,
      operations: [{ name: "Customers", strategy: "batched", statements: 2 }],
    });
    expect(line!.durationMs).toBeGreaterThan(0);
  });

  it("has one line per WebSocket operation too, with the id the connection gives", async () => {
    const { wsUrl } = await listen(shop);
    const client = await wsClient(wsUrl, { strategy: "batched", headers: { "x-request-id": "ws-log-1" } });
    try {
      await overWebSocket(client, "query Customers { users(first: 2) { edges { node { orders { id } } } } }");
      await overWebSocket(client, "{ nope }");
    } finally {
      await client.dispose();
    }
    const logged = logOf("ws-log-1");
    expect(logged.map(({ msg, transport, operations, errors }) => ({ msg, transport, operations, errors }))).toEqual([
      {
        msg: "request",
        transport: "websocket",
        operations: [{ name: "Customers", strategy: "batched", statements: 2, objects: expect.any(Number) }],
        errors: undefined,
      },
      { msg: "request", transport: "websocket", operations: undefined, errors: ["GRAPHQL_VALIDATION_FAILED"] },
    ]);
  });

  it("gives a request without an id one, and does not log client mistakes as errors", async () => {
    const response = await shop.fetch(
      new Request("http://shop.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await shop.token("admin")}` },
        body: JSON.stringify({ query: `mutation { createOrder(input: { userId: "VXNlcjox", items: [] }) { id } }` }),
      }),
    );
    const id = response.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const logged = logOf(id);
    expect(logged.map((line) => [line.level, line.msg])).toEqual([[30, "request"]]);
    expect(logged[0]!.errors).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("client mistakes in the log", () => {
  it("sixteen kinds of them: one info line each, with the code, and not one warning or error", async () => {
    const admin = `Bearer ${await shop.token("admin")}`;
    const customer = `Bearer ${await shop.token({ customer: 1 })}`;
    const post = (body: string, headers: Record<string, string> = {}, method = "POST") =>
      shop.fetch(
        new Request(`http://shop.test/graphql${method === "GET" ? `?query=${encodeURIComponent(body)}` : ""}`, {
          method,
          headers: { "content-type": "application/json", authorization: admin, ...headers },
          ...(method === "GET" ? {} : { body }),
        }),
      );
    const json = (value: unknown) => JSON.stringify(value);
    const taken = (await shop.prisma.user.findFirstOrThrow()).email;
    const before = lines.length;
    const responses = await Promise.all([
      post(json({ query: `mutation { createUser(input: { name: "X", email: "x@example.com" }) { id } }` }), {
        authorization: customer,
      }),
      post(json({ query: `mutation { createUser(input: { name: "X", email: "not an email" }) { id } }` })),
      post(json({ query: `mutation { createUser(input: { name: "X", email: "${taken}" }) { id } }` })),
      post(json({})),
      post(json({ query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } })),
      post(json({ extensions: { persistedQuery: { version: 1, sha256Hash: "1".repeat(64) } } })),
      post(json({ query: "{ users(" })),
      post(json({ query: "{ nope }" })),
      post(json({ query: "{ __typename }" }), { authorization: "Bearer not-a-token" }),
      post(json({ query: `mutation { restockProduct(id: "UHJvZHVjdDo5OTk5OQ==", quantity: 1) { id } }` })),
      post(json({ query: `{ users { edges { node { ${"orders { user { ".repeat(8)}id${" } }".repeat(8)} } } } }` })),
      post("{not json"),
      post(json({ query: "{ __typename }" }), { "content-type": "text/xml" }),
      post(json({ query: "query($n: Int!) { products(first: $n) { totalCount } }", variables: { n: "ten" } })),
      post(`mutation { deleteUser(id: "VXNlcjox") { id } }`, {}, "GET"),
      post(json({ query: `mutation { updateOrderStatus(id: "T3JkZXI6MQ==", status: PENDING) { id } }` })),
    ]);
    const ids = responses.map((response) => response.headers.get("x-request-id"));
    expect(responses.map((response) => response.status).filter((status) => status >= 500)).toEqual([]);
    const logged = lines.slice(before).filter((line) => ids.includes(line.requestId) || line.level >= 40);
    expect(
      logged.filter((line) => line.level >= 40).map((line) => `${line.level} ${line.msg} ${line.err?.message ?? ""}`),
    ).toEqual([]);
    expect(logged.filter((line) => line.msg === "request")).toHaveLength(16);
    // Each line says what the client was told, never the client's own data (an email, say).
    expect(JSON.stringify(logged)).not.toContain(taken);
    expect(new Set(logged.flatMap((line) => line.errors ?? []))).toEqual(
      new Set([
        "FORBIDDEN",
        "BAD_USER_INPUT",
        "EMAIL_TAKEN",
        "BAD_REQUEST",
        "PERSISTED_QUERY_MISMATCH",
        "PERSISTED_QUERY_NOT_FOUND",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "UNAUTHENTICATED",
        "NOT_FOUND",
        "LIMIT_EXCEEDED",
        "INVALID_STATUS_TRANSITION",
      ]),
    );
  });
});

describe("the start-up log", () => {
  const AUTH_OFF =
    "AUTH=off: every caller is an admin; no token is checked. Set AUTH_JWT_SECRET or AUTH_JWKS_URL (and unset AUTH) to require tokens.";

  /** The warnings a shop started with `env` logs before it serves anything. */
  async function startWarnings(env: Record<string, string>) {
    const started = capturedLog("warn");
    const opened = await createTestShop({ seed: false, env, logger: started.logger });
    await opened.close();
    return started.lines.map((line) => [line.level, line.msg]);
  }

  it("warns once, in production, that AUTH=off lets every caller in as an admin", async () => {
    expect(await startWarnings({ NODE_ENV: "production", AUTH: "off" })).toEqual([[40, AUTH_OFF]]);
    // Nothing to warn about: tokens are checked, or AUTH=off on a developer's machine.
    expect(await startWarnings({ NODE_ENV: "production" })).toEqual([]);
    expect(await startWarnings({ AUTH: "off" })).toEqual([]);
  });
});
