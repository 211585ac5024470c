/**
 * Defence in depth (src/graphql/schema/guard.ts): with every row filter of src/auth/rules.ts turned
 * off, as if each path had forgotten to filter, a customer still gets none of another customer's
 * users or orders, through any path and in every strategy: each such object is refused (FORBIDDEN)
 * where it enters the answer, and the customer's own rows still answer.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Viewer } from "../src/auth/viewer.js";
import { STRATEGIES } from "../src/loading/strategy.js";
import { gid } from "./support/ids.js";
import type { As, GraphQLResponse, TestShop } from "./support/shop.js";

// Every filter answers as it would for an admin: the database no longer keeps anyone's rows back.
// Files share their modules here (vitest.config.ts: isolate: false), so the app is imported afresh
// with the mock, and the next file imports it afresh without.
const RULES = "../src/auth/rules.js";
async function unfilteredShop() {
  vi.resetModules();
  vi.doMock(RULES, async (importOriginal) => {
    const rules = await importOriginal<typeof import("../src/auth/rules.js")>();
    const everyone: Viewer = { role: "admin", userId: null };
    return {
      ...rules,
      visibility: (model: Parameters<typeof rules.visibility>[0]) => rules.visibility(model, everyone),
      visibleUsers: () => rules.visibleUsers(everyone),
      visibleOrders: () => rules.visibleOrders(everyone),
      visibleOrderItems: () => rules.visibleOrderItems(everyone),
    };
  });
  return await import("./support/shop.js");
}

let dataOf: (res: GraphQLResponse) => any;
let shop: TestShop;
let me: { id: number; email: string };
let others: { id: number; email: string }[];
let foreignOrder: number;

beforeAll(async () => {
  const support = await unfilteredShop();
  dataOf = support.dataOf;
  shop = await support.createTestShop({ seed: { users: 6, products: 4, ordersPerUser: 2, itemsPerOrder: 2 } });
  const users = await shop.prisma.user.findMany({ where: { active: true }, orderBy: { id: "asc" } });
  me = users[0]!;
  others = (await shop.prisma.user.findMany({ where: { id: { not: me.id } } })).map((u) => ({ id: u.id, email: u.email }));
  foreignOrder = (await shop.prisma.order.findFirstOrThrow({ where: { userId: { not: me.id } } })).id;
});
afterAll(async () => {
  await shop?.close();
  vi.doUnmock(RULES);
  vi.resetModules();
});

const customer = (): As => ({ customer: me.id });
const codes = (res: GraphQLResponse) => [...new Set((res.errors ?? []).map((e) => e.extensions?.code))];
const leaks = (res: GraphQLResponse) =>
  others.map((u) => u.email).filter((email) => JSON.stringify(res.data ?? null).includes(email));

describe("a path that forgot to filter", () => {
  it("really does not filter here: the customer's lists count everyone's rows", async () => {
    const res = await shop.gql(`{ users { totalCount } orders { totalCount } }`, {}, { as: customer() });
    const data = dataOf(res);
    expect(data.users.totalCount).toBe(others.length + 1);
    expect(data.orders.totalCount).toBe(await shop.prisma.order.count());
  });

  const paths = {
    "a root list": `{ users(first: 50) { edges { node { id email } } } }`,
    "a root list of orders, and their users": `{ orders(first: 50) { edges { node { id status user { email } } } } }`,
    "a lookup by id": () => `{ order(id: "${gid("Order", foreignOrder)}") { id user { email } } }`,
    "node()": () => `{ node(id: "${gid("User", others[0]!.id)}") { id ... on User { email } } }`,
    "nodes()": () => `{ nodes(ids: ${JSON.stringify(others.map((u) => gid("User", u.id)))}) { id ... on User { email } } }`,
    "the catalogue's order lines": `{ products(first: 10) { edges { node { orderItems { order { id user { email } } } } } } }`,
  };

  for (const strategy of STRATEGIES) {
    for (const [name, query] of Object.entries(paths)) {
      it(`${name} (${strategy}): refused with FORBIDDEN, nothing of theirs answered`, async () => {
        const res = await shop.gql(typeof query === "function" ? query() : query, {}, { as: customer(), strategy });
        expect(codes(res)).toEqual(["FORBIDDEN"]);
        expect(leaks(res)).toEqual([]);
      });
    }
  }

  it("the customer's own user and orders still answer, in every strategy", async () => {
    for (const strategy of STRATEGIES) {
      const res = await shop.gql(`{ me { email orders { id user { email } } } }`, {}, { as: customer(), strategy });
      expect(res.errors).toBeUndefined();
      const data = dataOf(res);
      expect(data.me.email).toBe(me.email);
      expect(data.me.orders).toHaveLength(2);
    }
  });

  it("an admin is refused nothing", async () => {
    const res = await shop.gql(`{ users(first: 50) { edges { node { email orders { id } } } } }`);
    expect(res.errors).toBeUndefined();
    expect(dataOf(res).users.edges).toHaveLength(others.length + 1);
  });
});
