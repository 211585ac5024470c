/**
 * Input checks that name the offending field. Every mutation validates before it writes, so a bad
 * request never reaches the database.
 */
import { badInput } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";

/** A required piece of text, trimmed; empty or longer than `max` is refused. */
export function requiredText(field: string, value: string, max = 200): string {
  const trimmed = value.trim();
  if (!trimmed) throw badInput(field, `${field} must not be empty.`);
  if (trimmed.length > max) throw badInput(field, `${field} must be at most ${max} characters.`);
  return trimmed;
}

// Deliberately plain: one @, no spaces, a dot in the domain. Real verification is a confirmation mail.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A well-formed email address, trimmed and lower-cased so uniqueness ignores case. */
export function email(field: string, value: string): string {
  const normalized = value.trim().toLowerCase();
  if (!EMAIL.test(normalized) || normalized.length > 254) {
    throw badInput(field, `${field} must be an email address such as "ada@example.com".`);
  }
  return normalized;
}

/** A whole number of at least `min`. */
export function wholeNumber(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw badInput(field, `${field} must be a whole number of at least ${min}.`);
  return value;
}

/** An amount of money that is not negative. */
export function money(field: string, value: Prisma.Decimal): Prisma.Decimal {
  if (value.isNegative()) throw badInput(field, `${field} must not be negative.`);
  return value;
}

/** Applies `check` to a value only when the client sent it (update inputs). */
export function ifGiven<T, R>(value: T | null | undefined, check: (value: T) => R): R | undefined {
  return value === null || value === undefined ? undefined : check(value);
}
