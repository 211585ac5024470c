/**
 * A PostgreSQL primary and a streaming standby of it, started for a test or a benchmark as real clusters on
 * loopback ports (initdb, then pg_basebackup -R), from the binaries `pg_config --bindir` names; as
 * root they run as the `postgres` system user, which PostgreSQL requires. `stop()` ends both and
 * removes their folders.
 */
import { execFile, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./processes.js";

const run = promisify(execFile);
const BIN = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" }).stdout?.trim();
const AS_ROOT = process.getuid?.() === 0;

/** Whether this machine can start clusters of its own (PostgreSQL's server binaries are installed). */
export const CAN_START_CLUSTERS = Boolean(BIN) && spawnSync(join(BIN ?? "", "initdb"), ["--version"]).status === 0;

async function pgTool(tool: string, args: string[]): Promise<void> {
  const [command, rest] = AS_ROOT ? ["runuser", ["-u", "postgres", "--", join(BIN!, tool), ...args]] : [join(BIN!, tool), args];
  await run(command, rest as string[], { timeout: 60_000 });
}

export interface StreamingPair {
  /** postgresql:// URLs of the database `shop` on each. */
  primaryUrl: string;
  replicaUrl: string;
  /** SQL on the standby as its superuser (pg_wal_replay_pause() and the like). */
  onReplica(sql: string): Promise<pg.QueryResult>;
  /** Stops the standby at once, as a crash would. */
  crashReplica(): Promise<void>;
  stop(): Promise<void>;
  /** The same, blocking: for a process's `exit` handler. */
  stopSync(): void;
}

export async function startStreamingPair(): Promise<StreamingPair> {
  const dir = mkdtempSync(join(tmpdir(), "shop-standby-"));
  chmodSync(dir, 0o777);
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primaryDir = join(dir, "primary");
  const replicaDir = join(dir, "replica");
  const settings = (port: number) =>
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "fsync = off",
      "max_connections = 60",
      "shared_buffers = 16MB",
      "hot_standby = on",
      "",
    ].join("\n");
  const started: string[] = [];
  const stopAll = async () => {
    for (const data of started.reverse())
      await pgTool("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pgTool("initdb", ["-D", primaryDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
    appendFileSync(join(primaryDir, "postgresql.conf"), settings(primaryPort));
    await pgTool("pg_ctl", ["-D", primaryDir, "-l", join(dir, "primary.log"), "-w", "start"]);
    started.push(primaryDir);
    const primaryAdmin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${primaryPort}/postgres` });
    await primaryAdmin.connect();
    await primaryAdmin.query("CREATE DATABASE shop");
    await primaryAdmin.end();
    await pgTool("pg_basebackup", [
      "-h",
      "127.0.0.1",
      "-p",
      String(primaryPort),
      "-U",
      "postgres",
      "-D",
      replicaDir,
      "-R",
      "-X",
      "stream",
      "-N",
      // A fast checkpoint: the default spreads it over minutes after CREATE DATABASE's writes.
      "--checkpoint=fast",
    ]);
    appendFileSync(join(replicaDir, "postgresql.conf"), settings(replicaPort));
    await pgTool("pg_ctl", ["-D", replicaDir, "-l", join(dir, "replica.log"), "-w", "start"]);
    started.push(replicaDir);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    primaryUrl: `postgresql://postgres@127.0.0.1:${primaryPort}/shop`,
    replicaUrl: `postgresql://postgres@127.0.0.1:${replicaPort}/shop`,
    async onReplica(sql) {
      const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${replicaPort}/postgres` });
      await client.connect();
      try {
        return await client.query(sql);
      } finally {
        await client.end();
      }
    },
    async crashReplica() {
      await pgTool("pg_ctl", ["-D", replicaDir, "-m", "immediate", "-w", "stop"]);
      started.splice(started.indexOf(replicaDir), 1);
    },
    stop: stopAll,
    stopSync() {
      for (const data of started.reverse()) {
        const [command, rest] = AS_ROOT
          ? ["runuser", ["-u", "postgres", "--", join(BIN!, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]]
          : [join(BIN!, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]];
        spawnSync(command, rest as string[], { timeout: 30_000 });
      }
      started.length = 0;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
