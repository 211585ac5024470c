/** Unexpected failures reach the client masked, with a stable code, and reach the log with their cause. */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestShop, type TestShop } from "./support/shop.js";

let shop: TestShop;

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 3, products: 3, ordersPerUser: 1, itemsPerOrder: 1 } });
});
afterAll(() => shop?.close());

describe("an unexpected error", () => {
  it("is masked as 'Unexpected error.' with INTERNAL_SERVER_ERROR, and logged with its cause", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    // A database failure the API does not expect: the table is gone.
    await shop.prisma.$executeRawUnsafe(`ALTER TABLE "Product" RENAME TO "ProductGone"`);
    try {
      const res = await shop.gql(`{ products(first: 1) { edges { node { name } } } }`);
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toMatchObject({
        message: "Unexpected error.",
        extensions: { code: "INTERNAL_SERVER_ERROR" },
        path: ["products"],
      });
      expect(JSON.stringify(res)).not.toMatch(/Product|stack|at .*\.ts/);
      expect(logged).toHaveBeenCalled();
      expect(
        String(
          logged.mock.calls
            .flat()
            .map((arg) => (arg instanceof Error ? arg.message : arg))
            .join(" "),
        ),
      ).toMatch(/Product/);
    } finally {
      await shop.prisma.$executeRawUnsafe(`ALTER TABLE "ProductGone" RENAME TO "Product"`);
      logged.mockRestore();
    }
    const healthy = await shop.gql(`{ products(first: 1) { totalCount } }`);
    expect(healthy.data).toEqual({ products: { totalCount: 3 } });
  });
});
