/** The Product type: what the shop sells, its stock and sales; product queries and mutations. */
import { visibility } from "../../auth/rules.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { fieldRules, given, rules } from "../../limits/inputs.js";
import { deleteProduct, restockProduct, updateProduct } from "../../orders/commands.js";
import { publishChanges } from "../../pubsub.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { dbId } from "./ids.js";
import {
  connectionOptions,
  containsText,
  countOf as countTotal,
  cursorConnection,
  defineOrderBy,
  type ListArgs,
  listArgs,
  orderByOf,
  relationPage,
} from "./lists.js";
import { connectionRows, rowQuery } from "./loading.js";
import { OrderItemOrderBy } from "./order-inputs.js";
import { OrderItemRef, ProductRef } from "./refs.js";
import { loads, toMany } from "./relations.js";

/**
 * The page of `Product.orderItems`, shared by the eager plan and the loaders: a customer sees the
 * lines of their own orders only, filtered by the database in the same statement.
 */
const orderItemsPage = (args: ListArgs, ctx: Context) =>
  relationPage("OrderItem", args, ctx, { visibility: visibility("OrderItem", ctx.viewer) });

builder.objectFields(ProductRef, (t) => ({
  name: t.exposeString("name", { description: "Product name." }),
  description: t.exposeString("description", { nullable: true, description: "Longer text for the product page, if any." }),
  price: t.expose("price", { type: "Decimal", description: "Current unit price." }),
  stock: t.exposeInt("stock", { description: "Units on hand; never negative." }),
  category: t.exposeString("category", { description: "The category the product is listed under." }),
  createdAt: t.expose("createdAt", { type: "DateTime", description: "When the product was added." }),
  updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the product was last changed." }),
  orderItems: t.field({
    type: [OrderItemRef],
    authScopes: { signedIn: true },
    description:
      "The order lines for this product you may see (all for an admin, your own for a customer), a page at a time (default: oldest first, 20).",
    args: listArgs(t.arg, OrderItemOrderBy),
    extensions: loads("orderItems", orderItemsPage),
    resolve: toMany("Product", "orderItems", orderItemsPage),
  }),
  unitsSold: t.field({
    type: "SafeInt",
    description: "Units of this product in COMPLETED orders.",
    complexity: 1,
    resolve: (product, _args, ctx, info) => ctx.loaders.unitsSoldOfProduct().load(product.id, info.path),
  }),
}));

const ProductOrderBy = defineOrderBy("Product", "products", {
  id: "The order they were added in.",
  name: "Name.",
  price: "Unit price.",
  stock: "Units on hand.",
  category: "Category name.",
  createdAt: "When the product was added.",
});

const ProductFilter = builder.inputType("ProductFilter", {
  description: "Which products to list.",
  fields: (t) => ({
    category: t.string({ description: "Only this category (exact name)." }),
    inStock: t.boolean({ description: "Only products with stock (true) or sold out (false)." }),
    minPrice: t.field({ type: "Decimal", description: "Only products costing at least this." }),
    maxPrice: t.field({ type: "Decimal", description: "Only products costing at most this." }),
    search: t.string({
      description: "Case-insensitive text that the name or description contains (at most 100 characters).",
    }),
  }),
  validate: fieldRules({ category: rules.search, search: rules.search }),
});

function productWhere(filter: typeof ProductFilter.$inferInput | null | undefined): Prisma.ProductWhereInput {
  const price = { ...(filter?.minPrice ? { gte: filter.minPrice } : {}), ...(filter?.maxPrice ? { lte: filter.maxPrice } : {}) };
  return {
    ...(filter?.category ? { category: filter.category } : {}),
    ...(filter?.inStock != null ? { stock: filter.inStock ? { gt: 0 } : 0 } : {}),
    ...(Object.keys(price).length ? { price } : {}),
    ...(filter?.search ? { OR: [{ name: containsText(filter.search) }, { description: containsText(filter.search) }] } : {}),
  };
}

builder.queryFields((t) => ({
  product: t.field({
    type: ProductRef,
    nullable: true,
    description: "A product by ID; null when there is none.",
    args: { id: t.arg.globalID({ for: ProductRef, required: true, description: "The product's global ID." }) },
    resolve: async (_root, args, ctx, info) =>
      ctx.prisma.product.findFirst({ ...(await rowQuery(ctx, info)), where: { id: dbId(args.id, "id") } }),
  }),
  products: t.connection(
    {
      type: ProductRef,
      description: "The catalogue, a page at a time.",
      args: {
        filter: t.arg({ type: ProductFilter, description: "Which products to include." }),
        orderBy: t.arg({ type: ProductOrderBy, description: "Sort order (default: id ascending)." }),
      },
      resolve: async (_root, args, ctx, info) => {
        const where = productWhere(args.filter);
        return cursorConnection(
          info,
          args,
          await connectionRows(ctx, info),
          (query, window) => ctx.prisma.product.findMany({ ...query, ...window, where, orderBy: orderByOf(args.orderBy) }),
          () => countTotal(info, () => ctx.prisma.product.count({ where })),
        );
      },
    },
    connectionOptions("A page of products.", "products"),
    { description: "A product in a page of products." },
  ),
}));

