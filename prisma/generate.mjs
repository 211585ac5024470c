#!/usr/bin/env node
// Generates the Prisma client and the Pothos types into src/generated when the schema (or Prisma)
// changed since the last run; `--force` always does. Runs after `npm install` and before start, test,
// typecheck and build, so nobody has to remember it.
//
// `prisma generate` does not use Prisma's native schema engine, but the CLI looks for it and tries
// to download it when missing, which fails offline. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any
// executable (node itself) skips that look-up; a value you set yourself is kept.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const root = new URL("..", import.meta.url);
const schema = new URL("prisma/schema.prisma", root);
const stamp = new URL("src/generated/.stamp", root);
const prismaVersion = createRequire(import.meta.url)("prisma/package.json").version;
const fingerprint = createHash("sha256").update(readFileSync(schema)).update(prismaVersion).digest("hex");

if (!process.argv.includes("--force") && existsSync(stamp) && readFileSync(stamp, "utf8") === fingerprint) process.exit(0);

const result = spawnSync(process.execPath, [createRequire(import.meta.url).resolve("prisma/build/index.js"), "generate"], {
  cwd: root,
  stdio: "inherit",
  env: { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: "1", ...process.env },
});
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stamp, fingerprint);
