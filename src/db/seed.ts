/**
 * Fills a database with a deterministic demo shop: the same sizes always give the same rows, so
 * figures measured on seeded data can be reproduced. Rows go in batches, so 100,000 users take
 * bounded memory. The command-line front end is prisma/seed.ts (`npm run db:seed`).
 */
import { en, Faker } from "@faker-js/faker";
import type { OrderStatus, PrismaClient } from "../generated/prisma/client.js";

export interface SeedSizes {
  users: number;
  products: number;
  ordersPerUser: number;
  itemsPerOrder: number;
}

/** The demo shop `npm start` loads into an empty embedded database: 20 users, 30 products, 100 orders. */
export const DEMO_SIZES: SeedSizes = { users: 20, products: 30, ordersPerUser: 5, itemsPerOrder: 3 };

export interface SeedProgress {
  users: number;
  totalUsers: number;
  orders: number;
  items: number;
}

/**
 * Users per batch, with their orders and items: at most 1,000 users and about 50,000 rows, so
 * memory stays flat whatever the total and however many orders each user has. (It depends only on
 * the sizes, so the same sizes still give the same rows.)
 */
function usersPerBatch(sizes: SeedSizes): number {
  const rowsPerUser = 1 + sizes.ordersPerUser * (1 + sizes.itemsPerOrder);
  return Math.max(1, Math.min(1000, Math.floor(50_000 / rowsPerUser)));
}
const DAY_MS = 86_400_000;
/** Order dates fall in the year before this instant, fixed so that seeding is reproducible. */
const SEED_EPOCH = Date.UTC(2026, 0, 1);

const STATUS_WEIGHTS: { weight: number; value: OrderStatus }[] = [
  { weight: 50, value: "COMPLETED" },
  { weight: 20, value: "PENDING" },
  { weight: 15, value: "PROCESSING" },
  { weight: 15, value: "CANCELLED" },
];

/** One column of a batch of rows, as the array parameter `unnest()` expects. */
function col<Row, K extends keyof Row>(rows: Row[], key: K): Row[K][] {
  return rows.map((row) => row[key]);
}

/**
 * Takes `count` ids from a table's sequence. Rows inserted with them can be referenced at once by
 * their children, without reading the ids back, and the sequence stays ahead of every used id.
 */
async function reserveIds(prisma: PrismaClient, table: "User" | "Product" | "Order", count: number): Promise<number[]> {
  if (count === 0) return [];
  const rows = await prisma.$queryRaw<{ id: number }[]>`
    SELECT nextval(pg_get_serial_sequence(${`"${table}"`}, 'id'))::int AS id FROM generate_series(1, ${count})`;
  return rows.map((row) => row.id);
}

/** Empties every shop table and restarts the ids. */
export async function resetShop(prisma: PrismaClient): Promise<void> {
  await prisma.$executeRaw`TRUNCATE "OrderItem", "Order", "Product", "User" RESTART IDENTITY CASCADE`;
}

/** True when the shop has no users and no products. */
export async function isShopEmpty(prisma: PrismaClient): Promise<boolean> {
  const [users, products] = await Promise.all([prisma.user.count(), prisma.product.count()]);
  return users === 0 && products === 0;
}

/**
 * Seeds an empty shop and returns what it wrote. Stock is what remains after the seeded orders:
 * never negative, and cancelling a seeded order returns its units like any other.
 */
