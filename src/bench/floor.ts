/**
 * The "floor" of `npm run bench:load`: what the benchmark query costs when written by hand, without
 * Pothos or Prisma. graphql-yoga serves a plain graphql-js schema whose relations load through
 * per-request DataLoaders over a raw `pg` pool (ten connections, the server's default): four flat
 * statements for `users → orders → items → product`, one `= ANY($1)` array parameter per level,
 * each parent's page cut by the database with `row_number()`.
 *
 * It answers the benchmark query with the very `data` of the server's `eager` strategy: the same
 * order (id ascending), default page size (20), global IDs (base64 of "Type:id"), DateTime (UTC,
 * milliseconds, `Z`) and Decimal ("19.99") formats. Only what that query reads is here.
 *
 * Run alone for debugging (PORT defaults to 4100):
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/shop_load npx tsx src/bench/floor.ts
 *   (or, after `npm run build`, node dist/src/bench/floor.js)
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import DataLoader from "dataloader";
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLNullableType,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
} from "graphql";
import { createYoga } from "graphql-yoga";
import pg from "pg";

/** The server's page sizes (src/limits/inputs.ts): lists inside objects default to 20, at most 100. */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

/** PostgreSQL's `timestamp` (without time zone, type oid 1114): Prisma stores and reads it as UTC. */
const TIMESTAMP_OID = 1114;

interface OrderRow {
  id: number;
  userId: number;
  status: string;
  createdAt: Date;
}
interface ItemRow {
  id: number;
  orderId: number;
  productId: number;
  quantity: number;
  unitPrice: string;
}
interface ProductRow {
  id: number;
  name: string;
}
interface UserRow {
  id: number;
  name: string;
  email: string;
}

/** The Relay global ID the server gives an object: base64 of "Type:id". */
const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString("base64");

/** A page size argument, checked like the server does. */
function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (size < 0 || size > MAX_PAGE_SIZE) {
    throw new GraphQLError(`first must be between 0 and ${MAX_PAGE_SIZE}.`, { extensions: { code: "BAD_USER_INPUT" } });
  }
  return size;
}

/** Groups rows under their parent keys, one (possibly empty) list per key, in key order. */
function groupByKey<Row>(keys: readonly number[], rows: Row[], keyOf: (row: Row) => number): Row[][] {
  const groups = new Map<number, Row[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key)!);
}

/**
 * The children of many parents, at most `limit` per parent in id order, in one statement. The
 * window function cuts each parent's page in the database, as the server's LATERAL ... LIMIT does.
 */
function pagedChildren(pool: pg.Pool, table: string, parent: string, columns: string) {
  const sql = `SELECT ${columns} FROM (
      SELECT ${columns}, row_number() OVER (PARTITION BY "${parent}" ORDER BY id) AS rn
      FROM "${table}" WHERE "${parent}" = ANY($1::int[])
    ) AS page WHERE rn <= $2 ORDER BY "${parent}", id`;
  return async <Row>(parents: readonly number[], limit: number) => (await pool.query(sql, [parents, limit])).rows as Row[];
}

