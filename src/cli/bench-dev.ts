/**
 * `npm run bench:dev`
 *
 * The development loop as a developer meets it, on a throwaway embedded database (a temporary
 * folder; `./.data` is not touched): the first `npm start` (migrate and seed), a second one on the
 * same folder, and `npm run dev` reloading after three saves of a schema file: the time from the
 * save to the new schema answering (a field the save adds), and whether the data outlived the
 * reloads. The edited file is restored afterwards, whatever happens. Prints the figures; the target
 * is a reload within 3 s and a second start within 5 s.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EDITED = join(ROOT, "src/graphql/schema/reports.ts");
const PORT = 4190 + Math.floor(Math.random() * 100);
const folder = mkdtempSync(join(tmpdir(), "shop-bench-dev-"));
const env = { ...process.env, DATABASE_URL: `file:${join(folder, "shop")}`, PORT: String(PORT), LOG_LEVEL: "info", NODE_ENV: "" };

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Runs an npm script in its own process group; counts the "listening on" lines it prints. */
function run(script: string) {
  const child = spawn("npm", ["run", script, "--silent"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const state = { child, listened: 0, output: "" };
  const onData = (chunk: Buffer) => {
    state.output += chunk;
    state.listened = state.output.split("listening on").length - 1;
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  return state;
}

async function ask(query: string): Promise<{ data?: Record<string, unknown> } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${PORT}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(5_000),
    });
    return (await response.json()) as { data?: Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Polls until `done` holds (every 25 ms, for at most two minutes); returns the time it took. */
async function until(done: () => Promise<boolean> | boolean, what: () => string): Promise<number> {
  const started = performance.now();
  while (!(await done())) {
    if (performance.now() - started > 120_000) throw new Error(`${what()}: nothing after two minutes`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return performance.now() - started;
}

async function stop(child: ChildProcess) {
  if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGTERM");
  await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
  // The server itself (npm's child) has let go of the port once nothing answers there.
  await until(
    async () => (await ask("{ __typename }")) === undefined,
    () => "the server did not stop",
  );
}

const original = readFileSync(EDITED, "utf8");
try {
  console.log(`Node ${process.version}, a temporary folder, port ${PORT}`);
  for (const [label, times] of [
    ["first npm start (migrate, seed)", 1],
    ["second npm start (existing data)", 2],
  ] as const) {
    for (let i = 0; i < times; i++) {
      const server = run("start");
      const ms = await until(
        async () =>
          ((await ask("{ products { totalCount } }"))?.data?.products as { totalCount: number } | undefined)?.totalCount === 30,
        () => server.output,
      );
      console.log(`${label}: answered ${seconds(ms)} after the command`);
      await stop(server.child);
    }
  }
  const dev = run("dev");
  await until(
    async () => (await ask("{ __typename }"))?.data?.__typename === "Query",
    () => dev.output,
  );
  // A row written before the reloads must still be there after them.
  const before = await ask("{ products { totalCount } }");
  for (let i = 1; i <= 3; i++) {
    const listened = dev.listened;
    const saved = performance.now();
    writeFileSync(EDITED, `${original}\nbuilder.queryField("benchDevProbe", (t) => t.string({ resolve: () => "v${i}" }));\n`);
    await until(
      async () => dev.listened > listened && (await ask("{ benchDevProbe }"))?.data?.benchDevProbe === `v${i}`,
      () => dev.output,
    );
    console.log(`npm run dev, save ${i}: the new schema answered ${seconds(performance.now() - saved)} after the save`);
  }
  const after = await ask("{ products { totalCount } }");
  console.log(`data kept across the reloads: ${JSON.stringify(before?.data) === JSON.stringify(after?.data) ? "yes" : "NO"}`);
  writeFileSync(EDITED, original);
  await stop(dev.child);
} finally {
  writeFileSync(EDITED, original);
  rmSync(folder, { recursive: true, force: true });
}
