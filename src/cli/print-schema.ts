/**
 * `npm run schema:print`: writes the schema in SDL to src/schema.graphql, the contract front-end
 * tools (codegen, GraphQL clients, editors) read. A test fails when it differs from the schema the
 * server serves.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchema } from "graphql";
import { schema } from "../graphql/schema/index.js";
import { isMain } from "./run.js";

/** Where the printed schema lives. */
export const SCHEMA_FILE = fileURLToPath(new URL("../schema.graphql", import.meta.url));

/** The schema as committed: SDL, types sorted by name, ending with a newline. */
export function printedSchema(): string {
  return `${printSchema(schema)}\n`;
}

if (isMain(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, printedSchema());
  console.log(`Wrote ${SCHEMA_FILE}`);
}
