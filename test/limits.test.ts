/**
 * What one request may cost: every limit refuses with LIMIT_EXCEEDED naming the limit, its maximum
 * and the value found, before any SQL runs (the process's statement counter does not move); the
 * statement cap stops a request as it runs; subscriptions, rates and persisted operations have their
 * caps; and the queries this project shows (GraphiQL's tour) fit under the defaults.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, print } from "graphql";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ADMIN_TOUR, CUSTOMER_TOUR } from "../src/graphiql.js";
import { statementsSent } from "../src/sql-recorder.js";
import { gid } from "./support/ids.js";
import {
  createTestShop,
  dataOf,
  errorOf,
  type GraphQLResponse,
  listen,
  type TestShop,
  testDatabaseKind,
} from "./support/shop.js";

let shop: TestShop;
beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 6, products: 5, ordersPerUser: 3, itemsPerOrder: 2 } });
});
afterAll(() => shop?.close());

/** Runs a request and returns its response and how many statements the process sent meanwhile. */
async function measured(query: string, options: Parameters<TestShop["gql"]>[2] = {}, target = shop) {
  const before = statementsSent();
  const response = await target.gql(query, {}, options);
  return { response, statements: statementsSent() - before };
}

/** The one error of a refused request, which must be LIMIT_EXCEEDED for `limit` and have run no SQL. */
async function refused(query: string, limit: string, options: Parameters<TestShop["gql"]>[2] = {}) {
  const { response, statements } = await measured(query, options);
  const error = errorOf(response);
  expect(error.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit });
  expect(response.data).toBeUndefined();
  expect(statements).toBe(0);
  return error.extensions as { max: number; value: number };
}

const nest = (levels: number) =>
  `{ users(first: 1) { edges { node { ${"orders(first: 1) { user { ".repeat(levels)}name${" } }".repeat(levels)} } } } }`;

describe("limits checked before any SQL", () => {
  it("depth: a 50-level query", async () => {
    expect(await refused(nest(25), "depth")).toMatchObject({ max: 12, value: 54 });
  });

  it("aliases: 31 of them", async () => {
    const query = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: products(first: 1) { totalCount }`).join(" ")} }`;
    expect(await refused(query, "aliases")).toEqual(expect.objectContaining({ max: 30, value: 31 }));
  });

  it("directives: 31 of them", async () => {
    const query = `{ products(first: 1) { totalCount ${Array.from({ length: 31 }, () => "__typename @include(if: true)").join(" ")} } }`;
    expect(await refused(query, "directives")).toMatchObject({ max: 30, value: 31 });
  });

  it("tokens: 1,000 aliases of users(first: 100) is refused while parsing", async () => {
    const query = `{ ${Array.from({ length: 1000 }, (_, i) => `u${i}: users(first: 100) { edges { node { id email } } }`).join(" ")} }`;
    expect(await refused(query, "tokens")).toMatchObject({ max: 5000 });
  });

  it("cost: the 151-byte query that fans out to millions of rows", async () => {
    const query = `{ products(first:50){ edges { node { orderItems(first:100){ order { items(first:100){ product { orderItems(first:100){ id } } } } } } } } }`;
    const { value } = await refused(query, "cost");
    expect(value).toBe(1 + 50 * (1 + 100 * (1 + 1 * (1 + 100 * (1 + 1 * (1 + 100 * 0))))));
  });

  it("cost, under lazy: a 124-byte query that would run 40,000 statements", async () => {
    const query = `{ users(first: 100) { edges { node { orders(first: 100) { items(first: 100) { product { name } } } } } } }`;
    expect((await refused(query, "cost", { strategy: "lazy" })).value).toBeGreaterThan(1_000_000);
  });

  it("nodes: 10,000 ids", async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => gid("Product", i + 1));
    const before = statementsSent();
    const res = await shop.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids });
    expect(errorOf(res).extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "nodeIds", max: 100, value: 10_000 });
    expect(statementsSent()).toBe(before);
  });

  it("100 aliases of a report under lazy", async () => {
    const query = `{ ${Array.from({ length: 100 }, (_, i) => `r${i}: customerSpending(first: 100) { totalCount }`).join(" ")} }`;
    expect(await refused(query, "aliases", { strategy: "lazy" })).toMatchObject({ value: 100 });
  });

  it("the queries GraphiQL opens with, and the README's, fit under every default", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThan(0);
    for (const tour of [CUSTOMER_TOUR("Ada"), ADMIN_TOUR, ...examples]) {
      for (const definition of parse(tour).definitions) {
        if (definition.kind !== "OperationDefinition" || definition.operation !== "query") continue;
        const res = await shop.gql(print(definition));
        expect(res.errors?.map((e) => e.extensions?.code) ?? []).not.toContain("LIMIT_EXCEEDED");
      }
    }
  });
});

