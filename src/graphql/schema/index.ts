/** Imports every type file (each registers its types on the builder) and builds the schema once. */
import { GraphQLDeferDirective, GraphQLStreamDirective } from "@graphql-tools/utils";
import { specifiedDirectives } from "graphql";
import { builder } from "../builder.js";
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
export const schema = builder.toSchema({
  sortSchema: true,
  directives: [...specifiedDirectives, GraphQLDeferDirective, GraphQLStreamDirective],
});
