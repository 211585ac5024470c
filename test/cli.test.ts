/**
 * The command-line programs an operator meets first: `npm run token` signs tokens the server
 * accepts, and the embedded database refuses a second process instead of letting two writers lose
 * each other's work; `npm run bench` runs on an empty PostgreSQL database.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { decodeJwt } from "jose";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../src/app.js";
import { parseBenchArgs } from "../src/cli/bench.js";
import { UsageError } from "../src/cli/run.js";
import { seedCommand } from "../src/cli/seed.js";
import { parseTokenArgs, tokenCommand } from "../src/cli/token.js";
import { loadConfig, loadDatabaseConfig } from "../src/config.js";
import { DatabaseInUse, openDatabase } from "../src/db/database.js";
import { migrate } from "../src/db/migrate.js";
import { seedShop } from "../src/db/seed.js";
import { runCommand, startTimeOf } from "./support/process.js";
import { freshDatabase, onTestServer, testDatabaseKind } from "./support/shop.js";

const dir = mkdtempSync(join(tmpdir(), "shop-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { DATABASE_URL: `file:${join(dir, "db")}`, AUTH_LOCAL_SECRET_FILE: join(dir, "secret") };
/** Runs `npm run token` with the test's settings and these arguments. */
const token = (...args: string[]) => runCommand("token", args, env);
/** A new embedded database starts as the run's migrated one (test/support/pglite-template.ts), not empty. */
const fromTemplate = testDatabaseKind === "pglite" ? { pgliteTemplate: inject("pgliteTemplate") } : {};

describe.runIf(testDatabaseKind === "pglite")("npm run token", () => {
  it("prints tokens the server accepts: a customer's by email or id, an operator's, the token alone on the last line", async () => {
    const db = await openDatabase(loadConfig(env).database, fromTemplate);
    await migrate(db);
    await seedShop(db.prisma, { users: 3, products: 2, ordersPerUser: 1, itemsPerOrder: 1 });
    const ada = await db.prisma.user.findFirstOrThrow({ where: { active: true }, orderBy: { id: "asc" } });
    await db.close();

    const config = loadConfig(env);
    const customer = await tokenCommand(["--user", ada.email, "--expires", "10m"], config);
    const operator = await tokenCommand(["--role", "admin"], config);
    const byId = await tokenCommand(["--user", String(ada.id)], config);
    expect([customer[0], byId[0], operator[0]]).toEqual([
      `A customer token for ${ada.name} (user ${ada.id}), valid for 10m; send it as Authorization: Bearer <token>.`,
      `A customer token for user ${ada.id}, valid for 1h; send it as Authorization: Bearer <token>.`,
      "An admin token for an operator (no customer), valid for 1h; send it as Authorization: Bearer <token>.",
    ]);
    // Each expires: after --expires, or an hour by default (the server refuses a token without exp).
    const lifetime = (jwt: string) => {
      const { iat, exp } = decodeJwt(jwt);
      return exp! - iat!;
    };
    expect([lifetime(customer.at(-1)!), lifetime(operator.at(-1)!)]).toEqual([600, 3600]);

    const app = await createApp(loadConfig({ ...env, SEED_DEMO: "0", LOG_LEVEL: "silent" }));
    try {
      const ask = async (jwt: string) => {
        const res = await app.yoga.fetch("http://cli.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` },
          body: JSON.stringify({ query: "{ me { id } users { totalCount } }" }),
        });
        return (await res.json()) as { data: { me: { id: string } | null; users: { totalCount: number } } };
      };
      expect((await ask(customer.at(-1)!)).data.users.totalCount).toBe(1);
      expect((await ask(byId.at(-1)!)).data.me).toEqual({ id: (await ask(customer.at(-1)!)).data.me!.id });
      expect((await ask(operator.at(-1)!)).data).toEqual({ me: null, users: { totalCount: 3 } });
    } finally {
      await app.close();
    }
  });

  it.each([
    [["--role", "root"], "--role must be customer or admin"],
    [["--user", "1", "--expires", "soon"], "--expires takes a number and a unit"],
    [["--role", "customer"], "A customer token needs --user."],
    [["--usr", "1"], "Unknown option '--usr'"],
  ])("refuses %j with a one-line usage error", (args, line) => {
    expect(() => parseTokenArgs(args)).toThrow(UsageError);
    expect(() => parseTokenArgs(args)).toThrow(line);
  });

  it("prints a usage error as one line and the usage, and exits 2", async () => {
    const failed = await token("--role", "root").catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2 });
    const lines = (failed as { stderr: string }).stderr.trim().split("\n");
    expect(lines).toEqual(["--role must be customer or admin; got root.", expect.stringMatching(/^usage: npm run token -- /)]);
  });
});

describe.runIf(testDatabaseKind === "pglite")("the embedded database", () => {
  it("is refused to a second process while one holds it, and taken over from one that died", async () => {
    const folder = join(dir, "locked");
    const config = loadConfig({ DATABASE_URL: `file:${folder}` }).database;
    // A lock held by a process that runs (our parent, the test runner) …
    writeFileSync(`${folder}.lock`, String(process.ppid));
    await expect(openDatabase(config)).rejects.toThrow(DatabaseInUse);
    await expect(openDatabase(config)).rejects.toThrow(/in use by process \d+ .*stop it first/);
    // … and one left by a process that is gone.
    writeFileSync(`${folder}.lock`, "2147483646");
    const db = await openDatabase(config, fromTemplate);
    await db.close();
  });

  it("is taken over from a lock whose PID another process now runs as (a reused PID)", async () => {
    const folder = join(dir, "reused");
    const config = loadConfig({ DATABASE_URL: `file:${folder}` }).database;
    const stranger = spawn("sleep", ["60"]);
    try {
      const pid = stranger.pid!;
      const started = startTimeOf(pid)!;
      expect(started).toMatch(/^\d+$/);
      // The lock as its holder wrote it, with the stranger's own start time: refused.
      writeFileSync(`${folder}.lock`, `${pid} ${started}`);
      await expect(openDatabase(config)).rejects.toThrow(`is in use by process ${pid} `);
      // The same PID, started at another time: the holder is gone and the PID went to someone else.
      writeFileSync(`${folder}.lock`, `${pid} ${Number(started) - 1}`);
      const db = await openDatabase(config, fromTemplate);
      expect(readFileSync(`${folder}.lock`, "utf8")).toBe(`${process.pid} ${startTimeOf(process.pid)}`);
      await db.close();
      expect(existsSync(`${folder}.lock`)).toBe(false);
    } finally {
      stranger.kill();
    }
  });
});

