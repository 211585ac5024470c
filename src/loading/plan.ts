/**
 * The eager strategy's planner: at a root field, the operation's selection below it (fragments,
 * inline fragments, aliases, `@skip`/`@include`, variables, each list's arguments) becomes one
 * Prisma query with nested `select`s: the columns the fields read, each relation with its page
 * (the viewer's row filter, the keyset of an `after` cursor, the sort, the size) and `_count`s.
 * Relation fields then read what was loaded, and ask the request's loaders for what was not.
 *
 * What a field reads is declared on it (`extensions.loads`, see `Loads`): a column of its model
 * (by default, a field named like one), a relation with its page, or a count. What a relation is
 * (its target, its key) comes from the Prisma schema (src/loading/models.ts).
 *
 * A relation asked for twice at one level with different arguments (`done: orders(status:
 * COMPLETED) all: orders`) is not preloaded: one property of a row can hold one page, so both
 * aliases load through their loaders, one statement per level each.
 */
import {
  type ASTNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  type ValueNode,
  visit,
} from "graphql";
import { MODELS, type Model, type ModelName, type Relation } from "./models.js";
import { type Page, prismaPage } from "./pages.js";

/**
 * What a field of a model type reads, in `extensions.loads`. A field without it reads the column of
 * its own name, if its model has one.
 */
export interface Loads<Context = never> {
  /** Columns a computed field needs (`subtotal`: `unitPrice`, `quantity`). */
  columns?: readonly string[];
  /** The relation a field returns. */
  relation?: string;
  /** A list relation's page for the field's arguments; it throws for arguments it refuses. */
  page?: (args: Record<string, unknown>, ctx: Context) => Promise<Page> | Page;
  /** A relation whose rows the field counts (`_count`). */
  count?: string;
}

/** The model type a GraphQL object type stands for, and the columns every one of its rows carries. */
export interface ModelType {
  model: ModelName;
  /** Read whatever is selected: the id, and what authorization checks on every row (`Order.userId`). */
  always: readonly string[];
}

const modelTypeOf = (type: GraphQLObjectType) => type.extensions?.modelType as ModelType | undefined;
const loadsOf = (field: GraphQLField<unknown, unknown>) => field.extensions?.loads as Loads<unknown> | undefined;

interface Walk {
  schema: GraphQLSchema;
  fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  /** The request's variables, to honour `@skip`/`@include`; undefined: keep every selection. */
  variables: Readonly<Record<string, unknown>> | undefined;
}

function included(node: { directives?: readonly unknown[] }, variables: Walk["variables"]): boolean {
  if (!variables || !node.directives?.length) return true;
  const asNode = node as FieldNode;
  if (getDirectiveValues(GraphQLSkipDirective, asNode, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, asNode, variables)?.if !== false;
}

/** The fields a selection asks of `type`, by response key, through fragments (each one visited once). */
function collect(walk: Walk, type: GraphQLObjectType, sets: readonly SelectionSetNode[]): Map<string, FieldNode[]> {
  const fields = new Map<string, FieldNode[]>();
  const visited = new Set<string>();
  const applies = (condition: string | undefined) => {
    if (!condition || condition === type.name) return true;
    const target = walk.schema.getType(condition);
    return target !== undefined && isAbstractType(target) && walk.schema.isSubType(target, type);
  };
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (!included(selection, walk.variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const nodes = fields.get(key);
        if (nodes) nodes.push(selection);
        else fields.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(selection.typeCondition?.name.value)) visit(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = walk.fragments[name];
        if (visited.has(name) || !fragment || !applies(fragment.typeCondition.name.value)) continue;
        visited.add(name);
        visit(fragment.selectionSet);
      }
    }
  };
  for (const set of sets) visit(set);
  return fields;
}

const selectionSets = (nodes: readonly FieldNode[]) => nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));