/** What a product's fields must be, when created and when changed. */
const productRules = fieldRules({
  name: rules.name,
  description: rules.description,
  price: rules.money,
  stock: rules.stock,
  category: rules.category,
});

const CreateProductInput = builder.inputType("CreateProductInput", {
  description: "A new product.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Product name; 1 to 200 characters." }),
    description: t.string({ description: "Longer text, optional; at most 5,000 characters." }),
    price: t.field({ type: "Decimal", required: true, description: "Unit price; not negative." }),
    stock: t.int({ description: "Units on hand, 0 to 1,000,000,000 (default 0)." }),
    category: t.string({ required: true, description: "Category name; 1 to 100 characters." }),
  }),
  validate: productRules,
});

const UpdateProductInput = builder.inputType("UpdateProductInput", {
  description: "Changes to a product; omitted fields stay as they are.",
  fields: (t) => ({
    name: t.string({ description: "New name; 1 to 200 characters." }),
    description: t.string({ description: "New description; null or empty clears it." }),
    price: t.field({ type: "Decimal", description: "New unit price; orders already placed keep theirs." }),
    stock: t.int({
      description: "New number of units on hand (prefer restockProduct to add units).",
    }),
    category: t.string({ description: "New category; 1 to 100 characters." }),
  }),
  validate: productRules,
});

builder.mutationFields((t) => ({
  createProduct: t.field({
    type: ProductRef,
    authScopes: { admin: true },
    description: "Adds a product to the catalogue. Admins.",
    args: { input: t.arg({ type: CreateProductInput, required: true, description: "The new product." }) },
    resolve: async (_root, { input }, ctx, info) =>
      ctx.prisma.product.create({
        ...(await rowQuery(ctx, info)),
        data: { ...input, description: input.description || null, stock: input.stock ?? undefined },
      }),
  }),
  updateProduct: t.field({
    type: ProductRef,
    authScopes: { admin: true },
    description: "Changes a product. Fails with NOT_FOUND. Admins.",
    args: {
      id: t.arg.globalID({ for: ProductRef, required: true, description: "The product's global ID." }),
      input: t.arg({ type: UpdateProductInput, required: true, description: "What to change." }),
    },
    resolve: async (_root, { id: globalId, input }, ctx, info) => {
      const id = dbId(globalId, "id");
      const query = await rowQuery(ctx, info);
      const { result, changes } = await updateProduct(
        ctx.prisma,
        id,
        {
          ...given(input),
          // The one nullable column: null (or empty) clears it.
          ...(input.description === undefined ? {} : { description: input.description || null }),
        },
        (tx) => tx.product.findFirstOrThrow({ ...query, where: { id } }),
      );
      publishChanges(ctx.pubsub, changes);
      return result!;
    },
  }),
  restockProduct: t.field({
    type: ProductRef,
    authScopes: { admin: true },
    description: "Adds units to a product's stock (atomically, safe beside concurrent orders). Admins.",
    args: {
      id: t.arg.globalID({ for: ProductRef, required: true, description: "The product's global ID." }),
      quantity: t.arg.int({ required: true, description: "Units to add; at least 1.", validate: rules.units }),
    },
    resolve: async (_root, { id: globalId, quantity }, ctx, info) => {
      const id = dbId(globalId, "id");
      const query = await rowQuery(ctx, info);
      const { result, changes } = await restockProduct(ctx.prisma, id, quantity, (tx) =>
        tx.product.findFirstOrThrow({ ...query, where: { id } }),
      );
      publishChanges(ctx.pubsub, changes);
      return result!;
    },
  }),
  deleteProduct: t.field({
    type: ProductRef,
    authScopes: { admin: true },
    description:
      "Removes a product. Refused with PRODUCT_IN_USE while order items reference it. Returns the product as it was. Admins.",
    args: { id: t.arg.globalID({ for: ProductRef, required: true, description: "The product's global ID." }) },
    resolve: async (_root, { id: globalId }, ctx, info) => {
      const id = dbId(globalId, "id");
      const query = await rowQuery(ctx, info, { eager: true });
      const { product } = await deleteProduct(ctx.prisma, id, (tx) => tx.product.findUniqueOrThrow({ ...query, where: { id } }));
      return product;
    },
  }),
}));