export async function seedShop(
  prisma: PrismaClient,
  sizes: SeedSizes = DEMO_SIZES,
  onProgress?: (progress: SeedProgress) => void,
): Promise<SeedProgress> {
  if (sizes.itemsPerOrder > sizes.products) {
    throw new Error(
      `--items-per-order (${sizes.itemsPerOrder}) cannot exceed --products (${sizes.products}): an order lists each product once.`,
    );
  }
  const faker = new Faker({ locale: [en], seed: 20261125 });
  const categories = faker.helpers.uniqueArray(() => faker.commerce.department(), 8);

  const productIds = await reserveIds(prisma, "Product", sizes.products);
  const products = productIds.map((id, i) => ({
    id,
    name: `${faker.commerce.productName()} ${i + 1}`,
    description: faker.datatype.boolean(0.8) ? faker.commerce.productDescription() : null,
    price: faker.commerce.price({ min: 2, max: 400, dec: 2 }),
    category: faker.helpers.arrayElement(categories),
    // What is left after the seeded orders took theirs: never negative, one product in ten sold out.
    stock: faker.datatype.boolean(0.1) ? 0 : faker.number.int({ min: 1, max: 150 }),
  }));
  await prisma.$executeRaw`
    INSERT INTO "Product" ("id", "name", "description", "price", "category", "stock", "updatedAt")
    SELECT *, now() FROM unnest(${col(products, "id")}::int[], ${col(products, "name")}::text[],
      ${col(products, "description")}::text[], ${col(products, "price")}::numeric[],
      ${col(products, "category")}::text[], ${col(products, "stock")}::int[])`;

  /** `n` different products, drawn without copying the catalogue (it may be large). */
  const distinctProducts = (n: number) => {
    const picked = new Set<number>();
    while (picked.size < n) picked.add(faker.number.int({ min: 0, max: products.length - 1 }));
    return [...picked].map((index) => products[index]!);
  };

  const progress: SeedProgress = { users: 0, totalUsers: sizes.users, orders: 0, items: 0 };
  const batch = usersPerBatch(sizes);
  for (let start = 0; start < sizes.users; start += batch) {
    const userIds = await reserveIds(prisma, "User", Math.min(batch, sizes.users - start));
    const users = userIds.map((id, k) => {
      const firstName = faker.person.firstName();
      const lastName = faker.person.lastName();
      return {
        id,
        name: `${firstName} ${lastName}`,
        // The running number keeps emails unique however many users there are.
        email: `${firstName}.${lastName}.${start + k + 1}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, ""),
        age: faker.number.int({ min: 18, max: 80 }),
        active: faker.datatype.boolean(0.9),
        createdAt: new Date(SEED_EPOCH - faker.number.int({ min: 365, max: 730 }) * DAY_MS).toISOString(),
      };
    });
    const orderIds = await reserveIds(prisma, "Order", users.length * sizes.ordersPerUser);
    const orders = orderIds.map((id, k) => ({
      id,
      userId: users[Math.floor(k / sizes.ordersPerUser)]!.id,
      status: faker.helpers.weightedArrayElement(STATUS_WEIGHTS),
      notes: faker.datatype.boolean(0.2) ? faker.lorem.sentence() : "",
      createdAt: new Date(SEED_EPOCH - faker.number.int({ min: 1, max: 365 * 24 * 60 }) * 60_000).toISOString(),
    }));
    const items = orders.flatMap((order) =>
      distinctProducts(sizes.itemsPerOrder).map((product) => ({
        orderId: order.id,
        productId: product.id,
        quantity: faker.number.int({ min: 1, max: 4 }),
        unitPrice: product.price,
      })),
    );
    // One transaction and three statements per batch, whatever its size: unnest() turns a few array
    // parameters into rows, where a multi-row VALUES list would need one parameter per value.
    await prisma.$transaction([
      prisma.$executeRaw`
        INSERT INTO "User" ("id", "name", "email", "age", "active", "createdAt", "updatedAt")
        SELECT *, now() FROM unnest(${col(users, "id")}::int[], ${col(users, "name")}::text[], ${col(users, "email")}::text[],
          ${col(users, "age")}::int[], ${col(users, "active")}::boolean[], ${col(users, "createdAt")}::timestamp(3)[])`,
      prisma.$executeRaw`
        INSERT INTO "Order" ("id", "userId", "status", "notes", "createdAt", "updatedAt")
        SELECT id, user_id, status::"OrderStatus", notes, created_at, now()
        FROM unnest(${col(orders, "id")}::int[], ${col(orders, "userId")}::int[], ${col(orders, "status")}::text[],
          ${col(orders, "notes")}::text[], ${col(orders, "createdAt")}::timestamp(3)[]) AS t(id, user_id, status, notes, created_at)`,
      prisma.$executeRaw`
        INSERT INTO "OrderItem" ("orderId", "productId", "quantity", "unitPrice")
        SELECT * FROM unnest(${col(items, "orderId")}::int[], ${col(items, "productId")}::int[],
          ${col(items, "quantity")}::int[], ${col(items, "unitPrice")}::numeric[])`,
    ]);
    progress.users += users.length;
    progress.orders += orders.length;
    progress.items += items.length;
    onProgress?.({ ...progress });
  }

  // A bulk load leaves the planner without statistics (and autovacuum may be off or late): without
  // them the first queries on a large seed run 10 to 80 times slower.
  await prisma.$executeRawUnsafe(`ANALYZE "User", "Product", "Order", "OrderItem"`);
  return progress;
}
