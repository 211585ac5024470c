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
    expect(loadConfig({ NODE_ENV: "production" }).sqlExplain).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", SQL_EXPLAIN: "1" }).sqlExplain).toBe(true);
    expect(loadConfig({ SQL_EXPLAIN: "0" }).sqlExplain).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgresql://h/db", DATABASE_POOL_MAX: "3" }).database).toMatchObject({ poolMax: 3 });
    expect(loadConfig({ DATABASE_URL: "postgresql://h/db" }).seedDemo).toBe(false);
  });

  it.each([{ PORT: "http" }, { DATABASE_POOL_MAX: "0" }, { SQL_EXPLAIN: "maybe" }, { REDIS_URL: "localhost:6379" }])(
    "refuses %j with a one-line message",
    (env) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      try {
        loadConfig(env);
      } catch (error) {
        expect((error as Error).message).not.toContain("\n");
      }
    },
  );
});
