/**
 * Who may see and do what: every authorization rule of the API, in one place.
 *
 * - Anonymous: the catalogue (products, prices, stock, categories, categoryStats); nothing about
 *   customers or orders.
 * - Customer: their own user, orders and items; placing orders for themselves; cancelling their own
 *   PENDING order; changing their own name and email.
 * - Admin: everything.
 *
 * Fields declare the scope they need (`signedIn`, `admin`; see `scopes`). Rows are filtered by the
 * database: lists and lookups add the `where` clauses below, so authorization never checks rows one
 * by one with a query each, and someone else's row answers exactly as a missing one would.
 */
import type { GraphQLError } from "graphql";
import type { Config } from "../config.js";
import { notFound, ShopError } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { ModelName } from "../loading/models.js";
import { prismaVisibility, type Visibility } from "../loading/pages.js";
import type { Strategy } from "../loading/strategy.js";
import type { OrderStatus } from "../orders/status.js";
import type { Viewer } from "./viewer.js";

/** The scopes a field may require, for the viewer of one request. */
export function scopes(viewer: Viewer) {
  return { signedIn: viewer.role !== "anonymous", admin: viewer.role === "admin" };
}

export type AuthScopes = { [K in keyof ReturnType<typeof scopes>]: boolean };

/** The error for a refused field: who you are is unknown (UNAUTHENTICATED), or known but not enough (FORBIDDEN). */
export function refusal(viewer: Viewer): GraphQLError {
  return viewer.role === "anonymous"
    ? new ShopError("UNAUTHENTICATED", "Sign in: send `Authorization: Bearer <token>`.")
    : new ShopError("FORBIDDEN", "Your role may not do this.");
}

/**
 * The rows of `model` a viewer may see, stated once for both forms a query takes: a Prisma `where`
 * (root fields, the eager plan) and a SQL condition (the loaders), see src/loading/pages.ts.
 */
export function visibility(model: ModelName, viewer: Viewer): Visibility {
  if (model === "Product" || viewer.role === "admin") return { kind: "all" };
  if (viewer.userId === null) return { kind: "none" };
  if (model === "User") return { kind: "owned", column: "id", userId: viewer.userId };
  if (model === "Order") return { kind: "owned", column: "userId", userId: viewer.userId };
  return { kind: "linesOf", userId: viewer.userId };
}

/*
 * The same as Prisma `where`s, meant to be AND-ed with a query's own (`{ ...where, AND:
 * [visibleOrders(viewer)] }`). Someone without access sees a list no row meets.
 */

/** The users a viewer may see. */
export function visibleUsers(viewer: Viewer): Prisma.UserWhereInput {
  return prismaVisibility(visibility("User", viewer));
}

/** The orders a viewer may see. */
export function visibleOrders(viewer: Viewer): Prisma.OrderWhereInput {
  return prismaVisibility(visibility("Order", viewer));
}

/** The order lines a viewer may see. */
export function visibleOrderItems(viewer: Viewer): Prisma.OrderItemWhereInput {
  return prismaVisibility(visibility("OrderItem", viewer));
}

/** The same rules for one loaded object, reached through a field that did not filter (no SQL). */
export function maySee(viewer: Viewer, row: { userId: number } | { id: number }): boolean {
  if (viewer.role === "admin") return true;
  if (viewer.userId === null) return false;
  return "userId" in row ? row.userId === viewer.userId : row.id === viewer.userId;
}

/** The user a new order is for: customers order for themselves; an admin names the customer. */
export function orderingUser(viewer: Viewer, requested: number | undefined): number {
  if (viewer.role === "admin") {
    if (requested !== undefined) return requested;
    if (viewer.userId !== null) return viewer.userId;
    throw new ShopError("BAD_USER_INPUT", "userId is required: an operator token names no customer.", { field: "userId" });
  }
  // Someone else's id answers as a missing user would, so ids cannot be probed.
  if (requested !== undefined && requested !== viewer.userId) throw notFound("User", requested, "userId");
  return viewer.userId!;
}

/** What a customer may change about themselves; the rest is the shop's. */
const SELF_EDITABLE = ["name", "email"];

/** Checks that the viewer may make these changes to this user. */
export function mayEditUser(viewer: Viewer, userId: number, changes: Record<string, unknown>): void {
  if (viewer.role === "admin") return;
  if (userId !== viewer.userId) throw notFound("User", userId, "id");
  const other = Object.keys(changes).find((field) => changes[field] !== undefined && !SELF_EDITABLE.includes(field));
  if (other) throw new ShopError("FORBIDDEN", `A customer may change their name and email, not ${other}.`, { field: other });
}

/**
 * How far a viewer may move an order: admins anywhere the status machine allows; customers only
 * their own orders, only to CANCELLED, and only while PENDING (once the shop is processing an order,
 * only the shop may call it off).
 */
export function orderMovePolicy(viewer: Viewer, to: OrderStatus): { ownerId?: number; from?: OrderStatus[] } {
  if (viewer.role === "admin") return {};
  if (to !== "CANCELLED") throw new ShopError("FORBIDDEN", "A customer may only cancel an order.", { field: "status" });
  return { ownerId: viewer.userId!, from: ["PENDING"] };
}

/** Refuses a loading strategy the viewer may not use (`lazy` runs one query per parent, on purpose). */
export function mayUseStrategy(viewer: Viewer, strategy: Strategy, allowed: Config["lazyStrategy"]): void {
  if (strategy !== "lazy" || allowed === "everyone" || (allowed === "admins" && viewer.role === "admin")) return;
  throw new ShopError(
    "FORBIDDEN",
    allowed === "nobody"
      ? "The lazy strategy is switched off on this server (LAZY_STRATEGY=1 allows it for admins)."
      : "The lazy strategy is for admins on this server.",
    { field: "x-loading-strategy" },
  );
}

/** Whether a response may carry its SQL: always in development; in production, when on, for admins. */
export function mayExplainSql(viewer: Viewer, config: Pick<Config, "sqlExplain" | "production">): boolean {
  return config.sqlExplain && (!config.production || viewer.role === "admin");
}
