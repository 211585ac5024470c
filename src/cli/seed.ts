/**
 * `npm run db:seed -- [--users N] [--products N] [--orders-per-user N] [--items-per-order N] [--reset]`
 *
 * Seeds the configured database (DATABASE_URL, default the embedded one) after applying migrations;
 * it reads only the database settings.
 * Refuses a shop that already has data unless --reset is given. Argument mistakes print one line and
 * the usage, and exit 2.
 */
import { parseArgs } from "node:util";
import { ConfigError, type DatabaseConfig, loadDatabaseConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { migrate } from "../db/migrate.js";
import { DEMO_SIZES, isShopEmpty, resetShop, type SeedSizes, seedShop } from "../db/seed.js";
import { runCli, UsageError, usageErrorOf } from "./run.js";

const USAGE = `usage: npm run db:seed -- [--users N] [--products N] [--orders-per-user N] [--items-per-order N] [--reset]
  defaults: --users ${DEMO_SIZES.users} --products ${DEMO_SIZES.products} --orders-per-user ${DEMO_SIZES.ordersPerUser} --items-per-order ${DEMO_SIZES.itemsPerOrder}`;

function count(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min) throw new UsageError(`--${name} must be a whole number of at least ${min}; got ${raw}.`);
  return value;
}

/** The sizes and flags a command line asks for; throws UsageError on a mistake. */
export function parseSizes(args: string[]): { sizes: SeedSizes; reset: boolean } {
  let values: ReturnType<typeof parse>["values"];
  function parse() {
    return parseArgs({
      args,
      strict: true,
      options: {
        users: { type: "string" },
        products: { type: "string" },
        "orders-per-user": { type: "string" },
        "items-per-order": { type: "string" },
        reset: { type: "boolean", default: false },
      },
    });
  }
  try {
    values = parse().values;
  } catch (error) {
    throw usageErrorOf(error, args);
  }
  const sizes = {
    users: count("users", values.users, DEMO_SIZES.users, 0),
    products: count("products", values.products, DEMO_SIZES.products, 1),
    ordersPerUser: count("orders-per-user", values["orders-per-user"], DEMO_SIZES.ordersPerUser, 0),
    itemsPerOrder: count("items-per-order", values["items-per-order"], DEMO_SIZES.itemsPerOrder, 1),
  };
  if (sizes.itemsPerOrder > sizes.products) {
    throw new UsageError(
      `--items-per-order (${sizes.itemsPerOrder}) cannot exceed --products (${sizes.products}): an order lists each product once.`,
    );
  }
  return { sizes, reset: values.reset ?? false };
}

/**
 * Seeds the configured database as the command line asks and returns the line the command prints;
 * throws UsageError or ConfigError (a shop already there without --reset).
 */
export async function seedCommand(
  args: string[],
  database: DatabaseConfig = loadDatabaseConfig(),
  open: Parameters<typeof openDatabase>[1] = {},
): Promise<string> {
  const { sizes, reset } = parseSizes(args);
  const db = await openDatabase(database, open);
  try {
    await migrate(db);
    if (reset) await resetShop(db.prisma);
    else if (!(await isShopEmpty(db.prisma))) {
      throw new ConfigError(`${database.label} already has a shop; add --reset to replace it.`);
    }
    const started = performance.now();
    const tty = process.stderr.isTTY;
    let lastLog = 0;
    const result = await seedShop(db.prisma, sizes, (p) => {
      const line = `seeding: ${p.users}/${p.totalUsers} users, ${p.orders} orders, ${p.items} items`;
      // A terminal gets a live line; a log gets a line every ten seconds.
      if (tty) process.stderr.write(`\r${line}`);
      else if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        process.stderr.write(`${line}\n`);
      }
    });
    if (tty) process.stderr.write("\n");
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return `Seeded ${database.label}: ${result.users} users, ${sizes.products} products, ${result.orders} orders, ${result.items} items in ${seconds}s (peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB).`;
  } finally {
    await db.close();
  }
}

runCli(import.meta.url, USAGE, async () => console.log(await seedCommand(process.argv.slice(2))));
