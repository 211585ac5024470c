/** Imports every type file (each registers its types on the builder) and builds the schema once. */
import { GraphQLDeferDirective, GraphQLStreamDirective } from "@graphql-tools/utils";
import { type GraphQLSchema, isObjectType, specifiedDirectives } from "graphql";
import { builder } from "../builder.js";
import { guardRows } from "./guard.js";
import { rowGlobalId } from "./node-ids.js";
import "./scalars.js";
import "./refs.js";
import "./order-inputs.js";
import "./user.js";
import "./product.js";
import "./order.js";
import "./order-item.js";
import "./reports.js";
import "./subscriptions.js";

builder.queryType({ description: "Reads: the shop's users, products and orders." });
builder.mutationType({ description: "Writes: each returns the object it changed, or fails with an `extensions.code`." });

/**
 * The schema, with @defer and @stream declared in it: the server supports them (yoga's defer-stream
 * plugin), so the printed contract must declare them too, or tools that validate operations against
 * the file would reject queries the server accepts.
 */
export const schema = guardRows(
  syncGlobalIds(
    builder.toSchema({
      sortSchema: true,
      directives: [...specifiedDirectives, GraphQLDeferDirective, GraphQLStreamDirective],
    }),
  ),
);

/**
 * Each model type's `id`, resolved without a promise. The relay plugin resolves `t.globalID` fields
 * through an async function, whatever the id resolver returns: a promise, and the executor's work
 * to await it, for every object of every answer (6,100 at N=100 in `npm run bench:load`). A model
 * type's id is its row's `id` column (src/graphql/schema/refs.ts), so the global ID is encoded at
 * once by `rowGlobalId` (src/graphql/schema/node-ids.ts), to exactly what the plugin's
 * `encodeGlobalID` gives (base64 of "Type:id"; no custom encoder is configured in
 * src/graphql/builder.ts). Other node types, if any are added, keep the plugin's.
 */
function syncGlobalIds(built: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(built.getTypeMap())) {
    if (!isObjectType(type) || !type.extensions?.modelType) continue;
    if (!type.getInterfaces().some((item) => item.name === "Node")) continue;
    const globalId = rowGlobalId(type.name);
    type.getFields().id!.resolve = (row: { id: number }) => globalId(row.id);
  }
  return built;
}
