/** The real entry point, as `npm start` runs it: a process that migrates, seeds, serves and stops. */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadDatabaseConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { runCommand, START_TIMEOUT_MS, startServer, startTimeOf } from "./support/process.js";
import { freshDatabase, testDatabaseKind } from "./support/shop.js";

describe("the server process", () => {
  it(
    `serves the demo shop with GraphiQL on ${testDatabaseKind}, and stops on SIGTERM`,
    async () => {
      // PostgreSQL is migrated by `npm run db:migrate` (as docker-compose does); PGlite at start, in a
      // new folder as on a fresh clone (initdb, the migrations, the demo shop).
      const folder = testDatabaseKind === "pglite" ? mkdtempSync(join(tmpdir(), "shop-served-")) : undefined;
      const database = folder
        ? { url: `file:${join(folder, "shop")}`, drop: async () => rmSync(folder, { recursive: true, force: true }) }
        : await freshDatabase();
      const lock = folder && `${join(folder, "shop")}.lock`;
      const secretDir = mkdtempSync(join(tmpdir(), "shop-secret-"));
      const env: Record<string, string> = {
        DATABASE_URL: database.url,
        SEED_DEMO: "1",
        AUTH_LOCAL_SECRET_FILE: join(secretDir, "jwt-secret"),
        HOST: "127.0.0.1",
      };
      if (testDatabaseKind === "postgres") {
        const migrated = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/migrate.ts"], {
          cwd: new URL("..", import.meta.url),
          env: { ...process.env, ...env },
        });
        // The template database is migrated already: the command finds nothing to do.
        expect(migrated.stdout).toMatch(/PostgreSQL at .* is up to date\./);
      }
      const server = startServer(env);
      try {
        const url = await server.ready();
        // HOST is the address it listens on, and the start line says where.
        expect(server.output()).toMatch(/listening on 127\.0\.0\.1:\d+: http:\/\/127\.0\.0\.1:\d+\/graphql/);
        expect(server.output()).toContain("Seeded the demo shop: 20 users, 100 orders");
        const page = await fetch(url, { headers: { accept: "text/html" } });
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toContain("GraphiQL");
        // It opens on the tour, signed in twice: a customer tab and an admin tab, each with the
        // strategy header preset and a token made with the local secret (created 0600 on first start).
        for (const text of ["MyOrders", "CustomersAndTheirOrders", "PlaceOrder", "WatchOrders", "x-loading-strategy"])
          expect(html).toContain(text);
        expect(statSync(env.AUTH_LOCAL_SECRET_FILE!).mode & 0o777).toBe(0o600);
        const tokens = [...new Set([...html.matchAll(/Bearer (ey[\w-]+\.[\w-]+\.[\w-]+)/g)].map((m) => m[1]!))];
        expect(tokens).toHaveLength(2);
        const roles = tokens.map((t) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()).role);
        expect(roles).toEqual(["customer", "admin"]);
        const mine = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${tokens[0]}` },
          body: JSON.stringify({ query: "{ me { id } users { totalCount } }" }),
        });
        expect((await mine.json()).data.users).toEqual({ totalCount: 1 });
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-loading-strategy": "batched", authorization: `Bearer ${tokens[1]}` },
          body: JSON.stringify({ query: "{ users { totalCount } products { totalCount } orders { totalCount } }" }),
        });
        const body = await response.json();
        expect(body.data).toEqual({ users: { totalCount: 20 }, products: { totalCount: 30 }, orders: { totalCount: 100 } });
        expect(body.extensions.sql.strategy).toBe("batched");

        if (lock) {
          // The folder is the server's: its lock names its PID, start time and address, and a second
          // process is refused.
          const pid = server.child.pid!;
          const [holder, started, address, ...rest] = readFileSync(lock, "utf8").split(" ");
          expect([Number(holder), started, address, rest]).toEqual([pid, startTimeOf(pid), url, []]);
          await expect(openDatabase(loadDatabaseConfig(env))).rejects.toThrow(`is in use by process ${pid} `);
          // `npm run token` cannot open it either: it asks the server (with an operator token it
          // signs) who the email is, and the customer token it prints is that user's.
          const ask = async (token: string, query: string) =>
            (
              await (
                await fetch(url, {
                  method: "POST",
                  headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
                  body: JSON.stringify({ query }),
                })
              ).json()
            ).data;
          const { me } = await ask(tokens[0]!, "{ me { name email } }");
          const printed = (await runCommand("token", ["--user", me.email.toUpperCase(), "--expires", "5m"], env)).stdout
            .trim()
            .split("\n");
          expect(printed[0]).toContain(`A customer token for ${me.name} (user `);
          expect(printed[0]).toContain("valid for 5m");
          expect(await ask(printed.at(-1)!, "{ me { email } }")).toEqual({ me: { email: me.email } });
        }
      } finally {
        expect(await server.stop()).toBe(0);
        // Stopped, it leaves no lock behind (one killed does; the next start takes it over, see cli.test.ts).
        if (lock) expect(existsSync(lock)).toBe(false);
        await database.drop();
        rmSync(secretDir, { recursive: true, force: true });
      }
    },
    START_TIMEOUT_MS * 2,
  );

  it(
    "exits 1 with one line, before opening the database, for a busy port or a wrong setting: a JSON line in production",
    async () => {
      const folder = mkdtempSync(join(tmpdir(), "shop-refused-"));
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
      const busy = String((holder.address() as AddressInfo).port);
      const production = { NODE_ENV: "production", AUTH_JWT_SECRET: "s".repeat(32), HOST: "127.0.0.1" };
      try {
        const [devPort, prodPort, prodSetting] = [
          startServer({ PORT: busy, DATABASE_URL: `file:${join(folder, "dev")}` }),
          startServer({ ...production, PORT: busy, DATABASE_URL: `file:${join(folder, "prod")}` }),
          startServer({ ...production, DATABASE_URL: "mysql://localhost/shop" }),
        ];
        expect(await Promise.all([devPort.exited, prodPort.exited, prodSetting.exited])).toEqual([1, 1, 1]);
        expect(devPort.output()).toBe(
          `Cannot listen on 127.0.0.1 port ${busy}: another process uses it (a server already running?); stop it or set PORT.\n`,
        );
        const [line, ...more] = prodPort.output().trim().split("\n");
        expect(more).toEqual([]);
        expect(JSON.parse(line!)).toMatchObject({ level: 60, msg: `start failed: ${devPort.output().trim()}` });
        // Refused before the database was opened: neither folder was made, let alone migrated.
        expect([existsSync(join(folder, "dev")), existsSync(join(folder, "prod"))]).toEqual([false, false]);
        const [setting, ...rest] = prodSetting.output().trim().split("\n");
        expect(rest).toEqual([]);
        expect(JSON.parse(setting!).msg).toMatch(/^start failed: DATABASE_URL .*Accepted: .*memory:\/\//);
      } finally {
        holder.close();
        rmSync(folder, { recursive: true, force: true });
      }
    },
    START_TIMEOUT_MS,
  );
});
