/**
 * `npm run token -- --user <email|id> [--role admin] [--expires 1h]`
 * `npm run token -- --role admin`   (an operator token that names no customer, for scripts and tools)
 *
 * Prints a token signed with the configured secret (AUTH_JWT_SECRET) or the local one that
 * development creates; the token alone is the last line. With AUTH_JWKS_URL the identity provider
 * issues tokens, not this command.
 */
import { parseArgs } from "node:util";
import { createTokens, ROLES, type Role } from "../auth/tokens.js";
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase } from "../db.js";
import { runCli, UsageError, usageErrorOf } from "./run.js";

const USAGE = "usage: npm run token -- [--user <email|id>] [--role customer|admin] [--expires 1h]";

/** What a command line asks for; throws UsageError on a mistake. */
export function parseTokenArgs(args: string[]): { wanted: string | undefined; role: Role; expires: string } {
  let values: { user?: string; role?: string; expires?: string };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: { user: { type: "string" }, role: { type: "string" }, expires: { type: "string" } },
    }));
  } catch (error) {
    throw usageErrorOf(error, args);
  }
  const role = (values.role ?? "customer") as Role;
  if (!ROLES.includes(role)) throw new UsageError(`--role must be customer or admin; got ${values.role}.`);
  const expires = values.expires ?? "1h";
  if (!/^\d+[smhdw]$/.test(expires)) {
    throw new UsageError(`--expires takes a number and a unit (s, m, h, d, w), e.g. 30m; got ${expires}.`);
  }
  if (role === "customer" && !values.user) throw new UsageError("A customer token needs --user.");
  return { wanted: values.user, role, expires };
}

async function main() {
  const { wanted, role, expires } = parseTokenArgs(process.argv.slice(2));

  const config = loadConfig();
  if (config.auth.mode === "off") throw new ConfigError("AUTH=off: this server checks no tokens.");
  const tokens = createTokens(config.auth);
  if (!tokens.sign) throw new ConfigError("With AUTH_JWKS_URL your identity provider issues the tokens, not this command.");

  let user: { id: number; name: string } | null = null;
  if (wanted !== undefined) {
    const db = await openDatabase(config.database);
    try {
      const where = /^\d+$/.test(wanted) ? { id: Number(wanted) } : { email: wanted.trim().toLowerCase() };
      user = await db.prisma.user.findFirst({ where, select: { id: true, name: true, active: true } }).then((u) => {
        if (u && !u.active) throw new ConfigError(`User ${wanted} is inactive: the API would refuse the token.`);
        return u;
      });
    } finally {
      await db.close();
    }
    if (!user) throw new ConfigError(`No user ${wanted} in ${config.database.label}.`);
  }
  const token = await tokens.sign({ role, userId: user?.id ?? null }, expires);
  const who = user ? `${user.name} (user ${user.id})` : "an operator (no customer)";
  console.log(
    `${role === "admin" ? "An" : "A"} ${role} token for ${who}, valid for ${expires}; send it as Authorization: Bearer <token>.`,
  );
  console.log(token);
}

runCli(import.meta.url, USAGE, main);
