/**
 * Read replicas against a real streaming standby that the test starts itself: queries read from
 * the replica, a mutation and its re-read from the primary, a client reads its own writes, a
 * paused replica is read around once it lags, and a replica that crashes under load costs no
 * request. Each response's `extensions.sql` says where every statement ran.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.js";
import { CAN_START_CLUSTERS, type StreamingPair, startStreamingPair } from "../src/bench/standby.js";
import { loadConfig } from "../src/config.js";
import type { ReplicaStatus } from "../src/db/replicas.js";
import { seedShop } from "../src/db/seed.js";
import { type GraphQLResponse, TEST_SECRET, testDatabaseKind, testToken } from "./support/shop.js";
import { waitFor } from "./support/wait.js";

const LIST = "{ products(first: 100) { edges { node { name } } } }";
type Listing = GraphQLResponse<{ products: { edges: { node: { name: string } }[] } }>;

describe.runIf(testDatabaseKind === "postgres" && CAN_START_CLUSTERS)("read replicas (a streaming standby)", () => {
  let pair: StreamingPair;
  let app: App;
  let reader: Record<string, string>;
  let writer: Record<string, string>;

  beforeAll(async () => {
    pair = await startStreamingPair();
    app = await createApp(
      loadConfig({
        DATABASE_URL: pair.primaryUrl,
        DATABASE_REPLICA_URLS: pair.replicaUrl,
        DATABASE_REPLICA_MAX_LAG_MS: "300",
        AUTH_JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: "silent",
        RATE_LIMIT_PER_MINUTE: "0",
        SEED_DEMO: "0",
        PORT: "0",
      }),
      { migrate: true },
    );
    await seedShop(app.prisma, { users: 3, products: 5, ordersPerUser: 1, itemsPerOrder: 1 });
    reader = { authorization: `Bearer ${await testToken({ customer: 2 })}` };
    writer = { authorization: `Bearer ${await testToken("admin")}` };
    await waitFor(async () => (await ready()).body.replicas?.[0]?.status === "ok");
  });

  afterAll(async () => {
    await app?.close();
    await pair?.stop();
  });

  const ready = async () => {
    const response = await app.yoga.fetch("http://shop.test/ready");
    return { status: response.status, body: (await response.json()) as { replicas?: ReplicaStatus[] } };
  };
  const ask = async <T = Listing>(headers: Record<string, string>, query: string): Promise<T> => {
    const response = await app.yoga.fetch("http://shop.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as T;
  };
  /** The databases a response's statements ran on, each once. */
  const ranOn = (response: GraphQLResponse) => [
    ...new Set((response.extensions?.sql?.statements ?? []).map((statement: { database?: string }) => statement.database)),
  ];
  const names = (response: Listing) => response.data?.products.edges.map((edge) => edge.node.name) ?? [];
  const create = (name: string) =>
    ask<GraphQLResponse>(
      writer,
      `mutation { createProduct(input: { name: "${name}", category: "Checks", price: "1.00" }) { id name } }`,
    );

  it("sends a query's reads to the replica and a mutation to the primary; the writer reads its write at once, others once it has replicated", async () => {
    // (On a busy machine the replica may lag past the limit for a moment: then the query reads the primary.)
    await waitFor(async () => ranOn(await ask(reader, LIST))[0] === "replica 1");
    const before = await ask(reader, LIST);
    expect(names(before)).toHaveLength(5);
    expect(ranOn(before)).toContain("replica 1");

    const created = await create("Written on the primary");
    expect(created.errors).toBeUndefined();
    expect(ranOn(created)).toEqual(["primary"]);
    // The writer's next query reads the primary: its write is there, whatever the replica's lag.
    const mine = await ask(writer, LIST);
    expect(names(mine)).toContain("Written on the primary");
    expect(ranOn(mine)).toEqual(["primary"]);
    // Anyone else reads the replica, where the write arrives by streaming replication.
    await waitFor(async () => names(await ask(reader, LIST)).includes("Written on the primary"));
    const theirs = await ask(reader, LIST);
    expect(names(theirs)).toContain("Written on the primary");
    expect(ranOn(theirs)).toEqual(["replica 1"]);
  });

  it("reads around a replica whose replay is paused once it lags, and goes back to it once it has caught up", async () => {
    await pair.onReplica("SELECT pg_wal_replay_pause()");
    try {
      await create("Written while replay is paused");
      await waitFor(async () => (await ready()).body.replicas?.[0]?.status === "lagging");
      const state = await ready();
      expect(state.status).toBe(200);
      expect(state.body.replicas?.[0]?.lagMs).toBeGreaterThan(300);
      const during = await ask(reader, LIST);
      expect(names(during)).toContain("Written while replay is paused");
      expect(ranOn(during)).toEqual(["primary"]);
    } finally {
      await pair.onReplica("SELECT pg_wal_replay_resume()");
    }
    await waitFor(async () => (await ready()).body.replicas?.[0]?.status === "ok");
    const after = await ask(reader, LIST);
    expect(names(after)).toContain("Written while replay is paused");
    expect(ranOn(after)).toEqual(["replica 1"]);
  });

  it("answers every query while the replica crashes under load, from the primary from then on", async () => {
    const answers: Listing[] = [];
    let loading = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (loading) answers.push(await ask(reader, LIST));
    });
    try {
      await waitFor(async () => answers.length >= 20);
      await pair.crashReplica();
      const atCrash = answers.length;
      await waitFor(async () => answers.length >= atCrash + 40);
    } finally {
      loading = false;
      await Promise.all(clients);
    }
    expect(answers.filter((answer) => answer.errors)).toEqual([]);
    // Every answer has the shop (a replica within the allowed lag may not have the latest write yet:
    // that is what the limit allows, for those who did not write it).
    expect(answers.every((answer) => names(answer).length >= 5)).toBe(true);
    expect(ranOn(answers.at(-1)!)).toEqual(["primary"]);
    const state = await ready();
    expect([state.status, state.body.replicas?.[0]?.status]).toEqual([200, "down"]);
  });
});
