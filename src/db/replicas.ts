/**
 * Read replicas (DATABASE_REPLICA_URLS): PostgreSQL streaming standbys that a request's reads go
 * to once it is known to be a query (src/graphql/replicas.ts says so on the request's SQL recorder).
 * Writes, transactions, subscription events and everything outside a request stay on the primary.
 *
 * How far behind each replica is, is measured, not guessed: every CHECK_MS the primary's WAL
 * position is sampled, and a replica's lag is the age of the oldest sample it has not replayed yet
 * (0 when it has replayed them all, however long ago the last write was). A replica that does not
 * answer, or lags more than DATABASE_REPLICA_MAX_LAG_MS, is skipped until it is back; a read it
 * fails for want of a connection (or a conflict with recovery) runs again on the primary, so a
 * replica going away costs a request time, never its answer.
 */
import type { SqlDriverAdapter, SqlQuery, SqlResultSet } from "@prisma/driver-adapter-utils";
import type { Redis } from "ioredis";
import { currentReadFrom } from "../sql/recorder.js";
import { faultOf } from "./faults.js";

/** How often the primary's position and each replica's are read. */
export const CHECK_MS = 250;

export interface ReplicaStatus {
  name: string;
  status: "ok" | "lagging" | "down";
  /** How far behind it is, when it answers. */
  lagMs?: number;
}

interface Replica {
  name: string;
  conn: SqlDriverAdapter;
  up: boolean;
  lagMs: number | undefined;
}

/** `16/B374D848`, PostgreSQL's text form of a WAL position, as a number. */
function lsn(text: string): bigint {
  const [high = "0", low = "0"] = text.split("/");
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

async function scalar(conn: SqlDriverAdapter, sql: string): Promise<unknown[]> {
  const result: SqlResultSet = await conn.queryRaw({ sql, args: [], argTypes: [] });
  return result.rows[0] ?? [];
}

/** The replicas, their health and lag, and the choice of one for a read. */
export class ReplicaSet {
  readonly #replicas: Replica[];
  /** The primary's WAL positions, oldest first, with when they were read. */
  #samples: { lsn: bigint; at: number }[] = [];
  #next = 0;
  #checking = false;
  readonly #timer: NodeJS.Timeout;

  /** `primary` and `replicas`: connections of its own, for the checks. */
  constructor(
    private readonly primary: SqlDriverAdapter,
    replicas: { name: string; conn: SqlDriverAdapter }[],
    readonly maxLagMs: number,
  ) {
    this.#replicas = replicas.map((replica) => ({ ...replica, up: false, lagMs: undefined }));
    this.#timer = setInterval(() => void this.check(), CHECK_MS).unref();
  }

  /** Reads the primary's position, then each replica's; a replica that fails is down until it answers. */
  async check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      try {
        const [position] = await scalar(this.primary, "SELECT pg_current_wal_lsn()::text");
        const now = performance.now();
        this.#samples.push({ lsn: lsn(String(position)), at: now });
        // Older than any lag that still counts: dropped.
        while (this.#samples.length > 1 && now - this.#samples[0]!.at > this.maxLagMs + 10 * CHECK_MS) this.#samples.shift();
      } catch {
        // The primary is the readiness check's business; the replicas' lag is measured next time.
        return;
      }
      await Promise.all(this.#replicas.map((replica) => this.#measure(replica)));
    } finally {
      this.#checking = false;
    }
  }

  async #measure(replica: Replica): Promise<void> {
    try {
      const [replayed, recovering] = await scalar(replica.conn, "SELECT pg_last_wal_replay_lsn()::text, pg_is_in_recovery()");
      if (recovering !== true || replayed === null) throw new Error("not a standby");
      const position = lsn(String(replayed));
      const behind = this.#samples.find((sample) => sample.lsn > position);
      replica.lagMs = behind ? performance.now() - behind.at : 0;
      replica.up = true;
    } catch {
      replica.up = false;
      replica.lagMs = undefined;
    }
  }

  /** The index of a replica to read from (in turn among the healthy ones), or -1. */
  pick(): number {
    const healthy = this.#replicas.flatMap((r, i) => (r.up && r.lagMs !== undefined && r.lagMs <= this.maxLagMs ? [i] : []));
    if (healthy.length === 0) return -1;
    this.#next = (this.#next + 1) % healthy.length;
    return healthy[this.#next]!;
  }

  status(): ReplicaStatus[] {
    return this.#replicas.map(({ name, up, lagMs }) => ({
      name,
      status: !up ? "down" : (lagMs ?? 0) > this.maxLagMs ? "lagging" : "ok",
      ...(lagMs === undefined ? {} : { lagMs: Math.round(lagMs) }),
    }));
  }

  /**
   * The adapter Prisma and the loaders use, over their own connections to the primary and to each
   * replica (in the order given at construction): a read of a request that may read from a replica
   * goes to one; a read that fails there for want of the replica runs on the primary; all else is
   * the primary's.
   */
  router(primary: SqlDriverAdapter, replicas: SqlDriverAdapter[]): SqlDriverAdapter {
    const read = async (query: SqlQuery): Promise<SqlResultSet> => {
      const index = currentReadFrom() === "replica" ? this.pick() : -1;
      const replica = replicas[index];
      if (!replica) return primary.queryRaw(query);
      try {
        return await replica.queryRaw(query);
      } catch (error) {
        const fault = faultOf(error);
        // Gone, unreachable, or a read cancelled by the replica's recovery: the primary answers it.
        if (fault?.code !== "SERVICE_UNAVAILABLE" && !/conflict with recovery/i.test(String((error as Error).message))) {
          throw error;
        }
        this.#replicas[index]!.up = false;
        return primary.queryRaw(query);
      }
    };
    return new Proxy(primary, {
      get: (target, prop, receiver) => {
        if (prop === "queryRaw") return read;
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Who wrote lately: for a moment after a mutation its caller's queries read from the primary, long
 * enough for any replica still in use to have its write (the most lag allowed, and one check).
 * In Redis when there is one, so that the caller's next request sees its write on any instance.
 */
export class RecentWriters {
  readonly #local = new Map<string, number>();
  readonly #ttlMs: number;

  constructor(
    maxLagMs: number,
    private readonly redis?: Redis,
  ) {
    this.#ttlMs = maxLagMs + 2 * CHECK_MS;
  }

  wrote(key: string): void {
    const until = performance.now() + this.#ttlMs;
    this.#local.set(key, until);
    if (this.#local.size > 10_000) {
      for (const [k, t] of this.#local) if (t < performance.now()) this.#local.delete(k);
    }
    this.redis?.set(`shop-wrote:${key}`, "1", "PX", this.#ttlMs).catch(() => undefined);
  }

  async wroteLately(key: string): Promise<boolean> {
    const until = this.#local.get(key);
    if (until !== undefined && until > performance.now()) return true;
    if (!this.redis) return false;
    // Redis out of reach: the primary, to be safe.
    return (await this.redis.exists(`shop-wrote:${key}`).catch(() => 1)) === 1;
  }
}
