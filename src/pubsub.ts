/**
 * The shop's live events. Mutations publish them after their transaction commits; subscriptions
 * listen. In one process they travel in memory; with REDIS_URL they cross server instances through
 * Redis pub/sub (and should Redis be out of reach, still to the subscribers of the instance that
 * committed). Events carry ids only: each subscriber reads the current row when it receives one.
 */
import { setMaxListeners } from "node:events";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub, type PubSub } from "graphql-yoga";
import { Redis } from "ioredis";
import type { Logger } from "./logging.js";

export type ShopEvents = {
  orderCreated: [{ orderId: number }];
  orderStatusChanged: [orderId: number, event: { orderId: number }];
  productStockChanged: [productId: number, event: { productId: number }];
  /** A user deactivated or deleted: the subscriptions made with their tokens end, on every instance. */
  userRevoked: [{ userId: number }];
};

export type ShopPubSub = PubSub<ShopEvents>;

/** The event bus and what the server does with it besides publishing: check it, close it. */
export interface ShopEventBus {
  pubsub: ShopPubSub;
  close(): Promise<void>;
  /** Resolves when the bus answers (at once in process; both connections with Redis). */
  ping(): Promise<unknown>;
}

/**
 * Creates the event bus: Redis-backed when `redisUrl` is given, in-process otherwise. An
 * `eventTarget` given by the caller (a test that wants to see subscribers arrive) replaces both.
 * Redis' troubles are warnings in `logger`.
 */
export function createShopPubSub(options: { logger: Logger; redisUrl?: string; eventTarget?: EventTarget }): ShopEventBus {
  const { logger, redisUrl, eventTarget } = options;
  const local = { close: async () => undefined, ping: async () => "in process" };
  if (eventTarget) return { pubsub: createPubSub<ShopEvents>({ eventTarget: manyListeners(eventTarget) as never }), ...local };
  if (!redisUrl)
    return { pubsub: createPubSub<ShopEvents>({ eventTarget: manyListeners(new EventTarget()) as never }), ...local };
  // Subscribing puts a Redis connection in subscriber mode, so publishing needs a second one.
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  // ioredis resubscribes after a reconnect without handling that SUBSCRIBE's failure: a connection
  // lost again at once (or closed by a shutdown) makes it an unhandled rejection, which ends the
  // process. So this client leaves it to us (`resubscribe` below), with the failure handled.
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3, autoResubscribe: false });
  let closing = false;
  const report = (what: string) => (error: Error) => {
    if (!closing) logger.warn(`Redis ${what}: ${error.message}`);
  };
  for (const client of [publishClient, subscribeClient]) client.on("error", report("connection"));
  /** The channels this instance listens on, to subscribe to again on each new connection. */
  const channels = new Set<string>();
  subscribeClient.on("ready", () => {
    if (channels.size) subscribeClient.subscribe(...channels).catch(report("resubscribe"));
  });
  /**
   * A PUBLISH that failed (Redis gone for longer than the command's retries) reaches no instance,
   * not even this one, whose transaction did commit: its own subscribers still get the event, through
   * the event target's own path for a message from Redis. (Should Redis have taken it after all, a
   * subscriber reads the event twice; events carry ids, so that costs a re-read, not a wrong answer.)
   */
  const publishFailed = (channel: string, message: string) => (error: Error) => {
    if (closing) return;
    logger.warn(
      { topic: channel },
      `Redis PUBLISH of ${channel} failed (${error.message}): delivered to this instance's subscribers only`,
    );
    subscribeClient.emit("message", channel, message);
  };
  return {
    pubsub: createPubSub<ShopEvents>({
      eventTarget: createRedisEventTarget({
        publishClient: guarded(publishClient, report, publishFailed),
        subscribeClient: guarded(subscribeClient, report, publishFailed, channels),
      }),
    }),
    async close() {
      closing = true;
      await Promise.all([publishClient.quit(), subscribeClient.quit()]);
    },
    // Both connections: a subscriber cut off from Redis receives nothing, even if publishing works.
    ping: () => Promise.all([publishClient.ping(), subscribeClient.ping()]),
  };
}

/**
 * The Redis event target fires PUBLISH, SUBSCRIBE and UNSUBSCRIBE without awaiting them; a command
 * that fails (Redis gone, or closed under a subscription that ends during shutdown) would be an
 * unhandled rejection, which ends a Node process. Here each one's failure is handled instead: a
 * PUBLISH's by `publishFailed`, the others' by a report. With `channels`, the channels subscribed
 * to are kept there.
 */
function guarded(
  client: Redis,
  report: (what: string) => (error: Error) => void,
  publishFailed: (channel: string, message: string) => (error: Error) => void,
  channels?: Set<string>,
): Redis {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "publish" || prop === "subscribe" || prop === "unsubscribe") {
        return (...args: unknown[]) => {
          if (prop === "subscribe") for (const channel of args) channels?.add(String(channel));
          if (prop === "unsubscribe") for (const channel of args) channels?.delete(String(channel));
          return (value as (...a: unknown[]) => Promise<unknown>)
            .apply(target, args)
            .catch(prop === "publish" ? publishFailed(String(args[0]), String(args[1])) : report(String(prop)));
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** What a committed command changed, by id: the events it causes. */
export interface ShopChanges {
  created?: readonly number[];
  statusChanged?: readonly number[];
  stockChanged?: Iterable<number>;
  /** Users who may no longer sign in (deactivated, deleted). */
  revoked?: readonly number[];
}

/** Publishes what a committed change did: new orders, status changes, stock changes. */
export function publishChanges(pubsub: ShopPubSub, changes: ShopChanges): void {
  for (const orderId of changes.created ?? []) pubsub.publish("orderCreated", { orderId });
  for (const orderId of changes.statusChanged ?? []) pubsub.publish("orderStatusChanged", orderId, { orderId });
  for (const productId of new Set(changes.stockChanged ?? [])) pubsub.publish("productStockChanged", productId, { productId });
  for (const userId of changes.revoked ?? []) pubsub.publish("userRevoked", { userId });
}

/**
 * Every subscriber of a topic on this instance listens on the event target: hundreds are normal, so
 * Node's warning past ten ("possible memory leak") would only mislead whoever reads the log.
 */
function manyListeners<T extends EventTarget>(target: T): T {
  setMaxListeners(0, target);
  return target;
}
