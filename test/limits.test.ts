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
import { clientAddress } from "../src/auth/caller.js";
import { loadConfig } from "../src/config.js";
import { ADMIN_TOUR, CUSTOMER_TOUR } from "../src/http/graphiql.js";
import { STRATEGY_HEADER } from "../src/loading/strategy.js";
import { statementsSent } from "../src/sql/recorder.js";
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
import { overWebSocket, wsClient } from "./support/ws.js";

let shop: TestShop;
let server: { url: string; wsUrl: string };
let ws: Awaited<ReturnType<typeof wsClient>>;
beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 6, products: 5, ordersPerUser: 3, itemsPerOrder: 2 } });
  server = await listen(shop);
  ws = await wsClient(server.wsUrl);
});
afterAll(async () => {
  await ws?.dispose();
  await shop?.close();
});

/** Runs a request and returns its response and how many statements the process sent meanwhile. */
async function measured(query: string, options: Parameters<TestShop["gql"]>[2] = {}, target = shop) {
  const before = statementsSent();
  const response = await target.gql(query, {}, options);
  return { response, statements: statementsSent() - before };
}

/**
 * The one error of a refused request, which must be LIMIT_EXCEEDED for `limit` and have run no SQL,
 * over HTTP and over WebSocket alike.
 */
async function refused(
  query: string,
  limit: string,
  options: Parameters<TestShop["gql"]>[2] = {},
  variables: Record<string, unknown> = {},
) {
  const before = statementsSent();
  const response = await shop.gql(query, variables, options);
  const overWs = await overWebSocket(options.strategy ? await wsClient(server.wsUrl, options) : ws, query, variables);
  // HTTP 400 whichever phase refused it, for a client that accepts only application/json as well.
  const statuses = await Promise.all(
    ["application/graphql-response+json", "application/json"].map(async (accept) => {
      const headers = { ...options.headers, accept, ...(options.strategy ? { [STRATEGY_HEADER]: options.strategy } : {}) };
      const { status } = await shop.fetch(
        new Request("http://shop.test/graphql", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(options.as === "anonymous" ? {} : { authorization: `Bearer ${await shop.token(options.as ?? "admin")}` }),
            ...headers,
          },
          body: JSON.stringify({ query, variables }),
        }),
      );
      return status;
    }),
  );
  expect(statuses).toEqual([400, 400]);
  expect(statementsSent() - before).toBe(0);
  for (const answer of [response, overWs]) {
    const error = errorOf(answer);
    expect(error.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit });
    expect(answer.data).toBeUndefined();
  }
  expect(errorOf(overWs).extensions).toEqual(errorOf(response).extensions);
  return errorOf(response).extensions as { max: number; value: number };
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
    // Each list: 1 to load it, then per item 1 (an object in the response) plus what it nests.
    const orderItems = 1 + 100 * (1 + 0);
    const items = 1 + 100 * (1 + (1 + orderItems));
    const productOrderItems = 1 + 100 * (1 + (1 + items));
    expect(value).toBe(1 + 50 * (1 + productOrderItems));
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

/** `{ ...F<levels> }` where each fragment spreads the one before it twice: 2^levels copies of `base`. */
function fragmentChain(levels: number, base: string, on = "Query", root = `{ ...F${levels} }`) {
  let document = `${root} fragment F0 on ${on} { ${base} }`;
  for (let i = 1; i <= levels; i++) document += ` fragment F${i} on ${on} { ...F${i - 1} ...F${i - 1} }`;
  return document;
}

