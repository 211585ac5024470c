/**
 * The four model types, declared before any of their fields, so that each type file can refer to
 * the others (an `after` cursor, a filter by user) without importing them: the files only add fields.
 */
import { builder } from "../builder.js";

export const UserRef = builder.prismaNode("User", {
  description: "A customer of the shop.",
  id: { field: "id" },
  nullable: true,
});

export const ProductRef = builder.prismaNode("Product", {
  description: "Something the shop sells.",
  id: { field: "id" },
  nullable: true,
});

export const OrderRef = builder.prismaNode("Order", {
  description: "A customer's order. Its total is derived from its items, never stored.",
  id: { field: "id" },
  nullable: true,
});

export const OrderItemRef = builder.prismaNode("OrderItem", {
  description: "One line of an order: a product, how many, and the price it was ordered at.",
  id: { field: "id" },
  nullable: true,
});
