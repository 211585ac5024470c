/**
 * Fuzzing every argument: thousands of generated hostile requests (wrong types, huge numbers and
 * strings, control characters, unicode, SQL text, forged global ids and cursors, impossible dates,
 * unknown enum values, bad lists), each invalid by construction in at least one argument, sent (one
 * in four over WebSocket, the rest over HTTP) to
 * every mutation and every query field that takes arguments, as variables and inline. Every one is
 * refused with a known error code (never INTERNAL_SERVER_ERROR), no response leaks internal text
 * (Prisma, SQL, driver names, stack traces), and the database is exactly as it was.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_DB_ID } from "../src/graphql/schema/ids.js";
import { MAX_ORDER_LINES } from "../src/limits/inputs.js";
import { NEXT_STATUSES, ORDER_STATUSES, type OrderStatus } from "../src/orders/status.js";
import { MAX_STOCK } from "../src/orders/stock.js";
import { gid } from "./support/ids.js";
import { createTestShop, type GraphQLResponse, listen, STRATEGIES, type TestShop } from "./support/shop.js";
import { overWebSocket, wsClient } from "./support/ws.js";

/** Every run generates the same requests. */
const SEED = 20261129;
/** Requests in flight at once. */
const CONCURRENCY = 8;
/** The issue asks for at least this many. */
const MIN_REQUESTS = 2000;

/** The codes a refused request may carry. */
const ALLOWED_CODES = new Set([
  "BAD_USER_INPUT",
  "NOT_FOUND",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  // graphql-yoga's: several operations and no operationName to choose one.
  "OPERATION_RESOLUTION_FAILURE",
  "INSUFFICIENT_STOCK",
  "PRODUCT_IN_USE",
  "INVALID_STATUS_TRANSITION",
  "EMAIL_TAKEN",
  "LIMIT_EXCEEDED",
  "FORBIDDEN",
]);

/**
 * Text that only the server's insides write: Prisma and its error codes, the SQL it sends, the
 * database and driver, PostgreSQL's own messages, stack traces. (The hostile strings sent avoid these
 * words, since error messages may quote the value they refuse.)
 */
const INTERNAL_TEXT: RegExp[] = [
  /prisma/i,
  /\bP[12]0\d\d\b/,
  /SELECT /,
  /INSERT /,
  /UPDATE "/,
  /postgres/i,
  /pglite/i,
  /driverAdapter/i,
  /invocation/,
  /\bat .*\.(ts|js):\d+/,
  /node_modules/,
  /TypeError/,
  /ReferenceError/,
  /RangeError/,
  /out of range for type/,
  /invalid input syntax/,
  /date\/time field value/,
  /violates .* constraint/,
  /duplicate key/,
  /OFFSET must not be negative/,
];

// ---- values ---------------------------------------------------------------------------------------

/** An enum value: a bare name inline, its name as a variable. */
class Enum {
  constructor(readonly name: string) {}
  toJSON(): string {
    return this.name;
  }
}

/** A generated value and what is wrong with it (`path: reason`); nothing when it is valid. */
interface Val {
  v: unknown;
  bad: string[];
}
type Gen = fc.Arbitrary<Val>;

/** An argument or input field: how to generate it valid, and how to generate it hostile. */
interface Field {
  valid: Gen;
  hostile: Gen;
}

const good = (arb: fc.Arbitrary<unknown>): Gen => arb.map((v) => ({ v, bad: [] }));
const bad = (reason: string, arb: fc.Arbitrary<unknown>): Gen => arb.map((v) => ({ v, bad: [`: ${reason}`] }));
/** One of `values`, named in its reason (so a report tells which one), sent as `encode` makes it. */
const labelled = (reason: string, values: unknown[], encode: (value: any) => unknown = (value) => value): Gen =>
  fc.constantFrom(...values).map((value) => ({ v: encode(value), bad: [`: ${reason} ${clip(JSON.stringify(value), 60)}`] }));
const weighted = (weight: number, arbitrary: Gen) => ({ arbitrary, weight });
const either = (valid: Gen, hostile: Gen): Field => ({ valid, hostile });
/** A field that is never valid (the only argument of a mutation that must be refused). */
const hostileOnly = (hostile: Gen): Field => ({ valid: hostile, hostile });
const prefixed = (key: string, reasons: string[]) => reasons.map((r) => (r.startsWith(":") ? `${key}${r}` : `${key}.${r}`));

/** Fields from their generated values, leaving out the undefined ones. */
function combine(shape: [string, Gen][]): Gen {
  return fc.tuple(...shape.map(([, gen]) => gen)).map((values) => ({
    v: Object.fromEntries(shape.map(([key], i) => [key, values[i]!.v]).filter(([, v]) => v !== undefined)),
    bad: shape.flatMap(([key], i) => prefixed(key, values[i]!.bad)),
  }));
}

/**
 * An input object or a set of arguments. Hostile, it has one hostile field (three times in four)
 * or several, and the others valid: so every check the server makes is reached, rather than hidden
 * behind an earlier one that refuses first.
 */
function object(shape: Record<string, Field>): Field {
  const keys = Object.keys(shape);
  const chosen = fc.oneof(
    { arbitrary: fc.constantFrom(...keys).map((key) => [key]), weight: 3 },
    { arbitrary: fc.subarray(keys, { minLength: 1 }), weight: 1 },
  );
  return {
    valid: combine(keys.map((key) => [key, shape[key]!.valid])),
    hostile: chosen.chain((hostile) =>
      combine(keys.map((key) => [key, hostile.includes(key) ? shape[key]!.hostile : shape[key]!.valid])),
    ),
  };
}

/** An input object that may also be hostile as a whole (a string, a list, null, unknown fields). */
function objectOr(shape: Record<string, Field>, whole: Gen): Field {
  const inner = object(shape);
  return { valid: inner.valid, hostile: fc.oneof({ arbitrary: inner.hostile, weight: 5 }, { arbitrary: whole, weight: 1 }) };
}

/** Arguments of which at least one is invalid. */
const someBad = (shape: Record<string, Field>): Gen => object(shape).hostile;

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** What the input rules call control characters (tab, newline and carriage return are text). */
const CONTROL_CHARS = [...Array.from({ length: 32 }, (_, c) => c).filter((c) => c !== 9 && c !== 10 && c !== 13), 0x7f].map((c) =>
  String.fromCharCode(c),
);
const hasControl = (s: string) => CONTROL_CHARS.some((c) => s.includes(c));

