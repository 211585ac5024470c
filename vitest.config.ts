import { defineConfig } from "vitest/config";

// Every test file runs against embedded PGlite; with TEST_DATABASE_URL set, every file runs a second
// time against PostgreSQL, each file on its own copy of one migrated template database.
const withPostgres = Boolean(process.env.TEST_DATABASE_URL);

export default defineConfig({
  // graphql 16 ships CommonJS (main) and ESM (module) builds without an exports map: Node gives
  // Pothos and Yoga the CommonJS one, Vite would give our code the other, and GraphQL refuses types
  // "from another module or realm". One build for everyone, as in production.
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    // Timeouts catch a hang, not slowness: a busy machine makes the suite slower, never red. No test
    // takes more than a few seconds on a quiet 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // On two cores, three files at a time for the PGlite project alone: much of a file's time is
    // waiting (a process spawned, a browser, a socket timing out), which a third file fills (78 s
    // against 85 s with two, back to back). With PostgreSQL too (CI, where the container replay runs
    // beside the suite) the cores are busy without it: two (the suite took 204 s with two, 221 s
    // with three).
    maxWorkers: withPostgres ? 2 : 3,
    isolate: false,
    projects: [
      {
        extends: true as const,
        test: {
          name: "pglite",
          include: ["test/**/*.test.ts"],
          env: { SHOP_TEST_DB: "pglite" },
          globalSetup: ["test/support/pglite-template.ts"],
        },
      },
      ...(withPostgres
        ? [
            {
              extends: true as const,
              test: {
                name: "postgres",
                include: ["test/**/*.test.ts"],
                env: { SHOP_TEST_DB: "postgres" },
                globalSetup: ["test/support/global-setup.ts"],
              },
            },
          ]
        : []),
      // With TEST_PGBOUNCER=1 too (CI), the files that talk to the database run a third time with the
      // app connecting through PgBouncer in transaction mode, as instances behind a pooler do. Those
      // whose subject a pooler cannot change are left out: the HTTP surface, the browser panel,
      // input validation and its fuzz, authorization's rules (the same SQL, the same rows), the docs'
      // examples, settings and traces, and the CLI (migrations go to PostgreSQL directly, see
      // docs/operations.md).
      ...(withPostgres && process.env.TEST_PGBOUNCER === "1"
        ? [
            {
              extends: true as const,
              test: {
                name: "pgbouncer",
                include: ["test/**/*.test.ts"],
                exclude: [
                  "test/auth.test.ts",
                  "test/cli.test.ts",
                  "test/codegen.test.ts",
                  "test/config.test.ts",
                  "test/contract.test.ts",
                  "test/docs.test.ts",
                  "test/fuzz.test.ts",
                  "test/graphiql-panel.test.ts",
                  "test/graphiql-tokens.test.ts",
                  "test/graphql-http.test.ts",
                  "test/http-surface.test.ts",
                  "test/inputs.test.ts",
                  "test/telemetry.test.ts",
                  "test/telemetry-otlp.test.ts",
                ],
                env: { SHOP_TEST_DB: "pgbouncer" },
                globalSetup: ["test/support/global-setup.ts", "test/support/pgbouncer-setup.ts"],
              },
            },
          ]
        : []),
    ],
  },
});
