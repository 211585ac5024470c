/**
 * The order rules, tested without GraphQL: the status machine, the commands one by one, and every
 * pair of commands that touch the same rows racing each other. After every round, for every
 * product: stock + units in orders that are not cancelled = the stock it started with.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShopError } from "../src/errors.js";
import { Prisma } from "../src/generated/prisma/client.js";
import { OrderStatus } from "../src/generated/prisma/enums.js";
import {
  changeOrderStatus,
  changeOrderStatuses,
  deleteProduct,
  deleteUser,
  placeOrder,
  restockProduct,
} from "../src/orders/commands.js";
import { canMove, NEXT_STATUSES, ORDER_STATUSES, STOCK_HOLDING_STATUSES } from "../src/orders/status.js";
import { inTransaction, isWriteConflict, TRANSACTION_ATTEMPTS } from "../src/orders/transaction.js";
import { createTestShop, type TestShop, testDatabaseKind } from "./support/shop.js";

let shop: TestShop;
beforeAll(async () => {
  shop = await createTestShop({ seed: false });
});
afterAll(() => shop?.close());

let seq = 0;
async function newUser() {
  return shop.prisma.user.create({ data: { name: `Racer ${++seq}`, email: `racer${seq}@example.com` }, select: { id: true } });
}
async function newProduct(stock: number) {
  return shop.prisma.product.create({
    data: { name: `Part ${++seq}`, price: "2.50", stock, category: "Parts" },
    select: { id: true },
  });
}
const line = (productId: number, quantity: number, i = 0) => ({ productId, quantity, field: `items.${i}` });

/** The code of what a command threw; anything that is not a ShopError fails the test. */
async function outcome(command: Promise<unknown>): Promise<string> {
  try {
    await command;
    return "OK";
  } catch (error) {
    if (error instanceof ShopError) return String(error.extensions.code);
    throw error;
  }
}

/** For each product: stock + units held by orders that are not cancelled. */
async function stockAccount(productIds: number[]): Promise<Map<number, number>> {
  const rows = await shop.prisma.$queryRaw<{ id: number; total: number }[]>`
    SELECT p."id", (p."stock" + COALESCE((
      SELECT SUM(i."quantity") FROM "OrderItem" i JOIN "Order" o ON o."id" = i."orderId"
      WHERE i."productId" = p."id" AND o."status" <> 'CANCELLED'), 0))::int AS total
    FROM "Product" p WHERE p."id" = ANY(${productIds}::int[])`;
  return new Map(rows.map((row) => [row.id, row.total]));
}

describe("the status machine", () => {
  it("covers exactly the generated enum, in its order", () => {
    expect(ORDER_STATUSES).toEqual(["PENDING", "PROCESSING", "COMPLETED", "CANCELLED"]);
    expect(Object.keys(NEXT_STATUSES).sort()).toEqual(Object.values(OrderStatus).sort());
  });

  it("holds stock exactly in the statuses an order can still be cancelled from", () => {
    expect(STOCK_HOLDING_STATUSES).toEqual(["PENDING", "PROCESSING"]);
    expect(canMove("PENDING", "PROCESSING")).toBe(true);
    expect(canMove("COMPLETED", "CANCELLED")).toBe(false);
    expect(canMove("PENDING", "PENDING")).toBe(false);
  });
});

