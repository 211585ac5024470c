/**
 * What a browser gets where there is no GraphiQL: a short page that says what the endpoint is and
 * how to send it a query, instead of yoga's empty 406 (or its welcome page, which loads images from
 * GitHub). With GraphiQL on, the site's root leads to it.
 */
import type { Plugin } from "graphql-yoga";

/** A browser's navigation: it asks for HTML. */
const wantsHtml = (request: Request) => request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html");

/** True when the request could also take a JSON answer (then a GET with a query is answered as GraphQL). */
const takesJson = (accept: string) => /application\/(json|graphql-response\+json|\*)|\*\/\*/.test(accept);

const page = (endpoint: string, origin: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Shop API</title>
  </head>
  <body>
    <h1>Shop API</h1>
    <p>This is a GraphQL endpoint. GraphiQL is off on this server (<code>GRAPHIQL=1</code> turns it on).</p>
    <p>Send a query as JSON:</p>
    <pre>curl ${origin}${endpoint} -H 'content-type: application/json' -d '{"query":"{ products(first: 3) { edges { node { name price } } } }"}'</pre>
  </body>
</html>
`;

export function useBrowserPage(endpoint: string, graphiql: boolean): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!wantsHtml(request)) return;
      const html = (status: number) =>
        endResponse(
          new fetchAPI.Response(page(endpoint, url.origin), { status, headers: { "content-type": "text/html; charset=utf-8" } }),
        );
      if (url.pathname === "/") {
        if (graphiql) endResponse(fetchAPI.Response.redirect(new URL(endpoint, url), 302));
        else html(404);
        return;
      }
      if (graphiql || url.pathname !== endpoint) return;
      // A GET that carries a query and takes JSON is a GraphQL request like any other.
      if (url.searchParams.has("query") && takesJson(request.headers.get("accept") ?? "")) return;
      html(406);
    },
  };
}
