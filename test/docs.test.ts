/**
 * The documentation tells the truth about the API: every ```graphql block in README.md and
 * docs/*.md parses and fits the schema; every query in them returns rows from the demo shop, the
 * same under eager and batched loading; every relative link points at a file that exists (and at a
 * heading that exists, for a link into a Markdown file); the README stays a short front door.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type DocumentNode, Kind, type OperationDefinitionNode, parse, validate } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_SIZES } from "../src/db/seed.js";
import { schema } from "../src/graphql/schema/index.js";
import type { Strategy } from "../src/loading/strategy.js";
import { createTestShop, type GraphQLResponse, type TestShop, testToken } from "./support/shop.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const README = join(ROOT, "README.md");
const PAGES = [
  README,
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => join(ROOT, "docs", name)),
];
const README_MAX_LINES = 280;
/**
 * The strategies each query runs under: eager (the default) for the rows, batched to compare.
 * Lazy is left to test/strategies.test.ts: on the demo shop it would triple this file's time.
 */
const COMPARED: readonly Strategy[] = ["eager", "batched"];

/** Variables for documented operations that declare required ones, by operation name. */
const VARIABLES: Record<string, Record<string, unknown>> = {};

interface Block {
  page: string;
  line: number;
  text: string;
}

/** A page split into its fenced code blocks and its prose (fences removed, line by line). */
function readPage(page: string): { blocks: (Block & { lang: string })[]; prose: string[] } {
  const blocks: (Block & { lang: string })[] = [];
  const prose: string[] = [];
  let open: (Block & { lang: string; lines: string[] }) | undefined;
  readFileSync(page, "utf8")
    .split("\n")
    .forEach((line, index) => {
      const fence = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/.exec(line);
      if (open) {
        if (fence && line.trim().startsWith(open.text)) {
          blocks.push({ page, line: open.line, lang: open.lang, text: open.lines.join("\n") });
          open = undefined;
        } else {
          open.lines.push(line);
        }
        prose.push("");
      } else if (fence) {
        open = { page, line: index + 1, lang: fence[2]!.toLowerCase(), text: fence[1]!, lines: [] };
        prose.push("");
      } else {
        prose.push(line);
      }
    });
  if (open) throw new Error(`${relative(ROOT, page)}:${open.line}: a code block is never closed`);
  return { blocks, prose };
}

const pages = new Map(PAGES.map((page) => [page, readPage(page)]));
const graphqlBlocks = [...pages.values()].flatMap(({ blocks }) => blocks.filter((block) => block.lang === "graphql"));
const where = (block: Block) => `${relative(ROOT, block.page)}:${block.line}`;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a Markdown page's headings, repeated ones numbered as GitHub does. */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of pages.get(page)?.prose ?? readPage(page).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Every link and image target in a page's prose (inline code excluded), with its line. */
function linksOf(page: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  pages.get(page)!.prose.forEach((text, index) => {
    const code = text.replace(/`[^`]*`/g, "");
    for (const match of code.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line: index + 1, target: match[1]! });
    }
  });
  return links;
}

/** A root field has rows: not null, and a list or a connection that is not empty. */
function hasRows(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object" && "edges" in value) return hasRows((value as { edges: unknown }).edges);
  return true;
}

describe("README.md", () => {
  it(`is at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(README, "utf8").trimEnd().split("\n").length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });
});

describe("links in README.md and docs/", () => {
  it("point at files that exist, and at headings that exist", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      for (const { line, target } of linksOf(page)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: and the like
        checked++;
        const [path = "", anchor] = target.split("#");
        const file = path ? resolve(dirname(page), decodeURIComponent(path)) : page;
        const at = `${relative(ROOT, page)}:${line} ${target}`;
        if (!existsSync(file)) broken.push(`${at}: no such file`);
        else if (anchor && file.endsWith(".md") && !anchorsOf(file).has(anchor)) broken.push(`${at}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it("go both ways: the README links to every docs page, and every docs page back to the README", () => {
    const targets = (page: string) =>
      linksOf(page).map(({ target }) => resolve(dirname(page), target.split("#")[0] || relative(dirname(page), page)));
    const fromReadme = new Set(targets(README));
    for (const page of PAGES.filter((page) => page !== README)) {
      expect(fromReadme.has(page), `README.md links to ${relative(ROOT, page)}`).toBe(true);
      expect(targets(page), `${relative(ROOT, page)} links to README.md`).toContain(README);
    }
  });
});

describe("GraphQL in README.md and docs/", () => {
  let shop: TestShop;
  let authorization: string;
  beforeAll(async () => {
    shop = await createTestShop({ seed: DEMO_SIZES });
    // An admin who is also user 1: admin-only fields answer, and so does `me`.
    authorization = `Bearer ${await testToken({ admin: 1 })}`;
  });
  afterAll(() => shop?.close());

  const documents = graphqlBlocks.map((block) => {
    let document: DocumentNode | undefined;
    let error: unknown;
    try {
      document = parse(block.text);
    } catch (caught) {
      error = caught;
    }
    return { block, document, error };
  });
  const queries = documents.flatMap(({ block, document }) =>
    (document?.definitions ?? [])
      .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.operation === "query")
      .map((operation) => ({ block, operation })),
  );

  it("there are examples to check, queries among them", () => {
    expect(graphqlBlocks.length).toBeGreaterThan(0);
    expect(queries.length).toBeGreaterThan(0);
  });

  it.each(documents.map((entry) => [where(entry.block), entry] as const))(
    "%s parses and fits the schema",
    (at, { document, error }) => {
      expect(error).toBeUndefined();
      expect(validate(schema, document!).map((e) => e.message)).toEqual([]);
      for (const definition of document!.definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        // Every operation is named, so a block with several can run each one.
        expect(definition.name?.value, `an operation in ${at} has no name`).toBeTruthy();
      }
    },
  );

  it.each(queries.map((entry) => [where(entry.block), entry.operation.name?.value ?? "", entry] as const))(
    "%s %s returns rows on the demo shop, the same under eager and batched",
    async (_, name, { block, operation }) => {
      const required = (operation.variableDefinitions ?? []).filter(
        (v) => v.type.kind === Kind.NON_NULL_TYPE && !v.defaultValue && !VARIABLES[name]?.[v.variable.name.value],
      );
      expect(
        required.map((v) => v.variable.name.value),
        `give ${name}'s variables in VARIABLES`,
      ).toEqual([]);
      const run = async (strategy: string) => {
        const response = await shop.fetch(
          new Request("http://shop.test/graphql", {
            method: "POST",
            headers: {
              "content-type": "application/json",
              accept: "application/graphql-response+json",
              authorization,
              "x-loading-strategy": strategy,
            },
            body: JSON.stringify({ query: block.text, operationName: name, variables: VARIABLES[name] ?? {} }),
          }),
        );
        return (await response.json()) as GraphQLResponse<Record<string, unknown>>;
      };
      const [first, ...others] = await Promise.all(COMPARED.map(run));
      expect(first!.errors).toBeUndefined();
      const empty = Object.entries(first!.data ?? {})
        .filter(([, value]) => !hasRows(value))
        .map(([field]) => field);
      expect(empty, `root fields of ${name} without rows`).toEqual([]);
      expect(Object.keys(first!.data ?? {}).length).toBeGreaterThan(0);
      for (const other of others) expect(other).toEqual({ ...first, extensions: other.extensions });
    },
  );
});