describe("the statement cap, as a request runs", () => {
  it("stops a lazy request at the cap, sending no statement past it", async () => {
    const capped = await createTestShop({
      seed: { users: 6, products: 5, ordersPerUser: 3, itemsPerOrder: 2 },
      env: { MAX_STATEMENTS: "20" },
    });
    try {
      const query = `{ users(first: 6) { edges { node { orders { items { product { name } } } } } } }`;
      const { response, statements } = await measured(query, { strategy: "lazy" }, capped);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "statements", max: 20 });
      expect(statements).toBe(20);
      // The same query costs 3 statements batched: well under the cap.
      const batched = await measured(query, { strategy: "batched" }, capped);
      expect(batched.response.errors).toBeUndefined();
      expect(batched.statements).toBe(4);
    } finally {
      await capped.close();
    }
  });
});

describe("subscriptions", () => {
  it("are capped per server (SSE) and per connection (WebSocket)", async () => {
    const small = await createTestShop({
      seed: { users: 2, products: 2, ordersPerUser: 0, itemsPerOrder: 1 },
      env: { MAX_SUBSCRIPTIONS: "2", MAX_SUBSCRIPTIONS_PER_CONNECTION: "1" },
    });
    const server = await listen(small);
    const watch = `subscription { productStockChanged(productId: "${gid("Product", 1)}") { stock } }`;
    try {
      const sse = createSseClient({ url: server.url, retryAttempts: 0 });
      const open = [sse.iterate({ query: watch }), sse.iterate({ query: watch })];
      for (const subscription of open) {
        const listening = small.subscribed("productStockChanged");
        void subscription.next();
        await listening;
      }
      // The third is refused before it streams: a GraphQL error over plain HTTP.
      const third = await small.fetch(
        new Request("http://shop.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream, application/graphql-response+json" },
          body: JSON.stringify({ query: watch }),
        }),
      );
      const body = await third.text();
      expect(body).toContain('"code":"LIMIT_EXCEEDED"');
      expect(body).toContain('"limit":"subscriptions"');
      for (const subscription of open) await subscription.return?.();
      sse.dispose();

      const ws = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
      try {
        const first = ws.iterate({ query: watch });
        const listening = small.subscribed("productStockChanged");
        void first.next();
        await listening;
        // graphql-ws delivers a refusal made before execution as an error message: the iterator rejects with it.
        await expect(ws.iterate({ query: watch }).next()).rejects.toEqual([
          expect.objectContaining({
            extensions: expect.objectContaining({ code: "LIMIT_EXCEEDED", limit: "subscriptionsPerConnection", max: 1 }),
          }),
        ]);
        await first.return?.();
      } finally {
        await ws.dispose();
      }
    } finally {
      await small.close();
    }
  });
});

