/**
 * The HTTP surface a browser or a hostile client meets before any resolver runs: CORS from
 * CORS_ORIGINS, CSRF protection of form posts, no mutations over GET, the body-size limit (413) and
 * bodies of unknown length (411) on a real socket, the batch limit, the security headers of the
 * GraphiQL page, and the production switches (GraphiQL, introspection, `extensions.sql`, the `lazy`
 * strategy). Every refused request that carried a mutation is shown to have written nothing.
 */
import { mkdtempSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type As, createTestShop, dataOf, errorOf, type GraphQLResponse, listen, type TestShop } from "./support/shop.js";
import { overWebSocket, wsClient } from "./support/ws.js";

const SEED = { users: 3, products: 3, ordersPerUser: 1, itemsPerOrder: 1 };
const ALLOWED = "https://shop.example.com";
const FOREIGN = "https://evil.example";
const ENDPOINT = "http://shop.test/graphql";
const A_QUERY = "{ products { totalCount } }";

/** A mutation that writes a row if it runs at all. */
const createUser = (email: string) => `mutation { createUser(input: { name: "Mallory", email: "${email}" }) { id email } }`;

/** Development, every HTTP setting at its default. */
let plain: TestShop;
/** Development, one browser origin allowed, and a small body limit. */
let configured: TestShop;
/** Production with its defaults (see the note on SQL_EXPLAIN below). */
let production: TestShop;
/** Production with every switch turned back on: GraphiQL, introspection, SQL for admins, `lazy` for admins. */
let switchedOn: TestShop;
/** Development as `npm start` runs it: the local secret, GraphiQL with demo tokens; two connections at most, quick timeouts. */
let demo: TestShop;

