/**
 * OpenTelemetry: with a provider recording (here into memory; OTEL_EXPORTER_OTLP_ENDPOINT in
 * production), a request is one trace: its span, the root field's, each loader batch's and each
 * statement's, carrying the same causes `extensions.sql` shows — even with SQL_EXPLAIN off.
 */
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelemetry, tracing } from "../src/sql/telemetry.js";
import { createTestShop, dataOf, type TestShop } from "./support/shop.js";

/** Replaced when the app is reopened: stopping a provider stops its exporter. */
let exporter = new InMemorySpanExporter();
let shop: TestShop;

beforeAll(async () => {
  shop = await createTestShop({
    seed: { users: 4, products: 5, ordersPerUser: 2, itemsPerOrder: 2 },
    sqlExplain: false,
    spanExporter: exporter,
  });
});
afterAll(() => shop?.close());

const QUERY = `query Shop { users(first: 3) { edges { node { orders { items { product { name } } } } } } }`;

/** The spans of the one trace a request made. */
async function traceOf(strategy: string): Promise<ReadableSpan[]> {
  exporter.reset();
  const response = await shop.gql(QUERY, {}, { strategy });
  dataOf(response);
  expect(response.extensions?.sql).toBeUndefined();
  const spans = exporter.getFinishedSpans();
  expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
  return spans;
}

const parentOf = (span: ReadableSpan, spans: ReadableSpan[]) =>
  spans.find((candidate) => candidate.spanContext().spanId === span.parentSpanContext?.spanId);

describe("OpenTelemetry", () => {
  it("records a request as one trace: request, root field, loader batches and statements, with their causes", async () => {
    expect(tracing()).toBe(true);
    const spans = await traceOf("batched");
    const request = spans.find((span) => span.kind === SpanKind.SERVER)!;
    expect(request.name).toBe("query Shop");
    expect(request.attributes).toMatchObject({
      "graphql.operation.type": "query",
      "graphql.operation.name": "Shop",
      "shop.strategy": "batched",
      "shop.sql.count": 4,
    });
    expect(request.parentSpanContext).toBeUndefined();

    const statements = spans.filter((span) => span.kind === SpanKind.CLIENT);
    expect(statements.map((span) => span.attributes["shop.cause.field"])).toEqual([
      "users",
      "users.edges.node.orders",
      "users.edges.node.orders.items",
      "users.edges.node.orders.items.product",
    ]);
    expect(statements.map((span) => span.name)).toEqual(["SELECT User", "SELECT Order", "SELECT OrderItem", "SELECT Product"]);
    for (const span of statements) {
      expect(span.attributes["db.query.text"]).toMatch(/^SELECT /);
      expect(span.attributes["db.response.returned_rows"]).toBeGreaterThan(0);
    }

    // The root field's statement under the field's span, under the request.
    const root = parentOf(statements[0]!, spans)!;
    expect(root.attributes).toMatchObject({ "graphql.field.path": "users" });
    expect(parentOf(root, spans)).toBe(request);

    // Each loader's statement under its batch's span, which names the loader and its keys.
    const batches = statements.slice(1).map((span) => parentOf(span, spans)!);
    expect(batches.map((span) => [span.name, span.attributes["shop.cause.keys"]])).toEqual([
      ["dataloader ordersOfUser", 3],
      ["dataloader itemsOfOrder", 6],
      ["dataloader product", expect.any(Number)],
    ]);
  });

  it("is started once per process, and records again for the next app once the first has stopped", async () => {
    await expect(startTelemetry("another", new InMemorySpanExporter())).rejects.toThrow(/already started/);
    await shop.close();
    expect(tracing()).toBe(false);
    const next = new InMemorySpanExporter();
    shop = await createTestShop({
      seed: { users: 2, products: 2, ordersPerUser: 1, itemsPerOrder: 1 },
      sqlExplain: false,
      spanExporter: next,
    });
    dataOf(await shop.gql(QUERY, {}, { strategy: "eager" }));
    expect(next.getFinishedSpans().map((span) => span.name)).toContain("query Shop");
    await shop.close();
    exporter = new InMemorySpanExporter();
    shop = await createTestShop({
      seed: { users: 4, products: 5, ordersPerUser: 2, itemsPerOrder: 2 },
      sqlExplain: false,
      spanExporter: exporter,
    });
  });

  it("names each lazy statement's parent exactly, as extensions.sql does", async () => {
    const spans = await traceOf("lazy");
    const statements = spans.filter((span) => span.kind === SpanKind.CLIENT);
    expect(statements).toHaveLength(1 + 3 + 6 + 12);
    const fields = statements.map((span) => String(span.attributes["shop.cause.field"]));
    expect(fields.filter((field) => /^users\.edges\.\d\.node\.orders$/.test(field)).sort()).toEqual([
      "users.edges.0.node.orders",
      "users.edges.1.node.orders",
      "users.edges.2.node.orders",
    ]);
    expect(fields.filter((field) => /\.items\.\d\.product$/.test(field))).toHaveLength(12);
  });
});
