/** The Order type, placing orders and moving them through their life. */
import { orderingUser, orderMovePolicy, visibleOrders } from "../../auth/rules.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { fieldRules, rules } from "../../limits/inputs.js";
import { changeOrderStatus, changeOrderStatuses, placeOrder } from "../../orders/commands.js";
import { publishChanges } from "../../pubsub.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { dbId } from "./ids.js";
import {
  connectionOptions,
  countOf as countTotal,
  cursorConnection,
  type ListArgs,
  listArgs,
  orderByOf,
  relationPage,
} from "./lists.js";
import { connectionRows, rowQuery } from "./loading.js";
import { OrderItemOrderBy, OrderOrderBy, OrderStatusEnum } from "./order-inputs.js";
import { OrderItemRef, OrderRef, ProductRef, UserRef } from "./refs.js";
import { loads, toMany, toOne } from "./relations.js";

/** The page of `Order.items`: shared by the eager plan and the loaders. */
const itemsPage = (args: ListArgs, ctx: Context) => relationPage("OrderItem", args, ctx);

builder.objectFields(OrderRef, (t) => ({
  status: t.expose("status", { type: OrderStatusEnum, description: "Where the order is in its life." }),
  notes: t.exposeString("notes", { description: "Free text from the customer; empty when none." }),
  createdAt: t.expose("createdAt", { type: "DateTime", description: "When the order was placed." }),
  updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the order last changed." }),
  user: t.field({
    type: UserRef,
    description: "The customer who placed the order.",
    extensions: loads("user"),
    resolve: toOne("Order", "user"),
  }),
  items: t.field({
    type: [OrderItemRef],
    description: "The order's lines, a page at a time (default: in the order they were added, 20).",
    args: listArgs(t.arg, OrderItemOrderBy),
    extensions: loads("items", itemsPage),
    resolve: toMany("Order", "items", itemsPage),
  }),
  itemCount: t.field({
    type: "SafeInt",
    description: "Units in the order: the sum of its items' quantities.",
    complexity: 1,
    resolve: (order, _args, ctx, info) => ctx.loaders.itemCountOfOrder().load(order.id, info.path),
  }),
  total: t.field({
    type: "Decimal",
    description: "The sum of quantity x unit price over the order's items.",
    complexity: 1,
    resolve: (order, _args, ctx, info) => ctx.loaders.totalOfOrder().load(order.id, info.path),
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

function orderWhere(filter: typeof OrderFilter.$inferInput | null | undefined, ctx: Context): Prisma.OrderWhereInput {
  const createdAt = {
    ...(filter?.createdAfter ? { gte: filter.createdAfter } : {}),
    ...(filter?.createdBefore ? { lt: filter.createdBefore } : {}),
  };
  return {
    AND: [visibleOrders(ctx.viewer)],
    ...(filter?.status ? { status: filter.status } : {}),
    ...(filter?.userId ? { userId: dbId(filter.userId, "filter.userId") } : {}),
    ...(Object.keys(createdAt).length ? { createdAt } : {}),
  };
}

builder.queryFields((t) => ({
  order: t.field({
    type: OrderRef,
    nullable: true,
    authScopes: { signedIn: true },
    description: "An order by ID; null when there is none (or it is not yours to see). Signed in.",
    args: { id: t.arg.globalID({ for: OrderRef, required: true, description: "The order's global ID." }) },
    resolve: async (_root, args, ctx, info) =>
      ctx.prisma.order.findFirst({
        ...(await rowQuery(ctx, info)),
        where: { id: dbId(args.id, "id"), AND: [visibleOrders(ctx.viewer)] },
      }),
  }),
  orders: t.connection(
    {
      type: OrderRef,
      authScopes: { signedIn: true },
      description: "The orders you may see (all of them for an admin, your own for a customer), a page at a time.",
      args: {
        filter: t.arg({ type: OrderFilter, description: "Which orders to include." }),
        orderBy: t.arg({ type: OrderOrderBy, description: "Sort order (default: id ascending)." }),
      },
      resolve: async (_root, args, ctx, info) => {
        const where = orderWhere(args.filter, ctx);
        return cursorConnection(
          info,
          args,
          await connectionRows(ctx, info),
          (query, window) => ctx.prisma.order.findMany({ ...query, ...window, where, orderBy: orderByOf(args.orderBy) }),
          () => countTotal(info, () => ctx.prisma.order.count({ where })),
        );
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
  validate: fieldRules({ quantity: rules.units }),
});

const CreateOrderInput = builder.inputType("CreateOrderInput", {
  description: "A new order.",
  fields: (t) => ({
    userId: t.globalID({
      for: UserRef,
      description: "The customer's global ID: a customer's own by default (customers order for themselves); an admin names it.",
    }),
    items: t.field({
      type: [OrderItemInput],
      required: true,
      description: "1 to 100 lines, each for a different product.",
    }),
    notes: t.string({ description: "Free text for the shop (default empty); at most 1,000 characters." }),
  }),
  validate: fieldRules({ items: rules.orderLines, notes: rules.notes }),
});

builder.mutationFields((t) => ({
  createOrder: t.field({
    type: OrderRef,
    authScopes: { signedIn: true },
    description:
      "Places an order in one transaction: checks every product exists and has stock, takes the stock, records each line at today's price. Writes nothing if any check fails (NOT_FOUND, INSUFFICIENT_STOCK, BAD_USER_INPUT).",
    args: { input: t.arg({ type: CreateOrderInput, required: true, description: "The order to place." }) },
    resolve: async (_root, { input }, ctx, info) => {
      const query = await rowQuery(ctx, info);
      const lines = input.items.map((item, i) => ({
        field: `items.${i}`,
        productId: dbId(item.productId, `items.${i}.productId`),
        quantity: item.quantity,
      }));
      const { result, changes } = await placeOrder(
        ctx.prisma,
        {
          userId: orderingUser(ctx.viewer, input.userId ? dbId(input.userId, "userId") : undefined),
          lines,
          notes: input.notes ?? "",
        },
        (tx, id) => tx.order.findFirstOrThrow({ ...query, where: { id } }),
      );
      publishChanges(ctx.pubsub, changes);
      return result!;
    },
  }),
  updateOrderStatus: t.field({
    type: OrderRef,
    authScopes: { signedIn: true },
    description:
      "Moves an order along: PENDING -> PROCESSING -> COMPLETED, or PENDING/PROCESSING -> CANCELLED (which returns its stock). Anything else is INVALID_STATUS_TRANSITION. Admins move any order; a customer cancels their own PENDING order.",
    args: {
      id: t.arg.globalID({ for: OrderRef, required: true, description: "The order's global ID." }),
      status: t.arg({ type: OrderStatusEnum, required: true, description: "The status to move to." }),
    },
    resolve: async (_root, { id: globalId, status }, ctx, info) => {
      const id = dbId(globalId, "id");
      const query = await rowQuery(ctx, info);
      const { result, changes } = await changeOrderStatus(ctx.prisma, id, status, orderMovePolicy(ctx.viewer, status), (tx) =>
        tx.order.findFirstOrThrow({ ...query, where: { id } }),
      );
      publishChanges(ctx.pubsub, changes);
      return result!;
    },
  }),
}));

const BulkOrderFilter = builder.inputType("BulkOrderFilter", {
  description: "Which orders a bulk change applies to. The status is required, so a bulk change can never sweep every order.",
  fields: (t) => ({
    status: t.field({ type: OrderStatusEnum, required: true, description: "Only orders now in this status." }),
    createdBefore: t.field({ type: "DateTime", description: "Only orders placed before this time." }),
    userId: t.globalID({ for: UserRef, description: "Only this user's orders." }),
  }),
});

interface BulkResult {
  count: number;
  unitsReturned: number;
}

const BulkOrderStatusResult = builder.objectRef<BulkResult>("BulkOrderStatusResult").implement({
  description: "What a bulk status change did.",
  fields: (t) => ({
    count: t.exposeInt("count", { description: "How many orders changed status." }),
    unitsReturned: t.expose("unitsReturned", {
      type: "SafeInt",
      description: "Units of stock returned to products (when cancelling).",
    }),
  }),
});

builder.mutationFields((t) => ({
  bulkUpdateOrderStatus: t.field({
    type: BulkOrderStatusResult,
    authScopes: { admin: true },
    description:
      "Moves every order matching the filter to another status in one transaction, if that move is allowed (see updateOrderStatus); cancelling returns their stock. A few statements, whatever the number of orders. Admins.",
    args: {
      filter: t.arg({ type: BulkOrderFilter, required: true, description: "Which orders." }),
      to: t.arg({ type: OrderStatusEnum, required: true, description: "The status to move them to." }),
    },
    resolve: async (_root, { filter, to }, ctx) => {
      const { orderIds, unitsReturned, changes } = await changeOrderStatuses(
        ctx.prisma,
        {
          status: filter.status,
          ...(filter.userId ? { userId: dbId(filter.userId, "filter.userId") } : {}),
          ...(filter.createdBefore ? { createdBefore: filter.createdBefore } : {}),
        },
        to,
      );
      publishChanges(ctx.pubsub, changes);
      return { count: orderIds.length, unitsReturned };
    },
  }),
}));
