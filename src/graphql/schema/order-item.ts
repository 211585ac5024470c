/** The OrderItem type: one product line of an order, joining orders and products. */

import { Prisma } from "../../generated/prisma/client.js";
import { builder } from "../builder.js";
import { OrderItemRef, OrderRef, ProductRef } from "./refs.js";
import { loads, toOne } from "./relations.js";

builder.objectFields(OrderItemRef, (t) => ({
  quantity: t.exposeInt("quantity", { description: "Units ordered; at least 1." }),
  unitPrice: t.expose("unitPrice", { type: "Decimal", description: "The product's price when the order was placed." }),
  subtotal: t.field({
    type: "Decimal",
    description: "quantity x unitPrice, exact.",
    // Computed from this row's own two columns: no query, in every strategy.
    extensions: { loads: { columns: ["unitPrice", "quantity"] } },
    resolve: (item) => new Prisma.Decimal(item.unitPrice).mul(item.quantity),
  }),
  order: t.field({
    type: OrderRef,
    description: "The order this line belongs to.",
    extensions: loads("order"),
    resolve: toOne("OrderItem", "order"),
  }),
  product: t.field({
    type: ProductRef,
    description: "The product ordered.",
    extensions: loads("product"),
    resolve: toOne("OrderItem", "product"),
  }),
}));