/** The loaders of one request; a page size makes its own loader, since it is part of the query. */
function createLoaders(pool: pg.Pool) {
  const orders = pagedChildren(pool, "Order", "userId", `id, "userId", status, "createdAt"`);
  const items = pagedChildren(pool, "OrderItem", "orderId", `id, "orderId", "productId", quantity, "unitPrice"`);
  const perLimit = <Row>(make: (limit: number) => DataLoader<number, Row[]>) => {
    const loaders = new Map<number, DataLoader<number, Row[]>>();
    return (limit: number) => {
      const found = loaders.get(limit) ?? make(limit);
      loaders.set(limit, found);
      return found;
    };
  };
  return {
    ordersOfUser: perLimit(
      (limit) =>
        new DataLoader<number, OrderRow[]>(async (ids) =>
          groupByKey(ids, await orders<OrderRow>(ids, limit), (row) => row.userId),
        ),
    ),
    itemsOfOrder: perLimit(
      (limit) =>
        new DataLoader<number, ItemRow[]>(async (ids) => groupByKey(ids, await items<ItemRow>(ids, limit), (row) => row.orderId)),
    ),
    product: new DataLoader<number, ProductRow | null>(async (ids) => {
      const { rows } = await pool.query<ProductRow>(`SELECT id, name FROM "Product" WHERE id = ANY($1::int[])`, [ids]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

interface Context {
  pool: pg.Pool;
  loaders: ReturnType<typeof createLoaders>;
}

const DateTime = new GraphQLScalarType<string, string>({
  name: "DateTime",
  serialize: (value) => (value as Date).toISOString(),
});

const Decimal = new GraphQLScalarType<string, string>({
  name: "Decimal",
  // numeric(10,2) arrives from pg as its exact text, already with two places.
  serialize: (value) => String(value),
});

const OrderStatus = new GraphQLEnumType({
  name: "OrderStatus",
  values: { PENDING: {}, PROCESSING: {}, COMPLETED: {}, CANCELLED: {} },
});

const nonNull = <T extends GraphQLNullableType>(type: T) => new GraphQLNonNull(type);
const listOf = <T extends GraphQLNullableType>(type: T) => nonNull(new GraphQLList(nonNull(type)));
const idField = (type: string) => ({ type: nonNull(GraphQLID), resolve: (row: { id: number }) => globalId(type, row.id) });
const firstArg = { first: { type: GraphQLInt } };

const Product = new GraphQLObjectType<ProductRow, Context>({
  name: "Product",
  fields: { id: idField("Product"), name: { type: nonNull(GraphQLString) } },
});

const OrderItem = new GraphQLObjectType<ItemRow, Context>({
  name: "OrderItem",
  fields: {
    id: idField("OrderItem"),
    quantity: { type: nonNull(GraphQLInt) },
    unitPrice: { type: nonNull(Decimal) },
    product: { type: nonNull(Product), resolve: (item, _args, ctx) => ctx.loaders.product.load(item.productId) },
  },
});

const Order = new GraphQLObjectType<OrderRow, Context>({
  name: "Order",
  fields: {
    id: idField("Order"),
    status: { type: nonNull(OrderStatus) },
    createdAt: { type: nonNull(DateTime) },
    items: {
      type: listOf(OrderItem),
      args: firstArg,
      resolve: (order, args: { first?: number | null }, ctx) => ctx.loaders.itemsOfOrder(pageSize(args.first)).load(order.id),
    },
  },
});

const User = new GraphQLObjectType<UserRow, Context>({
  name: "User",
  fields: {
    id: idField("User"),
    name: { type: nonNull(GraphQLString) },
    email: { type: nonNull(GraphQLString) },
    orders: {
      type: listOf(Order),
      args: firstArg,
      resolve: (user, args: { first?: number | null }, ctx) => ctx.loaders.ordersOfUser(pageSize(args.first)).load(user.id),
    },
  },
});

const PageInfo = new GraphQLObjectType<{ hasNextPage: boolean }>({
  name: "PageInfo",
  fields: { hasNextPage: { type: nonNull(GraphQLBoolean) } },
});

const UserConnection = new GraphQLObjectType<{ edges: { node: UserRow }[]; pageInfo: { hasNextPage: boolean } }>({
  name: "UserConnection",
  fields: {
    edges: { type: listOf(new GraphQLObjectType({ name: "UserEdge", fields: { node: { type: nonNull(User) } } })) },
    pageInfo: { type: nonNull(PageInfo) },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, Context>({
    name: "Query",
    fields: {
      users: {
        type: nonNull(UserConnection),
        args: firstArg,
        // One row more than the page tells whether another page follows, as the server does.
        resolve: async (_root, args: { first?: number | null }, ctx) => {
          const size = pageSize(args.first);
          const { rows } = await ctx.pool.query<UserRow>(`SELECT id, name, email FROM "User" ORDER BY id LIMIT $1`, [size + 1]);
          return { edges: rows.slice(0, size).map((node) => ({ node })), pageInfo: { hasNextPage: rows.length > size } };
        },
      },
    },
  }),
});

/** Starts the floor on `port` (0: any free one) against a PostgreSQL URL; resolves with its URL and a close function. */
export async function startFloor(databaseUrl: string, port: number, host = "127.0.0.1") {
  // Read `timestamp` as UTC, as Prisma does, whatever this process's time zone.
  const types = new pg.TypeOverrides();
  types.setTypeParser(TIMESTAMP_OID, (text: string) => new Date(`${text.replace(" ", "T")}Z`));
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, statement_timeout: 10_000, keepAlive: true, types });
  pool.on("error", (error) => console.error(`[floor] idle PostgreSQL connection lost: ${error.message}`));
  const yoga = createYoga({
    schema,
    context: (): Context => ({ pool, loaders: createLoaders(pool) }),
    graphiql: false,
    landingPage: false,
    logging: "warn",
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${actual}/graphql`,
    port: actual,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

// Run directly (node dist/src/bench/floor.js, or tsx src/bench/floor.ts): serve until SIGINT/SIGTERM.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl?.startsWith("postgres")) {
    console.error("The floor needs DATABASE_URL=postgresql://… (PostgreSQL only).");
    process.exit(1);
  }
  const floor = await startFloor(databaseUrl, Number(process.env.PORT ?? 4100), process.env.HOST ?? "127.0.0.1");
  console.log(`floor listening on ${floor.url}`);
  const stop = () => floor.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
