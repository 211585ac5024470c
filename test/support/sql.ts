/**
 * The N+1 detector as a test helper: a query that should load each level once fails its test when
 * a field starts sending one statement per parent. Copy it into a schema built on this one.
 *
 *   expectNoNPlusOne(await shop.gql(query, {}, { strategy: "batched" }));
 */
import { expect } from "vitest";
import type { GraphQLResponse } from "./shop.js";

/** The fields the N+1 detector flagged in a response, sorted. The response must carry its SQL. */
export function nPlusOneFields(response: GraphQLResponse): string[] {
  const sql = response.extensions?.sql;
  if (!sql) throw new Error("The response carries no extensions.sql: the N+1 detector cannot tell (is SQL_EXPLAIN off?).");
  return (sql.warnings ?? []).map((warning) => warning.field).sort();
}

/** Fails with the detector's own messages when any field of the response loaded once per parent. */
export function expectNoNPlusOne(response: GraphQLResponse): void {
  nPlusOneFields(response);
  expect(response.extensions?.sql?.warnings?.map((warning) => warning.message) ?? []).toEqual([]);
}
