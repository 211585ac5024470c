/**
 * `npm run token -- --user <email|id> [--role admin] [--expires 1h]`
 * `npm run token -- --role admin`   (an operator token that names no customer, for scripts and tools)
 *
 * Prints a token signed with the configured secret (AUTH_JWT_SECRET) or the local one that
 * development creates; the token alone is the last line. With AUTH_JWKS_URL the identity provider
 * issues tokens, not this command. A user named by id needs no look-up (the server checks the user
 * on every request); one named by email is looked up in the database, or, while a server holds the
 * embedded one, asked of that server.
 */
import { parseArgs } from "node:util";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { createTokens, ROLES, type Role, type Tokens } from "../auth/tokens.js";
import { type Config, ConfigError, loadConfig } from "../config.js";
import { type Database, DatabaseInUse, openDatabase } from "../db/database.js";
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

/** A user as the token command names it. */
interface Named {
  id: number;
  name: string;
  active: boolean;
}

/**
 * The user with this email, asked of the running server that holds the embedded database (its
 * address is in the database's lock), with an operator token signed here.
 */
async function askServer(url: string, email: string, tokens: Tokens): Promise<Named | null> {
  const operator = await tokens.sign!({ role: "admin", userId: null }, "1m");
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${operator}` },
    body: JSON.stringify({
      query:
        "query($email: String!) { users(first: 100, filter: { search: $email }) { edges { node { id name email active } } } }",
      variables: { email },
    }),
  }).catch((error: Error) => {
    throw new ConfigError(`The server at ${url} holds the database but does not answer (${error.message}).`);
  });
  const body = (await response.json()) as {
    data?: { users: { edges: { node: { id: string; name: string; email: string; active: boolean } }[] } };
    errors?: { message: string }[];
  };
  if (!body.data) throw new ConfigError(`The server at ${url} refused: ${body.errors?.[0]?.message ?? response.status}.`);
  const found = body.data.users.edges.find(({ node }) => node.email === email)?.node;
  return found ? { id: Number(decodeGlobalID(found.id).id), name: found.name, active: found.active } : null;
}

/** The user an email names: from the database, or from the server that holds the embedded one. */
async function userByEmail(config: Config, email: string, tokens: Tokens): Promise<Named | null> {
  let db: Database;
  try {
    db = await openDatabase(config.database);
  } catch (error) {
    if (error instanceof DatabaseInUse && error.url) return askServer(error.url, email, tokens);
    throw error;
  }
  try {
    return await db.prisma.user.findFirst({ where: { email }, select: { id: true, name: true, active: true } });
  } finally {
    await db.close();
  }
}

/** Signs the token a command line asks for; returns the two lines the command prints (what, then the token). */
export async function tokenCommand(args: string[], config: Config = loadConfig()): Promise<[string, string]> {
  const { wanted, role, expires } = parseTokenArgs(args);
  if (config.auth.mode === "off") throw new ConfigError("AUTH=off: this server checks no tokens.");
  const tokens = createTokens(config.auth);
  if (!tokens.sign) throw new ConfigError("With AUTH_JWKS_URL your identity provider issues the tokens, not this command.");

  let who = "an operator (no customer)";
  let userId: number | null = null;
  if (wanted !== undefined && /^\d+$/.test(wanted)) {
    // By id, nothing to look up: the server checks on every request that the user exists and is active.
    userId = Number(wanted);
    who = `user ${userId}`;
  } else if (wanted !== undefined) {
    const user = await userByEmail(config, wanted.trim().toLowerCase(), tokens);
    if (!user) throw new ConfigError(`No user ${wanted} in ${config.database.label}.`);
    if (!user.active) throw new ConfigError(`User ${wanted} is inactive: the API would refuse the token.`);
    userId = user.id;
    who = `${user.name} (user ${user.id})`;
  }
  const token = await tokens.sign({ role, userId }, expires);
  return [
    `${role === "admin" ? "An" : "A"} ${role} token for ${who}, valid for ${expires}; send it as Authorization: Bearer <token>.`,
    token,
  ];
}

runCli(import.meta.url, USAGE, async () => {
  for (const line of await tokenCommand(process.argv.slice(2))) console.log(line);
});
