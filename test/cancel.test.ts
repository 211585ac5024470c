/**
 * A request whose client has gone is stopped: its remaining resolvers do not run and no further
 * statement is sent for it (an abandoned lazy query used to keep issuing SQL for a minute).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statementsSent } from "../src/sql/recorder.js";
import { capturedLog } from "./support/log.js";
import { createTestShop, listen, type TestShop } from "./support/shop.js";

let shop: TestShop;
let url: string;
const finished = new Map<string, () => void>();

beforeAll(async () => {
  // The request log tells when the server is done with a request, answered or not.
  const { logger } = capturedLog("info", (entry) => {
    if (entry.msg === "request") finished.get(entry.requestId)?.();
  });
  shop = await createTestShop({
    seed: { users: 40, products: 20, ordersPerUser: 4, itemsPerOrder: 3 },
    logger,
  });
  ({ url } = await listen(shop));
});
afterAll(() => shop?.close());

const QUERY = `{ users(first: 40) { edges { node { orders { items { product { name orderItems(first: 3) { id } } } } } } } }`;

describe("a client that goes away", () => {
  it("stops its request: the statements in flight finish, no new one starts, none after it ends", async () => {
    const token = await shop.token("admin");
    const post = (requestId: string, signal?: AbortSignal) =>
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-loading-strategy": "lazy",
          "x-request-id": requestId,
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query: QUERY }),
        signal,
      });

    let before = statementsSent();
    const whole = await (await post("cancel-whole")).json();
    const full = statementsSent() - before;
    expect(whole.extensions.sql.count).toBe(full);
    expect(full).toBeGreaterThan(500);

    const done = new Promise<void>((resolve) => finished.set("cancel-abandoned", resolve));
    const controller = new AbortController();
    before = statementsSent();
    const abandoned = post("cancel-abandoned", controller.signal).catch((error: Error) => error);
    // Leave once the request is under way.
    for (let i = 0; statementsSent() - before < 20; i++) {
      if (i > 1_000_000) throw new Error("the request never started");
      await new Promise((resolve) => setImmediate(resolve));
    }
    const atAbort = statementsSent() - before;
    controller.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    await done;
    const sent = statementsSent() - before;
    console.log(`abandoned after ${atAbort} statements: ${sent} sent in all, of the ${full} the whole query takes`);
    // The statements already in flight finish (a request has at most `MAX_CONCURRENT_STATEMENTS`);
    // no new one starts once the server knows the client is gone.
    expect(sent).toBeLessThanOrEqual(atAbort + 2 * shop.app.config.limits.concurrentStatements);
    // Nothing more is sent once the server is done with it.
    await shop.gql("{ __typename }");
    expect(statementsSent() - before).toBe(sent);
  });
});
