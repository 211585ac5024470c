/** Scalars and enums shared by every type. */
import type { ArgBuilder } from "@pothos/core";
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

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type DirectionField = PothosSchemaTypes.InputFieldRef<Types, "asc" | "desc" | null | undefined>;

/**
 * The `orderBy` argument of a list: one optional direction per sortable column, written the way
 * Prisma writes it, e.g. `orderBy: { createdAt: DESC }`. Exactly one column may be set; ties are
 * broken by id (see `orderByOf`).
 */
export function defineOrderBy<const Column extends string>(typeName: string, plural: string, columns: Record<Column, string>) {
  return builder.inputType(`${typeName}OrderBy`, {
    description: `How to sort ${plural}: set one column to ASC or DESC. Ties are broken by id, in the same direction.`,
    fields: (t) =>
      Object.fromEntries(
        Object.entries<string>(columns).map(([column, description]) => [column, t.field({ type: SortDirection, description })]),
      ) as Record<Column, DirectionField>,
  });
}

/**
 * The arguments of a list inside an object (`User.orders`, `Order.items`, `Product.orderItems`):
 * a page size, a cursor (the ID of the last item seen) and a sort order. See `relationPage`.
 */
export function listArgs<
  Item extends PothosSchemaTypes.ObjectRef<Types, unknown>,
  OrderBy extends PothosSchemaTypes.InputObjectRef<Types, unknown>,
>(arg: ArgBuilder<Types>, item: Item, orderBy: OrderBy) {
  return {
    first: arg.int({ description: "At most this many items (default 20, at most 100)." }),
    after: arg.globalID({ for: item, description: "Start after the item with this ID, in the order given by orderBy." }),
    orderBy: arg({ type: orderBy, description: "Sort order (default: id ascending)." }),
  };
}

/**
 * The options of a root connection type: its description, and a described `totalCount` (the
 * prisma plugin adds the field undescribed; a field given here replaces it, keeping its marker).
 */
export function connectionOptions(description: string, counted: string) {
  return {
    description,
    // The parent is the plugin's connection object, which carries a lazy `totalCount()`.
    fields: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, any>) => ({
      totalCount: t.int({
        description: `How many ${counted} match, across all pages.`,
        nullable: false,
        extensions: { pothosPrismaTotalCount: true },
        resolve: (parent: { totalCount?: () => Promise<number> | number }) => parent.totalCount?.() ?? 0,
      }),
    }),
  };
}
