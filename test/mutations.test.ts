/**
 * Writes: every mutation's happy path, every refusal with its code and field, and the rule that a
 * refused or failed mutation leaves the database exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbIdOf, gid } from "./support/ids.js";
import { createTestShop, type GraphQLResponse, type TestShop } from "./support/shop.js";

let shop: TestShop;

beforeAll(async () => {
  shop = await createTestShop({ seed: false });
});
afterAll(() => shop?.close());

function errorOf(response: GraphQLResponse) {
  expect(response.errors, JSON.stringify(response.data)).toHaveLength(1);
  return response.errors![0]!;
}

let seq = 0;
async function newUser(name = "Ada Lovelace") {
  const email = `user${++seq}@example.com`;
  const res = await shop.gql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id name email age active } }`, {
    input: { name, email },
  });
  expect(res.errors).toBeUndefined();
  return res.data.createUser as { id: string; name: string; email: string; age: number; active: boolean };
}

async function newProduct(stock: number, price = "10.00") {
  const res = await shop.gql(
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { id name price stock category } }`,
    { input: { name: `Widget ${++seq}`, price, stock, category: "Tools" } },
  );
  expect(res.errors).toBeUndefined();
  return res.data.createProduct as { id: string; price: string; stock: number };
}

const PLACE = `mutation($input: CreateOrderInput!) { createOrder(input: $input) { id status notes total itemCount items { quantity unitPrice subtotal product { id stock } } user { id } } }`;

describe("users", () => {
  it("creates a user with defaults and a normalized email", async () => {
    const res = await shop.gql(
      `mutation { createUser(input: { name: "  Grace Hopper ", email: "Grace@Example.COM" }) { name email age active orderCount totalSpent } }`,
    );
    expect(res.data.createUser).toEqual({
      name: "Grace Hopper",
      email: "grace@example.com",
      age: 0,
      active: true,
      orderCount: 0,
      totalSpent: "0.00",
    });
  });

  it("refuses a duplicate email with EMAIL_TAKEN, whatever its case", async () => {
    const user = await newUser();
    const before = await shop.snapshot();
    const err = errorOf(
      await shop.gql(`mutation($e: String!) { createUser(input: { name: "X", email: $e }) { id } }`, {
        e: user.email.toUpperCase(),
      }),
    );
    expect(err.extensions).toMatchObject({ code: "EMAIL_TAKEN", field: "email" });
    expect(await shop.snapshot()).toBe(before);
  });

  it.each([
    [{ name: "   ", email: "a@b.co" }, "name"],
    [{ name: "Bob", email: "not-an-email" }, "email"],
    [{ name: "Bob", email: "bob@example.com", age: -1 }, "age"],
  ])("refuses bad input %j naming the field", async (input, field) => {
    const before = await shop.snapshot();
    const err = errorOf(await shop.gql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input }));
    expect(err.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    expect(err.message).not.toMatch(/at .*\.ts:\d+/);
    expect(await shop.snapshot()).toBe(before);
  });

  it("updates only what is given, and reports unknown users and taken emails", async () => {
    const user = await newUser("Linus");
    const other = await newUser("Ken");
    const res = await shop.gql(
      `mutation($id: ID!) { updateUser(id: $id, input: { age: 42, active: false }) { name age active } }`,
      { id: user.id },
    );
    expect(res.data.updateUser).toEqual({ name: "Linus", age: 42, active: false });
    const taken = errorOf(
      await shop.gql(`mutation($id: ID!, $e: String!) { updateUser(id: $id, input: { email: $e }) { id } }`, {
        id: user.id,
        e: other.email,
      }),
    );
    expect(taken.extensions?.code).toBe("EMAIL_TAKEN");
    const missing = errorOf(await shop.gql(`mutation { updateUser(id: "${gid("User", 999999)}", input: { age: 1 }) { id } }`));
    expect(missing.extensions).toMatchObject({ code: "NOT_FOUND", field: "id" });
  });

  it("refuses an ID of another type with BAD_USER_INPUT", async () => {
    const product = await newProduct(1);
    const err = errorOf(
      await shop.gql(`mutation($id: ID!) { updateUser(id: $id, input: { age: 1 }) { id } }`, { id: product.id }),
    );
    expect(err.extensions?.code).toBe("BAD_USER_INPUT");
    const garbage = errorOf(await shop.gql(`{ user(id: "not-a-global-id") { id } }`));
    expect(garbage.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("deletes a user with their orders, returning held stock but not sold stock", async () => {
    const user = await newUser();
    const product = await newProduct(10);
    const place = (quantity: number) =>
      shop.gql(PLACE, { input: { userId: user.id, items: [{ productId: product.id, quantity }] } });
    const pending = (await place(2)).data.createOrder;
    const completed = (await place(3)).data.createOrder;
    for (const status of ["PROCESSING", "COMPLETED"]) {
      await shop.gql(`mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { id } }`, {
        id: completed.id,
        s: status,
      });
    }
    expect((await shop.prisma.product.findUniqueOrThrow({ where: { id: dbIdOf(product.id) } })).stock).toBe(5);

    const res = await shop.gql(`mutation($id: ID!) { deleteUser(id: $id) { name orders { status } } }`, { id: user.id });
    expect(res.data.deleteUser.orders.map((o: { status: string }) => o.status)).toEqual(["PENDING", "COMPLETED"]);
    expect(await shop.prisma.user.count({ where: { id: dbIdOf(user.id) } })).toBe(0);
    expect(await shop.prisma.order.count({ where: { id: { in: [dbIdOf(pending.id), dbIdOf(completed.id)] } } })).toBe(0);
    expect((await shop.prisma.product.findUniqueOrThrow({ where: { id: dbIdOf(product.id) } })).stock).toBe(7);
  });
});

describe("products", () => {
  it("creates, updates and restocks with exact money", async () => {
    const product = await newProduct(3, "19.99");
    expect(product).toMatchObject({ price: "19.99", stock: 3 });
    const updated = await shop.gql(
      `mutation($id: ID!) { updateProduct(id: $id, input: { price: "0.10", description: "Tiny" }) { price description } }`,
      { id: product.id },
    );
    expect(updated.data.updateProduct).toEqual({ price: "0.10", description: "Tiny" });
    const restocked = await shop.gql(`mutation($id: ID!) { restockProduct(id: $id, quantity: 7) { stock } }`, { id: product.id });
    expect(restocked.data.restockProduct.stock).toBe(10);
  });

  it.each([
    [`restockProduct(id: $id, quantity: 0) { id }`, "quantity"],
    [`updateProduct(id: $id, input: { price: "-1.00" }) { id }`, "price"],
    [`updateProduct(id: $id, input: { name: "" }) { id }`, "name"],
    [`updateProduct(id: $id, input: { stock: -5 }) { id }`, "stock"],
  ])("refuses %s naming the field", async (field, name) => {
    const product = await newProduct(1);
    const before = await shop.snapshot();
    const err = errorOf(await shop.gql(`mutation($id: ID!) { ${field} }`, { id: product.id }));
    expect(err.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: name });
    expect(await shop.snapshot()).toBe(before);
  });

  it("refuses a price with more than two decimals", async () => {
    const err = errorOf(await shop.gql(`mutation { createProduct(input: { name: "X", price: "1.999", category: "C" }) { id } }`));
    expect(err.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("refuses to delete a product in use, deletes one that is not", async () => {
    const user = await newUser();
    const used = await newProduct(5);
    const unused = await newProduct(5);
    await shop.gql(PLACE, { input: { userId: user.id, items: [{ productId: used.id, quantity: 1 }] } });
    const err = errorOf(await shop.gql(`mutation($id: ID!) { deleteProduct(id: $id) { id } }`, { id: used.id }));
    expect(err.extensions?.code).toBe("PRODUCT_IN_USE");
    const res = await shop.gql(`mutation($id: ID!) { deleteProduct(id: $id) { id } }`, { id: unused.id });
    expect(res.data.deleteProduct.id).toBe(unused.id);
    expect(await shop.prisma.product.count({ where: { id: dbIdOf(unused.id) } })).toBe(0);
    const again = errorOf(await shop.gql(`mutation($id: ID!) { deleteProduct(id: $id) { id } }`, { id: unused.id }));
    expect(again.extensions?.code).toBe("NOT_FOUND");
  });
});

describe("placing orders", () => {
  it("takes stock, snapshots prices, and derives the totals", async () => {
    const user = await newUser();
    const a = await newProduct(10, "2.50");
    const b = await newProduct(4, "100.00");
    const res = await shop.gql(PLACE, {
      input: {
        userId: user.id,
        notes: "leave at door",
        items: [
          { productId: a.id, quantity: 3 },
          { productId: b.id, quantity: 4 },
        ],
      },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.createOrder).toMatchObject({
      status: "PENDING",
      notes: "leave at door",
      total: "407.50",
      itemCount: 7,
      items: [
        { quantity: 3, unitPrice: "2.50", subtotal: "7.50", product: { id: a.id, stock: 7 } },
        { quantity: 4, unitPrice: "100.00", subtotal: "400.00", product: { id: b.id, stock: 0 } },
      ],
      user: { id: user.id },
    });
    // A later price change does not touch the order.
    await shop.gql(`mutation($id: ID!) { updateProduct(id: $id, input: { price: "3.00" }) { id } }`, { id: a.id });
    const again = await shop.gql(`query($id: ID!) { order(id: $id) { total } }`, { id: res.data.createOrder.id });
    expect(again.data.order.total).toBe("407.50");
  });

  it("refuses missing stock with INSUFFICIENT_STOCK and writes nothing", async () => {
    const user = await newUser();
    const plenty = await newProduct(10);
    const scarce = await newProduct(2);
    const before = await shop.snapshot();
    const err = errorOf(
      await shop.gql(PLACE, {
        input: {
          userId: user.id,
          items: [
            { productId: plenty.id, quantity: 5 },
            { productId: scarce.id, quantity: 3 },
          ],
        },
      }),
    );
    expect(err.extensions).toMatchObject({
      code: "INSUFFICIENT_STOCK",
      productId: scarce.id,
      available: 2,
      requested: 3,
      field: "items.1.quantity",
    });
    expect(await shop.snapshot()).toBe(before);
  });

  it("refuses unknown products and users with NOT_FOUND naming which, and writes nothing", async () => {
    const user = await newUser();
    const product = await newProduct(10);
    const before = await shop.snapshot();
    const ghost = gid("Product", 987654);
    const err = errorOf(
      await shop.gql(PLACE, {
        input: {
          userId: user.id,
          items: [
            { productId: product.id, quantity: 1 },
            { productId: ghost, quantity: 1 },
          ],
        },
      }),
    );
    expect(err.extensions).toMatchObject({ code: "NOT_FOUND", id: ghost, field: "items.1.productId" });
    expect(err.message).toContain(ghost);
    const noUser = errorOf(
      await shop.gql(PLACE, { input: { userId: gid("User", 987654), items: [{ productId: product.id, quantity: 1 }] } }),
    );
    expect(noUser.extensions).toMatchObject({ code: "NOT_FOUND", field: "userId" });
    expect(await shop.snapshot()).toBe(before);
  });

  it.each([
    [[], "items"],
    [[{ q: 0 }], "items.0.quantity"],
    [[{ q: 1 }, { q: 1, same: true }], "items.1.productId"],
  ])("refuses bad item lists (%j) with BAD_USER_INPUT", async (lines, field) => {
    const user = await newUser();
    const product = await newProduct(10);
    const other = await newProduct(10);
    const items = (lines as { q: number; same?: boolean }[]).map((line, i) => ({
      productId: i === 0 || line.same ? product.id : other.id,
      quantity: line.q,
    }));
    const before = await shop.snapshot();
    const err = errorOf(await shop.gql(PLACE, { input: { userId: user.id, items } }));
    expect(err.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    expect(await shop.snapshot()).toBe(before);
  });

  it("races deleteUser against createOrder and cancellations: codes a client can act on, no unit lost", async () => {
    for (let round = 0; round < 10; round++) {
      const user = await newUser();
      const product = await newProduct(7);
      const pending = (await shop.gql(PLACE, { input: { userId: user.id, items: [{ productId: product.id, quantity: 2 }] } }))
        .data.createOrder as { id: string };
      const responses = await Promise.all([
        shop.gql(PLACE, { input: { userId: user.id, items: [{ productId: product.id, quantity: 3 }] } }),
        shop.gql(`mutation($id: ID!) { deleteUser(id: $id) { id } }`, { id: user.id }),
        shop.gql(`mutation($id: ID!) { updateOrderStatus(id: $id, status: CANCELLED) { id } }`, { id: pending.id }),
      ]);
      for (const response of responses) {
        expect(["NOT_FOUND", undefined]).toContain(response.errors?.[0]?.extensions?.code);
      }
      expect(await shop.prisma.user.count({ where: { id: dbIdOf(user.id) } })).toBe(0);
      // The user and every order are gone, so every unit is back on the shelf.
      expect((await shop.prisma.product.findUniqueOrThrow({ where: { id: dbIdOf(product.id) } })).stock).toBe(7);
    }
  });

  it("never oversells when orders race for the last units", async () => {
    const product = await newProduct(5);
    const users = await Promise.all(Array.from({ length: 8 }, () => newUser()));
    const results = await Promise.all(
      users.map((user) => shop.gql(PLACE, { input: { userId: user.id, items: [{ productId: product.id, quantity: 1 }] } })),
    );
    const placed = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors?.[0]?.extensions?.code === "INSUFFICIENT_STOCK");
    expect(placed).toHaveLength(5);
    expect(refused).toHaveLength(3);
    expect((await shop.prisma.product.findUniqueOrThrow({ where: { id: dbIdOf(product.id) } })).stock).toBe(0);
    expect(
      await shop.prisma.orderItem.aggregate({ where: { productId: dbIdOf(product.id) }, _sum: { quantity: true } }),
    ).toMatchObject({ _sum: { quantity: 5 } });
  });
});

describe("order status", () => {
  const MOVE = `mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { status items { product { stock } } } }`;

  async function placed(stock = 10, quantity = 4) {
    const user = await newUser();
    const product = await newProduct(stock);
    const res = await shop.gql(PLACE, { input: { userId: user.id, items: [{ productId: product.id, quantity }] } });
    return { order: res.data.createOrder as { id: string }, product };
  }

  it("moves PENDING -> PROCESSING -> COMPLETED and counts it as spent and sold", async () => {
    const { order, product } = await placed(10, 4);
    for (const status of ["PROCESSING", "COMPLETED"]) {
      const res = await shop.gql(MOVE, { id: order.id, s: status });
      expect(res.data.updateOrderStatus.status).toBe(status);
    }
    const res = await shop.gql(
      `query($id: ID!, $p: ID!) { order(id: $id) { user { totalSpent } } product(id: $p) { unitsSold stock } }`,
      {
        id: order.id,
        p: product.id,
      },
    );
    expect(res.data).toEqual({ order: { user: { totalSpent: "40.00" } }, product: { unitsSold: 4, stock: 6 } });
  });

  it("cancelling returns the stock", async () => {
    const { order } = await placed(10, 4);
    const res = await shop.gql(MOVE, { id: order.id, s: "CANCELLED" });
    expect(res.data.updateOrderStatus).toEqual({ status: "CANCELLED", items: [{ product: { stock: 10 } }] });
  });

  it.each([
    ["PENDING", "COMPLETED"],
    ["PENDING", "PENDING"],
    ["COMPLETED", "CANCELLED"],
    ["CANCELLED", "PENDING"],
  ])("refuses %s -> %s with INVALID_STATUS_TRANSITION and changes nothing", async (from, to) => {
    const { order } = await placed();
    const path: Record<string, string[]> = { PENDING: [], COMPLETED: ["PROCESSING", "COMPLETED"], CANCELLED: ["CANCELLED"] };
    for (const step of path[from]!) await shop.gql(MOVE, { id: order.id, s: step });
    const before = await shop.snapshot();
    const err = errorOf(await shop.gql(MOVE, { id: order.id, s: to }));
    expect(err.extensions).toMatchObject({ code: "INVALID_STATUS_TRANSITION", from, to });
    expect(await shop.snapshot()).toBe(before);
  });
});