beforeAll(async () => {
  [plain, configured, production, switchedOn, demo] = await Promise.all([
    createTestShop({ seed: SEED }),
    createTestShop({ seed: SEED, env: { CORS_ORIGINS: ALLOWED, MAX_BODY_BYTES: "2048" } }),
    // The harness sets SQL_EXPLAIN=1 for every shop; an empty value leaves it unset, so the
    // production default applies.
    createTestShop({ seed: SEED, env: { NODE_ENV: "production", SQL_EXPLAIN: "" } }),
    createTestShop({
      seed: SEED,
      env: { NODE_ENV: "production", SQL_EXPLAIN: "1", GRAPHIQL: "1", INTROSPECTION: "1", LAZY_STRATEGY: "1" },
    }),
    createTestShop({
      seed: SEED,
      env: {
        AUTH_JWT_SECRET: "",
        AUTH_LOCAL_SECRET_FILE: join(mkdtempSync(join(tmpdir(), "shop-secret-")), "jwt-secret"),
        MAX_CONNECTIONS: "2",
      },
      socketTimeouts: { headersMs: 1_500, webSocketPingMs: 200 },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.close(), configured?.close(), production?.close(), switchedOn?.close(), demo?.close()]);
});

interface Sent {
  status: number;
  headers: Headers;
  text: string;
  body: GraphQLResponse | GraphQLResponse[] | undefined;
}

/**
 * Sends a request through the shop's fetch (no port). It carries an admin's token unless `as` says
 * otherwise, so a refusal below is the HTTP layer's, not authorization's.
 */
async function send(shop: TestShop, init: RequestInit & { url?: string; as?: As }): Promise<Sent> {
  const { url = ENDPOINT, as = "admin", ...rest } = init;
  const headers = new Headers(rest.headers);
  if (as !== "anonymous") headers.set("authorization", `Bearer ${await shop.token(as)}`);
  const response = await shop.fetch(new Request(url, { ...rest, headers }));
  const text = await response.text();
  let body: Sent["body"];
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** The single response of a non-batched request. */
const single = (sent: Sent) => sent.body as GraphQLResponse;

/** A JSON POST of one operation. */
const postJson = (shop: TestShop, query: string, headers: Record<string, string> = {}) =>
  send(shop, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });

/** The id of a seeded customer who may sign in. */
async function activeCustomer(shop: TestShop): Promise<number> {
  return (await shop.prisma.user.findFirstOrThrow({ where: { active: true }, orderBy: { id: "asc" } })).id;
}

/** A raw HTTP/1.1 request on a real socket, headers exactly as given; `body` chunks are written one by one. */
function raw(
  url: string,
  options: { headers: Record<string, string>; body?: string[]; endWithoutBody?: boolean },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: "POST", headers: options.headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => {
        // A request whose body was never sent is abandoned once its answer is in.
        request.destroy();
        resolve({ status: response.statusCode!, headers: response.headers, body: text ? JSON.parse(text) : undefined });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    if (options.endWithoutBody) {
      request.flushHeaders();
      return;
    }
    for (const chunk of options.body ?? []) request.write(chunk);
    request.end();
  });
}

describe("CORS", () => {
  const preflight = (shop: TestShop, origin: string) =>
    send(shop, {
      method: "OPTIONS",
      as: "anonymous",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
      },
    });

  it("CORS_ORIGINS: allows the listed origin, never echoes another, never allows credentials", async () => {
    const allowedPreflight = await preflight(configured, ALLOWED);
    expect(allowedPreflight.status).toBe(204);
    expect(allowedPreflight.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(allowedPreflight.headers.get("access-control-allow-methods")).toBe("GET, POST");
    expect(allowedPreflight.headers.get("access-control-allow-credentials")).toBeNull();

    const allowedPost = await postJson(configured, A_QUERY, { origin: ALLOWED });
    expect(allowedPost.status).toBe(200);
    expect(dataOf(single(allowedPost)).products.totalCount).toBe(SEED.products);
    expect(allowedPost.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(allowedPost.headers.get("access-control-allow-credentials")).toBeNull();

    // Yoga answers a single listed origin whoever asks, which a browser then refuses for any
    // other origin; what matters is that the foreign origin is never named and never credentialed.
    for (const foreign of [await preflight(configured, FOREIGN), await postJson(configured, A_QUERY, { origin: FOREIGN })]) {
      expect(foreign.headers.get("access-control-allow-origin")).not.toBe(FOREIGN);
      expect(foreign.headers.get("access-control-allow-origin")).not.toBe("*");
      expect(foreign.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("by default: no Access-Control-Allow-Origin for a foreign origin at all", async () => {
    const foreignPreflight = await preflight(plain, FOREIGN);
    const foreignPost = await postJson(plain, A_QUERY, { origin: FOREIGN });
    for (const foreign of [foreignPreflight, foreignPost]) {
      expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
      expect(foreign.headers.get("access-control-allow-credentials")).toBeNull();
      expect(foreign.headers.get("access-control-allow-methods")).toBeNull();
    }
    // The preflight is answered without any CORS header, so a browser does not send the request.
    expect(foreignPreflight.status).toBe(204);
    // A client outside a browser is not CORS' business: it is answered, and a browser keeps the answer from the page.
    expect(foreignPost.status).toBe(200);
  });
});

describe("CSRF", () => {
  const encodings = {
    "application/x-www-form-urlencoded": (query: string) => ({
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query }).toString(),
    }),
    // The GraphQL multipart request spec: the operation is the `operations` field, as JSON.
    "multipart/form-data": (query: string) => {
      const form = new FormData();
      form.set("operations", JSON.stringify({ query }));
      return { headers: {}, body: form };
    },
    "text/plain": (query: string) => ({ headers: { "content-type": "text/plain" }, body: JSON.stringify({ query }) }),
  } satisfies Record<string, (query: string) => { headers: Record<string, string>; body: BodyInit }>;

  it.each(Object.keys(encodings) as (keyof typeof encodings)[])(
    "%s: a mutation from a foreign origin is refused (403) and writes nothing; with x-graphql-csrf it is processed",
    async (encoding) => {
      const email = `csrf-${encoding.replace(/\W/g, "-")}@example.com`;
      const before = await plain.snapshot();
      const { headers, body } = encodings[encoding](createUser(email));
      const refused = await send(plain, { method: "POST", headers: { ...headers, origin: FOREIGN }, body });
      expect(refused.status).toBe(403);
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      expect(errorOf(single(refused)).extensions?.code).toBe("BAD_REQUEST");
      expect(errorOf(single(refused)).message).toContain("x-graphql-csrf");
      expect(single(refused).data).toBeUndefined();
      expect(await plain.snapshot()).toBe(before);

      const again = encodings[encoding](createUser(email));
      const processed = await send(plain, {
        method: "POST",
        headers: { ...again.headers, origin: FOREIGN, "x-graphql-csrf": "1" },
        body: again.body,
      });
      if (encoding === "text/plain") {
        // Past the CSRF check, yoga has no parser for text/plain: 415, and still nothing written.
        expect(processed.status).toBe(415);
        expect(await plain.snapshot()).toBe(before);
      } else {
        expect(processed.status).toBe(200);
        expect(dataOf(single(processed)).createUser.email).toBe(email);
        expect(await plain.prisma.user.count({ where: { email } })).toBe(1);
      }
    },
  );

  it("a mutation over GET is refused (405) and writes nothing; a query over GET works", async () => {
    const before = await plain.snapshot();
    const mutation = await send(plain, {
      method: "GET",
      url: `${ENDPOINT}?${new URLSearchParams({ query: createUser("get@example.com") })}`,
      headers: { accept: "application/graphql-response+json", origin: FOREIGN },
    });
    expect(mutation.status).toBe(405);
    expect(mutation.headers.get("allow")).toBe("POST");
    const error = errorOf(single(mutation));
    expect(error.message).toBe("Can only perform a mutation operation from a POST request.");
    expect(error.extensions?.code).toBe("BAD_REQUEST");
    expect(await plain.snapshot()).toBe(before);

    // GETs need no CSRF header: they never run a mutation.
    const query = await send(plain, {
      method: "GET",
      url: `${ENDPOINT}?${new URLSearchParams({ query: A_QUERY })}`,
      headers: { accept: "application/graphql-response+json", origin: FOREIGN },
    });
    expect(query.status).toBe(200);
    expect(dataOf(single(query)).products.totalCount).toBe(SEED.products);
  });
});

describe("body size", () => {
  /** A JSON body of exactly `bytes` bytes that would create a user if it ran. */
  const bodyOf = (bytes: number, email: string) => {
    const json = JSON.stringify({ query: createUser(email) });
    expect(json.length).toBeLessThanOrEqual(bytes);
    return json + " ".repeat(bytes - json.length);
  };

  it("over a socket: 413 LIMIT_EXCEEDED past the declared limit, 411 without a length, 200 under it", async () => {
    const { url } = await listen(configured);
    const authorization = `Bearer ${await configured.token("admin")}`;
    const before = await configured.snapshot();

    const tooLarge = bodyOf(2049, "large@example.com");
    const refused = await raw(url, {
      headers: { "content-type": "application/json", "content-length": "2049", authorization },
      body: [tooLarge],
    });
    expect(refused.status).toBe(413);
    expect(refused.headers["content-type"]).toMatch(/^application\/json/);
    expect(errorOf(refused.body).extensions).toEqual({ code: "LIMIT_EXCEEDED", limit: "bodyBytes", max: 2048, value: 2049 });

    // Refused on the declared length alone, before a byte of the body is read: the answer comes
    // although the body (1 MB, say) is never sent.
    const declaredOnly = await raw(url, {
      headers: { "content-type": "application/json", "content-length": String(1024 * 1024), authorization },
      endWithoutBody: true,
    });
    expect(declaredOnly.status).toBe(413);
    expect(errorOf(declaredOnly.body).extensions).toMatchObject({
      code: "LIMIT_EXCEEDED",
      limit: "bodyBytes",
      value: 1024 * 1024,
    });

    // A chunked body cannot be held to the limit before it is read: it must declare its length.
    const small = JSON.stringify({ query: createUser("chunked@example.com") });
    const chunked = await raw(url, {
      headers: { "content-type": "application/json", "transfer-encoding": "chunked", authorization },
      body: [small.slice(0, 20), small.slice(20)],
    });
    expect(chunked.status).toBe(411);
    expect(errorOf(chunked.body).extensions?.code).toBe("BAD_REQUEST");
    expect(await configured.snapshot()).toBe(before);

    const fine = JSON.stringify({ query: A_QUERY });
    const answered = await raw(url, {
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(fine)) },
      body: [fine],
    });
    expect(answered.status).toBe(200);
    expect(dataOf(answered.body).products.totalCount).toBe(SEED.products);
  });

  it("through fetch: a declared length one byte over the limit is 413, exactly at the limit is served", async () => {
    const before = await configured.snapshot();
    const over = await send(configured, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "2049" },
      body: bodyOf(2049, "over@example.com"),
    });
    expect(over.status).toBe(413);
    expect(errorOf(single(over)).extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "bodyBytes" });
    expect(await configured.snapshot()).toBe(before);

    const at = await send(configured, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "2048" },
      body: bodyOf(2048, "at-the-limit@example.com"),
    });
    expect(at.status).toBe(200);
    expect(dataOf(single(at)).createUser.email).toBe("at-the-limit@example.com");
  });
});

