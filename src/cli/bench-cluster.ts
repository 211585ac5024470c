/**
 * `npm run bench:cluster [-- --node 26|current] [--seconds 5] [--built]`
 *
 * Several instances as a shop runs them, as real processes on loopback ports: a PostgreSQL primary
 * and a streaming replica of it (clusters of its own: initdb, pg_basebackup -R), PgBouncer in
 * transaction mode in front of both (deploy/pgbouncer.ini, its placeholders filled in), three built
 * servers (`node dist/src/server.js`, production settings) sharing Redis and reading from the
 * replica, behind HAProxy with deploy/haproxy.cfg as shipped.
 *
 * It prints, side by side in one run: `users(first: 10) → orders → items → product` straight to
 * PostgreSQL, through PgBouncer, with reads on the replica, and through the balancer with 1, 2 and 3
 * instances in rotation (HAProxy's runtime API takes them out), with the statements a request ran
 * on each database; then a rolling restart under load: each instance in turn gets SIGTERM and comes
 * back while clients send queries and orders through the balancer and SSE subscribers watch new
 * orders. Requests sent, answered, retried (only where the answer said `retryable`) and failed (must
 * be 0); orders acknowledged against the rows in the database (none lost, none doubled); each
 * subscriber's reconnects and events. Exits 1 if any of those fails. Bounded: about a minute, five
 * at most, and it stops everything it started.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { childProcesses, freePort, nodeBinary, pgbouncerFiles, waitUntilUp } from "../bench/processes.js";
import { authorization, openBenchShop, reseed } from "../bench/shop.js";
import { CAN_START_CLUSTERS, type StreamingPair, startStreamingPair } from "../bench/standby.js";

const { values } = parseArgs({
  options: { node: { type: "string" }, seconds: { type: "string", default: "5" }, built: { type: "boolean", default: false } },
});
if (!CAN_START_CLUSTERS) {
  console.error("bench:cluster starts PostgreSQL clusters of its own: initdb and pg_basebackup (pg_config --bindir) are needed.");
  process.exit(2);
}
const SECONDS = Number(values.seconds);
const NODE = nodeBinary(values.node);
const NODE_VERSION = spawnSync(NODE, ["--version"], { encoding: "utf8" }).stdout.trim();
const { startChild, exit } = childProcesses(NODE);
const SECRET = "bench-cluster-secret-of-at-least-32-characters";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** The primary and its replica, started by this program (see src/bench/standby.ts). */
let pair: StreamingPair | undefined;
let DATABASE = "";
const ROOT = new URL("../..", import.meta.url);
const Q1 = `{ users(first: 10) { edges { node { id name email orders { id status createdAt items { quantity unitPrice product { id name } } } } } } }`;
const USERS = 20;
const PRODUCTS = 20;

/** A program from the machine (haproxy, pgbouncer), stopped with the rest on the way out. */
const others = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of others) child.kill("SIGTERM");
});
function startTool(name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  others.add(child);
  child.once("exit", () => others.delete(child));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8").on("data", (text: string) => {
      for (const line of text.split("\n").filter(Boolean)) process.stderr.write(`[${name}] ${line}\n`);
    });
  }
  return child;
}

/** Resolves once something accepts connections on the port. */
async function listening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`port ${port}: the process exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port}`);
}

function startPgbouncer(dir: string, port: number): ChildProcess {
  const { command, args } = pgbouncerFiles(DATABASE, port, dir, pair!.replicaUrl);
  return startTool("pgbouncer", command, args);
}

interface Instance {
  name: string;
  port: number;
  child: ChildProcess;
}

function startInstance(name: string, port: number, databaseUrl: string, replicaUrl?: string): Instance {
  const child = startChild(name, "dist/src/server.js", {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    ...(replicaUrl ? { DATABASE_REPLICA_URLS: replicaUrl } : {}),
    // The admin's responses say where each statement ran.
    SQL_EXPLAIN: "1",
    DATABASE_POOL_MAX: "5",
    REDIS_URL,
    AUTH_JWT_SECRET: SECRET,
    RATE_LIMIT_PER_MINUTE: "0",
    LOG_LEVEL: "warn",
    MAX_SUBSCRIPTIONS_PER_CLIENT: "1000",
    // HAProxy adds the client's address (option forwardfor): the one hop to trust.
    TRUST_PROXY: "1",
  });
  return { name, port, child };
}

