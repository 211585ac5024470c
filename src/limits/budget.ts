/**
 * The hard bound on what one request does once it runs, whatever its estimate said: a deadline, a
 * cap on the objects its response may hold, and a stop when its client leaves or the server's
 * shutdown grace runs out. Whichever comes first stops the request: no statement is sent after it
 * (src/sql/recorder.ts), no list below it is filled (`boundLists`), and the answer is that one
 * error, with its code, instead of a partial tree.
 *
 * The objects are counted where a response can grow without the database's help: a list's items
 * (each with the objects its selection nests without another list, such as an item's `product`).
 * Loaders cache rows, so `me { orders { user { orders { user { orders … } } } } }` fills a response
 * of millions of objects from a few rows; counting at the lists stops it at the cap.
 */
import {
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import { ShopError } from "../errors.js";
import { limitExceeded } from "./index.js";

/** Why a request was stopped, as its client is told. */
export type StopReason = "client" | "deadline" | "objects" | "shutdown";

/** One request's (or one subscription event's) run-time bound. */
export class RequestBudget {
  readonly #controller = new AbortController();
  #objects = 0;
  #sinceYield = 0;
  #turn: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #unlisten: (() => void)[] = [];

  #maxObjects: number;

  /** `maxObjects`: the objects its lists may hold in all. `client`: aborts when the client has gone. */
  constructor(maxObjects: number, client?: AbortSignal) {
    this.#maxObjects = maxObjects;
    this.#follow(client, () => new ShopError("CANCELLED", "The client went away; the request was stopped."));
  }

  /**
   * Sets the bound for what the request runs, once its operation is known. A query gets the
   * deadline, and stops when the server's shutdown grace is over (`shutdown` aborts); a subscription
   * stops at shutdown too. A mutation gets neither, nor the object cap: once its transaction has
   * committed, only its answer tells the client so, and a retry would write twice. Its cost was
   * estimated before it ran, and its transaction has its own timeout.
   */
  arm(operation: "query" | "mutation" | "subscription", options: { timeoutMs: number; shutdown: AbortSignal }): void {
    if (operation === "mutation") {
      this.#maxObjects = Number.POSITIVE_INFINITY;
      return;
    }
    this.#follow(
      options.shutdown,
      () =>
        new ShopError("SERVICE_UNAVAILABLE", "The server is shutting down and stopped this request; send it again.", {
          retryable: true,
        }),
    );
    if (operation === "query") this.#startDeadline(options.timeoutMs);
  }

  /** Aborts, with the error the client gets as its reason, when the request is stopped. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get stopped(): boolean {
    return this.#controller.signal.aborted;
  }

  /** The error that stopped the request, if it was stopped. */
  get reason(): ShopError | undefined {
    return this.stopped ? (this.#controller.signal.reason as ShopError) : undefined;
  }

  /** Objects counted so far. */
  get objects(): number {
    return this.#objects;
  }

  /** Starts the deadline: after `ms` the request stops with TIMEOUT. */
  #startDeadline(ms: number): void {
    if (this.stopped || this.#timer) return;
    this.#timer = setTimeout(
      () =>
        this.stop(
          new ShopError("TIMEOUT", `The request ran longer than ${ms} ms and was stopped; ask for less at once.`, {
            limit: "requestTimeoutMs",
            max: ms,
          }),
        ),
      ms,
    );
  }

  /** Counts `count` objects; false (and stopped) once they pass the cap. */
  charge(count: number): boolean {
    if (this.stopped) return false;
    this.#objects += count;
    this.#sinceYield += count;
    if (this.#objects <= this.#maxObjects) return true;
    this.stop(limitExceeded("responseObjects", this.#maxObjects, this.#objects, "The response would hold too many objects"));
    return false;
  }

  /**
   * Every YIELD_EVERY objects, a turn of the event loop: until it has come, every list that
   * resolves waits for it, so that the whole execution pauses (one branch waiting alone would not
   * do: its siblings would go on in microtasks). Rows a loader has cached resolve as microtasks,
   * which would otherwise hold the loop (the deadline's timer, a client's disconnect, a SIGTERM,
   * /health) until the whole response is built.
   */
  pause(): Promise<void> | undefined {
    if (this.#turn) return this.#turn;
    if (this.#sinceYield < YIELD_EVERY) return undefined;
    this.#sinceYield = 0;
    this.#turn = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.#turn = undefined;
    });
    return this.#turn;
  }

  /** A new count for the next event of a subscription (its deadline and stop stay). */
  resetObjects(): void {
    this.#objects = 0;
  }

  stop(reason: ShopError): void {
    if (!this.stopped) this.#controller.abort(reason);
    this.done();
  }

  /** The request is over: its timer and listeners go. */
  done(): void {
    clearTimeout(this.#timer);
    for (const unlisten of this.#unlisten.splice(0)) unlisten();
  }

  #follow(signal: AbortSignal | undefined, reason: () => ShopError): void {
    if (!signal) return;
    if (signal.aborted) {
      this.#controller.abort(reason());
      return;
    }
    const onAbort = () => this.stop(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    this.#unlisten.push(() => signal.removeEventListener("abort", onAbort));
  }
}

/** Objects built between two turns of the event loop, at most (see `shouldYield`). */
const YIELD_EVERY = 5_000;

type Resolver = GraphQLFieldResolver<unknown, { budget?: RequestBudget }>;

/**
 * The objects each item of a list brings: itself, and those its selection nests without another
 * list. Kept per list of field nodes (a fragment's node may stand alone in one place and beside
 * others in another), as a chain of weak maps from the first node on.
 */
interface Weighed {
  weight?: number;
  next?: WeakMap<FieldNode, Weighed>;
}
const weights = new WeakMap<FieldNode, Weighed>();
const fragmentWeights = new WeakMap<FragmentDefinitionNode, number>();

function weightOf(info: GraphQLResolveInfo): number {
  let entry: Weighed | undefined;
  let level = weights;
  for (const node of info.fieldNodes) {
    entry = level.get(node);
    if (!entry) {
      entry = {};
      level.set(node, entry);
    }
    level = entry.next ??= new WeakMap();
  }
  if (entry!.weight !== undefined) return entry!.weight;
  const itemType = getNamedType(info.returnType);
  let weight = 1;
  for (const node of info.fieldNodes) {
    if (node.selectionSet) weight += nested(node.selectionSet, itemType, info);
  }
  entry!.weight = weight;
  return weight;
}

/** The to-one objects a selection holds, through fragments (each named one weighed once). */
function nested(set: SelectionSetNode, type: GraphQLNamedType, info: GraphQLResolveInfo): number {
  let count = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (!(isObjectType(type) || isInterfaceType(type))) continue;
      const field = type.getFields()[selection.name.value] as GraphQLField<unknown, unknown> | undefined;
      if (!field || !selection.selectionSet) continue;
      const unwrapped = isNonNullType(field.type) ? field.type.ofType : field.type;
      // A list is counted by its own resolver, item by item.
      if (isListType(unwrapped)) continue;
      count += 1 + nested(selection.selectionSet, getNamedType(field.type), info);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition ? info.schema.getType(selection.typeCondition.name.value) : type;
      if (on) count += nested(selection.selectionSet, on, info);
    } else {
      const fragment = info.fragments[selection.name.value];
      if (!fragment) continue;
      let weight = fragmentWeights.get(fragment);
      if (weight === undefined) {
        fragmentWeights.set(fragment, 0);
        const on = info.schema.getType(fragment.typeCondition.name.value);
        weight = on ? nested(fragment.selectionSet, on, info) : 0;
        fragmentWeights.set(fragment, weight);
      }
      count += weight;
    }
  }
  return count;
}

function bounded(resolve: Resolver): Resolver {
  const count = (items: unknown, budget: RequestBudget, info: GraphQLResolveInfo): unknown => {
    if (!Array.isArray(items)) return items;
    if (!budget.charge(items.length * weightOf(info))) return [];
    const turn = budget.pause();
    return turn ? turn.then(() => (budget.stopped ? [] : items)) : items;
  };
  return (source, args, ctx, info) => {
    const budget = ctx.budget;
    if (!budget) return resolve(source, args, ctx, info);
    // A stopped request fills no more lists: what is left of it finishes at once.
    if (budget.stopped) return [];
    const items = resolve(source, args, ctx, info) as unknown;
    // Prisma's queries are thenables that run when first awaited; anything else is the list itself.
    return typeof (items as PromiseLike<unknown> | null)?.then === "function"
      ? Promise.resolve(items).then((resolved) => count(resolved, budget, info))
      : count(items, budget, info);
  };
}

/**
 * Puts every list of objects in the schema under the request's budget: each resolved list charges
 * its items, and once the request is stopped lists resolve empty. Fields that are not lists keep
 * their resolvers untouched.
 */
export function boundLists(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__") || type === schema.getSubscriptionType()) continue;
    for (const field of Object.values(type.getFields())) {
      const unwrapped = isNonNullType(field.type) ? field.type.ofType : field.type;
      const item = getNamedType(field.type);
      if (!isListType(unwrapped) || !(isObjectType(item) || isInterfaceType(item))) continue;
      field.resolve = bounded((field.resolve ?? defaultResolve) as Resolver) as typeof field.resolve;
    }
  }
  return schema;
}

/** graphql-js's default: the property of the parent with the field's name (a function is called). */
const defaultResolve: Resolver = (source, args, ctx, info) => {
  const value = (source as Record<string, unknown> | null)?.[info.fieldName];
  return typeof value === "function" ? value.call(source, args, ctx, info) : value;
};

/** The execution's result, or the reason it was stopped if that comes first. */
async function racing<R>(budget: RequestBudget, execute: () => R | Promise<R>): Promise<R | ExecutionResult> {
  if (budget.stopped) return { errors: [budget.reason!] };
  let onStop: (() => void) | undefined;
  const stopped = new Promise<ExecutionResult>((resolve) => {
    onStop = () => resolve({ errors: [budget.reason!] });
    budget.signal.addEventListener("abort", onStop, { once: true });
  });
  try {
    return await Promise.race([execute(), stopped]);
  } finally {
    budget.signal.removeEventListener("abort", onStop!);
  }
}

/**
 * The plugin that arms each execution's budget (src/graphql/context.ts makes it) and, when the request was
 * stopped, answers with the reason alone: the partial tree is dropped, not sent.
 */
export function useBudget(options: { timeoutMs: number; shutdown: AbortSignal }): Plugin {
  const answer = (budget: RequestBudget, payload: { result: ExecutionResult; setResult(result: ExecutionResult): void }) => {
    const reason = budget.reason;
    if (!reason) return;
    const incremental = "hasNext" in payload.result;
    payload.setResult({ errors: [reason], ...(incremental ? { hasNext: false } : {}) });
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const budget = (args.contextValue as { budget?: RequestBudget }).budget;
      if (!budget) return;
      const operation = getOperationAST(args.document, args.operationName)?.operation ?? "query";
      budget.arm(operation, options);
      // A query answers as soon as it is stopped, even while a statement it sent is still out:
      // what is left of it winds down behind the answer (no list is filled, no statement sent).
      if (operation === "query") setExecuteFn((execution) => racing(budget, () => executeFn(execution)));
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result)) {
            answer(budget, { result, setResult });
            budget.done();
            return;
          }
          return { onNext: (payload) => answer(budget, payload), onEnd: () => budget.done() };
        },
      };
    },
    onSubscribe({ args }) {
      (args.contextValue as { budget?: RequestBudget }).budget?.arm("subscription", options);
    },
  };
}
