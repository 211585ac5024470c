/**
 * The shop's reports. Each is computed by the database in one statement (plus one for a total
 * count, when asked), whatever the number of rows, with SQL written as Prisma tagged templates:
 * every value is a bound parameter, and the only SQL text chosen at run time comes from fixed maps.
 */

import { badInput } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import type { OrderStatus } from "../../orders/status.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { connectionOptions, offsetPage, SortDirection, sortColumn } from "./lists.js";
import { OrderStatusEnum } from "./order-inputs.js";
import { UserRef } from "./refs.js";
import { rowById } from "./relations.js";

/** `AND o."createdAt" >= from AND o."createdAt" < to`, for the bounds that are given. */
function createdWithin(from: Date | null | undefined, to: Date | null | undefined): Prisma.Sql {
  if (from && to && from >= to) throw badInput("to", "to must be later than from.");
  return Prisma.sql`${from ? Prisma.sql`AND o."createdAt" >= ${from}` : Prisma.empty} ${to ? Prisma.sql`AND o."createdAt" < ${to}` : Prisma.empty}`;
}

// ---- salesReport ---------------------------------------------------------------------------------

interface CustomerSalesRow {
  userId: number;
  orderCount: number;
  amountSpent: Prisma.Decimal;
}

const CustomerSales = builder.objectRef<CustomerSalesRow>("CustomerSales").implement({
  description: "One customer's completed sales in a period.",
  fields: (t) => ({
    customer: t.field({
      type: UserRef,
      description: "The customer.",
      resolve: (row, _args, ctx, info) => rowById("User", row.userId, ctx, info),
    }),
    orderCount: t.exposeInt("orderCount", { description: "Completed orders placed in the period." }),
    amountSpent: t.expose("amountSpent", { type: "Decimal", description: "What those orders add up to." }),
  }),
});

// ---- customerSpending ----------------------------------------------------------------------------

interface CustomerSpendingRow {
  userId: number;
  orderCount: number;
  totalSpent: Prisma.Decimal;
  averageOrderValue: Prisma.Decimal;
}

const CustomerSpending = builder.objectRef<CustomerSpendingRow>("CustomerSpending").implement({
  description: "What one customer has spent, over all time; customers who never ordered appear with zeros.",
  fields: (t) => ({
    customer: t.field({
      type: UserRef,
      description: "The customer.",
      resolve: (row, _args, ctx, info) => rowById("User", row.userId, ctx, info),
    }),
    orderCount: t.exposeInt("orderCount", { description: "Completed orders." }),
    totalSpent: t.expose("totalSpent", { type: "Decimal", description: "What the completed orders add up to." }),
    averageOrderValue: t.expose("averageOrderValue", {
      type: "Decimal",
      description: "totalSpent / orderCount, rounded to the cent; 0.00 for a customer with no completed order.",
    }),
  }),
});

const SPENDING_COLUMNS = {
  totalSpent: Prisma.raw(`"totalSpent"`),
  orderCount: Prisma.raw(`"orderCount"`),
  averageOrderValue: Prisma.raw(`"averageOrderValue"`),
  name: Prisma.raw(`u."name"`),
} as const;

const CustomerSpendingOrderBy = builder.inputType("CustomerSpendingOrderBy", {
  description: "How to sort the spending report: set one column. Ties are broken by the customer's id, ascending.",
  fields: (t) => ({
    totalSpent: t.field({ type: SortDirection, description: "Total spent." }),
    orderCount: t.field({ type: SortDirection, description: "Number of completed orders." }),
    averageOrderValue: t.field({ type: SortDirection, description: "Average completed order value." }),
    name: t.field({ type: SortDirection, description: "The customer's name." }),
  }),
});

function spendingOrder(orderBy: Partial<Record<keyof typeof SPENDING_COLUMNS, "asc" | "desc" | null>> | null | undefined) {
  const [column, direction] = sortColumn(orderBy, ["totalSpent", "desc"]);
  return Prisma.sql`${SPENDING_COLUMNS[column]} ${Prisma.raw(direction === "asc" ? "ASC" : "DESC")}, u."id" ASC`;
}

/** Each completed order's value, the building block of the spending figures. */
const COMPLETED_ORDER_TOTALS = Prisma.sql`
  SELECT o."id", o."userId", SUM(i."quantity" * i."unitPrice") AS total
  FROM "Order" o JOIN "OrderItem" i ON i."orderId" = o."id"
  WHERE o."status" = 'COMPLETED'
  GROUP BY o."id"`;

// ---- categoryStats and orderStats ----------------------------------------------------------------

interface CategoryStatsRow {
  category: string;
  products: number;
  unitsSold: number;
  revenue: Prisma.Decimal;
}

const CategoryStats = builder.objectRef<CategoryStatsRow>("CategoryStats").implement({
  description: "Sales of one product category, over all time (completed orders).",
  fields: (t) => ({
    category: t.exposeString("category", { description: "The category." }),
    products: t.exposeInt("products", { description: "Products listed in it." }),
    unitsSold: t.expose("unitsSold", { type: "SafeInt", description: "Units of its products in completed orders." }),
    revenue: t.expose("revenue", { type: "Decimal", description: "What those units were sold for." }),
  }),
});

interface OrderStatsRow {
  status: OrderStatus;
  orderCount: number;
  totalValue: Prisma.Decimal;
}

