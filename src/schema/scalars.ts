/** Scalars and enums shared by every type. */
import { GraphQLError, Kind } from "graphql";
import { builder } from "../builder.js";
import { Prisma } from "../generated/prisma/client.js";

const DECIMAL = /^-?\d{1,8}(\.\d{1,2})?$/;

function parseDecimal(value: unknown): Prisma.Decimal {
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== "string" || !DECIMAL.test(text.trim())) {
    throw new GraphQLError(
      `Decimal must be a string such as "19.99": at most 8 digits before the point and 2 after; got ${JSON.stringify(value)}.`,
      { extensions: { code: "BAD_USER_INPUT" } },
    );
  }
  return new Prisma.Decimal(text.trim());
}

builder.scalarType("Decimal", {
  description:
    'An exact amount of money as a decimal string with two places, e.g. "19.99". Never a float: parse it with a decimal library if you compute with it.',
  serialize: (value) => new Prisma.Decimal(value).toFixed(2),
  parseValue: parseDecimal,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return parseDecimal(ast.value);
    throw new GraphQLError('Decimal must be a string such as "19.99".', { extensions: { code: "BAD_USER_INPUT" } });
  },
});

function parseDate(value: unknown): Date {
  const date = typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime must be an ISO 8601 string such as "2026-01-31T12:00:00Z"; got ${JSON.stringify(value)}.`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return date;
}

builder.scalarType("DateTime", {
  description: 'A point in time as an ISO 8601 string in UTC, e.g. "2026-01-31T12:00:00.000Z".',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

/** The direction of a sort. */
export const SortDirection = builder.enumType("SortDirection", {
  description: "Which way a list is sorted.",
  values: {
    ASC: { value: "asc", description: "Smallest, earliest or A first." },
    DESC: { value: "desc", description: "Largest, latest or Z first." },
  } as const,
});

/**
 * The `orderBy` argument of a list: an enum of the columns it can be sorted by, and an input pairing
 * one of them with a direction. Ties are always broken by id (see `orderByWithId`).
 */
export function defineOrderBy<const Values extends Record<string, { value: string; description: string }>>(
  typeName: string,
  plural: string,
  values: Values,
) {
  const Field = builder.enumType(`${typeName}OrderField`, { description: `What ${plural} can be sorted by.`, values });
  return builder.inputType(`${typeName}OrderBy`, {
    description: `How to sort ${plural}; ties are broken by id.`,
    fields: (t) => ({
      field: t.field({ type: Field, required: true, description: "The column to sort by." }),
      direction: t.field({ type: SortDirection, defaultValue: "asc", description: "Ascending (default) or descending." }),
    }),
  });
}
