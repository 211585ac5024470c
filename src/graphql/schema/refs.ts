/**
 * The four model types, declared before any of their fields, so that each type file can refer to
 * the others (an `after` cursor, a filter by user) without importing them: the files only add fields.
 *
 * They are plain Pothos object types implementing Relay's Node, not `@pothos/plugin-prisma` objects:
 * that plugin wraps every field of its types with a per-row check of what was loaded (and works out
 * each relation's response path per row), which `npm run bench:load` measured as the largest share
 * of the server's time after garbage collection. Here a field reads its row, a relation reads what
 * the eager plan loaded or asks a loader (src/graphql/schema/relations.ts), and each type says which model
 * it is (`extensions.modelType`) for the planner (src/loading/plan.ts).
 *
 * A row carries the columns its fields asked for (the id always, and what authorization checks:
 * `Order.userId`), typed as the whole row; values come from Prisma (Date, Decimal) or from the
 * loaders' flat statements (text for timestamps and decimals), which the scalars serialize alike.
 */
import { maySee, visibility } from "../../auth/rules.js";
import type { Order, OrderItem, Product, User } from "../../generated/prisma/client.js";
import type { Row } from "../../loading/loaders.js";
import { MODELS, type ModelName } from "../../loading/models.js";
import type { ModelType } from "../../loading/plan.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { parseDbId } from "./ids.js";

export type UserRow = User & { orders?: OrderRow[]; _count?: { orders?: number } };
export type OrderRow = Order & { user?: UserRow; items?: OrderItemRow[] };
export type OrderItemRow = OrderItem & { order?: OrderRow; product?: ProductRow };
export type ProductRow = Product & { orderItems?: OrderItemRow[] };

export const UserRef = builder.objectRef<UserRow>("User");
export const ProductRef = builder.objectRef<ProductRow>("Product");
export const OrderRef = builder.objectRef<OrderRow>("Order");
export const OrderItemRef = builder.objectRef<OrderItemRow>("OrderItem");

const modelType = (model: ModelName, always: readonly string[] = ["id"]): { modelType: ModelType } => ({
  modelType: { model, always },
});

/**
 * How `node(id:)`/`nodes(ids:)` find rows: the id must fit the column, and the row must be one the
 * viewer may see (the database filters); any other answers as a missing one, so ids cannot be probed.
 */
function nodeLoading<T>(model: ModelName) {
  const columns = [...MODELS[model].columns.keys()];
  return {
    id: { resolve: (row: { id: number }) => row.id },
    parse: (id: string) => parseDbId(id, model, "id"),
    loadMany: (ids: number[], ctx: Context) =>
      ctx.loaders.byId(model, columns, visibility(model, ctx.viewer)).loadMany(ids) as Promise<(T | null)[]>,
  };
}

const { parse: parseUserId, ...userLoading } = nodeLoading<UserRow>("User");
builder.node(UserRef, {
  description: "A customer of the shop.",
  ...userLoading,
  id: { ...userLoading.id, parse: parseUserId },
  // Defence in depth: a user reached through a path that forgot to filter is still refused where it
  // enters the answer (src/graphql/schema/guard.ts).
  extensions: { ...modelType("User"), visibleTo: maySee },
  fields: () => ({}),
});

const { parse: parseProductId, ...productLoading } = nodeLoading<ProductRow>("Product");
builder.node(ProductRef, {
  description: "Something the shop sells.",
  ...productLoading,
  id: { ...productLoading.id, parse: parseProductId },
  extensions: modelType("Product"),
  fields: () => ({}),
});

const { parse: parseOrderId, ...orderLoading } = nodeLoading<OrderRow>("Order");
builder.node(OrderRef, {
  description: "A customer's order. Its total is derived from its items, never stored.",
  ...orderLoading,
  id: { ...orderLoading.id, parse: parseOrderId },
  extensions: { ...modelType("Order", ["id", "userId"]), visibleTo: maySee },
  fields: () => ({}),
});

const { parse: parseOrderItemId, ...orderItemLoading } = nodeLoading<OrderItemRow>("OrderItem");
builder.node(OrderItemRef, {
  description: "One line of an order: a product, how many, and the price it was ordered at.",
  ...orderItemLoading,
  id: { ...orderItemLoading.id, parse: parseOrderItemId },
  extensions: modelType("OrderItem"),
  fields: () => ({}),
});

export type { Row };