const SQL = [
  `'; DROP TABLE "User"; --`,
  `' OR '1'='1`,
  `" OR ""="`,
  `1; DELETE FROM "Order" WHERE 1=1; --`,
  `'); TRUNCATE "Product" CASCADE; --`,
  `' union select 1 --`,
  "%",
  "_",
  "\\",
  "%_\\%",
  "$1",
  "?",
  "::int",
  "/* */ --",
  `' || pg_sleep(10) || '`,
  "E'\\\\x00'",
];
const UNICODE = [
  "🛒",
  "👩‍👩‍👧‍👦",
  "\u202Egnp.exe",
  "\u200F\u05E9\u05DC\u05D5\u05DD",
  "e\u0301\u0302\u0303\u0304",
  "Z\u0351\u0352a\u0354l\u0355g\u0356o",
  "\uDBFF\uDFFF",
  "𝕏𝔶𝕫",
  "漢字テスト",
  "＠ｅｘａｍｐｌｅ",
  "\u200B",
  "Ω≈ç√∫",
  "İß",
  "\uFFFD\uFFFF",
];
const PLAIN = ["Ada Lovelace", "Widget", "Tools", "O'Brien", "a", "Zoë"];
/** Half of a surrogate pair, alone: no character at all, refused by every text rule. */
const LONE_SURROGATES = ["\uD800", "\uDFFF x", "a\uDBFFb", "\uDFFF\uD800", "🛒\uD83D"];

/** Text that obeys a rule of at most `max` characters (trimmed, no control characters). */
const validText = (max: number): fc.Arbitrary<string> =>
  fc
    .oneof(fc.constantFrom(...PLAIN, ...SQL, ...UNICODE), fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }))
    .filter((s) => s.trim().length >= 1 && s.trim().length <= max && !hasControl(s));

/** Longer than `max` code points even after trimming. */
const tooLong = (max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...PLAIN, ...SQL, ...UNICODE, "x"), fc.integer({ min: 1, max: 40 })).map(([chunk, extra]) => {
    // The rules count code points (an emoji is one), so this does too.
    const points = [...chunk];
    return `x${Array.from({ length: max + extra }, (_, i) => points[i % points.length]).join("")}x`;
  });

/** Short valid text with a control character inside it (where trimming cannot remove it). */
const withControl: fc.Arbitrary<string> = fc
  .tuple(validText(20), fc.constantFrom(...CONTROL_CHARS), fc.nat())
  .map(([text, control, at]) => {
    const inner = `a${text}b`;
    const i = 1 + (at % (inner.length - 1));
    return inner.slice(0, i) + control + inner.slice(i);
  });

/** Short valid text with a lone surrogate in it. */
const withLoneSurrogate: fc.Arbitrary<string> = fc
  .tuple(validText(20), fc.constantFrom(...LONE_SURROGATES))
  .map(([text, lone]) => `${text}${lone}`);

/** Empty once trimmed. */
const blank = fc.constantFrom("", " ", "   ", "\t", "\n", "\r\n", "\u00A0", "\u2003", "\u3000", "\uFEFF", " \u200A ", "\u2028");

/** Not a string: numbers, booleans, objects and lists. */
const notString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constantFrom({}, { value: "x" }, [], ["x"]),
);

function badText(max: number, required: boolean): Gen {
  return fc.oneof(
    bad(`longer than ${max}`, tooLong(max)),
    bad("control character", withControl),
    bad("lone surrogate", withLoneSurrogate),
    bad("not a string", notString),
    ...(required ? [bad("blank", blank), bad("null", fc.constant(null)), bad("missing", fc.constant(undefined))] : []),
  );
}

const optionalText = (max: number): Gen => good(fc.oneof(validText(max), fc.constantFrom(undefined, null, "", " ")));

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const isEmail = (s: string) => {
  const t = s.trim().toLowerCase();
  return t.length <= 254 && !hasControl(t) && EMAIL.test(t);
};
const validEmail: fc.Arbitrary<string> = fc.oneof(
  fc.nat().map((n) => `fuzz${n}@example.com`),
  fc.constantFrom("o'hara@example.com", "zoë+tag@例え.jp", "  MiXeD@Example.COM ", "a@b.co"),
);
const badEmail = (taken: string[], required: boolean): Gen =>
  fc.oneof(
    bad(
      "not an email",
      fc
        .oneof(
          fc.constantFrom("", " ", "plain", "a@b", "@b.c", "a@", "a@b.", "a b@c.d", "a@b c.d", "a@@b.c", "@", "a@.c", ...SQL),
          fc.string({ maxLength: 30 }),
          fc.string({ unit: "grapheme", maxLength: 30 }),
        )
        .filter((s) => !isEmail(s)),
    ),
    bad(
      "email longer than 254",
      fc.integer({ min: 243, max: 400 }).map((n) => `${"e".repeat(n)}@example.com`),
    ),
    bad(
      "control character in email",
      fc.tuple(fc.constantFrom(...CONTROL_CHARS), fc.nat()).map(([c]) => `ada${c}x@example.com`),
    ),
    bad(
      "lone surrogate in email",
      fc.constantFrom(...LONE_SURROGATES).map((lone) => `ada${lone}@example.com`),
    ),
    bad("not a string", notString),
    ...(taken.length ? [bad("email taken", fc.constantFrom(...taken.flatMap((e) => [e, e.toUpperCase(), `  ${e} `])))] : []),
    ...(required ? [bad("null", fc.constant(null)), bad("missing", fc.constant(undefined))] : []),
  );

/** Not a whole number from `min` to `max`, or not a number at all. */
function badInt(min: number, max: number, required: boolean): Gen {
  return fc.oneof(
    bad("below range", fc.integer({ min: -(2 ** 31), max: min - 1 })),
    bad("above range", fc.integer({ min: max + 1, max: 2 ** 31 - 1 })),
    bad("beyond Int", fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e21, 1e308, -1e308)),
    bad(
      "fraction",
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).filter((x) => !Number.isInteger(x)),
    ),
    bad("not a number", fc.constantFrom("1", "one", "", "0x10", "1e3", true, false, {}, [], [1])),
    ...(required ? [bad("null", fc.constant(null)), bad("missing", fc.constant(undefined))] : []),
  );
}
const optionalInt = (min: number, max: number) => good(fc.option(fc.integer({ min, max }), { nil: undefined }));

const badBool = bad("not a Boolean", fc.constantFrom("true", "false", 1, 0, "yes", {}, [], [true]));
const optionalBool = good(fc.constantFrom(undefined, true, false, null));

const DECIMAL = /^-?\d{1,8}(\.\d{1,2})?$/;
/** Not a Decimal in form. */
const malformedDecimal = fc.oneof(
  fc.constantFrom(
    "1.999",
    "abc",
    "1e5",
    "",
    "  ",
    "12345678901",
    "123456789.00",
    "1,00",
    "0x10",
    "Infinity",
    "NaN",
    "--1",
    "1.",
    ".5",
    "+1.00",
    "1..2",
    "١٢٣",
    "1 000",
    "1.0\u0000",
    ...SQL,
    12345678901,
    1.999,
    1e21,
    true,
    {},
    [],
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !DECIMAL.test(String(x))),
  fc.string({ maxLength: 12 }).filter((s) => !DECIMAL.test(s.trim())),
);
const validMoney = good(
  fc
    .tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 99 }))
    .map(([u, c]) => `${u}.${String(c).padStart(2, "0")}`),
);
function badMoney(required: boolean): Gen {
  return fc.oneof(
    bad("malformed Decimal", malformedDecimal),
    bad(
      "negative price",
      fc.tuple(fc.integer({ min: -99_999_999, max: -1 }), fc.integer({ min: 0, max: 99 })).map(([u, c]) => `${u}.${c}`),
    ),
    bad("negative price", fc.constantFrom("-0.01", "-1", -5)),
    ...(required ? [bad("null", fc.constant(null)), bad("missing", fc.constant(undefined))] : []),
  );
}

