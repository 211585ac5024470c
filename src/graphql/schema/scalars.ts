/** The custom scalars: exact money, points in time, and counts that can outgrow Int. */
import { GraphQLError, Kind, print } from "graphql";
import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import { Prisma } from "../../generated/prisma/client.js";
import { builder } from "../builder.js";

/** A client's mistake in a scalar value, naming what was received. */
function badScalar(message: string, received: string): GraphQLError {
  return new GraphQLError(`${message}; got ${received}.`, { extensions: { code: "BAD_USER_INPUT" } });
}

const DECIMAL = /^-?\d{1,8}(\.\d{1,2})?$/;

function parseDecimal(value: unknown): Prisma.Decimal {
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== "string" || !DECIMAL.test(text.trim())) {
    throw badScalar(
      'Decimal must be a string such as "19.99": at most 8 digits before the point and 2 after',
      JSON.stringify(value),
    );
  }
  return new Prisma.Decimal(text.trim());
}

/** Two places already: what `numeric(10,2)` and sums of it come as from the database. */
const TWO_PLACES = /^-?\d+\.\d\d$/;

/** A base-1e7 word of decimal.js's digits as its seven decimal digits. */
const word = (n: number) => String(n).padStart(7, "0");

/**
 * A Decimal with at most two places written with two, straight from its documented parts
 * (decimal.js: `d`, the digits in base-1e7 words aligned on the decimal point; `e`, the exponent of
 * the first digit; `s`, the sign), without `toString()` and its intermediate strings; undefined for
 * a value with more places, which `toFixed(2)` rounds.
 */
function twoPlaces(value: Prisma.Decimal): string | undefined {
  const { d, e, s } = value as unknown as { d: number[] | null; e: number; s: number };
  if (!d) return undefined; // NaN or Infinity
  const units = Math.floor(e / 7); // index of the word of units, counting from the first word
  if (units < -1 || d.length > units + 2) return undefined;
  const fraction = d[units + 1] ?? 0;
  if (fraction % 100_000 !== 0) return undefined;
  let whole = units < 0 ? "0" : String(d[0]);
  for (let i = 1; i <= units; i++) whole += word(d[i] ?? 0);
  const cents = fraction / 100_000;
  return `${s < 0 && (whole !== "0" || cents !== 0) ? "-" : ""}${whole}.${cents < 10 ? "0" : ""}${cents}`;
}

/**
 * A decimal as the API writes it, without building a new Decimal for values that need none: the
 * driver's text of a `numeric(10,2)` (and of sums of it) is returned as it is, and Prisma's Decimal
 * (a price read back from the database has at most two places) is written from its digits. Any
 * other Decimal, and anything else, goes through `toFixed(2)`.
 */
export function serializeDecimal(value: unknown): string {
  if (typeof value === "string" && TWO_PLACES.test(value)) return value;
  if (value instanceof Prisma.Decimal) return twoPlaces(value) ?? value.toFixed(2);
  return new Prisma.Decimal(value as string).toFixed(2);
}

builder.scalarType("Decimal", {
  description:
    'An exact amount of money as a decimal string with two places, e.g. "19.99". Never a float: parse it with a decimal library if you compute with it.',
  serialize: serializeDecimal,
  parseValue: parseDecimal,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return parseDecimal(ast.value);
    throw badScalar('Decimal must be a string such as "19.99"', print(ast));
  },
});

const DATE_TIME = 'DateTime must be an RFC 3339 date-time with an offset, such as "2026-01-31T12:00:00Z"';

/** graphql-scalars decides what a valid date-time is (RFC 3339, offset required, real calendar dates). */
function parseDateTime(value: unknown, received: string): Date {
  let date: Date;
  try {
    date = DateTimeResolver.parseValue(value) as Date;
  } catch {
    throw badScalar(DATE_TIME, received);
  }
  // RFC 3339 allows year 0000, which PostgreSQL's calendar does not have; no shop needs it.
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) throw badScalar(`${DATE_TIME}, between the years 1 and 9999 (UTC)`, received);
  return date;
}

/** A UTC timestamp as the drivers write it: `2026-01-31T12:00:00+00:00`, with up to six decimals of a second. */
const DRIVER_UTC = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00:00$/;

/**
 * A point in time as the API writes it (`2026-01-31T12:00:00.000Z`), without a Date per value for
 * the drivers' text (the loaders' rows), whose UTC timestamps only need their milliseconds padded.
 */
export function serializeDateTime(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") {
    const utc = DRIVER_UTC.exec(value);
    if (utc) return `${utc[1]}.${(utc[2] ?? "").padEnd(3, "0").slice(0, 3)}Z`;
  }
  return String(DateTimeResolver.serialize(value));
}

builder.scalarType("DateTime", {
  description:
    'A point in time as an RFC 3339 date-time with an offset, e.g. "2026-01-31T12:00:00Z" or "2026-01-31T13:00:00+01:00"; always returned in UTC.',
  serialize: serializeDateTime,
  parseValue: (value) => parseDateTime(typeof value === "string" ? value : undefined, JSON.stringify(value)),
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined, print(ast)),
});

// GraphQL's Int stops at 2^31-1, and a sum of quantities does not: three lines of MAX_STOCK units
// pass it. A JSON number is exact up to 2^53-1, over nine million such lines.
builder.addScalarType("SafeInt", SafeIntResolver, {
  description:
    "A whole number from -(2^53-1) to 2^53-1, sent as a JSON number: exact in JavaScript and every JSON parser that reads numbers as doubles. Used for sums of quantities, which can exceed Int's 2^31-1.",
});
