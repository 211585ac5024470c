/**
 * Strict inputs: every value a client sends is checked before the database sees it, inline or as a
 * variable, and a mistake is BAD_USER_INPUT naming what was wrong, never an internal error.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../src/generated/prisma/client.js";
import { MAX_DB_ID } from "../src/graphql/schema/ids.js";
import { NODE_TYPES, rowGlobalId } from "../src/graphql/schema/node-ids.js";
import { serializeDecimal } from "../src/graphql/schema/scalars.js";
import { gid } from "./support/ids.js";
import { createTestShop, dataOf, errorOf, type GraphQLResponse, type TestShop } from "./support/shop.js";

let shop: TestShop;

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 4, products: 3, ordersPerUser: 1, itemsPerOrder: 1 } });
});
afterAll(() => shop?.close());

/** Posts an operation as a GraphQL-over-HTTP client does, returning the status too. */
async function post(query: string, variables?: Record<string, unknown>) {
  const response = await shop.fetch(
    new Request("http://shop.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify({ query, variables }),
    }),
  );
  return { status: response.status, body: (await response.json()) as GraphQLResponse };
}

describe("DateTime", () => {
  it.each(["1", "March 7", "2026-01-31T12:00:00", "2026-01-31", "2026-02-30T00:00:00Z", "yesterday"])(
    "refuses %j inline and as a variable, naming the value",
    async (value) => {
      const inline = errorOf(await shop.gql(`{ orders(filter: { createdAfter: ${JSON.stringify(value)} }) { totalCount } }`));
      expect(inline.extensions?.code).toBe("BAD_USER_INPUT");
      expect(inline.message).toContain(JSON.stringify(value));
      const variable = await post(`query($d: DateTime) { orders(filter: { createdAfter: $d }) { totalCount } }`, { d: value });
      expect(variable.status).toBe(400);
      expect(errorOf(variable.body).extensions?.code).toBe("BAD_USER_INPUT");
      expect(errorOf(variable.body).message).toContain(JSON.stringify(value));
    },
  );

  it("refuses a number, inline and as a variable, naming it", async () => {
    const inline = errorOf(await shop.gql(`{ orders(filter: { createdAfter: 1 }) { totalCount } }`));
    expect(inline.extensions?.code).toBe("BAD_USER_INPUT");
    expect(inline.message).toContain("got 1.");
    const variable = errorOf(
      (await post(`query($d: DateTime) { orders(filter: { createdAfter: $d }) { totalCount } }`, { d: 1 })).body,
    );
    expect(variable.extensions?.code).toBe("BAD_USER_INPUT");
    expect(variable.message).toContain("got 1.");
  });

  it("reads an offset exactly, and always answers in UTC", async () => {
    const order = await shop.prisma.order.findFirstOrThrow({ orderBy: { id: "asc" } });
    const utc = order.createdAt.toISOString();
    const local = new Date(order.createdAt.getTime() + 2 * 3600_000).toISOString().replace("Z", "+02:00");
    const res = await shop.gql(
      `query($a: DateTime!) { orders(filter: { createdAfter: $a }, first: 100) { edges { node { id createdAt } } } }`,
      {
        a: local,
      },
    );
    const nodes = dataOf(res).orders.edges.map((e: { node: { createdAt: string } }) => e.node.createdAt);
    expect(nodes).toContain(utc);
    expect(nodes.every((t: string) => t.endsWith("Z") && t >= utc)).toBe(true);
  });
});