const iso = (d: Date) => d.toISOString();
const dateIn = (from: string, to: string) => fc.date({ min: new Date(from), max: new Date(to), noInvalidDate: true }).map(iso);
/** Valid bounds of a period: any `from` in EARLY is before any `to` in LATE. */
const EARLY = ["2000-01-01T00:00:00Z", "2015-12-31T00:00:00Z"] as const;
const LATE = ["2016-01-01T00:00:00Z", "2030-01-01T00:00:00Z"] as const;
const optionalDate = ([from, to]: readonly [string, string] = [EARLY[0], LATE[1]]) =>
  good(fc.option(dateIn(from, to), { nil: undefined }));
/** A period that ends before it starts. */
const reversedRange: Gen = fc
  .tuple(dateIn(...LATE), dateIn(...EARLY))
  .map(([from, to]) => ({ v: { from, to }, bad: ["to: not after from"] }));
/**
 * Not a point in time the API accepts: no offset, no time, impossible dates, other types, and dates
 * before the year 1 (RFC 3339 allows the year 0000, PostgreSQL has no year 0).
 */
const badDateTime: Gen = fc.oneof(
  bad(
    "malformed DateTime",
    fc.constantFrom(
      "yesterday",
      "now()",
      "2026-01-31",
      "2026-01-31T12:00:00",
      "2026-02-30T00:00:00Z",
      "2026-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-01-31T24:00:00Z",
      "2026-01-31T12:00:00+24:00",
      "2026-01-31 12:00:00Z",
      "2026-01-31T12:00Z",
      "2026-01-31T23:59:60Z",
      "275760-09-13T00:00:00Z",
      "+002026-01-31T12:00:00Z",
      " 2026-01-31T12:00:00Z",
      "2026-01-31T12:00:00Z\u0000",
      "",
      "1",
      "March 7",
      ...SQL,
    ),
  ),
  bad(
    "DateTime without offset",
    dateIn("1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z").map((s) => s.slice(0, 19)),
  ),
  bad("DateTime not a string", fc.constantFrom(1, 0, -1, 1.5, 1e308, 1769860800000, true, {}, [], ["2026-01-31T12:00:00Z"])),
  bad(
    "year 0",
    fc.oneof(
      fc
        .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 23 }))
        .map(
          ([m, d, h]) => `0000-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:00:00Z`,
        ),
      fc.integer({ min: 1, max: 23 }).map((h) => `0001-01-01T00:00:00+${String(h).padStart(2, "0")}:00`),
    ),
  ),
);

const STATUS_NAMES = [...ORDER_STATUSES];
const validStatus = fc.constantFrom(...STATUS_NAMES.map((s) => new Enum(s)));
function badEnum(values: readonly string[], required: boolean): Gen {
  return fc.oneof(
    bad(
      "unknown enum value",
      fc.constantFrom("LOST", "DELETED", "ASCENDING", "NONE", `${values[0]}X`).map((n) => new Enum(n)),
    ),
    bad("lower-case enum value", fc.constantFrom(...values.map((v) => new Enum(v.toLowerCase())))),
    bad(
      "enum of the wrong type",
      fc.constantFrom(0, 1, true, ` ${values[0]}`, `${values[0]}\u0000`, "", {}, [], [new Enum(values[0]!)]),
    ),
    ...(required ? [bad("null", fc.constant(null)), bad("missing", fc.constant(undefined))] : []),
  );
}
const DIRECTIONS = ["ASC", "DESC"];

/** An `orderBy` over `columns`: one column, or a hostile one. */
function orderBy(columns: string[]): Field {
  return either(
    good(
      fc.option(
        fc.tuple(fc.constantFrom(...columns), fc.constantFrom(...DIRECTIONS)).map(([c, d]) => ({ [c]: new Enum(d) })),
        { nil: undefined },
      ),
    ),
    fc.oneof(
      bad(
        "two sort columns",
        fc
          .shuffledSubarray(columns, { minLength: 2, maxLength: columns.length })
          .chain((cs) =>
            fc
              .tuple(...cs.map(() => fc.constantFrom(...DIRECTIONS)))
              .map((ds) => Object.fromEntries(cs.map((c, i) => [c, new Enum(ds[i]!)]))),
          ),
      ),
      bad("unknown sort column", fc.constantFrom({ nope: new Enum("ASC") }, { password: new Enum("DESC") }, { "": "ASC" })),
      badEnum(DIRECTIONS, false).chain((dir) =>
        fc.constantFrom(...columns).map((c) => ({ v: { [c]: dir.v }, bad: prefixed(c, dir.bad) })),
      ),
      bad("orderBy of the wrong type", fc.constantFrom("id", "ASC", 1, true, [], [{ id: new Enum("ASC") }])),
    ),
  );
}

// ---- global ids and cursors ---------------------------------------------------------------------

const TYPES = ["User", "Product", "Order", "OrderItem"] as const;
type Typename = (typeof TYPES)[number];
const VALID_GID = /^(User|Product|Order|OrderItem):[1-9]\d{0,9}$/;
const notAGid = (s: string) => !VALID_GID.test(s) && !VALID_GID.test(Buffer.from(s, "base64").toString("utf8"));

/** Not a global id of any row: not base64, not `Type:id`, an id no integer column holds, an unknown type. */
function malformedId(type: Typename): Gen {
  return fc.oneof(
    weighted(
      2,
      labelled("malformed id", [
        "not-a-global-id",
        "%%%",
        "",
        " ",
        "====",
        "null",
        "undefined",
        "0",
        "-1",
        "\u0000",
        "VXNlcjox\u0000",
        "🛒",
        ...SQL,
      ]),
    ),
    weighted(
      3,
      labelled(
        "malformed id, base64 of",
        [
          `${type}:abc`,
          `${type}:-1`,
          `${type}:0`,
          `${type}:99999999999`,
          `${type}:${MAX_DB_ID + 1}`,
          `${type}:1.5`,
          `${type}:1e3`,
          `${type}: 1`,
          `${type}:1 `,
          `${type}:`,
          type,
          `${type}:1:2`,
          `${type}:0x1`,
          `${type}:NaN`,
          `${type}:Infinity`,
          `${type}:${"9".repeat(300)}`,
          `${type}:1; DROP TABLE "${type}"; --`,
          `${type}:1' OR '1'='1`,
          `${type}:\u0000`,
          `${type}:١`,
          `${type.toLowerCase()}:1`,
          ":1",
          "Foo:1",
          "Query:1",
          "__proto__:1",
          "constructor:1",
          "toString:1",
        ],
        b64,
      ),
    ),
    weighted(1, bad("malformed id, base64 of random text", fc.string({ maxLength: 24 }).filter(notAGid).map(b64))),
    weighted(1, bad("malformed id, random text", fc.string({ maxLength: 24 }).filter(notAGid))),
    weighted(1, labelled("id of the wrong type", [12345, 0, -1, 2 ** 53, 1.5, true, {}, [], ["x"]])),
  );
}