describe.runIf(testDatabaseKind === "postgres")("npm run db:migrate and npm run db:seed", () => {
  it("need only the database settings, in production too (a migration job has no token secret)", async () => {
    const { url, drop } = await freshDatabase();
    const production = { NODE_ENV: "production", DATABASE_URL: url, AUTH_JWT_SECRET: "", AUTH_JWKS_URL: "", AUTH: "" };
    try {
      // The whole configuration refuses this environment; the database commands do not read the rest.
      expect(() => loadConfig(production)).toThrow(/NODE_ENV=production needs AUTH_JWT_SECRET/);
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/migrate.ts"], {
        cwd: new URL("..", import.meta.url),
        env: { ...process.env, ...production },
      });
      expect(stdout.trim()).toMatch(/^PostgreSQL at .+ is up to date\.$/);
      const seeded = await seedCommand(
        ["--users", "2", "--products", "2", "--orders-per-user", "1", "--items-per-order", "1"],
        loadDatabaseConfig(production),
      );
      expect(seeded).toMatch(/: 2 users, 2 products, 2 orders, 2 items in /);
    } finally {
      await drop();
    }
  });
});

describe("npm run bench's options", () => {
  it("are the defaults, or what is given; the committed chart only when asked", () => {
    expect(parseBenchArgs([])).toMatchObject({ sizes: { users: 200 }, runs: 9 });
    expect(parseBenchArgs(["--users", "5", "--runs", "1", "--chart", "/tmp/x.svg"])).toEqual({
      sizes: { users: 5, products: 100, ordersPerUser: 4, itemsPerOrder: 3 },
      runs: 1,
      chart: "/tmp/x.svg",
    });
    expect(parseBenchArgs(["--update-readme-chart"]).chart).toBe("src/bench/strategies.svg");
  });

  it.each([
    [["--users", "x"], "--users must be a whole number of at least 1; got x."],
    [["--runs", "0"], "--runs must be a whole number of at least 1; got 0."],
    [["--user", "5"], "Unknown option '--user'"],
    [["5"], 'Unexpected argument "5": put -- between the npm script and the options.'],
  ])("refuses %j with a one-line usage error", (args, line) => {
    expect(() => parseBenchArgs(args)).toThrow(UsageError);
    expect(() => parseBenchArgs(args)).toThrow(line);
  });
});

describe.runIf(testDatabaseKind === "postgres")("npm run bench", () => {
  it("migrates and seeds an empty PostgreSQL database, prints each strategy's statements there and on PGlite, and charts them in a scratch file", async () => {
    const name = `shop_bench_${process.pid}`;
    const scratch = mkdtempSync(join(tmpdir(), "shop-bench-"));
    const committed = readFileSync(new URL("../src/bench/strategies.svg", import.meta.url), "utf8");
    await onTestServer(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${name}"`);
    });
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${name}`;
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "src/cli/bench.ts", "--users", "5", "--runs", "1"],
        { cwd: new URL("..", import.meta.url), env: { ...process.env, BENCH_DATABASE_URL: url.toString(), TMPDIR: scratch } },
      );
      // The chart goes to a scratch file, named on its line; the committed one is left alone.
      const chart = join(scratch, "shop-bench", "strategies.svg");
      expect(stdout).toContain(`\nchart: ${chart}\n`);
      expect(readFileSync(new URL("../src/bench/strategies.svg", import.meta.url), "utf8")).toBe(committed);
      // | N | strategy | SQL statements | rows returned | median ms |, for the first page size (5 users).
      const rows = stdout
        .split("\n")
        .filter((line) => line.startsWith("| 5 |"))
        .map((line) =>
          line
            .split("|")
            .slice(2, 5)
            .map((cell) => cell.trim()),
        );
      // PostgreSQL's table, then PGlite's: the same statements and rows. (Eager's one statement
      // returns a row per user, the rest as JSON inside it; the loaders' flat statements a row per
      // object, which lazy also repeats where two parents share a child.)
      const table = [
        ["eager", "1", "5"],
        ["batched", "4", "128"],
        ["lazy", "86", "145"],
      ];
      expect(rows).toEqual([...table, ...table]);
      // One line per strategy and database in each of the chart's two panels, three points each.
      const svg = readFileSync(chart, "utf8");
      const lines = [...svg.matchAll(/<polyline data-strategy="(\w+)" data-database="(\w+)" points="([^"]+)"/g)];
      expect(lines.map(([, strategy, database]) => `${strategy}/${database}`).sort()).toEqual(
        ["eager", "batched", "lazy"].flatMap((s) => [`${s}/PGlite`, `${s}/PostgreSQL`, `${s}/PGlite`, `${s}/PostgreSQL`]).sort(),
      );
      for (const [, , , points] of lines) expect(points!.split(" ")).toHaveLength(3);
    } finally {
      await onTestServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  });
});
