/**
 * graphql-codegen for front-end teams: typed documents from the committed schema.
 *   npx graphql-codegen         (the test suite runs the same config; see test/client)
 * Point `documents` at your own app's operations to use it there.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "src/schema.graphql",
  documents: ["test/client/**/*.graphql"],
  ignoreNoDocuments: false,
  // ESM: relative imports in the generated files end in .js.
  emitLegacyCommonJSImports: false,
  generates: {
    "test/client/generated/": {
      preset: "client",
      // persisted-documents.json: the trusted documents (hash to operation) the server can be told
      // to run exclusively (PERSISTED_OPERATIONS=only with PERSISTED_OPERATIONS_FILE).
      presetConfig: { persistedDocuments: true },
      config: {
        // Exact money and ISO 8601 times cross the wire as strings; SafeInt as a JSON number.
        scalars: { DateTime: "string", Decimal: "string", SafeInt: "number" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
