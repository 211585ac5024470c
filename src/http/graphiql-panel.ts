/// <reference lib="dom" />
/**
 * GraphiQL's SQL panel: a sidebar tab (GraphiQL's plugin API) that shows the last response's
 * `extensions.sql` — the N+1 warnings, a waterfall of the request, each statement formatted and
 * highlighted with its parameters, rows, timings and cause — and compares the strategies: it runs
 * the last operation under eager, batched and lazy and shows statements, rows and time side by side,
 * with bars, and whether the three results are identical.
 *
 * The **Live** tab keeps subscriptions running: GraphiQL runs one operation at a time and will not
 * even switch tabs while its subscription runs, so the Live tab takes each subscription GraphiQL
 * starts over: it watches it on its own connection and lists its events, each with the SQL it ran,
 * and GraphiQL's own run ends at once with a line saying where to look. The developer switches to
 * the other tab and places orders there: the tour's live step works in one page.
 *
 * `graphiqlPlugins` runs in the browser, not here: src/http/graphiql-assets.ts puts its source into a script,
 * where it gets the React that GraphiQL's bundle exposes. So it must stand alone: no imports, no
 * reference to anything outside itself. It watches the page's own requests to the endpoint (GraphiQL
 * sends them through `fetch`), so it needs no hook into GraphiQL's internals.
 */

// Types only: erased when compiled, so the function below still stands alone in the browser.
import type { StatementCause as Cause } from "../sql/recorder.js";
import type { SqlReport as Report } from "../sql/report.js";

/** The part of React the panel uses (GraphiQL's own copy, from the page). */
export interface ReactLike {
  createElement(type: unknown, props?: Record<string, unknown> | null, ...children: unknown[]): unknown;
  useState<T>(initial: T): [T, (next: T | ((previous: T) => T)) => void];
  useEffect(effect: () => undefined | (() => void), deps: unknown[]): void;
}

/** A GraphiQL plugin: a sidebar button and the panel it opens. */
export interface GraphiQLPlugin {
  title: string;
  icon: () => unknown;
  content: () => unknown;
}

