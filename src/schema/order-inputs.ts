/** Order enums and inputs used by more than one type file (users' order lists, orders, products' order lines). */
import { builder } from "../builder.js";
import { defineOrderBy } from "./scalars.js";

export const OrderStatusEnum = builder.enumType("OrderStatus", {
  description: "Where an order is in its life: PENDING -> PROCESSING -> COMPLETED; PENDING or PROCESSING -> CANCELLED.",
  values: {
    PENDING: { value: "PENDING", description: "Placed; its stock is reserved." },
    PROCESSING: { value: "PROCESSING", description: "Being prepared; its stock is still reserved." },
    COMPLETED: { value: "COMPLETED", description: "Delivered and paid; counts as spent and sold." },
    CANCELLED: { value: "CANCELLED", description: "Called off; its stock went back to the products." },
  } as const,
});

export const OrderOrderBy = defineOrderBy("Order", "orders", {
  id: "The order they were placed in.",
  createdAt: "When they were placed.",
  updatedAt: "When they last changed.",
  status: "Status, in life order (PENDING first).",
});

export const OrderItemOrderBy = defineOrderBy("OrderItem", "order lines", {
  id: "The order they were added in.",
  quantity: "Units ordered.",
  unitPrice: "Price per unit when ordered.",
});
