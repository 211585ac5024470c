/**
 * npm run bench [-- --users 200 --runs 5]
 *
 * Prints, for the nested query users(first: N) -> orders -> items -> product, what each loading
 * strategy costs: SQL statements, rows read, and the median wall time over a few runs. It runs
 * in-process against a seeded database (embedded PGlite in memory unless BENCH_DATABASE_URL names a
 * PostgreSQL database, which it will empty and seed).
 */
import { parseArgs } from "node:util";
import { parseDatabaseUrl } from "../../src/config.js";
import { openDatabase } from "../../src/db.js";
import { migrate } from "../../src/migrate.js";
import { createShopPubSub } from "../../src/pubsub.js";
import { resetShop, seedShop } from "../../src/seed.js";
import { STRATEGIES } from "../../src/strategy.js";
import { createShopServer } from "../../src/yoga.js";

const { values } = parseArgs({ options: { users: { type: "string", default: "200" }, runs: { type: "string", default: "9" } } });
const users = Number(values.users);
const runs = Number(values.runs);

const config = parseDatabaseUrl(process.env.BENCH_DATABASE_URL ?? "memory://");
const db = await openDatabase(config);
await migrate(db);
await resetShop(db.prisma);
const sizes = { users, products: 100, ordersPerUser: 4, itemsPerOrder: 3 };
await seedShop(db.prisma, sizes);
const yoga = createShopServer({ prisma: db.prisma, pubsub: createShopPubSub().pubsub, sqlExplain: true, logging: false });

async function run(query: string, strategy: string) {
  const started = performance.now();
  const response = await yoga.fetch("http://bench/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", "x-loading-strategy": strategy },
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
  `${config.label}; seeded ${sizes.users} users, ${sizes.products} products, ${sizes.ordersPerUser} orders per user, ${sizes.itemsPerOrder} items per order; median of ${runs} runs\n`,
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
await db.close();
