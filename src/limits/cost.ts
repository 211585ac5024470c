/**
 * What a query may cost, estimated from the document before anything runs. The estimate bounds the
 * real work: every object the response can hold costs 1, and every field that loads from the
 * database costs 1 more per parent it can have. A list multiplies what is below it by its page size
 * (`first`/`last`, 20 when omitted) or by the ids it names, plus 1 per item even when the items
 * select scalars only, so nested lists multiply; `@defer`red parts count like the rest. Scalars cost
 * nothing unless they are derived (those declare `complexity: 1`). So the cost bounds what the
 * `lazy` strategy would run in statements, and what `batched` and `eager` would read in rows and
 * put in the response.
 *
 * Fields carry their cost in `extensions.complexity` (Pothos' complexity plugin puts it there, from
 * a field's `complexity` option or from `loadCost`); the estimate walks the document itself, so an
 * argument that cannot be read (the client's mistake, refused later with its own code) falls back
 * to the defaults instead of hiding the rest of the query from the check.
 *
 * The walk is linear in the document: each named fragment is estimated once and its result reused
 * at every spread (a chain of fragments that each spread the previous one twice describes an
 * exponential response in a kilobyte; its estimate is computed in as many steps as it has fragments).
 */
import {
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";
import { DEFAULT_PAGE_SIZE } from "./inputs.js";

/**
 * A field's own cost, the multiplier it applies to what is below it, and what each item of a list
 * adds by being there (1: an object in the response).
 */
type FieldCost = number | { field?: number; multiplier?: number; item?: number };
type CostOption = FieldCost | ((args: Record<string, unknown>, ctx: unknown, field: GraphQLField<unknown, unknown>) => FieldCost);

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** A page size as the estimate counts it: a whole number from 0, else the default (refused later anyway). */
function pageSize(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) ? Math.max(0, value) : fallback;
}

/** The cost of a field that does not declare its own. */
export function loadCost(args: Record<string, unknown>, _ctx: unknown, field: GraphQLField<unknown, any>): FieldCost {
  if (isLeafType(getNamedType(field.type))) return 0;
  const connection = getNamedType(field.type).name.endsWith("Connection");
  if (!connection && !isList(field.type)) return 1;
  const pageArgs = field.args.some((arg) => arg.name === "first");
  const fallback = pageArgs ? DEFAULT_PAGE_SIZE : 1;
  const size = Array.isArray(args.ids) ? args.ids.length : pageSize(args.first ?? args.last, fallback);
  // A connection's items are objects too, but its `edges` list says so for each of them.
  return { field: 1, multiplier: size, item: connection ? 0 : 1 };
}

/** A field's arguments as the client gave them; empty when they cannot be read. */
function argumentsOf(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>) {
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    return {};
  }
}

function costOfField(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, ctx: unknown) {
  const option = field.extensions?.complexity as CostOption | undefined;
  let cost: FieldCost;
  try {
    cost = typeof option === "function" ? option(args, ctx, field) : (option ?? loadCost(args, ctx, field));
  } catch {
    cost = loadCost(args, ctx, field);
  }
  if (typeof cost === "number") return { own: cost, multiplier: 1, item: 0 };
  // A list given its cost explicitly (a connection's `edges`) still holds one object per item.
  const item = cost.item ?? (isList(field.type) && !isLeafType(getNamedType(field.type)) ? 1 : 0);
  return { own: cost.field ?? 0, multiplier: cost.multiplier ?? 1, item };
}

/** What the estimate found: the cost, the depth, and the most ids one `nodes` field names. */
export interface Estimate {
  cost: number;
  depth: number;
  nodeIds: number;
}

const NOTHING: Estimate = { cost: 0, depth: 0, nodeIds: 0 };

/** False when `@skip`/`@include` leave the selection out for these variables (kept when they cannot be read). */
function included(directives: readonly DirectiveNode[] | undefined, variables: Record<string, unknown>): boolean {
  if (!directives?.length) return true;
  const node = { directives } as FieldNode;
  try {
    if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  } catch {
    return true;
  }
}

/** `@stream(initialCount:)` must not be negative; graphql-js would take it as "stream everything". */
function checkStream(node: FieldNode, variables: Record<string, unknown>): void {
  const stream = node.directives?.find((directive) => directive.name.value === "stream");
  const count = stream?.arguments?.find((arg) => arg.name.value === "initialCount")?.value;
  if (!count) return;
  const value = count.kind === Kind.VARIABLE ? variables[count.name.value] : count.kind === Kind.INT ? Number(count.value) : 0;
  if (typeof value === "number" && value < 0) {
    throw new GraphQLError(`@stream(initialCount:) must be 0 or more; got ${value}.`, {
      nodes: [node],
      extensions: { code: "BAD_USER_INPUT", field: "initialCount", http: { status: 400 } },
    });
  }
}

/**
 * Estimates an operation's selection set: its cost, depth and the ids given to `nodes` (wherever it
 * is selected: at the root, in an inline fragment on Query, in a named fragment). Throws a
 * BAD_USER_INPUT GraphQLError for a negative `@stream(initialCount:)`.
 */
export function estimate(
  schema: GraphQLSchema,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  selectionSet: SelectionSetNode,
  type: GraphQLNamedType,
  variables: Record<string, unknown>,
  ctx: unknown,
): Estimate {
  const byFragment = new Map<string, Estimate>();
  const queryType = schema.getQueryType();

  const walk = (set: SelectionSetNode, on: GraphQLNamedType): Estimate => {
    let cost = 0;
    let depth = 0;
    let nodeIds = 0;
    const add = (inner: Estimate, innerCost: number, extraDepth: number) => {
      cost += innerCost;
      depth = Math.max(depth, inner.depth + extraDepth);
      nodeIds = Math.max(nodeIds, inner.nodeIds);
    };
    for (const selection of set.selections) {
      if (!included(selection.directives, variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith("__") || !(isObjectType(on) || isInterfaceType(on))) continue;
        const field = on.getFields()[name] as GraphQLField<unknown, unknown> | undefined;
        if (!field) continue;
        checkStream(selection, variables);
        const args = argumentsOf(field, selection, variables);
        const { own, multiplier, item } = costOfField(field, args, ctx);
        const inner = selection.selectionSet ? walk(selection.selectionSet, getNamedType(field.type)) : NOTHING;
        const ids = on === queryType && name === "nodes" && Array.isArray(args.ids) ? args.ids.length : 0;
        add({ ...inner, nodeIds: Math.max(inner.nodeIds, ids) }, own + multiplier * (item + inner.cost), 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const target = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : on;
        if (!target) continue;
        const inner = walk(selection.selectionSet, target);
        add(inner, inner.cost, 0);
      } else {
        const inner = fragment(selection.name.value);
        add(inner, inner.cost, 0);
      }
    }
    return { cost, depth, nodeIds };
  };

  /** A named fragment's estimate, computed at its first spread and reused at every other. */
  const fragment = (name: string): Estimate => {
    const known = byFragment.get(name);
    if (known) return known;
    const definition = fragments[name];
    const target = definition && schema.getType(definition.typeCondition.name.value);
    // Marked before the walk: a fragment that spreads itself is the validator's to report, not ours to loop on.
    byFragment.set(name, NOTHING);
    const found = target ? walk(definition.selectionSet, target) : NOTHING;
    byFragment.set(name, found);
    return found;
  };

  return walk(selectionSet, type);
}