/** The columns a selection of `type` reads from its own table, for a loader. */
function columnsIn(walk: Walk, type: GraphQLObjectType, nodes: readonly FieldNode[]): string[] {
  const modelType = modelTypeOf(type);
  if (!modelType) return [];
  const model = MODELS[modelType.model];
  const columns = new Set(modelType.always);
  const fields = type.getFields();
  for (const [, fieldNodes] of collect(walk, type, selectionSets(nodes))) {
    const field = fields[fieldNodes[0]!.name.value];
    if (!field) continue;
    const loads = loadsOf(field);
    if (loads?.columns) for (const name of loads.columns) columns.add(name);
    else if (loads?.relation) {
      const key = model.relations.get(loads.relation)?.foreignKey;
      if (key) columns.add(key);
    } else if (!loads && model.columns.has(field.name)) columns.add(field.name);
  }
  return [...columns];
}

/**
 * The columns the field being resolved needs of its rows: what a loader should read for it. The
 * same for every parent and every request of the document (every selection kept, whatever the
 * variables), so worked out once per document and field.
 */
export function columnsFor(info: GraphQLResolveInfo): string[] {
  return perDocument(info, "loader", () => {
    const type = getNamedType(info.returnType);
    return isObjectType(type)
      ? columnsIn({ schema: info.schema, fragments: info.fragments, variables: undefined }, type, info.fieldNodes)
      : ["id"];
  });
}

/** One response key that asks for a relation at a level: its field, its nodes, and its arguments if no variable can change them. */
interface Use<Context> {
  field: GraphQLField<unknown, unknown>;
  /** Every node of the key: the first gives the arguments (validation makes them agree), all give the selection below. */
  nodes: readonly FieldNode[];
  loads: Loads<Context>;
  /** The arguments when they are literals: the same for every request of the document. */
  fixedArgs?: Record<string, unknown>;
}

/**
 * What a selection asks of one level of rows, worked out from the document alone (and the values
 * of the variables that `@skip`/`@include` read): the columns, the counts, and each relation with
 * the fields that ask for it. Each request then only adds what depends on it: the arguments' values
 * and the pages, which carry the viewer's row filter and the cursor (`instantiate`).
 */
interface Shape<Context = unknown> {
  model: Model;
  columns: readonly string[];
  counts: readonly string[];
  relations: readonly { name: string; relation: Relation; uses: readonly Use<Context>[]; child: Shape<Context> }[];
}

function shapeOf(walk: Walk, type: GraphQLObjectType, nodes: readonly FieldNode[]): Shape {
  const modelType = modelTypeOf(type);
  if (!modelType) throw new Error(`${type.name} is not a model type.`);
  const model = MODELS[modelType.model];
  const columns = new Set(modelType.always);
  const counts = new Set<string>();
  const fields = type.getFields();
  const asked = new Map<string, Use<unknown>[]>();
  for (const [, fieldNodes] of collect(walk, type, selectionSets(nodes))) {
    const field = fields[fieldNodes[0]!.name.value];
    if (!field) continue;
    const loads = loadsOf(field);
    if (!loads) {
      if (model.columns.has(field.name)) columns.add(field.name);
      continue;
    }
    for (const name of loads.columns ?? []) columns.add(name);
    if (loads.count) counts.add(loads.count);
    if (loads.relation && model.relations.has(loads.relation)) {
      const uses = asked.get(loads.relation) ?? [];
      const node = fieldNodes[0]!;
      uses.push({ field, nodes: fieldNodes, loads, fixedArgs: hasVariables(node) ? undefined : getArgumentValues(field, node) });
      asked.set(loads.relation, uses);
    }
  }
  const relations = [...asked].map(([name, uses]) => {
    const childType = getNamedType(uses[0]!.field.type) as GraphQLObjectType;
    return {
      name,
      relation: model.relations.get(name)!,
      uses,
      child: shapeOf(
        walk,
        childType,
        uses.flatMap((use) => use.nodes),
      ),
    };
  });
  return { model, columns: [...columns], counts: [...counts], relations };
}

/** True when a field's arguments mention a variable anywhere. */
function hasVariables(node: FieldNode): boolean {
  const walkValue = (value: ValueNode): boolean =>
    value.kind === Kind.VARIABLE ||
    (value.kind === Kind.LIST && value.values.some(walkValue)) ||
    (value.kind === Kind.OBJECT && value.fields.some((field) => walkValue(field.value)));
  return (node.arguments ?? []).some((argument) => walkValue(argument.value));
}

