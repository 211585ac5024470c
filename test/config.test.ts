/** Configuration: the accepted DATABASE_URL forms, defaults, and one-line errors. */
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_DATA_DIR, loadConfig, parseDatabaseUrl } from "../src/config.js";

describe("DATABASE_URL", () => {
  it.each([
    [undefined, { kind: "pglite", dataDir: DEFAULT_DATA_DIR }],
    ["", { kind: "pglite", dataDir: DEFAULT_DATA_DIR }],
    ["memory://", { kind: "pglite", dataDir: undefined }],
    ["file:./somewhere/db", { kind: "pglite", dataDir: "./somewhere/db" }],
    ["file:///var/lib/shop", { kind: "pglite", dataDir: "/var/lib/shop" }],
    ["postgresql://shop@db:5432/shop", { kind: "postgres", url: "postgresql://shop@db:5432/shop", poolMax: 10 }],
    ["postgres://localhost/shop", { kind: "postgres", url: "postgres://localhost/shop" }],
  ])("%s", (url, expected) => {
    expect(parseDatabaseUrl(url)).toMatchObject(expected);
  });

  it.each(["mysql://localhost/shop", "sqlite:./x.db", "file:", "postgresql://"])(
    "refuses %s, naming the accepted forms",
    (url) => {
      expect(() => parseDatabaseUrl(url)).toThrow(ConfigError);
      expect(() => parseDatabaseUrl(url)).toThrow(/memory:\/\/.*file:<folder>.*postgresql:\/\//);
    },
  );
});

describe("DATABASE_URL's statement_cache_size", () => {
  it("keeps Prisma's default of 100 prepared statements per connection, and none through PgBouncer", () => {
    expect(parseDatabaseUrl("postgresql://shop@db:5432/shop")).toMatchObject({ statementCacheSize: 100 });
    expect(parseDatabaseUrl("postgresql://shop@db:5432/shop?pgbouncer=true")).toMatchObject({ statementCacheSize: 0 });
  });

  it("reads the size and takes it out of the URL the driver sees", () => {
    expect(parseDatabaseUrl("postgresql://shop@db:5432/shop?statement_cache_size=0&sslmode=disable")).toMatchObject({
      url: "postgresql://shop@db:5432/shop?sslmode=disable",
      statementCacheSize: 0,
    });
    expect(parseDatabaseUrl("postgresql://shop@db:5432/shop?statement_cache_size=20")).toMatchObject({
      url: "postgresql://shop@db:5432/shop",
      statementCacheSize: 20,
    });
    expect(parseDatabaseUrl("postgresql://shop@pool:6432/shop?pgbouncer=true&statement_cache_size=0")).toMatchObject({
      url: "postgresql://shop@pool:6432/shop",
      statementCacheSize: 0,
      pooler: true,
    });
  });

  it.each(["-1", "1.5", "ten", "", "1001"])("refuses statement_cache_size=%s in one line", (size) => {
    const parse = () => parseDatabaseUrl(`postgresql://shop@db:5432/shop?statement_cache_size=${size}`);
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/^DATABASE_URL's statement_cache_size=.* must be a whole number from 0 to 1000\.$/);
  });

  it("refuses a cache through PgBouncer, which cannot keep a connection's statements", () => {
    const parse = () => parseDatabaseUrl("postgresql://shop@pool:6432/shop?pgbouncer=true&statement_cache_size=10");
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/cannot be used with pgbouncer=true/);
  });
});

