/**
 * GraphiQL's saved tabs keep their tokens: after the local secret changes or a demo token expires,
 * the page replaces them (src/http/graphiql-tokens.ts runs in the browser; here on a fake storage).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, SignJWT } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { createTokens, LOCAL_AUDIENCE, LOCAL_ISSUER } from "../src/auth/tokens.js";
import { type FreshTokens, refreshSavedTokens } from "../src/http/graphiql-tokens.js";

const dir = mkdtempSync(join(tmpdir(), "shop-graphiql-tokens-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const local = (name: string) =>
  createTokens({
    mode: "jwt",
    secret: { kind: "local", file: join(dir, name) },
    jwksUrl: undefined,
    issuer: undefined,
    audience: undefined,
  });

/** localStorage, as far as the page uses it. */
function storage(entries: Record<string, string>) {
  const map = new Map(Object.entries(entries));
  return {
    map,
    get length() {
      return map.size;
    },
    key: (i: number) => [...map.keys()][i] ?? null,
    getItem: (key: string) => map.get(key) ?? null,
    setItem: (key: string, value: string) => void map.set(key, value),
  };
}

const headers = (token: string) => JSON.stringify({ "x-loading-strategy": "eager", Authorization: `Bearer ${token}` }, null, 2);
const tokenIn = (text: string) => (JSON.parse(text) as { Authorization: string }).Authorization;

describe("GraphiQL's saved tokens", () => {
  it("are replaced when signed with another secret or expired, and kept when current or someone else's", async () => {
    const [now, before] = [local("now"), local("before")];
    expect(now.keyId).toMatch(/^[\w-]{16}$/);
    expect(now.keyId).not.toBe(before.keyId);
    const fresh: FreshTokens = {
      issuer: LOCAL_ISSUER,
      kid: now.keyId!,
      customer: `Bearer ${await now.sign!({ role: "customer", userId: 1 }, "1h")}`,
      admin: `Bearer ${await now.sign!({ role: "admin", userId: null }, "1h")}`,
    };
    expect(decodeProtectedHeader(fresh.admin.slice(7)).kid).toBe(now.keyId);
    const current = await now.sign!({ role: "customer", userId: 7 }, "1h");
    const oldSecret = await before.sign!({ role: "admin", userId: null }, "1h");
    const expired = await new SignJWT({ role: "customer" })
      .setProtectedHeader({ alg: "HS256", kid: now.keyId })
      .setSubject("3")
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode("an identity provider's secret, 32+"));
    const providers = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("https://idp.example.com")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("an identity provider's secret, 32+"));
    const saved = storage({
      "graphiql:tabState": JSON.stringify({
        tabs: [current, oldSecret, expired, providers].map((token, i) => ({
          id: `t${i}`,
          query: "{ me { id } }",
          headers: headers(token),
        })),
        activeTabIndex: 0,
      }),
      "graphiql:headers": headers(oldSecret),
      "graphiql:query": "{ me { id } }",
      "other-app": headers(oldSecret),
    });

    const count = refreshSavedTokens(saved, fresh);
    expect(count).toBe(3);
    const tabs = JSON.parse(saved.map.get("graphiql:tabState")!).tabs as { headers: string }[];
    expect(tabs.map((tab) => tokenIn(tab.headers))).toEqual([
      `Bearer ${current}`,
      fresh.admin,
      fresh.customer,
      `Bearer ${providers}`,
    ]);
    expect(JSON.parse(tabs[1]!.headers)).toEqual({ "x-loading-strategy": "eager", Authorization: fresh.admin });
    expect(tokenIn(saved.map.get("graphiql:headers")!)).toBe(fresh.admin);
    // Nothing outside GraphiQL's own keys, and nothing when all is current.
    expect(tokenIn(saved.map.get("other-app")!)).toBe(`Bearer ${oldSecret}`);
    expect(refreshSavedTokens(saved, fresh)).toBe(0);
  });
});
