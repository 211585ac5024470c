/**
 * Identity and authorization: tokens are verified on every transport (HTTP, SSE, WebSocket); the
 * roles see and do exactly what the README's security section says; a customer who walks other
 * customers' ids through every path sees none of their fields; and authorization costs no
 * statements per row.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { gid } from "./support/ids.js";
import {
  type As,
  createTestShop,
  dataOf,
  errorOf,
  type GraphQLResponse,
  listen,
  STRATEGIES,
  TEST_SECRET,
  type TestShop,
} from "./support/shop.js";

let shop: TestShop;
let server: { url: string; wsUrl: string };
/** The customer the tests sign in as, and the rows that are not theirs. */
let me: { id: number; email: string };
let foreign: { users: { id: number; email: string }[]; orders: number[]; items: number[] };

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 20, products: 8, ordersPerUser: 4, itemsPerOrder: 2 } });
  server = await listen(shop);
  const customer = await shop.prisma.user.findFirstOrThrow({ where: { active: true }, orderBy: { id: "asc" } });
  me = { id: customer.id, email: customer.email };
  const others = await shop.prisma.user.findMany({ where: { id: { not: me.id } }, orderBy: { id: "asc" } });
  const orders = await shop.prisma.order.findMany({ where: { userId: { not: me.id } }, orderBy: { id: "asc" } });
  const items = await shop.prisma.orderItem.findMany({ where: { order: { userId: { not: me.id } } }, orderBy: { id: "asc" } });
  foreign = {
    users: others.map((u) => ({ id: u.id, email: u.email })),
    orders: orders.map((o) => o.id),
    items: items.map((i) => i.id),
  };
});
afterAll(() => shop?.close());

const customer = (): As => ({ customer: me.id });

/** Signs a token the way an identity provider would, with any claims and key. */
async function sign(
  claims: Record<string, unknown>,
  options: {
    secret?: string;
    /** When it expires; null for no `exp` at all. */
    expiresIn?: string | number | null;
    /** `iat`, in seconds since the epoch (default: now). */
    issuedAt?: number;
    issuer?: string;
    audience?: string;
    alg?: string;
  } = {},
) {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? "HS256" }).setIssuedAt(options.issuedAt);
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(options.expiresIn ?? "5m");
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

/** A token with `alg: none`: a valid shape and no signature at all. */
function unsigned(claims: Record<string, unknown>) {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
}

/** Posts a query with exactly this Authorization header; returns the status, the challenge and the body. */
async function withAuthorization(authorization: string, query = "{ products(first: 1) { totalCount } }", target = shop) {
  const response = await target.fetch(
    new Request("http://shop.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization },
      body: JSON.stringify({ query }),
    }),
  );
  return {
    status: response.status,
    challenge: response.headers.get("www-authenticate"),
    body: (await response.json()) as GraphQLResponse,
  };
}