/** A hostile global id where a `type` id is expected. */
function badId(
  type: Typename,
  {
    wrongType = true,
    missingRow = false,
    required = false,
  }: { wrongType?: boolean; missingRow?: boolean; required?: boolean } = {},
): Gen {
  return fc.oneof(
    weighted(4, malformedId(type)),
    ...(wrongType
      ? [
          bad(
            "id of another type",
            fc
              .tuple(fc.constantFrom(...TYPES.filter((t) => t !== type)), fc.integer({ min: 1, max: 3 }))
              .map(([t, n]) => gid(t, n)),
          ),
        ]
      : []),
    ...(missingRow
      ? [
          bad(
            "id of no row",
            fc.integer({ min: 1_000_000, max: MAX_DB_ID }).map((n) => gid(type, n)),
          ),
        ]
      : []),
    ...(required ? [bad("null", fc.constant(null)), bad("missing", fc.constant(undefined))] : []),
  );
}

/** Connection cursors the server never hands out (its own are `GPC:N:<id>` of a row). */
const forgedCursor: Gen = fc.oneof(
  weighted(
    4,
    labelled(
      "forged cursor",
      [
        "N:99999999999",
        "N:2147483648",
        "N:-2147483649",
        "N:1e308",
        "N:-1",
        "N:0",
        "N:1.5",
        "N:",
        "N:abc",
        "N:NaN",
        "N:Infinity",
        "N:0x10",
        "N:1:2",
        "S:abc",
        "S:1",
        "S:",
        "Z:",
        "I:5",
        "I:99999999999999999999",
        "O:{}",
        'O:{"id":1}',
        "O:[1]",
        "O:null",
        "O:{bad json",
        "D:0",
        "B:AA==",
        "T:[]",
        "Q:1",
        "",
      ].map((chunk) => `GPC:${chunk}`),
      b64,
    ),
  ),
  weighted(
    1,
    bad(
      "not a cursor",
      fc.constantFrom("%%%", "not a cursor", "\u0000", b64("gpc:N:1"), b64("OffsetConnection:1"), b64("User:1")),
    ),
  ),
  weighted(1, bad("not a cursor", fc.string({ minLength: 1, maxLength: 20 }).map(b64))),
  weighted(1, bad("cursor not a string", fc.constantFrom(1, true, {}, [], ["x"]))),
);

/** Offset cursors (the reports') the server never hands out: it writes `OffsetConnection:<n>`, n >= -1. */
const forgedOffsetCursor: Gen = fc.oneof(
  weighted(
    4,
    labelled(
      "forged offset cursor",
      [
        "-2",
        "-5",
        "-2147483649",
        "abc",
        "",
        "1.5",
        "1e3",
        " 1",
        "0x10",
        "1abc",
        "NaN",
        "Infinity",
        "99999999999999999999",
        "9007199254740993",
        "1e308",
      ].map((n) => `OffsetConnection:${n}`),
      b64,
    ),
  ),
  weighted(1, bad("not a cursor", fc.constantFrom("%%%", "not a cursor", b64("GPC:N:1"), b64("Offset:1")))),
  weighted(1, bad("cursor not a string", fc.constantFrom(1, true, {}, []))),
);

// ---- requests -----------------------------------------------------------------------------------

/** A GraphQL literal for a value, as a client would write it inline. */
function literal(value: unknown): string {
  if (value instanceof Enum) return value.name;
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(literal).join(", ")}]`;
  if (typeof value === "object") {
    const fields = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{ ${fields.map(([k, v]) => `${k}: ${literal(v)}`).join(", ")} }`;
  }
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

interface Request {
  query: string;
  variables?: Record<string, unknown>;
  strategy: string;
}

/** One field a group of requests goes to. */
interface Target {
  op: "query" | "mutation";
  field: string;
  /** Each argument's GraphQL type, for variables. */
  types: Record<string, string>;
  selection: string;
  /** Puts the field call inside a selection (for lists nested in objects). */
  wrap?: (call: string) => string;
}

function render(target: Target, args: Record<string, unknown>, inline: boolean, strategy: string): Request {
  const given = Object.entries(args).filter(([, v]) => v !== undefined);
  const wrap = target.wrap ?? ((call: string) => call);
  if (inline) {
    const list = given.map(([name, v]) => `${name}: ${literal(v)}`).join(", ");
    return { query: `${target.op} { ${wrap(`${target.field}${list ? `(${list})` : ""} ${target.selection}`)} }`, strategy };
  }
  const defs = given.map(([name]) => `$${name}: ${target.types[name]}`).join(", ");
  const list = given.map(([name]) => `${name}: $${name}`).join(", ");
  return {
    query: `${target.op}${defs ? `(${defs})` : ""} { ${wrap(`${target.field}${list ? `(${list})` : ""} ${target.selection}`)} }`,
    variables: Object.fromEntries(given),
    strategy,
  };
}

/** A generated request and what makes it invalid. */
interface Case {
  request: Request;
  bad: string[];
  /** The mutation field whose result must be null. */
  mutation?: string;
}

/** Generated requests to `target` with the arguments `args` makes, a quarter of them inline. */
/** How many requests to generate, from which seed. */
interface Sampling {
  runs: number;
  seed: number;
}

function cases(target: Target, args: Gen, { runs, seed }: Sampling): Case[] {
  const arb = fc.record({
    args,
    inline: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    strategy: fc.constantFrom(...STRATEGIES),
  });
  return fc.sample(arb, { seed, numRuns: runs }).map(({ args, inline, strategy }) => ({
    request: render(target, args.v as Record<string, unknown>, inline, strategy),
    bad: args.bad,
    ...(target.op === "mutation" ? { mutation: target.field } : {}),
  }));
}

// ---- checking responses ---------------------------------------------------------------------------

interface Failure {
  problem: string;
  case: Case;
  response: unknown;
}

let shop: TestShop;
let sent = 0;
const codesSeen = new Map<string, number>();
/** Errors the server masked and logged (the mask's "[shop-api] unexpected error"). */
const unexpectedLogged: string[] = [];

function problemsOf(c: Case, response: GraphQLResponse): string[] {
  const problems: string[] = [];
  if (!response.errors?.length) problems.push("accepted: no errors");
  if (c.mutation && response.data?.[c.mutation] != null) problems.push("mutation returned a result");
  for (const error of response.errors ?? []) {
    const code = error.extensions?.code;
    codesSeen.set(String(code), (codesSeen.get(String(code)) ?? 0) + 1);
    if (code === "INTERNAL_SERVER_ERROR") problems.push("INTERNAL_SERVER_ERROR");
    else if (typeof code !== "string") problems.push("error without a code");
    else if (!ALLOWED_CODES.has(code)) problems.push(`unexpected code ${code}`);
  }
  // `extensions.sql` is the SQL report admins asked for (SQL_EXPLAIN); everything else is scanned.
  const { sql: _sql, ...extensions } = response.extensions ?? {};
  const text = JSON.stringify({ data: response.data, errors: response.errors, extensions });
  for (const pattern of INTERNAL_TEXT) if (pattern.test(text)) problems.push(`internal text ${pattern}`);
  return problems;
}

