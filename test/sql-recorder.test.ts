/**
 * The recorder's share of the pool: a request has at most its cap of statements in flight outside
 * a transaction, and none held back inside one (the transaction already has its connection).
 */
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery } from "@prisma/driver-adapter-utils";
import { describe, expect, it } from "vitest";
import { faultOf } from "../src/db/faults.js";
import { DatabaseBusy, recordingAdapter, SqlRecorder, withSqlRecorder } from "../src/sql/recorder.js";
import { testDatabaseKind } from "./support/shop.js";

/**
 * A driver whose statements each take one turn of the event loop (or wait for `gate`), counting how
 * many overlap and keeping the order they ran in.
 */
function countingFactory(gate?: Promise<void>) {
  const seen = { inFlight: 0, most: 0, order: [] as string[] };
  const queryable = {
    async queryRaw(query: SqlQuery) {
      seen.most = Math.max(seen.most, ++seen.inFlight);
      seen.order.push(query.sql);
      await (gate ?? new Promise((resolve) => setImmediate(resolve)));
      seen.inFlight--;
      return { columnNames: [], columnTypes: [], rows: [[1]] };
    },
    async executeRaw(_query: SqlQuery) {
      return 1;
    },
  };
  const adapter = { ...queryable, startTransaction: async () => ({ ...queryable }) };
  const factory = { connect: async () => adapter } as unknown as SqlDriverAdapterFactory;
  return { seen, factory };
}

const query: SqlQuery = { sql: "SELECT 1", args: [], argTypes: [] };

describe.runIf(testDatabaseKind === "pglite")("statements in flight per request", () => {
  it("holds a request to its cap, records every statement, and lets other requests go beside it", async () => {
    const { seen, factory } = countingFactory();
    const adapter = (await recordingAdapter(factory).connect()) as SqlDriverAdapter;
    const first = new SqlRecorder(Number.POSITIVE_INFINITY, undefined, 2);
    const second = new SqlRecorder(Number.POSITIVE_INFINITY, undefined, 2);
    const thirty = () => Promise.all(Array.from({ length: 30 }, () => adapter.queryRaw(query)));
    await withSqlRecorder(first, thirty);
    expect(seen.most).toBe(2);
    expect(first.statements).toHaveLength(30);
    seen.most = 0;
    // Two requests at once: each has its own two.
    await Promise.all([withSqlRecorder(first, thirty), withSqlRecorder(second, thirty)]);
    expect(seen.most).toBe(4);
    expect([first.statements.length, second.statements.length]).toEqual([60, 30]);
  });

  it("does not hold back statements inside a transaction", async () => {
    const { seen, factory } = countingFactory();
    const adapter = (await recordingAdapter(factory).connect()) as SqlDriverAdapter;
    const recorder = new SqlRecorder(Number.POSITIVE_INFINITY, undefined, 1);
    await withSqlRecorder(recorder, async () => {
      const tx = await adapter.startTransaction();
      await Promise.all(Array.from({ length: 5 }, () => tx.queryRaw(query)));
    });
    expect(seen.most).toBe(5);
    expect(recorder.statements).toHaveLength(5);
  });

  it("still refuses the statement past the request's limit", async () => {
    const { factory } = countingFactory();
    const adapter = (await recordingAdapter(factory).connect()) as SqlDriverAdapter;
    const recorder = new SqlRecorder(3, undefined, 2);
    const results = await withSqlRecorder(recorder, () =>
      Promise.allSettled(Array.from({ length: 5 }, () => adapter.queryRaw(query))),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "rejected"]);
    expect(recorder.statements).toHaveLength(3);
  });

  it("shares the database: the request that has sent the fewest statements goes first", async () => {
    const { seen, factory } = countingFactory();
    const adapter = (await recordingAdapter(factory, { slots: 1, waitMs: 10_000 }).connect()) as SqlDriverAdapter;
    const heavy = new SqlRecorder(Number.POSITIVE_INFINITY, undefined, 10);
    const light = new SqlRecorder(Number.POSITIVE_INFINITY, undefined, 10);
    const heavyDone = withSqlRecorder(heavy, () =>
      Promise.all(Array.from({ length: 10 }, () => adapter.queryRaw({ ...query, sql: "heavy" }))),
    );
    const lightDone = withSqlRecorder(light, () => adapter.queryRaw({ ...query, sql: "light" }));
    await Promise.all([heavyDone, lightDone]);
    expect(seen.most).toBe(1);
    // The heavy request's first statement was already running; the light one goes next.
    expect(seen.order.indexOf("light")).toBe(1);
  });

  it("gives up on a wait for a free connection after the pool timeout, never on a statement that runs", async () => {
    let open!: () => void;
    const { factory } = countingFactory(new Promise<void>((resolve) => (open = resolve)));
    const adapter = (await recordingAdapter(factory, { slots: 1, waitMs: 50 }).connect()) as SqlDriverAdapter;
    const running = withSqlRecorder(new SqlRecorder(), () => adapter.queryRaw(query));
    const waiting = withSqlRecorder(new SqlRecorder(), () => adapter.queryRaw(query));
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseBusy);
    expect(faultOf(error)).toMatchObject({ code: "SERVICE_UNAVAILABLE", kind: "DatabaseBusy" });
    open();
    expect((await running).rows).toEqual([[1]]);
  });
});

describe.runIf(testDatabaseKind === "pglite")("a fresh record for a subscription's event", () => {
  it("stops with its client, unless detached: an event shared by several subscribers outlives the first to leave", () => {
    const client = new AbortController();
    const request = new SqlRecorder(100, client.signal, 5, "params");
    const own = request.fresh();
    const shared = request.fresh({ detached: true });
    expect([own.limit, own.explain, shared.limit, shared.explain]).toEqual([100, "params", 100, "params"]);
    client.abort();
    expect(() => own.admit()).toThrow(/went away/);
    expect(() => shared.admit()).not.toThrow();
  });
});
