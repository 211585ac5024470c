/**
 * How GraphiQL reaches the browser: a small page, and its code as separate files that the browser
 * keeps. GraphiQL's bundle (graphql-yoga's, the current GraphiQL), its stylesheet, its editor's
 * workers and this project's SQL panel are served from this package under content-hashed names
 * (`/graphql/assets/graphiql-3f2a….js`), gzipped once, with `Cache-Control: immutable`: the first
 * visit downloads about 2.5 MB, later ones a few kilobytes. No script runs inline, so the page's
 * Content-Security-Policy allows scripts from the server itself only.
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import { useContentEncoding } from "@whatwg-node/server";
import type { Plugin } from "graphql-yoga";
import { STRATEGY_HEADER } from "../loading/strategy.js";
import { graphiqlPlugins } from "./graphiql-panel.js";
import { refreshSavedTokens } from "./graphiql-tokens.js";

interface Asset {
  path: string;
  type: string;
  body: Buffer;
  /** Compressed on first request, off the event loop (zlib's thread pool), then kept. */
  gzipped?: Promise<Buffer>;
}

/**
 * GraphiQL's bundle: 9 MB of JavaScript that takes half a second to load, so it is loaded on first
 * use (or by `preloadGraphiQL` once the server listens), not at every start of the server.
 */
type Bundle = typeof import("@graphql-yoga/render-graphiql/graphiql");
let bundle: Promise<Bundle> | undefined;
const loadBundle = () => (bundle ??= import("@graphql-yoga/render-graphiql/graphiql"));

/** Loads GraphiQL's code in the background, so that the first page does not wait for it. */
export function preloadGraphiQL(): void {
  loadBundle().catch(() => undefined);
}

/**
 * Before GraphiQL's bundle: where Monaco finds its workers. `__name` is what the TypeScript loader
 * of `npm start` marks functions with: a no-op in the browser.
 */
const environment = (workers: Record<string, string>) => `var __name = function (target) { return target; };
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (moduleId, label) { return ${JSON.stringify(workers)}[label]; },
};
`;

/** After it: saved tokens refreshed (src/http/graphiql-tokens.ts), the SQL and Live panels, and GraphiQL started with the page's options and the panels as its plugins. */
const start = () => `(function () {
  var options = JSON.parse(document.getElementById("graphiql-options").textContent);
  if (options.freshTokens) {
    (${refreshSavedTokens.toString()})(window.localStorage, options.freshTokens);
    delete options.freshTokens;
  }
  var plugins = (${graphiqlPlugins.toString()})(globalThis.React, options.endpoint, ${JSON.stringify(STRATEGY_HEADER)});
  YogaGraphiQL.renderYogaGraphiQL(document.querySelector("#root"), Object.assign({}, options, { plugins: plugins }));
})();
`;

function asset(prefix: string, name: string, extension: string, type: string, content: string | Buffer): Asset {
  const body = Buffer.isBuffer(content) ? content : Buffer.from(content, "utf8");
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { path: `${prefix}/${name}-${hash}.${extension}`, type, body };
}

const gzip = promisify(gzipCallback);

/** The assets, made once per endpoint on first use (hashing 9 MB takes some 30 ms). */
const built = new Map<string, Promise<ReturnType<typeof build>>>();

function build(endpoint: string, { css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker }: Bundle) {
  const prefix = `${endpoint}/assets`;
  // The editor's workers, by the label Monaco asks for.
  const WORKERS = { editorWorkerService, json: jsonWorker, graphql: graphqlWorker };
  const workers = Object.fromEntries(
    Object.entries(WORKERS).map(([label, source]) => [label, asset(prefix, `${label}.worker`, "js", "text/javascript", source)]),
  );
  const environmentScript = asset(
    prefix,
    "environment",
    "js",
    "text/javascript",
    environment(Object.fromEntries(Object.entries(workers).map(([label, worker]) => [label, worker.path]))),
  );
  const icon = asset(prefix, "favicon", "ico", "image/x-icon", Buffer.from(favicon.slice(favicon.indexOf(",") + 1), "base64"));
  const page = {
    stylesheet: asset(prefix, "graphiql", "css", "text/css", css),
    environment: environmentScript,
    graphiql: asset(prefix, "graphiql", "js", "text/javascript", js),
    start: asset(prefix, "shop", "js", "text/javascript", start()),
    icon,
  };
  const byPath = new Map<string, Asset>([...Object.values(page), ...Object.values(workers)].map((a) => [a.path, a]));
  return { page, byPath };
}

function assetsFor(endpoint: string) {
  const found = built.get(endpoint) ?? loadBundle().then((code) => build(endpoint, code));
  built.set(endpoint, found);
  return found;
}

/** JSON inside a <script> element: nothing in it can close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

/** The page: the options it opens with (tokens included, so it is private), and links to the assets. */
export async function graphiqlPage(options: Record<string, unknown> & { endpoint?: string; title?: string }): Promise<string> {
  const endpoint = options.endpoint ?? "/graphql";
  const { page } = await assetsFor(endpoint);
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? "GraphiQL")}</title>
    <link rel="icon" href="${page.icon.path}" />
    <link rel="stylesheet" href="${page.stylesheet.path}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${scriptJson({ ...options, endpoint })}</script>
    <script src="${page.environment.path}"></script>
    <script src="${page.graphiql.path}"></script>
    <script src="${page.start.path}"></script>
  </body>
</html>
`;
}

/** Serves the assets: gzipped when the browser accepts it, and kept by it for a year. */
export function useGraphiQLAssets(endpoint: string): Plugin {
  const prefix = `${endpoint}/assets/`;
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(prefix)) return;
      const found =
        request.method === "GET" || request.method === "HEAD" ? (await assetsFor(endpoint)).byPath.get(url.pathname) : undefined;
      if (!found) {
        endResponse(new fetchAPI.Response("Not found", { status: 404, headers: { "content-type": "text/plain" } }));
        return;
      }
      const zipped = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
      if (zipped) found.gzipped ??= gzip(found.body, { level: 9 });
      const body = zipped ? await found.gzipped! : found.body;
      endResponse(
        new fetchAPI.Response(
          request.method === "HEAD" ? null : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength),
          {
            headers: {
              "content-type": `${found.type}${found.type.startsWith("text/") ? "; charset=utf-8" : ""}`,
              "content-length": String(body.byteLength),
              "cache-control": "public, max-age=31536000, immutable",
              vary: "Accept-Encoding",
              ...(zipped ? { "content-encoding": "gzip" } : {}),
            },
          },
        ),
      );
    },
  };
}

/**
 * GraphiQL's page carries its whole bundle (some 9 MB): it is sent compressed, and a browser may
 * keep it for ten minutes (it is `private`: in development it carries demo tokens). Only the page:
 * compressing an SSE stream would hold its events back, and compressed request bodies would slip
 * past the body limit.
 */
export function useGraphiQLDelivery(): Plugin {
  const { onResponse } = useContentEncoding();
  return {
    onResponse(payload) {
      if (!payload.response.headers.get("content-type")?.startsWith("text/html")) return;
      payload.response.headers.set("cache-control", "private, max-age=600");
      return onResponse?.(payload as never);
    },
  };
}
