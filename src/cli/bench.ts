/**
 * `npm run bench [-- --users 200 --runs 9 --chart <file> | --update-readme-chart]`
 *
 * Prints, for the nested query users(first: N) -> orders -> items -> product, what each loading
 * strategy costs: SQL statements, rows read, and the median wall time over a few runs. It runs
 * in-process against a seeded embedded PGlite in memory and, when BENCH_DATABASE_URL names a
 * PostgreSQL database (which it will empty and seed), against that too; then it writes a chart of
 * both (see src/bench/chart.ts): to a scratch file by default (its path is printed), or, with
 * --update-readme-chart, over the committed src/bench/strategies.svg that the docs show.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { createApp } from "../app.js";
import { type BenchSeries, benchChart } from "../bench/chart.js";
import { loadConfig } from "../config.js";
import { resetShop, seedShop } from "../db/seed.js";
import { STRATEGIES, STRATEGY_HEADER } from "../loading/strategy.js";
import { runCli, UsageError, usageErrorOf } from "./run.js";

const USAGE = "usage: npm run bench -- [--users 200] [--runs 9] [--chart <file> | --update-readme-chart]";

/** What a command line asks for; throws UsageError on a mistake. */
export function parseBenchArgs(args: string[]) {
  let values: { users: string; runs: string; chart?: string; "update-readme-chart": boolean };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        users: { type: "string", default: "200" },
        runs: { type: "string", default: "9" },
        chart: { type: "string" },
        "update-readme-chart": { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw usageErrorOf(error, args);
  }
  const [users, runs] = [Number(values.users), Number(values.runs)];
  if (!Number.isInteger(users) || users < 1)
    throw new UsageError(`--users must be a whole number of at least 1; got ${values.users}.`);
  if (!Number.isInteger(runs) || runs < 1)
    throw new UsageError(`--runs must be a whole number of at least 1; got ${values.runs}.`);
  // The committed chart (docs/strategies.md shows it) changes only when asked to.
  const chart = values["update-readme-chart"]
    ? "src/bench/strategies.svg"
    : (values.chart ?? join(tmpdir(), "shop-bench", "strategies.svg"));
  return { sizes: { users, products: 100, ordersPerUser: 4, itemsPerOrder: 3 }, runs, chart };
}
type Sizes = ReturnType<typeof parseBenchArgs>["sizes"];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Seeds the database at `url` and measures every strategy on it; prints its table. */
async function measure(url: string, sizes: Sizes, runs: number): Promise<BenchSeries[]> {
  const config = loadConfig({
    DATABASE_URL: url,
    SEED_DEMO: "0",
    // The bench reads every user's orders; it measures loading, not authorization.
    AUTH: "off",
    RATE_LIMIT_PER_MINUTE: "0",
    SQL_EXPLAIN: "1",
    LOG_LEVEL: "silent",
  });
  const app = await createApp(config, { migrate: true });
  try {
    await resetShop(app.prisma);
    await seedShop(app.prisma, sizes);

    const run = async (query: string, strategy: string) => {
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
    };

    console.log(
      `${config.database.label}; seeded ${sizes.users} users, ${sizes.products} products, ${sizes.ordersPerUser} orders per user, ${sizes.itemsPerOrder} items per order; median of ${runs} runs\n`,
    );
    console.log("| N | strategy | SQL statements | rows returned | median ms |");
    console.log("|---:|---|---:|---:|---:|");
    const database = config.database.kind === "postgres" ? "PostgreSQL" : "PGlite";
    const series = new Map<string, BenchSeries>(STRATEGIES.map((strategy) => [strategy, { strategy, database, points: [] }]));
    for (const n of [5, 50, 100]) {
      const query = `{ users(first: ${n}) { edges { node { name orders { status items { quantity product { name } } } } } } }`;
      for (const strategy of STRATEGIES) {
        await run(query, strategy); // warm-up: JIT, query plans, Prisma's compiled query cache
        const results = [];
        for (let i = 0; i < runs; i++) results.push(await run(query, strategy));
        const { count, rows } = results[0]!;
        const medianMs = median(results.map((r) => r.ms));
        series.get(strategy)!.points.push({ n, statements: count, medianMs });
        console.log(`| ${n} | ${strategy} | ${count} | ${rows} | ${medianMs.toFixed(1)} |`);
      }
    }
    console.log("");
    return [...series.values()];
  } finally {
    await app.close();
  }
}

runCli(import.meta.url, USAGE, async () => {
  const { sizes, runs, chart } = parseBenchArgs(process.argv.slice(2));
  const series = [
    ...(process.env.BENCH_DATABASE_URL ? await measure(process.env.BENCH_DATABASE_URL, sizes, runs) : []),
    ...(await measure("memory://", sizes, runs)),
  ];
  const caption = `${sizes.users} users, 4 orders each, 3 items per order; median of ${runs} runs; Node ${process.version}`;
  mkdirSync(dirname(chart), { recursive: true });
  writeFileSync(chart, benchChart(series, caption));
  console.log(`chart: ${chart}`);
  console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
});
