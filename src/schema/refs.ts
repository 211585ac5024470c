/**
 * The four model types, declared before any of their fields, so that each type file can refer to
 * the others (an `after` cursor, a filter by user) without importing them: the files only add fields.
 */
import { builder } from "../builder.js";
import { parseDbId } from "./ids.js";

/** How `node(id:)` turns the id part of a global ID into a row lookup: refused unless it fits the column. */
const byId = (typename: string) => (id: string) => ({ id: parseDbId(id, typename, "id") });

export const UserRef = builder.prismaNode("User", {
  description: "A customer of the shop.",
  id: { field: "id" },
  findUnique: byId("User"),
  nullable: true,
});

export const ProductRef = builder.prismaNode("Product", {
  description: "Something the shop sells.",
  id: { field: "id" },
  findUnique: byId("Product"),
  nullable: true,
});

export const OrderRef = builder.prismaNode("Order", {
  description: "A customer's order. Its total is derived from its items, never stored.",
  id: { field: "id" },
  findUnique: byId("Order"),
  nullable: true,
});

export const OrderItemRef = builder.prismaNode("OrderItem", {
  description: "One line of an order: a product, how many, and the price it was ordered at.",
  id: { field: "id" },
  findUnique: byId("OrderItem"),
  nullable: true,
});