const OrderStats = builder.objectRef<OrderStatsRow>("OrderStats").implement({
  description: "The orders in one status, in a period.",
  fields: (t) => ({
    status: t.expose("status", { type: OrderStatusEnum, description: "The status." }),
    orderCount: t.exposeInt("orderCount", { description: "Orders in this status." }),
    totalValue: t.expose("totalValue", { type: "Decimal", description: "What those orders add up to." }),
  }),
});

// ---- fields --------------------------------------------------------------------------------------

builder.queryFields((t) => ({
  salesReport: t.connection(
    {
      type: CustomerSales,
      authScopes: { admin: true },
      description:
        "Customers by what their COMPLETED orders placed in [from, to) add up to, highest first (ties by customer id).",
      args: {
        from: t.arg({ type: "DateTime", description: "Orders placed at or after this time (default: from the start)." }),
        to: t.arg({ type: "DateTime", description: "Orders placed before this time (default: until now)." }),
      },
      resolve: (_root, args, ctx) => {
        const within = createdWithin(args.from, args.to);
        return offsetPage(
          args,
          (limit, offset) => ctx.prisma.$queryRaw<CustomerSalesRow[]>`
            SELECT o."userId" AS "userId", COUNT(DISTINCT o."id")::int AS "orderCount", SUM(i."quantity" * i."unitPrice") AS "amountSpent"
            FROM "Order" o JOIN "OrderItem" i ON i."orderId" = o."id"
            WHERE o."status" = 'COMPLETED' ${within}
            GROUP BY o."userId"
            ORDER BY "amountSpent" DESC, o."userId" ASC
            LIMIT ${limit} OFFSET ${offset}`,
          () =>
            countOf(
              ctx,
              Prisma.sql`SELECT COUNT(DISTINCT o."userId")::int AS n FROM "Order" o WHERE o."status" = 'COMPLETED' ${within}`,
            ),
        );
      },
    },
    connectionOptions("A page of the sales report.", "customers"),
    { description: "A customer's line in the sales report." },
  ),
  customerSpending: t.connection(
    {
      type: CustomerSpending,
      authScopes: { admin: true },
      description:
        "Every customer with their completed orders, total spent and average order value, including customers who never ordered.",
      args: { orderBy: t.arg({ type: CustomerSpendingOrderBy, description: "Sort order (default: totalSpent descending)." }) },
      resolve: (_root, args, ctx) => {
        const order = spendingOrder(args.orderBy);
        return offsetPage(
          args,
          (limit, offset) => ctx.prisma.$queryRaw<CustomerSpendingRow[]>`
            SELECT u."id" AS "userId", COUNT(t."id")::int AS "orderCount",
                   COALESCE(SUM(t.total), 0) AS "totalSpent", ROUND(COALESCE(AVG(t.total), 0), 2) AS "averageOrderValue"
            FROM "User" u LEFT JOIN (${COMPLETED_ORDER_TOTALS}) t ON t."userId" = u."id"
            GROUP BY u."id"
            ORDER BY ${order}
            LIMIT ${limit} OFFSET ${offset}`,
          () => ctx.prisma.user.count(),
        );
      },
    },
    connectionOptions("A page of the spending report.", "customers"),
    { description: "A customer's line in the spending report." },
  ),
  categoryStats: t.field({
    type: [CategoryStats],
    description: "Every product category with its products, units sold and revenue (completed orders), highest revenue first.",
    resolve: async (_root, _args, ctx) => {
      // The sum stays bigint (an int would overflow) and becomes a number here: exact up to 2^53-1.
      const rows = await ctx.prisma.$queryRaw<(Omit<CategoryStatsRow, "unitsSold"> & { unitsSold: bigint })[]>`
      SELECT p."category", COUNT(DISTINCT p."id")::int AS products,
             COALESCE(SUM(s."quantity"), 0)::bigint AS "unitsSold", COALESCE(SUM(s."quantity" * s."unitPrice"), 0) AS revenue
      FROM "Product" p
      LEFT JOIN (
        SELECT i."productId", i."quantity", i."unitPrice" FROM "OrderItem" i JOIN "Order" o ON o."id" = i."orderId"
        WHERE o."status" = 'COMPLETED'
      ) s ON s."productId" = p."id"
      GROUP BY p."category"
      ORDER BY revenue DESC, p."category" ASC`;
      return rows.map((row) => ({ ...row, unitsSold: Number(row.unitsSold) }));
    },
  }),
  orderStats: t.field({
    type: [OrderStats],
    authScopes: { admin: true },
    description: "For each status (all four, zeros included), the orders placed in [from, to) and their total value.",
    args: {
      from: t.arg({ type: "DateTime", description: "Orders placed at or after this time (default: from the start)." }),
      to: t.arg({ type: "DateTime", description: "Orders placed before this time (default: until now)." }),
    },
    resolve: (_root, args, ctx) => ctx.prisma.$queryRaw<OrderStatsRow[]>`
      SELECT s."status"::text AS status, COUNT(DISTINCT o."id")::int AS "orderCount",
             COALESCE(SUM(i."quantity" * i."unitPrice"), 0) AS "totalValue"
      FROM unnest(enum_range(NULL::"OrderStatus")) AS s("status")
      LEFT JOIN "Order" o ON o."status" = s."status" ${createdWithin(args.from, args.to)}
      LEFT JOIN "OrderItem" i ON i."orderId" = o."id"
      GROUP BY s."status"
      ORDER BY s."status"`,
  }),
}));

async function countOf(ctx: Context, query: Prisma.Sql): Promise<number> {
  const [row] = await ctx.prisma.$queryRaw<{ n: number }[]>(query);
  return row?.n ?? 0;
}