/** One command to HAProxy's runtime API; its answer. */
function haproxy(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = connect(socketPath, () => socket.write(`${command}\n`));
    socket.setEncoding("utf8").on("data", (text: string) => (answer += text));
    socket.once("end", () => resolve(answer));
    socket.once("error", reject);
  });
}

/** Each server's state as HAProxy's checks see it (UP, DOWN, MAINT…). */
async function rotation(socketPath: string): Promise<Record<string, string>> {
  const csv = await haproxy(socketPath, "show stat");
  const state: Record<string, string> = {};
  for (const line of csv.split("\n")) {
    const [proxy, server, ...fields] = line.split(",");
    if (proxy === "instances" && server && server !== "BACKEND") state[server] = fields[15] ?? "";
  }
  return state;
}

async function until(what: string, condition: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(50);
  }
}

interface Answer {
  status: number;
  body?: {
    data?: Record<string, unknown> | null;
    errors?: { extensions?: { code?: string; retryable?: boolean } }[];
    extensions?: { sql?: { statements?: { database?: string }[] } };
  };
  socketError?: string;
}

async function post(url: string, body: object, headers: Record<string, string>): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, body: (await response.json()) as Answer["body"] };
  } catch (error) {
    return { status: 0, socketError: String((error as Error).cause ?? (error as Error).message) };
  }
}

/** Q1 for `seconds` with `clients` clients at once: requests a second and p50/p99 latency. */
async function throughput(url: string, headers: Record<string, string>, clients: number, seconds: number) {
  const latencies: number[] = [];
  let failed = 0;
  // Where the statements of the last answer ran, from its extensions.sql.
  let databases: Record<string, number> = {};
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const answer = await post(url, { query: Q1 }, headers);
        if (answer.status === 200 && !answer.body?.errors) {
          latencies.push(performance.now() - started);
          databases = {};
          for (const statement of answer.body?.extensions?.sql?.statements ?? []) {
            const name = statement.database ?? "primary";
            databases[name] = (databases[name] ?? 0) + 1;
          }
        } else failed++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const statements = Object.entries(databases)
    .map(([name, count]) => `${count} on the ${name.replace(/ 1$/, "")}`)
    .join(", ");
  const readsOn = Object.keys(databases).some((name) => name.startsWith("replica")) ? "replica" : "primary";
  return { perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), failed, statements, readsOn };
}

/** An SSE subscriber to orderCreated that reconnects whenever its stream ends, as the README tells clients to. */
function subscriber(url: string, headers: Record<string, string>) {
  const state = { events: 0, connects: 0, eventsAfterLastConnect: 0, stopped: false };
  const controller = new AbortController();
  const run = async () => {
    while (!state.stopped) {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
          body: JSON.stringify({ query: "subscription { orderCreated { id } }" }),
          signal: controller.signal,
        });
        if (response.status !== 200 || !response.body) throw new Error(`HTTP ${response.status}`);
        state.connects++;
        state.eventsAfterLastConnect = 0;
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (message.includes('"orderCreated"')) {
              state.events++;
              state.eventsAfterLastConnect++;
            }
            end = buffer.indexOf("\n\n");
          }
        }
      } catch {
        // Reconnect below: the stream ended or the instance was going away.
      }
      if (!state.stopped) await sleep(100);
    }
  };
  const done = run();
  return {
    state,
    async stop() {
      state.stopped = true;
      controller.abort();
      await done;
    },
  };
}

/**
 * One order's event for `count` SSE subscribers through the balancer, as spread as its rotation
 * makes them: the statements each instance ran for it (every event carries its SQL: one read per
 * instance, shared by that instance's subscribers) and in total.
 */
