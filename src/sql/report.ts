/**
 * What a response says about its SQL (`extensions.sql`): every statement with its cause and
 * timings, the request's total time, and the N+1 detector's warnings.
 */

import type { Strategy } from "../loading/strategy.js";
import type { RecordedStatement, SqlRecorder } from "./recorder.js";

/** One field that sent the same statement once per parent: the N+1 problem. */
export interface NPlusOneWarning {
  /** The field's response path, without list indexes (`users.edges.node.orders`). */
  field: string;
  /** How many times it sent that statement in this request. */
  count: number;
  /** The statement, as sent (its values are parameters, so every repetition reads the same). */
  sql: string;
  message: string;
}

export interface SqlReport {
  strategy: Strategy;
  /** What ran: a query, a mutation, or one event of a subscription. */
  operation: "query" | "mutation" | "subscription";
  count: number;
  /** Milliseconds from the start of the request to this report. */
  totalMs: number;
  statements: RecordedStatement[];
  /** Present when the N+1 detector found something. */
  warnings?: NPlusOneWarning[];
}

/** A response path without its list indexes: the field, whichever parent it ran for. */
const fieldOf = (path: string) =>
  path
    .split(".")
    .filter((key) => !/^\d+$/.test(key))
    .join(".");

/**
 * The N+1 detector: within one request, a field that sends the same statement text more than
 * `threshold` times is loading once per parent. Batched and eager requests send one statement per
 * level of relations, so they do not reach it; lazy requests do, on every relation below the root.
 * (Relay's `nodes(ids:)` looks ids up one by one through Pothos in every strategy: more than
 * `threshold` ids of one type are reported too.)
 */
export function detectNPlusOne(statements: readonly RecordedStatement[], threshold: number): NPlusOneWarning[] {
  const repeats = new Map<string, { field: string; sql: string; count: number }>();
  for (const { sql, cause } of statements) {
    if (!cause) continue;
    const field = fieldOf(cause.field);
    const key = `${field}\n${sql}`;
    const seen = repeats.get(key) ?? { field, sql, count: 0 };
    seen.count++;
    repeats.set(key, seen);
  }
  return [...repeats.values()]
    .filter(({ count }) => count > threshold)
    .map(({ field, sql, count }) => ({
      field,
      count,
      sql,
      message: `${field} sent the same statement ${count} times in one request, once per parent or id: load it through a DataLoader (x-loading-strategy: batched) or in the parent's query (eager).`,
    }));
}

/** The SQL report of one request (or one subscription event). */
export function sqlReport(
  recorder: SqlRecorder,
  strategy: Strategy,
  threshold: number,
  operation: SqlReport["operation"],
): SqlReport {
  // In the order they were asked for (the recorder has them in the order they finished).
  const statements = [...recorder.statements].sort((a, b) => a.atMs - b.atMs);
  const warnings = detectNPlusOne(statements, threshold);
  return {
    strategy,
    operation,
    count: statements.length,
    totalMs: recorder.elapsedMs(),
    statements,
    ...(warnings.length ? { warnings } : {}),
  };
}
