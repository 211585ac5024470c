/** Each response reports the SQL its own request ran, even when requests overlap. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gid } from "./support/ids.js";
import { createTestShop, dataOf, type TestShop } from "./support/shop.js";

let shop: TestShop;
let quiet: TestShop;

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 12, products: 8, ordersPerUser: 2, itemsPerOrder: 2 } });
  quiet = await createTestShop({ seed: false, sqlExplain: false });
});
afterAll(async () => {
  await shop?.close();
  await quiet?.close();
});

describe("extensions.sql", () => {
  it("lists every statement with its SQL, duration and rows", async () => {
    const started = performance.now();
    const res = await shop.gql(`{ users(first: 3) { edges { node { orders { id } } } } }`, {}, { strategy: "batched" });
    const elapsed = performance.now() - started;
    dataOf(res);
    const sql = res.extensions!.sql!;
    expect(sql.strategy).toBe("batched");
    expect(sql.count).toBe(2);
    expect(sql.statements).toHaveLength(2);
    expect(sql.statements[0]!.sql).toMatch(/FROM "public"\."User"/);
    expect(sql.statements[0]!.rows).toBe(4); // first + 1: how Pothos learns hasNextPage
    // The orders of all three users in one statement: their ids, each with its page of orders.
    expect(sql.statements[1]!.sql).toMatch(/"public"\."Order"/);
    expect(sql.statements[1]!.sql).toMatch(/IN \(\$\d+,\$\d+,\$\d+\)/);
    expect(sql.statements[1]!.rows).toBe(3);
    // Each statement took some time, and one level runs after the other, so together they fit in
    // the time the whole request took as the client saw it.
    for (const statement of sql.statements) expect(statement.durationMs).toBeGreaterThan(0);
    expect(sql.statements.reduce((ms, s) => ms + s.durationMs, 0)).toBeLessThanOrEqual(elapsed);
  });

  it("keeps concurrent requests' statements apart", async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        shop.gql(
          `query($id: ID!) { user(id: $id) { name orders { items { product { name } } } } }`,
          {
            id: gid("User", i + 1),
          },
          { strategy: "lazy" },
        ),
      ),
    );
    for (const [i, res] of responses.entries()) {
      dataOf(res);
      const expectedOrders = await shop.prisma.order.count({ where: { userId: i + 1 } });
      const expectedItems = await shop.prisma.orderItem.count({ where: { order: { userId: i + 1 } } });
      // user + one orders query + one items query per order + one product query per item
      expect(res.extensions!.sql!.count).toBe(1 + 1 + expectedOrders + expectedItems);
    }
  });

  it("defaults to eager and refuses an unknown strategy, listing the accepted ones", async () => {
    const res = await shop.gql(`{ users(first: 1) { totalCount } }`);
    expect(res.extensions?.sql?.strategy).toBe("eager");
    const bad = await shop.gql(`{ users(first: 1) { totalCount } }`, {}, { strategy: "sometimes" });
    expect(bad.data).toBeUndefined();
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", accepted: ["eager", "batched", "lazy"] });
    expect(bad.errors?.[0]?.message).toContain("eager, batched, lazy");
  });

  it("is absent when the server runs without SQL explain", async () => {
    const res = await quiet.gql(`{ users(first: 1) { totalCount } }`);
    expect(dataOf(res).users.totalCount).toBe(0);
    expect(res.extensions?.sql).toBeUndefined();
  });
});
