/** The Order type, placing orders and moving them through their life. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { badInput, notFound, ShopError } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import { publishChanges } from "../pubsub.js";
import { OrderItemOrderBy, OrderOrderBy, OrderStatusEnum } from "./order-inputs.js";
import { OrderItemRef, OrderRef, ProductRef, UserRef } from "./refs.js";
import { connectionOptions, listArgs } from "./scalars.js";
import { checkPageSize, dbId, type ListArgs, loadRequired, NEXT_STATUSES, orderByOf, relationPage, rootQuery } from "./util.js";
import { wholeNumber } from "./validate.js";

/** The paging of `Order.items`, shared by the eager plan and the loaders. */
function itemsQuery(args: ListArgs, ctx: Context) {
  return relationPage(args, (id) => ctx.loaders.orderItem.load(id));
}

builder.prismaObjectFields(OrderRef, (t) => ({
  status: t.expose("status", { type: OrderStatusEnum, description: "Where the order is in its life." }),
  notes: t.exposeString("notes", { description: "Free text from the customer; empty when none." }),
  createdAt: t.expose("createdAt", { type: "DateTime", description: "When the order was placed." }),
  updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the order last changed." }),
  user: t.relation("user", {
    description: "The customer who placed the order.",
    resolve: async (_query, order, _args, ctx) => loadRequired(ctx.loaders.user, "User", order.userId),
  }),
  items: t.relation("items", {
    description: "The order's lines, a page at a time (default: in the order they were added, 20).",
    args: listArgs(t.arg, OrderItemRef, OrderItemOrderBy),
    query: (args, ctx) => itemsQuery(args, ctx),
    resolve: async (_query, order, args, ctx) => ctx.loaders.itemsOfOrder(await itemsQuery(args, ctx)).load(order.id),
  }),
  itemCount: t.int({
    description: "Units in the order: the sum of its items' quantities.",
    resolve: (order, _args, ctx) => ctx.loaders.itemCountOfOrder.load(order.id),
  }),
  total: t.field({
    type: "Decimal",
    description: "The sum of quantity x unit price over the order's items.",
    resolve: (order, _args, ctx) => ctx.loaders.totalOfOrder.load(order.id),
  }),
}));

const OrderFilter = builder.inputType("OrderFilter", {
  description: "Which orders to list.",
  fields: (t) => ({
    status: t.field({ type: OrderStatusEnum, description: "Only orders in this status." }),
    userId: t.globalID({ for: UserRef, description: "Only this user's orders." }),
    createdAfter: t.field({ type: "DateTime", description: "Only orders placed at or after this time." }),
    createdBefore: t.field({ type: "DateTime", description: "Only orders placed before this time." }),
  }),
});

function orderWhere(filter: typeof OrderFilter.$inferInput | null | undefined): Prisma.OrderWhereInput {
  const createdAt = {
    ...(filter?.createdAfter ? { gte: filter.createdAfter } : {}),
    ...(filter?.createdBefore ? { lt: filter.createdBefore } : {}),
  };
  return {
    ...(filter?.status ? { status: filter.status } : {}),
    ...(filter?.userId ? { userId: dbId(filter.userId, "filter.userId") } : {}),
    ...(Object.keys(createdAt).length ? { createdAt } : {}),
  };
}

