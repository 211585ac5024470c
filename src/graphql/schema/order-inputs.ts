/** Order enums and inputs used by more than one type file (users' order lists, orders, products' order lines). */

import { ORDER_STATUSES, type OrderStatus } from "../../orders/status.js";
import { builder } from "../builder.js";
import { defineOrderBy } from "./lists.js";

/** What each status means to a client; keyed by the generated enum, so none can be missing. */
const STATUS_DESCRIPTIONS: Record<OrderStatus, string> = {
  PENDING: "Placed; its stock is reserved.",
  PROCESSING: "Being prepared; its stock is still reserved.",
  COMPLETED: "Delivered and paid; counts as spent and sold.",
  CANCELLED: "Called off; its stock went back to the products.",
};

export const OrderStatusEnum = builder.enumType("OrderStatus", {
  description: "Where an order is in its life: PENDING -> PROCESSING -> COMPLETED; PENDING or PROCESSING -> CANCELLED.",
  values: Object.fromEntries(
    ORDER_STATUSES.map((status) => [status, { value: status, description: STATUS_DESCRIPTIONS[status] }]),
  ) as { [S in OrderStatus]: { value: S; description: string } },
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
