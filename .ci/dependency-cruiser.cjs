/**
 * The import rules of src/ (each folder's README.md says them in words): no cycle, type-only
 * imports included, and each layer imports only those below it. Checked in CI by `npm run lint`
 * (`depcruise --config .ci/dependency-cruiser.cjs src`).
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "An import cycle, type-only ones included.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "http-on-top",
      comment: "Only the app (app.ts, server.ts) and the command line assemble the HTTP server.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(http/|app\\.ts|server\\.ts|cli/)" },
      to: { path: "^src/http/" },
    },
    {
      name: "graphql-over-the-rest",
      comment:
        "The schema and its execution use auth, limits, loading, sql, db and orders; none of those knows GraphQL's context.",
      severity: "error",
      from: { path: "^src/(auth|limits|loading|db|sql|orders)/|^src/(config|errors|logging|pubsub)\\.ts$" },
      to: { path: "^src/graphql/" },
    },
    {
      name: "loading-below-auth",
      comment: "The loaders read what auth/rules allows them to; they do not decide it.",
      severity: "error",
      from: { path: "^src/(loading|db|sql)/" },
      to: { path: "^src/(auth|limits)/" },
    },
    {
      name: "db-and-sql-at-the-bottom",
      comment: "The database and the SQL record know no loader, order rule or command (only the strategies' names).",
      severity: "error",
      from: { path: "^src/(db|sql)/" },
      to: { path: "^src/(loading|orders)/", pathNot: "^src/loading/strategy\\.ts$" },
    },
    {
      name: "no-tools-in-the-server",
      comment: "Benchmarks and commands use the server; the server never imports them.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(cli|bench)/" },
      to: { path: "^src/(cli|bench)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/generated/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
