/**
 * The shop's commands: each takes plain ids, runs in one transaction (retried on write conflicts, see
 * transaction.ts), and returns what it changed and the events to publish once it has committed.
 * Resolvers read their arguments, call one of these, publish, and re-read with the request's
 * strategy; tests call them directly too.
 *
 * Concurrency: every command locks the rows it reads before it decides, always in the same order
 * (the user, then orders by id, then products by id), so its decision holds until it commits and two
 * commands never wait on each other in a cycle.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { badInput, isPrismaError, notFound, ShopError } from "../errors.js";
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import type { ShopChanges } from "../pubsub.js";
import { assertMove, type OrderStatus, STOCK_HOLDING_STATUSES } from "./status.js";
import { MAX_STOCK, type OrderLine, returnStock, takeStock } from "./stock.js";
import { inTransaction, type Tx } from "./transaction.js";

/** A command's result: what it returns, and the events its commit causes. */
export type Outcome<T> = T & { changes: ShopChanges };

/**
 * Reads what the caller will answer with, inside the command's transaction after its writes: an
 * answer that needed another connection after the commit could fail (a full pool, a database that
 * went away) and tell the client that a write it made had failed.
 */
export type Reader<R> = (tx: Tx) => Promise<R>;

/** Locks a user against deletion (FOR KEY SHARE) or for it (FOR UPDATE); false when there is none. */
async function lockUser(tx: Tx, userId: number, mode: "share" | "update"): Promise<boolean> {
  const rows =
    mode === "share"
      ? await tx.$queryRaw<{ id: number }[]>`SELECT "id" FROM "User" WHERE "id" = ${userId} FOR KEY SHARE`
      : await tx.$queryRaw<{ id: number }[]>`SELECT "id" FROM "User" WHERE "id" = ${userId} FOR UPDATE`;
  return rows.length > 0;
}

/** Gives back the stock of orders that were just cancelled; `to` is where they went. */
async function afterMove(
  tx: Tx,
  orderIds: number[],
  to: OrderStatus,
): Promise<Outcome<{ orderIds: number[]; unitsReturned: number }>> {
  const returned = to === "CANCELLED" ? await returnStock(tx, orderIds) : [];
  return {
    orderIds,
    unitsReturned: returned.reduce((sum, row) => sum + row.units, 0),
    changes: { statusChanged: orderIds, stockChanged: returned.map((row) => row.productId) },
  };
}

/**
 * Places an order: the user must exist, every product must exist and have the stock; the stock is
 * taken and each line keeps today's price. Nothing is written if any check fails.
 */
export async function placeOrder<R = undefined>(
  prisma: PrismaClient,
  order: { userId: number; lines: readonly OrderLine[]; notes: string },
  read?: (tx: Tx, orderId: number) => Promise<R>,
): Promise<Outcome<{ orderId: number; result: R | undefined }>> {
  if (order.lines.length === 0) throw badInput("items", "items must have at least one item.");
  const seen = new Set<number>();
  for (const line of order.lines) {
    if (seen.has(line.productId)) {
      throw badInput(`${line.field}.productId`, "An order lists each product once; order it once with the total quantity.");
    }
    seen.add(line.productId);
  }
  const { orderId, result } = await inTransaction(prisma, async (tx) => {
    // Held until commit: a concurrent deleteUser waits for this order, then cascades it with its stock.
    if (!(await lockUser(tx, order.userId, "share"))) throw notFound("User", order.userId, "userId");
    const taken = await takeStock(tx, order.lines);
    const created = await tx.order.create({
      data: {
        userId: order.userId,
        notes: order.notes,
        items: {
          create: taken.map((line) => ({ productId: line.productId, quantity: line.quantity, unitPrice: line.unitPrice })),
        },
      },
      select: { id: true },
    });
    return { orderId: created.id, result: await read?.(tx, created.id) };
  });
  return { orderId, result, changes: { created: [orderId], stockChanged: order.lines.map((line) => line.productId) } };
}

/**
 * Moves one order to another status, if the status machine allows it from where the order is now.
 * `policy` narrows it for a customer: only an order of `ownerId` (any other answers as missing),
 * and only from the statuses in `from`.
 */
export async function changeOrderStatus<R = undefined>(
  prisma: PrismaClient,
  orderId: number,
  to: OrderStatus,
  policy: { ownerId?: number; from?: readonly OrderStatus[] } = {},
  read?: Reader<R>,
): Promise<Outcome<{ orderIds: number[]; unitsReturned: number; result: R | undefined }>> {
  return inTransaction(prisma, async (tx) => {
    const [order] = await tx.$queryRaw<{ status: OrderStatus; userId: number }[]>`
      SELECT "status"::text AS "status", "userId" FROM "Order" WHERE "id" = ${orderId} FOR UPDATE`;
    if (!order || (policy.ownerId !== undefined && order.userId !== policy.ownerId)) throw notFound("Order", orderId, "id");
    assertMove(order.status, to, "status");
    if (policy.from && !policy.from.includes(order.status)) {
      throw new ShopError("FORBIDDEN", `Only the shop may move an order that is ${order.status}.`, {
        field: "status",
        from: order.status,
      });
    }
    await tx.order.update({ where: { id: orderId }, data: { status: to }, select: { id: true } });
    const moved = await afterMove(tx, [orderId], to);
    return { ...moved, result: await read?.(tx) };
  });
}

