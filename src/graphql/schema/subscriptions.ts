/**
 * Live updates, published by the mutations that cause them once their transaction has committed.
 * Each event reads the current row; its subscribers share that work (see src/graphql/events.ts).
 */

import type { GraphQLResolveInfo } from "graphql";
import { visibleOrders } from "../../auth/rules.js";
import { notFound } from "../../errors.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { eventRead } from "../events.js";
import { dbId } from "./ids.js";
import { rowQuery } from "./loading.js";
import { OrderRef, ProductRef } from "./refs.js";

/** The order an event names, as it is now. */
async function currentOrder(event: { orderId: number }, _args: unknown, ctx: Context, info: GraphQLResolveInfo) {
  const args = { ...(await rowQuery(ctx, info)), where: { id: event.orderId, AND: [visibleOrders(ctx.viewer)] } };
  return eventRead(ctx, args, () => ctx.prisma.order.findFirstOrThrow(args));
}

/** Watching an order is for those who may see it; any other answers as a missing order. */
async function watchOrder(ctx: Context, orderId: number) {
  const visible = await ctx.prisma.order.count({ where: { id: orderId, AND: [visibleOrders(ctx.viewer)] } });
  if (!visible) throw notFound("Order", orderId, "orderId");
  return ctx.pubsub.subscribe("orderStatusChanged", orderId);
}

builder.subscriptionType({ description: "Live updates, over Server-Sent Events or WebSocket (graphql-ws)." });

builder.subscriptionFields((t) => ({
  orderCreated: t.field({
    type: OrderRef,
    authScopes: { admin: true },
    description: "Every order placed from now on. Admins.",
    subscribe: (_root, _args, ctx) => ctx.pubsub.subscribe("orderCreated"),
    resolve: currentOrder,
  }),
  orderStatusChanged: t.field({
    type: OrderRef,
    authScopes: { signedIn: true },
    description: "The order each time its status changes. Its customer and admins.",
    args: { orderId: t.arg.globalID({ for: OrderRef, required: true, description: "The order to watch." }) },
    subscribe: (_root, args, ctx) => watchOrder(ctx, dbId(args.orderId, "orderId")),
    resolve: currentOrder,
  }),
  productStockChanged: t.field({
    type: ProductRef,
    description: "The product each time its stock changes (an order, a cancellation, a restock, an edit).",
    args: { productId: t.arg.globalID({ for: ProductRef, required: true, description: "The product to watch." }) },
    subscribe: (_root, args, ctx) => ctx.pubsub.subscribe("productStockChanged", dbId(args.productId, "productId")),
    resolve: async (event: { productId: number }, _args, ctx, info) => {
      const args = { ...(await rowQuery(ctx, info)), where: { id: event.productId } };
      return eventRead(ctx, args, () => ctx.prisma.product.findFirstOrThrow(args));
    },
  }),
}));
