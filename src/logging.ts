/**
 * Logs an operator can use (pino): one line per request with its id (taken from `x-request-id`
 * when the client sends one, and returned in it), the operations it ran, their strategy and
 * statement count, the status and the duration; JSON in production, readable lines in development.
 * Expected client errors are part of that line, never logged as errors; a fault of the database is
 * a warning; only a real bug is an error, with its stack and the request id.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type GraphQLError, getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.js";

export type { Logger };

/** The process's logger. */
export function createLogger(config: Pick<Config, "logFormat" | "logLevel">): Logger {
  const options = { level: config.logLevel, base: { service: "shop-api" } };
  return config.logFormat === "pretty"
    ? pino(
        options,
        pretty({
          sync: true,
          singleLine: true,
          colorize: process.stdout.isTTY,
          ignore: "pid,hostname,service",
          translateTime: "SYS:HH:MM:ss.l",
        }),
      )
    : pino(options, pino.destination({ sync: true }));
}

/**
 * Yoga's own logging (its warnings, its debug lines), through the same logger. Yoga also logs, as
 * an error, every error the mask rewrote; the mask (src/errors.ts) has already reported those it
 * should (a bug as an error, a fault as a warning) and the rest are the client's mistakes, so
 * yoga's copy of an error object is a debug line.
 */
export function yogaLogger(logger: Logger) {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (...args: unknown[]) => {
      const reported = level === "error" && args.length === 1 && args[0] instanceof Error;
      logger[reported ? "debug" : level](
        args.length === 1 ? args[0] : { details: args },
        typeof args[0] === "string" ? args[0] : "yoga",
      );
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

interface RequestScope {
  requestId: string;
  logger: Logger;
  operations: { name: string | undefined; strategy: string; statements: number; objects: number }[];
  codes: Set<string>;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** A request id a client may choose: short, printable, no spaces. */
const CLIENT_ID = /^[\w.:-]{1,128}$/;

/** The id of the request being handled, if any (`undefined` outside a request). */
export function currentRequestId(): string | undefined {
  return scopes.getStore()?.requestId;
}

/**
 * Reports what the error masking decided: a fault as a warning, a bug as an error with its cause.
 * Outside a request (a WebSocket operation) it goes to `fallback`.
 */
export function reportMasked(kind: "fault" | "bug", cause: unknown, fallback: Logger | undefined): void {
  const scope = scopes.getStore();
  const logger = scope?.logger ?? fallback;
  const fields = { requestId: scope?.requestId, err: cause };
  if (kind === "bug") logger?.error(fields, "unexpected error");
  else logger?.warn(fields, "database fault");
  if (!logger) console.error(kind === "bug" ? "[shop-api] unexpected error:" : "[shop-api] database fault:", cause);
}

function newScope(logger: Logger, given: string | null): RequestScope {
  return { requestId: given && CLIENT_ID.test(given) ? given : randomUUID(), logger, operations: [], codes: new Set() };
}

function noteCodes(scope: RequestScope | undefined, result: unknown): void {
  for (const single of Array.isArray(result) ? result : [result]) {
    for (const error of (single as { errors?: readonly GraphQLError[] } | undefined)?.errors ?? []) {
      scope?.codes.add(String(error.extensions?.code ?? "NO_CODE"));
    }
  }
}

/**
 * Runs one WebSocket operation in a request scope of its own, as an HTTP request gets (an id from
 * the connection's `x-request-id` or a new one, its operations, its error codes), and writes its
 * line once it has answered (a subscription: once its stream has started).
 */
export async function withOperationLog<R>(logger: Logger, given: string | null, run: () => Promise<R>): Promise<R> {
  const scope = newScope(logger, given);
  const started = performance.now();
  let result: R | undefined;
  try {
    result = await scopes.run(scope, run);
    noteCodes(scope, result);
    return result;
  } finally {
    logger.info(
      {
        requestId: scope.requestId,
        transport: "websocket",
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        operations: scope.operations.length ? scope.operations : undefined,
        errors: scope.codes.size ? [...scope.codes] : undefined,
      },
      "request",
    );
  }
}

/** What a request's line reads of its context (src/graphql/context.ts). */
interface Logged {
  strategy: string;
  sql: { statements: readonly unknown[] };
  budget: { objects: number };
}

/** The plugin that gives each request its id and writes its line. */
export function useRequestLog(logger: Logger): Plugin {
  const startedAt = new WeakMap<Request, number>();
  return {
    instrumentation: {
      request: ({ request }, wrapped) => {
        startedAt.set(request, performance.now());
        return scopes.run(newScope(logger, request.headers.get("x-request-id")), wrapped);
      },
    },
    onExecute: ({ args }) => ({
      onExecuteDone: () => {
        const scope = scopes.getStore();
        const context = args.contextValue as unknown as Logged;
        scope?.operations.push({
          name: getOperationAST(args.document, args.operationName)?.name?.value,
          strategy: context.strategy,
          statements: context.sql.statements.length,
          objects: context.budget.objects,
        });
      },
    }),
    onResultProcess: ({ result }) => noteCodes(scopes.getStore(), result),
    onResponse: ({ request, response }) => {
      const scope = scopes.getStore();
      if (!scope) return;
      response.headers.set("x-request-id", scope.requestId);
      const url = new URL(request.url);
      const started = startedAt.get(request);
      logger.info(
        {
          requestId: scope.requestId,
          method: request.method,
          path: url.pathname,
          status: response.status,
          durationMs: started === undefined ? undefined : Math.round((performance.now() - started) * 10) / 10,
          operations: scope.operations.length ? scope.operations : undefined,
          errors: scope.codes.size ? [...scope.codes] : undefined,
        },
        "request",
      );
    },
  };
}
