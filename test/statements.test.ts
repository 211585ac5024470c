/**
 * Prepared statements per connection (src/db/statements.ts): a parameterized statement is parsed
 * once per connection and run by name after that, each connection keeps only its most recently used
 * ones, and nothing a failed transaction or concurrent use does leaves a name pointing nowhere.
 * PostgreSQL only: PGlite is one in-process connection with no network round trip or pool.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { faultOf } from "../src/db/faults.js";
import { statementCachingClient } from "../src/db/statements.js";
import { createTestShop, dataOf, type TestShop, testDatabaseKind, throughPooler } from "./support/shop.js";

interface Prepared {
  name: string;
  statement: string;
  runs: number;
}

const PREPARED_SQL =
  "SELECT name, statement, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements ORDER BY name";

const prepared = async (client: pg.ClientBase | pg.Pool) => (await client.query<Prepared>(PREPARED_SQL)).rows;

describe.runIf(testDatabaseKind === "postgres" && !throughPooler)("a connection's prepared statements", () => {
  const connectionString = process.env.TEST_DATABASE_URL;
  const clients: pg.Client[] = [];
  const open = async (size: number) => {
    const client = new (statementCachingClient(size))({ connectionString });
    clients.push(client);
    await client.connect();
    return client;
  };
  afterAll(() => Promise.all(clients.map((client) => client.end())));

  it("prepares a parameterized statement once and runs it by name after that", async () => {
    const client = await open(2);
    for (let i = 1; i <= 7; i++) {
      expect((await client.query("SELECT $1::int * 2 AS n", [i])).rows).toEqual([{ n: i * 2 }]);
    }
    // Without parameters (BEGIN, COMMIT, this very query) a statement is not worth a name.
    await client.query("SELECT 1");
    expect(await prepared(client)).toEqual([{ name: "shop_s1", statement: "SELECT $1::int * 2 AS n", runs: 7 }]);
  });

  it("keeps the most recently used statements, deallocates the one that falls out, and prepares it again when asked", async () => {
    const client = await open(2);
    const run = async (statement: "a" | "b" | "c", value: number) =>
      (await client.query<{ v: number; s: string }>(`SELECT $1::int AS v, '${statement}' AS s`, [value])).rows[0];
    const letter = (p: Prepared) => /'(\w)'/.exec(p.statement)?.[1];
    await run("a", 1);
    await run("b", 2);
    await run("a", 3); // a is now the more recent of the two
    expect(await run("c", 4)).toEqual({ v: 4, s: "c" }); // b falls out
    expect((await prepared(client)).map((p) => [p.name, letter(p), p.runs])).toEqual([
      ["shop_s1", "a", 2],
      ["shop_s3", "c", 1],
    ]);
    expect(await run("b", 5)).toEqual({ v: 5, s: "b" }); // a falls out; b gets a new name
    expect((await prepared(client)).map((p) => [p.name, letter(p), p.runs])).toEqual([
      ["shop_s3", "c", 1],
      ["shop_s4", "b", 1],
    ]);
  });

  it("retries a deallocation that a failed transaction refused, so the count stays bounded", async () => {
    const client = await open(1);
    await client.query("SELECT $1::int AS first", [1]);
    await client.query("BEGIN");
    // Preparing this one deallocates the first (the transaction is still good); running it fails the transaction.
    await expect(client.query("SELECT 1 / $1::int AS x", [0])).rejects.toThrow(/division by zero/);
    // This one's DEALLOCATE of the division, and its own parse, are refused with the transaction.
    await expect(client.query("SELECT $1::int AS second", [2])).rejects.toThrow(/current transaction is aborted/);
    await client.query("ROLLBACK");
    expect((await prepared(client)).map((p) => p.statement)).toEqual(["SELECT 1 / $1::int AS x"]);
    // The next eviction deallocates what is due: the refused one, and the one whose parse failed.
    expect((await client.query("SELECT $1::int AS third", [3])).rows).toEqual([{ third: 3 }]);
    expect((await prepared(client)).map((p) => [p.name, p.statement])).toEqual([["shop_s4", "SELECT $1::int AS third"]]);
    expect((await client.query("SELECT $1::int AS second", [2])).rows).toEqual([{ second: 2 }]);
    expect((await prepared(client)).map((p) => [p.name, p.statement])).toEqual([["shop_s5", "SELECT $1::int AS second"]]);
  });

  it("serves many statements at once on a pool whose connections keep fewer than are in use", async () => {
    const pool = new pg.Pool({ connectionString, max: 2, Client: statementCachingClient(3) });
    try {
      const texts = Array.from({ length: 6 }, (_, k) => `SELECT $1::int + ${k} AS v`);
      const results = await Promise.all(
        Array.from({ length: 120 }, async (_, i) => (await pool.query<{ v: number }>(texts[i % 6]!, [i])).rows[0]!.v),
      );
      expect(results).toEqual(Array.from({ length: 120 }, (_, i) => i + (i % 6)));
      // Both connections, held at once: each keeps at most three.
      const [one, two] = await Promise.all([pool.connect(), pool.connect()]);
      try {
        const counts = [(await prepared(one)).length, (await prepared(two)).length];
        expect(counts.every((count) => count >= 1 && count <= 3)).toBe(true);
      } finally {
        one.release();
        two.release();
      }
    } finally {
      await pool.end();
    }
  });

  it("prepares a statement again when a migration changed the type it returns, so the request still succeeds", async () => {
    const client = await open(5);
    await client.query("CREATE TEMP TABLE migrated (id int PRIMARY KEY, v int)");
    await client.query("INSERT INTO migrated VALUES (1, 7)");
    const read = () => client.query<{ v: number | string }>("SELECT v FROM migrated WHERE id = $1", [1]);
    expect((await read()).rows).toEqual([{ v: 7 }]);
    expect((await read()).rows).toEqual([{ v: 7 }]);
    await client.query("ALTER TABLE migrated ALTER COLUMN v TYPE bigint");
    // pg gives a bigint as text: the statement ran with its new type.
    expect((await read()).rows).toEqual([{ v: "7" }]);
    const names = (await prepared(client)).filter((p) => p.statement.includes("migrated")).map((p) => p.name);
    expect(names).toEqual(["shop_s2"]);
    // Inside a transaction the first attempt fails it: that error is the one reported, and the
    // statement is prepared afresh once the transaction is over.
    await client.query("BEGIN");
    await client.query("ALTER TABLE migrated ALTER COLUMN v TYPE int");
    const failed = await read().catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: "0A000", message: "cached plan must not change result type" });
    // A fault, not a bug: the request that sees it may retry.
    expect(faultOf(failed)).toMatchObject({ code: "SERVICE_UNAVAILABLE", kind: "0A000" });
    await client.query("ROLLBACK");
    expect((await read()).rows).toEqual([{ v: "7" }]);
  });

  it("prepares it again through a pool too, whose queries pass a callback", async () => {
    const pool = new pg.Pool({ connectionString, max: 1, Client: statementCachingClient(5) });
    try {
      await pool.query("CREATE TEMP TABLE pooled (id int PRIMARY KEY, v int)");
      await pool.query("INSERT INTO pooled VALUES (1, 7)");
      const read = () => pool.query<{ v: number | string }>("SELECT v FROM pooled WHERE id = $1", [1]);
      expect((await read()).rows).toEqual([{ v: 7 }]);
      await pool.query("ALTER TABLE pooled ALTER COLUMN v TYPE bigint");
      expect((await read()).rows).toEqual([{ v: "7" }]);
      expect(pool.totalCount).toBe(1);
      // Any other failure reaches the pool's caller as it is.
      await expect(pool.query("SELECT 1 / $1::int", [0])).rejects.toThrow(/division by zero/);
    } finally {
      await pool.end();
    }
  });

  it("is pg's own client when the size is 0", () => {
    expect(statementCachingClient(0)).toBe(pg.Client);
  });
});

describe.runIf(testDatabaseKind === "postgres")("the server's statements", () => {
  let shop: TestShop;
  beforeAll(async () => {
    // One connection, so the statements listed are the ones its requests ran.
    shop = await createTestShop({
      seed: { users: 3, products: 4, ordersPerUser: 2, itemsPerOrder: 2 },
      env: { DATABASE_POOL_MAX: "1" },
    });
  });
  afterAll(() => shop?.close());

  it("runs the eager plan's one statement prepared: parsed once, executed by name (not through PgBouncer)", async () => {
    const query = "{ users(first: 2) { edges { node { id orders { id items { quantity } } } } } }";
    const first = dataOf(await shop.gql(query, {}, { strategy: "eager" }));
    expect(dataOf(await shop.gql(query, {}, { strategy: "eager" }))).toEqual(first);
    const rows = await shop.prisma.$queryRawUnsafe<Prepared[]>(PREPARED_SQL);
    if (throughPooler) {
      expect(rows).toEqual([]);
      return;
    }
    const eager = rows.filter((row) => row.statement.includes('"__prisma_data__"'));
    expect(eager).toHaveLength(1);
    expect(eager[0]!.runs).toBe(2);
    expect(eager[0]!.statement).toContain("JSON_BUILD_OBJECT(");
  });

  it("answers as before when a migration changes the type of a column its prepared statements return", async () => {
    const query = "{ users(first: 2) { edges { node { name email } } } }";
    const before = dataOf(await shop.gql(query, {}, { strategy: "eager" }));
    dataOf(await shop.gql(query, {}, { strategy: "eager" }));
    await shop.prisma.$executeRawUnsafe('ALTER TABLE "User" ALTER COLUMN "name" TYPE varchar(500)');
    const after = await shop.gql(query, {}, { strategy: "eager" });
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual(before);
  });
});
