/**
 * Expected failures and how every error reaches a client. Domain code throws `ShopError`s with a
 * stable code; `maskError` (installed in yoga.ts) turns everything else into either a known code or
 * "Unexpected error." with the cause logged, never a stack trace.
 */
import { PothosValidationError } from "@pothos/core";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { GraphQLError } from "graphql";
import { Prisma } from "./generated/prisma/client.js";

/** The `extensions.code` values clients can rely on. */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "EMAIL_TAKEN"
  | "INSUFFICIENT_STOCK"
  | "PRODUCT_IN_USE"
  | "INVALID_STATUS_TRANSITION"
  | "INTERNAL_SERVER_ERROR";

/** A failure the client caused or can act on; its code and details go out in `extensions`. */
export class ShopError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details } });
  }
}

/** Bad input: names the offending input field (a path such as `items.1.quantity`). */
export function badInput(field: string, message: string): ShopError {
  return new ShopError("BAD_USER_INPUT", message, { field });
}

/** A referenced row that does not exist, named by the global ID a client would have sent. */
export function notFound(type: string, id: number, field?: string): ShopError {
  const globalId = encodeGlobalID(type, id);
  return new ShopError("NOT_FOUND", `${type} ${globalId} does not exist.`, { type, id: globalId, ...(field ? { field } : {}) });
}

/** True when a Prisma error carries the given code (e.g. P2002 unique violation). */
export function isPrismaError(error: unknown, code: string): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === code;
}

const UNEXPECTED = "Unexpected error.";

/**
 * Yoga's `maskError`: known errors pass with their code; Pothos' own validation errors (a malformed
 * global ID or cursor, a bad page size) become BAD_USER_INPUT; anything else is masked and logged.
 */
export function maskError(error: unknown): Error {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof ShopError) return withPath(original, error);
  if (original instanceof PothosValidationError) {
    return new GraphQLError(original.message, {
      ...pathOf(error),
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  if (original instanceof Prisma.PrismaClientKnownRequestError && original.code === "P2025") {
    return new GraphQLError("The record does not exist.", { ...pathOf(error), extensions: { code: "NOT_FOUND" } });
  }
  if (error instanceof GraphQLError && !error.originalError) return error;
  console.error("[shop-api] unexpected error:", original);
  return new GraphQLError(UNEXPECTED, { ...pathOf(error), extensions: { code: "INTERNAL_SERVER_ERROR" } });
}

function pathOf(error: unknown) {
  return error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {};
}

function withPath(shopError: ShopError, wrapper: unknown): GraphQLError {
  if (wrapper === shopError || !(wrapper instanceof GraphQLError)) return shopError;
  return new GraphQLError(shopError.message, { ...pathOf(wrapper), extensions: shopError.extensions });
}
