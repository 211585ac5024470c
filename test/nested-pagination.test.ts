/**
 * Lists inside lists: `first`, `after` and `orderBy` on User.orders, Order.items and
 * Product.orderItems, with the per-parent limit applied by the database in every strategy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbIdOf, gid } from "./support/ids.js";
import { createTestShop, dataOf, STRATEGIES, type TestShop } from "./support/shop.js";

/** A loader's page of many parents in one statement: each parent's rows numbered, the first N kept. */
const PER_PARENT_PAGE = (table: string, parent: string) =>
  new RegExp(
    `row_number\\(\\) OVER \\(PARTITION BY "${parent}"[\\s\\S]*FROM "${table}" WHERE "${parent}" = ANY\\(\\$1\\)[\\s\\S]*"rank" <= \\$\\d`,
  );

let shop: TestShop;

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 60, products: 20, ordersPerUser: 5, itemsPerOrder: 3 } });
});
afterAll(() => shop?.close());

const LATEST_THREE = `{ users(first: 50) { edges { node { id orders(first: 3, orderBy: { createdAt: DESC }) { id createdAt } } } } }`;

describe("User.orders(first: 3, orderBy: { createdAt: DESC }) under users(first: 50)", () => {
  it("returns each user's three latest orders, the same in every strategy", async () => {
    const expected = await shop.prisma.user.findMany({
      take: 50,
      orderBy: { id: "asc" },
      select: {
        id: true,
        orders: { take: 3, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true, createdAt: true } },
      },
    });
    for (const strategy of STRATEGIES) {
      const data = dataOf(await shop.gql(LATEST_THREE, {}, { strategy }));
      expect(
        data.users.edges.map((e: any) => ({
          id: dbIdOf(e.node.id),
          orders: e.node.orders.map((o: any) => ({ id: dbIdOf(o.id), createdAt: new Date(o.createdAt) })),
        })),
      ).toEqual(expected);
    }
  });

  it("reads at most 50 x 3 orders: the database applies each user's limit", async () => {
    expect(await shop.prisma.order.count({ where: { userId: { lte: 50 } } })).toBe(250);
    for (const strategy of ["batched", "eager"] as const) {
      const res = await shop.gql(LATEST_THREE, {}, { strategy });
      const orders = dataOf(res).users.edges.flatMap((e: any) => e.node.orders);
      expect(orders).toHaveLength(150);
      const statements = res.extensions!.sql!.statements;
      const orderStatements = statements.filter((s) => s.sql.includes('"Order"'));
      expect(orderStatements).toHaveLength(1);
      // The page is applied per user by the database, not by loading every order and slicing: eager
      // puts the LIMIT inside a LATERAL join, batched numbers each user's rows and keeps the first 3.
      expect(orderStatements[0]!.sql).toMatch(
        strategy === "eager" ? /LATERAL[\s\S]*"public"\."Order"[\s\S]*LIMIT/ : PER_PARENT_PAGE("Order", "userId"),
      );
    }
  });

  it("costs one statement per level in batched and eager, one per user in lazy", async () => {
    const counts = Object.fromEntries(
      await Promise.all(
        STRATEGIES.map(async (strategy) => [strategy, (await shop.gql(LATEST_THREE, {}, { strategy })).extensions!.sql!.count]),
      ),
    );
    expect(counts).toEqual({ eager: 1, batched: 2, lazy: 51 });
  });
});

describe("cursors", () => {
  it("pages through one user's orders with after, newest first, in every strategy", async () => {
    const all = await shop.prisma.order.findMany({ where: { userId: 7 }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    for (const strategy of STRATEGIES) {
      const seen: number[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const data: any = dataOf(
          await shop.gql(
            `query($id: ID!, $after: ID) { user(id: $id) { orders(first: 2, after: $after, orderBy: { createdAt: DESC }) { id } } }`,
            { id: gid("User", 7), after },
            { strategy },
          ),
        );
        const ids = data.user.orders.map((o: { id: string }) => o.id);
        if (ids.length === 0) break;
        seen.push(...ids.map(dbIdOf));
        after = ids.at(-1);
      }
      expect(seen).toEqual(all.map((o) => o.id));
    }
  });

  it("pages order items and product order lines the same way in every strategy", async () => {
    const query = `{ orders(first: 5) { edges { node { items(first: 2, orderBy: { unitPrice: DESC }) { id unitPrice } } } }
      products(first: 5) { edges { node { orderItems(first: 3, after: "${gid("OrderItem", 10)}") { id quantity } } } } }`;
    const [eager, batched, lazy] = await Promise.all(STRATEGIES.map((strategy) => shop.gql(query, {}, { strategy })));
    const data = dataOf(eager!);
    expect(data.orders.edges.every((e: any) => e.node.items.length === 2)).toBe(true);
    expect(data.products.edges.some((e: any) => e.node.orderItems.length === 3)).toBe(true);
    for (const { node } of data.products.edges) for (const item of node.orderItems) expect(dbIdOf(item.id)).toBeGreaterThan(10);
    expect(dataOf(batched!)).toEqual(data);
    expect(dataOf(lazy!)).toEqual(data);
    // With a cursor too, the page is cut per parent by the database (a keyset condition, and LIMIT
    // inside a LATERAL join for eager, a row number per parent for batched).
    const eagerItems = eager!.extensions!.sql!.statements.filter((s) => /LATERAL[\s\S]*"public"\."OrderItem"/.test(s.sql));
    expect(eagerItems.length).toBeGreaterThan(0);
    for (const statement of eagerItems) expect(statement.sql).toMatch(/LIMIT/);
    // One statement per list; the two root fields run at once, so in either order.
    const batchedItems = batched!.extensions!.sql!.statements.filter((s) => s.sql.includes("row_number()"));
    const byOrder = batchedItems.filter((s) => s.sql.includes('PARTITION BY "orderId"'));
    const byProduct = batchedItems.filter((s) => s.sql.includes('PARTITION BY "productId"'));
    expect([batchedItems.length, byOrder.length, byProduct.length]).toEqual([2, 1, 1]);
    expect(byOrder[0]!.sql).toMatch(PER_PARENT_PAGE("OrderItem", "orderId"));
    expect(byProduct[0]!.sql).toMatch(PER_PARENT_PAGE("OrderItem", "productId"));
    expect(byProduct[0]!.sql).toMatch(/"id" > \$\d/);
  });
});

describe("refusals", () => {
  it.each([
    [`orders(first: 101) { id }`, "first"],
    [`orders(first: -1) { id }`, "first"],
    [`orders(orderBy: { createdAt: DESC, status: ASC }) { id }`, "orderBy"],
    [`orders(after: "${gid("User", 1)}") { id }`, undefined],
  ])("%s is BAD_USER_INPUT", async (field, name) => {
    for (const strategy of STRATEGIES) {
      const res = await shop.gql(`{ user(id: "${gid("User", 1)}") { ${field} } }`, {}, { strategy });
      expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      if (name) expect(res.errors?.[0]?.extensions?.field).toBe(name);
    }
  });
});