describe("batching", () => {
  const batch = (operations: string[]) =>
    send(plain, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(operations.map((query) => ({ query }))),
    });

  it("runs 10 operations in one request and refuses 11 whole (413), writing nothing", async () => {
    const ten = await batch(Array.from({ length: 10 }, () => A_QUERY));
    expect(ten.status).toBe(200);
    const results = ten.body as GraphQLResponse[];
    expect(results).toHaveLength(10);
    for (const result of results) expect(dataOf(result).products.totalCount).toBe(SEED.products);

    const before = await plain.snapshot();
    const eleven = await batch(Array.from({ length: 11 }, (_, i) => createUser(`batch-${i}@example.com`)));
    expect(eleven.status).toBe(413);
    const error = errorOf(single(eleven));
    expect(error.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "batch", max: 10, value: 11 });
    expect(await plain.snapshot()).toBe(before);
  });
});

describe("GraphiQL page", () => {
  it("is HTML that may not be framed, sniffed or load foreign code", async () => {
    const page = await send(plain, { method: "GET", as: "anonymous", headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain("GraphiQL");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");

    // JSON answers are not sniffed either; the page's policy is the page's.
    const json = await postJson(plain, A_QUERY);
    expect(json.headers.get("x-content-type-options")).toBe("nosniff");
    expect(json.headers.get("content-security-policy")).toBeNull();
  });

  it("is a small private page; its code is served compressed, under hashed names the browser keeps", async () => {
    const get = (path: string, encoding: string, accept = "*/*") =>
      plain.fetch(new Request(new URL(path, ENDPOINT), { headers: { accept, "accept-encoding": encoding } }));
    const page = await get(ENDPOINT, "gzip", "text/html");
    expect(page.headers.get("content-encoding")).toBe("gzip");
    expect(page.headers.get("cache-control")).toBe("private, max-age=600");
    const html = gunzipSync(Buffer.from(await page.arrayBuffer())).toString("utf8");
    // No inline script: the options travel as data, the code from the server.
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/ src="\/graphql\/assets\/| type="application\/json"/);
    expect(html).toContain('<script type="application/json" id="graphiql-options">');
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self';");

    // The page's assets, and the editor's workers named in its environment script.
    const linked = [...html.matchAll(/(?:src|href)="(\/graphql\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    const environment = await (await get(linked.find((path) => path.includes("/environment-"))!, "identity")).text();
    const workers = [...environment.matchAll(/"(\/graphql\/assets\/[^"]+\.worker-[^"]+)"/g)].map((m) => m[1]!);
    expect(linked.map((path) => path.replace(/-[0-9a-f]{12}\./, "."))).toEqual([
      "/graphql/assets/favicon.ico",
      "/graphql/assets/graphiql.css",
      "/graphql/assets/environment.js",
      "/graphql/assets/graphiql.js",
      "/graphql/assets/shop.js",
    ]);
    expect(workers).toHaveLength(3);
    let plainBytes = 0;
    let gzippedBytes = 0;
    for (const path of [...linked, ...workers]) {
      const raw = await get(path, "identity");
      const zipped = await get(path, "gzip, br");
      expect(zipped.status, path).toBe(200);
      expect(zipped.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(zipped.headers.get("content-encoding")).toBe("gzip");
      const body = Buffer.from(await raw.arrayBuffer());
      const compressed = Buffer.from(await zipped.arrayBuffer());
      expect(gunzipSync(compressed).equals(body), path).toBe(true);
      plainBytes += body.byteLength;
      gzippedBytes += compressed.byteLength;
    }
    console.log(`GraphiQL: page ${html.length} bytes; assets ${plainBytes} bytes, ${gzippedBytes} gzipped`);
    expect(gzippedBytes).toBeLessThan(plainBytes / 3);
    expect((await get("/graphql/assets/graphiql-000000000000.js", "gzip")).status).toBe(404);

    const json = await plain.fetch(
      new Request(ENDPOINT, {
        method: "POST",
        headers: { "content-type": "application/json", "accept-encoding": "gzip" },
        body: JSON.stringify({ query: "{ __typename }" }),
      }),
    );
    expect(json.headers.get("content-encoding")).toBeNull();
    expect(await json.json()).toMatchObject({ data: { __typename: "Query" } });
  });
});

describe("production", () => {
  const INTROSPECTION = "{ __schema { types { name } } }";
  const graphiqlPage = (shop: TestShop) => send(shop, { method: "GET", as: "anonymous", headers: { accept: "text/html" } });

  it("serves no GraphiQL, but a short page that says how to send a query, and refuses introspection", async () => {
    const navigation = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const [page, browsed, root, linked] = await Promise.all([
      graphiqlPage(production),
      send(production, { method: "GET", as: "anonymous", headers: { accept: navigation } }),
      send(production, { method: "GET", as: "anonymous", url: "http://shop.test/", headers: { accept: navigation } }),
      // A GET that carries a query and takes JSON is answered as GraphQL, even from a browser.
      send(production, {
        method: "GET",
        as: "anonymous",
        url: `${ENDPOINT}?query={__typename}`,
        headers: { accept: navigation },
      }),
    ]);
    for (const html of [page, browsed, root]) {
      expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(html.text).toContain("GraphiQL is off on this server (<code>GRAPHIQL=1</code> turns it on)");
      expect(html.text).toContain(`curl http://shop.test/graphql -H 'content-type: application/json'`);
      expect(html.text).not.toMatch(/<script|https:\/\/(?!shop\.test)/);
      expect(html.headers.get("content-security-policy")).toContain("script-src 'self'");
    }
    expect([page.status, browsed.status, root.status]).toEqual([406, 406, 404]);
    expect([linked.status, linked.body]).toEqual([200, { data: { __typename: "Query" } }]);

    const introspection = await send(production, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify({ query: INTROSPECTION }),
    });
    expect(introspection.status).toBe(400);
    expect(single(introspection).data).toBeUndefined();
    const errors = single(introspection).errors ?? [];
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(error.message).toMatch(/introspection has been disabled/);
    }
  });

  it("attaches extensions.sql for nobody by default; with SQL_EXPLAIN=1, for admins only", async () => {
    const viewers = async (shop: TestShop): Promise<[string, As][]> => [
      ["admin", "admin"],
      ["customer", { customer: await activeCustomer(shop) }],
      ["anonymous", "anonymous"],
    ];
    for (const [who, as] of await viewers(production)) {
      const response = await production.gql(A_QUERY, {}, { as });
      expect(dataOf(response).products.totalCount, who).toBe(SEED.products);
      expect(response.extensions?.sql, who).toBeUndefined();
    }
    for (const [who, as] of await viewers(switchedOn)) {
      const response = await switchedOn.gql(A_QUERY, {}, { as });
      expect(dataOf(response).products.totalCount, who).toBe(SEED.products);
      if (who === "admin") {
        // Statements and their causes, never the values bound to them: those are the shop's data.
        expect(response.extensions?.sql).toMatchObject({ strategy: "eager", count: 1 });
        expect(response.extensions?.sql?.statements[0]).toMatchObject({ cause: { field: "products.totalCount" } });
        expect(response.extensions?.sql?.statements[0]).not.toHaveProperty("params");
      } else expect(response.extensions?.sql, who).toBeUndefined();
    }
  });

  it("GRAPHIQL=1 and INTROSPECTION=1 turn both back on; the site's root leads to GraphiQL", async () => {
    const root = await send(switchedOn, {
      method: "GET",
      as: "anonymous",
      url: "http://shop.test/",
      headers: { accept: "text/html" },
    });
    expect([root.status, root.headers.get("location")]).toEqual([302, "http://shop.test/graphql"]);
    const page = await graphiqlPage(switchedOn);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain("GraphiQL");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const types = dataOf(await switchedOn.gql(INTROSPECTION)).__schema.types.map((t: { name: string }) => t.name);
    expect(types).toContain("Query");
    expect(types).toContain("User");
  });

  it("refuses the lazy strategy to everyone (FORBIDDEN); LAZY_STRATEGY=1 allows it for admins only", async () => {
    const before = await production.snapshot();
    const refused = errorOf(await production.gql(createUser("lazy@example.com"), {}, { strategy: "lazy" }));
    expect(refused.extensions).toMatchObject({ code: "FORBIDDEN", field: "x-loading-strategy" });
    expect(await production.snapshot()).toBe(before);

    const nested = "{ users(first: 2) { edges { node { name orders { id } } } } }";
    const admin = await switchedOn.gql(nested, {}, { strategy: "lazy" });
    expect(dataOf(admin).users.edges).toHaveLength(2);
    expect(admin.extensions?.sql?.strategy).toBe("lazy");

    const customer = errorOf(
      await switchedOn.gql(
        "{ me { name orders { id } } }",
        {},
        { strategy: "lazy", as: { customer: await activeCustomer(switchedOn) } },
      ),
    );
    expect(customer.extensions).toMatchObject({ code: "FORBIDDEN", field: "x-loading-strategy" });
  });
});

describe("GraphiQL's demo tokens", () => {
  /** The page as a browser at `address` gets it (the socket's address, as the Node server hands it over). */
  const pageFor = async (address: string, headers: Record<string, string> = {}) => {
    const response = await demo.app.yoga.fetch(new Request(ENDPOINT, { headers: { accept: "text/html", ...headers } }), {
      req: { socket: { remoteAddress: address } },
    });
    const text = await response.text();
    return [...text.matchAll(/Bearer (ey[\w-]+\.[\w-]+\.[\w-]+)/g)].map((match) => match[1]!);
  };

  it("go only to a browser on this machine, and last an hour", async () => {
    const tokens = [...new Set(await pageFor("127.0.0.1"))];
    expect(tokens).toHaveLength(2);
    for (const token of tokens) {
      const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
      expect(claims.exp - claims.iat).toBe(3600);
    }
    expect(await pageFor("::1")).not.toEqual([]);
    // Another machine, or this one's proxy forwarding someone else: a page without tokens.
    expect(await pageFor("203.0.113.9")).toEqual([]);
    expect(await pageFor("127.0.0.1", { "x-forwarded-for": "203.0.113.9" })).toEqual([]);
  });

  it("name their key, so that the page can replace saved tokens signed with another one", async () => {
    const response = await demo.app.yoga.fetch(new Request(ENDPOINT, { headers: { accept: "text/html" } }), {
      req: { socket: { remoteAddress: "127.0.0.1" } },
    });
    const html = await response.text();
    const options = JSON.parse(/<script[^>]*id="graphiql-options"[^>]*>([^<]*)<\/script>/.exec(html)![1]!);
    const { kid, customer, admin, issuer } = options.freshTokens;
    expect(kid).toMatch(/^[\w-]{16}$/);
    expect(issuer).toBe("shop-api-local");
    for (const token of [customer, admin]) {
      const header = JSON.parse(Buffer.from(token.replace("Bearer ", "").split(".")[0], "base64url").toString());
      expect(header).toEqual({ alg: "HS256", kid });
    }
    // The same key, the same kid, page after page.
    const again = await pageFor("127.0.0.1");
    expect(JSON.parse(Buffer.from(again[0]!.split(".")[0]!, "base64url").toString()).kid).toBe(kid);
  });
});

describe("connections", () => {
  let served: { url: string; wsUrl: string };
  beforeAll(async () => {
    served = await listen(demo);
  });

  it("past MAX_CONNECTIONS a new one is closed at once; a silent one is closed when its headers are late", async () => {
    const { url } = served;
    const { port } = new URL(url);
    const open = () => {
      const socket = connect(Number(port), "127.0.0.1");
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.on("error", () => undefined);
      return { socket, closed };
    };
    const [first, second] = [open(), open()];
    await Promise.all([first, second].map(({ socket }) => new Promise((resolve) => socket.once("connect", resolve))));
    const third = open();
    await third.closed;
    // The third was turned away while the first two, silent as they are, were still open.
    expect(first.socket.destroyed).toBe(false);
    expect(second.socket.destroyed).toBe(false);
    // They send nothing: the server closes them once their headers are late (1.5 s here, 10 s by default).
    await Promise.all([first.closed, second.closed]);
  });

  it("a WebSocket that stops answering pings is closed; one that answers stays", async () => {
    const { wsUrl } = served;
    const connectWs = (autoPong: boolean) =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(wsUrl, "graphql-transport-ws", { autoPong });
        socket.once("open", () => resolve(socket));
        socket.once("error", reject);
      });
    const [silent, answering] = [await connectWs(false), await connectWs(true)];
    await new Promise<void>((resolve) => silent.once("close", () => resolve()));
    expect(answering.readyState).toBe(WebSocket.OPEN);
    answering.close();
  });
});

describe("WebSocket operations go through the same pipeline as HTTP", () => {
  it("production: introspection is refused and errors suggest no field names, over HTTP and WebSocket", async () => {
    const { wsUrl } = await listen(production);
    const client = await wsClient(wsUrl, { as: "anonymous" });
    try {
      const introspection = await overWebSocket(client, "{ __schema { types { name fields { name } } } }");
      expect(introspection.data).toBeUndefined();
      expect(introspection.errors?.[0]).toMatchObject({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
      expect(introspection.errors?.[0]?.message).toMatch(/introspection has been disabled/);
      const typo = "{ prodcts { totalCount } }";
      for (const answer of [await overWebSocket(client, typo), single(await postJson(production, typo))]) {
        expect(answer.errors?.[0]?.message).toBe('Cannot query field "prodcts" on type "Query".');
      }
      // Development keeps the suggestions: they help whoever is building a client.
      expect(single(await postJson(plain, typo)).errors?.[0]?.message).toMatch(/Did you mean "products"/);
    } finally {
      await client.dispose();
    }
  });
});