describe("tokens over HTTP", () => {
  it("accepts a valid token and names no one without one", async () => {
    const ok = await withAuthorization(`Bearer ${await sign({ sub: String(me.id), role: "customer" })}`, "{ me { email } }");
    expect(ok.status).toBe(200);
    expect(dataOf(ok.body)).toEqual({ me: { email: me.email } });
    expect(dataOf(await shop.gql("{ me { email } }", {}, { as: "anonymous" }))).toEqual({ me: null });
  });

  it.each([
    [
      "forged (another secret)",
      () => sign({ sub: "1", role: "customer" }, { secret: "another-secret-of-thirty-two-characters!!" }),
      "signature",
    ],
    ["expired", () => sign({ sub: "1", role: "customer" }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), "expired"],
    ["alg: none", async () => unsigned({ sub: "1", role: "admin" }), "algorithm"],
    ["signed with HS512", () => sign({ role: "admin" }, { alg: "HS512" }), "algorithm"],
    ["a customer token without sub", () => sign({ role: "customer" }), "sub"],
    ["an unknown role", () => sign({ sub: "1", role: "superuser" }), "role"],
    ["a user that does not exist", () => sign({ sub: "987654", role: "customer" }), "does not exist"],
    ["without exp", () => sign({ sub: "1", role: "customer" }, { expiresIn: null }), "no exp claim"],
    ["issued two minutes from now", () => sign({ role: "admin" }, { issuedAt: Math.floor(Date.now() / 1000) + 120 }), "iat"],
  ])("refuses a token that is %s with 401 UNAUTHENTICATED", async (_, token, reason) => {
    const res = await withAuthorization(`Bearer ${await token()}`);
    expect(res.status).toBe(401);
    expect(res.challenge).toMatch(/^Bearer error="invalid_token"/);
    expect(errorOf(res.body).extensions?.code).toBe("UNAUTHENTICATED");
    expect(errorOf(res.body).message).toContain(reason);
    expect(res.body.data).toBeUndefined();
  });

  it("requires exp and an iat at most 60 s ahead of the server's clock, and says which is wrong", async () => {
    const now = Math.floor(Date.now() / 1000);
    const refusal = async (token: string) => {
      const res = await withAuthorization(`Bearer ${token}`);
      return [res.status, errorOf(res.body).extensions?.code, errorOf(res.body).message];
    };
    expect(await refusal(await sign({ role: "admin" }, { expiresIn: null }))).toEqual([
      401,
      "UNAUTHENTICATED",
      "The token has no exp claim: tokens that never expire are not accepted.",
    ]);
    // Far in the future, to outlive a short exp by its iat: still refused.
    expect(await refusal(await sign({ role: "admin" }, { issuedAt: now + 365 * 86_400, expiresIn: now + 366 * 86_400 }))).toEqual(
      [
        401,
        "UNAUTHENTICATED",
        "The token's iat claim is more than 60 s in the future: it cannot have been issued yet (check the issuer's clock).",
      ],
    );
    // Past the 60 s allowed with room to spare: `now` was read before the requests above, and on a
    // busy machine a second or more goes by before the server reads its clock.
    expect((await refusal(await sign({ role: "admin" }, { issuedAt: Math.floor(Date.now() / 1000) + 90 })))[0]).toBe(401);
    // Within the allowed clock skew, and a token without iat (nothing requires one): accepted.
    for (const token of [
      await sign({ role: "admin" }, { issuedAt: now + 30 }),
      await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(TEST_SECRET)),
    ]) {
      expect((await withAuthorization(`Bearer ${token}`)).status).toBe(200);
    }
  });

  it("refuses a token of an inactive user, and a header that is not a bearer token", async () => {
    const inactive = await shop.prisma.user.findFirstOrThrow({ where: { active: false } });
    const res = await withAuthorization(`Bearer ${await sign({ sub: String(inactive.id), role: "customer" })}`);
    expect([res.status, errorOf(res.body).message]).toEqual([401, "The token's user is inactive."]);
    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"]) {
      expect((await withAuthorization(header)).status).toBe(401);
    }
  });

  it("checks the issuer and audience when configured", async () => {
    const strict = await createTestShop({ seed: false, env: { AUTH_ISSUER: "https://idp.test/", AUTH_AUDIENCE: "shop-api" } });
    try {
      const good = await sign({ role: "admin" }, { issuer: "https://idp.test/", audience: "shop-api" });
      expect((await withAuthorization(`Bearer ${good}`, undefined, strict)).status).toBe(200);
      for (const bad of [
        await sign({ role: "admin" }, { issuer: "https://evil.test/", audience: "shop-api" }),
        await sign({ role: "admin" }, { issuer: "https://idp.test/", audience: "other-api" }),
        await sign({ role: "admin" }),
      ]) {
        const res = await withAuthorization(`Bearer ${bad}`, undefined, strict);
        expect([res.status, errorOf(res.body).extensions?.code]).toEqual([401, "UNAUTHENTICATED"]);
      }
    } finally {
      await strict.close();
    }
  });

  it("verifies asymmetric tokens against the identity provider's JWKS", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const other = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const jwks = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    const provider = await createTestShop({ seed: false, env: { AUTH_JWT_SECRET: "", AUTH_JWKS_URL: url } });
    const es256 = (key: CryptoKey) =>
      new SignJWT({ role: "admin" }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setExpirationTime("5m").sign(key);
    try {
      expect(
        (await withAuthorization(`Bearer ${await es256(privateKey)}`, "{ users { totalCount } }", provider)).body.data,
      ).toEqual({
        users: { totalCount: 0 },
      });
      // Signed by another key, without exp, issued in the future, or an HS256 token that tries to
      // use the public key as a secret.
      const noExp = await new SignJWT({ role: "admin" }).setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(privateKey);
      const future = await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuedAt(Math.floor(Date.now() / 1000) + 3600)
        .setExpirationTime("2h")
        .sign(privateKey);
      for (const [token, message] of [
        [noExp, "The token has no exp claim: tokens that never expire are not accepted."],
        [
          future,
          "The token's iat claim is more than 60 s in the future: it cannot have been issued yet (check the issuer's clock).",
        ],
      ] as const) {
        const res = await withAuthorization(`Bearer ${token}`, undefined, provider);
        expect([res.status, errorOf(res.body).extensions?.code, errorOf(res.body).message]).toEqual([
          401,
          "UNAUTHENTICATED",
          message,
        ]);
      }
      for (const bad of [
        await es256(other.privateKey),
        await sign({ role: "admin" }, { secret: JSON.stringify(jwk).padEnd(32) }),
      ]) {
        expect((await withAuthorization(`Bearer ${bad}`, undefined, provider)).status).toBe(401);
      }
    } finally {
      await provider.close();
      jwks.close();
    }
  });
});

