/**
 * Expected failures and how every error reaches a client. Domain code throws `ShopError`s with a
 * stable code; `maskError` (installed in yoga.ts) turns everything else into either a known code or
 * "Unexpected error." with the cause logged, never a stack trace.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { GraphQLError } from "graphql";
import { faultOf } from "./db/faults.js";
import { Prisma } from "./generated/prisma/client.js";
import { type Logger, reportMasked } from "./logging.js";

/** The `extensions.code` values clients can rely on. */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "EMAIL_TAKEN"
  | "INSUFFICIENT_STOCK"
  | "PRODUCT_IN_USE"
  | "INVALID_STATUS_TRANSITION"
  | "CONFLICT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "LIMIT_EXCEEDED"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE"
  | "CANCELLED"
  | "TIMEOUT"
  | "INTERNAL_SERVER_ERROR";

/**
 * Marks errors meant for the client. A registered symbol rather than `instanceof`, because a test
 * runner or a bundler can load a module twice, and then classes stop being comparable.
 */
const EXPECTED = Symbol.for("shop-api.expected-error");

/** A failure the client caused or can act on; its code and details go out in `extensions`. */
export class ShopError extends GraphQLError {
  readonly [EXPECTED] = true;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details } });
  }
}

function isExpected(error: unknown): error is GraphQLError {
  return typeof error === "object" && error !== null && (error as { [EXPECTED]?: boolean })[EXPECTED] === true;
}

/** Bad input: names the offending input field (a path such as `items.1.quantity`). */
export function badInput(field: string, message: string): ShopError {
  return new ShopError("BAD_USER_INPUT", message, { field });
}

/** One problem with an input, as the validation plugin reports it (a Standard Schema issue). */
interface InputIssue {
  message: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
}

/**
 * The input path of an issue: `items.1.quantity`. Mutations take one `input` argument, and their
 * fields are named relative to it, as the client wrote them.
 */
function issuePath(issue: InputIssue): string {
  const keys = (issue.path ?? []).map((key) => String(typeof key === "object" ? key.key : key));
  return (keys[0] === "input" && keys.length > 1 ? keys.slice(1) : keys).join(".");
}

/** Bad input in several places at once: every field is named in `fields`, the first also in `field`. */
export function invalidInput(issues: readonly InputIssue[]): ShopError {
  const fields = issues.map((issue) => ({ field: issuePath(issue), message: `${issuePath(issue)} ${issue.message}.` }));
  return new ShopError("BAD_USER_INPUT", fields.map((f) => f.message).join(" "), { field: fields[0]?.field, fields });
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
 * global ID or cursor, a bad page size) become BAD_USER_INPUT; a fault of the database becomes
 * SERVICE_UNAVAILABLE or TIMEOUT (a warning in the log); anything else is a bug, masked as
 * INTERNAL_SERVER_ERROR and logged as an error with the request id.
 */
export function maskError(error: unknown, logger?: Logger): Error {
  const original = (error as { originalError?: unknown }).originalError ?? error;
  if (isExpected(original)) return withPath(original, error);
  // By name, for the same reason as EXPECTED: Pothos ships CommonJS and ESM builds.
  if (original instanceof Error && original.name === "PothosValidationError") {
    return new GraphQLError(original.message, {
      ...pathOf(error),
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  // A request error: refused before anything ran (the executor marks such errors HTTP 400, and they
  // have no path), such as variables that do not fit their types: graphql-js' message, and
  // BAD_USER_INPUT unless the error already says what it is (a limit, a persisted query).
  if (isGraphQLErrorLike(error) && isRequestError(error as GraphQLError)) {
    const { nodes, extensions } = error as GraphQLError;
    return new GraphQLError((error as GraphQLError).message, {
      nodes,
      extensions: { ...extensions, code: extensions.code ?? "BAD_USER_INPUT" },
    });
  }
  if (isPrismaError(original, "P2025")) {
    return new GraphQLError("The record does not exist.", { ...pathOf(error), extensions: { code: "NOT_FOUND" } });
  }
  // A GraphQL error with no cause (a validation or parse error) is already meant for the client.
  if (original === error && isGraphQLErrorLike(error)) return error as GraphQLError;
  const fault = faultOf(original);
  if (fault) {
    reportMasked("fault", original, logger);
    return new GraphQLError(
      fault.code === "TIMEOUT"
        ? "The database took too long to answer; try again."
        : "The database is unavailable; try again shortly.",
      { ...pathOf(error), extensions: { code: fault.code, retryable: true } },
    );
  }
  reportMasked("bug", original, logger);
  return new GraphQLError(UNEXPECTED, { ...pathOf(error), extensions: { code: "INTERNAL_SERVER_ERROR" } });
}

/** Duck-typed: graphql-js can be loaded as both its CommonJS and its ESM build in one process. */
function isGraphQLErrorLike(error: unknown): boolean {
  return error instanceof Error && error.name === "GraphQLError";
}

function isRequestError(error: GraphQLError): boolean {
  const http = error.extensions?.http as { status?: number } | undefined;
  return error.path === undefined && http?.status === 400;
}

function pathOf(error: unknown) {
  if (!isGraphQLErrorLike(error)) return {};
  const { nodes, path } = error as GraphQLError;
  return { nodes, path };
}

function withPath(shopError: GraphQLError, wrapper: unknown): GraphQLError {
  if (wrapper === shopError || !isGraphQLErrorLike(wrapper)) return shopError;
  return new GraphQLError(shopError.message, { ...pathOf(wrapper), extensions: shopError.extensions });
}