/** One WebSocket client per strategy: a quarter of the cases go over WebSocket, the rest over HTTP. */
const wsClients = new Map<string, Awaited<ReturnType<typeof wsClient>>>();

async function send(c: Case): Promise<Failure[]> {
  const overWs = sent++ % 4 === 3;
  let response: GraphQLResponse;
  try {
    response = overWs
      ? await overWebSocket(wsClients.get(c.request.strategy)!, c.request.query, c.request.variables)
      : await shop.gql(c.request.query, c.request.variables, { strategy: c.request.strategy });
  } catch (error) {
    return [{ problem: `no GraphQL response: ${error}`, case: c, response: null }];
  }
  return problemsOf(c, response).map((problem) => ({ problem, case: c, response }));
}

/** Sends every case, CONCURRENCY at a time, and returns what went wrong. */
async function run(all: Case[]): Promise<Failure[]> {
  const failures: Failure[] = [];
  for (let i = 0; i < all.length; i += CONCURRENCY) {
    for (const found of await Promise.all(all.slice(i, i + CONCURRENCY).map(send))) failures.push(...found);
  }
  return failures;
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** The failures grouped by problem and cause, each with its shortest request (a hand-made shrink). */
function report(name: string, total: number, failures: Failure[]): string {
  if (!failures.length) return "";
  const groups = new Map<string, Failure[]>();
  for (const f of failures) {
    const key = `${f.problem} <- ${f.case.bad.join(", ") || "(nothing invalid?)"}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const size = (f: Failure) => f.case.request.query.length + JSON.stringify(f.case.request.variables ?? {}).length;
  const lines = [`${name}: ${new Set(failures.map((f) => f.case)).size} of ${total} requests failed`];
  for (const [key, group] of [...groups].sort((a, b) => b[1].length - a[1].length).slice(0, 30)) {
    const shortest = group.reduce((a, b) => (size(b) < size(a) ? b : a));
    lines.push(
      `\n[${group.length}x] ${key}`,
      `  query:     ${clip(shortest.case.request.query)}`,
      `  variables: ${clip(JSON.stringify(shortest.case.request.variables ?? {}))}`,
      `  strategy:  ${shortest.case.request.strategy}`,
      `  response:  ${clip(JSON.stringify(shortest.response))}`,
    );
  }
  if (groups.size > 30) lines.push(`\n… and ${groups.size - 30} more kinds`);
  if (unexpectedLogged.length)
    lines.push(`\nserver logged ${unexpectedLogged.length} unexpected errors, e.g. ${unexpectedLogged[0]}`);
  return lines.join("\n");
}

// ---- the shop -----------------------------------------------------------------------------------

interface World {
  users: { id: string; email: string }[];
  products: { id: string; stock: number; inUse: boolean }[];
  orders: { id: string; status: OrderStatus }[];
}
let world: World;
let before: string;
const consoleError = console.error;

beforeAll(async () => {
  shop = await createTestShop({ seed: { users: 5, products: 5, ordersPerUser: 2, itemsPerOrder: 2 } });
  const { wsUrl } = await listen(shop);
  for (const strategy of STRATEGIES) wsClients.set(strategy, await wsClient(wsUrl, { strategy }));
  const [users, products, orders] = await Promise.all([
    shop.prisma.user.findMany({ orderBy: { id: "asc" } }),
    shop.prisma.product.findMany({ orderBy: { id: "asc" }, include: { _count: { select: { orderItems: true } } } }),
    shop.prisma.order.findMany({ orderBy: { id: "asc" } }),
  ]);
  world = {
    users: users.map((u) => ({ id: gid("User", u.id), email: u.email })),
    products: products.map((p) => ({ id: gid("Product", p.id), stock: p.stock, inUse: p._count.orderItems > 0 })),
    orders: orders.map((o) => ({ id: gid("Order", o.id), status: o.status })),
  };
  expect(world.products.some((p) => p.stock > 0)).toBe(true);
  before = await shop.snapshot();
  // The mask logs every error it hides; count them rather than print a Prisma dump for each.
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    if (String(args[0]).startsWith("[shop-api] unexpected error")) {
      unexpectedLogged.push(clip(String(args[1]).split("\n").filter(Boolean).slice(-1)[0] ?? "", 200));
    } else consoleError(...args);
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  for (const client of wsClients.values()) await client.dispose();
  await shop?.close();
});

// ---- the groups ---------------------------------------------------------------------------------

const some = <T>(values: readonly T[]) => fc.constantFrom(...values);
const userIds = () => some(world.users.map((u) => u.id));
const stocked = () => world.products.filter((p) => p.stock > 0);
/** A cursor as the server writes it, for the row with this database id. */
const realCursor = (id: number) => b64(`GPC:N:${id}`);
const absent = good(fc.constant(undefined));
const canMove = (from: OrderStatus, to: string) => (NEXT_STATUSES[from] as readonly string[]).includes(to);

const CONNECTION = "{ totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } }";
const pageSize = (required = false) => either(optionalInt(0, 100), badInt(0, 100, required));
/** `last` is left out when valid (the reports refuse it without `before` or `first`). */
const last = () => either(absent, badInt(0, 100, false));

/** A field and the types of its arguments, for `render`. */
const mutation = (field: string, types: Record<string, string>, selection = "{ id }"): Target => ({
  op: "mutation",
  field,
  types,
  selection,
});
const query = (field: string, types: Record<string, string>, selection: string): Target => ({
  op: "query",
  field,
  types,
  selection,
});

/** Each group: a field, its generated arguments (at least one invalid), and how many requests. */
interface Group {
  name: string;
  runs: number;
  make: (n: Sampling) => Case[];
}

const userInput = (required: boolean, takenEmails: string[]) => ({
  name: either(required ? good(validText(200)) : good(fc.option(validText(200), { nil: undefined })), badText(200, required)),
  email: either(required ? good(validEmail) : good(fc.option(validEmail, { nil: undefined })), badEmail(takenEmails, required)),
  age: either(optionalInt(0, 150), badInt(0, 150, false)),
  active: either(optionalBool, badBool),
});

const productInput = (required: boolean) => ({
  name: either(required ? good(validText(200)) : good(fc.option(validText(200), { nil: undefined })), badText(200, required)),
  description: either(optionalText(5000), badText(5000, false)),
  price: either(
    required
      ? validMoney
      : good(
          fc.option(
            validMoney.map((m) => m.v),
            { nil: undefined },
          ),
        ),
    badMoney(required),
  ),
  stock: either(optionalInt(0, MAX_STOCK), badInt(0, MAX_STOCK, false)),
  category: either(required ? good(validText(100)) : good(fc.option(validText(100), { nil: undefined })), badText(100, required)),
});

const wrongInput = (...extra: unknown[]) =>
  bad("input of the wrong type", fc.constantFrom("x", 1, true, [], null, undefined, ...extra));
const wrongFilter = bad("filter of the wrong type", fc.constantFrom("x", 1, [], { nope: 1 }));

const groups: Group[] = [
  // ---- mutations ----
  {
    name: "createUser",
    runs: 100,
    make: (n) =>
      cases(
        mutation("createUser", { input: "CreateUserInput!" }),
        someBad({
          input: objectOr(
            userInput(
              true,
              world.users.map((u) => u.email),
            ),
            fc.oneof(
              wrongInput(),
              bad("unknown input field", fc.constant({ name: "Ada", email: "ada.fuzz@example.com", role: "admin" })),
            ),
          ),
        }),
        n,
      ),
  },
  {
    name: "updateUser",
    runs: 100,
    make(n) {
      // The user being changed; the others' emails are taken.
      const [self, ...others] = world.users;
      return cases(
        mutation("updateUser", { id: "ID!", input: "UpdateUserInput!" }),
        someBad({
          id: either(good(fc.constant(self!.id)), badId("User", { missingRow: true, required: true })),
          input: objectOr(
            userInput(
              false,
              others.map((u) => u.email),
            ),
            wrongInput({ nope: 1 }),
          ),
        }),
        n,
      );
    },
  },
  {
    name: "deleteUser",
    runs: 60,
    make: (n) =>
      cases(
        mutation("deleteUser", { id: "ID!" }),
        someBad({ id: hostileOnly(badId("User", { missingRow: true, required: true })) }),
        n,
      ),
  },
  {
    name: "createProduct",
    runs: 100,
    make: (n) =>
      cases(
        mutation("createProduct", { input: "CreateProductInput!" }),
        someBad({ input: objectOr(productInput(true), wrongInput({ name: "A", price: "1.00", category: "C", x: 1 })) }),
        n,
      ),
  },
  {
    name: "updateProduct",
    runs: 100,
    make: (n) =>
      cases(
        mutation("updateProduct", { id: "ID!", input: "UpdateProductInput!" }),
        someBad({
          id: either(good(some(world.products.map((p) => p.id))), badId("Product", { missingRow: true, required: true })),
          input: objectOr(productInput(false), wrongInput({ stock: 1, nope: 1 })),
        }),
        n,
      ),
  },
  {
    name: "restockProduct",
    runs: 80,
    make(n) {
      const plain = someBad({
        id: either(good(some(world.products.map((p) => p.id))), badId("Product", { missingRow: true, required: true })),
        quantity: either(good(fc.integer({ min: 1, max: 1000 })), badInt(1, MAX_STOCK, true)),
      });
      // Valid on its own, but it would take the stock above MAX_STOCK.
      const overflow = some(stocked()).chain((p) =>
        fc.integer({ min: MAX_STOCK - p.stock + 1, max: MAX_STOCK }).map((quantity) => ({
          v: { id: p.id, quantity },
          bad: ["quantity: takes the stock above MAX_STOCK"],
        })),
      );
      return cases(
        mutation("restockProduct", { id: "ID!", quantity: "Int!" }, "{ id stock }"),
        fc.oneof({ arbitrary: plain, weight: 4 }, { arbitrary: overflow, weight: 1 }),
        n,
      );
    },
  },
  {
    name: "deleteProduct",
    runs: 60,
    make(n) {
      const inUse = world.products.filter((p) => p.inUse).map((p) => p.id);
      const id = fc.oneof(
        badId("Product", { missingRow: true, required: true }),
        ...(inUse.length ? [bad("product in use", some(inUse))] : []),
      );
      return cases(mutation("deleteProduct", { id: "ID!" }), someBad({ id: hostileOnly(id) }), n);
    },
  },
  {
    name: "createOrder",
    runs: 140,
    make(n) {
      const products = stocked();
      const goodLine = some(products).map((p) => ({ productId: p.id, quantity: 1 }));
      const badLine: Gen = fc.oneof(
        object({
          productId: either(good(some(products.map((p) => p.id))), badId("Product", { missingRow: true, required: true })),
          quantity: either(good(fc.constant(1)), badInt(1, MAX_STOCK, true)),
        }).hostile,
        bad(
          "more than the stock",
          some(products).chain((p) =>
            fc.integer({ min: p.stock + 1, max: MAX_STOCK }).map((q) => ({ productId: p.id, quantity: q })),
          ),
        ),
        bad(
          "line of the wrong shape",
          fc.constantFrom(
            "x",
            1,
            null,
            [],
            {},
            { productId: products[0]!.id },
            { quantity: 1 },
            { productId: products[0]!.id, quantity: 1, price: "0.01" },
          ),
        ),
      );
      const items = either(
        good(goodLine.map((line) => [line])),
        fc.oneof(
          fc
            .tuple(fc.uniqueArray(goodLine, { selector: (line) => line.productId, maxLength: 2 }), badLine)
            .map(([lines, line]) => ({ v: [...lines, line.v], bad: prefixed(String(lines.length), line.bad) })),
          bad("no lines", fc.constant([])),
          bad(
            `more than ${MAX_ORDER_LINES} lines`,
            fc
              .integer({ min: MAX_ORDER_LINES + 1, max: MAX_ORDER_LINES + 40 })
              .map((n) => Array.from({ length: n }, (_, i) => ({ productId: gid("Product", i + 1), quantity: 1 }))),
          ),
          bad(
            "the same product twice",
            some(products).map((p) => [
              { productId: p.id, quantity: 1 },
              { productId: p.id, quantity: 1 },
            ]),
          ),
          bad("items of the wrong type", fc.constantFrom("x", 1, null, undefined, {}, [null])),
        ),
      );
      return cases(
        mutation("createOrder", { input: "CreateOrderInput!" }),
        someBad({
          input: objectOr(
            {
              userId: either(good(userIds()), badId("User", { missingRow: true })),
              items,
              notes: either(optionalText(1000), badText(1000, false)),
            },
            wrongInput(),
          ),
        }),
        n,
      );
    },
  },
  {
    name: "updateOrderStatus",
    runs: 100,
    make(n) {
      const plain = someBad({
        id: either(good(some(world.orders.map((o) => o.id))), badId("Order", { missingRow: true, required: true })),
        status: hostileOnly(badEnum(STATUS_NAMES, true)),
      });
      const badIdValidStatus = combine([
        ["id", badId("Order", { missingRow: true, required: true })],
        ["status", good(validStatus)],
      ]);
      // A real order and a real status, but a move the status machine forbids.
      const forbidden = world.orders.flatMap((o) =>
        STATUS_NAMES.filter((s) => !canMove(o.status, s)).map((s) => ({ id: o.id, status: s })),
      );
      const move = some(forbidden).map(({ id, status }) => ({
        v: { id, status: new Enum(status) },
        bad: ["status: forbidden move"],
      }));
      return cases(
        mutation("updateOrderStatus", { id: "ID!", status: "OrderStatus!" }, "{ id status }"),
        fc.oneof(plain, badIdValidStatus, move),
        n,
      );
    },
  },
  {
    name: "bulkUpdateOrderStatus",
    runs: 100,
    make(n) {
      const pairs = STATUS_NAMES.flatMap((from) => STATUS_NAMES.map((to) => [from, to] as const));
      // The move is one field, so that an allowed move with an otherwise valid filter needs another hostile field.
      const move = either(
        good(some(pairs.filter(([from, to]) => canMove(from, to))).map(([from, to]) => [new Enum(from), new Enum(to)])),
        fc.oneof(
          bad(
            "forbidden move",
            some(pairs.filter(([from, to]) => !canMove(from, to))).map(([from, to]) => [new Enum(from), new Enum(to)]),
          ),
          badEnum(STATUS_NAMES, true).map((s) => ({ v: [s.v, new Enum("CANCELLED")], bad: prefixed("filter.status", s.bad) })),
          badEnum(STATUS_NAMES, true).map((s) => ({ v: [new Enum("PENDING"), s.v], bad: prefixed("to", s.bad) })),
        ),
      );
      const args = someBad({
        move,
        createdBefore: either(optionalDate(), badDateTime),
        // A user id of no row is a valid filter that matches nothing.
        userId: either(good(fc.option(userIds(), { nil: undefined })), badId("User")),
        filter: either(absent, bad("filter of the wrong type", fc.constantFrom("x", 1, [], null))),
      }).map(({ v, bad }) => {
        const {
          move: pair,
          createdBefore,
          userId,
          filter,
        } = v as { move: [unknown, unknown]; createdBefore?: string; userId?: string; filter?: unknown };
        const [status, to] = pair;
        const fields = Object.fromEntries(Object.entries({ status, createdBefore, userId }).filter(([, x]) => x !== undefined));
        return {
          v: { filter: "filter" in (v as object) ? filter : fields, to },
          bad: bad.map((reason) => reason.replace(/^move\./, "").replace(/^(createdBefore|userId)/, "filter.$1")),
        };
      });
      return cases(
        mutation("bulkUpdateOrderStatus", { filter: "BulkOrderFilter!", to: "OrderStatus!" }, "{ count unitsReturned }"),
        args,
        n,
      );
    },
  },
  // ---- queries by id ----
  ...(["User", "Order", "Product"] as const).map(
    (type): Group => ({
      name: type.toLowerCase(),
      runs: 60,
      make: (n) =>
        cases(
          query(type.toLowerCase(), { id: "ID!" }, "{ id }"),
          someBad({ id: hostileOnly(badId(type, { required: true })) }),
          n,
        ),
    }),
  ),
  {
    name: "node",
    runs: 100,
    make: (n) =>
      cases(
        query("node", { id: "ID!" }, "{ id }"),
        someBad({ id: hostileOnly(badId("User", { wrongType: false, required: true })) }),
        n,
      ),
  },
  {
    name: "nodes",
    runs: 70,
    make(n) {
      const any = some([...world.users.map((u) => u.id), ...world.products.map((p) => p.id), ...world.orders.map((o) => o.id)]);
      const ids = fc.oneof(
        fc.tuple(fc.array(any, { maxLength: 3 }), malformedId("User"), fc.nat()).map(([valid, id, at]) => {
          const i = at % (valid.length + 1);
          return { v: (valid as unknown[]).toSpliced(i, 0, id.v), bad: prefixed(String(i), id.bad) };
        }),
        bad(
          "more than 100 ids",
          fc.integer({ min: 101, max: 130 }).map((n) => Array.from({ length: n }, (_, i) => gid("Product", i + 1))),
        ),
        bad(
          "null in the list",
          any.map((id) => [id, null]),
        ),
        bad("ids of the wrong type", fc.constantFrom(null, undefined, {}, [{}], [[]], [true])),
      );
      // Shortest lists first: a limit that reads the variables must hold for a document it already
      // validated with fewer ids.
      const all = cases(query("nodes", { ids: "[ID!]!" }, "{ id }"), someBad({ ids: hostileOnly(ids) }), n);
      const size = (c: Case) => JSON.stringify(c.request.variables ?? c.request.query).length;
      return all.sort((a, b) => size(a) - size(b));
    },
  },
  // ---- connections ----
  {
    name: "users",
    runs: 100,
    make: (n) =>
      cases(
        query(
          "users",
          { first: "Int", last: "Int", after: "String", before: "String", filter: "UserFilter", orderBy: "UserOrderBy" },
          CONNECTION,
        ),
        someBad({
          first: pageSize(),
          last: last(),
          after: either(good(fc.option(fc.constantFrom(realCursor(1), realCursor(2)), { nil: undefined })), forgedCursor),
          before: either(absent, forgedCursor),
          filter: objectOr(
            { active: either(optionalBool, badBool), search: either(optionalText(100), badText(100, false)) },
            wrongFilter,
          ),
          orderBy: orderBy(["id", "name", "email", "age", "createdAt"]),
        }),
        n,
      ),
  },
  {
    name: "products",
    runs: 100,
    make(n) {
      const decimal = either(
        good(fc.option(fc.constantFrom("0", "19.99", "-5.00", "99999999.99"), { nil: undefined })),
        bad("malformed Decimal", malformedDecimal),
      );
      return cases(
        query(
          "products",
          { first: "Int", last: "Int", after: "String", before: "String", filter: "ProductFilter", orderBy: "ProductOrderBy" },
          CONNECTION,
        ),
        someBad({
          first: pageSize(),
          last: last(),
          after: either(absent, forgedCursor),
          before: either(absent, forgedCursor),
          filter: objectOr(
            {
              category: either(optionalText(100), badText(100, false)),
              inStock: either(optionalBool, badBool),
              minPrice: decimal,
              maxPrice: decimal,
              search: either(optionalText(100), badText(100, false)),
            },
            wrongFilter,
          ),
          orderBy: orderBy(["id", "name", "price", "stock", "category", "createdAt"]),
        }),
        n,
      );
    },
  },
  {
    name: "orders",
    runs: 100,
    make: (n) =>
      cases(
        query(
          "orders",
          { first: "Int", last: "Int", after: "String", before: "String", filter: "OrderFilter", orderBy: "OrderOrderBy" },
          CONNECTION,
        ),
        someBad({
          first: pageSize(),
          last: last(),
          after: either(absent, forgedCursor),
          before: either(absent, forgedCursor),
          filter: objectOr(
            {
              status: either(good(fc.option(validStatus, { nil: undefined })), badEnum(STATUS_NAMES, false)),
              userId: either(good(fc.option(userIds(), { nil: undefined })), badId("User")),
              createdAfter: either(optionalDate(EARLY), badDateTime),
              createdBefore: either(optionalDate(LATE), badDateTime),
            },
            wrongFilter,
          ),
          orderBy: orderBy(["id", "createdAt", "updatedAt", "status"]),
        }),
        n,
      ),
  },
  {
    name: "salesReport",
    runs: 100,
    make: (n) =>
      cases(
        query(
          "salesReport",
          { first: "Int", last: "Int", after: "String", before: "String", from: "DateTime", to: "DateTime" },
          "{ totalCount edges { cursor node { orderCount amountSpent customer { id } } } }",
        ),
        fc.oneof(
          {
            arbitrary: someBad({
              first: pageSize(),
              last: last(),
              after: either(absent, forgedOffsetCursor),
              before: either(absent, forgedOffsetCursor),
              from: either(optionalDate(EARLY), badDateTime),
              to: either(optionalDate(LATE), badDateTime),
            }),
            weight: 5,
          },
          { arbitrary: reversedRange, weight: 1 },
        ),
        n,
      ),
  },
  {
    name: "customerSpending",
    runs: 80,
    make: (n) =>
      cases(
        query(
          "customerSpending",
          { first: "Int", last: "Int", after: "String", before: "String", orderBy: "CustomerSpendingOrderBy" },
          "{ totalCount edges { cursor node { orderCount totalSpent customer { id } } } }",
        ),
        someBad({
          first: pageSize(),
          last: last(),
          after: either(absent, forgedOffsetCursor),
          before: either(absent, forgedOffsetCursor),
          orderBy: orderBy(["totalSpent", "orderCount", "averageOrderValue", "name"]),
        }),
        n,
      ),
  },
  {
    name: "orderStats",
    runs: 60,
    make: (n) =>
      cases(
        query("orderStats", { from: "DateTime", to: "DateTime" }, "{ status orderCount totalValue }"),
        fc.oneof(
          {
            arbitrary: someBad({ from: either(optionalDate(EARLY), badDateTime), to: either(optionalDate(LATE), badDateTime) }),
            weight: 4,
          },
          { arbitrary: reversedRange, weight: 1 },
        ),
        n,
      ),
  },
  // ---- lists inside objects ----
  ...[
    { name: "User.orders", parent: "users(first: 3)", field: "orders", item: "Order", orderBy: "OrderOrderBy", status: true },
    {
      name: "Order.items",
      parent: "orders(first: 3)",
      field: "items",
      item: "OrderItem",
      orderBy: "OrderItemOrderBy",
      status: false,
    },
    {
      name: "Product.orderItems",
      parent: "products(first: 3)",
      field: "orderItems",
      item: "OrderItem",
      orderBy: "OrderItemOrderBy",
      status: false,
    },
  ].map(
    (nested): Group => ({
      name: nested.name,
      runs: 40,
      make(n) {
        const columns =
          nested.orderBy === "OrderOrderBy" ? ["id", "createdAt", "updatedAt", "status"] : ["id", "quantity", "unitPrice"];
        const target: Target = {
          ...query(nested.field, { first: "Int", after: "ID", orderBy: nested.orderBy, status: "OrderStatus" }, "{ id }"),
          wrap: (call) => `${nested.parent} { edges { node { id ${call} } } }`,
        };
        return cases(
          target,
          someBad({
            first: pageSize(),
            after: either(absent, badId(nested.item as Typename, { missingRow: true })),
            orderBy: orderBy(columns),
            ...(nested.status
              ? { status: either(good(fc.option(validStatus, { nil: undefined })), badEnum(STATUS_NAMES, false)) }
              : {}),
          }),
          n,
        );
      },
    }),
  ),
];

const DOCUMENTS = 100;

/** Documents that are not valid GraphQL for this schema, around mutations that would be refused anyway. */
function documentCases(runs: number): Case[] {
  const refused = [
    `mutation { deleteUser(id: "${gid("User", 999_999)}") { id } }`,
    `mutation { createOrder(input: { items: [] }) { id } }`,
    `mutation { restockProduct(id: "${gid("Product", 999_999)}", quantity: 0) { id } }`,
  ];
  const arb = fc.oneof(
    fc.tuple(some(refused), fc.nat()).map(([q, at]) => ({ query: q.slice(0, at % q.length), bad: ["document: cut short"] })),
    fc.string({ maxLength: 60 }).map((q) => ({ query: q, bad: ["document: random text"] })),
    fc
      .tuple(
        some(refused),
        fc.nat(),
        fc.constantFrom("{", "}", "(", ")", '"', "\\", "$", "@", "...", "#", "\u0000", "\uD800", "🛒", "'"),
      )
      .map(([q, at, junk]) => {
        const i = at % q.length;
        return { query: q.slice(0, i) + junk + q.slice(i), bad: ["document: junk inserted"] };
      }),
    some([
      `mutation($id: Int!) { deleteUser(id: $id) { id } }`,
      `mutation { deleteUser(id: "${gid("User", 1)}", force: true) { id } }`,
      `mutation { deleteUser { id } }`,
      `mutation { deleteUser(id: "${gid("User", 1)}") }`,
      `mutation { deleteUser(id: "${gid("User", 1)}") { id password } }`,
      `mutation { dropDatabase }`,
      `mutation M { deleteUser(id: "${gid("User", 1)}") { id } } mutation M { deleteUser(id: "${gid("User", 2)}") { id } }`,
      `mutation { deleteUser(id: """${gid("User", 1)}""" ) { id } `,
      `mutation { deleteUser(id: "\\u0000") { id } }`,
      `mutation { deleteUser(id: "\\uD800") { id } }`,
      `mutation { createUser(input: { name: "A", email: "a@b.co", age: 9999999999999 }) { id } }`,
      `mutation { createUser(input: { name: "A", email: "a@b.co", age: 1e308 }) { id } }`,
      `mutation { createUser(input: { name: "A", email: "a@b.co", active: TRUE }) { id } }`,
      `mutation { updateOrderStatus(id: "${gid("Order", 1)}", status: "CANCELLED") { id } }`,
      `mutation { bulkUpdateOrderStatus(filter: { status: PENDING }, to: cancelled) { count } }`,
      `subscription { orderCreated { id } } mutation { deleteUser(id: "${gid("User", 1)}") { id } }`,
    ]).map((query) => ({ query, bad: ["document: invalid for the schema"] })),
  );
  return fc.sample(arb, { seed: SEED, numRuns: runs }).map(({ query, bad }) => ({ request: { query, strategy: "eager" }, bad }));
}

describe("fuzz: hostile inputs are refused with a known code, leak nothing and write nothing", () => {
  it.each(groups.map((group, index) => [group.name, group, index] as const))("%s", async (_, group, index) => {
    // Each group has its own seed, so that groups with alike arguments do not draw alike values.
    const all = group.make({ runs: group.runs, seed: SEED + index });
    expect(all.length).toBe(group.runs);
    const failures = await run(all);
    expect(failures.length, report(group.name, all.length, failures)).toBe(0);
    expect(await shop.snapshot()).toBe(before);
  });

  it("malformed and invalid documents", async () => {
    const all = documentCases(DOCUMENTS);
    const failures = await run(all);
    expect(failures.length, report("documents", all.length, failures)).toBe(0);
    expect(await shop.snapshot()).toBe(before);
  });

  it(`sent at least ${MIN_REQUESTS} requests, saw no internal error, and changed no row`, async () => {
    const codes = Object.fromEntries([...codesSeen].sort());
    console.info(`fuzz: ${sent} hostile requests; error codes seen: ${JSON.stringify(codes)}`);
    expect(sent).toBe(groups.reduce((total, group) => total + group.runs, DOCUMENTS));
    expect(sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(codesSeen.has("INTERNAL_SERVER_ERROR"), JSON.stringify(codes)).toBe(false);
    expect([...codesSeen.keys()].filter((code) => !ALLOWED_CODES.has(code))).toEqual([]);
    expect(unexpectedLogged, "errors the server masked and logged").toEqual([]);
    expect(await shop.snapshot()).toBe(before);
  });
});
