/**
 * The chart `npm run bench` writes beside its tables: SQL statements and median time against the
 * page size N, one line per strategy and database, both on log scales (lazy is hundreds of times
 * the others). A plain SVG, no library: it is three points per line.
 */

export interface BenchPoint {
  n: number;
  statements: number;
  medianMs: number;
}

export interface BenchSeries {
  strategy: string;
  /** "PostgreSQL" or "PGlite": drawn solid and dashed. */
  database: string;
  points: BenchPoint[];
}

const TITLE = "SQL statements and median time per request against N, by loading strategy and database";
const COLORS: Record<string, string> = { eager: "#2b8a3e", batched: "#1c7ed6", lazy: "#e03131" };
const PANEL = { width: 330, height: 220, left: 56, top: 40 };

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const round = (value: number) => Math.round(value * 10) / 10;

/** Powers of ten that cover [min, max]. */
function decades(min: number, max: number): number[] {
  const from = Math.floor(Math.log10(Math.max(min, 0.1)));
  const to = Math.ceil(Math.log10(Math.max(max, 1)));
  return Array.from({ length: to - from + 1 }, (_, i) => 10 ** (from + i));
}

function panel(title: string, series: BenchSeries[], value: (p: BenchPoint) => number, offsetX: number): string {
  const values = series.flatMap((s) => s.points.map(value));
  const ticks = decades(Math.min(...values), Math.max(...values));
  const [low, high] = [Math.log10(ticks[0]!), Math.log10(ticks.at(-1)!)];
  const ns = series.flatMap((s) => s.points.map((p) => p.n));
  const maxN = Math.max(...ns);
  const x = (n: number) => offsetX + PANEL.left + (n / maxN) * PANEL.width;
  const y = (v: number) =>
    PANEL.top + PANEL.height - ((Math.log10(Math.max(v, ticks[0]!)) - low) / (high - low || 1)) * PANEL.height;
  const parts = [
    `<text x="${offsetX + PANEL.left}" y="${PANEL.top - 14}" font-weight="bold">${xml(title)}</text>`,
    `<rect x="${offsetX + PANEL.left}" y="${PANEL.top}" width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#adb5bd"/>`,
  ];
  for (const tick of ticks) {
    parts.push(
      `<line x1="${offsetX + PANEL.left}" x2="${offsetX + PANEL.left + PANEL.width}" y1="${round(y(tick))}" y2="${round(y(tick))}" stroke="#e9ecef"/>`,
      `<text x="${offsetX + PANEL.left - 6}" y="${round(y(tick)) + 4}" text-anchor="end">${tick.toLocaleString("en-US")}</text>`,
    );
  }
  for (const n of [...new Set(ns)].sort((a, b) => a - b)) {
    parts.push(`<text x="${round(x(n))}" y="${PANEL.top + PANEL.height + 16}" text-anchor="middle">${n}</text>`);
  }
  parts.push(
    `<text x="${offsetX + PANEL.left + PANEL.width / 2}" y="${PANEL.top + PANEL.height + 34}" text-anchor="middle">N (users on the page)</text>`,
  );
  for (const s of series) {
    const points = s.points.map((p) => `${round(x(p.n))},${round(y(value(p)))}`).join(" ");
    const dash = s.database === "PostgreSQL" ? "" : ` stroke-dasharray="6 4"`;
    const color = COLORS[s.strategy] ?? "#495057";
    parts.push(
      `<polyline data-strategy="${s.strategy}" data-database="${xml(s.database)}" points="${points}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    for (const p of s.points) parts.push(`<circle cx="${round(x(p.n))}" cy="${round(y(value(p)))}" r="3" fill="${color}"/>`);
  }
  return parts.join("\n");
}

/** The chart as an SVG document. */
export function benchChart(series: BenchSeries[], caption: string): string {
  const width = 2 * (PANEL.left + PANEL.width) + 40 + 24;
  const legendY = PANEL.top + PANEL.height + 62;
  const strategies = [...new Set(series.map((s) => s.strategy))];
  const databases = [...new Set(series.map((s) => s.database))];
  const legend = [
    ...strategies.map(
      (strategy, i) =>
        `<line x1="${PANEL.left + i * 110}" x2="${PANEL.left + i * 110 + 24}" y1="${legendY}" y2="${legendY}" stroke="${COLORS[strategy] ?? "#495057"}" stroke-width="3"/><text x="${PANEL.left + i * 110 + 30}" y="${legendY + 4}">${xml(strategy)}</text>`,
    ),
    ...databases.map(
      (database, i) =>
        `<line x1="${PANEL.left + 360 + i * 150}" x2="${PANEL.left + 384 + i * 150}" y1="${legendY}" y2="${legendY}" stroke="#495057" stroke-width="2"${database === "PostgreSQL" ? "" : ` stroke-dasharray="6 4"`}/><text x="${PANEL.left + 390 + i * 150}" y="${legendY + 4}">${xml(database)}</text>`,
    ),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendY + 40}" viewBox="0 0 ${width} ${legendY + 40}" font-family="system-ui, sans-serif" font-size="12" role="img">`,
    `<title>${TITLE}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    panel("SQL statements per request", series, (p) => p.statements, 0),
    panel("Median ms per request", series, (p) => p.medianMs, PANEL.left + PANEL.width + 40),
    ...legend,
    `<text x="${PANEL.left}" y="${legendY + 28}" fill="#495057">${xml(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
