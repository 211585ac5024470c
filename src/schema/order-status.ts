/** The order status enum, shared by orders, users' order lists and filters. */
import { builder } from "../builder.js";

export const OrderStatusEnum = builder.enumType("OrderStatus", {
  description: "Where an order is in its life: PENDING -> PROCESSING -> COMPLETED; PENDING or PROCESSING -> CANCELLED.",
  values: {
    PENDING: { value: "PENDING", description: "Placed; its stock is reserved." },
    PROCESSING: { value: "PROCESSING", description: "Being prepared; its stock is still reserved." },
    COMPLETED: { value: "COMPLETED", description: "Delivered and paid; counts as spent and sold." },
    CANCELLED: { value: "CANCELLED", description: "Called off; its stock went back to the products." },
  } as const,
});
