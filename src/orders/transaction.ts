/**
 * Runs a command in one transaction, and runs it again when PostgreSQL aborted it for a deadlock or
 * a serialization failure. Commands lock rows in one global order (user, then orders, then products,
 * each by id), so a deadlock needs something outside them; the retry is the safety net, and what it
 * cannot absorb becomes CONFLICT, a code the client may retry on.
 */
import { setTimeout as delay } from "node:timers/promises";
import { ShopError } from "../errors.js";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";

export type Tx = Prisma.TransactionClient;

/** How many times a command runs before its conflict goes to the client. */
export const TRANSACTION_ATTEMPTS = 4;

/**
 * True for a deadlock (40P01) or a serialization failure (40001). Prisma reports them as P2034 from
 * its own queries and as P2010 around a driver error from raw ones.
 */
export function isWriteConflict(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: unknown;
      kind?: unknown;
      originalCode?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    if (e.code === "P2034" || e.kind === "TransactionWriteConflict" || e.originalCode === "40001" || e.originalCode === "40P01") {
      return true;
    }
    current = e.meta?.driverAdapterError ?? e.cause;
  }
  return false;
}

/** Runs `fn` in a transaction, retrying write conflicts a bounded number of times. */
export async function inTransaction<T>(prisma: PrismaClient, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(fn);
    } catch (error) {
      if (!isWriteConflict(error)) throw error;
      if (attempt >= TRANSACTION_ATTEMPTS) {
        throw new ShopError("CONFLICT", "The change collided with concurrent changes to the same rows; send it again.", {
          retryable: true,
        });
      }
      // Jittered backoff, so that two colliding commands do not collide again in step.
      await delay(Math.random() * 20 * attempt);
    }
  }
}