describe("commands", () => {
  it("placeOrder takes the stock at today's price and reports the events", async () => {
    const user = await newUser();
    const [a, b] = [await newProduct(5), await newProduct(3)];
    const placed = await placeOrder(shop.prisma, { userId: user.id, lines: [line(b.id, 3), line(a.id, 1, 1)], notes: "" });
    expect(placed.changes).toEqual({ created: [placed.orderId], stockChanged: [b.id, a.id] });
    const order = await shop.prisma.order.findUniqueOrThrow({
      where: { id: placed.orderId },
      include: { items: { orderBy: { id: "asc" } } },
    });
    expect(order.items.map((i) => [i.productId, i.quantity, i.unitPrice.toFixed(2)])).toEqual([
      [b.id, 3, "2.50"],
      [a.id, 1, "2.50"],
    ]);
    expect((await stockAccount([a.id, b.id])).get(a.id)).toBe(5);
    expect((await shop.prisma.product.findUniqueOrThrow({ where: { id: b.id } })).stock).toBe(0);
  });

  it("placeOrder refuses, in line order, and writes nothing", async () => {
    const user = await newUser();
    const [a, b] = [await newProduct(5), await newProduct(1)];
    const refusals = [
      [{ userId: 987654, lines: [line(a.id, 1)] }, "NOT_FOUND", "userId"],
      [{ userId: user.id, lines: [line(a.id, 1), line(987654, 1, 1)] }, "NOT_FOUND", "items.1.productId"],
      [{ userId: user.id, lines: [line(a.id, 6), line(b.id, 2, 1)] }, "INSUFFICIENT_STOCK", "items.0.quantity"],
      [{ userId: user.id, lines: [line(a.id, 1), line(a.id, 2, 1)] }, "BAD_USER_INPUT", "items.1.productId"],
      [{ userId: user.id, lines: [] }, "BAD_USER_INPUT", "items"],
    ] as const;
    for (const [order, code, field] of refusals) {
      const error = await placeOrder(shop.prisma, { ...order, lines: [...order.lines], notes: "" }).catch((e: ShopError) => e);
      expect(error).toBeInstanceOf(ShopError);
      expect((error as ShopError).extensions).toMatchObject({ code, field });
    }
    expect(await shop.prisma.order.count({ where: { userId: user.id } })).toBe(0);
    expect([...(await stockAccount([a.id, b.id])).values()]).toEqual([5, 1]);
  });

  it("changeOrderStatus follows the machine; cancelling gives the stock back once", async () => {
    const user = await newUser();
    const product = await newProduct(4);
    const { orderId } = await placeOrder(shop.prisma, { userId: user.id, lines: [line(product.id, 3)], notes: "" });
    const refused = await changeOrderStatus(shop.prisma, orderId, "COMPLETED").catch((e: ShopError) => e);
    expect((refused as ShopError).extensions).toMatchObject({
      code: "INVALID_STATUS_TRANSITION",
      from: "PENDING",
      to: "COMPLETED",
      allowed: ["PROCESSING", "CANCELLED"],
    });
    expect(await changeOrderStatus(shop.prisma, orderId, "PROCESSING")).toEqual({
      unitsReturned: 0,
      orderIds: [orderId],
      changes: { statusChanged: [orderId], stockChanged: [] },
    });
    expect(await changeOrderStatus(shop.prisma, orderId, "CANCELLED")).toEqual({
      unitsReturned: 3,
      orderIds: [orderId],
      changes: { statusChanged: [orderId], stockChanged: [product.id] },
    });
    expect((await shop.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).stock).toBe(4);
    expect(await outcome(changeOrderStatus(shop.prisma, orderId, "CANCELLED"))).toBe("INVALID_STATUS_TRANSITION");
    expect(await outcome(changeOrderStatus(shop.prisma, 987654, "CANCELLED"))).toBe("NOT_FOUND");
  });

  it("changeOrderStatuses moves only matching orders and refuses a move the machine does not allow", async () => {
    const [ada, bob] = [await newUser(), await newUser()];
    const product = await newProduct(10);
    const place = (userId: number) => placeOrder(shop.prisma, { userId, lines: [line(product.id, 2)], notes: "" });
    const [a1, a2, b1] = [await place(ada.id), await place(ada.id), await place(bob.id)];
    await changeOrderStatus(shop.prisma, a2.orderId, "PROCESSING");
    const moved = await changeOrderStatuses(shop.prisma, { status: "PENDING", userId: ada.id }, "CANCELLED");
    expect(moved).toEqual({
      orderIds: [a1.orderId],
      unitsReturned: 2,
      changes: { statusChanged: [a1.orderId], stockChanged: [product.id] },
    });
    expect(await outcome(changeOrderStatuses(shop.prisma, { status: "COMPLETED" }, "PENDING"))).toBe("INVALID_STATUS_TRANSITION");
    const statuses = await shop.prisma.order.findMany({
      where: { id: { in: [a1.orderId, a2.orderId, b1.orderId] } },
      orderBy: { id: "asc" },
    });
    expect(statuses.map((o) => o.status)).toEqual(["CANCELLED", "PROCESSING", "PENDING"]);
  });

  it("deleteUser reads the snapshot before the rows go and returns open orders' stock", async () => {
    const user = await newUser();
    const product = await newProduct(10);
    const open = await placeOrder(shop.prisma, { userId: user.id, lines: [line(product.id, 4)], notes: "" });
    const done = await placeOrder(shop.prisma, { userId: user.id, lines: [line(product.id, 1)], notes: "" });
    await changeOrderStatus(shop.prisma, done.orderId, "PROCESSING");
    await changeOrderStatus(shop.prisma, done.orderId, "COMPLETED");
    const result = await deleteUser(shop.prisma, user.id, (tx) => tx.order.count({ where: { userId: user.id } }));
    expect(result).toEqual({ user: 2, changes: { stockChanged: [product.id] } });
    expect(open.orderId).toBeGreaterThan(0);
    expect(await shop.prisma.order.count({ where: { userId: user.id } })).toBe(0);
    // The completed order's unit was sold; the open order's four came back.
    expect((await shop.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).stock).toBe(9);
    expect(await outcome(deleteUser(shop.prisma, user.id, async () => null))).toBe("NOT_FOUND");
  });

  it("restockProduct adds atomically and refuses to pass the most stock a product may have", async () => {
    const product = await newProduct(10);
    expect(await restockProduct(shop.prisma, product.id, 5)).toEqual({ stock: 15, changes: { stockChanged: [product.id] } });
    expect(await outcome(restockProduct(shop.prisma, product.id, 999_999_990))).toBe("BAD_USER_INPUT");
    expect(await outcome(restockProduct(shop.prisma, 987654, 1))).toBe("NOT_FOUND");
  });

  it("deleteProduct refuses a product in use and deletes one that is not", async () => {
    const user = await newUser();
    const [used, unused] = [await newProduct(3), await newProduct(3)];
    await placeOrder(shop.prisma, { userId: user.id, lines: [line(used.id, 1)], notes: "" });
    expect(await outcome(deleteProduct(shop.prisma, used.id, async () => null))).toBe("PRODUCT_IN_USE");
    expect(await deleteProduct(shop.prisma, unused.id, (tx) => tx.product.count({ where: { id: unused.id } }))).toEqual({
      product: 1,
      changes: {},
    });
    expect(await outcome(deleteProduct(shop.prisma, unused.id, async () => null))).toBe("NOT_FOUND");
  });
});

