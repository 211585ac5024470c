import { defineConfig } from "vitest/config";

// Every test file runs against embedded PGlite; with TEST_DATABASE_URL set, every file runs a second
// time against PostgreSQL (a fresh database per file), so one command covers both.
const databases = ["pglite", ...(process.env.TEST_DATABASE_URL ? ["postgres"] : [])];

export default defineConfig({
  // graphql 16 ships CommonJS (main) and ESM (module) builds without an exports map: Node gives
  // Pothos and Yoga the CommonJS one, Vite would give our code the other, and GraphQL refuses types
  // "from another module or realm". One build for everyone, as in production.
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: databases.map((database) => ({
      extends: true,
      test: { name: database, include: ["test/**/*.test.ts"], env: { SHOP_TEST_DB: database } },
    })),
  },
});
