/**
 * Who is asking: read once per request (or per WebSocket operation) from the Authorization header,
 * before any resolver runs. A token that is present must be valid, and must name an active user.
 */
import type { AuthConfig } from "../config.js";
import { ShopError } from "../errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { createTokens, InvalidToken, type Role, type Tokens } from "./tokens.js";

/** The identity a request runs as. */
export interface Viewer {
  role: "anonymous" | Role;
  /** The user the token names: a customer always has one; an operator (admin without `sub`) none. */
  userId: number | null;
  /** When the token expires (ms since the epoch); none for anonymous callers and AUTH=off. */
  expiresAt?: number;
}

export const ANONYMOUS: Viewer = { role: "anonymous", userId: null };
/** Everyone, when AUTH=off: the whole API, as before authorization existed. */
export const UNCHECKED: Viewer = { role: "admin", userId: null };

/** A refused credential: 401, with the challenge GraphQL-over-HTTP clients expect. */
export function unauthenticated(message: string): ShopError {
  return new ShopError("UNAUTHENTICATED", message, {
    http: { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } },
  });
}

export interface Identify {
  (headers: Headers): Promise<Viewer>;
  tokens: Tokens | undefined;
}

/** Turns request headers into a viewer; the database confirms that a named user exists and is active. */
export function createIdentify(auth: AuthConfig, prisma: PrismaClient): Identify {
  if (auth.mode === "off") return Object.assign(async () => UNCHECKED, { tokens: undefined });
  const tokens = createTokens(auth);
  const identify = async (headers: Headers): Promise<Viewer> => {
    const header = headers.get("authorization")?.trim();
    if (!header) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthenticated("The Authorization header must be `Bearer <token>`.");
    let claims: Awaited<ReturnType<Tokens["verify"]>>;
    try {
      claims = await tokens.verify(match[1]!);
    } catch (error) {
      if (error instanceof InvalidToken) throw unauthenticated(error.message);
      throw error;
    }
    if (claims.userId !== null) {
      const user = await prisma.user.findFirst({ where: { id: claims.userId }, select: { active: true } });
      if (!user) throw unauthenticated("The token's user does not exist.");
      if (!user.active) throw unauthenticated("The token's user is inactive.");
    }
    return claims;
  };
  return Object.assign(identify, { tokens });
}
