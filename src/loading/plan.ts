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
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  GraphQLIncludeDirective,
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

/** Per field node, the columns its rows need (every selection kept, whatever the variables). */
const columnsByNode = new WeakMap<FieldNode, string[]>();

/**
 * The columns the field being resolved needs of its rows: what a loader should read for it. The
 * same for every parent and every request of the document, so worked out once per field node.
 */
export function columnsFor(info: GraphQLResolveInfo): string[] {
  const first = info.fieldNodes[0]!;
  let columns = columnsByNode.get(first);
  if (!columns) {
    const type = getNamedType(info.returnType);
    columns = isObjectType(type)
      ? columnsIn({ schema: info.schema, fragments: info.fragments, variables: undefined }, type, info.fieldNodes)
      : ["id"];
    columnsByNode.set(first, columns);
  }
  return columns;
}

/** One level of a plan: a model's rows, the columns to read, the relations to load with them, the counts. */
interface Level {
  model: Model;
  columns: Set<string>;
  relations: Map<string, { relation: Relation; page?: Page; child: Level }>;
  counts: Set<string>;
}

async function planLevel<Context>(
  walk: Walk,
  type: GraphQLObjectType,
  nodes: readonly FieldNode[],
  ctx: Context,
): Promise<Level> {
  const modelType = modelTypeOf(type);
  if (!modelType) throw new Error(`${type.name} is not a model type.`);
  const model = MODELS[modelType.model];
  const level: Level = { model, columns: new Set(modelType.always), relations: new Map(), counts: new Set() };
  const fields = type.getFields();
  const asked = new Map<string, { field: GraphQLField<unknown, unknown>; nodes: FieldNode[]; loads: Loads<Context> }[]>();
  for (const [, fieldNodes] of collect(walk, type, selectionSets(nodes))) {
    const field = fields[fieldNodes[0]!.name.value];
    if (!field) continue;
    const loads = loadsOf(field) as Loads<Context> | undefined;
    if (!loads) {
      if (model.columns.has(field.name)) level.columns.add(field.name);
      continue;
    }
    for (const name of loads.columns ?? []) level.columns.add(name);
    if (loads.count) level.counts.add(loads.count);
    if (loads.relation) {
      const uses = asked.get(loads.relation) ?? [];
      uses.push({ field, nodes: fieldNodes, loads });
      asked.set(loads.relation, uses);
    }
  }
  for (const [name, uses] of asked) {
    const relation = model.relations.get(name);
    if (!relation) continue;
    const args = uses.map(({ field, nodes: [node] }) => getArgumentValues(field, node!, walk.variables));
    // One property, one page: aliases with different arguments each go through their loader.
    const shape = JSON.stringify(args[0]);
    if (args.some((given) => JSON.stringify(given) !== shape)) continue;
    let page: Page | undefined;
    if (relation.list) {
      try {
        page = await uses[0]!.loads.page?.(args[0]!, ctx);
      } catch {
        // Arguments the field refuses (a bad cursor, a page too large): its resolver says so, per parent.
        continue;
      }
      if (!page) continue;
    }
    const childType = getNamedType(uses[0]!.field.type) as GraphQLObjectType;
    const child = await planLevel(
      walk,
      childType,
      uses.flatMap((use) => use.nodes),
      ctx,
    );
    level.relations.set(name, { relation, page, child });
  }
  // A to-one relation left to its loader loads by its foreign key. One preloaded needs no key of ours:
  // Prisma joins on it itself, and a second copy in every row's JSON costs PostgreSQL.
  for (const name of asked.keys()) {
    const key = model.relations.get(name)?.foreignKey;
    if (key && !level.relations.has(name)) level.columns.add(key);
  }
  return level;
}

/** A plan level as a Prisma `select`. */
function selectOf(level: Level): Record<string, unknown> {
  const select: Record<string, unknown> = {};
  for (const name of level.columns) select[name] = true;
  for (const [name, { page, child }] of level.relations) {
    select[name] = page ? { ...prismaPage(page), select: selectOf(child) } : { select: selectOf(child) };
  }
  if (level.counts.size) select._count = { select: Object.fromEntries([...level.counts].map((name) => [name, true])) };
  return select;
}

/**
 * The Prisma `select` for the rows of `type` that `nodes` select: with `eager`, the whole plan
 * (relations, pages, counts, to the bottom of the selection); otherwise only the rows' own columns,
 * each relation below resolving through the loaders.
 */
export async function selectFor<Context>(
  info: GraphQLResolveInfo,
  type: GraphQLObjectType,
  nodes: readonly FieldNode[],
  ctx: Context,
  eager: boolean,
): Promise<Record<string, unknown>> {
  if (!eager) {
    return Object.fromEntries(
      columnsIn({ schema: info.schema, fragments: info.fragments, variables: undefined }, type, nodes).map((name) => [
        name,
        true,
      ]),
    );
  }
  const walk = { schema: info.schema, fragments: info.fragments, variables: info.variableValues };
  return selectOf(await planLevel(walk, type, nodes, ctx));
}

/**
 * The field nodes the field being resolved selects at `path` below it (through fragments, honouring
 * `@skip`/`@include`): `["edges", "node"]` of a connection, say. Empty when the selection stops
 * before the end of the path.
 */
function fieldNodesAt(info: GraphQLResolveInfo, path: readonly string[]): FieldNode[] {
  const walk = { schema: info.schema, fragments: info.fragments, variables: info.variableValues };
  let type = getNamedType(info.returnType);
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const name of path) {
    if (!isObjectType(type)) return [];
    const field = type.getFields()[name];
    if (!field) return [];
    const found: FieldNode[] = [];
    for (const [, fieldNodes] of collect(walk, type, selectionSets(nodes))) {
      if (fieldNodes[0]!.name.value === name) found.push(...fieldNodes);
    }
    if (!found.length) return [];
    type = getNamedType(field.type);
    nodes = found;
  }
  return [...nodes];
}

/**
 * The `node` fields below a connection field's `edges`: the selection of a connection's rows (a
 * connection's own fields, `totalCount` and `pageInfo`, load nothing of them).
 */
export const connectionNodes = (info: GraphQLResolveInfo): FieldNode[] => fieldNodesAt(info, ["edges", "node"]);

/** True when the connection field being resolved reads `pageInfo { <name> }`. */
export const readsPageInfo = (info: GraphQLResolveInfo, name: string): boolean =>
  fieldNodesAt(info, ["pageInfo", name]).length > 0;

/** True when the field being resolved selects any of `names` (through fragments, honouring `@skip`/`@include`). */
export function selects(info: GraphQLResolveInfo, names: readonly string[]): boolean {
  const walk = { schema: info.schema, fragments: info.fragments, variables: info.variableValues };
  const type = getNamedType(info.returnType) as GraphQLObjectType;
  for (const [, fieldNodes] of collect(walk, type, selectionSets(info.fieldNodes))) {
    if (names.includes(fieldNodes[0]!.name.value)) return true;
  }
  return false;
}