describe("rate limits", () => {
  it("count per identity, or per address when anonymous, and answer 429 with Retry-After", async () => {
    const limited = await createTestShop({
      seed: { users: 3, products: 1, ordersPerUser: 0, itemsPerOrder: 1 },
      env: { RATE_LIMIT_PER_MINUTE: "3", TRUST_PROXY: "1" },
    });
    const post = async (headers: Record<string, string>) => {
      const response = await limited.fetch(
        new Request("http://shop.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
          body: JSON.stringify({ query: "{ products(first: 1) { totalCount } }" }),
        }),
      );
      return {
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        body: (await response.json()) as GraphQLResponse,
      };
    };
    try {
      const alice = { authorization: `Bearer ${await limited.token({ customer: 1 })}` };
      for (let i = 0; i < 3; i++) expect((await post(alice)).status).toBe(200);
      const fourth = await post(alice);
      expect(fourth.status).toBe(429);
      expect(Number(fourth.retryAfter)).toBeGreaterThan(0);
      expect(errorOf(fourth.body).extensions?.code).toBe("RATE_LIMITED");
      // Another identity, and anonymous callers from another address, have their own allowance.
      expect((await post({ authorization: `Bearer ${await limited.token({ customer: 2 })}` })).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await post({ "x-forwarded-for": "203.0.113.7" })).status).toBe(200);
      expect((await post({ "x-forwarded-for": "203.0.113.7" })).status).toBe(429);
      expect((await post({ "x-forwarded-for": "203.0.113.8" })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it.runIf(testDatabaseKind === "postgres" && process.env.TEST_REDIS_URL)("hold across instances through Redis", async () => {
    const env = { RATE_LIMIT_PER_MINUTE: "3", REDIS_URL: process.env.TEST_REDIS_URL!, TRUST_PROXY: "1" };
    const [a, b] = [await createTestShop({ seed: false, env }), await createTestShop({ seed: false, env })];
    // A fresh address per run, so a count left in Redis by an earlier run cannot interfere.
    const address = `198.51.100.${Math.floor(Math.random() * 250) + 1}-${Date.now()}`;
    try {
      const statuses = [];
      for (const shopInstance of [a, b, a, b]) {
        const res = await shopInstance.fetch(
          new Request("http://shop.test/graphql", {
            method: "POST",
            headers: { "content-type": "application/json", "x-forwarded-for": address },
            body: JSON.stringify({ query: "{ products(first: 1) { totalCount } }" }),
          }),
        );
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("persisted operations", () => {
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
  const send = (target: TestShop, body: object) =>
    target
      .fetch(
        new Request("http://shop.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "" },
          body: JSON.stringify(body),
        }),
      )
      .then(async (r) => ({ status: r.status, body: (await r.json()) as GraphQLResponse }));

  it("Apollo's automatic persisted queries: unknown hash, then registered, then by hash alone", async () => {
    const query = "{ products(first: 2) { totalCount } }";
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    const unknown = await send(shop, { extensions: { persistedQuery } });
    expect(errorOf(unknown.body)).toMatchObject({
      message: "PersistedQueryNotFound",
      extensions: { code: "PERSISTED_QUERY_NOT_FOUND" },
    });
    expect(dataOf((await send(shop, { query, extensions: { persistedQuery } })).body)).toEqual({ products: { totalCount: 5 } });
    expect(dataOf((await send(shop, { extensions: { persistedQuery } })).body)).toEqual({ products: { totalCount: 5 } });
    const mismatch = await send(shop, { query: "{ __typename }", extensions: { persistedQuery } });
    expect(errorOf(mismatch.body).extensions?.code).toBe("PERSISTED_QUERY_MISMATCH");
  });

  it("PERSISTED_OPERATIONS=only runs the client's trusted documents and nothing else", async () => {
    const trusted = "query Catalogue { products(first: 1) { totalCount } }";
    const file = join(mkdtempSync(join(tmpdir(), "trusted-")), "persisted-documents.json");
    writeFileSync(file, JSON.stringify({ [sha256(trusted)]: trusted }));
    const strict = await createTestShop({ seed: false, env: { PERSISTED_OPERATIONS: "only", PERSISTED_OPERATIONS_FILE: file } });
    try {
      const byHash = await send(strict, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(trusted) } } });
      expect(dataOf(byHash.body)).toEqual({ products: { totalCount: 0 } });
      const before = statementsSent();
      for (const body of [
        { query: "{ products(first: 1) { totalCount } }" },
        { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: sha256("{ __typename }") } } },
        { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } },
      ]) {
        const res = await send(strict, body);
        expect(res.body.data).toBeUndefined();
        expect(res.body.errors?.length).toBe(1);
      }
      expect(statementsSent()).toBe(before);
    } finally {
      await strict.close();
    }
  });
});
