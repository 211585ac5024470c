/**
 * Relation fields of the model types, one way for every strategy: a field returns what its parent's
 * row already holds (the eager plan loaded it, see src/loading/plan.ts) and otherwise asks the
 * request's loaders (batched: one statement per level; lazy: one per parent). Each field declares
 * in `extensions.loads` what it reads, which is how the planner knows; the relation's target and
 * key come from the Prisma schema. The loader a field uses is settled once per request, at its
 * first parent, so each further parent costs a property read or a `load`.
 */
import type { GraphQLResolveInfo } from "graphql";
import { notFound } from "../../errors.js";
import { type Row, ShopLoader } from "../../loading/loaders.js";
import { MODELS, type ModelName } from "../../loading/models.js";
import type { Page } from "../../loading/pages.js";
import { columnsFor, fieldKey, type Loads } from "../../loading/plan.js";
import type { Context } from "../context.js";

/** A row of the parent type; relation fields read it by name. */
type Parent = { id: number };

/**
 * What a relation resolver returns, typed to fit any model type's field: the rows it returns are
 * that type's rows (the relation's target), which the model's own types cannot say generically.
 */
type Rows = never[];

/** The `extensions` of a field that returns `relation`; a list says how its arguments page it. */
export function loads(relation: string, page?: Loads<Context>["page"]): { loads: Loads<Context> } {
  return { loads: { relation, ...(page ? { page } : {}) } };
}

/**
 * The resolver of a to-one relation of `model` (`Order.user`): the loaded row, or the target row by
 * the parent's foreign key. The key guarantees the row; its absence means it was deleted while this
 * request ran, which the client should hear about as NOT_FOUND.
 */
export function toOne(model: ModelName, relation: string) {
  const { target, foreignKey } = MODELS[model].relations.get(relation)!;
  return (parent: Parent, _args: unknown, ctx: Context, info: GraphQLResolveInfo): Promise<never> | never => {
    const row = parent as unknown as Record<string, unknown>;
    const loaded = row[relation] as never | undefined;
    return loaded !== undefined ? loaded : rowById(target, row[foreignKey!] as number, ctx, info);
  };
}

/**
 * The `model` row with this id, for the field being resolved, through its loader; NOT_FOUND when
 * gone (the loader fails the load itself: one promise per row, not two).
 */
export function rowById(model: ModelName, id: number, ctx: Context, info: GraphQLResolveInfo): Promise<never> {
  const node = fieldKey(info);
  let loader = ctx.loaders.forField(node) as ShopLoader<Row> | undefined;
  if (!loader) {
    const made = ctx.loaders.byId(model, columnsFor(info), undefined, (missing) => notFound(model, missing));
    loader = ctx.loaders.setForField(node, made as ShopLoader<Row>);
  }
  return loader.load(id, info.path) as Promise<never>;
}

/**
 * The resolver of a list relation of `model` (`User.orders`): the loaded page, or the parent's page
 * from the loader of this field's arguments (`page` turns them into a Page, once per request).
 */
export function toMany<Args>(model: ModelName, relation: string, page: (args: Args, ctx: Context) => Promise<Page> | Page) {
  return (parent: Parent, args: Args, ctx: Context, info: GraphQLResolveInfo): Rows | Promise<Rows> => {
    const loaded = (parent as unknown as Record<string, unknown>)[relation] as Rows | undefined;
    if (loaded !== undefined) return loaded;
    const node = fieldKey(info);
    // The loader, once its page is settled (a cursor row may have to be read first); until then, its promise.
    const found = ctx.loaders.forField(node) as ShopLoader<Row[]> | Promise<ShopLoader<Row[]>> | undefined;
    if (found instanceof ShopLoader) return found.load(parent.id, info.path) as Promise<Rows>;
    const loader =
      found ??
      ctx.loaders.setForField(
        node,
        Promise.resolve(page(args, ctx)).then((settled) => {
          const made = ctx.loaders.pages(model, relation, settled, columnsFor(info));
          ctx.loaders.setForField(node, made);
          return made;
        }),
      );
    return loader.then((made) => made.load(parent.id, info.path)) as Promise<Rows>;
  };
}

/**
 * The resolver of a count of a parent's `relation` rows (`User.orderCount`): the eager plan's
 * `_count`, or the loader's grouped count.
 */
export function countOf(
  relation: string,
  loader: (ctx: Context) => { load(key: number, from?: GraphQLResolveInfo["path"]): Promise<number> },
) {
  return (parent: Parent, _args: unknown, ctx: Context, info: GraphQLResolveInfo): number | Promise<number> => {
    const counted = (parent as { _count?: Record<string, number> })._count?.[relation];
    return counted ?? loader(ctx).load(parent.id, info.path);
  };
}
