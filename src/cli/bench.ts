/**
 * `npm run bench [-- --users 200 --runs 9]`
 *
 * Prints, for the nested query users(first: N) -> orders -> items -> product, what each loading
 * strategy costs: SQL statements, rows read, and the median wall time over a few runs. It runs
 * in-process against a seeded database (embedded PGlite in memory unless BENCH_DATABASE_URL names a
 * PostgreSQL database, which it will empty and seed).
 */
import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { loadConfig } from "../config.js";
import { resetShop, seedShop } from "../seed.js";
import { STRATEGIES, STRATEGY_HEADER } from "../strategy.js";

const { values } = parseArgs({ options: { users: { type: "string", default: "200" }, runs: { type: "string", default: "9" } } });
const users = Number(values.users);
const runs = Number(values.runs);

const config = loadConfig({
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? "memory://",
  SEED_DEMO: "0",
  // The bench reads every user's orders; it measures loading, not authorization.
  AUTH: "off",
  RATE_LIMIT_PER_MINUTE: "0",
  SQL_EXPLAIN: "1",
  LOG_LEVEL: "silent",
});
const app = await createApp(config, { migrate: true });
await resetShop(app.prisma);
const sizes = { users, products: 100, ordersPerUser: 4, itemsPerOrder: 3 };
await seedShop(app.prisma, sizes);

async function run(query: string, strategy: string) {
  const started = performance.now();
  const response = await app.yoga.fetch("http://bench/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", [STRATEGY_HEADER]: strategy },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as {
    errors?: unknown;
    extensions: { sql: { count: number; statements: { rows: number }[] } };
  };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  const ms = performance.now() - started;
  const { count, statements } = body.extensions.sql;
  return { ms, count, rows: statements.reduce((n, s) => n + s.rows, 0) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `${config.database.label}; seeded ${sizes.users} users, ${sizes.products} products, ${sizes.ordersPerUser} orders per user, ${sizes.itemsPerOrder} items per order; median of ${runs} runs\n`,
);
console.log("| N | strategy | SQL statements | rows returned | median ms |");
console.log("|---:|---|---:|---:|---:|");
for (const n of [5, 50, 100]) {
  const query = `{ users(first: ${n}) { edges { node { name orders { status items { quantity product { name } } } } } } }`;
  for (const strategy of STRATEGIES) {
    await run(query, strategy); // warm-up: JIT, query plans, Prisma's compiled query cache
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await run(query, strategy));
    const { count, rows } = results[0]!;
    console.log(`| ${n} | ${strategy} | ${count} | ${rows} | ${median(results.map((r) => r.ms)).toFixed(1)} |`);
  }
}
console.log(`\npeak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
await app.close();