export function graphiqlPlugins(React: ReactLike, endpoint: string, strategyHeader: string): GraphiQLPlugin[] {
  interface Sent {
    body: string;
    headers: Record<string, string>;
  }
  /** A subscription as GraphiQL asked for it: a GET of the endpoint with the operation in the query string. */
  interface Stream {
    url: string;
    headers: Record<string, string>;
  }
  interface Comparison {
    strategy: string;
    count: number;
    rows: number;
    totalMs: number;
    data: string;
    error?: string;
  }

  const h = React.createElement;
  const state: { report?: Report; sent?: Sent; listeners: Set<() => void> } = { listeners: new Set() };
  const publish = (report: Report | undefined, sent: Sent) => {
    state.report = report;
    state.sent = sent;
    for (const listener of state.listeners) listener();
  };

  const plainHeaders = (headers: HeadersInit | undefined): Record<string, string> => {
    const plain: Record<string, string> = {};
    new Headers(headers).forEach((value, name) => {
      plain[name] = value;
    });
    return plain;
  };

  interface LiveEvent {
    at: string;
    result: { data?: unknown; errors?: { message: string }[]; extensions?: { sql?: Report } };
  }
  interface Watch {
    name: string;
    /** The operation, the caller and the strategy: the same subscription asked twice is watched once. */
    key: string;
    status: string;
    events: LiveEvent[];
    stop: () => void;
  }
  const live: { watches: Watch[]; listeners: Set<() => void> } = { watches: [], listeners: new Set() };
  const changed = () => {
    for (const listener of live.listeners) listener();
  };

  /** How many subscriptions the tab keeps open: the browser has six connections per server in all. */
  const MAX_WATCHES = 3;

  /** Watches a subscription unless it is watched already; returns its name. */
  function watch(stream: Stream): string {
    const key = [stream.url, stream.headers.authorization ?? "", stream.headers[strategyHeader] ?? ""].join("\n");
    const name = new URL(stream.url).searchParams.get("operationName") || "The subscription";
    if (live.watches.some((w) => w.key === key && w.status === "watching")) return name;
    const controller = new AbortController();
    const entry: Watch = { name, key, status: "watching", events: [], stop: () => controller.abort() };
    const watching = live.watches.filter((w) => w.status === "watching");
    // The oldest beyond the cap is stopped, not just hidden: its connection is released.
    for (const dropped of watching.slice(MAX_WATCHES - 1)) dropped.stop();
    live.watches = [entry, ...watching.slice(0, MAX_WATCHES - 1)];
    changed();
    const read = async () => {
      const response = await send(stream.url, { headers: stream.headers, signal: controller.signal });
      if (!response.ok || !(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
        const answer = (await response.json().catch(() => undefined)) as { errors?: { message: string }[] } | undefined;
        throw new Error(`HTTP ${response.status}${answer?.errors?.[0] ? `: ${answer.errors[0].message}` : ""}`);
      }
      const reader = response.body?.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          const message = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = message
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("\n");
          if (/^event: ?complete/m.test(message) || !data) continue;
          entry.events = [{ at: new Date().toLocaleTimeString(), result: JSON.parse(data) }, ...entry.events].slice(0, 20);
          changed();
        }
      }
      entry.status = "ended";
    };
    read().then(changed, (error: Error) => {
      const stopped = controller.signal.aborted;
      // Whatever went wrong, the server's subscription goes with the stream.
      controller.abort();
      entry.status = stopped ? "stopped" : `failed: ${error.message}`;
      changed();
    });
    return name;
  }

  // What the panels show, for a browser test or a curious developer (`shopSqlPanel.report` in the console).
  (window as unknown as { shopLive: typeof live }).shopLive = live;
  (window as unknown as { shopSqlPanel: typeof state }).shopSqlPanel = state;

  // Every JSON response GraphiQL gets from the endpoint: its SQL, and the request, to compare with.
  const send = window.fetch.bind(window);
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url, location.href);
    const headers = plainHeaders(init?.headers);
    const body = init?.method === "POST" && typeof init.body === "string" ? init.body : undefined;
    const sent = body !== undefined && url.pathname === endpoint ? { body, headers } : undefined;
    // GraphiQL asks for an event stream for a subscription only: the Live tab takes it over, and
    // GraphiQL's run ends at once (as a stream of one event), which frees its tabs.
    if (url.pathname === endpoint && (headers.accept ?? "").includes("text/event-stream")) {
      const name = watch({ url: url.href, headers });
      const note = {
        data: null,
        extensions: {
          live: `${name} runs in the LIVE tab (sidebar), which keeps watching while you switch tabs and run other operations.`,
        },
      };
      return new Response(`event: next\ndata: ${JSON.stringify(note)}\n\nevent: complete\ndata:\n\n`, {
        headers: { "content-type": "text/event-stream" },
      });
    }
    const response = await send(input, init);
    const json = (response.headers.get("content-type") ?? "").includes("json");
    // GraphiQL's own schema fetch is not what the developer ran.
    if (sent && json && !sent.body.includes('"operationName":"IntrospectionQuery"')) {
      response
        .clone()
        .json()
        .then((result: { extensions?: { sql?: Report } }) => publish(result.extensions?.sql, sent))
        .catch(() => undefined);
    }
    return response;
  };

  const KEYWORDS =
    /("(?:[^"]|"")*"|'(?:[^']|'')*'|\$\d+|\b(?:SELECT|FROM|WHERE|AND|OR|NOT|LEFT|INNER|JOIN|LATERAL|ON|ORDER|GROUP|BY|LIMIT|OFFSET|AS|IN|ANY|IS|NULL|TRUE|COALESCE|JSONB_AGG|JSONB_BUILD_OBJECT|COUNT|SUM|INSERT|INTO|VALUES|UPDATE|SET|DELETE|RETURNING|ASC|DESC|FOR|SHARE|KEY|DISTINCT|CASE|WHEN|THEN|ELSE|END)\b)/g;
  const BREAKS = /\s+(?=(?:FROM|WHERE|LEFT JOIN|INNER JOIN|ORDER BY|GROUP BY|LIMIT|RETURNING|VALUES|SET)\b)/g;

  /** The statement on several lines, its keywords, identifiers and parameters coloured. */
  const formatted = (sql: string) =>
    sql
      .trim()
      .replace(BREAKS, "\n")
      .split(KEYWORDS)
      .map((part, i) => {
        if (i % 2 === 0) return part;
        const kind = part.startsWith('"')
          ? "ident"
          : part.startsWith("'")
            ? "string"
            : part.startsWith("$")
              ? "param"
              : "keyword";
        return h("span", { key: i, className: `shop-sql-${kind}` }, part);
      });

  const causeText = (cause: Cause | undefined) => {
    if (!cause) return "—";
    if (!cause.loader) return cause.field;
    const fields = Object.entries(cause.fields ?? {})
      .map(([field, keys]) => `${field} (${keys})`)
      .join(", ");
    return `loader ${cause.loader}: ${cause.keys} key${cause.keys === 1 ? "" : "s"} from ${fields || cause.field}`;
  };

  const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;

  function Waterfall(props: { report: Report }) {
    const { report } = props;
    const total = Math.max(report.totalMs, ...report.statements.map((s) => s.atMs + s.waitMs + s.durationMs), 0.001);
    const pct = (value: number) => `${(100 * value) / total}%`;
    return h(
      "div",
      { className: "shop-sql-waterfall", "aria-label": "timeline" },
      report.statements.map((s, i) =>
        h(
          "div",
          {
            key: i,
            className: "shop-sql-lane",
            title: `#${i + 1} ${causeText(s.cause)}: waited ${ms(s.waitMs)}, ran ${ms(s.durationMs)}`,
          },
          h("span", { className: "shop-sql-wait", style: { left: pct(s.atMs), width: pct(s.waitMs) } }),
          h("span", {
            className: "shop-sql-run",
            style: { left: pct(s.atMs + s.waitMs), width: pct(Math.max(s.durationMs, total / 400)) },
          }),
        ),
      ),
      h("div", { className: "shop-sql-axis" }, h("span", null, "0"), h("span", null, ms(total))),
    );
  }

  function Compare(props: { rows: Comparison[] }) {
    const { rows } = props;
    const identical = rows.every((row) => !row.error && row.data === rows[0]?.data);
    const most = (pick: (row: Comparison) => number) => Math.max(...rows.map(pick), 1);
    const bar = (value: number, max: number, kind: string) =>
      h("span", { className: `shop-sql-bar shop-sql-bar-${kind}`, style: { width: `${Math.max(2, (100 * value) / max)}%` } });
    return h(
      "div",
      { className: "shop-sql-compare" },
      h(
        "table",
        null,
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["strategy", "statements", "rows", "time"].map((c) => h("th", { key: c }, c)),
          ),
        ),
        h(
          "tbody",
          null,
          rows.map((row) =>
            h(
              "tr",
              { key: row.strategy, "data-strategy": row.strategy },
              h("td", null, row.strategy),
              h(
                "td",
                null,
                row.error ? row.error : String(row.count),
                row.error
                  ? null
                  : bar(
                      row.count,
                      most((r) => r.count),
                      "count",
                    ),
              ),
              h("td", null, String(row.rows)),
              h(
                "td",
                null,
                ms(row.totalMs),
                bar(
                  row.totalMs,
                  most((r) => r.totalMs),
                  "time",
                ),
              ),
            ),
          ),
        ),
      ),
      h(
        "p",
        { className: identical ? "shop-sql-same" : "shop-sql-differ" },
        identical ? "The three results are identical." : "The results differ between strategies.",
      ),
    );
  }

  async function compareStrategies(sent: Sent): Promise<Comparison[]> {
    const rows: Comparison[] = [];
    for (const strategy of ["eager", "batched", "lazy"]) {
      const response = await send(endpoint, {
        method: "POST",
        headers: { ...sent.headers, [strategyHeader]: strategy },
        body: sent.body,
      });
      const result = (await response.json()) as { data?: unknown; errors?: { message: string }[]; extensions?: { sql?: Report } };
      const sql = result.extensions?.sql;
      rows.push({
        strategy,
        count: sql?.count ?? 0,
        rows: sql?.statements.reduce((n, s) => n + s.rows, 0) ?? 0,
        totalMs: sql?.totalMs ?? 0,
        data: JSON.stringify(result.data ?? null),
        error: result.errors?.[0]?.message ?? (sql ? undefined : "no extensions.sql"),
      });
    }
    return rows;
  }

  function Panel() {
    const [, rerender] = React.useState(0);
    const [comparison, setComparison] = React.useState<Comparison[] | "running" | undefined>(undefined);
    React.useEffect(() => {
      const listener = () => {
        setComparison(undefined);
        rerender((n) => n + 1);
      };
      state.listeners.add(listener);
      return () => {
        state.listeners.delete(listener);
      };
    }, []);
    const { report, sent } = state;
    if (!report) {
      return h(
        "div",
        { className: "shop-sql" },
        h("div", { className: "graphiql-doc-explorer-title" }, "SQL"),
        h("p", null, "Run an operation: the SQL it cost shows here, statement by statement."),
      );
    }
    // Only a query is run again: a mutation three more times would change the shop.
    const comparable = report.operation === "query";
    const compare = () => {
      if (!sent || !comparable) return;
      setComparison("running");
      compareStrategies(sent).then(setComparison, () => setComparison(undefined));
    };
    return h(
      "div",
      { className: "shop-sql" },
      h("div", { className: "graphiql-doc-explorer-title" }, "SQL"),
      h(
        "p",
        { className: "shop-sql-summary" },
        h("b", { "data-count": report.count }, `${report.count} statement${report.count === 1 ? "" : "s"}`),
        ` · ${report.strategy} · ${ms(report.totalMs)}`,
      ),
      (report.warnings ?? []).map((warning) =>
        h(
          "p",
          { key: warning.field, className: "shop-sql-warning", role: "alert" },
          h("b", null, `N+1 ×${warning.count} `),
          warning.message,
        ),
      ),
      h(
        "button",
        {
          type: "button",
          className: "graphiql-button shop-sql-compare-button",
          onClick: compare,
          disabled: comparison === "running" || !comparable,
          title: comparable
            ? "Run this query under eager, batched and lazy"
            : "Compare runs queries only: a mutation would change the data",
        },
        comparison === "running" ? "Comparing…" : "Compare strategies",
      ),
      comparable ? null : h("p", { className: "shop-sql-note" }, `A ${report.operation} is not run again to compare.`),
      Array.isArray(comparison) ? h(Compare, { rows: comparison }) : null,
      h(Waterfall, { report }),
      h(
        "ol",
        { className: "shop-sql-statements" },
        report.statements.map((s, i) =>
          h(
            "li",
            { key: i, className: "shop-sql-statement" },
            h(
              "div",
              { className: "shop-sql-meta" },
              h("span", { className: "shop-sql-cause" }, causeText(s.cause)),
              h("span", null, `${s.rows} row${s.rows === 1 ? "" : "s"} · waited ${ms(s.waitMs)} · ran ${ms(s.durationMs)}`),
            ),
            h("pre", { className: "shop-sql-text" }, formatted(s.sql)),
            s.params?.length ? h("div", { className: "shop-sql-params" }, `params: ${JSON.stringify(s.params)}`) : null,
          ),
        ),
      ),
    );
  }

  const style = document.createElement("style");
  style.textContent = `
    .shop-sql { font-size: 13px; line-height: 1.4; }
    .shop-sql-summary { margin: 8px 0; }
    .shop-sql-warning { background: hsla(var(--color-warning), 0.15); border-left: 3px solid hsl(var(--color-warning)); padding: 6px 8px; margin: 6px 0; }
    .shop-sql-compare-button { margin: 6px 0 10px; }
    .shop-sql-compare table { width: 100%; border-collapse: collapse; }
    .shop-sql-compare th, .shop-sql-compare td { text-align: left; padding: 2px 4px; vertical-align: top; }
    .shop-sql-bar { display: block; height: 5px; border-radius: 2px; margin-top: 2px; }
    .shop-sql-bar-count { background: hsl(var(--color-primary)); }
    .shop-sql-bar-time { background: hsl(var(--color-tertiary)); }
    .shop-sql-same { color: hsl(var(--color-success)); }
    .shop-sql-differ { color: hsl(var(--color-error)); font-weight: bold; }
    .shop-sql-waterfall { margin: 10px 0; }
    .shop-sql-lane { position: relative; height: 7px; margin: 1px 0; background: hsla(var(--color-neutral), 0.06); }
    .shop-sql-lane span { position: absolute; top: 0; height: 100%; }
    .shop-sql-wait { background: hsla(var(--color-neutral), 0.3); }
    .shop-sql-run { background: hsl(var(--color-primary)); }
    .shop-sql-axis { display: flex; justify-content: space-between; font-size: 11px; opacity: 0.7; }
    .shop-sql-statements { padding-left: 20px; }
    .shop-sql-statement { margin: 10px 0; }
    .shop-sql-meta { display: flex; flex-direction: column; font-size: 12px; opacity: 0.85; }
    .shop-sql-cause { font-weight: bold; }
    .shop-sql-text { white-space: pre-wrap; word-break: break-word; font-size: 12px; margin: 4px 0; padding: 6px; background: hsla(var(--color-neutral), 0.07); border-radius: 4px; }
    .shop-sql-keyword { color: hsl(var(--color-primary)); font-weight: bold; }
    .shop-sql-ident { color: hsl(var(--color-secondary)); }
    .shop-sql-string { color: hsl(var(--color-tertiary)); }
    .shop-sql-param { color: hsl(var(--color-warning)); font-weight: bold; }
    .shop-sql-params { font-family: monospace; font-size: 12px; word-break: break-all; }
  `;
  document.head.appendChild(style);

  function Live() {
    const [, rerender] = React.useState(0);
    React.useEffect(() => {
      const listener = () => rerender((n) => n + 1);
      live.listeners.add(listener);
      return () => {
        live.listeners.delete(listener);
      };
    }, []);
    return h(
      "div",
      { className: "shop-sql shop-live" },
      h("div", { className: "graphiql-doc-explorer-title" }, "Live"),
      live.watches.length === 0
        ? h(
            "p",
            null,
            "Run a subscription: it is watched here, on its own connection, while you switch tabs and run other operations.",
          )
        : null,
      live.watches.map((w, i) =>
        h(
          "section",
          { key: i, className: "shop-live-watch", "data-status": w.status },
          h(
            "p",
            { className: "shop-sql-summary" },
            h("b", null, w.name),
            ` · ${w.status} · ${w.events.length} event${w.events.length === 1 ? "" : "s"} `,
            w.status === "watching"
              ? h("button", { type: "button", className: "graphiql-button", onClick: w.stop }, "Stop")
              : null,
          ),
          w.events.map((event, j) =>
            h(
              "div",
              { key: w.events.length - j, className: "shop-live-event" },
              h(
                "div",
                { className: "shop-sql-meta" },
                h("span", { className: "shop-sql-cause" }, event.at),
                event.result.extensions?.sql
                  ? h(
                      "span",
                      { "data-count": event.result.extensions.sql.count },
                      `${event.result.extensions.sql.count} statement${event.result.extensions.sql.count === 1 ? "" : "s"}: ${event.result.extensions.sql.statements.map((s) => causeText(s.cause)).join("; ")}`,
                    )
                  : null,
              ),
              h("pre", { className: "shop-sql-text" }, JSON.stringify(event.result.errors ?? event.result.data, null, 2)),
            ),
          ),
        ),
      ),
    );
  }

  const icon = (text: string) => () =>
    h("span", { style: { fontWeight: "bold", fontSize: "11px", letterSpacing: "0.5px" } }, text);
  return [
    { title: "SQL", icon: icon("SQL"), content: () => h(Panel) },
    { title: "Live", icon: icon("LIVE"), content: () => h(Live) },
  ];
}
