/**
 * OTEL_EXPORTER_OTLP_ENDPOINT, end to end: a server started with it sends its traces to that
 * collector over OTLP/HTTP (a local one here, which keeps what it receives), flushed when it closes.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createTestShop, dataOf } from "./support/shop.js";

let collector: Server;
let endpoint: string;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  collector = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      received.push({ path: request.url ?? "", body });
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

describe("OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("sends the server's traces to the collector it names, with the statements' causes", async () => {
    const shop = await createTestShop({
      seed: { users: 2, products: 2, ordersPerUser: 1, itemsPerOrder: 1 },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
    });
    try {
      dataOf(await shop.gql(`query Sent { users(first: 2) { edges { node { orders { id } } } } }`, {}, { strategy: "batched" }));
    } finally {
      await shop.close(); // flushes the batch of spans
    }
    expect(received.map((r) => r.path)).toContain("/v1/traces");
    const spans = received.map((r) => r.body).join("\n");
    expect(spans).toContain('"query Sent"');
    expect(spans).toContain('"dataloader ordersOfUser"');
    expect(spans).toContain('"shop.cause.field"');
    expect(spans).toContain('"users.edges.node.orders"');
  });

  it("is read from the signal's own setting first, and must be an http(s) URL", () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracesUrl).toBe(
      "http://collector:4318/v1/traces",
    );
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b/traces" })
        .tracesUrl,
    ).toBe("https://b/traces");
    expect(loadConfig({}).tracesUrl).toBeUndefined();
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/must be an http\(s\) URL/);
  });
});
