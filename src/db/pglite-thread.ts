/**
 * Embedded PostgreSQL (PGlite) on a worker thread. PGlite runs PostgreSQL as WebAssembly on the
 * thread that calls it: on the server's own thread every statement would stop the event loop, so a
 * heavy request made every other request wait and a client that left could not even be noticed.
 * Here the worker owns PGlite and the server's thread only exchanges messages with it.
 *
 * `PGliteThread` offers the part of PGlite's API the Prisma adapter and the migrations use
 * (`query`, `exec`, `transaction`, `close`). Values that need the adapter's own parsers (dates,
 * numerics, JSON, bytes) cross the thread as PostgreSQL's text and are parsed on this side.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { messages, type Results, type Transaction } from "@electric-sql/pglite";

type Parser = (value: string, typeId: number) => unknown;
interface QueryOptions {
  rowMode?: "array" | "object";
  parsers?: Record<number, Parser>;
}

type Request =
  | { op: "query"; sql: string; params?: unknown[]; rowMode?: "array" | "object"; rawTypes: number[]; tx?: number }
  | { op: "exec"; sql: string; tx?: number }
  | { op: "begin" }
  | { op: "end"; tx: number; commit: boolean }
  | { op: "dump" }
  | { op: "close" };

/**
 * The worker's code, evaluated as a CommonJS script (no TypeScript to compile, no file to ship):
 * it opens PGlite and answers requests in order; a transaction holds PGlite's own lock until it
 * ends, so other requests wait, as they would in the same thread.
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { PGlite } = require(workerData.pglite);
const template = workerData.template && new Blob([require("node:fs").readFileSync(workerData.template)]);
const db = new PGlite({ dataDir: workerData.dataDir, ...(template ? { loadDataDir: template } : {}) });
const transactions = new Map();
let next = 1;
const raw = (types) => Object.fromEntries(types.map((type) => [type, (value) => value]));
const reply = (id, body) => parentPort.postMessage({ id, ...body });
const FIELDS = ["length", "severity", "code", "detail", "hint", "position", "internalPosition", "internalQuery", "where", "schema", "table", "column", "dataType", "constraint", "file", "line", "routine"];
const fail = (id, error) => {
  const fields = Object.fromEntries(FIELDS.filter((key) => error && error[key] !== undefined).map((key) => [key, error[key]]));
  reply(id, { error: { ...fields, name: error && error.name, message: String(error && error.message), isDatabaseError: !!error && "code" in error && "severity" in error } });
};
parentPort.on("message", async ({ id, request }) => {
  try {
    const target = request.tx ? transactions.get(request.tx).tx : db;
    switch (request.op) {
      case "query": {
        const result = await target.query(request.sql, request.params, { rowMode: request.rowMode, parsers: raw(request.rawTypes) });
        return reply(id, { result: { rows: result.rows, fields: result.fields, affectedRows: result.affectedRows } });
      }
      case "exec": {
        const results = await target.exec(request.sql);
        return reply(id, { result: results.map((r) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows })) });
      }
      case "begin": {
        const tx = next++;
        db.transaction((handle) => new Promise((end) => {
          transactions.set(tx, { tx: handle, end });
          reply(id, { result: tx });
        })).catch(() => undefined);
        return;
      }
      case "end": {
        const { tx, end } = transactions.get(request.tx);
        transactions.delete(request.tx);
        if (!request.commit) await tx.rollback();
        end();
        return reply(id, { result: true });
      }
      case "dump": {
        const bytes = new Uint8Array(await (await db.dumpDataDir("none")).arrayBuffer());
        return parentPort.postMessage({ id, result: bytes }, [bytes.buffer]);
      }
      case "close":
        await db.close();
        return reply(id, { result: true });
    }
  } catch (error) {
    fail(id, error);
  }
});
db.waitReady.then(() => parentPort.postMessage({ ready: true }), (error) => parentPort.postMessage({ ready: false, message: String(error && error.message) }));
`;

/** A PGlite error, rebuilt on this side so the Prisma adapter recognises it (it checks `instanceof`). */
function rebuild(error: Record<string, unknown>): Error {
  if (!error.isDatabaseError) return Object.assign(new Error(String(error.message)), error);
  const rebuilt = new messages.DatabaseError(String(error.message), Number(error.length ?? 0), "error");
  const { isDatabaseError: _, ...fields } = error;
  return Object.assign(rebuilt, fields);
}

