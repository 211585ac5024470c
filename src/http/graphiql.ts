/**
 * GraphiQL: the page, and the tour it opens on. In development with the local secret, it opens two
 * tabs signed in for you: a demo customer and an admin (tokens minted when the page loads).
 * Elsewhere it opens one tab, with a place for your own token.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { GraphiQLOptions } from "graphql-yoga";
import { clientAddress, type ServerContext } from "../auth/caller.js";
import { LOCAL_ISSUER, type Tokens } from "../auth/tokens.js";
import type { Config } from "../config.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { DEFAULT_STRATEGY, STRATEGY_HEADER } from "../loading/strategy.js";
import { graphiqlPage } from "./graphiql-assets.js";
import type { FreshTokens } from "./graphiql-tokens.js";

/**
 * GraphiQL, served from this package (not a CDN, so it works offline and behind firewalls), with
 * the SQL panel (src/http/graphiql-panel.ts) in its sidebar; see src/http/graphiql-assets.ts for how.
 */
export function renderGraphiQL(options?: GraphiQLOptions & { endpoint?: string }): Promise<string> {
  return graphiqlPage({ ...options });
}

const STRATEGY_TOUR = `#    In Headers, set ${STRATEGY_HEADER} to "batched", then
#    "lazy", and run it again: same data; compare
#    extensions.sql.count at the end of the response.`;

export const CUSTOMER_TOUR = (name: string, productId = "UHJvZHVjdDox") => `# Welcome to the Shop API. This tab is signed in as
# ${name}, a customer (see Authorization in Headers).
#
# 1. Run MyOrders (the play button asks which operation).
${STRATEGY_TOUR}
#    The SQL tab in the sidebar shows each statement,
#    what sent it, and compares the three strategies.
# 2. Run PlaceOrder, then CancelOrder with the new id.
# 3. The admin tab sees every customer, the reports,
#    and the live order feed.

query MyOrders {
  me {
    id
    name
    orderCount
    totalSpent
    orders(first: 5, orderBy: { createdAt: DESC }) {
      id
      status
      createdAt
      itemCount
      total
      items { quantity unitPrice product { id name } }
    }
  }
}

mutation PlaceOrder {
  createOrder(input: {
    items: [{ productId: "${productId}", quantity: 1 }]
    notes: "placed from GraphiQL"
  }) {
    id
    status
    total
    items { quantity unitPrice product { name stock } }
  }
}

mutation CancelOrder($id: ID! = "paste the id PlaceOrder returned") {
  updateOrderStatus(id: $id, status: CANCELLED) { id status }
}

query Catalogue {
  products(first: 5, filter: { inStock: true }) {
    edges { node { name price stock category } }
  }
  categoryStats { category products unitsSold revenue }
}
`;

export const ADMIN_TOUR = `# This tab is signed in as an admin: the whole shop.
#
# 1. Run CustomersAndTheirOrders.
${STRATEGY_TOUR}
# 2. Run WatchOrders: the LIVE tab in the sidebar takes
#    it over and keeps watching while you switch tabs.
#    Open LIVE, switch to the customer tab, run
#    PlaceOrder: the order arrives in LIVE, with the SQL
#    its event ran.

query CustomersAndTheirOrders {
  users(first: 5) {
    totalCount
    edges {
      node {
        id
        name
        orderCount
        totalSpent
        orders(first: 3, orderBy: { createdAt: DESC }) {
          id
          status
          total
          items {
            quantity
            subtotal
            product { id name price stock }
          }
        }
      }
    }
  }
}

query Reports {
  categoryStats { category products unitsSold revenue }
  orderStats { status orderCount totalValue }
  salesReport(first: 5) { edges { node { customer { name } orderCount amountSpent } } }
}

subscription WatchOrders {
  orderCreated { id total user { name } }
}
`;

const headers = (authorization?: string) =>
  JSON.stringify({ [STRATEGY_HEADER]: DEFAULT_STRATEGY, ...(authorization ? { Authorization: authorization } : {}) }, null, 2);

/** The demo tokens last an hour: they are handed to whoever opens the page on this machine. */
const DEMO_TOKEN_LIFETIME = "1h";

/** How GraphiQL signs in: not at all (AUTH=off), with demo tokens (the local secret), or with yours. */
export type GraphiQLAuth = { mode: "off" } | { mode: "demo"; tokens: Tokens; prisma: PrismaClient } | { mode: "bring-your-own" };

/**
 * The options GraphiQL opens with: in demo mode, tabs signed in as the first active customer and as
 * an admin; otherwise one tab, with a place for a token when the server checks them.
 */
export async function graphiqlOptions(auth: GraphiQLAuth): Promise<GraphiQLOptions & { freshTokens?: FreshTokens }> {
  const base: GraphiQLOptions = { title: "Shop API", shouldPersistHeaders: true };
  const demo = auth.mode === "demo" && auth.tokens.sign ? auth : undefined;
  const [customer, product] = demo
    ? await Promise.all([
        demo.prisma.user.findFirst({ where: { active: true }, orderBy: { id: "asc" } }),
        demo.prisma.product.findFirst({ where: { stock: { gt: 0 } }, orderBy: { id: "asc" }, select: { id: true } }),
      ])
    : [];
  if (!demo?.tokens.sign || !customer) {
    return {
      ...base,
      defaultQuery: ADMIN_TOUR,
      headers: headers(auth.mode === "off" ? undefined : "Bearer <a token from npm run token>"),
    };
  }
  // PlaceOrder names a product that is in stock, so the tour's first order goes through.
  const tour = CUSTOMER_TOUR(customer.name, product ? encodeGlobalID("Product", product.id) : undefined);
  const [customerToken, adminToken] = await Promise.all([
    demo.tokens.sign({ role: "customer", userId: customer.id }, DEMO_TOKEN_LIFETIME),
    demo.tokens.sign({ role: "admin", userId: null }, DEMO_TOKEN_LIFETIME),
  ]);
  return {
    ...base,
    // Saved tabs whose token this server signed with another key, or that expired, get these.
    freshTokens: {
      issuer: LOCAL_ISSUER,
      kid: demo.tokens.keyId ?? "",
      customer: `Bearer ${customerToken}`,
      admin: `Bearer ${adminToken}`,
    },
    defaultQuery: tour,
    // GraphiQL fills the first tab's headers (and a new tab's) from here, not from defaultTabs.
    headers: headers(`Bearer ${customerToken}`),
    defaultTabs: [
      { query: tour, headers: headers(`Bearer ${customerToken}`) },
      { query: ADMIN_TOUR, headers: headers(`Bearer ${adminToken}`) },
    ],
  };
}

/** True for a request from this machine that no proxy forwarded: only those get GraphiQL's demo tokens. */
export function fromThisMachine(request: Request, server: ServerContext, config: Config): boolean {
  if (request.headers.has("x-forwarded-for") && config.trustProxy === false) return false;
  const address = clientAddress(request.headers, server.address ?? server.req?.socket?.remoteAddress, config.trustProxy);
  return /^(127\.|::1$|::ffff:127\.)/.test(address);
}
