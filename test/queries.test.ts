/**
 * Reads: lookups, Relay pagination, filters, sorting, and derived values checked against sums the
 * test computes itself from the raw rows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../src/generated/prisma/client.js";
import { dbIdOf, gid } from "./support/ids.js";
import { createTestShop, dataOf, STRATEGIES, type TestShop } from "./support/shop.js";

let shop: TestShop;
const names = (connection: { edges: { node: { name: string } }[] }) => connection.edges.map((e) => e.node.name);

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 30, products: 20, ordersPerUser: 3, itemsPerOrder: 2 } });
});
afterAll(() => shop?.close());

describe("lookups", () => {
  it("resolves any object by global ID through node and nodes, null when absent", async () => {
    const data = dataOf(
      await shop.gql(
        `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } node(id: "${gid("Order", 2)}") { ... on Order { id status } } }`,
        {
          ids: [gid("User", 2), gid("Product", 3), gid("OrderItem", 4), gid("User", 123456)],
        },
      ),
    );
    expect(data.nodes).toEqual([
      { __typename: "User", id: gid("User", 2) },
      { __typename: "Product", id: gid("Product", 3) },
      { __typename: "OrderItem", id: gid("OrderItem", 4) },
      null,
    ]);
    const order = await shop.prisma.order.findUniqueOrThrow({ where: { id: 2 } });
    expect(data.node).toEqual({ id: gid("Order", 2), status: order.status });
  });

  it("returns null for a user, product or order that does not exist", async () => {
    const data = dataOf(
      await shop.gql(
        `{ user(id: "${gid("User", 99999)}") { id } product(id: "${gid("Product", 99999)}") { id } order(id: "${gid("Order", 99999)}") { id } }`,
      ),
    );
    expect(data).toEqual({ user: null, product: null, order: null });
  });
});

describe("pagination", () => {
  it("pages forward with first/after until the end, covering every user once", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = dataOf(
        await shop.gql(
          `query($after: String) { users(first: 7, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
          { after },
        ),
      ).users;
      seen.push(...page.edges.map((e: any) => e.node.id));
      pages++;
      expect(page.totalCount).toBe(30);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => gid("User", i + 1)));
  });

  it("pages backward with last/before", async () => {
    const last = dataOf(
      await shop.gql(`{ users(last: 3) { edges { node { id } } pageInfo { hasPreviousPage startCursor } } }`),
    ).users;
    expect(last.edges.map((e: any) => e.node.id)).toEqual([28, 29, 30].map((i) => gid("User", i)));
    const before = dataOf(
      await shop.gql(`query($b: String) { users(last: 2, before: $b) { edges { node { id } } } }`, {
        b: last.pageInfo.startCursor,
      }),
    ).users;
    expect(before.edges.map((e: any) => e.node.id)).toEqual([26, 27].map((i) => gid("User", i)));
  });

  it("defaults to 20 items and refuses more than 100", async () => {
    const page = dataOf(await shop.gql(`{ orders { edges { node { id } } } }`)).orders;
    expect(page.edges).toHaveLength(20);
    const res = await shop.gql(`{ orders(first: 101) { edges { node { id } } } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const negative = await shop.gql(`{ orders(first: -1) { edges { node { id } } } }`);
    expect(negative.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("refuses a malformed cursor with BAD_USER_INPUT", async () => {
    const res = await shop.gql(`{ users(first: 2, after: "garbage") { edges { node { id } } } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("filters and sorting", () => {
  it("filters users by active and by case-insensitive search over name and email", async () => {
    const inactive = await shop.prisma.user.count({ where: { active: false } });
    const data = dataOf(
      await shop.gql(`{ users(filter: { active: false }, first: 100) { totalCount edges { node { active } } } }`),
    ).users;
    expect(data.totalCount).toBe(inactive);
    expect(data.edges.every((e: any) => e.node.active === false)).toBe(true);

    const someone = await shop.prisma.user.findFirstOrThrow({ where: { id: 4 } });
    const fragment = someone.name.split(" ")[1]!.slice(0, 4).toUpperCase();
    const found = dataOf(
      await shop.gql(`query($s: String) { users(filter: { search: $s }, first: 100) { edges { node { name email } } } }`, {
        s: fragment,
      }),
    ).users;
    expect(found.edges.length).toBeGreaterThan(0);
    expect(found.edges.map((e: any) => e.node.name)).toContain(someone.name);
    for (const { node } of found.edges) expect(`${node.name} ${node.email}`.toUpperCase()).toContain(fragment);
  });

  it("filters products by category, stock and price range", async () => {
    const { category } = await shop.prisma.product.findFirstOrThrow({ where: { id: 1 } });
    const expected = await shop.prisma.product.findMany({
      where: { category, stock: { gt: 0 }, price: { gte: new Prisma.Decimal("20"), lte: new Prisma.Decimal("300") } },
      orderBy: [{ price: "desc" }, { id: "desc" }],
    });
    const data = dataOf(
      await shop.gql(
        `query($c: String) { products(filter: { category: $c, inStock: true, minPrice: "20", maxPrice: "300.00" }, orderBy: { price: DESC }, first: 100) { totalCount edges { node { name } } } }`,
        { c: category },
      ),
    ).products;
    expect(data.totalCount).toBe(expected.length);
    expect(names(data)).toEqual(expected.map((p) => p.name));
  });

  it("filters orders by status, user and creation window", async () => {
    const from = new Date("2025-04-01T00:00:00Z");
    const to = new Date("2025-10-01T00:00:00Z");
    const expected = await shop.prisma.order.findMany({
      where: { status: "COMPLETED", userId: 3, createdAt: { gte: from, lt: to } },
      orderBy: { id: "asc" },
    });
    const data = dataOf(
      await shop.gql(
        `query($u: ID, $from: DateTime, $to: DateTime) { orders(filter: { status: COMPLETED, userId: $u, createdAfter: $from, createdBefore: $to }) { totalCount edges { node { id } } } }`,
        {
          u: gid("User", 3),
          from: from.toISOString(),
          to: to.toISOString(),
        },
      ),
    ).orders;
    expect(data.totalCount).toBe(expected.length);
    expect(data.edges.map((e: any) => e.node.id)).toEqual(expected.map((o) => gid("Order", o.id)));
  });

  it("sorts by a column with id as the tie-breaker", async () => {
    const expected = await shop.prisma.product.findMany({ orderBy: [{ category: "asc" }, { id: "asc" }], take: 100 });
    const data = dataOf(
      await shop.gql(`{ products(orderBy: { category: ASC }, first: 100) { edges { node { name } } } }`),
    ).products;
    expect(names(data)).toEqual(expected.map((p) => p.name));
  });

  it("refuses a malformed DateTime or Decimal argument with BAD_USER_INPUT", async () => {
    const date = await shop.gql(`{ orders(filter: { createdAfter: "yesterday" }) { totalCount } }`);
    expect(date.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const money = await shop.gql(`{ products(filter: { minPrice: "ten" }) { totalCount } }`);
    expect(money.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("derived values match sums over the raw rows", () => {
  it("agrees for every user, order and product, in every strategy", async () => {
    const [users, orders, items] = await Promise.all([
      shop.prisma.user.findMany(),
      shop.prisma.order.findMany(),
      shop.prisma.orderItem.findMany(),
    ]);
    const orderById = new Map(orders.map((o) => [o.id, o]));
    const money = (d: Prisma.Decimal) => d.toFixed(2);
    const expectedOrders = new Map(
      orders.map((o) => {
        const own = items.filter((i) => i.orderId === o.id);
        return [
          o.id,
          {
            itemCount: own.reduce((n, i) => n + i.quantity, 0),
            total: money(own.reduce((s, i) => s.add(i.unitPrice.mul(i.quantity)), new Prisma.Decimal(0))),
          },
        ];
      }),
    );
    const expectedUsers = users.map((u) => {
      const own = orders.filter((o) => o.userId === u.id);
      const spent = own
        .filter((o) => o.status === "COMPLETED")
        .reduce((s, o) => s.add(expectedOrders.get(o.id)!.total), new Prisma.Decimal(0));
      return { id: gid("User", u.id), orderCount: own.length, totalSpent: money(spent) };
    });
    const unitsSold = (productId: number) =>
      items
        .filter((i) => i.productId === productId && orderById.get(i.orderId)!.status === "COMPLETED")
        .reduce((n, i) => n + i.quantity, 0);

    for (const strategy of STRATEGIES) {
      const data = dataOf(
        await shop.gql(
          `{ users(first: 100) { edges { node { id orderCount totalSpent } } }
             orders(first: 100) { edges { node { id itemCount total items { quantity unitPrice subtotal } } } }
             products(first: 100) { edges { node { id unitsSold } } } }`,
          {},
          { strategy },
        ),
      );
      expect(data.users.edges.map((e: any) => e.node)).toEqual(expectedUsers);
      for (const { node } of data.orders.edges) {
        const id = dbIdOf(node.id);
        expect({ itemCount: node.itemCount, total: node.total }).toEqual(expectedOrders.get(id));
        for (const item of node.items) expect(item.subtotal).toBe(money(new Prisma.Decimal(item.unitPrice).mul(item.quantity)));
      }
      for (const { node } of data.products.edges) {
        const id = dbIdOf(node.id);
        expect(node.unitsSold).toBe(unitsSold(id));
      }
    }
  });

  it("filters a user's orders by status", async () => {
    const expected = await shop.prisma.order.findMany({ where: { userId: 2, status: "PENDING" }, orderBy: { id: "asc" } });
    for (const strategy of STRATEGIES) {
      const data = dataOf(
        await shop.gql(`{ user(id: "${gid("User", 2)}") { orders(status: PENDING) { id status } } }`, {}, { strategy }),
      );
      expect(data.user.orders).toEqual(expected.map((o) => ({ id: gid("Order", o.id), status: "PENDING" })));
    }
  });
});
