/**
 * `npm run db:seed -- [--users N] [--products N] [--orders-per-user N] [--items-per-order N] [--reset]`
 *
 * Seeds the configured database (DATABASE_URL, default the embedded one) after applying migrations.
 * Refuses a shop that already has data unless --reset is given. Argument mistakes print one line and
 * the usage, and exit 2.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase } from "../db.js";
import { migrate } from "../migrate.js";
import { DEMO_SIZES, isShopEmpty, resetShop, type SeedSizes, seedShop } from "../seed.js";

const USAGE = `usage: npm run db:seed -- [--users N] [--products N] [--orders-per-user N] [--items-per-order N] [--reset]
  defaults: --users ${DEMO_SIZES.users} --products ${DEMO_SIZES.products} --orders-per-user ${DEMO_SIZES.ordersPerUser} --items-per-order ${DEMO_SIZES.itemsPerOrder}`;

/** A mistake in the command line: exit 2 with the usage. */
class UsageError extends Error {}

function count(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min) throw new UsageError(`--${name} must be a whole number of at least ${min}; got ${raw}.`);
  return value;
}

function parseSizes(args: string[]): { sizes: SeedSizes; reset: boolean } {
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
    const code = (error as { code?: string }).code;
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(
        `Unexpected argument ${JSON.stringify(args.find((a) => !a.startsWith("--")))}: put -- between db:seed and the options.`,
      );
    }
    if (code?.startsWith("ERR_PARSE_ARGS")) throw new UsageError((error as Error).message.split("\n")[0]!);
    throw error;
  }
  return {
    reset: values.reset ?? false,
    sizes: {
      users: count("users", values.users, DEMO_SIZES.users, 0),
      products: count("products", values.products, DEMO_SIZES.products, 1),
      ordersPerUser: count("orders-per-user", values["orders-per-user"], DEMO_SIZES.ordersPerUser, 0),
      itemsPerOrder: count("items-per-order", values["items-per-order"], DEMO_SIZES.itemsPerOrder, 1),
    },
  };
}

async function main() {
  const { sizes, reset } = parseSizes(process.argv.slice(2));
  if (sizes.itemsPerOrder > sizes.products) {
    throw new UsageError(
      `--items-per-order (${sizes.itemsPerOrder}) cannot exceed --products (${sizes.products}): an order lists each product once.`,
    );
  }
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    await migrate(db);
    if (reset) await resetShop(db.prisma);
    else if (!(await isShopEmpty(db.prisma))) {
      throw new ConfigError(`${config.database.label} already has a shop; add --reset to replace it.`);
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
    console.log(
      `Seeded ${config.database.label}: ${result.users} users, ${sizes.products} products, ${result.orders} orders, ${result.items} items in ${seconds}s (peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB).`,
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