async function fanOut(lb: string, instances: Instance[], headers: Record<string, string>, count: number) {
  // Every instance says how many subscriptions it holds: a round starts once the last one's have
  // closed (leastconn would otherwise steer around an instance still closing them), and the order
  // waits until all of this round's listen.
  const open = async () => {
    let total = 0;
    for (const api of instances) {
      const body = await fetch(`http://127.0.0.1:${api.port}/ready`).then((r) => r.json() as Promise<{ subscriptions?: number }>);
      total += body.subscriptions ?? 0;
    }
    return total;
  };
  await until("the last round's subscribers gone", async () => (await open()) === 0);
  const controller = new AbortController();
  const seen: { instance: string; statements: number }[] = [];
  const streams = Array.from({ length: count }, async () => {
    const response = await fetch(lb, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
      body: JSON.stringify({ query: "subscription { orderCreated { id total user { name } } }" }),
      signal: controller.signal,
    });
    const instance = response.headers.get("x-served-by") ?? "?";
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const data = /^data: (.*)$/m.exec(buffer.split("\n\n").find((message) => message.includes('"orderCreated"')) ?? "");
        if (data) {
          const event = JSON.parse(data[1]!) as { extensions?: { sql?: { count?: number } } };
          seen.push({ instance, statements: event.extensions?.sql?.count ?? Number.NaN });
          return;
        }
      }
    } catch {
      // Aborted once every subscriber has its event, or by the deadline below.
    }
  });
  await until(`${count} subscribers listening`, async () => (await open()) >= count);
  const placed = await post(
    lb,
    {
      query: `mutation { createOrder(input: { userId: "${gid("User", 1)}", items: [{ productId: "${gid("Product", 1)}", quantity: 1 }] }) { id } }`,
    },
    headers,
  );
  if (placed.body?.errors) throw new Error(`the order failed: ${JSON.stringify(placed.body.errors)}`);
  await until("every subscriber's event", async () => seen.length === count, 30_000);
  controller.abort();
  await Promise.all(streams);
  const perInstance = new Map<string, { subscribers: number; statements: number }>();
  for (const { instance, statements } of seen) {
    const entry = perInstance.get(instance) ?? { subscribers: 0, statements };
    entry.subscribers++;
    perInstance.set(instance, entry);
  }
  return [...perInstance.entries()].sort(([a], [b]) => a.localeCompare(b));
}

