/**
 * `extensions.sql`: what a request (or a subscription's event) cost in SQL, added to its result
 * when the viewer may see it (src/sql/report.ts builds it from the request's recorder).
 */
import { type DocumentNode, type ExecutionResult, getOperationAST } from "graphql";
import { handleStreamOrSingleExecutionResult, type Plugin } from "graphql-yoga";
import type { Config } from "../config.js";
import type { Logger } from "../logging.js";
import { withSqlRecorder } from "../sql/recorder.js";
import { sqlReport } from "../sql/report.js";
import type { Context } from "./context.js";

/**
 * Runs each operation inside its request's SQL recorder, and, when the viewer may see it, adds what
 * was recorded to the result. With @defer/@stream every payload carries the record so far, so the
 * last one has the whole cost, deferred parts included.
 */
export function useSqlRecorder(config: Config, logger: Logger): Plugin<Context> {
  /** Puts the SQL report into a result: the request's, or the current subscription event's. */
  const report = ({
    contextValue,
    document,
    operationName,
  }: {
    contextValue: unknown;
    document: DocumentNode;
    operationName?: string | null;
  }) => {
    const ctx = contextValue as Context;
    const operation = getOperationAST(document, operationName)?.operation ?? "query";
    return ({ result, setResult }: { result: ExecutionResult; setResult: (result: ExecutionResult) => void }) => {
      const sql = sqlReport(ctx.event?.sql ?? ctx.sql, ctx.strategy, config.nPlusOneThreshold, operation);
      // One line per request in development, where someone is watching the log.
      if (sql.warnings && !config.production) {
        logger.warn(
          { strategy: ctx.strategy, nPlusOne: sql.warnings.map(({ field, count }) => ({ field, count })) },
          `N+1: ${sql.warnings.map(({ field, count }) => `${field} ×${count}`).join(", ")}`,
        );
      }
      setResult({ ...result, extensions: { ...result.extensions, sql } });
    };
  };
  const shown = (contextValue: unknown) => (contextValue as Context).sql.explain !== "off";
  return {
    instrumentation: {
      execute: ({ context }, wrapped) => withSqlRecorder(context.sql, wrapped),
      subscribe: ({ context }, wrapped) => withSqlRecorder(context.sql, wrapped),
    },
    onExecute: ({ args }) =>
      shown(args.contextValue)
        ? { onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, report(payload.args)) }
        : undefined,
    // Each event of a subscription carries the SQL that event ran for its audience (see src/graphql/events.ts).
    onSubscribe: ({ args }) =>
      shown(args.contextValue)
        ? { onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, report(payload.args)) }
        : undefined,
  };
}
