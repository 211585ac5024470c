/**
 * A typed client as a front-end app would have it: urql with the documents graphql-codegen made
 * from operations.graphql. The types are checked by `tsc` in test/codegen.test.ts.
 */
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { CustomersDocument, type OrderStatus, PlaceOrderDocument } from "./generated/graphql.js";

/**
 * A client for the API at `url`, signed in with `token` (from the identity provider). It sends each
 * operation by the hash codegen gave it (a trusted document), never its text, so it also works with
 * a server that runs nothing else (PERSISTED_OPERATIONS=only).
 */
export function shopClient(url: string, token: string): Client {
  return new Client({
    url,
    exchanges: [
      cacheExchange,
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        generateHash: async (_query, document) => (document as { __meta__?: { hash?: string } }).__meta__!.hash!,
      }),
      fetchExchange,
    ],
    requestPolicy: "network-only",
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
  });
}

export interface CustomerSummary {
  name: string;
  totalSpent: string;
  latestStatus: OrderStatus | undefined;
}

/** Typed all the way: `users.edges[].node` is known to have `name`, `totalSpent` and `orders`. */
export async function customers(client: Client, first: number): Promise<{ total: number; customers: CustomerSummary[] }> {
  const result = await client.query(CustomersDocument, { first }).toPromise();
  if (result.error || !result.data) throw result.error ?? new Error("no data");
  const total: number = result.data.users.totalCount;
  return {
    total,
    customers: result.data.users.edges.map(({ node }) => ({
      name: node.name,
      totalSpent: node.totalSpent,
      latestStatus: node.orders[0]?.status,
    })),
  };
}

export async function placeOrder(client: Client, userId: string, productId: string, quantity: number) {
  const result = await client.mutation(PlaceOrderDocument, { input: { userId, items: [{ productId, quantity }] } }).toPromise();
  if (result.error || !result.data) throw result.error ?? new Error("no data");
  const order = result.data.createOrder;
  const stock: number = order.items[0]!.product.stock;
  return { id: order.id, status: order.status, total: order.total, stock };
}
