/**
 * Embedded databases for the test shops of one test worker, kept between shops: each starts as
 * the migrated template (test/support/pglite-template.ts) and, when its shop closes, is emptied
 * (every table truncated, ids restarted) and kept for the next shop of the worker, which then opens
 * in milliseconds instead of the second or so a new PGlite takes. A database whose schema a test
 * left changed (a table renamed, a trigger added) is not kept: it is closed, and the next shop gets
 * a new one.
 */
import type { PGliteLease } from "../../src/db/database.js";
import { PGliteThread } from "../../src/db/pglite-thread.js";

/** The schema as the template has it: tables, columns, indexes, triggers and functions of `public`. */
const FINGERPRINT = `SELECT md5(concat_ws('|',
  (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)
     FROM information_schema.columns WHERE table_schema = 'public'),
  (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'),
  (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
  (SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public')
)) AS fingerprint`;

const EMPTY = `TRUNCATE "OrderItem", "Order", "Product", "User" RESTART IDENTITY CASCADE`;

const idle: PGliteThread[] = [];
let expected: Promise<string> | undefined;

async function fingerprint(client: PGliteThread): Promise<string> {
  const { rows } = await client.query<{ fingerprint: string }>(FINGERPRINT);
  return rows[0]!.fingerprint;
}

/** An embedded database for one shop: a kept one, emptied, or a new one from `templatePath`. */
export function leasePglite(template: string): PGliteLease {
  const client = idle.pop() ?? new PGliteThread(undefined, template);
  expected ??= fingerprint(client);
  return {
    client,
    async release() {
      try {
        if ((await fingerprint(client)) !== (await expected)) throw new Error("the schema was changed");
        await client.exec(EMPTY);
        idle.push(client);
      } catch {
        await client.close();
      }
    },
  };
}
