/** The real entry point, as `npm start` runs it: a process that migrates, seeds, serves and stops. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freshDatabase, testDatabaseKind } from "./support/shop.js";

function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: new URL("..", import.meta.url),
    env: { ...process.env, PORT: "0", SQL_EXPLAIN: "", NODE_ENV: "", ...env },
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function waitFor(output: () => string, pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const match = output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the server process", () => {
  it(`serves the demo shop with GraphiQL on ${testDatabaseKind}, and stops on SIGTERM`, async () => {
    // PostgreSQL is migrated by `npm run db:migrate` (as docker-compose does); PGlite at start.
    const database = await freshDatabase();
    const env: Record<string, string> =
      database.config.kind === "postgres" ? { DATABASE_URL: database.config.url, SEED_DEMO: "1" } : { DATABASE_URL: "memory://" };
    if (database.config.kind === "postgres") {
      const migrated = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/migrate-cli.ts"], {
        cwd: new URL("..", import.meta.url),
        env: { ...process.env, ...env },
      });
      expect(migrated.stdout).toMatch(/Applied to PostgreSQL at .*_init/);
    }
    const { child, output } = start(env);
    try {
      const [, url] = await waitFor(output, /(http:\/\/localhost:\d+\/graphql)/);
      expect(output()).toContain("Seeded the demo shop: 20 users, 100 orders");
      const page = await fetch(url!, { headers: { accept: "text/html" } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("GraphiQL");
      const response = await fetch(url!, {
        method: "POST",
        headers: { "content-type": "application/json", "x-loading-strategy": "batched" },
        body: JSON.stringify({ query: "{ users { totalCount } products { totalCount } orders { totalCount } }" }),
      });
      const body = await response.json();
      expect(body.data).toEqual({ users: { totalCount: 20 }, products: { totalCount: 30 }, orders: { totalCount: 100 } });
      expect(body.extensions.sql.strategy).toBe("batched");
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    await database.drop();
  });

  it("exits 1 with one line naming the accepted forms for an unsupported DATABASE_URL", async () => {
    const { child, output } = start({ DATABASE_URL: "mysql://localhost/shop" });
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    expect(output().trim().split("\n")).toHaveLength(1);
    expect(output()).toMatch(/DATABASE_URL .*Accepted: .*memory:\/\//);
  });
});