async function main(): Promise<void> {
  const started = performance.now();
  // The build (the instances run dist/, as the container does) goes on while the databases start
  // and are seeded: most of that is waiting on other processes.
  console.error(`${values.built ? "" : "building (npm run build), "}starting a PostgreSQL primary and a streaming replica …`);
  // --built: dist/ is this tree's build already (CI hands over the container replay's).
  const built = new Promise<void>((resolve, reject) => {
    if (values.built) return resolve();
    const child = spawn("npm", ["run", "build"], { stdio: ["ignore", "pipe", "pipe"] });
    const output: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`npm run build failed:\n${Buffer.concat(output)}`))));
  });
  built.catch(() => undefined);
  pair = await startStreamingPair();
  DATABASE = pair.primaryUrl;
  console.error("seeding …");
  // Enough stock that no order of the run is refused for want of it.
  await reseed(DATABASE, { users: USERS, products: PRODUCTS, ordersPerUser: 5, itemsPerOrder: 3 }, (app) =>
    app.prisma.$executeRawUnsafe(`UPDATE "Product" SET stock = 1000000`),
  );
  await built;

  const dir = mkdtempSync(join(tmpdir(), "shop-cluster-"));
  try {
    const [bouncerPort, lbPort, directPort, pooledPort, ...apiPorts] = await Promise.all(
      Array.from({ length: 7 }, () => freePort()),
    );
    const bouncer = startPgbouncer(dir, bouncerPort!);
    await listening(bouncerPort!, bouncer);
    const throughBouncer = new URL(DATABASE);
    throughBouncer.host = `127.0.0.1:${bouncerPort}`;
    // deploy/pgbouncer.ini names the database `shop` for its clients, whatever it is called behind it.
    throughBouncer.pathname = "/shop";
    throughBouncer.searchParams.set("pgbouncer", "true");
    const replicaThroughBouncer = new URL(throughBouncer);
    replicaThroughBouncer.pathname = "/shop_replica";

    const instances = apiPorts.map((port, i) =>
      startInstance(`api${i + 1}`, port!, throughBouncer.href, replicaThroughBouncer.href),
    );
    // Two more, outside the balancer, for comparison: straight to the primary, and through the pooler to it alone.
    const direct = startInstance("direct", directPort!, DATABASE);
    const pooled = startInstance("pooled", pooledPort!, throughBouncer.href);
    await Promise.all([...instances, direct, pooled].map((api) => waitUntilUp(`http://127.0.0.1:${api.port}/ready`, api.child)));

    const socketPath = join(dir, "haproxy.sock");
    const balancer = startTool("haproxy", "haproxy", ["-db", "-f", new URL("deploy/haproxy.cfg", ROOT).pathname], {
      SHOP_LB_BIND: `127.0.0.1:${lbPort}`,
      SHOP_LB_SOCKET: socketPath,
      ...Object.fromEntries(instances.map((api, i) => [`SHOP_API${i + 1}`, `127.0.0.1:${api.port}`])),
    });
    await listening(lbPort!, balancer);
    await until("all three instances in rotation", async () =>
      Object.values(await rotation(socketPath).catch(() => ({}))).every((state) => state === "UP"),
    );
    const lb = `http://127.0.0.1:${lbPort}/graphql`;

    const admin = await authorization(SECRET, { role: "admin", userId: null });

    console.log(
      `# bench:cluster\n\nNode ${NODE_VERSION}, production settings, 2-core machine; a PostgreSQL ${spawnSync(
        "pg_config",
        ["--version"],
        { encoding: "utf8" },
      )
        .stdout.trim()
        .replace(/^PostgreSQL /, "")} primary and a streaming replica, ` +
        `PgBouncer ${spawnSync("pgbouncer", ["--version"], { encoding: "utf8" })
          .stdout.split("\n")[0]
          ?.replace(/^PgBouncer /, "")} ` +
        `(transaction mode), HAProxy, Redis.\n`,
    );
    console.log(`## Q1 for ${SECONDS} s, 8 clients at once\n`);
    console.log("| path | reads on | req/s | p50 ms | p99 ms | statements a request | failed |");
    console.log("|---|---|--:|--:|--:|---|--:|");
    const row = (label: string, r: Awaited<ReturnType<typeof throughput>>) =>
      console.log(
        `| ${label} | ${r.readsOn} | ${r.perSecond.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.statements} | ${r.failed} |`,
      );
    // Every instance warmed up first (JIT, caches, pools), so that none is measured cold.
    await Promise.all(
      [directPort, pooledPort, ...apiPorts].map((port) => throughput(`http://127.0.0.1:${port}/graphql`, admin, 2, 2)),
    );
    row("one instance, straight to PostgreSQL", await throughput(`http://127.0.0.1:${directPort}/graphql`, admin, 8, SECONDS));
    row("one instance, through PgBouncer", await throughput(`http://127.0.0.1:${pooledPort}/graphql`, admin, 8, SECONDS));
    row(
      "one instance, through PgBouncer, with the replica",
      await throughput(`http://127.0.0.1:${apiPorts[0]}/graphql`, admin, 8, SECONDS),
    );
    for (const inRotation of [1, 2, 3]) {
      for (const [i, api] of instances.entries()) {
        await haproxy(socketPath, `${i < inRotation ? "enable" : "disable"} server instances/${api.name}`);
      }
      await until(`${inRotation} in rotation`, async () => {
        const states = Object.values(await rotation(socketPath));
        return states.filter((state) => state === "UP").length === inRotation;
      });
      row(`balancer, ${inRotation} instance${inRotation > 1 ? "s" : ""}`, await throughput(lb, admin, 8, SECONDS));
    }
    direct.child.kill("SIGTERM");
    pooled.child.kill("SIGTERM");

    console.log("\n## One order's event, 300 SSE subscribers through the balancer\n");
    console.log("| instances in rotation | subscribers on each | statements on each | statements in all |");
    console.log("|--:|---|---|--:|");
    for (const inRotation of [1, 3]) {
      for (const [i, api] of instances.entries()) {
        await haproxy(socketPath, `${i < inRotation ? "enable" : "disable"} server instances/${api.name}`);
      }
      await until(`${inRotation} in rotation`, async () => {
        const states = Object.values(await rotation(socketPath));
        return states.filter((state) => state === "UP").length === inRotation;
      });
      const spread = await fanOut(lb, instances, admin, 300);
      console.log(
        `| ${inRotation} | ${spread.map(([, e]) => e.subscribers).join(", ")} | ${spread.map(([, e]) => e.statements).join(", ")} | ${spread.reduce((sum, [, e]) => sum + e.statements, 0)} |`,
      );
    }

    // The rolling restart, under load.
    // The database straight (not through the pooler), for the checks.
    const shop = await openBenchShop(DATABASE);
    const { prisma } = shop;
    const lastOrder = (await prisma.order.aggregate({ _max: { id: true } }))._max.id ?? 0;
    const subscribers = Array.from({ length: 3 }, () => subscriber(lb, admin));
    await until("the subscribers connected", async () => subscribers.every((s) => s.state.connects > 0));
    const counts = { sent: 0, answered: 0, retried: 0, failed: 0, orders: 0 };
    const failures: string[] = [];
    const acknowledged = new Set<string>();
    let loading = true;
    const client = async (n: number) => {
      for (let i = 0; loading; i++) {
        const order = i % 3 === n % 3;
        const body = order
          ? {
              query: `mutation { createOrder(input: { userId: "${gid("User", 1 + ((n + i) % USERS))}", items: [{ productId: "${gid("Product", 1 + (i % PRODUCTS))}", quantity: 1 }] }) { id } }`,
            }
          : { query: Q1 };
        for (let attempt = 0; ; attempt++) {
          counts.sent++;
          const answer = await post(lb, body, admin);
          const error = answer.body?.errors?.[0];
          if (answer.status === 200 && !error) {
            counts.answered++;
            if (order) acknowledged.add((answer.body!.data!.createOrder as { id: string }).id);
            break;
          }
          if (error?.extensions?.retryable && attempt < 5) {
            counts.retried++;
            continue;
          }
          counts.failed++;
          failures.push(answer.socketError ?? `HTTP ${answer.status} ${JSON.stringify(answer.body?.errors)}`);
          break;
        }
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, (_, n) => client(n)));
    const restarts: string[] = [];
    for (const [i, api] of instances.entries()) {
      await haproxy(socketPath, `enable server instances/${api.name}`);
      const t = performance.now();
      const exited = new Promise<number | null>((resolve) => api.child.once("exit", resolve));
      api.child.kill("SIGTERM");
      const code = await exited;
      const down = performance.now() - t;
      const again = startInstance(api.name, api.port, throughBouncer.href);
      instances[i] = again;
      await waitUntilUp(`http://127.0.0.1:${api.port}/ready`, again.child);
      await until(`${api.name} back in rotation`, async () => (await rotation(socketPath))[api.name] === "UP");
      restarts.push(
        `${api.name}: exit ${code} ${(down / 1000).toFixed(1)} s after SIGTERM, back in rotation ${((performance.now() - t) / 1000).toFixed(1)} s after it`,
      );
    }
    // Some load after the last restart, so that every subscriber shows events on its new stream.
    const afterRestart = counts.answered;
    await until("load after the restarts", async () => counts.answered > afterRestart + 30);
    loading = false;
    await load;
    await until(
      "the last events delivered",
      async () => subscribers.every((s) => s.state.eventsAfterLastConnect > 0),
      10_000,
    ).catch(() => undefined);
    for (const s of subscribers) await s.stop();

    const rows = await prisma.order.findMany({ where: { id: { gt: lastOrder } }, select: { id: true } });
    await shop.close();
    const inDatabase = new Set(rows.map((row) => gid("Order", row.id)));
    const lost = [...acknowledged].filter((id) => !inDatabase.has(id)).length;
    const unacknowledged = [...inDatabase].filter((id) => !acknowledged.has(id)).length;

    console.log("\n## Rolling restart: each instance SIGTERM'd and started again, under load through the balancer\n");
    for (const line of restarts) console.log(`- ${line}`);
    console.log(
      `- requests: ${counts.sent} sent, ${counts.answered} answered, ${counts.retried} retried (the answer said retryable), ` +
        `${counts.failed} failed`,
    );
    console.log(
      `- orders: ${acknowledged.size} acknowledged, ${rows.length} in the database; ${lost} acknowledged but missing, ` +
        `${unacknowledged} written without an answer`,
    );
    for (const [i, s] of subscribers.entries()) {
      console.log(
        `- SSE subscriber ${i + 1}: ${s.state.connects} connections, ${s.state.events} events, ${s.state.eventsAfterLastConnect} on its last stream`,
      );
    }
    if (failures.length) console.log(`- failures: ${[...new Set(failures)].slice(0, 5).join("; ")}`);
    console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s in all.`);
    const ok =
      counts.failed === 0 && lost === 0 && unacknowledged === 0 && subscribers.every((s) => s.state.eventsAfterLastConnect > 0);
    await stopAll(ok ? 0 : 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const gid = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString("base64");

// Bounded whatever happens.
setTimeout(() => {
  console.error("bench:cluster: still running after 5 minutes; stopping");
  void stopAll(1);
}, 300_000).unref();
/**
 * Stops everything this program started and exits: the instances (SIGTERM, as a deployment would),
 * then the balancer and the pooler, then the database clusters.
 */
async function stopAll(code: number): Promise<never> {
  return exit(code);
}
process.once("exit", () => {
  // Last: the clusters, synchronously (pg_ctl stop -m immediate), so that nothing outlives this program.
  pair?.stopSync();
});
main().catch(async (error: unknown) => {
  console.error(error);
  await stopAll(1);
});