describe("loadConfig", () => {
  it("has defaults for a fresh clone", () => {
    expect(loadConfig({})).toMatchObject({
      port: 4000,
      sqlExplain: true,
      seedDemo: true,
      redisUrl: undefined,
      database: { kind: "pglite" },
    });
  });

  it("turns SQL explain off in production unless asked, and reads the pool size", () => {
    const production = { NODE_ENV: "production", AUTH_JWT_SECRET: "x".repeat(32) };
    expect(loadConfig(production).sqlExplain).toBe(false);
    expect(loadConfig({ ...production, SQL_EXPLAIN: "1" }).sqlExplain).toBe(true);
    expect(loadConfig({ SQL_EXPLAIN: "0" }).sqlExplain).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgresql://h/db", DATABASE_POOL_MAX: "3" }).database).toMatchObject({ poolMax: 3 });
    expect(loadConfig({ DATABASE_URL: "postgresql://h/db" }).seedDemo).toBe(false);
    // A request's statements in flight: half the pool (at least one), four on PGlite, or as set.
    const inFlight = (env: Record<string, string>) => loadConfig(env).limits.concurrentStatements;
    expect(inFlight({ DATABASE_URL: "postgresql://h/db" })).toBe(5);
    expect(inFlight({ DATABASE_URL: "postgresql://h/db", DATABASE_POOL_MAX: "1" })).toBe(1);
    expect(inFlight({ DATABASE_URL: "postgresql://h/db", DATABASE_POOL_MAX: "7" })).toBe(3);
    expect(inFlight({})).toBe(4);
    expect(inFlight({ MAX_CONCURRENT_STATEMENTS: "2" })).toBe(2);
    expect(() => inFlight({ MAX_CONCURRENT_STATEMENTS: "0" })).toThrow(/MAX_CONCURRENT_STATEMENTS/);
  });

  it("is open for development and closed for production: auth, GraphiQL, introspection, lazy, CORS", () => {
    expect(loadConfig({})).toMatchObject({
      // Nothing outside this machine reaches a development server (nor GraphiQL's demo tokens).
      host: "127.0.0.1",
      auth: { mode: "jwt", secret: { kind: "local", file: "./.data/jwt-secret" } },
      graphiql: true,
      introspection: true,
      lazyStrategy: "everyone",
      corsOrigins: [],
      persistedOperations: { mode: "off" },
      trustProxy: false,
      limits: {
        depth: 12,
        aliases: 30,
        cost: 100_000,
        statements: 2000,
        nodeIds: 100,
        batch: 10,
        bodyBytes: 1024 * 1024,
        responseObjects: 20_000,
        requestTimeoutMs: 15_000,
        subscriptionsPerClient: 50,
        subscriptions: 1000,
        connections: 2000,
      },
    });
    expect(loadConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    const production = {
      NODE_ENV: "production",
      AUTH_JWKS_URL: "https://idp.example.com/jwks.json",
      AUTH_ISSUER: "https://idp.example.com/",
    };
    expect(loadConfig(production)).toMatchObject({
      // A container's port is reached from outside it: all interfaces.
      host: undefined,
      auth: { mode: "jwt", secret: undefined, jwksUrl: production.AUTH_JWKS_URL, issuer: production.AUTH_ISSUER },
      graphiql: false,
      introspection: false,
      lazyStrategy: "nobody",
    });
    expect(loadConfig({ ...production, LAZY_STRATEGY: "1", GRAPHIQL: "1" })).toMatchObject({
      lazyStrategy: "admins",
      graphiql: true,
    });
    expect(loadConfig({ NODE_ENV: "production", AUTH: "off" }).auth).toEqual({ mode: "off" });
    expect(loadConfig({ CORS_ORIGINS: "https://shop.example.com, http://localhost:5173" }).corsOrigins).toEqual([
      "https://shop.example.com",
      "http://localhost:5173",
    ]);
  });

  it("refuses to start in production without a way to verify tokens, in one line", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(
      /^NODE_ENV=production needs AUTH_JWT_SECRET or AUTH_JWKS_URL to verify tokens \(or AUTH=off to run without authorization on purpose\)\.$/,
    );
  });

  it.each([
    { PORT: "http" },
    { DATABASE_POOL_MAX: "0" },
    { SQL_EXPLAIN: "maybe" },
    { REDIS_URL: "localhost:6379" },
    { AUTH_JWT_SECRET: "short" },
    { AUTH: "maybe" },
    { AUTH_JWKS_URL: "not a url" },
    { CORS_ORIGINS: "*" },
    { CORS_ORIGINS: "https://shop.example.com/path" },
    { PERSISTED_OPERATIONS: "only" },
    { MAX_DEPTH: "0" },
    // Replicas of an embedded database, or a replica that is not PostgreSQL.
    { DATABASE_REPLICA_URLS: "postgresql://replica:5432/shop" },
    { DATABASE_URL: "postgresql://db/shop", DATABASE_REPLICA_URLS: "memory://" },
    { DATABASE_URL: "postgresql://db/shop", DATABASE_REPLICA_MAX_LAG_MS: "-1" },
  ])("refuses %j with a one-line message", (env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain("\n");
    }
  });
});

describe("DATABASE_REPLICA_URLS", () => {
  it("names each replica, with the primary's pool and timeouts; none by default, and a lag of a second", () => {
    expect(loadConfig({ DATABASE_URL: "postgresql://db/shop" }).replicas).toEqual({ databases: [], maxLagMs: 1000 });
    const { replicas } = loadConfig({
      DATABASE_URL: "postgresql://db/shop",
      DATABASE_POOL_MAX: "4",
      DATABASE_STATEMENT_TIMEOUT_MS: "700",
      DATABASE_REPLICA_URLS: " postgresql://r1:5432/shop , postgresql://pool:6432/shop_replica?pgbouncer=true ",
      DATABASE_REPLICA_MAX_LAG_MS: "250",
    });
    expect(replicas.maxLagMs).toBe(250);
    expect(replicas.databases).toMatchObject([
      { url: "postgresql://r1:5432/shop", poolMax: 4, pooler: false, label: "replica 1 (PostgreSQL at r1:5432/shop)" },
      { url: "postgresql://pool:6432/shop_replica", poolMax: 4, pooler: true },
    ]);
    expect(replicas.databases[0]!.timeouts.statementMs).toBe(700);
  });
});
