/**
 * @defer and @stream: incremental delivery works, the assembled result equals the plain one, and
 * deferred parts keep using the request's loaders and its SQL record (no N+1 comes back).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestShop, dataOf, STRATEGIES, type TestShop } from "./support/shop.js";

let shop: TestShop;

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 20, products: 10, ordersPerUser: 3, itemsPerOrder: 2 } });
});
afterAll(() => shop?.close());

interface Payload {
  data?: Record<string, unknown>;
  incremental?: { data?: Record<string, unknown>; items?: unknown[]; path: (string | number)[] }[];
  hasNext?: boolean;
  extensions?: { sql?: { count: number } };
}

/** Sends a query with incremental delivery over SSE and returns every payload. */
async function incremental(query: string, strategy: string): Promise<Payload[]> {
  const response = await shop.app.yoga.fetch("http://shop.test/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      "x-loading-strategy": strategy,
      authorization: `Bearer ${await shop.token("admin")}`,
    },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line.length > 6)
    .map((line) => JSON.parse(line.slice(6)) as Payload);
}

/** Applies incremental payloads onto the initial data, as a client does. */
function assemble(payloads: Payload[]): Record<string, unknown> {
  const data = structuredClone(payloads[0]!.data!);
  for (const payload of payloads.slice(1)) {
    for (const part of payload.incremental ?? []) {
      // A streamed item's path ends with its index in the list; a deferred fragment's names its object.
      const path = part.items ? part.path.slice(0, -1) : part.path;
      let target: any = data;
      for (const key of path) target = target[key];
      if (part.items) target.splice(part.path.at(-1) as number, part.items.length, ...part.items);
      else Object.assign(target, part.data);
    }
  }
  return data;
}

const PLAIN = `{ users(first: 10) { edges { node { name orderCount orders { id items { quantity product { name } } } } } } }`;
const DEFERRED = `{ users(first: 10) { edges { node { name ... @defer { orderCount orders { id items { quantity product { name } } } } } } } }`;
const STREAMED = `{ users(first: 10) { edges { node { name orderCount orders @stream(initialCount: 1) { id items { quantity product { name } } } } } } }`;

describe("@defer and @stream", () => {
  it.each(STRATEGIES)("assemble to the same data as the plain query (%s)", async (strategy) => {
    const plain = dataOf(await shop.gql(PLAIN, {}, { strategy }));
    for (const query of [DEFERRED, STREAMED]) {
      const payloads = await incremental(query, strategy);
      expect(payloads.length).toBeGreaterThan(1);
      expect(payloads.at(-1)!.hasNext).toBe(false);
      expect(assemble(payloads)).toEqual(plain);
    }
  });

  it("deferred parts go through the request's loaders: batched costs the same with or without @defer", async () => {
    const plain = await shop.gql(PLAIN, {}, { strategy: "batched" });
    const payloads = await incremental(DEFERRED, "batched");
    const last = payloads.at(-1)!.extensions!.sql!.count;
    expect(last).toBe(plain.extensions!.sql!.count);
    expect(last).toBeLessThanOrEqual(5);
    // The first payload was sent before the deferred part had run.
    expect(payloads[0]!.extensions!.sql!.count).toBeLessThan(last);
  });
});
