/**
 * What a query may cost, estimated from the document before anything runs: every field that loads
 * from the database costs 1, once per parent it can have, and a list multiplies what is below it by
 * its page size (`first`, 20 when omitted) or by the ids it names. Scalars cost nothing unless they
 * are derived (those declare `complexity: 1`). So the cost bounds what the `lazy` strategy would run
 * in statements, and what `batched` and `eager` would read in rows.
 *
 * Fields carry their cost in `extensions.complexity` (Pothos' complexity plugin puts it there, from
 * a field's `complexity` option or from `loadCost`); the estimate walks the document itself, so an
 * argument that cannot be read (the client's mistake, refused later with its own code) falls back
 * to the defaults instead of hiding the rest of the query from the check.
 */
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";
import { DEFAULT_PAGE_SIZE } from "../input-rules.js";

type FieldCost = number | { field?: number; multiplier?: number };
type CostOption = FieldCost | ((args: Record<string, unknown>, ctx: unknown, field: GraphQLField<unknown, unknown>) => FieldCost);

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** The cost of a field that does not declare its own. */
export function loadCost(args: Record<string, unknown>, _ctx: unknown, field: GraphQLField<unknown, any>): FieldCost {
  if (isLeafType(getNamedType(field.type))) return 0;
  const pageArgs = field.args.some((arg) => arg.name === "first");
  const size = (args.first ?? args.last ?? (Array.isArray(args.ids) ? args.ids.length : undefined)) as number | undefined;
  const connection = getNamedType(field.type).name.endsWith("Connection");
  if (connection || isList(field.type)) return { field: 1, multiplier: size ?? (pageArgs ? DEFAULT_PAGE_SIZE : 1) };
  return 1;
}

/** A field's arguments as the client gave them; empty when they cannot be read. */
function argumentsOf(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>) {
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    return {};
  }
}

function costOfField(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>, ctx: unknown) {
  const option = field.extensions?.complexity as CostOption | undefined;
  const args = argumentsOf(field, node, variables);
  let cost: FieldCost;
  try {
    cost = typeof option === "function" ? option(args, ctx, field) : (option ?? loadCost(args, ctx, field));
  } catch {
    cost = loadCost(args, ctx, field);
  }
  return typeof cost === "number" ? { field: cost, multiplier: 1 } : { field: cost.field ?? 0, multiplier: cost.multiplier ?? 1 };
}

/** The estimated cost and depth of a selection set on a type. */
export function estimate(
  schema: GraphQLSchema,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  selectionSet: SelectionSetNode,
  type: GraphQLNamedType,
  variables: Record<string, unknown>,
  ctx: unknown,
  spread: ReadonlySet<string> = new Set(),
): { cost: number; depth: number } {
  let cost = 0;
  let depth = 0;
  const add = (inner: { cost: number; depth: number }, extraDepth = 0) => {
    cost += inner.cost;
    depth = Math.max(depth, inner.depth + extraDepth);
  };
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name.startsWith("__") || !(isObjectType(type) || isInterfaceType(type))) continue;
      const field = type.getFields()[name] as GraphQLField<unknown, unknown> | undefined;
      if (!field) continue;
      const { field: own, multiplier } = costOfField(field, selection, variables, ctx);
      const inner = selection.selectionSet
        ? estimate(schema, fragments, selection.selectionSet, getNamedType(field.type), variables, ctx, spread)
        : { cost: 0, depth: 0 };
      add({ cost: own + multiplier * inner.cost, depth: inner.depth }, 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
      if (on) add(estimate(schema, fragments, selection.selectionSet, on, variables, ctx, spread));
    } else {
      const fragment = fragments[selection.name.value];
      // A fragment that spreads itself is the validator's to report, not ours to loop on.
      if (!fragment || spread.has(fragment.name.value)) continue;
      const on = schema.getType(fragment.typeCondition.name.value);
      if (on)
        add(estimate(schema, fragments, fragment.selectionSet, on, variables, ctx, new Set([...spread, fragment.name.value])));
    }
  }
  return { cost, depth };
}
