/**
 * The project's central promise: the three loading strategies return identical data for every
 * query, and cost what they claim (lazy grows with N, batched and eager do not).
 */
import type { GraphQLError } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notFound } from "../src/errors.js";
import { createLoaders } from "../src/loading/loaders.js";
import { planCache } from "../src/loading/plan.js";
import { gid } from "./support/ids.js";
import { createTestShop, dataOf, STRATEGIES, type TestShop } from "./support/shop.js";
import { expectNoNPlusOne, nPlusOneFields } from "./support/sql.js";

let shop: TestShop;

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 60, products: 25, ordersPerUser: 2, itemsPerOrder: 2 } });
});
afterAll(() => shop?.close());

const CORPUS: Record<string, string> = {
  scalars: `{ users(first: 5) { edges { node { id name email age active createdAt updatedAt } } } }`,
  nested: `{ users(first: 5) { edges { node { name orders { status items { quantity product { name } } } } } } }`,
  derivedUser: `{ users(first: 10) { edges { node { name orderCount totalSpent } } } }`,
  ordersWithEverything: `{ orders(first: 15) { edges { node { id status notes total itemCount user { name email } items { unitPrice subtotal product { name price category } } } } } }`,
  productsWithSales: `{ products(first: 10) { edges { node { name stock unitsSold orderItems { quantity order { status user { name } } } } } } }`,
  inactiveUsers: `{ users(filter: { active: false }) { totalCount edges { node { name active orders { id } } } } }`,
  searchSorted: `{ users(filter: { search: "AN" }, orderBy: { name: DESC }, first: 8) { totalCount edges { node { name email } } } }`,
  priceRange: `{ products(filter: { inStock: true, minPrice: "50", maxPrice: "250.50" }, orderBy: { price: DESC }) { totalCount edges { node { name price stock } } } }`,
  completedOrders: `{ orders(filter: { status: COMPLETED }, first: 12) { totalCount edges { node { total itemCount user { totalSpent orderCount } } } } }`,
  lastPage: `{ users(last: 4) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
  aliases: `{ a: users(first: 2) { edges { node { name } } } b: users(first: 2, orderBy: { email: DESC }) { edges { node { email } } } }`,
  fragments: `fragment U on User { name orders { id status ...O } } fragment O on Order { total items { id } }
    { users(first: 3) { edges { node { ...U } } } }`,
  sameRelationTwoArgs: `{ users(first: 6) { edges { node { name done: orders(status: COMPLETED) { id total } open: orders(status: PENDING) { id } all: orders { id } } } } }`,
  nodeLookup: `{ node(id: "${gid("User", 3)}") { id __typename ... on User { name orders { items { product { name } } } } } }`,
  nodesMixed: `{ nodes(ids: ["${gid("User", 1)}", "${gid("Product", 2)}", "${gid("Order", 3)}", "${gid("User", 9999)}"]) { id __typename ... on User { name } ... on Product { name unitsSold } ... on Order { total } } }`,
  orderById: `{ order(id: "${gid("Order", 7)}") { id status items { unitPrice subtotal product { name } order { id } } user { name orderCount } } }`,
  productById: `{ product(id: "${gid("Product", 4)}") { name unitsSold orderItems { quantity order { user { email } } } } }`,
  missingById: `{ user(id: "${gid("User", 424242)}") { name } product(id: "${gid("Product", 424242)}") { name } }`,
  ordersByDate: `{ orders(first: 10, orderBy: { createdAt: DESC }) { totalCount pageInfo { hasNextPage endCursor } edges { node { createdAt } } } }`,
  cyclic: `{ users(first: 3) { edges { node { name orders { items { order { user { name } } } } } } } }`,
  textSearch: `{ products(filter: { search: "e" }, first: 5) { totalCount edges { node { name category } } } }`,
  dateWindow: `{ orders(filter: { createdAfter: "2025-06-01T00:00:00Z", createdBefore: "2025-09-01T00:00:00Z" }, first: 30) { totalCount edges { node { createdAt total } } } }`,
  statusFiltered: `{ users(filter: { active: true }, first: 7) { edges { node { name orderCount cancelled: orders(status: CANCELLED) { id total itemCount } } } } }`,
  userOrdersFilter: `{ orders(filter: { userId: "${gid("User", 5)}" }) { totalCount edges { node { id user { name } } } } }`,
  typenames: `{ __typename users(first: 2) { __typename edges { __typename node { __typename orders { __typename items { __typename } } } } } }`,
};

/**
 * The fields the N+1 detector names for each corpus query under lazy: every relation or derived
 * field below a list of more than N_PLUS_ONE_THRESHOLD (2) parents. `nodes` and the single-row
 * lookups have too few parents to repeat a statement more than twice.
 */
const LAZY_N_PLUS_ONE: Partial<Record<keyof typeof CORPUS, string[]>> = {
  nested: ["users.edges.node.orders", "users.edges.node.orders.items", "users.edges.node.orders.items.product"],
  derivedUser: ["users.edges.node.orderCount", "users.edges.node.totalSpent"],
  ordersWithEverything: [
    "orders.edges.node.itemCount",
    "orders.edges.node.items",
    "orders.edges.node.items.product",
    "orders.edges.node.total",
    "orders.edges.node.user",
  ],
  productsWithSales: [
    "products.edges.node.orderItems",
    "products.edges.node.orderItems.order",
    "products.edges.node.orderItems.order.user",
    "products.edges.node.unitsSold",
  ],
  inactiveUsers: ["users.edges.node.orders"],
  completedOrders: [
    "orders.edges.node.itemCount",
    "orders.edges.node.total",
    "orders.edges.node.user",
    "orders.edges.node.user.orderCount",
    "orders.edges.node.user.totalSpent",
  ],
  fragments: ["users.edges.node.orders", "users.edges.node.orders.items", "users.edges.node.orders.total"],
  sameRelationTwoArgs: ["users.edges.node.all", "users.edges.node.done", "users.edges.node.done.total", "users.edges.node.open"],
  productById: ["product.orderItems.order", "product.orderItems.order.user"],
  // node(id:) finds its row through the loaders, then each level below it under lazy: the user's
  // 2 orders have 4 lines, whose products are asked one at a time.
  nodeLookup: ["node.orders.items.product"],
  cyclic: [
    "users.edges.node.orders",
    "users.edges.node.orders.items",
    "users.edges.node.orders.items.order",
    "users.edges.node.orders.items.order.user",
  ],
  dateWindow: ["orders.edges.node.total"],
  statusFiltered: [
    "users.edges.node.cancelled",
    "users.edges.node.cancelled.itemCount",
    "users.edges.node.cancelled.total",
    "users.edges.node.orderCount",
  ],
  typenames: ["users.edges.node.orders.items"],
};

/** How many non-null scalar values a result holds: an all-null or empty result has none. */
function leaves(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== "object") return 1;
  return Object.values(value).reduce<number>((n, child) => n + leaves(child), 0);
}

describe("identical data under every strategy", () => {
  for (const [name, query] of Object.entries(CORPUS)) {
    it(name, async () => {
      const [eager, batched, lazy] = await Promise.all(STRATEGIES.map((strategy) => shop.gql(query, {}, { strategy })));
      const data = dataOf(eager!);
      if (name === "missingById") expect(data).toEqual({ user: null, product: null });
      else expect(leaves(data)).toBeGreaterThan(0);
      expect(dataOf(batched!)).toEqual(data);
      expect(dataOf(lazy!)).toEqual(data);
      expect([eager, batched, lazy].map((r) => r!.extensions?.sql?.strategy)).toEqual(STRATEGIES);
      // The N+1 detector: silent for eager and batched, and for lazy it names exactly the fields
      // that load once per parent.
      expectNoNPlusOne(eager!);
      expectNoNPlusOne(batched!);
      expect(nPlusOneFields(lazy!)).toEqual(LAZY_N_PLUS_ONE[name] ?? []);
    });
  }
});

const budgetQuery = (n: number, extra = "") =>
  `{ users(first: ${n}) { ${extra} edges { node { orders { items { product { name } } } } } } }`;

async function statementCount(query: string, strategy: string): Promise<number> {
  const response = await shop.gql(query, {}, { strategy });
  dataOf(response);
  return response.extensions!.sql!.count;
}

describe("statement budgets for users -> orders -> items -> product", () => {
  it("lazy issues one query per parent: 1 + N + orders + items", async () => {
    for (const n of [5, 50]) {
      const users = await shop.prisma.user.findMany({ take: n, orderBy: { id: "asc" }, select: { id: true } });
      const ids = users.map((u) => u.id);
      const orders = await shop.prisma.order.count({ where: { userId: { in: ids } } });
      const items = await shop.prisma.orderItem.count({ where: { order: { userId: { in: ids } } } });
      expect(await statementCount(budgetQuery(n), "lazy")).toBe(1 + n + orders + items);
    }
    expect(await statementCount(budgetQuery(50), "lazy")).toBeGreaterThan(await statementCount(budgetQuery(5), "lazy"));
  });

  it("batched issues one statement per level, whatever N, plus one for totalCount", async () => {
    for (const n of [5, 50]) {
      expect(await statementCount(budgetQuery(n), "batched")).toBe(4);
      expect(await statementCount(budgetQuery(n, "totalCount"), "batched")).toBe(5);
    }
  });

  it("eager issues one statement, whatever N, plus one for totalCount", async () => {
    for (const n of [5, 50]) {
      expect(await statementCount(budgetQuery(n), "eager")).toBe(1);
      expect(await statementCount(budgetQuery(n, "totalCount"), "eager")).toBe(2);
    }
  });

  it("eager writes a preloaded to-one relation's key into each row's JSON once (Prisma's own copy)", async () => {
    const response = await shop.gql(budgetQuery(3), {}, { strategy: "eager" });
    dataOf(response);
    const [statement] = response.extensions!.sql!.statements;
    expect(statement!.sql.match(/'productId',/g)).toHaveLength(1);
  });

  it("derived fields add no statements per parent in batched and eager", async () => {
    const derived = (n: number) =>
      `{ users(first: ${n}) { edges { node { orderCount totalSpent orders { total itemCount items { subtotal product { unitsSold } } } } } } }`;
    for (const strategy of ["batched", "eager"]) {
      const at5 = await statementCount(derived(5), strategy);
      expect(await statementCount(derived(50), strategy)).toBe(at5);
    }
    expect(await statementCount(derived(50), "lazy")).toBeGreaterThan(await statementCount(derived(5), "lazy"));
  });
});

describe("the eager plan, worked out once per document", () => {
  const PLANNED = `query Planned($withItems: Boolean!, $orders: Int!) {
    users(first: 4) { edges { node { name orders(first: $orders) { id items @include(if: $withItems) { quantity product { name } } } } } }
  }`;
  type Users = { users: { edges: { node: { orders: { id: string; items?: unknown[] }[] } }[] } };
  const built = () => planCache.built;

  it("is reused by the next request of the document, with that request's arguments, and worked out anew for other @skip/@include values", async () => {
    const ask = async (variables: Record<string, unknown>) => {
      const before = built();
      const [eager, batched] = await Promise.all(
        ["eager", "batched"].map((strategy) => shop.gql(PLANNED, variables, { strategy })),
      );
      expect(dataOf(batched!)).toEqual(dataOf(eager!));
      expect(eager!.extensions!.sql!.count).toBe(1);
      return { data: dataOf<Users>(eager!), planned: built() - before, sql: eager!.extensions!.sql!.statements[0]!.sql };
    };
    const first = await ask({ withItems: true, orders: 2 });
    expect(first.planned).toBeGreaterThan(0);
    expect(
      first.data.users.edges.every(({ node }) => node.orders.length === 2 && node.orders.every((o) => o.items!.length > 0)),
    ).toBe(true);

    // The same document with another page size: nothing planned again, and the page is this request's.
    const again = await ask({ withItems: true, orders: 1 });
    expect(again.planned).toBe(0);
    expect(again.data.users.edges.every(({ node }) => node.orders.length === 1)).toBe(true);

    // Another value of @include: another plan, without the items.
    const without = await ask({ withItems: false, orders: 2 });
    expect(without.planned).toBeGreaterThan(0);
    expect(without.data.users.edges.every(({ node }) => node.orders.every((o) => o.items === undefined))).toBe(true);
    expect(without.sql).not.toContain('"OrderItem"');
    expect(first.sql).toContain('"OrderItem"');

    // Both are kept.
    expect((await ask({ withItems: true, orders: 2 })).planned).toBe(0);
    expect((await ask({ withItems: false, orders: 1 })).planned).toBe(0);
  });

  it("is not shared between operations of one document that spread the same fragment beside fields of their own", async () => {
    // The fragment's `users` node is the first node of `users` in both operations; what B reads of
    // it depends on B's own `users` too.
    const DOCUMENT = `fragment Q on Query { users(first: 2) { totalCount edges { node { id } } } }
      query A { ...Q }
      query B { ...Q users(first: 2) { edges { node { email orders { id } } } pageInfo { hasNextPage } } }
      query C($more: Boolean!) { ...Q users(first: 2) { edges { node { name @include(if: $more) } } } }`;
    type Users = {
      users: { totalCount: number; edges: { node: Record<string, unknown> }[]; pageInfo?: { hasNextPage: boolean } };
    };
    for (const strategy of STRATEGIES) {
      const ask = async (operationName: string, variables: Record<string, unknown> = {}) =>
        dataOf(await shop.gql(DOCUMENT, variables, { strategy, operationName })) as Users;
      expect((await ask("A")).users.edges.map(({ node }) => Object.keys(node))).toEqual([["id"], ["id"]]);
      const b = (await ask("B")).users;
      expect(b.edges.map(({ node }) => Object.keys(node).sort())).toEqual([
        ["email", "id", "orders"],
        ["email", "id", "orders"],
      ]);
      expect(b.edges.every(({ node }) => typeof node.email === "string" && (node.orders as unknown[]).length > 0)).toBe(true);
      expect(b.pageInfo).toEqual({ hasNextPage: true });
      expect((await ask("C", { more: false })).users.edges.map(({ node }) => Object.keys(node))).toEqual([["id"], ["id"]]);
      const c = (await ask("C", { more: true })).users;
      expect(c.edges.every(({ node }) => typeof node.name === "string")).toBe(true);
    }
  });

  it("reads what every place of a relation asks for, when a fragment's node is shared by several", async () => {
    // `orders` under `a` comes from the fragment alone; under `b`, from the fragment and b's own
    // selection: a loader's columns depend on both nodes, in this operation and in the next.
    const DOCUMENT = `fragment F on User { orders(first: 1) { id } }
      query A { users(first: 2) { edges { node { ...F } } } }
      query B { a: users(first: 2) { edges { node { ...F } } } b: users(first: 2) { edges { node { ...F orders(first: 1) { status total } } } } }`;
    type Orders = { edges: { node: { orders: Record<string, unknown>[] } }[] };
    for (const strategy of STRATEGIES) {
      dataOf(await shop.gql(DOCUMENT, {}, { strategy, operationName: "A" }));
      const { a, b } = dataOf(await shop.gql(DOCUMENT, {}, { strategy, operationName: "B" })) as { a: Orders; b: Orders };
      expect(a.edges.flatMap(({ node }) => node.orders.map((order) => Object.keys(order)))).toEqual([["id"], ["id"]]);
      const orders = b.edges.flatMap(({ node }) => node.orders);
      expect(orders.map((order) => Object.keys(order).sort())).toEqual([
        ["id", "status", "total"],
        ["id", "status", "total"],
      ]);
      expect(orders.every((order) => typeof order.status === "string" && typeof order.total === "string")).toBe(true);
    }
  });

  it("keeps no viewer's rows or row filters: a customer after an admin sees only the lines of their own orders", async () => {
    const LINES = `{ products(first: 25) { edges { node { orderItems(first: 50) { order { user { id } } } } } } }`;
    type Lines = { products: { edges: { node: { orderItems: { order: { user: { id: string } } }[] } }[] } };
    const userIds = (response: Awaited<ReturnType<TestShop["gql"]>>) =>
      (dataOf(response) as Lines).products.edges.flatMap(({ node }) => node.orderItems.map((line) => line.order.user.id));
    const customer = (
      await shop.prisma.user.findFirstOrThrow({ where: { active: true, orders: { some: {} } }, orderBy: { id: "asc" } })
    ).id;
    const admin = userIds(await shop.gql(LINES, {}, { strategy: "eager" }));
    expect(new Set(admin).size).toBeGreaterThan(1);
    const before = built();
    const own = userIds(await shop.gql(LINES, {}, { strategy: "eager", as: { customer } }));
    expect(built()).toBe(before);
    expect(own.length).toBeGreaterThan(0);
    expect(new Set(own)).toEqual(new Set([gid("User", customer)]));
  });
});

describe("a related row that is gone by the time it is read", () => {
  // Products by id, with product 2 missing, as when deleted between two levels of a request; each
  // statement's ids are kept.
  const sent: number[][] = [];
  const rows = async <Row>(_sql: string, args?: readonly unknown[]) => {
    const ids = (args?.[0] ?? []) as number[];
    sent.push(ids);
    return ids.filter((id) => id !== 2).map((id) => ({ id, name: `P${id}` })) as Row[];
  };

  it("fails that load with NOT_FOUND when the caller refuses missing rows, in one statement for all keys", async () => {
    const loaders = createLoaders({ rows }, "batched");
    const refusing = loaders.byId("Product", ["id", "name"], undefined, (id) => notFound("Product", id));
    sent.length = 0;
    const [one, two, three] = await Promise.allSettled([refusing.load(1), refusing.load(2), refusing.load(3)]);
    expect(sent).toEqual([[1, 2, 3]]);
    expect(one).toEqual({ status: "fulfilled", value: { id: 1, name: "P1" } });
    expect(three).toEqual({ status: "fulfilled", value: { id: 3, name: "P3" } });
    expect(two.status).toBe("rejected");
    const reason = (two as PromiseRejectedResult).reason as GraphQLError;
    expect(reason.extensions.code).toBe("NOT_FOUND");
    expect(reason.message).toBe(`Product ${gid("Product", 2)} does not exist.`);
  });

  it("answers null for it otherwise (node lookups), from a loader of its own", async () => {
    const loaders = createLoaders({ rows }, "batched");
    const refusing = loaders.byId("Product", ["id", "name"], undefined, (id) => notFound("Product", id));
    const plain = loaders.byId("Product", ["id", "name"]);
    expect(plain).not.toBe(refusing);
    expect(await plain.loadMany([2, 3])).toEqual([null, { id: 3, name: "P3" }]);
  });
});
