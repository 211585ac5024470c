/** Runs src/server.ts as a real process, as `npm start` does, and waits for its URL. */
import { type ChildProcess, spawn } from "node:child_process";

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the GraphQL URL the server printed once it listens. */
  ready(ms?: number): Promise<string>;
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
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    async ready(ms = 60_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const match = output.match(/(http:\/\/localhost:\d+\/graphql)/);
        if (match) return match[1]!;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start; output:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
