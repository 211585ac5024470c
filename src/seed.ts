/**
 * Fills a database with a deterministic demo shop: the same sizes always give the same rows, so
 * figures measured on seeded data can be reproduced. Rows go in batches, so 100,000 users take
 * bounded memory. The command-line front end is prisma/seed.ts (`npm run db:seed`).
 */
import { en, Faker } from "@faker-js/faker";
import { type OrderStatus, Prisma, type PrismaClient } from "./generated/prisma/client.js";

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

/** Users per batch: each batch is three INSERTs (users, orders, items), well under PostgreSQL's 65,535 parameters. */
const USERS_PER_BATCH = 500;
const DAY_MS = 86_400_000;
/** Order dates fall in the year before this instant, fixed so that seeding is reproducible. */
const SEED_EPOCH = Date.UTC(2026, 0, 1);

const STATUS_WEIGHTS: { weight: number; value: OrderStatus }[] = [
  { weight: 50, value: "COMPLETED" },
  { weight: 20, value: "PENDING" },
  { weight: 15, value: "PROCESSING" },
  { weight: 15, value: "CANCELLED" },
];

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
    throw new Error(`--items-per-order (${sizes.itemsPerOrder}) cannot exceed --products (${sizes.products}): an order lists each product once.`);
  }
  const faker = new Faker({ locale: [en], seed: 20261125 });
  const categories = faker.helpers.uniqueArray(() => faker.commerce.department(), 8);

  const products = Array.from({ length: sizes.products }, (_, i) => ({
    name: `${faker.commerce.productName()} ${i + 1}`,
    description: faker.datatype.boolean(0.8) ? faker.commerce.productDescription() : null,
    price: new Prisma.Decimal(faker.commerce.price({ min: 2, max: 400, dec: 2 })),
    category: faker.helpers.arrayElement(categories),
    // What is left after the seeded orders took theirs: never negative, one product in ten sold out.
    stock: faker.datatype.boolean(0.1) ? 0 : faker.number.int({ min: 1, max: 150 }),
  }));
  const created = await prisma.product.createManyAndReturn({ data: products, select: { id: true, price: true } });

  /** `n` different products, drawn without copying the catalogue (it may be large). */
  const distinctProducts = (n: number) => {
    const picked = new Set<number>();
    while (picked.size < n) picked.add(faker.number.int({ min: 0, max: created.length - 1 }));
    return [...picked].map((index) => created[index]!);
  };

  const progress: SeedProgress = { users: 0, totalUsers: sizes.users, orders: 0, items: 0 };
  for (let start = 0; start < sizes.users; start += USERS_PER_BATCH) {
    const count = Math.min(USERS_PER_BATCH, sizes.users - start);
    const users = await prisma.user.createManyAndReturn({
      data: Array.from({ length: count }, (_, k) => {
        const firstName = faker.person.firstName();
        const lastName = faker.person.lastName();
        return {
          name: `${firstName} ${lastName}`,
          // The running number keeps emails unique however many users there are.
          email: `${firstName}.${lastName}.${start + k + 1}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, ""),
          age: faker.number.int({ min: 18, max: 80 }),
          active: faker.datatype.boolean(0.9),
          createdAt: new Date(SEED_EPOCH - faker.number.int({ min: 365, max: 730 }) * DAY_MS),
        };
      }),
      select: { id: true },
    });
    const orderRows = users.flatMap((user) =>
      Array.from({ length: sizes.ordersPerUser }, () => ({
        userId: user.id,
        status: faker.helpers.weightedArrayElement(STATUS_WEIGHTS),
        notes: faker.datatype.boolean(0.2) ? faker.lorem.sentence() : "",
        createdAt: new Date(SEED_EPOCH - faker.number.int({ min: 1, max: 365 * 24 * 60 }) * 60_000),
      })),
    );
    const orders = orderRows.length
      ? await prisma.order.createManyAndReturn({ data: orderRows, select: { id: true, status: true } })
      : [];
    const items = orders.flatMap((order) =>
      distinctProducts(sizes.itemsPerOrder).map((product) => ({
        orderId: order.id,
        productId: product.id,
        quantity: faker.number.int({ min: 1, max: 4 }),
        unitPrice: product.price,
      })),
    );
    if (items.length) await prisma.orderItem.createMany({ data: items });
    progress.users += users.length;
    progress.orders += orders.length;
    progress.items += items.length;
    onProgress?.({ ...progress });
  }

  return progress;
}
