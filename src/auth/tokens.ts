/**
 * Bearer tokens (JWT), verified with `jose`: HS256 with a shared secret, or the identity provider's
 * keys from a JWKS URL. The server stores no passwords; an identity provider issues tokens, and for
 * local work `npm run token` signs them with the local secret.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify, SignJWT } from "jose";
import type { AuthConfig } from "../config.js";

/** Issuer and audience of locally signed tokens, so they are never mistaken for a provider's. */
export const LOCAL_ISSUER = "shop-api-local";
export const LOCAL_AUDIENCE = "shop-api";

export const ROLES = ["customer", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** What a verified token says: the role, and the user it names (an operator token names none). */
export interface TokenClaims {
  role: Role;
  userId: number | null;
  /** When it expires (ms since the epoch): a subscription made with it ends then. */
  expiresAt?: number;
}

/** A token that cannot be trusted; the message says why, for the client and the log. */
export class InvalidToken extends Error {
  override name = "InvalidToken";
}

export interface Tokens {
  verify(token: string): Promise<TokenClaims>;
  /**
   * Signs a token that expires after `expiresIn` (e.g. "1h"): only with a secret, since a JWKS
   * names keys this server does not hold.
   */
  sign?(claims: TokenClaims, expiresIn: string): Promise<string>;
  /**
   * With a secret: the `kid` its tokens carry, a digest of the secret that reveals nothing of it.
   * GraphiQL compares it with a saved token's to tell one signed with an older secret.
   */
  keyId?: string;
}

/** The local secret, created once with owner-only permissions. */
export function localSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return secret;
}

function claimsOf(payload: JWTPayload): TokenClaims {
  const role = payload.role ?? "customer";
  if (!ROLES.includes(role as Role)) throw new InvalidToken(`The token's role must be customer or admin.`);
  const sub = payload.sub;
  if (sub === undefined) {
    if (role !== "admin") throw new InvalidToken("A customer token must name its user in `sub`.");
    return { role: "admin", userId: null, expiresAt: expiryOf(payload) };
  }
  if (!/^\d{1,10}$/.test(sub) || Number(sub) < 1 || Number(sub) > 2_147_483_647) {
    throw new InvalidToken("The token's `sub` must be a user id.");
  }
  return { role: role as Role, userId: Number(sub), expiresAt: expiryOf(payload) };
}

const expiryOf = (payload: JWTPayload) => (payload.exp === undefined ? undefined : payload.exp * 1000);

/**
 * How far in the future a token's `iat` may be: the issuer's clock and ours may differ a little,
 * but a token "issued" later than that was made to outlive its stated lifetime.
 */
const MAX_CLOCK_SKEW_S = 60;

/** Refuses a token issued in the future (beyond the clock skew); jose checks `iat` only for an age limit. */
function issuedInThePast(payload: JWTPayload): JWTPayload {
  if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + MAX_CLOCK_SKEW_S) {
    throw new InvalidToken(
      `The token's iat claim is more than ${MAX_CLOCK_SKEW_S} s in the future: it cannot have been issued yet (check the issuer's clock).`,
    );
  }
  return payload;
}

/** Why jose refused a token, in words a client can act on. */
function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "The token has expired.";
  if (error instanceof errors.JWTClaimValidationFailed && error.reason === "missing") {
    return error.claim === "exp"
      ? "The token has no exp claim: tokens that never expire are not accepted."
      : `The token has no ${error.claim} claim.`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) return `The token's ${error.claim} claim is not accepted.`;
  if (error instanceof errors.JOSEAlgNotAllowed) return "The token's signing algorithm is not accepted.";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is not valid.";
  if (error instanceof InvalidToken) return error.message;
  return "The token is not a valid JWT.";
}

/** The token verifier (and signer, with a secret) the configuration asks for. */
export function createTokens(auth: Extract<AuthConfig, { mode: "jwt" }>): Tokens {
  const local = auth.secret?.kind === "local";
  const issuer = auth.issuer ?? (local ? LOCAL_ISSUER : undefined);
  const audience = auth.audience ?? (local ? LOCAL_AUDIENCE : undefined);
  // A token without `exp` would be valid forever, however it leaked.
  const checks = { issuer, audience, requiredClaims: ["exp"] };
  if (auth.secret) {
    const key = new TextEncoder().encode(auth.secret.kind === "local" ? localSecret(auth.secret.file) : auth.secret.value);
    const keyId = createHash("sha256").update("shop-api key id\0").update(key).digest("base64url").slice(0, 16);
    return {
      keyId,
      async verify(token) {
        try {
          return claimsOf(issuedInThePast((await jwtVerify(token, key, { ...checks, algorithms: ["HS256"] })).payload));
        } catch (error) {
          throw new InvalidToken(reason(error));
        }
      },
      async sign(claims, expiresIn) {
        let jwt = new SignJWT({ role: claims.role })
          .setProtectedHeader({ alg: "HS256", kid: keyId })
          .setIssuedAt()
          .setExpirationTime(expiresIn);
        if (claims.userId !== null) jwt = jwt.setSubject(String(claims.userId));
        if (issuer) jwt = jwt.setIssuer(issuer);
        if (audience) jwt = jwt.setAudience(audience);
        return jwt.sign(key);
      },
    };
  }
  const keys = createRemoteJWKSet(new URL(auth.jwksUrl!));
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keys, { ...checks, algorithms: ["RS256", "PS256", "ES256", "EdDSA"] });
        return claimsOf(issuedInThePast(payload));
      } catch (error) {
        throw new InvalidToken(reason(error));
      }
    },
  };
}
