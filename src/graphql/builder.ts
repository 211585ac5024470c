/**
 * The Pothos SchemaBuilder, built once. Types live in src/graphql/schema/*; this file only wires plugins and
 * the scalars every type shares.
 */
import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import TracingPlugin, { isRootField } from "@pothos/plugin-tracing";
import ValidationPlugin from "@pothos/plugin-validation";
import { createOpenTelemetryWrapper } from "@pothos/tracing-opentelemetry";
import type { GraphQLFieldResolver } from "graphql";
import { type AuthScopes, refusal, scopes } from "../auth/rules.js";
import { invalidInput } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import { loadCost } from "../limits/cost.js";
import { rules } from "../limits/inputs.js";
import { pathString, withCause } from "../sql/recorder.js";
import { tracer, tracing } from "../sql/telemetry.js";
import type { Context } from "./context.js";
import { inEvent } from "./events.js";
import { decodeNodeID } from "./schema/node-ids.js";

const traceField = createOpenTelemetryWrapper<boolean>(tracer, { includeArgs: false, includeSource: false });

/**
 * A traced field: a span (a no-op until telemetry starts, see src/sql/telemetry.ts), and the cause its
 * statements are recorded under, while causes are traced (src/sql/recorder.ts). A subscription
 * field resolves each event in that event's scope (src/graphql/events.ts).
 */
type Resolver = GraphQLFieldResolver<unknown, Context, Record<string, unknown>>;

function traced(resolver: Resolver, options: boolean): Resolver {
  const spanned = traceField<Context>(resolver, options);
  const field: Resolver = (source, args, ctx, info) =>
    ctx.sql.tracesCauses
      ? // Awaited inside: a Prisma query is sent when it is first awaited, not when it is made.
        withCause(
          { field: pathString(info.path, ctx.strategy === "lazy") },
          async () => await (tracing() ? spanned : resolver)(source, args, ctx, info),
        )
      : resolver(source, args, ctx, info);
  // A subscription's event (its payload is the source) resolves in the event's scope.
  return (source, args, ctx, info) =>
    info.parentType.name === "Subscription" && typeof source === "object" && source !== null
      ? inEvent(source, ctx, () => field(source, args, ctx, info))
      : field(source, args, ctx, info);
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    Decimal: { Input: Prisma.Decimal; Output: Prisma.Decimal | string };
    SafeInt: { Input: number; Output: number };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  // Tracing outermost, so a traced field's cause covers all its work; Relay next, so that the others
  // see decoded global IDs; authorization before anything resolves; validation last.
  // (No @pothos/plugin-prisma: see src/graphql/schema/refs.ts for why the model types are plain ones.)
  plugins: [TracingPlugin, RelayPlugin, ScopeAuthPlugin, ComplexityPlugin, ValidationPlugin],
  // The fields that send SQL themselves rather than through a loader (root fields, whose plan eager
  // loads in one statement; a connection's totalCount) name themselves as the cause of what they
  // send (see src/sql/recorder.ts). Loaders name theirs. Free while nobody is shown the SQL.
  tracing: {
    default: (config) => isRootField(config) || config.name === "totalCount",
    wrap: (resolver, options) => traced(resolver, options),
  },
  scopeAuth: {
    authScopes: (ctx) => scopes(ctx.viewer),
    // A subscription is refused when it is made, not at its first event.
    authorizeOnSubscribe: true,
    unauthorizedError: (_parent, ctx) => refusal(ctx.viewer),
  },
  // The cost model: only fields that load from the database cost (see src/limits/cost.ts); the
  // check itself runs as a validation rule, before anything executes.
  complexity: { defaultComplexity: 0, defaultListMultiplier: 1, fieldComplexity: loadCost },
  validation: { validationError: (failure) => invalidInput(failure.issues) },
  defaultFieldNullability: false,
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // The connection field itself carries the cost of a page (see src/limits/cost.ts).
    edgesFieldOptions: {
      nullable: false,
      description: "The items of this page, each with its cursor.",
      complexity: { field: 0, multiplier: 1 },
    },
    nodeFieldOptions: { nullable: false, description: "The item at the end of the edge.", complexity: 0 },
    cursorFieldOptions: { description: "An opaque cursor; pass it as `after` or `before` to page from here." },
    pageInfoFieldOptions: { description: "Where this page sits in the whole list.", complexity: 0 },
    hasNextPageFieldOptions: { description: "True when more items follow this page." },
    hasPreviousPageFieldOptions: { description: "True when items precede this page." },
    startCursorFieldOptions: { description: "The cursor of the first item of the page, if any." },
    endCursorFieldOptions: { description: "The cursor of the last item of the page, if any." },
    firstArgOptions: {
      description: "Return at most this many items from the start (default 20, at most 100).",
      validate: rules.pageSize,
    },
    lastArgOptions: { description: "Return at most this many items from the end (at most 100).", validate: rules.pageSize },
    afterArgOptions: { description: "Return the items after this cursor.", validate: rules.cursor },
    beforeArgOptions: { description: "Return the items before this cursor.", validate: rules.cursor },
    // Only the four node types: any other type name in an ID is the client's mistake, not a lookup.
    decodeGlobalID: decodeNodeID,
    idFieldOptions: { description: "A globally unique, opaque identifier; refetch the object with `node(id:)`." },
    nodeTypeOptions: { description: "An object with a global ID, refetchable through `node(id:)`." },
    pageInfoTypeOptions: { description: "Relay pagination information for a connection." },
    defaultConnectionTypeOptions: { description: "A page of a list (Relay connection)." },
    defaultEdgeTypeOptions: { description: "One item of a page, with its cursor." },
    nodeQueryOptions: {
      description: "Fetches any object by its global ID; null when it does not exist.",
      args: { id: { description: "The object's global ID." } },
    },
    nodesQueryOptions: {
      description: "Fetches objects by their global IDs, in the order given; null where one does not exist.",
      args: { ids: { description: "The objects' global IDs." } },
    },
  },
});
