/**
 * GraphiQL's SQL panel in a real browser: headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core) opens GraphiQL, runs a query, opens the SQL tab and checks that it shows what the
 * response's `extensions.sql` says; then compares the strategies and checks the three rows against
 * the server's own counts; and keeps a subscription watching in the Live tab while GraphiQL itself
 * runs the mutation that triggers it, in one page, on PGlite and on PostgreSQL. Screenshots go to the system's temporary folder (and, with
 * UPDATE_SCREENSHOTS=1, to test/screenshots/ for the README). Skipped where no Chromium is
 * installed; `.ci/run` installs it.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gid } from "./support/ids.js";
import { createTestShop, dataOf, listen, type SqlReport, type TestShop } from "./support/shop.js";
import { waitFor } from "./support/wait.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((path) => existsSync(path));
const QUERY = `{ users(first: 4) { edges { node { name totalSpent orders { items { product { name } } } } } } }`;
const shots = process.env.UPDATE_SCREENSHOTS
  ? join(import.meta.dirname, "screenshots")
  : mkdtempSync(join(tmpdir(), "shop-graphiql-"));

let shop: TestShop;
let browser: Browser;
let page: Page;
let url: string;

// What the panel shows does not depend on a pooler: the PgBouncer project leaves this file out
// (vitest.config.ts).
describe.runIf(CHROMIUM)("GraphiQL's SQL panel, in Chromium", () => {
  beforeAll(async () => {
    // AUTH=off: GraphiQL opens without tokens, on the admin's tour.
    shop = await createTestShop({ seed: { users: 6, products: 5, ordersPerUser: 2, itemsPerOrder: 2 }, env: { AUTH: "off" } });
    ({ url } = await listen(shop));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1500, height: 1000 });
    // Waits end on what the page shows; on a busy machine that only takes longer.
    page.setDefaultTimeout(100_000);
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
  });

  it("shows the last response's statements, causes and timeline, and compares the strategies", async () => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    // A script or worker the page's Content-Security-Policy refused would show here.
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await page.goto(`${url}?query=${encodeURIComponent(QUERY)}`, { waitUntil: "load" });
    await page.waitForSelector(".graphiql-execute-button");
    await page.click(".graphiql-execute-button");
    const report = (await page
      .waitForFunction(() => (window as unknown as { shopSqlPanel: { report?: unknown } }).shopSqlPanel.report)
      .then((handle) => handle.jsonValue())) as SqlReport;
    // What the panel got is what the server reports for that query.
    const direct = await shop.gql(QUERY);
    expect(report.strategy).toBe("eager");
    expect(report.count).toBe(direct.extensions!.sql!.count);
    expect(report.statements.map((s) => s.sql)).toEqual(direct.extensions!.sql!.statements.map((s) => s.sql));

    // Open the SQL tab from GraphiQL's sidebar.
    const [tab] = await page.$$("xpath/.//div[contains(@class,'graphiql-sidebar')]//button[.//span[text()='SQL']]");
    expect(tab).toBeDefined();
    await tab!.click();
    await page.waitForSelector(".shop-sql-summary b[data-count]");
    const shown = await page.$eval(".shop-sql", (panel) => ({
      count: Number(panel.querySelector(".shop-sql-summary b")?.getAttribute("data-count")),
      statements: panel.querySelectorAll(".shop-sql-statement").length,
      lanes: panel.querySelectorAll(".shop-sql-lane").length,
      causes: [...panel.querySelectorAll(".shop-sql-cause")].map((cause) => cause.textContent),
      keywords: panel.querySelectorAll(".shop-sql-keyword").length,
    }));
    expect(shown.count).toBe(report.count);
    expect(shown.statements).toBe(report.statements.length);
    expect(shown.lanes).toBe(report.statements.length);
    expect(shown.causes[0]).toBe("users");
    expect(shown.causes[1]).toMatch(/^loader totalSpentOfUser: 4 keys from users\.edges\.node\.totalSpent/);
    expect(shown.keywords).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, "sql-panel.png") });

    // Compare: the same operation under each strategy, as the server counts it.
    await page.click(".shop-sql-compare-button");
    await page.waitForSelector(".shop-sql-compare tr[data-strategy='lazy']");
    const rows = await page.$$eval(".shop-sql-compare tbody tr", (trs) =>
      trs.map((tr) => [tr.getAttribute("data-strategy"), Number(tr.children[1]?.textContent)]),
    );
    const expected = [];
    for (const strategy of ["eager", "batched", "lazy"]) {
      const response = await shop.gql(QUERY, {}, { strategy });
      dataOf(response);
      expected.push([strategy, response.extensions!.sql!.count]);
    }
    expect(rows).toEqual(expected);
    expect(await page.$eval(".shop-sql-compare p", (p) => p.textContent)).toBe("The three results are identical.");
    await page.screenshot({ path: join(shots, "sql-panel-compare.png") });

    // A lazy request from the page: the panel puts the N+1 warnings first, as the response names them.
    const lazy = (await page.evaluate(
      async (query, header) => {
        const response = await fetch("/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", [header]: "lazy" },
          body: JSON.stringify({ query }),
        });
        return response.json();
      },
      QUERY,
      "x-loading-strategy",
    )) as { extensions: { sql: SqlReport } };
    const warnings = lazy.extensions.sql.warnings!.map((warning) => warning.field);
    expect(warnings).toEqual([
      "users.edges.node.totalSpent",
      "users.edges.node.orders",
      "users.edges.node.orders.items",
      "users.edges.node.orders.items.product",
    ]);
    await page.waitForSelector(".shop-sql-warning");
    const shownWarnings = await page.$$eval(".shop-sql-warning", (elements) => elements.map((element) => element.textContent));
    expect(shownWarnings).toHaveLength(warnings.length);
    for (const [i, field] of warnings.entries()) expect(shownWarnings[i]).toContain(field);
    expect(errors).toEqual([]);
  });

  it("keeps a subscription watching in the Live tab while GraphiQL runs the mutation that triggers it", async () => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    const operations = `subscription Watch { orderCreated { id total } }
mutation Place { createOrder(input: { userId: "${gid("User", 2)}", items: [{ productId: "${gid("Product", 3)}", quantity: 1 }] }) { id } }`;
    await page.goto(`${url}?query=${encodeURIComponent(operations)}`, { waitUntil: "load" });
    await page.waitForSelector(".graphiql-execute-button");
    const [tab] = await page.$$("xpath/.//div[contains(@class,'graphiql-sidebar')]//button[.//span[text()='LIVE']]");
    await tab!.click();
    /** Runs one operation of the document: GraphiQL asks which. */
    const run = async (name: string) => {
      // Not while GraphiQL still runs something (the button would stop it), nor before it has read
      // the tab's operations again (with one, the button runs it without asking): it offers a menu.
      await page.waitForSelector(".graphiql-execute-button[aria-label^='Execute'][aria-haspopup='menu']");
      await page.click(".graphiql-execute-button");
      const item = await page.waitForSelector(`xpath/.//*[@role='menuitem'][text()='${name}']`);
      await item!.click();
    };
    // The Live tab takes the subscription over: one subscriber, its own; GraphiQL's run ends at once
    // and says where the subscription went, so its tabs can be switched while Live watches.
    const watching = shop.subscribed("orderCreated", 1);
    await run("Watch");
    await watching;
    // (The response editor wraps long lines and writes spaces as no-break spaces.)
    await page.waitForFunction(() =>
      (document.querySelector(".graphiql-response")?.textContent ?? "")
        .replace(/\s+/g, " ")
        .includes("Watch runs in the LIVE tab (sidebar), which keeps watching while you switch tabs"),
    );
    // GraphiQL's tabs can be switched now (earlier tests' tabs may be restored from local storage).
    const tabs = () => page.$$eval(".graphiql-tab", (elements) => elements.map((e) => e.getAttribute("aria-selected")));
    const before = await tabs();
    const ours = before.indexOf("true") + 1;
    await page.click(".graphiql-tab-add");
    await page.waitForFunction((count) => document.querySelectorAll(".graphiql-tab").length === count, {}, before.length + 1);
    expect((await tabs()).at(-1)).toBe("true");
    await page.click(`.graphiql-tab:nth-child(${ours}) .graphiql-tab-button`);
    await page.waitForFunction(
      (n) => document.querySelector(`.graphiql-tab:nth-child(${n})`)?.getAttribute("aria-selected") === "true",
      {},
      ours,
    );
    // Its editor shows the two operations again before one is run.
    await page.waitForFunction(() =>
      (document.querySelector(".graphiql-query-editor")?.textContent ?? "").replace(/\s+/g, " ").includes("mutation Place"),
    );
    expect(shop.subscribers("orderCreated")).toBe(1);
    await run("Place");
    const event = await page.waitForSelector(".shop-live-event [data-count]");
    const placed = await shop.prisma.order.findFirstOrThrow({ orderBy: { id: "desc" }, select: { id: true } });
    const shown = await page.$eval(".shop-live-event pre", (element) => element.textContent ?? "");
    expect(JSON.parse(shown)).toMatchObject({ orderCreated: { id: gid("Order", placed.id) } });
    // The event's own SQL: the order, then its total through the loader.
    expect(await event!.evaluate((element) => [element.getAttribute("data-count"), element.textContent])).toEqual([
      "2",
      "2 statements: orderCreated; loader totalOfOrder: 1 key from orderCreated.total (1)",
    ]);
    await page.screenshot({ path: join(shots, "live-panel.png") });

    // The mutation is not run again to compare: the SQL tab says so and keeps the button off.
    const [sqlTab] = await page.$$("xpath/.//div[contains(@class,'graphiql-sidebar')]//button[.//span[text()='SQL']]");
    await sqlTab!.click();
    await page.waitForSelector(".shop-sql-note");
    expect(await page.$eval(".shop-sql-compare-button", (button) => (button as HTMLButtonElement).disabled)).toBe(true);

    // Stop ends the tab's subscription on the server too.
    await tab!.click();
    const stop = await page.waitForSelector("xpath/.//section[@data-status='watching']//button[text()='Stop']");
    await stop!.click();
    await page.waitForSelector("section[data-status='stopped']");
    await waitFor(async () => shop.subscribers("orderCreated") === 0);
    expect(errors).toEqual([]);
  });
});
