/** Global IDs in tests, made and read the way the server does (the relay plugin's encoding). */
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";

/** The global ID of a row: `gid("User", 3)`. */
export const gid = (type: string, id: number): string => encodeGlobalID(type, id);

/** The database id inside a global ID. */
export const dbIdOf = (globalId: string): number => Number(decodeGlobalID(globalId).id);
