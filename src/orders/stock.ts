/**
 * Stock: taking it when an order is placed and giving it back when orders are cancelled or their
 * customer is deleted. Both lock the products they touch in id order first, the one order every
 * command uses, so two commands never wait on each other's products in a cycle.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { notFound, ShopError } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { Tx } from "./transaction.js";

/** The most units a product may have: far below the column's limit, so no sum of stock overflows it. */
export const MAX_STOCK = 1_000_000_000;

/** One line of an order to place, with the input path a refusal should name. */
export interface OrderLine {
  productId: number;
  quantity: number;
  /** Where the line sits in the client's input, e.g. `items.1`. */
  field: string;
}

export interface TakenLine extends OrderLine {
  unitPrice: Prisma.Decimal;
}

/**
 * Takes the stock of every line, or nothing: refuses a missing product (NOT_FOUND) or a short one
 * (INSUFFICIENT_STOCK), in the order of the lines. Returns each line with the price it sells at.
 */
export async function takeStock(tx: Tx, lines: readonly OrderLine[]): Promise<TakenLine[]> {
  const ids = lines.map((line) => line.productId);
  const products = await tx.$queryRaw<{ id: number; name: string; price: Prisma.Decimal; stock: number }[]>`
    SELECT "id", "name", "price", "stock" FROM "Product" WHERE "id" = ANY(${ids}::int[]) ORDER BY "id" FOR UPDATE`;
  const byId = new Map(products.map((product) => [product.id, product]));
  for (const line of lines) {
    const product = byId.get(line.productId);
    if (!product) throw notFound("Product", line.productId, `${line.field}.productId`);
    if (product.stock < line.quantity) {
      throw new ShopError(
        "INSUFFICIENT_STOCK",
        `Not enough stock for ${product.name}: ${product.stock} available, ${line.quantity} requested.`,
        {
          field: `${line.field}.quantity`,
          productId: encodeGlobalID("Product", line.productId),
          productName: product.name,
          available: product.stock,
          requested: line.quantity,
        },
      );
    }
  }
  // The rows are locked and checked, so this cannot oversell; the CHECK (stock >= 0) stands behind it.
  await tx.$executeRaw`
    UPDATE "Product" p SET "stock" = p."stock" - t.quantity, "updatedAt" = now()
    FROM unnest(${ids}::int[], ${lines.map((line) => line.quantity)}::int[]) AS t(id, quantity)
    WHERE p."id" = t.id`;
  return lines.map((line) => ({ ...line, unitPrice: byId.get(line.productId)!.price }));
}

/** What went back to one product. */
export interface ReturnedStock {
  productId: number;
  units: number;
}

/**
 * Gives the units of these orders' items back to their products, in one statement whatever the
 * number of orders: the products are locked in id order first (the MATERIALIZED CTE), and only
 * locked rows are updated.
 */
export async function returnStock(tx: Tx, orderIds: readonly number[]): Promise<ReturnedStock[]> {
  if (orderIds.length === 0) return [];
  // A sum of quantities is not bounded by an int; bigint, then a number (exact up to 2^53-1).
  const rows = await tx.$queryRaw<{ productId: number; units: bigint }[]>`
    WITH held AS (
      SELECT "productId", SUM("quantity")::bigint AS units FROM "OrderItem"
      WHERE "orderId" = ANY(${[...orderIds]}::int[]) GROUP BY "productId"
    ), locked AS MATERIALIZED (
      SELECT p."id" FROM "Product" p WHERE p."id" IN (SELECT "productId" FROM held) ORDER BY p."id" FOR UPDATE
    )
    UPDATE "Product" p SET "stock" = p."stock" + held.units, "updatedAt" = now()
    FROM held JOIN locked ON locked."id" = held."productId"
    WHERE p."id" = held."productId"
    RETURNING held."productId" AS "productId", held.units AS units`;
  return rows.map((row) => ({ productId: row.productId, units: Number(row.units) }));
}
