/** Waiting for something the server or the database reports, never for a length of time. */
import type pg from "pg";

/** Polls `condition` every 10 ms, a bounded number of times; throws if it never holds. */
export async function waitFor(condition: () => Promise<boolean>, attempts = 5000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the condition never held");
}

/** How many backends of `client`'s database are waiting on a lock (such as one `client` holds). */
export async function lockWaiters(client: pg.Client): Promise<number> {
  // Inside a transaction PostgreSQL keeps showing the statistics it read first; read them afresh.
  await client.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await client.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
  );
  return rows[0].n;
}