/** Applies this side's parsers to the columns the worker sent as text. */
function parse(result: Results, parsers: Record<number, Parser> | undefined, rowMode: "array" | "object" | undefined): Results {
  if (!parsers) return result;
  const columns = result.fields.map((field, index) => ({
    key: rowMode === "array" ? index : field.name,
    parser: parsers[field.dataTypeID],
    type: field.dataTypeID,
  }));
  for (const row of result.rows as Record<string | number, unknown>[]) {
    for (const { key, parser, type } of columns) {
      if (parser && typeof row[key] === "string") row[key] = parser(row[key] as string, type);
    }
  }
  return result;
}

export class PGliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #next = 1;
  readonly waitReady: Promise<void>;

  /** `template`: a data directory dumped by `dump()`, which a new database starts as instead of empty. */
  constructor(dataDir: string | undefined, template?: string) {
    this.#worker = new Worker(WORKER, {
      eval: true,
      workerData: { dataDir, template, pglite: createRequire(import.meta.url).resolve("@electric-sql/pglite") },
    });
    // An idle worker must not keep the process alive on its own; one with work pending must.
    this.#worker.ref();
    this.waitReady = new Promise((resolve, reject) => {
      this.#worker.once("message", (message: { ready: boolean; message?: string }) => {
        if (this.#pending.size === 0) this.#worker.unref();
        if (message.ready) resolve();
        else reject(new Error(`The embedded database did not start: ${message.message}`));
      });
      this.#worker.once("error", reject);
    });
    // Its first statement gets the failure; until then (the server still loading) it is no crash.
    this.waitReady.catch(() => undefined);
    this.#worker.on("message", (message: { id?: number; result?: unknown; error?: Record<string, unknown> }) => {
      if (message.id === undefined) return;
      const call = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (message.error) call?.reject(rebuild(message.error));
      else call?.resolve(message.result);
    });
  }

  async #call<T>(request: Request): Promise<T> {
    // Replies from the worker arrive as a chain of callbacks that can keep the event loop from ever
    // reaching its I/O phase; stepping aside once per request lets sockets be read (and a client
    // that left be noticed) between statements.
    await new Promise((resolve) => setImmediate(resolve));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, request });
    });
  }

  async #query<T>(
    sql: string,
    params: unknown[] | undefined,
    options: QueryOptions | undefined,
    tx?: number,
  ): Promise<Results<T>> {
    await this.waitReady;
    const rawTypes = Object.keys(options?.parsers ?? {}).map(Number);
    const result = await this.#call<Results<T>>({ op: "query", sql, params, rowMode: options?.rowMode, rawTypes, tx });
    return parse(result as Results, options?.parsers, options?.rowMode) as Results<T>;
  }

  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.#query<T>(sql, params, options);
  }

  async exec(sql: string, tx?: number): Promise<Results[]> {
    await this.waitReady;
    return this.#call<Results[]>({ op: "exec", sql, tx });
  }

  /** Runs `fn` in one transaction: committed when it returns, rolled back when it throws or rolls back. */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    await this.waitReady;
    const id = await this.#call<number>({ op: "begin" });
    let ended = false;
    const end = async (commit: boolean) => {
      if (ended) return;
      ended = true;
      await this.#call({ op: "end", tx: id, commit });
    };
    const tx = {
      query: <R>(sql: string, params?: unknown[], options?: QueryOptions) => this.#query<R>(sql, params, options, id),
      exec: (sql: string) => this.exec(sql, id),
      rollback: () => end(false),
      get closed() {
        return ended;
      },
    } as unknown as Transaction;
    try {
      const result = await fn(tx);
      await end(true);
      return result;
    } catch (error) {
      await end(false);
      throw error;
    }
  }

  /** The whole data directory, as a tar archive a new PGliteThread can start from. */
  async dump(): Promise<Uint8Array> {
    await this.waitReady;
    return this.#call<Uint8Array>({ op: "dump" });
  }

  async close(): Promise<void> {
    await this.waitReady.catch(() => undefined);
    await this.#call({ op: "close" }).catch(() => undefined);
    await this.#worker.terminate();
  }
}
