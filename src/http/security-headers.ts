/** The response headers every answer carries, and those of the GraphiQL page. */
import type { Plugin } from "graphql-yoga";

/** Headers that keep the GraphiQL page from being framed, sniffed or made to load foreign code. */
export function useSecurityHeaders(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set("x-content-type-options", "nosniff");
      response.headers.set("referrer-policy", "no-referrer");
      // CORS answers depend on the Origin: caches must keep them apart.
      response.headers.append("vary", "Origin");
      if (!response.headers.get("content-type")?.startsWith("text/html")) return;
      response.headers.set("x-frame-options", "DENY");
      response.headers.set(
        "content-security-policy",
        // GraphiQL's code, its editor's workers and its stylesheet come from this server (see
        // src/http/graphiql-assets.ts); no script runs inline. Styles set by React stay inline.
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
    },
  };
}
