/**
 * The front-end path, end to end: graphql-codegen turns the committed schema and the client's
 * operations into typed documents, `tsc` accepts the client (and rejects a misuse of its types),
 * and the client, on urql, gets typed results from a listening server.
 */
import { execFile } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { generate } from "@graphql-codegen/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import config from "../codegen.js";
import { gid } from "./support/ids.js";
import { createTestShop, listen, type TestShop, testDatabaseKind } from "./support/shop.js";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const root = new URL("..", import.meta.url);
const run = (...args: string[]) => promisify(execFile)(process.execPath, [tsc, ...args], { cwd: root });

// Codegen writes one folder; one project generating it is enough (the other database adds nothing here).
describe.runIf(testDatabaseKind === "pglite")("a typed client from graphql-codegen", () => {
  let shop: TestShop;
  let server: { url: string };

  beforeAll(async () => {
    await generate({ ...config, cwd: root.pathname, silent: true }, true);
    // The server runs the client's trusted documents and nothing else.
    shop = await createTestShop({
      seed: { users: 6, products: 4, ordersPerUser: 2, itemsPerOrder: 1 },
      env: { PERSISTED_OPERATIONS: "only", PERSISTED_OPERATIONS_FILE: "test/client/generated/persisted-documents.json" },
    });
    server = await listen(shop);
  });
  afterAll(async () => {
    await shop?.close();
  });

  it("type-checks against the generated types", async () => {
    await expect(run("-p", "test/client/tsconfig.json")).resolves.toBeDefined();
  });

  it("rejects code that misuses them", async () => {
    copyFileSync(new URL("client/type-error.ts.txt", import.meta.url), new URL("client/generated/must-fail.ts", import.meta.url));
    writeFileSync(
      new URL("client/generated/tsconfig.must-fail.json", import.meta.url),
      JSON.stringify({ extends: "../tsconfig.json", include: ["must-fail.ts"] }),
    );
    const failed = await run("-p", "test/client/generated/tsconfig.must-fail.json").then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failed).toMatch(/must-fail\.ts.*TS2322/); // string is not a number
    expect(failed).toMatch(/must-fail\.ts.*TS2339/); // no such field in the query
  });

  it("gets typed results from a listening server", async () => {
    const { shopClient, customers, placeOrder } = await import("./client/client.js");
    const client = shopClient(server.url, await shop.token("admin"));
    const page = await customers(client, 3);
    const expected = await shop.prisma.user.findMany({ orderBy: [{ name: "asc" }, { id: "asc" }], take: 3 });
    expect(page.total).toBe(6);
    expect(page.customers.map((c) => c.name)).toEqual(expected.map((u) => u.name));
    expect(page.customers.every((c) => /^\d+\.\d{2}$/.test(c.totalSpent))).toBe(true);

    const product = await shop.prisma.product.findFirstOrThrow({ where: { stock: { gt: 0 } } });
    const placed = await placeOrder(client, gid("User", 1), gid("Product", product.id), 1);
    expect(placed).toMatchObject({ status: "PENDING", total: product.price.toFixed(2), stock: product.stock - 1 });
    // Anything but the trusted documents is refused, even for an admin.
    const arbitrary = await shop.gql("{ products(first: 1) { totalCount } }");
    expect(arbitrary.data).toBeUndefined();
    expect(arbitrary.errors?.[0]?.message).toMatch(/persisted/i);
  });
});
