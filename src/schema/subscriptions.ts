/**
 * Live updates, published by the mutations that cause them once their transaction has committed.
 * Each event reads the current row; its subscribers share that work (see `eventReads`).
 */
import type { GraphQLResolveInfo } from "graphql";
import { visibleOrders } from "../auth/rules.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { notFound } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import { createLoaders, type Loaders } from "../loaders.js";
import { pathString, type SqlRecorder, withCause, withSqlRecorder } from "../sql-recorder.js";
import type { Strategy } from "../strategy.js";
import { dbId } from "./ids.js";
import { rootQuery } from "./loading.js";
import { OrderRef, ProductRef } from "./refs.js";

/** What the subscribers of one event share: its SQL record, its loaders by strategy, its reads by query. */
interface EventScope {
  sql: SqlRecorder;
  loaders: Map<Strategy, Loaders>;
  reads: Map<string, Promise<unknown>>;
}

/** Keyed by the event's payload: the bus hands every subscriber of an event the same object. */
const scopes = new WeakMap<object, EventScope>();

/**
 * Prepares `ctx` for one event and returns how to read for it. An event must be read as the
 * database is now, so nothing is kept from an earlier event. Subscribers with the same strategy
 * share the event's loaders (their queries carry each viewer's row filter, so sharing rows is
 * safe), and those asking the same query share its read: the cost of an event does not grow with
 * its subscribers. The reads run in the event's own SQL record, so a subscriber that leaves cannot
 * cancel the others' reads, and a subscription that lives for days does not pile up a record or
 * reach the statement cap. `lazy` stays the honest N+1: each of its subscribers reads alone.
 */
function eventReads(
  event: object,
  ctx: Context,
  info: GraphQLResolveInfo,
): <T>(query: object, read: () => PromiseLike<T>) => Promise<T> {
  // The subscription field itself is the cause of the event's own read (its loaders name theirs).
  const cause = { field: pathString(info.path, ctx.strategy === "lazy") };
  if (ctx.strategy === "lazy") {
    const sql = ctx.sql.fresh();
    ctx.eventSql = sql;
    const run = <T>(read: () => PromiseLike<T>) => withSqlRecorder(sql, async () => await read());
    ctx.loaders = createLoaders(ctx.prisma, ctx.strategy, sql.explain, run);
    return (_query, read) => run(() => withCause(cause, async () => await read()));
  }
  let scope = scopes.get(event);
  if (!scope) {
    scope = { sql: ctx.sql.fresh(undefined), loaders: new Map(), reads: new Map() };
    scopes.set(event, scope);
  }
  const { sql, loaders, reads } = scope;
  ctx.eventSql = sql;
  const run = <T>(read: () => PromiseLike<T>) => withSqlRecorder(sql, async () => await read());
  const shared = loaders.get(ctx.strategy) ?? createLoaders(ctx.prisma, ctx.strategy, sql.explain, run);
  loaders.set(ctx.strategy, shared);
  ctx.loaders = shared;
  return <T>(query: object, read: () => PromiseLike<T>) => {
    const key = `${ctx.strategy} ${JSON.stringify(query)}`;
    const found = reads.get(key) ?? run(() => withCause(cause, async () => await read()));
    reads.set(key, found);
    return found as Promise<T>;
  };
}

/** The order an event names, as it is now. */
function currentOrder(
  query: Prisma.OrderFindFirstArgs,
  event: { orderId: number },
  _args: unknown,
  ctx: Context,
  info: GraphQLResolveInfo,
) {
  const args = { ...rootQuery(ctx, query), where: { id: event.orderId, AND: [visibleOrders(ctx.viewer)] } };
  return eventReads(event, ctx, info)(args, () => ctx.prisma.order.findFirstOrThrow(args));
}

/** Watching an order is for those who may see it; any other answers as a missing order. */
async function watchOrder(ctx: Context, orderId: number) {
  const visible = await ctx.prisma.order.count({ where: { id: orderId, AND: [visibleOrders(ctx.viewer)] } });
  if (!visible) throw notFound("Order", orderId, "orderId");
  return ctx.pubsub.subscribe("orderStatusChanged", orderId);
}

builder.subscriptionType({ description: "Live updates, over Server-Sent Events or WebSocket (graphql-ws)." });

builder.subscriptionFields((t) => ({
  orderCreated: t.prismaField({
    type: "Order",
    authScopes: { admin: true },
    description: "Every order placed from now on. Admins.",
    subscribe: (_root, _args, ctx) => ctx.pubsub.subscribe("orderCreated"),
    resolve: currentOrder,
  }),
  orderStatusChanged: t.prismaField({
    type: "Order",
    authScopes: { signedIn: true },
    description: "The order each time its status changes. Its customer and admins.",
    args: { orderId: t.arg.globalID({ for: OrderRef, required: true, description: "The order to watch." }) },
    subscribe: (_root, args, ctx) => watchOrder(ctx, dbId(args.orderId, "orderId")),
    resolve: currentOrder,
  }),
  productStockChanged: t.prismaField({
    type: "Product",
    description: "The product each time its stock changes (an order, a cancellation, a restock, an edit).",
    args: { productId: t.arg.globalID({ for: ProductRef, required: true, description: "The product to watch." }) },
    subscribe: (_root, args, ctx) => ctx.pubsub.subscribe("productStockChanged", dbId(args.productId, "productId")),
    resolve: (query, event: { productId: number }, _args, ctx, info) => {
      const args = { ...rootQuery(ctx, query), where: { id: event.productId } };
      return eventReads(event, ctx, info)(args, () => ctx.prisma.product.findFirstOrThrow(args));
    },
  }),
}));