describe("a subscription lives no longer than what it was made with", () => {
  const watch = 'subscription { productStockChanged(productId: "UHJvZHVjdDox") { stock } }';

  it("ends with UNAUTHENTICATED when its token expires, over SSE and WebSocket", async () => {
    // Expires in two seconds: each stream ends then by itself, with the reason.
    const token = await sign({ sub: String(me.id), role: "customer" }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const sse = createSseClient({ url: server.url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const ws = createWsClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    try {
      for (const stream of [sse.iterate({ query: watch }), ws.iterate({ query: watch })]) {
        const ended = await stream.next();
        expect(ended.value?.errors?.[0]).toMatchObject({
          message: "The token has expired; subscribe again with a new one.",
          extensions: { code: "UNAUTHENTICATED" },
        });
        expect((await stream.next()).done).toBe(true);
      }
    } finally {
      sse.dispose();
      await ws.dispose();
    }
  });

  it("ends with UNAUTHENTICATED when its user is deactivated, and the token is refused from then on", async () => {
    const user = await shop.prisma.user.create({ data: { name: "Leaving", email: `leaving-${Date.now()}@example.com` } });
    const token = await shop.token({ customer: user.id });
    const sse = createSseClient({ url: server.url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    try {
      const listening = shop.subscribed("productStockChanged");
      const stream = sse.iterate({ query: watch });
      const ended = stream.next();
      await listening;
      dataOf(await shop.gql(`mutation { updateUser(id: "${gid("User", user.id)}", input: { active: false }) { active } }`));
      expect((await ended).value?.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect((await stream.next()).done).toBe(true);
      expect(errorOf(await shop.gql("{ me { id } }", {}, { as: { customer: user.id } })).extensions?.code).toBe(
        "UNAUTHENTICATED",
      );
    } finally {
      sse.dispose();
    }
  });
});

describe("tokens over SSE and WebSocket", () => {
  it("SSE: a bad token is refused with UNAUTHENTICATED; anonymous may not watch orders", async () => {
    const expired = await sign({ sub: String(me.id), role: "customer" }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const bad = createSseClient({ url: server.url, headers: { authorization: `Bearer ${expired}` }, retryAttempts: 0 });
    await expect(
      bad.iterate({ query: 'subscription { productStockChanged(productId: "UHJvZHVjdDox") { id } }' }).next(),
    ).rejects.toThrow(/UNAUTHENTICATED|expired|401/);
    bad.dispose();
    const anonymous = createSseClient({ url: server.url, retryAttempts: 0 });
    const result = await anonymous.iterate({ query: "subscription { orderCreated { id } }" }).next();
    expect(result.value.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    anonymous.dispose();
  });

  it("WebSocket: a bad token closes the connection with 4403; a customer watches only their own orders", async () => {
    const forged = await sign({ sub: String(me.id), role: "customer" }, { secret: "another-secret-of-thirty-two-characters!!" });
    let closed: number | undefined;
    const refused = createWsClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${forged}` },
      on: { closed: (event) => (closed = (event as { code: number }).code) },
    });
    await expect(refused.iterate({ query: "{ products(first: 1) { totalCount } }" }).next()).rejects.toBeDefined();
    expect(closed).toBe(4403);
    await refused.dispose();

    const token = await shop.token({ customer: me.id });
    const client = createWsClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const own = await shop.prisma.order.findFirstOrThrow({ where: { userId: me.id } });
    const codes = async (query: string) => (await client.iterate({ query }).next()).value?.errors?.[0]?.extensions?.code;
    expect(await codes("subscription { orderCreated { id } }")).toBe("FORBIDDEN");
    expect(await codes(`subscription { orderStatusChanged(orderId: "${gid("Order", foreign.orders[0]!)}") { id } }`)).toBe(
      "NOT_FOUND",
    );
    expect(await codes(`{ me { id } }`)).toBeUndefined();
    // Their own order: the subscription is accepted (it would wait for an event), so end it.
    const watch = client.iterate({
      query: `subscription { orderStatusChanged(orderId: "${gid("Order", own.id)}") { id status } }`,
    });
    const listening = shop.subscribed("orderStatusChanged");
    const next = watch.next();
    await listening;
    await watch.return?.();
    expect((await next).done).toBe(true);
    await client.dispose();
  });
});

describe("what a customer sees", () => {
  it("only themselves, their orders and their lines, with counts to match", async () => {
    const res = await shop.gql(
      `{ users { totalCount edges { node { id } } } orders(first: 100) { totalCount edges { node { user { id } } } } }`,
      {},
      { as: customer() },
    );
    const data = dataOf(res);
    const ownOrders = await shop.prisma.order.count({ where: { userId: me.id } });
    expect(data.users).toEqual({ totalCount: 1, edges: [{ node: { id: gid("User", me.id) } }] });
    expect(data.orders.totalCount).toBe(ownOrders);
    expect(new Set(data.orders.edges.map((e: { node: { user: { id: string } } }) => e.node.user.id))).toEqual(
      new Set([gid("User", me.id)]),
    );
  });

  it("walks 200 ids of other customers through every path and sees none of their fields", async () => {
    const ids = [
      ...foreign.users.map((u) => gid("User", u.id)),
      ...foreign.orders.map((id) => gid("Order", id)),
      ...foreign.items.map((id) => gid("OrderItem", id)),
    ].slice(0, 200);
    expect(ids).toHaveLength(200);
    const as = customer();
    const responses: GraphQLResponse[] = [];
    const run = async (query: string, variables?: Record<string, unknown>) => {
      const res = await shop.gql(query, variables, { as });
      expect(res.errors ?? []).toEqual([]);
      responses.push(res);
    };
    const NODE = `id __typename ... on User { name email orderCount } ... on Order { status notes total user { email } } ... on OrderItem { quantity order { id user { email } } }`;
    for (let i = 0; i < ids.length; i += 25) {
      const batch = ids.slice(i, i + 25);
      await run(`{ ${batch.map((id, k) => `n${k}: node(id: "${id}") { ${NODE} }`).join(" ")} }`);
      const users = batch.filter((id) => Buffer.from(id, "base64").toString().startsWith("User:"));
      const orders = batch.filter((id) => Buffer.from(id, "base64").toString().startsWith("Order:"));
      if (users.length) {
        await run(`{ ${users.map((id, k) => `u${k}: user(id: "${id}") { email }`).join(" ")} }`);
        await run(
          `{ ${users.map((id, k) => `o${k}: orders(filter: { userId: "${id}" }) { totalCount edges { node { id } } }`).join(" ")} }`,
        );
      }
      if (orders.length)
        await run(`{ ${orders.map((id, k) => `o${k}: order(id: "${id}") { id notes user { email } }`).join(" ")} }`);
    }
    for (let i = 0; i < ids.length; i += 100)
      await run(`query($ids: [ID!]!) { nodes(ids: $ids) { ${NODE} } }`, { ids: ids.slice(i, i + 100) });
    await run(
      `{ products(first: 100) { edges { node { orderItems(first: 100) { id quantity order { id user { id email } } } } } } }`,
    );
    await run(`{ users(first: 100, filter: { search: "example.com" }) { totalCount edges { node { email } } } }`);
    await run(
      `{ me { orders(first: 10) { items(first: 10) { product { orderItems(first: 20) { id order { user { email } } } } } } } }`,
    );
    for (const strategy of STRATEGIES) {
      responses.push(
        await shop.gql(
          `{ products(first: 20) { edges { node { orderItems { order { user { email } } } } } } }`,
          {},
          { as, strategy },
        ),
      );
    }
    // Deferred parts resolve under the same rules: every payload of an incremental response.
    const deferred = await shop.fetch(
      new Request("http://shop.test/graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          authorization: `Bearer ${await shop.token(as as { customer: number })}`,
        },
        body: JSON.stringify({
          query: `{ products(first: 20) { edges { node { name ... @defer { orderItems { id order { user { email } } } } } } } }`,
        }),
      }),
    );
    const payloads = (await deferred.text()).split("\n").filter((line) => line.startsWith("data: {"));
    expect(payloads.length).toBeGreaterThan(1);
    responses.push({ data: payloads.map((line) => JSON.parse(line.slice(6))) });
    // Watching someone else's order answers as a missing order.
    for (const orderId of foreign.orders.slice(0, 5)) {
      const res = await shop.gql(
        `subscription { orderStatusChanged(orderId: "${gid("Order", orderId)}") { id user { email } } }`,
        {},
        { as },
      );
      expect(errorOf(res).extensions?.code).toBe("NOT_FOUND");
      responses.push({ data: res.data });
    }

    const text = JSON.stringify(responses.map((r) => r.data));
    const leaks = [...ids, ...foreign.users.map((u) => u.email)].filter((secret) => text.includes(secret));
    expect(leaks).toEqual([]);
    // The walk did reach data: the customer's own email came back through the nested paths.
    expect(text).toContain(me.email);
  });

  it("may not read the reports or watch every order", async () => {
    for (const field of ["salesReport { totalCount }", "customerSpending { totalCount }", "orderStats { status }"]) {
      expect(errorOf(await shop.gql(`{ ${field} }`, {}, { as: customer() })).extensions?.code).toBe("FORBIDDEN");
      expect(errorOf(await shop.gql(`{ ${field} }`, {}, { as: "anonymous" })).extensions?.code).toBe("UNAUTHENTICATED");
    }
    expect(
      dataOf(await shop.gql(`{ categoryStats { category } }`, {}, { as: "anonymous" })).categoryStats.length,
    ).toBeGreaterThan(0);
  });

  it("anonymous sees the catalogue and nothing about customers or orders", async () => {
    const catalogue = await shop.gql(
      `{ products(first: 3) { totalCount edges { node { name price stock category unitsSold } } } }`,
      {},
      { as: "anonymous" },
    );
    expect(dataOf(catalogue).products.totalCount).toBe(8);
    for (const query of [
      `{ users { totalCount } }`,
      `{ orders { totalCount } }`,
      `{ user(id: "${gid("User", me.id)}") { id } }`,
      `{ order(id: "${gid("Order", foreign.orders[0]!)}") { id } }`,
      `{ products(first: 1) { edges { node { orderItems { id } } } } }`,
    ]) {
      const res = await shop.gql(query, {}, { as: "anonymous" });
      expect(errorOf(res).extensions?.code).toBe("UNAUTHENTICATED");
      expect(JSON.stringify(res.data)).not.toMatch(/"id":"(VXNlcj|T3JkZX)/);
    }
    const node = await shop.gql(`{ node(id: "${gid("User", me.id)}") { id } }`, {}, { as: "anonymous" });
    expect(dataOf(node)).toEqual({ node: null });
  });
});

describe("what each role may do", () => {
  let seq = 0;
  async function fixture() {
    const user = await shop.prisma.user.create({ data: { name: "Target", email: `target${++seq}@example.com` } });
    const product = await shop.prisma.product.create({
      data: { name: `Thing ${seq}`, price: "5.00", stock: 50, category: "Things" },
    });
    const order = await shop.prisma.order.create({
      data: { userId: me.id, items: { create: [{ productId: product.id, quantity: 1, unitPrice: "5.00" }] } },
    });
    const theirs = await shop.prisma.order.create({
      data: { userId: user.id, items: { create: [{ productId: product.id, quantity: 1, unitPrice: "5.00" }] } },
    });
    return {
      user: gid("User", user.id),
      product: gid("Product", product.id),
      order: gid("Order", order.id),
      theirs: gid("Order", theirs.id),
    };
  }

  type Case = [string, "anonymous" | "customer" | "admin", string, (f: Awaited<ReturnType<typeof fixture>>) => string];
  const cases: Case[] = [
    [
      "createUser",
      "anonymous",
      "UNAUTHENTICATED",
      () => `createUser(input: { name: "New", email: "new${seq}@example.com" }) { id }`,
    ],
    ["createUser", "customer", "FORBIDDEN", () => `createUser(input: { name: "New", email: "new${seq}@example.com" }) { id }`],
    ["createUser", "admin", "OK", () => `createUser(input: { name: "New", email: "new${seq}@example.com" }) { id }`],
    [
      "updateUser: own name and email",
      "customer",
      "OK",
      () => `updateUser(id: "${gid("User", me.id)}", input: { name: "Me Again" }) { name }`,
    ],
    ["updateUser: own age", "customer", "FORBIDDEN", () => `updateUser(id: "${gid("User", me.id)}", input: { age: 30 }) { age }`],
    [
      "updateUser: own active flag",
      "customer",
      "FORBIDDEN",
      () => `updateUser(id: "${gid("User", me.id)}", input: { active: false }) { id }`,
    ],
    ["updateUser: someone else", "customer", "NOT_FOUND", (f) => `updateUser(id: "${f.user}", input: { name: "X" }) { id }`],
    ["updateUser", "anonymous", "UNAUTHENTICATED", (f) => `updateUser(id: "${f.user}", input: { name: "X" }) { id }`],
    ["updateUser", "admin", "OK", (f) => `updateUser(id: "${f.user}", input: { age: 40 }) { age }`],
    ["deleteUser", "customer", "FORBIDDEN", (f) => `deleteUser(id: "${f.user}") { id }`],
    ["deleteUser", "admin", "OK", (f) => `deleteUser(id: "${f.user}") { id }`],
    ["createProduct", "customer", "FORBIDDEN", () => `createProduct(input: { name: "P", price: "1.00", category: "C" }) { id }`],
    ["createProduct", "admin", "OK", () => `createProduct(input: { name: "P", price: "1.00", category: "C" }) { id }`],
    ["updateProduct", "customer", "FORBIDDEN", (f) => `updateProduct(id: "${f.product}", input: { price: "0.01" }) { id }`],
    [
      "updateProduct",
      "anonymous",
      "UNAUTHENTICATED",
      (f) => `updateProduct(id: "${f.product}", input: { price: "0.01" }) { id }`,
    ],
    ["restockProduct", "customer", "FORBIDDEN", (f) => `restockProduct(id: "${f.product}", quantity: 5) { id }`],
    ["restockProduct", "admin", "OK", (f) => `restockProduct(id: "${f.product}", quantity: 5) { stock }`],
    ["deleteProduct", "customer", "FORBIDDEN", (f) => `deleteProduct(id: "${f.product}") { id }`],
    [
      "createOrder: for themselves",
      "customer",
      "OK",
      (f) => `createOrder(input: { items: [{ productId: "${f.product}", quantity: 1 }] }) { user { id } }`,
    ],
    [
      "createOrder: for someone else",
      "customer",
      "NOT_FOUND",
      (f) => `createOrder(input: { userId: "${f.user}", items: [{ productId: "${f.product}", quantity: 1 }] }) { id }`,
    ],
    [
      "createOrder",
      "anonymous",
      "UNAUTHENTICATED",
      (f) => `createOrder(input: { items: [{ productId: "${f.product}", quantity: 1 }] }) { id }`,
    ],
    [
      "createOrder: an operator names no customer",
      "admin",
      "BAD_USER_INPUT",
      (f) => `createOrder(input: { items: [{ productId: "${f.product}", quantity: 1 }] }) { id }`,
    ],
    [
      "createOrder: for a customer",
      "admin",
      "OK",
      (f) => `createOrder(input: { userId: "${f.user}", items: [{ productId: "${f.product}", quantity: 1 }] }) { id }`,
    ],
    [
      "updateOrderStatus: cancel own PENDING",
      "customer",
      "OK",
      (f) => `updateOrderStatus(id: "${f.order}", status: CANCELLED) { status }`,
    ],
    [
      "updateOrderStatus: move own order on",
      "customer",
      "FORBIDDEN",
      (f) => `updateOrderStatus(id: "${f.order}", status: PROCESSING) { status }`,
    ],
    [
      "updateOrderStatus: cancel someone else's",
      "customer",
      "NOT_FOUND",
      (f) => `updateOrderStatus(id: "${f.theirs}", status: CANCELLED) { status }`,
    ],
    ["updateOrderStatus", "admin", "OK", (f) => `updateOrderStatus(id: "${f.theirs}", status: PROCESSING) { status }`],
    [
      "bulkUpdateOrderStatus",
      "customer",
      "FORBIDDEN",
      () => `bulkUpdateOrderStatus(filter: { status: PENDING }, to: PROCESSING) { count }`,
    ],
    [
      "bulkUpdateOrderStatus",
      "anonymous",
      "UNAUTHENTICATED",
      () => `bulkUpdateOrderStatus(filter: { status: PENDING }, to: PROCESSING) { count }`,
    ],
  ];

  it.each(cases)("%s, as %s: %s", async (_, who, expected, mutation) => {
    const f = await fixture();
    const before = await shop.snapshot();
    const res = await shop.gql(`mutation { ${mutation(f)} }`, {}, { as: who === "customer" ? customer() : who });
    if (expected === "OK") {
      dataOf(res);
      expect(await shop.snapshot()).not.toBe(before);
    } else {
      expect(errorOf(res).extensions?.code).toBe(expected);
      expect(await shop.snapshot()).toBe(before);
    }
  });

  it("a customer cannot cancel their order once the shop is processing it", async () => {
    const f = await fixture();
    dataOf(await shop.gql(`mutation { updateOrderStatus(id: "${f.order}", status: PROCESSING) { id } }`));
    const res = await shop.gql(
      `mutation { updateOrderStatus(id: "${f.order}", status: CANCELLED) { id } }`,
      {},
      { as: customer() },
    );
    expect(errorOf(res).extensions).toMatchObject({ code: "FORBIDDEN", from: "PROCESSING" });
  });
});

describe("authorization costs no statements per row", () => {
  const statements = async (query: string, strategy: string) => {
    const res = await shop.gql(query, {}, { as: customer(), strategy });
    dataOf(res);
    return res.extensions!.sql!.count;
  };

  it("a customer's own lists cost what an admin's do: one statement per level, whatever N", async () => {
    for (const n of [1, 3]) {
      const query = `{ orders(first: ${n}) { edges { node { items { product { name } } } } } }`;
      expect(await statements(query, "eager")).toBe(1);
      expect(await statements(query, "batched")).toBe(3);
    }
  });

  it("lines reached through the catalogue are filtered in the same statements, identically in every strategy", async () => {
    const query = (n: number) =>
      `{ products(first: ${n}) { edges { node { name orderItems { quantity order { id user { email } } } } } } }`;
    for (const n of [2, 8]) {
      expect(await statements(query(n), "eager")).toBe(1);
      expect(await statements(query(n), "batched")).toBe(4);
    }
    const [eager, batched, lazy] = await Promise.all(
      STRATEGIES.map((strategy) => shop.gql(query(8), {}, { as: customer(), strategy })),
    );
    expect(dataOf(batched!)).toEqual(dataOf(eager!));
    expect(dataOf(lazy!)).toEqual(dataOf(eager!));
    expect(JSON.stringify(dataOf(eager!))).toContain(me.email);
  });
});
