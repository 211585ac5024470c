/**
 * The order status machine. The statuses come from the generated `OrderStatus` enum (so the
 * database's enum, Prisma's and GraphQL's cannot drift apart); only the allowed moves are written here.
 */
import { ShopError } from "../errors.js";
import { OrderStatus } from "../generated/prisma/enums.js";

export { OrderStatus };

/** Every status, in declaration order: the order PostgreSQL sorts its enum in. */
export const ORDER_STATUSES = Object.values(OrderStatus);

/** The moves an order may make; `satisfies` makes a new status in the schema a compile error here. */
export const NEXT_STATUSES = {
  PENDING: [OrderStatus.PROCESSING, OrderStatus.CANCELLED],
  PROCESSING: [OrderStatus.COMPLETED, OrderStatus.CANCELLED],
  COMPLETED: [],
  CANCELLED: [],
} as const satisfies Record<OrderStatus, readonly OrderStatus[]>;

/** An order holds its stock for as long as it can still be cancelled (then the stock goes back). */
export const STOCK_HOLDING_STATUSES = ORDER_STATUSES.filter((status) =>
  (NEXT_STATUSES[status] as readonly OrderStatus[]).includes(OrderStatus.CANCELLED),
);

/** True when an order may go from `from` to `to`. */
export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return (NEXT_STATUSES[from] as readonly OrderStatus[]).includes(to);
}

/** Refuses a move the machine does not allow, naming the input that asked for it. */
export function assertMove(from: OrderStatus, to: OrderStatus, field: string): void {
  if (canMove(from, to)) return;
  throw new ShopError("INVALID_STATUS_TRANSITION", `An order cannot go from ${from} to ${to}.`, {
    field,
    from,
    to,
    allowed: NEXT_STATUSES[from],
  });
}
