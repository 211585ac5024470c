/**
 * Once per run of the `pgbouncer` project: PgBouncer in transaction mode (deploy/pgbouncer.ini, every
 * database of the test server under its own name) in front of TEST_DATABASE_URL's server. The
 * project's test shops connect through it (`?pgbouncer=true`, see freshDatabase in shop.ts), so
 * the PostgreSQL suite runs as instances behind a pooler run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestProject } from "vitest/node";
import { freePort, pgbouncerFiles } from "../../src/bench/processes.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgbouncerPort: number;
  }
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "shop-test-pgbouncer-"));
  const port = await freePort();
  const { command, args } = pgbouncerFiles(process.env.TEST_DATABASE_URL!, port, dir, undefined, { anyDatabase: true });
  const bouncer: ChildProcess = spawn(command, args, { stdio: "ignore" });
  for (let i = 0; !(await accepts(port)); i++) {
    if (bouncer.exitCode !== null || i > 200) throw new Error(`PgBouncer did not start (exit ${bouncer.exitCode}); see ${dir}`);
    await sleep(25);
  }
  project.provide("pgbouncerPort", port);
  return async () => {
    const exited = new Promise((resolve) => bouncer.once("exit", resolve));
    bouncer.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
}