/**
 * A shape as this request's Prisma `select`: each relation with its page (the viewer's row filter,
 * the cursor, the size), unless its fields ask for it with different arguments (one property of a
 * row holds one page: each alias then loads through its loader) or refuse their arguments (the
 * resolver says so, per parent). A to-one relation left to its loader needs its foreign key; one
 * preloaded does not: Prisma joins on it itself, and a second copy in every row's JSON costs PostgreSQL.
 */
async function instantiate<Context>(
  shape: Shape<Context>,
  variables: Readonly<Record<string, unknown>>,
  ctx: Context,
): Promise<Record<string, unknown>> {
  const select: Record<string, unknown> = {};
  for (const name of shape.columns) select[name] = true;
  for (const { name, relation, uses, child } of shape.relations) {
    const preloaded = await relationSelect(relation, uses, child, variables, ctx);
    if (preloaded) select[name] = preloaded;
    else if (relation.foreignKey) select[relation.foreignKey] = true;
  }
  if (shape.counts.length) select._count = { select: Object.fromEntries(shape.counts.map((name) => [name, true])) };
  return select;
}

async function relationSelect<Context>(
  relation: Relation,
  uses: readonly Use<Context>[],
  child: Shape<Context>,
  variables: Readonly<Record<string, unknown>>,
  ctx: Context,
): Promise<Record<string, unknown> | undefined> {
  const args = uses.map((use) => use.fixedArgs ?? getArgumentValues(use.field, use.nodes[0]!, variables));
  if (args.length > 1) {
    const shape = JSON.stringify(args[0]);
    if (args.some((given) => JSON.stringify(given) !== shape)) return undefined;
  }
  if (!relation.list) return { select: await instantiate(child, variables, ctx) };
  let page: Page | undefined;
  try {
    page = await uses[0]!.loads.page?.(args[0]!, ctx);
  } catch {
    return undefined;
  }
  return page ? { ...prismaPage(page), select: await instantiate(child, variables, ctx) } : undefined;
}

/**
 * Per document: what the planner worked out of a field's selection. Keyed by the field's first node
 * (a document parsed once is cached by Yoga and used by every request that sends it, so this lives as
 * long as the document does), then by the field's other nodes (a fragment's node is shared by every
 * operation and place that spreads it; what it plans depends on all of them), what is asked, and the
 * values of the variables the operation's `@skip`/`@include` read. Each first node keeps at most
 * `PER_NODE` results.
 */
const planned = new WeakMap<FieldNode, Map<string, unknown>>();
const PER_NODE = 64;

/** Counts of what the cache did, for tests and profiles. */
export const planCache = { built: 0, reused: 0 };

/** A number per field node, to name a list of them in a key. */
const nodeIds = new WeakMap<FieldNode, number>();
let nextNodeId = 1;
function nodeId(node: FieldNode): number {
  let id = nodeIds.get(node);
  if (id === undefined) {
    id = nextNodeId++;
    nodeIds.set(node, id);
  }
  return id;
}

/**
 * The field being resolved, as a key for what a request settles once per field (its loader): its
 * node, or, when it has several (a fragment's node beside one of the operation's own, or of another
 * fragment), all of them, since the same fragment node may stand alone elsewhere in the document.
 */
export function fieldKey(info: GraphQLResolveInfo): FieldNode | string {
  return info.fieldNodes.length === 1 ? info.fieldNodes[0]! : info.fieldNodes.map(nodeId).join(",");
}

/** The variables of `@skip`/`@include` in an operation and its fragments, by operation. */
const directiveVariables = new WeakMap<object, readonly string[]>();

function directiveVariablesOf(info: GraphQLResolveInfo): readonly string[] {
  let names = directiveVariables.get(info.operation);
  if (!names) {
    const found = new Set<string>();
    const fromNode = (node: ASTNode) =>
      visit(node, {
        Directive(directive) {
          if (directive.name.value !== "skip" && directive.name.value !== "include") return false;
          for (const argument of directive.arguments ?? []) {
            if (argument.value.kind === Kind.VARIABLE) found.add(argument.value.name.value);
          }
          return false;
        },
      });
    fromNode(info.operation);
    for (const fragment of Object.values(info.fragments)) fromNode(fragment);
    names = [...found].sort();
    directiveVariables.set(info.operation, names);
  }
  return names;
}

