/**
 * Faults of the database: not the client's doing and not a bug, so neither BAD_USER_INPUT nor
 * INTERNAL_SERVER_ERROR. A request that meets one gets SERVICE_UNAVAILABLE (the database is down,
 * unreachable, or every connection is busy) or TIMEOUT (a statement or transaction took too long),
 * both retryable; and the server can say in one line at start what is wrong and how to fix it.
 */

/** What went wrong, in terms an operator and a client can act on. */
export interface Fault {
  code: "SERVICE_UNAVAILABLE" | "TIMEOUT";
  /** The kind Prisma's driver adapter names (DatabaseNotReachable, …) or PostgreSQL's SQLSTATE. */
  kind: string;
  detail: string;
}

const UNAVAILABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "DatabaseDoesNotExist",
  "DatabaseAccessDenied",
  "TableDoesNotExist",
  // Ours (sql-recorder.ts): every connection stayed busy for the pool timeout.
  "DatabaseBusy",
]);
/**
 * SQLSTATEs of waiting too long: a statement cancelled by statement_timeout (57014), a session
 * ended by idle_in_transaction_session_timeout (25P03), which the server can hit before Prisma's own
 * transaction timeout does since both are set to DATABASE_TRANSACTION_TIMEOUT_MS.
 */
const TIMEOUT_STATES = /^(57014|25P03)$/;
/** SQLSTATEs of a server going away or not taking connections (classes 08, 53, 57P). */
const UNAVAILABLE_STATES = /^(08\w{3}|53300|57P0[1-4])$/;
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED|ECONNRESET|EPIPE|Can't reach database server|Client has encountered a connection error|Unable to start a transaction in the given time|Cannot use a pool after calling end/i;
const TIMEOUT_MESSAGES = /expired transaction|Query read timeout/i;
/**
 * A prepared statement whose result columns a migration changed (0A000): the connection prepares
 * it again (src/db/statements.ts), so only a transaction it failed sees it, and a retry works.
 */
const STALE_PLAN = /cached plan must not change result type/;

/** Everything an error carries, outermost first: Prisma wraps the driver's error in `meta` or `cause`. */
function* causes(error: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  let current = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    yield current as Record<string, unknown>;
    const e = current as { cause?: unknown; meta?: { driverAdapterError?: unknown }; originalError?: unknown };
    current = e.meta?.driverAdapterError ?? e.cause ?? e.originalError;
  }
}

/** The fault an error reports, if it is one. */
export function faultOf(error: unknown): Fault | undefined {
  const chain = [...causes(error)];
  // The driver's own report (a kind, a SQLSTATE) says more than the messages wrapped around it.
  for (const e of chain) {
    const kind = typeof e.kind === "string" ? e.kind : undefined;
    const state = String(e.originalCode ?? e.code ?? "");
    if (TIMEOUT_STATES.test(state)) return { code: "TIMEOUT", kind: state, detail: String(e.originalMessage ?? e.message ?? "") };
    if (kind && UNAVAILABLE_KINDS.has(kind)) return { code: "SERVICE_UNAVAILABLE", kind, detail: describe(e) };
    if (UNAVAILABLE_STATES.test(state)) return { code: "SERVICE_UNAVAILABLE", kind: state, detail: describe(e) };
    if (state === "0A000" && STALE_PLAN.test(String(e.originalMessage ?? e.message ?? ""))) {
      return { code: "SERVICE_UNAVAILABLE", kind: state, detail: describe(e) };
    }
  }
  for (const e of chain) {
    const message = typeof e.message === "string" ? e.message : "";
    if (TIMEOUT_MESSAGES.test(message)) return { code: "TIMEOUT", kind: "timeout", detail: message.trim().split("\n").at(-1)! };
    if (UNAVAILABLE_MESSAGES.test(message)) {
      return { code: "SERVICE_UNAVAILABLE", kind: "connection", detail: message.trim().split("\n").at(-1)! };
    }
  }
  return undefined;
}

function describe(e: Record<string, unknown>): string {
  if (e.host) return `${e.host}:${e.port} does not answer`;
  return String(e.originalMessage ?? e.message ?? e.kind ?? e.code);
}

/** The one line `npm start` or `npm run db:migrate` prints for a fault found at start, with the fix. */
export function startupLine(fault: Fault, label: string, url: URL | undefined, waitedMs = 0): string {
  const waited = waitedMs ? ` after ${Math.round(waitedMs / 1000)} s` : "";
  const database = url?.pathname.slice(1) || "the database";
  const where = url
    ? `-h ${url.hostname} -p ${url.port || 5432}${url.username ? ` -U ${decodeURIComponent(url.username)}` : ""}`
    : "";
  switch (fault.kind) {
    case "DatabaseDoesNotExist":
      return `${label}: database "${database}" does not exist. Create it (createdb ${where} ${database}), then run npm run db:migrate.`;
    case "DatabaseAccessDenied":
      return `${label}: the server refused the login (${fault.detail}). Check the user and password in DATABASE_URL.`;
    case "TableDoesNotExist":
      return `${label}: the tables are missing. Run npm run db:migrate.`;
    default:
      return `${label} is not reachable${waited} (${fault.detail || fault.kind}). Start PostgreSQL, or check DATABASE_URL.`;
  }
}