describe("write conflicts", () => {
  const conflict = () => new Prisma.PrismaClientKnownRequestError("deadlock", { code: "P2034", clientVersion: "7" });

  it("are recognised from Prisma's queries and from raw ones", () => {
    expect(isWriteConflict(conflict())).toBe(true);
    const raw = new Prisma.PrismaClientKnownRequestError("raw", {
      code: "P2010",
      clientVersion: "7",
      meta: { driverAdapterError: { name: "DriverAdapterError", cause: { kind: "TransactionWriteConflict" } } },
    });
    expect(isWriteConflict(raw)).toBe(true);
    expect(isWriteConflict(new Prisma.PrismaClientKnownRequestError("unique", { code: "P2002", clientVersion: "7" }))).toBe(
      false,
    );
  });

  it("are retried, and what the retries cannot absorb is CONFLICT", async () => {
    let attempts = 0;
    expect(
      await inTransaction(shop.prisma, async () => {
        if (++attempts < 3) throw conflict();
        return "done";
      }),
    ).toBe("done");
    expect(attempts).toBe(3);
    attempts = 0;
    const error = await inTransaction(shop.prisma, async () => {
      attempts++;
      throw conflict();
    }).catch((e: ShopError) => e);
    expect(attempts).toBe(TRANSACTION_ATTEMPTS);
    expect((error as ShopError).extensions).toMatchObject({ code: "CONFLICT", retryable: true });
  });

  it.runIf(testDatabaseKind === "postgres")("a real deadlock is retried until both transactions commit", async () => {
    const [a, b] = [await newProduct(0), await newProduct(0)];
    let firstLocks = 0;
    let bothLocked: () => void;
    const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
    let attempts = 0;
    // Each transaction locks one row, waits until the other holds its row too, then asks for the
    // other's: a deadlock PostgreSQL breaks by aborting one, which inTransaction runs again.
    const cross = (first: number, second: number) =>
      inTransaction(shop.prisma, async (tx) => {
        attempts++;
        await tx.$executeRaw`UPDATE "Product" SET "stock" = "stock" + 1 WHERE "id" = ${first}`;
        if (++firstLocks === 2) bothLocked();
        if (firstLocks <= 2) await barrier;
        await tx.$executeRaw`UPDATE "Product" SET "stock" = "stock" + 1 WHERE "id" = ${second}`;
      });
    await Promise.all([cross(a.id, b.id), cross(b.id, a.id)]);
    expect(attempts).toBe(3);
    const stocks = await shop.prisma.product.findMany({ where: { id: { in: [a.id, b.id] } }, select: { stock: true } });
    expect(stocks.map((p) => p.stock)).toEqual([2, 2]);
  });
});

