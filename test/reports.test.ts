/**
 * Reports, checked against figures this test computes itself from the raw rows, and their cost:
 * a constant number of statements whatever the data size.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../src/generated/prisma/client.js";
import { dbIdOf, gid } from "./support/ids.js";
import { createTestShop, dataOf, type GraphQLResponse, STRATEGIES, type TestShop } from "./support/shop.js";

let shop: TestShop;
const money = (d: Prisma.Decimal) => d.toFixed(2);
const ZERO = new Prisma.Decimal(0);

type Raw = Awaited<ReturnType<typeof rawRows>>;
async function rawRows() {
  const [users, products, orders, items] = await Promise.all([
    shop.prisma.user.findMany(),
    shop.prisma.product.findMany(),
    shop.prisma.order.findMany(),
    shop.prisma.orderItem.findMany(),
  ]);
  const totalOf = new Map(
    orders.map((o) => [o.id, items.filter((i) => i.orderId === o.id).reduce((s, i) => s.add(i.unitPrice.mul(i.quantity)), ZERO)]),
  );
  return { users, products, orders, items, totalOf };
}

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 40, products: 12, ordersPerUser: 3, itemsPerOrder: 2 } });
  // A customer who never ordered must still appear in the spending report.
  await shop.prisma.user.create({ data: { name: "Newcomer", email: "new@example.com" } });
});
afterAll(() => shop?.close());

function salesExpected(raw: Raw, from: Date, to: Date) {
  const completed = raw.orders.filter((o) => o.status === "COMPLETED" && o.createdAt >= from && o.createdAt < to);
  const byUser = new Map<number, { orderCount: number; amountSpent: Prisma.Decimal }>();
  for (const order of completed) {
    const entry = byUser.get(order.userId) ?? { orderCount: 0, amountSpent: ZERO };
    byUser.set(order.userId, {
      orderCount: entry.orderCount + 1,
      amountSpent: entry.amountSpent.add(raw.totalOf.get(order.id)!),
    });
  }
  return [...byUser]
    .sort(([a, x], [b, y]) => y.amountSpent.cmp(x.amountSpent) || a - b)
    .map(([userId, v]) => ({ userId, orderCount: v.orderCount, amountSpent: money(v.amountSpent) }));
}

describe("salesReport", () => {
  it("ranks customers by completed sales in the period, page by page, in three statements", async () => {
    const raw = await rawRows();
    const from = new Date("2025-03-01T00:00:00Z");
    const to = new Date("2025-11-01T00:00:00Z");
    const expected = salesExpected(raw, from, to);
    expect(expected.length).toBeGreaterThan(10);
    const seen: unknown[] = [];
    let after: string | null = null;
    for (;;) {
      const res: GraphQLResponse = await shop.gql(
        `query($from: DateTime, $to: DateTime, $after: String) { salesReport(from: $from, to: $to, first: 10, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { customer { id } orderCount amountSpent } } } }`,
        { from: from.toISOString(), to: to.toISOString(), after },
        { strategy: "batched" },
      );
      const report: any = dataOf(res).salesReport;
      expect(report.totalCount).toBe(expected.length);
      // rows, total, and the customers of the page in one batch
      expect(res.extensions!.sql!.count).toBe(3);
      seen.push(
        ...report.edges.map((e: any) => ({
          userId: dbIdOf(e.node.customer.id),
          orderCount: e.node.orderCount,
          amountSpent: e.node.amountSpent,
        })),
      );
      if (!report.pageInfo.hasNextPage) break;
      after = report.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  it("refuses a period that ends before it starts", async () => {
    const res = await shop.gql(`{ salesReport(from: "2025-05-01T00:00:00Z", to: "2025-01-01T00:00:00Z") { totalCount } }`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "to" });
  });
});

describe("customerSpending", () => {
  it("lists every customer, including those with no orders, sorted as asked", async () => {
    const raw = await rawRows();
    const expected = raw.users
      .map((u) => {
        const done = raw.orders.filter((o) => o.userId === u.id && o.status === "COMPLETED");
        const total = done.reduce((s, o) => s.add(raw.totalOf.get(o.id)!), ZERO);
        return {
          userId: u.id,
          orderCount: done.length,
          totalSpent: money(total),
          averageOrderValue: money(done.length ? total.div(done.length).toDecimalPlaces(2, Prisma.Decimal.ROUND_HALF_UP) : ZERO),
        };
      })
      .sort((a, b) => new Prisma.Decimal(a.averageOrderValue).cmp(b.averageOrderValue) || a.userId - b.userId);
    const res = await shop.gql(`{ customerSpending(first: 100, orderBy: { averageOrderValue: ASC }) {
      totalCount edges { node { customer { id } orderCount totalSpent averageOrderValue } } } }`);
    const report = dataOf(res).customerSpending;
    expect(report.totalCount).toBe(41);
    expect(report.edges.map((e: any) => ({ ...e.node, customer: undefined, userId: dbIdOf(e.node.customer.id) }))).toEqual(
      expected.map((row) => ({ ...row, customer: undefined })),
    );
    expect(report.edges[0].node).toMatchObject({ orderCount: 0, totalSpent: "0.00", averageOrderValue: "0.00" });
  });

  it("refuses two sort columns", async () => {
    const res = await shop.gql(`{ customerSpending(orderBy: { name: ASC, totalSpent: DESC }) { totalCount } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("categoryStats and orderStats", () => {
  it("sums units and revenue per category over completed orders, in one statement", async () => {
    const raw = await rawRows();
    const status = new Map(raw.orders.map((o) => [o.id, o.status]));
    const categories = [...new Set(raw.products.map((p) => p.category))];
    const expected = categories
      .map((category) => {
        const ids = new Set(raw.products.filter((p) => p.category === category).map((p) => p.id));
        const sold = raw.items.filter((i) => ids.has(i.productId) && status.get(i.orderId) === "COMPLETED");
        return {
          category,
          products: ids.size,
          unitsSold: sold.reduce((n, i) => n + i.quantity, 0),
          revenue: money(sold.reduce((s, i) => s.add(i.unitPrice.mul(i.quantity)), ZERO)),
        };
      })
      .sort((a, b) => new Prisma.Decimal(b.revenue).cmp(a.revenue) || (a.category < b.category ? -1 : 1));
    const res = await shop.gql(`{ categoryStats { category products unitsSold revenue } }`);
    expect(dataOf(res).categoryStats).toEqual(expected);
    expect(res.extensions!.sql!.count).toBe(1);
  });

  it("counts and values orders per status in a period, zeros included", async () => {
    const raw = await rawRows();
    const from = new Date("2025-06-01T00:00:00Z");
    const to = new Date("2025-08-01T00:00:00Z");
    const expected = ["PENDING", "PROCESSING", "COMPLETED", "CANCELLED"].map((s) => {
      const orders = raw.orders.filter((o) => o.status === s && o.createdAt >= from && o.createdAt < to);
      return {
        status: s,
        orderCount: orders.length,
        totalValue: money(orders.reduce((sum, o) => sum.add(raw.totalOf.get(o.id)!), ZERO)),
      };
    });
    const res = await shop.gql(
      `query($from: DateTime, $to: DateTime) { orderStats(from: $from, to: $to) { status orderCount totalValue } }`,
      {
        from: from.toISOString(),
        to: to.toISOString(),
      },
    );
    expect(dataOf(res).orderStats).toEqual(expected);
    expect(res.extensions!.sql!.count).toBe(1);
    const empty = dataOf(
      await shop.gql(`{ orderStats(from: "2030-01-01T00:00:00Z") { status orderCount totalValue } }`),
    ).orderStats;
    expect(empty).toEqual(expected.map((row) => ({ ...row, orderCount: 0, totalValue: "0.00" })));
  });
});

describe("bulkUpdateOrderStatus", () => {
  const BULK = `mutation($filter: BulkOrderFilter!, $to: OrderStatus!) { bulkUpdateOrderStatus(filter: $filter, to: $to) { count unitsReturned } }`;

  it("cancels exactly the matching orders and returns their stock, in a constant number of statements", async () => {
    const cutoff = new Date("2025-07-01T00:00:00Z");
    const targets = await shop.prisma.order.findMany({
      where: { status: "PENDING", createdAt: { lt: cutoff } },
      include: { items: true },
    });
    expect(targets.length).toBeGreaterThan(2);
    const stockBefore = new Map((await shop.prisma.product.findMany()).map((p) => [p.id, p.stock]));
    const others = await shop.prisma.order.findMany({
      where: { NOT: { id: { in: targets.map((o) => o.id) } } },
      orderBy: { id: "asc" },
    });

    const res = await shop.gql(BULK, { filter: { status: "PENDING", createdBefore: cutoff.toISOString() }, to: "CANCELLED" });
    const units = targets.flatMap((o) => o.items).reduce((n, i) => n + i.quantity, 0);
    expect(dataOf(res).bulkUpdateOrderStatus).toEqual({ count: targets.length, unitsReturned: units });
    expect(res.extensions!.sql!.count).toBeLessThanOrEqual(4);

    expect(await shop.prisma.order.count({ where: { id: { in: targets.map((o) => o.id) }, status: "CANCELLED" } })).toBe(
      targets.length,
    );
    expect(
      await shop.prisma.order.findMany({ where: { NOT: { id: { in: targets.map((o) => o.id) } } }, orderBy: { id: "asc" } }),
    ).toEqual(others);
    for (const product of await shop.prisma.product.findMany()) {
      const returned = targets
        .flatMap((o) => o.items)
        .filter((i) => i.productId === product.id)
        .reduce((n, i) => n + i.quantity, 0);
      expect(product.stock).toBe(stockBefore.get(product.id)! + returned);
    }
  });

  it("limits a change to one user's orders", async () => {
    const expected = await shop.prisma.order.count({ where: { userId: 3, status: "PROCESSING" } });
    const res = await shop.gql(BULK, { filter: { status: "PROCESSING", userId: gid("User", 3) }, to: "COMPLETED" });
    expect(dataOf(res).bulkUpdateOrderStatus).toEqual({ count: expected, unitsReturned: 0 });
    expect(await shop.prisma.order.count({ where: { userId: 3, status: "PROCESSING" } })).toBe(0);
  });

  it("refuses a transition that is not allowed and changes nothing", async () => {
    const before = await shop.prisma.order.findMany({ orderBy: { id: "asc" } });
    const res = await shop.gql(BULK, { filter: { status: "COMPLETED" }, to: "PENDING" });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_STATUS_TRANSITION", from: "COMPLETED", to: "PENDING" });
    expect(await shop.prisma.order.findMany({ orderBy: { id: "asc" } })).toEqual(before);
  });

  it("requires a status in the filter", async () => {
    const res = await shop.gql(`mutation { bulkUpdateOrderStatus(filter: {}, to: CANCELLED) { count } }`);
    expect(res.errors?.[0]?.message).toMatch(/status/);
    expect(res.data).toBeUndefined();
  });
});

describe("sums of quantities beyond GraphQL Int (2^31-1)", () => {
  const BILLION = 1_000_000_000; // MAX_STOCK: the most one order line may hold
  let big: TestShop;
  let user: string;
  const products: string[] = [];
  const completed: string[] = [];

  /** Runs a mutation as an admin and returns its field's data, failing the test on any error. */
  const mutate = async (query: string, variables: Record<string, unknown>) =>
    Object.values(dataOf(await big.gql(query, variables)))[0] as any;
  const restock = (id: string) =>
    mutate(`mutation($id: ID!, $q: Int!) { restockProduct(id: $id, quantity: $q) { stock } }`, { id, q: BILLION });
  const place = async (lines: string[]) =>
    (
      await mutate(`mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }`, {
        input: { userId: user, items: lines.map((productId) => ({ productId, quantity: BILLION })) },
      })
    ).id as string;
  const move = (id: string, status: string) =>
    mutate(`mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { status } }`, { id, s: status });

  beforeAll(async () => {
    big = await createTestShop({ seed: false });
    user = (await mutate(`mutation { createUser(input: { name: "Bulk Buyer", email: "bulk@example.com" }) { id } }`, {})).id;
    for (const name of ["Bolt", "Nut", "Washer"]) {
      const input = { name, category: "Hardware", price: "0.10", stock: BILLION };
      products.push(
        (await mutate(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, { input })).id,
      );
    }
    // Three completed orders through the API, as a client could place them: Bolt alone twice, then
    // all three products in one order of 3e9 units. Bolt sells 3e9, the category 5e9.
    const [bolt] = products as [string];
    completed.push(await place([bolt]));
    await restock(bolt);
    completed.push(await place([bolt]));
    await restock(bolt);
    completed.push(await place(products));
    for (const id of completed) {
      await move(id, "PROCESSING");
      await move(id, "COMPLETED");
    }
  });
  afterAll(() => big?.close());

  for (const strategy of STRATEGIES) {
    it(`categoryStats, Product.unitsSold and Order.itemCount are exact (${strategy})`, async () => {
      const res = await big.gql(
        `query($ids: [ID!]!) {
          categoryStats { category products unitsSold revenue }
          nodes(ids: $ids) { ... on Product { name unitsSold } }
          orders(filter: { status: COMPLETED }) { edges { node { id itemCount } } }
        }`,
        { ids: products },
        { strategy },
      );
      expect(dataOf(res)).toEqual({
        categoryStats: [{ category: "Hardware", products: 3, unitsSold: 5 * BILLION, revenue: "500000000.00" }],
        nodes: [
          { name: "Bolt", unitsSold: 3 * BILLION },
          { name: "Nut", unitsSold: BILLION },
          { name: "Washer", unitsSold: BILLION },
        ],
        orders: { edges: completed.map((id, i) => ({ node: { id, itemCount: i === 2 ? 3 * BILLION : BILLION } })) },
      });
    });
  }

  it("bulkUpdateOrderStatus reports every unit it returned", async () => {
    for (const id of products) await restock(id);
    const pending = await place(products);
    const res = await big.gql(
      `mutation($user: ID!) { bulkUpdateOrderStatus(filter: { status: PENDING, userId: $user }, to: CANCELLED) { count unitsReturned } }`,
      { user },
    );
    expect(dataOf(res).bulkUpdateOrderStatus).toEqual({ count: 1, unitsReturned: 3 * BILLION });
    expect((await big.prisma.order.findUniqueOrThrow({ where: { id: dbIdOf(pending) } })).status).toBe("CANCELLED");
    expect((await big.prisma.product.findMany({ orderBy: { id: "asc" } })).map((p) => p.stock)).toEqual([
      BILLION,
      BILLION,
      BILLION,
    ]);
  });
});
