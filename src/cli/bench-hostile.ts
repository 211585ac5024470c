/**
 * `npm run bench:hostile -- --database postgresql://postgres@127.0.0.1:5432/shop_hostile [--node 26|current]`
 *
 * What one hostile request can cost the server, with the defaults a production start has
 * (MAX_COST, MAX_RESPONSE_OBJECTS, REQUEST_TIMEOUT_MS …): the built server runs as its own process
 * on 127.0.0.1 (`node dist/src/server.js`, NODE_ENV=production), and this program prints
 *
 *  - the CPU a fragment chain costs the server before it is refused (30 and 40 levels, 1.2–1.6 KB),
 *    and how long /health, asked in the same moment, takes to answer;
 *  - the server's resident memory while four of the worst requests the limits let through run at
 *    once: a customer's orders, each order's customer, their orders again… (rows loaded once, a
 *    response built from the loaders' cache), and the same as one eager statement;
 *  - how long a SIGTERM takes with those four in flight, and what each of them was answered.
 *
 * The database (its own: created when missing, emptied and seeded by this program) holds one
 * customer with 100 orders of 5 items. Linux only (/proc). Bounded: it stops itself after 5 minutes.
 */
import { spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  childProcesses,
  cpuTicks,
  ensureDatabase,
  freePort,
  msOfTicks,
  nodeBinary,
  rssMiB,
  waitUntilUp,
} from "../bench/processes.js";
import { authorization, reseed } from "../bench/shop.js";
import { STRATEGY_HEADER } from "../loading/strategy.js";

const { values } = parseArgs({ options: { database: { type: "string" }, node: { type: "string" } } });
const DATABASE = values.database ?? "";
if (!/^postgres(ql)?:\/\//.test(DATABASE)) {
  console.error(
    "Usage: npm run bench:hostile -- --database postgresql://postgres@127.0.0.1:5432/shop_hostile [--node 26|current]",
  );
  process.exit(2);
}
const NODE = nodeBinary(values.node);
const NODE_VERSION = spawnSync(NODE, ["--version"], { encoding: "utf8" }).stdout.trim();
const { startChild, exit } = childProcesses(NODE);
const SECRET = "bench-hostile-secret-of-at-least-32-characters";

/** `{ ...F<levels> }`: each fragment spreads the one before it twice, F0 holds one alias. */
function fragmentChain(levels: number): string {
  let document = `{ ...F${levels} } fragment F0 on Query { a: __typename }`;
  for (let i = 1; i <= levels; i++) document += ` fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`;
  return document;
}

/**
 * The most a customer's query can hold under the defaults (MAX_RESPONSE_OBJECTS 20,000): their 100
 * orders, each with its customer, whose 99 orders each name their customer again. 20,000 objects
 * (the orders and their customers), estimated at 20,102; rows read once, the rest from the
 * loaders' cache.
 */
const WORST = `query Worst { me { orders(first: 100) { id status createdAt notes user { orders(first: 99) { id status createdAt notes user { id } } } } } }`;

async function seed(): Promise<void> {
  await ensureDatabase(DATABASE);
  await reseed(DATABASE, { users: 1, products: 20, ordersPerUser: 100, itemsPerOrder: 5 });
}

interface Answer {
  status: number;
  ms: number;
  code?: string;
  objects?: number;
  bytes: number;
}

async function ask(url: string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    return {
      status: response.status,
      ms: performance.now() - started,
      code: body.errors?.[0]?.extensions?.code,
      // Every order in the answer carries its id (the customer's does not).
      objects: body.data ? (text.match(/"id"/g) ?? []).length : undefined,
      bytes: text.length,
    };
  } catch (error) {
    return {
      status: 0,
      ms: performance.now() - started,
      code: `socket: ${(error as Error).cause ?? (error as Error).message}`,
      bytes: 0,
    };
  }
}

/** Samples a process's RSS every 20 ms while `work` runs; resolves with the work's result and the peak. */
async function peakRss<T>(pid: number, work: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssMiB(pid);
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const now = rssMiB(pid);
      if (now > peak) peak = now;
      await sleep(20);
    }
  })();
  const result = await work.finally(() => {
    done = true;
  });
  await sampling;
  return { result, peak };
}

async function main() {
  setTimeout(() => {
    console.error("bench:hostile ran past its 5-minute budget; stopping.");
    void exit(1);
  }, 300_000).unref();
  console.error("seeding one customer with 100 orders …");
  await seed();
  console.error("building (npm run build) …");
  const build = spawnSync("npm", ["run", "build"], { encoding: "utf8", timeout: 300_000 });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);

  const port = await freePort();
  const server = startChild("server", "dist/src/server.js", {
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: DATABASE,
    AUTH_JWT_SECRET: SECRET,
    RATE_LIMIT_PER_MINUTE: "0",
    LOG_LEVEL: "warn",
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${origin}/ready`, server);
  const url = `${origin}/graphql`;
  const pid = server.pid!;
  const customer = await authorization(SECRET, { role: "customer", userId: 1 });

  console.log(`# bench:hostile\n\nNode ${NODE_VERSION}, production defaults, PostgreSQL at ${new URL(DATABASE).host}.\n`);
  console.log("## Fragment chains (anonymous)\n");
  console.log("| levels | bytes | answer | server CPU ms | wall ms | /health asked at once, ms |");
  console.log("|--:|--:|---|--:|--:|--:|");
  for (const levels of [30, 40]) {
    const document = fragmentChain(levels);
    const before = cpuTicks(pid);
    const [answer, health] = await Promise.all([ask(url, document), ask(`${origin}/health`, "")]);
    const cpu = msOfTicks(cpuTicks(pid) - before);
    console.log(
      `| ${levels} | ${document.length} | ${answer.status} ${answer.code} | ${cpu.toFixed(0)} | ${answer.ms.toFixed(1)} | ${health.ms.toFixed(1)} |`,
    );
  }

  console.log("\n## Four of the worst requests the limits allow, at once\n");
  console.log(`The query: ${WORST.length} bytes, as the customer; 20,000 objects, cost 20,102.\n`);
  console.log("| strategy | answers | orders in each | bytes each | wall ms | RSS before MiB | peak RSS MiB |");
  console.log("|---|---|--:|--:|--:|--:|--:|");
  for (const strategy of ["batched", "eager"]) {
    await sleep(500);
    const before = rssMiB(pid);
    const started = performance.now();
    const { result, peak } = await peakRss(
      pid,
      Promise.all(Array.from({ length: 4 }, () => ask(url, WORST, { ...customer, [STRATEGY_HEADER]: strategy }))),
    );
    const codes = result.map((answer) => answer.code ?? answer.status).join(", ");
    console.log(
      `| ${strategy} | ${codes} | ${result[0]!.objects ?? "-"} | ${result[0]!.bytes} | ${(performance.now() - started).toFixed(0)} | ${before.toFixed(0)} | ${peak.toFixed(0)} |`,
    );
  }

  console.log("\n## SIGTERM with those four in flight\n");
  const inFlight = Array.from({ length: 4 }, () => ask(url, WORST, { ...customer, [STRATEGY_HEADER]: "batched" }));
  // Once the four are being worked on.
  await sleep(50);
  const signalled = performance.now();
  const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
  server.kill("SIGTERM");
  const answers = await Promise.all(inFlight);
  const code = await exited;
  console.log(
    `exit ${code} ${(performance.now() - signalled).toFixed(0)} ms after SIGTERM; the four were answered: ${answers.map((a) => `${a.status} ${a.code ?? `${a.objects} objects`}`).join(", ")}`,
  );
  await exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  void exit(1);
});
