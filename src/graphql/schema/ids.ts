/**
 * Global IDs and database ids. The relay plugin decodes a global ID and checks its type name; this
 * checks the rest, so that "User:abc" or "User:99999999999" is the client's mistake (BAD_USER_INPUT)
 * and never reaches the database as a value its Int column cannot hold.
 */
import { badInput } from "../../errors.js";

/** The largest value of a PostgreSQL `integer` (the id columns). */
export const MAX_DB_ID = 2_147_483_647;

/** The database id in the id part of a global ID; `field` names the input in the error. */
export function parseDbId(raw: string, typename: string, field: string): number {
  const id = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(id >= 1 && id <= MAX_DB_ID)) throw badInput(field, `${field} is not a valid ${typename} ID.`);
  return id;
}

/** The database id of a decoded global ID argument. */
export function dbId(globalId: { typename: string; id: string }, field: string): number {
  return parseDbId(globalId.id, globalId.typename, field);
}