/** `make()`, worked out once per document, field (all its nodes), `what` and values of the directives' variables. */
function perDocument<T>(info: GraphQLResolveInfo, what: string, make: () => T): T {
  const [first, ...others] = info.fieldNodes;
  let entries = planned.get(first!);
  if (!entries) {
    entries = new Map();
    planned.set(first!, entries);
  }
  let key = `${info.parentType.name}.${what}`;
  for (const node of others) key += `,${nodeId(node)}`;
  for (const name of directiveVariablesOf(info)) key += `|${name}=${String(info.variableValues[name])}`;
  if (entries.has(key)) {
    planCache.reused += 1;
    return entries.get(key) as T;
  }
  const made = make();
  planCache.built += 1;
  if (entries.size < PER_NODE) entries.set(key, made);
  return made;
}

/**
 * The Prisma `select` for the rows the field being resolved returns, or those at `path` below it
 * (`["edges", "node"]` of a connection): with `eager`, the whole plan (relations, pages, counts, to
 * the bottom of the selection); otherwise only the rows' own columns, each relation below resolving
 * through the loaders.
 */
export async function selectFor<Context>(
  info: GraphQLResolveInfo,
  ctx: Context,
  eager: boolean,
  path: readonly string[] = [],
): Promise<Record<string, unknown>> {
  if (!eager) {
    const columns = perDocument(info, `columns:${path.join(".")}`, () => {
      const { type, nodes } = fieldNodesAt(info, path);
      return columnsIn(
        { schema: info.schema, fragments: info.fragments, variables: undefined },
        type as GraphQLObjectType,
        nodes,
      );
    });
    return Object.fromEntries(columns.map((name) => [name, true]));
  }
  const shape = perDocument(info, `plan:${path.join(".")}`, () => {
    const { type, nodes } = fieldNodesAt(info, path);
    const walk = { schema: info.schema, fragments: info.fragments, variables: info.variableValues };
    return shapeOf(walk, type as GraphQLObjectType, nodes);
  }) as Shape<Context>;
  return instantiate(shape, info.variableValues, ctx);
}

/**
 * The field nodes the field being resolved selects at `path` below it (through fragments, honouring
 * `@skip`/`@include`): `["edges", "node"]` of a connection, say; none when the selection stops
 * before the end of the path. `type` is the path's type in the schema, selected or not.
 */
function fieldNodesAt(info: GraphQLResolveInfo, path: readonly string[]): { type: GraphQLNamedType; nodes: FieldNode[] } {
  const walk = { schema: info.schema, fragments: info.fragments, variables: info.variableValues };
  let type = getNamedType(info.returnType);
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const name of path) {
    if (!isObjectType(type)) throw new Error(`${type.name} has no field ${name}.`);
    const field = type.getFields()[name];
    if (!field) throw new Error(`${type.name} has no field ${name}.`);
    const found: FieldNode[] = [];
    if (nodes.length) {
      for (const [, fieldNodes] of collect(walk, type, selectionSets(nodes))) {
        if (fieldNodes[0]!.name.value === name) found.push(...fieldNodes);
      }
    }
    type = getNamedType(field.type);
    nodes = found;
  }
  return { type, nodes: [...nodes] };
}

/** True when the connection field being resolved reads `pageInfo { <name> }`. */
export const readsPageInfo = (info: GraphQLResolveInfo, name: string): boolean =>
  perDocument(info, `reads:pageInfo.${name}`, () => fieldNodesAt(info, ["pageInfo", name]).nodes.length > 0);

/** True when the field being resolved selects any of `names` (through fragments, honouring `@skip`/`@include`). */
export function selects(info: GraphQLResolveInfo, names: readonly string[]): boolean {
  return perDocument(info, `selects:${names.join(",")}`, () => {
    const walk = { schema: info.schema, fragments: info.fragments, variables: info.variableValues };
    const type = getNamedType(info.returnType) as GraphQLObjectType;
    for (const [, fieldNodes] of collect(walk, type, selectionSets(info.fieldNodes))) {
      if (names.includes(fieldNodes[0]!.name.value)) return true;
    }
    return false;
  });
}