/** Which orders a bulk change applies to; the status is required, so it never sweeps every order. */
export interface BulkOrderFilter {
  status: OrderStatus;
  userId?: number;
  createdBefore?: Date;
}

function bulkConditions(filter: BulkOrderFilter): Prisma.Sql[] {
  return [
    Prisma.sql`"status" = ${filter.status}::"OrderStatus"`,
    ...(filter.userId === undefined ? [] : [Prisma.sql`"userId" = ${filter.userId}`]),
    ...(filter.createdBefore === undefined ? [] : [Prisma.sql`"createdAt" < ${filter.createdBefore}`]),
  ];
}

/** Moves every order matching the filter to `to`, if the move from the filter's status is allowed. */
export async function changeOrderStatuses(
  prisma: PrismaClient,
  filter: BulkOrderFilter,
  to: OrderStatus,
): Promise<Outcome<{ orderIds: number[]; unitsReturned: number }>> {
  assertMove(filter.status, to, "to");
  return inTransaction(prisma, async (tx) => {
    // Locked in id order; an order that left the status while we waited for it is skipped.
    const moved = await tx.$queryRaw<{ id: number }[]>`
      UPDATE "Order" SET "status" = ${to}::"OrderStatus", "updatedAt" = now()
      WHERE "id" IN (SELECT "id" FROM "Order" WHERE ${Prisma.join(bulkConditions(filter), " AND ")} ORDER BY "id" FOR UPDATE)
      RETURNING "id"`;
    return afterMove(
      tx,
      moved.map((row) => row.id),
      to,
    );
  });
}

/**
 * Deletes a user with their orders and items, giving back the stock their open orders held.
 * `snapshot` reads what the caller wants to return about the user, inside the transaction, after
 * the locks and before the rows go.
 */
export async function deleteUser<T>(
  prisma: PrismaClient,
  userId: number,
  snapshot: (tx: Tx) => Promise<T>,
): Promise<Outcome<{ user: T }>> {
  return inTransaction(prisma, async (tx) => {
    if (!(await lockUser(tx, userId, "update"))) throw notFound("User", userId, "id");
    const orders = await tx.$queryRaw<{ id: number; status: OrderStatus }[]>`
      SELECT "id", "status"::text AS "status" FROM "Order" WHERE "userId" = ${userId} ORDER BY "id" FOR UPDATE`;
    const user = await snapshot(tx);
    const open = orders.filter((order) => STOCK_HOLDING_STATUSES.includes(order.status)).map((order) => order.id);
    const returned = await returnStock(tx, open);
    await tx.user.delete({ where: { id: userId } });
    return { user, changes: { stockChanged: returned.map((row) => row.productId) } };
  });
}

/** Adds units to a product's stock, atomically; refuses to go above MAX_STOCK. */
export async function restockProduct<R = undefined>(
  prisma: PrismaClient,
  productId: number,
  quantity: number,
  read?: Reader<R>,
): Promise<Outcome<{ stock: number; result: R | undefined }>> {
  return inTransaction(prisma, async (tx) => {
    const [row] = await tx.$queryRaw<{ stock: number }[]>`
      UPDATE "Product" SET "stock" = "stock" + ${quantity}, "updatedAt" = now()
      WHERE "id" = ${productId} AND "stock" <= ${MAX_STOCK - quantity}
      RETURNING "stock"`;
    if (row) return { stock: row.stock, result: await read?.(tx), changes: { stockChanged: [productId] } };
    const exists = await tx.product.findFirst({ where: { id: productId }, select: { stock: true } });
    if (!exists) throw notFound("Product", productId, "id");
    throw new ShopError("BAD_USER_INPUT", `quantity would take the stock above ${MAX_STOCK}.`, {
      field: "quantity",
      available: exists.stock,
    });
  });
}

/** Changes a product's fields; publishes a stock change when the stock was set. */
export async function updateProduct<R = undefined>(
  prisma: PrismaClient,
  productId: number,
  data: Prisma.ProductUpdateInput,
  read?: Reader<R>,
): Promise<Outcome<{ result: R | undefined }>> {
  return inTransaction(prisma, async (tx) => {
    try {
      await tx.product.update({ where: { id: productId }, data, select: { id: true } });
    } catch (error) {
      if (isPrismaError(error, "P2025")) throw notFound("Product", productId, "id");
      throw error;
    }
    return { result: await read?.(tx), changes: data.stock === undefined ? {} : { stockChanged: [productId] } };
  });
}

/**
 * Deletes a product that no order references. Locks it first, so an order placed concurrently
 * either commits before (and the product is in use) or finds the product gone.
 */
export async function deleteProduct<T>(
  prisma: PrismaClient,
  productId: number,
  snapshot: (tx: Tx) => Promise<T>,
): Promise<Outcome<{ product: T }>> {
  return inTransaction(prisma, async (tx) => {
    const locked = await tx.$queryRaw<{ id: number }[]>`SELECT "id" FROM "Product" WHERE "id" = ${productId} FOR UPDATE`;
    if (locked.length === 0) throw notFound("Product", productId, "id");
    const uses = await tx.orderItem.count({ where: { productId } });
    if (uses > 0) {
      throw new ShopError(
        "PRODUCT_IN_USE",
        `Product ${encodeGlobalID("Product", productId)} appears in orders and cannot be deleted.`,
        {
          field: "id",
        },
      );
    }
    const product = await snapshot(tx);
    await tx.product.delete({ where: { id: productId } });
    return { product, changes: {} };
  });
}
