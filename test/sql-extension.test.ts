/** Each response reports the SQL its own request ran, even when requests overlap. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gid } from "./support/ids.js";
import { capturedLog } from "./support/log.js";
import { createTestShop, dataOf, type TestShop, testDatabaseKind } from "./support/shop.js";
import { expectNoNPlusOne, nPlusOneFields } from "./support/sql.js";

let shop: TestShop;
let quiet: TestShop;
/** The shop's log, one parsed line each. */
const log = capturedLog("warn");
const lines = log.lines;

beforeAll(async () => {
  shop = await createTestShop({
    seed: { users: 12, products: 8, ordersPerUser: 2, itemsPerOrder: 2 },
    logger: log.logger,
  });
  quiet = await createTestShop({ seed: false, sqlExplain: false });
});
afterAll(async () => {
  await shop?.close();
  await quiet?.close();
});

describe("extensions.sql", () => {
  it("reads the row past a page only when hasNextPage (hasPreviousPage backwards) is asked", async () => {
    const usersRead = async (connection: string, pageInfo: string) => {
      const res = await shop.gql(`{ users(${connection}) { edges { node { id } } ${pageInfo} } }`, {}, { strategy: "eager" });
      const data = dataOf(res);
      const { statements } = res.extensions!.sql!;
      expect(statements).toHaveLength(1);
      return { rows: statements[0]!.rows, pageInfo: data.users.pageInfo, edges: data.users.edges.length };
    };
    expect(await usersRead("first: 2", "")).toEqual({ rows: 2, pageInfo: undefined, edges: 2 });
    expect(await usersRead("first: 2", "pageInfo { endCursor }")).toMatchObject({ rows: 2, edges: 2 });
    expect(await usersRead("first: 2", "pageInfo { hasNextPage }")).toEqual({
      rows: 3,
      pageInfo: { hasNextPage: true },
      edges: 2,
    });
    // Through a fragment and an alias, as a client's generated documents write it.
    expect(
      await usersRead("first: 2", "...on QueryUsersConnection { info: pageInfo { ...on PageInfo { more: hasNextPage } } }"),
    ).toMatchObject({ rows: 3, edges: 2 });
    expect(await usersRead("last: 2", "pageInfo { hasNextPage }")).toEqual({
      rows: 2,
      pageInfo: { hasNextPage: false },
      edges: 2,
    });
    expect(await usersRead("last: 2", "pageInfo { hasPreviousPage }")).toEqual({
      rows: 3,
      pageInfo: { hasPreviousPage: true },
      edges: 2,
    });
  });

  it("lists every statement with its SQL, duration and rows", async () => {
    const started = performance.now();
    const res = await shop.gql(`{ users(first: 3) { edges { node { orders { id } } } } }`, {}, { strategy: "batched" });
    const elapsed = performance.now() - started;
    dataOf(res);
    const sql = res.extensions!.sql!;
    expect(sql.strategy).toBe("batched");
    expect(sql.operation).toBe("query");
    expect(sql.count).toBe(2);
    expect(sql.statements).toHaveLength(2);
    expect(sql.statements[0]!.sql).toMatch(/FROM "public"\."User"/);
    // The page, and no row past it: nothing asks whether another page follows.
    expect(sql.statements[0]!.rows).toBe(3);
    // The orders of all three users in one flat statement: their ids as one array, each user's page
    // cut by the database.
    expect(sql.statements[1]!.sql).toMatch(/FROM "Order" WHERE "userId" = ANY\(\$1\)/);
    expect(sql.statements[1]!.sql).toMatch(/"rank" <= \$2/);
    expect(sql.statements[1]!.rows).toBe(await shop.prisma.order.count({ where: { userId: { in: [1, 2, 3] } } }));
    // Each statement took some time, and one level runs after the other, so together they fit in
    // the time the whole request took, as the server and as the client saw it.
    for (const statement of sql.statements) expect(statement.durationMs).toBeGreaterThan(0);
    expect(sql.statements.reduce((ms, s) => ms + s.durationMs, 0)).toBeLessThanOrEqual(sql.totalMs);
    expect(sql.totalMs).toBeLessThanOrEqual(elapsed);
    // Development shows the values: the three users' ids, then the page size.
    expect(sql.statements[1]!.params).toEqual([[1, 2, 3], 20]);
  });

  it("traces every statement to its cause: the root field, or the loader with its keys and fields", async () => {
    const query = `{ users(first: 3) { totalCount edges { node { orders { items { product { name } } } } } } }`;
    const eager = (await shop.gql(query, {}, { strategy: "eager" })).extensions!.sql!;
    expect(eager.statements.map((s) => s.cause)).toEqual([{ field: "users" }, { field: "users.totalCount" }]);

    const batched = (await shop.gql(query, {}, { strategy: "batched" })).extensions!.sql!;
    const items = await shop.prisma.orderItem.findMany({ where: { order: { userId: { in: [1, 2, 3] } } } });
    const products = new Set(items.map((item) => item.productId));
    expect(batched.statements.map((s) => s.cause)).toEqual([
      { field: "users" },
      { field: "users.totalCount" },
      { field: "users.edges.node.orders", loader: "ordersOfUser", keys: 3, fields: { "users.edges.node.orders": 3 } },
      { field: "users.edges.node.orders.items", loader: "itemsOfOrder", keys: 6, fields: { "users.edges.node.orders.items": 6 } },
      // One key per product; every line asked, so the field asked for as many keys as there are lines.
      {
        field: "users.edges.node.orders.items.product",
        loader: "product",
        keys: products.size,
        fields: { "users.edges.node.orders.items.product": items.length },
      },
    ]);

    // Lazy: one statement per parent, each naming the exact parent by its list indexes.
    const lazy = (await shop.gql(query, {}, { strategy: "lazy" })).extensions!.sql!;
    const fields = lazy.statements.map((s) => s.cause?.field);
    const expected = ["users", "users.totalCount"];
    for (let u = 0; u < 3; u++) {
      expected.push(`users.edges.${u}.node.orders`);
      for (let o = 0; o < 2; o++) {
        expected.push(`users.edges.${u}.node.orders.${o}.items`);
        for (let i = 0; i < 2; i++) expected.push(`users.edges.${u}.node.orders.${o}.items.${i}.product`);
      }
    }
    expect(fields.sort()).toEqual(expected.sort());
    for (const statement of lazy.statements.filter((s) => s.cause?.loader)) expect(statement.cause?.keys).toBe(1);
  });

  it("times each statement from the request's start: asked at, waited, ran, within the request's total", async () => {
    const res = await shop.gql(
      `{ users(first: 6) { edges { node { orders { items { product { name } } } } } } }`,
      {},
      { strategy: "lazy" },
    );
    const sql = res.extensions!.sql!;
    for (const statement of sql.statements) {
      expect(statement.atMs + statement.waitMs + statement.durationMs).toBeLessThanOrEqual(sql.totalMs + 0.01);
    }
    // PGlite runs one statement at a time: lazy sends up to four at once, so the others wait, and
    // that wait is counted as waiting, not running: the run times add up to no more than the request.
    if (testDatabaseKind === "pglite") {
      expect(sql.statements.filter((s) => s.waitMs >= 0.5).length).toBeGreaterThan(0);
      expect(sql.statements.reduce((ms, s) => ms + s.durationMs, 0)).toBeLessThanOrEqual(sql.totalMs);
    }
  });

  it("warns of N+1 in lazy requests only: the field, how many times, and what to do", async () => {
    const query = `{ users(first: 4) { edges { node { name orderCount } } } }`;
    const earlier = lines.length;
    const warned = () => lines.slice(earlier).filter((line) => String(line.msg).startsWith("N+1:"));
    for (const strategy of ["eager", "batched"]) expectNoNPlusOne(await shop.gql(query, {}, { strategy }));
    expect(warned()).toEqual([]);
    const lazy = await shop.gql(query, {}, { strategy: "lazy" });
    // And one line in the development log.
    expect(warned()).toEqual([expect.objectContaining({ msg: "N+1: users.edges.node.orderCount ×4", strategy: "lazy" })]);
    expect(lazy.extensions?.sql?.warnings).toEqual([
      {
        field: "users.edges.node.orderCount",
        count: 4,
        sql: expect.stringContaining('FROM "Order"'),
        message: expect.stringContaining(
          "users.edges.node.orderCount sent the same statement 4 times in one request, once per parent",
        ),
      },
    ]);
    // At the threshold (2 by default) it stays quiet: two parents are not yet a pattern.
    const two = await shop.gql(`{ users(first: 2) { edges { node { name orderCount } } } }`, {}, { strategy: "lazy" });
    expect(nPlusOneFields(two)).toEqual([]);
    // N_PLUS_ONE_THRESHOLD moves it: at 4, four parents are still quiet, five are not.
    const lenient = await createTestShop({
      seed: { users: 5, products: 2, ordersPerUser: 1, itemsPerOrder: 1 },
      env: { N_PLUS_ONE_THRESHOLD: "4" },
    });
    try {
      const fields = async (n: number) =>
        nPlusOneFields(await lenient.gql(`{ users(first: ${n}) { edges { node { orderCount } } } }`, {}, { strategy: "lazy" }));
      expect(await fields(4)).toEqual([]);
      expect(await fields(5)).toEqual(["users.edges.node.orderCount"]);
    } finally {
      await lenient.close();
    }
  });

  it("names the operation it reports on: a mutation's SQL says so (GraphiQL's panel never runs one again)", async () => {
    const res = await shop.gql(`mutation { restockProduct(id: "${gid("Product", 1)}", quantity: 1) { stock } }`);
    dataOf(res);
    const sql = res.extensions!.sql!;
    expect(sql.operation).toBe("mutation");
    // Its statements (a lock, the update, the answer's read) are all the mutation field's.
    expect(sql.count).toBeGreaterThan(1);
    expect(new Set(sql.statements.map((statement) => statement.cause?.field))).toEqual(new Set(["restockProduct"]));
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
