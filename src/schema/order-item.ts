/** The OrderItem type: one product line of an order, joining orders and products. */
import { builder } from "../builder.js";
import { columnsOf, loadRequired } from "./loading.js";
import { OrderItemRef } from "./refs.js";

builder.prismaObjectFields(OrderItemRef, (t) => ({
  quantity: t.exposeInt("quantity", { description: "Units ordered; at least 1." }),
  unitPrice: t.expose("unitPrice", { type: "Decimal", description: "The product's price when the order was placed." }),
  subtotal: t.field({
    type: "Decimal",
    description: "quantity x unitPrice, exact.",
    // Computed from this row's own two columns: no query, in every strategy.
    select: { unitPrice: true, quantity: true },
    resolve: (item) => item.unitPrice.mul(item.quantity),
  }),
  order: t.relation("order", {
    description: "The order this line belongs to.",
    resolve: (query, item, _args, ctx, info) =>
      loadRequired(ctx.loaders.order(columnsOf(query)), "Order", item.orderId, info.path),
  }),
  product: t.relation("product", {
    description: "The product ordered.",
    resolve: (query, item, _args, ctx, info) =>
      loadRequired(ctx.loaders.product(columnsOf(query)), "Product", item.productId, info.path),
  }),
}));
