/**
 * The rules every input obeys, as Standard Schemas (zod) that the Pothos validation plugin runs on
 * the input fields and arguments before any resolver: lengths, ranges, formats and normalization.
 * A request with bad input is refused with every invalid field named at once (see `validationError`
 * in src/errors.ts) and never reaches the database.
 */
import { z } from "zod";
import { MAX_STOCK } from "../orders/stock.js";

/** The default number of items in a list or page. */
export const DEFAULT_PAGE_SIZE = 20;
/** The most items one page may hold; `first`/`last` above it are refused rather than quietly cut. */
export const MAX_PAGE_SIZE = 100;
/** The largest offset a report's cursor may name. */
const MAX_OFFSET = 9_999_999;

/**
 * A connection cursor as this server makes them: Pothos' `GPC:N:<id>` for the lists of rows, and
 * `OffsetConnection:<offset>` for the reports. Anything else would reach the database as a value
 * its column cannot hold, or as a negative OFFSET.
 */
function isCursor(cursor: string): boolean {
  const text = Buffer.from(cursor, "base64").toString("utf8");
  if (Buffer.from(text, "utf8").toString("base64").replace(/=+$/, "") !== cursor.replace(/=+$/, "")) return false;
  const row = /^GPC:N:(\d{1,10})$/.exec(text);
  if (row) return Number(row[1]) >= 1 && Number(row[1]) <= 2_147_483_647;
  const offset = /^OffsetConnection:(\d{1,7})$/.exec(text);
  return offset !== null && Number(offset[1]) <= MAX_OFFSET;
}

/** The most lines one order may have. */
export const MAX_ORDER_LINES = 100;

// PostgreSQL text cannot hold NUL, and no name or note needs the other control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * A lone UTF-16 surrogate (a `\uD800` escape in JSON variables) is no character: PostgreSQL's UTF-8
 * cannot hold it, and the driver would quietly store U+FFFD instead of what the client sent.
 */
const WELL_FORMED = { error: "must be valid Unicode (it has a lone UTF-16 surrogate)" };

const text = (max: number) =>
  z
    .string()
    .refine((value) => value.isWellFormed(), WELL_FORMED)
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((value) => !CONTROL.test(value), { error: "must not contain control characters" });

const requiredText = (max: number) => text(max).min(1, { error: "must not be empty" });

const wholeNumber = (min: number, max: number) =>
  z
    .number()
    .int()
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });

// Deliberately plain: one @, no spaces, a dot in the domain. Real verification is a confirmation mail.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The rules of an input type's fields, checked together so that every invalid field is reported at
 * once. (On the type rather than on each field: the validation plugin stops an input object at its
 * first invalid field.) GraphQL has already enforced which fields are required, so here every rule
 * lets null and absence through.
 */
export function fieldRules(shape: Record<string, z.ZodType>) {
  return z.looseObject(Object.fromEntries(Object.entries(shape).map(([field, rule]) => [field, rule.nullish()])));
}

export const rules = {
  /** A person's or a product's name. */
  name: requiredText(200),
  /** A category name. */
  category: requiredText(100),
  /** Free text on an order. */
  notes: text(1000),
  /** A product's longer text. */
  description: text(5000),
  /** Text to search for. */
  search: text(100),
  /** An email address, trimmed and lower-cased so uniqueness ignores case. */
  email: z
    .string()
    .refine((value) => value.isWellFormed(), WELL_FORMED)
    .trim()
    .toLowerCase()
    .max(254, { error: "must be at most 254 characters" })
    .refine((value) => !CONTROL.test(value), { error: "must not contain control characters" })
    .regex(EMAIL, { error: 'must be an email address such as "ada@example.com"' }),
  age: wholeNumber(0, 150),
  stock: wholeNumber(0, MAX_STOCK),
  /** Units to add to a product, or to order. */
  units: wholeNumber(1, MAX_STOCK),
  /** An amount of money: the scalar already checked its form. */
  money: z.custom<{ isNegative(): boolean }>().refine((value) => !value.isNegative(), { error: "must not be negative" }),
  /** The lines of an order. */
  orderLines: z
    .array(z.unknown())
    .min(1, { error: "must have at least one item" })
    .max(MAX_ORDER_LINES, { error: `must have at most ${MAX_ORDER_LINES} items` }),
  /** `after` or `before` of a connection. */
  cursor: z.string().refine(isCursor, { error: "is not a cursor this server gave out" }),
  /** `first` or `last`. */
  pageSize: z
    .number()
    .int()
    .min(0, { error: `must be between 0 and ${MAX_PAGE_SIZE}; page through longer lists with cursors` })
    .max(MAX_PAGE_SIZE, { error: `must be between 0 and ${MAX_PAGE_SIZE}; page through longer lists with cursors` }),
};

/**
 * An update input without the fields the client left out. For required columns null means "leave
 * it as it is" too, since there is nothing to clear.
 */
export function given<T extends Record<string, unknown>>(input: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value != null)) as never;
}
