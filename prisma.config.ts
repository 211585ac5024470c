import { defineConfig } from "prisma/config";

// The CLI needs no connection to generate; `prisma migrate deploy` (on a machine that can fetch
// Prisma's engines) reads DATABASE_URL. The app itself picks its database in src/config.ts.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
