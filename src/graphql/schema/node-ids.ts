/**
 * Decoding global IDs (the relay plugin's `decodeGlobalID`): base64 of "Type:id", where Type is one
 * of the four node types. Kept apart from builder-dependent code, since the builder itself uses it.
 */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { ShopError } from "../../errors.js";

/** The types a global ID may name. */
export const NODE_TYPES = ["User", "Product", "Order", "OrderItem"];

/** Decodes a global ID, refusing one that names no type of this API (e.g. `Foo:1`, `__proto__:1`). */
export function decodeNodeID(globalID: string): { typename: string; id: string } {
  const decoded = decodeGlobalID(globalID);
  if (!NODE_TYPES.includes(decoded.typename)) {
    throw new ShopError("BAD_USER_INPUT", `${JSON.stringify(globalID)} is not an ID of this API.`);
  }
  return decoded;
}