builder.queryFields((t) => ({
  order: t.prismaField({
    type: "Order",
    nullable: true,
    description: "An order by ID; null when there is none.",
    args: { id: t.arg.globalID({ for: OrderRef, required: true, description: "The order's global ID." }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.order.findFirst({ ...rootQuery(ctx, query), where: { id: dbId(args.id, "id") } }),
  }),
  orders: t.prismaConnection(
    {
      type: "Order",
      cursor: "id",
      description: "All orders, a page at a time.",
      args: {
        filter: t.arg({ type: OrderFilter, description: "Which orders to include." }),
        orderBy: t.arg({ type: OrderOrderBy, description: "Sort order (default: id ascending)." }),
      },
      totalCount: (_parent, args, ctx) => ctx.prisma.order.count({ where: orderWhere(args.filter) }),
      resolve: (query, _root, args, ctx) => {
        checkPageSize(args);
        return ctx.prisma.order.findMany({
          ...rootQuery(ctx, query),
          where: orderWhere(args.filter),
          orderBy: orderByOf(args.orderBy),
        });
      },
    },
    connectionOptions("A page of orders.", "orders"),
    { description: "An order in a page of orders." },
  ),
}));

const OrderItemInput = builder.inputType("OrderItemInput", {
  description: "One line of a new order.",
  fields: (t) => ({
    productId: t.globalID({ for: ProductRef, required: true, description: "The product's global ID." }),
    quantity: t.int({ required: true, description: "Units to order; at least 1." }),
  }),
});

const CreateOrderInput = builder.inputType("CreateOrderInput", {
  description: "A new order.",
  fields: (t) => ({
    userId: t.globalID({ for: UserRef, required: true, description: "The customer's global ID." }),
    items: t.field({ type: [OrderItemInput], required: true, description: "One or more lines, each for a different product." }),
    notes: t.string({ description: "Free text for the shop (default empty)." }),
  }),
});

/** Checks the lines of a new order before anything is read or written. */
function checkLines(items: readonly { productId: { typename: string; id: string }; quantity: number }[]) {
  if (items.length === 0) throw badInput("items", "An order needs at least one item.");
  const seen = new Set<number>();
  return items.map((item, i) => {
    const field = `items.${i}`;
    const productId = dbId(item.productId, `${field}.productId`);
    if (seen.has(productId)) {
      throw badInput(`${field}.productId`, `Product ${productId} appears more than once; order it once with the total quantity.`);
    }
    seen.add(productId);
    return { field, productId, quantity: wholeNumber(`${field}.quantity`, item.quantity, 1) };
  });
}

builder.mutationFields((t) => ({
  createOrder: t.prismaField({
    type: "Order",
    description:
      "Places an order in one transaction: checks every product exists and has stock, takes the stock, records each line at today's price. Writes nothing if any check fails (NOT_FOUND, INSUFFICIENT_STOCK, BAD_USER_INPUT).",
    args: { input: t.arg({ type: CreateOrderInput, required: true, description: "The order to place." }) },
    resolve: async (query, _root, { input }, ctx) => {
      const userId = dbId(input.userId, "userId");
      const lines = checkLines(input.items);
      const created = await ctx.prisma.$transaction(async (tx) => {
        const user = await tx.user.findUnique({ where: { id: userId }, select: { id: true } });
        if (!user) throw notFound("User", userId, "userId");
        const products = await tx.product.findMany({
          where: { id: { in: lines.map((line) => line.productId) } },
          select: { id: true, price: true },
        });
        const priceOf = new Map(products.map((p) => [p.id, p.price]));
        const missing = lines.find((line) => !priceOf.has(line.productId));
        if (missing) throw notFound("Product", missing.productId, `${missing.field}.productId`);
        for (const line of lines) {
          // Conditional decrement: two orders racing for the last unit cannot both succeed.
          const { count } = await tx.product.updateMany({
            where: { id: line.productId, stock: { gte: line.quantity } },
            data: { stock: { decrement: line.quantity } },
          });
          if (count === 0) {
            const product = await tx.product.findUniqueOrThrow({
              where: { id: line.productId },
              select: { name: true, stock: true },
            });
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
        return tx.order.create({
          data: {
            userId,
            notes: input.notes?.trim() ?? "",
            items: {
              create: lines.map((line) => ({
                productId: line.productId,
                quantity: line.quantity,
                unitPrice: priceOf.get(line.productId)!,
              })),
            },
          },
          select: { id: true },
        });
      });
      publishChanges(ctx.pubsub, { created: [created.id], stockChanged: lines.map((line) => line.productId) });
      // Read after commit, so the selection sees exactly what was written.
      return ctx.prisma.order.findFirstOrThrow({ ...rootQuery(ctx, query), where: { id: created.id } });
    },
  }),
  updateOrderStatus: t.prismaField({
    type: "Order",
    description:
      "Moves an order along: PENDING -> PROCESSING -> COMPLETED, or PENDING/PROCESSING -> CANCELLED (which returns its stock). Anything else is INVALID_STATUS_TRANSITION.",
    args: {
      id: t.arg.globalID({ for: OrderRef, required: true, description: "The order's global ID." }),
      status: t.arg({ type: OrderStatusEnum, required: true, description: "The status to move to." }),
    },
    resolve: async (query, _root, { id: globalId, status }, ctx) => {
      const id = dbId(globalId, "id");
      const restocked = await ctx.prisma.$transaction(async (tx) => {
        const order = await tx.order.findUnique({ where: { id }, select: { status: true } });
        if (!order) throw notFound("Order", id, "id");
        if (!NEXT_STATUSES[order.status].includes(status)) {
          throw new ShopError("INVALID_STATUS_TRANSITION", `An order cannot go from ${order.status} to ${status}.`, {
            field: "status",
            from: order.status,
            to: status,
            allowed: NEXT_STATUSES[order.status],
          });
        }
        // Conditional on the status read above: a concurrent change makes this one fail, not repeat.
        const { count } = await tx.order.updateMany({ where: { id: id, status: order.status }, data: { status } });
        if (count === 0) {
          throw new ShopError("INVALID_STATUS_TRANSITION", `Order ${id} changed status meanwhile; read it again.`, {
            field: "status",
          });
        }
        if (status !== "CANCELLED") return [];
        const items = await tx.orderItem.findMany({ where: { orderId: id }, select: { productId: true, quantity: true } });
        for (const item of items) {
          await tx.product.update({ where: { id: item.productId }, data: { stock: { increment: item.quantity } } });
        }
        return items.map((item) => item.productId);
      });
      publishChanges(ctx.pubsub, { statusChanged: [id], stockChanged: restocked });
      return ctx.prisma.order.findFirstOrThrow({ ...rootQuery(ctx, query), where: { id } });
    },
  }),
}));
