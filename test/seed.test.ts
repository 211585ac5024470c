/** The seed: deterministic, the sizes asked for, consistent stock, and a CLI that guards data. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { UsageError } from "../src/cli/run.js";
import { parseSizes, seedCommand } from "../src/cli/seed.js";
import { ConfigError, loadDatabaseConfig } from "../src/config.js";
import { resetShop, seedShop } from "../src/db/seed.js";
import { createTestShop, type TestShop, testDatabaseKind } from "./support/shop.js";

let shop: TestShop;
const sizes = { users: 7, products: 9, ordersPerUser: 3, itemsPerOrder: 2 };

async function dump() {
  const [users, products, orders, items] = await Promise.all([
    shop.prisma.user.findMany({ orderBy: { id: "asc" }, omit: { updatedAt: true } }),
    shop.prisma.product.findMany({ orderBy: { id: "asc" }, omit: { updatedAt: true, createdAt: true } }),
    shop.prisma.order.findMany({ orderBy: { id: "asc" }, omit: { updatedAt: true } }),
    shop.prisma.orderItem.findMany({ orderBy: { id: "asc" } }),
  ]);
  return { users, products, orders, items };
}

beforeAll(async () => {
  shop = await createTestShop();
});
afterAll(() => shop?.close());

describe("seedShop", () => {
  it("writes exactly the sizes asked for, with valid rows", async () => {
    const result = await seedShop(shop.prisma, sizes);
    expect(result).toMatchObject({ users: 7, orders: 21, items: 42 });
    const { users, products, orders, items } = await dump();
    expect([users.length, products.length, orders.length, items.length]).toEqual([7, 9, 21, 42]);
    expect(new Set(users.map((u) => u.email)).size).toBe(7);
    expect(products.every((p) => p.stock >= 0 && p.price.gte(0) && p.name.length > 0)).toBe(true);
    for (const order of orders) {
      const own = items.filter((i) => i.orderId === order.id);
      expect(own).toHaveLength(2);
      expect(new Set(own.map((i) => i.productId)).size).toBe(2);
    }
    for (const item of items) {
      expect(item.quantity).toBeGreaterThan(0);
      expect(item.unitPrice.toFixed(2)).toBe(products.find((p) => p.id === item.productId)!.price.toFixed(2));
    }
  });

  it("leaves the planner statistics of what it loaded (autovacuum may be off, and a fresh import has none)", async () => {
    await resetShop(shop.prisma);
    await seedShop(shop.prisma, sizes);
    const stats = await shop.prisma.$queryRaw<{ table: string; tuples: number }[]>`
      SELECT c.relname AS "table", c.reltuples::int AS tuples FROM pg_class c
      WHERE c.relname IN ('User', 'Product', 'Order', 'OrderItem') AND c.relkind = 'r' ORDER BY c.relname`;
    expect(stats).toEqual([
      { table: "Order", tuples: 21 },
      { table: "OrderItem", tuples: 42 },
      { table: "Product", tuples: 9 },
      { table: "User", tuples: 7 },
    ]);
  });

  it("is deterministic: the same sizes give the same shop", async () => {
    const first = await dump();
    await resetShop(shop.prisma);
    await seedShop(shop.prisma, sizes);
    expect(await dump()).toEqual(first);
  });
  it("loads many orders per user in batches of bounded size, in one go", async () => {
    await resetShop(shop.prisma);
    const batches: number[] = [];
    const big = { users: 130, products: 30, ordersPerUser: 100, itemsPerOrder: 3 };
    const result = await seedShop(shop.prisma, big, (progress) => batches.push(progress.users));
    // 401 rows per user: 124 users (about 50,000 rows) per batch, whatever the total.
    expect(batches).toEqual([124, 130]);
    expect(result).toMatchObject({ users: 130, orders: 13_000, items: 39_000 });
    expect([await shop.prisma.order.count(), await shop.prisma.orderItem.count()]).toEqual([13_000, 39_000]);
  });
});

describe("npm run db:seed", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "shop-seed-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  // In production too it needs only the database settings (a migration job has no token secret).
  const database = loadDatabaseConfig({ NODE_ENV: "production", DATABASE_URL: `file:${dataDir}` });

  it.runIf(testDatabaseKind === "pglite")(
    "seeds a folder database, refuses to seed it twice, and replaces it with --reset",
    async () => {
      // The folder starts as the run's migrated template (test/support/pglite-template.ts): a new
      // database's initdb and migrations are what the server process test's first start shows.
      const first = await seedCommand(
        ["--users", "4", "--products", "5", "--orders-per-user", "2", "--items-per-order", "1"],
        database,
        { pgliteTemplate: inject("pgliteTemplate") },
      );
      expect(first).toMatch(/^Seeded PGlite at .*: 4 users, 5 products, 8 orders, 8 items in /);
      const twice = seedCommand(["--users", "4"], database);
      await expect(twice).rejects.toThrow(ConfigError);
      await expect(twice).rejects.toThrow(/already has a shop; add --reset to replace it\.$/);
      const again = await seedCommand(["--users", "3", "--reset"], database);
      expect(again).toMatch(/: 3 users, 30 products, 15 orders, 45 items/);
    },
  );

  it.each([
    [["--users", "lots"], "--users must be a whole number of at least 0; got lots."],
    [["--user", "5"], "Unknown option '--user'"],
    // `npm run db:seed --users 5` (no `--`): npm keeps the flag and passes only "5".
    [["5"], 'Unexpected argument "5": put -- between the npm script and the options.'],
    [["--products", "2", "--items-per-order", "3"], "--items-per-order (3) cannot exceed --products (2)"],
  ])("refuses %j with a one-line usage error", (args, line) => {
    expect(() => parseSizes(args)).toThrow(UsageError);
    expect(() => parseSizes(args)).toThrow(line);
  });
});