describe("commands racing each other", () => {
  const ROUNDS = 20;
  const START = 7;

  /** A round's rows: products with START units, users with one open order each for one unit of each product. */
  async function setup(users = 2, products = 2) {
    const productIds = await Promise.all(Array.from({ length: products }, async () => (await newProduct(START)).id));
    const userIds = await Promise.all(Array.from({ length: users }, async () => (await newUser()).id));
    const orderIds: number[] = [];
    for (const userId of userIds) {
      const { orderId } = await placeOrder(shop.prisma, {
        userId,
        lines: productIds.map((id, i) => line(id, 1, i)),
        notes: "",
      });
      orderIds.push(orderId);
    }
    return { productIds, userIds, orderIds };
  }

  /** Runs `round` ROUNDS times; after each, every product's stock account must be what it started with. */
  async function race(round: (rows: Awaited<ReturnType<typeof setup>>) => Promise<string>[], allowed: string[], restocked = 0) {
    const seen = new Set<string>();
    for (let r = 0; r < ROUNDS; r++) {
      const rows = await setup();
      const results = await Promise.all(round(rows));
      for (const result of results) seen.add(result);
      expect(allowed).toEqual(expect.arrayContaining(results));
      for (const [, total] of await stockAccount(rows.productIds)) expect(total).toBe(START + restocked);
    }
    return seen;
  }

  it("placeOrder against deleteUser: the new order goes with its user, and its stock comes back", async () => {
    const seen = await race(
      ({ productIds, userIds }) => [
        outcome(
          placeOrder(shop.prisma, {
            userId: userIds[0]!,
            lines: [line(productIds[0]!, 2), line(productIds[1]!, 2, 1)],
            notes: "",
          }),
        ),
        outcome(deleteUser(shop.prisma, userIds[0]!, async () => null)),
        outcome(
          placeOrder(shop.prisma, {
            userId: userIds[0]!,
            lines: [line(productIds[1]!, 1), line(productIds[0]!, 1, 1)],
            notes: "",
          }),
        ),
      ],
      ["OK", "NOT_FOUND"],
    );
    expect(seen).toContain("OK");
  });

  it("placeOrder against placeOrder, with the lines in opposite orders: no deadlock, no overselling", async () => {
    await race(
      ({ productIds, userIds }) =>
        Array.from({ length: 4 }, (_, i) =>
          outcome(
            placeOrder(shop.prisma, {
              userId: userIds[i % 2]!,
              lines: (i % 2 ? [...productIds].reverse() : productIds).map((id, k) => line(id, 2, k)),
              notes: "",
            }),
          ),
        ),
      ["OK", "INSUFFICIENT_STOCK"],
    );
  });

  it("cancelling an order against deleting its user", async () => {
    await race(
      ({ userIds, orderIds }) => [
        outcome(changeOrderStatus(shop.prisma, orderIds[0]!, "CANCELLED")),
        outcome(deleteUser(shop.prisma, userIds[0]!, async () => null)),
        outcome(changeOrderStatuses(shop.prisma, { status: "PENDING", userId: userIds[0]! }, "CANCELLED")),
      ],
      ["OK", "NOT_FOUND", "INVALID_STATUS_TRANSITION"],
    );
  });

  it("cancelling one order against cancelling it in bulk and against itself: its stock comes back once", async () => {
    await race(
      ({ orderIds, userIds }) => [
        outcome(changeOrderStatus(shop.prisma, orderIds[0]!, "CANCELLED")),
        outcome(changeOrderStatus(shop.prisma, orderIds[0]!, "CANCELLED")),
        outcome(changeOrderStatuses(shop.prisma, { status: "PENDING", userId: userIds[0]! }, "CANCELLED")),
        outcome(changeOrderStatus(shop.prisma, orderIds[1]!, "PROCESSING")),
        outcome(changeOrderStatuses(shop.prisma, { status: "PENDING", userId: userIds[1]! }, "CANCELLED")),
      ],
      ["OK", "INVALID_STATUS_TRANSITION"],
    );
  });

  it("bulk changes against deleting users", async () => {
    await race(
      ({ userIds }) => [
        outcome(changeOrderStatuses(shop.prisma, { status: "PENDING", userId: userIds[0]! }, "PROCESSING")),
        outcome(deleteUser(shop.prisma, userIds[0]!, async () => null)),
        outcome(changeOrderStatuses(shop.prisma, { status: "PENDING", userId: userIds[1]! }, "CANCELLED")),
        outcome(deleteUser(shop.prisma, userIds[1]!, async () => null)),
      ],
      ["OK"],
    );
  });

  it("placeOrder against deleteProduct: the product is either in use or gone", async () => {
    await race(
      ({ productIds, userIds }) => {
        const fresh = productIds[0]!;
        return [
          outcome(placeOrder(shop.prisma, { userId: userIds[0]!, lines: [line(fresh, 1)], notes: "" })),
          outcome(deleteProduct(shop.prisma, fresh, async () => null)),
        ];
      },
      ["OK", "PRODUCT_IN_USE", "NOT_FOUND"],
    );
  });

  it("placeOrder against restockProduct: every unit is accounted for", async () => {
    await race(
      ({ productIds, userIds }) => [
        outcome(placeOrder(shop.prisma, { userId: userIds[0]!, lines: productIds.map((id, i) => line(id, 3, i)), notes: "" })),
        outcome(restockProduct(shop.prisma, productIds[0]!, 4)),
        outcome(restockProduct(shop.prisma, productIds[1]!, 4)),
        outcome(placeOrder(shop.prisma, { userId: userIds[1]!, lines: productIds.map((id, i) => line(id, 4, i)), notes: "" })),
      ],
      ["OK", "INSUFFICIENT_STOCK"],
      4,
    );
  });
});
