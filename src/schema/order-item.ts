/** The OrderItem type: one product line of an order, joining orders and products. */
import { builder } from "../builder.js";
import { notFound } from "../errors.js";

builder.prismaNode("OrderItem", {
  description: "One line of an order: a product, how many, and the price it was ordered at.",
  id: { field: "id" },
  nullable: true,
  fields: (t) => ({
    quantity: t.exposeInt("quantity", { description: "Units ordered; at least 1." }),
    unitPrice: t.expose("unitPrice", { type: "Decimal", description: "The product's price when the order was placed." }),
    subtotal: t.field({
      type: "Decimal",
      description: "quantity x unitPrice, exact.",
      // Computed from this row's own two columns: no query, in every strategy.
      resolve: (item) => item.unitPrice.mul(item.quantity),
    }),
    order: t.relation("order", {
      description: "The order this line belongs to.",
      resolve: async (_query, item, _args, ctx) =>
        (await ctx.loaders.order.load(item.orderId)) ?? Promise.reject(notFound("Order", item.orderId)),
    }),
    product: t.relation("product", {
      description: "The product ordered.",
      resolve: async (_query, item, _args, ctx) =>
        (await ctx.loaders.product.load(item.productId)) ?? Promise.reject(notFound("Product", item.productId)),
    }),
  }),
});
