/**
 * The four model types, declared before any of their fields, so that each type file can refer to
 * the others (an `after` cursor, a filter by user) without importing them: the files only add fields.
 *
 * Each type is in Pothos' select mode: a query loads the columns its fields ask for, plus the ones
 * named here (the id, and the foreign keys that relations and authorization read), never every
 * column. The eager statement no longer builds JSON of every product's description for each line.
 */
import { maySee, visibleOrderItems, visibleOrders, visibleUsers } from "../auth/rules.js";
import type { Viewer } from "../auth/viewer.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { parseDbId } from "./ids.js";

/**
 * How `node(id:)` finds a row: the id must fit the column, and the row must be one the viewer may
 * see; any other answers as a missing one, so ids cannot be probed.
 */
const byId =
  (typename: string, visible: (viewer: Viewer) => object = () => ({})) =>
  (id: string, ctx: Context) => ({ id: parseDbId(id, typename, "id"), AND: [visible(ctx.viewer)] });

export const UserRef = builder.prismaNode("User", {
  description: "A customer of the shop.",
  select: { id: true },
  id: { field: "id" },
  findUnique: byId("User", visibleUsers),
  // Defence in depth: a user reached through a path that forgot to filter is still refused.
  authScopes: (user, ctx) => maySee(ctx.viewer, user),
  nullable: true,
});

export const ProductRef = builder.prismaNode("Product", {
  description: "Something the shop sells.",
  select: { id: true },
  id: { field: "id" },
  findUnique: byId("Product"),
  nullable: true,
});

export const OrderRef = builder.prismaNode("Order", {
  description: "A customer's order. Its total is derived from its items, never stored.",
  select: { id: true, userId: true },
  id: { field: "id" },
  findUnique: byId("Order", visibleOrders),
  authScopes: (order, ctx) => maySee(ctx.viewer, order),
  nullable: true,
});

export const OrderItemRef = builder.prismaNode("OrderItem", {
  description: "One line of an order: a product, how many, and the price it was ordered at.",
  select: { id: true, orderId: true, productId: true },
  id: { field: "id" },
  findUnique: byId("OrderItem", visibleOrderItems),
  nullable: true,
});
