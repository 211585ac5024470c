/// <reference lib="dom" />
/**
 * GraphiQL keeps its tabs and their headers in the browser's storage, tokens included. After the
 * local secret changes (the data folder was recreated) or a demo token expires, every saved tab
 * would answer UNAUTHENTICATED. Before GraphiQL starts, `refreshSavedTokens` replaces each saved
 * token this server signed locally that is expired, about to expire, or signed with another key,
 * with the fresh token of the same role from the page. Tokens of anyone else (an identity
 * provider's) are left as they are.
 *
 * It runs in the browser (src/http/graphiql-assets.ts puts its source into a script), so it must
 * stand alone: no imports, nothing from outside itself.
 */

/** What the page hands over: the fresh tokens, and how to recognise this server's own. */
export interface FreshTokens {
  issuer: string;
  kid: string;
  customer: string;
  admin: string;
}

/** Rewrites the saved headers in `storage`; returns how many tokens it replaced. */
export function refreshSavedTokens(storage: Pick<Storage, "length" | "key" | "getItem" | "setItem">, fresh: FreshTokens): number {
  let replaced = 0;
  const decode = (part: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    } catch {
      return undefined;
    }
  };
  /** The fresh value for a saved Authorization header, or undefined to keep it. */
  const freshFor = (value: string): string | undefined => {
    const parts = /^Bearer\s+([\w-]+)\.([\w-]+)\.[\w-]+$/.exec(value.trim());
    if (!parts) return undefined;
    const header = decode(parts[1]!);
    const claims = decode(parts[2]!);
    if (!header || !claims || claims.iss !== fresh.issuer) return undefined;
    // A minute's margin: a token that expires while the page is in use fails just the same.
    const stale = header.kid !== fresh.kid || typeof claims.exp !== "number" || claims.exp * 1000 < Date.now() + 60_000;
    if (!stale) return undefined;
    return claims.role === "admin" ? fresh.admin : fresh.customer;
  };
  /** Refreshes the Authorization entry of a headers object in place; true when it did. */
  const fixHeaders = (headers: Record<string, unknown>): boolean => {
    let changed = false;
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== "authorization" || typeof value !== "string") continue;
      const replacement = freshFor(value);
      if (replacement === undefined) continue;
      headers[name] = replacement;
      changed = true;
      replaced++;
    }
    return changed;
  };
  /**
   * A saved value with its tokens refreshed: a headers object, a headers editor's text (JSON in a
   * string: how tabs keep theirs), or anything holding them.
   */
  const fixValue = (value: unknown): unknown => {
    if (typeof value === "string") {
      if (!/authorization/i.test(value)) return value;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return value;
      }
      if (!parsed || typeof parsed !== "object") return value;
      const before = replaced;
      const fixed = fixValue(parsed);
      return replaced > before ? JSON.stringify(fixed, null, 2) : value;
    }
    if (Array.isArray(value)) return value.map(fixValue);
    if (value && typeof value === "object") {
      const copy = Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fixValue(inner)]));
      fixHeaders(copy);
      return copy;
    }
    return value;
  };
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (!key?.startsWith("graphiql:")) continue;
    const saved = storage.getItem(key);
    if (!saved || !/authorization/i.test(saved)) continue;
    const before = replaced;
    // GraphiQL keeps JSON under each key: the headers' text itself, or the tabs with theirs.
    const updated = fixValue(saved) as string;
    if (replaced > before) storage.setItem(key, updated);
  }
  return replaced;
}