describe("limits a document cannot walk around", () => {
  it("a 40-level fragment chain (1.6 KB) is counted in linear time and refused, and /health answers meanwhile", async () => {
    const chain = fragmentChain(40, "a: __typename");
    expect(chain.length).toBeLessThan(2000);
    // /health is asked in the same moment: it must not wait behind the refusal.
    const [{ value }, health] = await Promise.all([refused(chain, "aliases"), fetch(new URL("/health", server.url))]);
    expect(value).toBe(2 ** 40);
    expect(health.status).toBe(200);
    // The same through the cost: each level doubles a list.
    const lists = fragmentChain(40, "products(first: 1) { totalCount }");
    expect((await refused(lists, "cost")).value).toBe(2 ** 40 * (1 + 1 * 1));
  });

  it("a list costs its page times its items, scalars-only items included: the 100-byte cycles are refused", async () => {
    // A customer's: their orders, each order's customer (themselves), their orders again…
    const mine = `{ me { orders(first:100){ id user { orders(first:100){ id user { orders(first:100){ id } } } } } } }`;
    const orders = 1 + 100 * (1 + 0);
    const level2 = 1 + 100 * (1 + (1 + orders));
    // (Asked as the operator: the estimate does not depend on who asks, and a customer's token costs
    // one statement, the check that its user exists, which would blur "no SQL".)
    expect((await refused(mine, "cost")).value).toBe(1 + (1 + 100 * (1 + (1 + level2))));
    const admins = `{ users(first:100){ edges { node { orders(first:100){ id user { orders(first:100){ id } } } } } } }`;
    expect((await refused(admins, "cost")).value).toBe(1 + 100 * (1 + (1 + 100 * (1 + (1 + orders)))));
  });

  it("deferred parts cost what they would cost inline", async () => {
    const inline = `{ users(first: 100) { edges { node { orders(first: 100) { items(first: 100) { id } } } } } }`;
    const deferred = `{ users(first: 100) { edges { node { ... @defer { orders(first: 100) { items(first: 100) { id } } } } } } }`;
    expect((await refused(deferred, "cost")).value).toBe((await refused(inline, "cost")).value);
  });

  it("the ids given to nodes are capped wherever nodes is selected: inline fragment, named fragment, alias", async () => {
    const ids = Array.from({ length: 101 }, (_, i) => gid("Product", i + 1));
    for (const query of [
      `query($ids: [ID!]!) { ... on Query { nodes(ids: $ids) { id } } }`,
      `query($ids: [ID!]!) { ...N } fragment N on Query { many: nodes(ids: $ids) { id } }`,
      `query($ids: [ID!]!) { a: nodes(ids: ["${gid("Product", 1)}"]) { id } b: nodes(ids: $ids) { id } }`,
    ]) {
      expect(await refused(query, "nodeIds", {}, { ids })).toMatchObject({ max: 100, value: 101 });
    }
  });

  it("@stream(initialCount:) below 0 is the client's mistake, refused before any SQL", async () => {
    const before = statementsSent();
    const literal = await shop.gql(`{ categoryStats @stream(initialCount: -1) { category } }`);
    const variable = await shop.gql(`query($n: Int!) { categoryStats @stream(initialCount: $n) { category } }`, { n: -5 });
    for (const response of [literal, variable]) {
      expect(errorOf(response).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "initialCount" });
    }
    expect(statementsSent()).toBe(before);
  });

  it("a list literal nested 2,400 times (4.8 KB) is refused, not a stack overflow", async () => {
    const query = `{ products(filter: { category: ${"[".repeat(2400)}"x"${"]".repeat(2400)} }) { totalCount } }`;
    expect(query.length).toBeLessThan(5000);
    expect(await refused(query, "nesting")).toMatchObject({ max: 256, value: 257 });
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

describe("subscriptions per client", () => {
  it("one client cannot take every place: past MAX_SUBSCRIPTIONS_PER_CLIENT it is refused, others are not", async () => {
    const small = await createTestShop({
      seed: { users: 2, products: 2, ordersPerUser: 0, itemsPerOrder: 1 },
      env: { MAX_SUBSCRIPTIONS_PER_CLIENT: "3", MAX_SUBSCRIPTIONS_PER_CONNECTION: "100" },
    });
    const watch = `subscription { productStockChanged(productId: "${gid("Product", 1)}") { stock } }`;
    const { wsUrl } = await listen(small);
    const clients: Awaited<ReturnType<typeof wsClient>>[] = [];
    try {
      // Ten asked for at once, by one anonymous client over two connections: three are accepted.
      const connections = [await wsClient(wsUrl, { as: "anonymous" }), await wsClient(wsUrl, { as: "anonymous" })];
      clients.push(...connections);
      const listening = small.subscribed("productStockChanged", 3);
      const asked = Array.from({ length: 10 }, (_, i) => connections[i % 2]!.iterate({ query: watch }));
      const refusals: (string | undefined)[] = [];
      let sevenRefused!: () => void;
      const seven = new Promise<void>((resolve) => (sevenRefused = resolve));
      for (const operation of asked) {
        operation.next().catch((errors: { extensions?: { limit?: string } }[]) => {
          refusals.push(errors[0]?.extensions?.limit);
          if (refusals.length === 7) sevenRefused();
        });
      }
      await Promise.all([listening, seven]);
      expect(refusals).toEqual(Array(7).fill("subscriptionsPerClient"));
      expect(small.subscribers("productStockChanged")).toBe(3);
      // Another client (an admin) still gets its place.
      const admin = await wsClient(wsUrl);
      clients.push(admin);
      const adminListening = small.subscribed("productStockChanged");
      const adminWatch = admin.iterate({ query: watch });
      void adminWatch.next();
      await adminListening;
      expect(small.subscribers("productStockChanged")).toBe(4);
      for (const operation of asked) await operation.return?.();
      await adminWatch.return?.();
    } finally {
      for (const client of clients) await client.dispose();
      await small.close();
    }
  });
});

describe("rate limits", () => {
  /** Posts through a real socket (the rate limit counts by the address it comes from). */
  const poster = (url: string) => async (headers: Record<string, string>) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
      body: JSON.stringify({ query: "{ products(first: 1) { totalCount } }" }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      body: (await response.json()) as GraphQLResponse,
    };
  };

  it("count per identity, or per address when anonymous, and answer 429 with Retry-After", async () => {
    const limited = await createTestShop({
      seed: { users: 3, products: 1, ordersPerUser: 0, itemsPerOrder: 1 },
      env: { RATE_LIMIT_PER_MINUTE: "3", TRUST_PROXY: "1" },
    });
    const served = await listen(limited);
    const post = poster(served.url);
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
      // Over WebSocket the same allowance is spent: alice has none left.
      const client = await wsClient(served.wsUrl, { as: { customer: 1 } });
      try {
        expect(errorOf(await overWebSocket(client, "{ products(first: 1) { totalCount } }")).extensions?.code).toBe(
          "RATE_LIMITED",
        );
      } finally {
        await client.dispose();
      }
    } finally {
      await limited.close();
    }
  });

  it("read the client's address from the right of X-Forwarded-For: a spoofed left part changes nothing", async () => {
    // One trusted hop (the balancer, here the test itself) appends the address it saw; whatever
    // the client wrote before it is not believed.
    const limited = await createTestShop({ seed: false, env: { RATE_LIMIT_PER_MINUTE: "60", TRUST_PROXY: "1" } });
    const post = poster((await listen(limited)).url);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 80; i++) {
        statuses.push((await post({ "x-forwarded-for": `10.${i}.0.1, 198.51.100.9` })).status);
      }
      expect(statuses.filter((status) => status === 200)).toHaveLength(60);
      expect(statuses.slice(60)).toEqual(Array(20).fill(429));
    } finally {
      await limited.close();
    }
  });

  it("trust only the proxies TRUST_PROXY names, by hops or by address", () => {
    const from = (forwarded: string, socket: string, trust: string | undefined) =>
      clientAddress(new Headers({ "x-forwarded-for": forwarded }), socket, loadConfig({ TRUST_PROXY: trust }).trustProxy);
    // No proxy trusted: the header is ignored.
    expect(from("203.0.113.1", "127.0.0.1", undefined)).toBe("127.0.0.1");
    // Hops, counted from the socket leftwards.
    expect(from("6.6.6.6, 203.0.113.1", "10.0.0.2", "1")).toBe("203.0.113.1");
    expect(from("6.6.6.6, 203.0.113.1, 10.0.0.3", "10.0.0.2", "2")).toBe("203.0.113.1");
    // Addresses: trusted ones are skipped, the first other one from the right is the client.
    expect(from("6.6.6.6, 203.0.113.1, 10.0.0.3", "127.0.0.1", "loopback,10.0.0.0/8")).toBe("203.0.113.1");
    // A socket that is not a trusted proxy is the client, whatever it writes.
    expect(from("203.0.113.1", "198.51.100.7", "loopback")).toBe("198.51.100.7");
    expect(() => loadConfig({ TRUST_PROXY: "true" })).toThrow(/TRUST_PROXY must be a number of proxy hops/);
    expect(() => loadConfig({ TRUST_PROXY: "10.0.0.0/33" })).toThrow(/TRUST_PROXY/);
  });

  it("refuse a client over its limit before its document is parsed", async () => {
    const limited = await createTestShop({ seed: false, env: { RATE_LIMIT_PER_MINUTE: "1" } });
    const { url } = await listen(limited);
    try {
      expect((await poster(url)({})).status).toBe(200);
      // A document that is not even GraphQL: over the limit, the answer is still RATE_LIMITED.
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ {{ not graphql" }),
      });
      expect(response.status).toBe(429);
      expect(errorOf((await response.json()) as GraphQLResponse).extensions?.code).toBe("RATE_LIMITED");
    } finally {
      await limited.close();
    }
  });

  it.runIf(testDatabaseKind === "postgres" && process.env.TEST_REDIS_URL)("hold across instances through Redis", async () => {
    const env = { RATE_LIMIT_PER_MINUTE: "3", REDIS_URL: process.env.TEST_REDIS_URL!, TRUST_PROXY: "1" };
    const [a, b] = [await createTestShop({ seed: false, env }), await createTestShop({ seed: false, env })];
    const [postA, postB] = [poster((await listen(a)).url), poster((await listen(b)).url)];
    // A fresh address per run, so a count left in Redis by an earlier run cannot interfere.
    const address = `198.51.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
    try {
      const statuses = [];
      for (const post of [postA, postB, postA, postB]) statuses.push((await post({ "x-forwarded-for": address })).status);
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
    // Only version 1 of the extension exists: another is refused, not run as a plain query.
    const version2 = await send(shop, { query, extensions: { persistedQuery: { ...persistedQuery, version: 2 } } });
    expect(version2.status).toBe(400);
    expect(errorOf(version2.body).extensions?.code).toBe("PERSISTED_QUERY_NOT_SUPPORTED");
    // A hash in codegen's `sha256:` form names the same document.
    const prefixed = await send(shop, { extensions: { persistedQuery: { version: 1, sha256Hash: `sha256:${sha256(query)}` } } });
    expect(dataOf(prefixed.body)).toEqual({ products: { totalCount: 5 } });
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
      for (const [body, code] of [
        [{ query: "{ products(first: 1) { totalCount } }" }, "CANNOT_SEND_PQ_ID_AND_BODY"],
        [
          { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: sha256("{ __typename }") } } },
          "CANNOT_SEND_PQ_ID_AND_BODY",
        ],
        [{ extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }, "PERSISTED_QUERY_NOT_IN_LIST"],
        [{ variables: {} }, "PERSISTED_QUERY_ID_REQUIRED"],
      ] as const) {
        const res = await send(strict, body);
        expect(res.body.data).toBeUndefined();
        expect(res.body.errors?.length).toBe(1);
        expect([res.status, errorOf(res.body).extensions?.code]).toEqual([400, code]);
        expect(errorOf(res.body).message).toMatch(/^This server runs only its clients' trusted documents/);
      }
      expect(statementsSent()).toBe(before);
      // The same over WebSocket: the trusted document by its hash (codegen's `sha256:` form too), nothing else.
      const client = await wsClient((await listen(strict)).wsUrl, { as: "anonymous" });
      try {
        for (const sha256Hash of [sha256(trusted), `sha256:${sha256(trusted)}`]) {
          const answer = await overWebSocket(client, "", {}, { persistedQuery: { version: 1, sha256Hash } });
          expect(dataOf(answer)).toEqual({ products: { totalCount: 0 } });
        }
        const arbitrary = await overWebSocket(client, "{ products(first: 1) { totalCount } }");
        expect(arbitrary.data).toBeUndefined();
        expect(errorOf(arbitrary).extensions?.code).toBe("CANNOT_SEND_PQ_ID_AND_BODY");
      } finally {
        await client.dispose();
      }
      expect(statementsSent()).toBe(before + 2);
    } finally {
      await strict.close();
    }
  });
});
