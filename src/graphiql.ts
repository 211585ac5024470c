/** The operations GraphiQL opens with: a tour of the shop and of the loading strategies. */
import { STRATEGY_HEADER } from "./strategy.js";

export const GRAPHIQL_EXAMPLES = `# Welcome to the Shop API.
#
# 1. Run CustomersAndTheirOrders (the play button
#    asks which operation). The response ends with
#    extensions.sql: every SQL statement it ran.
# 2. In Headers below, set ${STRATEGY_HEADER}
#    to "batched", then "lazy", and run it again:
#    same data, compare extensions.sql.count.
# 3. Run WatchOrders in a second tab, then PlaceOrder
#    here: the new order arrives there, live.

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

mutation PlaceOrder {
  createOrder(input: {
    userId: "VXNlcjox"
    items: [{ productId: "UHJvZHVjdDox", quantity: 1 }]
    notes: "placed from GraphiQL"
  }) {
    id
    status
    total
    items { quantity unitPrice product { name stock } }
  }
}

subscription WatchOrders {
  orderCreated { id total user { name } }
}
`;