describe("Decimal", () => {
  it("answers every price with two places, whatever the strategy read it as", async () => {
    // Read at the root (Prisma's Decimal) and through an order's item (the loaders' text, in batched).
    const item = await shop.prisma.orderItem.findFirstOrThrow({ orderBy: { id: "asc" }, include: { product: true } });
    const product = item.product;
    for (const price of ["20", "19.9", "0", "0.05", "99999999.99"]) {
      await shop.prisma.product.update({ where: { id: product.id }, data: { price } });
      const expected = new Prisma.Decimal(price).toFixed(2);
      for (const strategy of ["eager", "batched", "lazy"] as const) {
        const res = await shop.gql(
          `query($p: ID!, $o: ID!) { product(id: $p) { price } order(id: $o) { items { product { id price } } } }`,
          { p: gid("Product", product.id), o: gid("Order", item.orderId) },
          { strategy },
        );
        const data = dataOf(res);
        expect(data.product.price, `${price} (${strategy})`).toBe(expected);
        const nested = data.order.items.find(
          (line: { product: { id: string } }) => line.product.id === gid("Product", product.id),
        );
        expect(nested.product.price, `${price} (${strategy}, nested)`).toBe(expected);
      }
    }
    await shop.prisma.product.update({ where: { id: product.id }, data: { price: product.price } });
  });

  it("writes a Decimal as toFixed(2) would, for any value", () => {
    for (const value of [
      "-0",
      "0",
      "0.1",
      "-0.1",
      "19.9",
      "20",
      "99999999.99",
      "1e-7",
      "0.001",
      "-0.005",
      "1.005",
      "1e21",
      "-19.90",
    ]) {
      expect(serializeDecimal(new Prisma.Decimal(value)), value).toBe(new Prisma.Decimal(value).toFixed(2));
    }
    expect(serializeDecimal("19.99")).toBe("19.99");
    expect(serializeDecimal("19.9")).toBe("19.90");
  });

  it("encodes a row's global ID exactly as the relay plugin does, for any type name and id", () => {
    const typename = fc.oneof(fc.constantFrom(...NODE_TYPES), fc.stringMatching(/^[A-Z][A-Za-z]{0,12}$/));
    fc.assert(
      fc.property(typename, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (type, id) => {
        expect(rowGlobalId(type)(id)).toBe(encodeGlobalID(type, String(id)));
      }),
      { numRuns: 5000 },
    );
  });

  it("writes any Decimal as toFixed(2) does: whole, two places, more places, tiny, huge, negative", () => {
    const digits = (max: number) => fc.integer({ min: 0, max }).map(String);
    const decimal = fc.oneof(
      fc
        .tuple(fc.boolean(), digits(Number.MAX_SAFE_INTEGER), digits(99))
        .map(([minus, whole, cents]) => `${minus ? "-" : ""}${whole}.${cents.padStart(2, "0")}`),
      fc
        .tuple(fc.boolean(), digits(99_999_999), fc.integer({ min: 0, max: 99_999 }))
        .map(([minus, whole, places]) => `${minus ? "-" : ""}${whole}.${places}`),
      fc.tuple(digits(9), fc.integer({ min: -30, max: 30 })).map(([mantissa, exponent]) => `${mantissa}e${exponent}`),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }).map(String),
    );
    fc.assert(
      fc.property(decimal, (text) => {
        const value = new Prisma.Decimal(text);
        expect(serializeDecimal(value), text).toBe(value.toFixed(2));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("variables that fail coercion", () => {
  it.each([
    ["an Int", `query($n: Int) { users(first: $n) { totalCount } }`, { n: "x" }],
    ["a Decimal", `query($p: Decimal) { products(filter: { minPrice: $p }) { totalCount } }`, { p: "50.123" }],
    ["a DateTime", `query($d: DateTime) { orders(filter: { createdAfter: $d }) { totalCount } }`, { d: "yesterday" }],
    ["a Boolean", `query($b: Boolean) { users(filter: { active: $b }) { totalCount } }`, { b: "yes" }],
    ["an enum", `query($s: OrderStatus) { orders(filter: { status: $s }) { totalCount } }`, { s: "LOST" }],
    ["an ID", `query($id: ID!) { user(id: $id) { id } }`, { id: { nested: true } }],
    ["an input object with an unknown field", `query($f: UserFilter) { users(filter: $f) { totalCount } }`, { f: { nope: 1 } }],
    ["a missing required variable", `query($id: ID!) { user(id: $id) { id } }`, {}],
    [
      "a mutation's input with a wrong type",
      `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`,
      { i: { name: "X", email: "x@example.com", age: "old" } },
    ],
  ])("%s: BAD_USER_INPUT with graphql-js' message, HTTP 400, nothing written", async (_, query, variables) => {
    const before = await shop.snapshot();
    const { status, body } = await post(query, variables);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    const error = errorOf(body);
    expect(error.extensions?.code).toBe("BAD_USER_INPUT");
    expect(error.message).toMatch(/^Variable "\$\w+"/);
    expect(await shop.snapshot()).toBe(before);
  });

  it("an invalid default value is a validation error with a code, not an internal one", async () => {
    const { status, body } = await post(`query($n: Int = "x") { users(first: $n) { totalCount } }`);
    expect(status).toBe(400);
    expect(errorOf(body).extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});

describe("input rules", () => {
  it("reports every invalid field at once, the first also in `field`", async () => {
    const before = await shop.snapshot();
    const error = errorOf(await shop.gql(`mutation { createUser(input: { name: "  ", email: "nope", age: 151 }) { id } }`));
    expect(error.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    expect(error.extensions?.fields?.map((f) => f.field)).toEqual(["name", "email", "age"]);
    expect(error.message).toContain("name must not be empty.");
    expect(error.message).toContain("email must be an email address");
    expect(error.message).toContain("age must be a whole number from 0 to 150.");
    expect(await shop.snapshot()).toBe(before);
  });

  it.each([
    [
      "notes of 1,001 characters",
      `createOrder(input: { userId: "${gid("User", 1)}", items: [{ productId: "${gid("Product", 1)}", quantity: 1 }], notes: "${"n".repeat(1001)}" }) { id }`,
      "notes",
    ],
    [
      "a description of 5,001 characters",
      `createProduct(input: { name: "Big", price: "1.00", category: "C", description: "${"d".repeat(5001)}" }) { id }`,
      "description",
    ],
    ["a name of 201 characters", `createUser(input: { name: "${"a".repeat(201)}", email: "long@example.com" }) { id }`, "name"],
    [
      "an email of 255 characters",
      `createUser(input: { name: "Long", email: "${"e".repeat(243)}@example.com" }) { id }`,
      "email",
    ],
    ["a restock of 2147483647 units", `restockProduct(id: "${gid("Product", 1)}", quantity: 2147483647) { id }`, "quantity"],
    [
      "an order of 2147483647 units",
      `createOrder(input: { userId: "${gid("User", 1)}", items: [{ productId: "${gid("Product", 1)}", quantity: 2147483647 }] }) { id }`,
      "items.0.quantity",
    ],
    ["a stock of 2147483647", `updateProduct(id: "${gid("Product", 1)}", input: { stock: 2147483647 }) { id }`, "stock"],
    [
      "101 order lines",
      `createOrder(input: { userId: "${gid("User", 1)}", items: [${Array.from({ length: 101 }, (_, i) => `{ productId: "${gid("Product", i + 1)}", quantity: 1 }`).join(", ")}] }) { id }`,
      "items",
    ],
    ["a user id above 2^31", `updateUser(id: "${gid("User", MAX_DB_ID + 1)}", input: { age: 3 }) { id }`, "id"],
    [
      "a product id above 2^31 in an order line",
      `createOrder(input: { userId: "${gid("User", 1)}", items: [{ productId: "${gid("Product", 99999999999)}", quantity: 1 }] }) { id }`,
      "items.0.productId",
    ],
  ])("refuses %s with BAD_USER_INPUT naming it, and writes nothing", async (_, mutation, field) => {
    const before = await shop.snapshot();
    const error = errorOf(await shop.gql(`mutation { ${mutation} }`));
    expect(error.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    expect(await shop.snapshot()).toBe(before);
  });

  it("refuses ids above 2^31 in lookups with BAD_USER_INPUT", async () => {
    for (const query of [
      `{ user(id: "${gid("User", MAX_DB_ID + 1)}") { id } }`,
      `{ node(id: "${gid("Order", 2 ** 40)}") { id } }`,
      `{ orders(filter: { userId: "${gid("User", 2 ** 33)}" }) { totalCount } }`,
    ]) {
      expect(errorOf(await shop.gql(query)).extensions?.code).toBe("BAD_USER_INPUT");
    }
    // The largest id that fits is simply absent.
    expect(dataOf(await shop.gql(`{ user(id: "${gid("User", MAX_DB_ID)}") { id } }`))).toEqual({ user: null });
  });

  describe("text with a lone UTF-16 surrogate (half of a pair, no character)", () => {
    const WHY = "must be valid Unicode (it has a lone UTF-16 surrogate).";
    const product = gid("Product", 1);
    it.each([
      [
        "createUser",
        "name",
        `createUser(input: $input) { id }`,
        "CreateUserInput!",
        { name: "Ada\uD800", email: "ada@example.com" },
      ],
      [
        "createUser",
        "email",
        `createUser(input: $input) { id }`,
        "CreateUserInput!",
        { name: "Ada", email: "a\uDC00@example.com" },
      ],
      [
        "createProduct",
        "description",
        `createProduct(input: $input) { id }`,
        "CreateProductInput!",
        { name: "Lamp", price: "1.00", category: "Home", description: "\uDBFF" },
      ],
      [
        "createProduct",
        "category",
        `createProduct(input: $input) { id }`,
        "CreateProductInput!",
        { name: "Lamp", price: "1.00", category: "\uDFFF\uD800" },
      ],
      [
        "updateProduct",
        "name",
        `updateProduct(id: "${product}", input: $input) { id }`,
        "UpdateProductInput!",
        { name: "\uD83D" },
      ],
      [
        "createOrder",
        "notes",
        `createOrder(input: $input) { id }`,
        "CreateOrderInput!",
        { userId: gid("User", 1), items: [{ productId: product, quantity: 1 }], notes: "leave at the door \uD800" },
      ],
    ])("%s refuses %s with BAD_USER_INPUT naming it, and writes nothing", async (mutation, field, call, type, input) => {
      const before = await shop.snapshot();
      const res = await shop.gql(`mutation($input: ${type}) { ${call} }`, { input });
      expect(errorOf(res).extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field,
        fields: [{ field, message: `${field} ${WHY}` }],
      });
      expect(errorOf(res).message).toBe(`${field} ${WHY}`);
      expect(res.data?.[mutation] ?? null).toBeNull();
      expect(await shop.snapshot()).toBe(before);
    });

    it("is refused in a filter argument too", async () => {
      for (const [query, field] of [
        [`query($s: String) { products(filter: { search: $s }) { totalCount } }`, "filter.search"],
        [`query($s: String) { products(filter: { category: $s }) { totalCount } }`, "filter.category"],
        [`query($s: String) { users(filter: { search: $s }) { totalCount } }`, "filter.search"],
      ] as const) {
        const error = errorOf(await shop.gql(query, { s: "lamp\uDC00" }));
        expect([error.extensions?.code, error.extensions?.field, error.message]).toEqual([
          "BAD_USER_INPUT",
          field,
          `${field} ${WHY}`,
        ]);
      }
    });

    it("accepts a whole pair, stored as sent", async () => {
      const res = await shop.gql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id name } }`, {
        input: { name: "Shopper \uD83D\uDED2", email: "cart@example.com" },
      });
      expect(dataOf(res).createUser.name).toBe("Shopper 🛒");
      expect((await shop.prisma.user.findUniqueOrThrow({ where: { email: "cart@example.com" } })).name).toBe("Shopper 🛒");
    });
  });

  it("searches for % and _ as text, not as wildcards", async () => {
    dataOf(
      await shop.gql(`mutation { createUser(input: { name: "Cotton 100% Pure_Wool", email: "cotton@example.com" }) { id } }`),
    );
    for (const [search, expected] of [
      ["%", ["Cotton 100% Pure_Wool"]],
      ["_", ["Cotton 100% Pure_Wool"]],
      ["0% p", ["Cotton 100% Pure_Wool"]],
      ["e_w", ["Cotton 100% Pure_Wool"]],
      ["e%w", []],
    ] as const) {
      const res = await shop.gql(`query($s: String) { users(filter: { search: $s }) { edges { node { name } } } }`, {
        s: search,
      });
      expect(dataOf(res).users.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(expected);
    }
  });
});
