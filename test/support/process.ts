/** Runs src/server.ts as a real process, as `npm start` does, and waits for its URL; and the CLI commands. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

/** A process's start time as Linux counts it: field 22 of /proc/<pid>/stat (after the command name). */
export function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

/**
 * Runs a command of src/cli as `npm run` does, with these settings over the test's (and none of the
 * auth settings the test run may carry); resolves with its output, rejects with its exit code.
 */
export const runCommand = (script: string, args: string[], settings: Record<string, string>) =>
  promisify(execFile)(process.execPath, ["--import", "tsx", `src/cli/${script}.ts`, ...args], {
    cwd: new URL("../..", import.meta.url),
    env: { ...process.env, NODE_ENV: "", AUTH: "", AUTH_JWT_SECRET: "", AUTH_JWKS_URL: "", ...settings },
  });

/**
 * How long a server process may take to print its URL: loading TypeScript through tsx, Prisma's
 * WebAssembly query compiler and, on PGlite, PostgreSQL itself takes a few seconds on a busy 2-core
 * machine. Tests that start one give themselves more than this, so a slow start fails with the
 * server's output rather than with vitest's bare timeout.
 */
export const START_TIMEOUT_MS = 90_000;

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the GraphQL URL the server printed once it listens. */
  ready(): Promise<string>;
  /** Resolves with the exit code when the process ends by itself. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: new URL("../..", import.meta.url),
    env: { ...process.env, PORT: "0", SQL_EXPLAIN: "", NODE_ENV: "", REDIS_URL: "", ...env },
  });
  let output = "";
  const printed = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = output.match(/(http:\/\/(localhost|127\.0\.0\.1):\d+\/graphql)/);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", () => reject(new Error(`the server exited before it listened; output:\n${output}`)));
  });
  printed.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    ready() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the server did not listen within ${START_TIMEOUT_MS} ms; output:\n${output}`)),
          START_TIMEOUT_MS,
        );
      });
      return Promise.race([printed, late]).finally(() => clearTimeout(timer));
    },
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
