/**
 * `npm run bench:latency [-- --seconds 8]`
 *
 * What a heavy request does to everyone else on the embedded database: while one client runs a
 * heavy query over and over (the lazy strategy: some 1,700 statements each), another asks
 * `{ __typename }` every 20 ms, over real HTTP. Printed side by side in one run: PGlite on the
 * server's own thread (as it was) and on its worker thread (as it is), with the light request's
 * p50, p99 and worst latency.
 */
import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { loadConfig } from "../config.js";
import { seedShop } from "../db/seed.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" } } });
const seconds = Number(values.seconds);
const HEAVY = `{ users(first: 100) { edges { node { orders(first: 20) { items(first: 10) { product { name } } } } } } }`;

async function measure(onThisThread: boolean) {
  const config = loadConfig({
    DATABASE_URL: "memory://",
    SEED_DEMO: "0",
    AUTH: "off",
    LOG_LEVEL: "silent",
    PORT: "0",
    RATE_LIMIT_PER_MINUTE: "0",
  });
  const app = await createApp(config, { pgliteOnThisThread: onThisThread });
  await seedShop(app.prisma, { users: 100, products: 100, ordersPerUser: 4, itemsPerOrder: 3 });
  const { url } = await app.listen("127.0.0.1");
  const post = (query: string, strategy = "eager") =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-loading-strategy": strategy },
      body: JSON.stringify({ query }),
    }).then((r) => r.json());
  const until = performance.now() + seconds * 1000;
  let heavyRuns = 0;
  const heavy = (async () => {
    while (performance.now() < until) {
      await post(HEAVY, "lazy");
      heavyRuns++;
    }
  })();
  const light: number[] = [];
  while (performance.now() < until) {
    const started = performance.now();
    await post("{ __typename }");
    light.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await heavy;
  await app.close();
  const sorted = [...light].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1)!, light: light.length, heavyRuns };
}

const before = await measure(true);
const after = await measure(false);
console.log(`{ __typename } every 20 ms while a lazy query of ~1,700 statements runs back to back, ${seconds} s each\n`);
console.log("| PGlite on | light requests | heavy runs | p50 ms | p99 ms | worst ms |");
console.log("|---|--:|--:|--:|--:|--:|");
for (const [name, r] of [
  ["the server's thread", before],
  ["a worker thread", after],
] as const) {
  console.log(`| ${name} | ${r.light} | ${r.heavyRuns} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |`);
}
console.log(`\np99 ratio (server's thread / worker): ${(before.p99 / after.p99).toFixed(1)}x`);
