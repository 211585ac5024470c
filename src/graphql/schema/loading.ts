/** How root fields load their rows under the request's strategy (see src/loading/strategy.ts). */
import type { GraphQLResolveInfo } from "graphql";
import { selectFor, selects } from "../../loading/plan.js";
import type { Context } from "../context.js";

/**
 * The query a root field (a lookup, a mutation's answer, a subscription's event) hands Prisma for
 * the rows it returns. Eager requests read the whole selection in one statement (src/loading/plan.ts);
 * batched and lazy read the rows' own columns, so each relation below resolves through the loaders
 * and shows its own cost. `eager` forces the whole selection (a row read before it is deleted).
 *
 * Lookups by id use `findFirst`, not `findUnique`: Prisma merges the `findUnique` calls of one tick
 * into a single statement, even across concurrent requests, which would hide the lazy strategy's
 * cost and charge one request's SQL record for another's rows.
 */
export async function rowQuery(
  ctx: Context,
  info: GraphQLResolveInfo,
  { eager = ctx.strategy === "eager" }: { eager?: boolean } = {},
): Promise<WholeRows> {
  return { select: await selectFor(info, ctx, eager) } as WholeRows;
}

/**
 * A `select`, typed as if it read whole rows: Prisma's result types follow the literal `select`
 * they are given, while the model types (src/graphql/schema/refs.ts) take their rows as whole rows and
 * read only what the selection asked for, which the plan always includes.
 */
type WholeRows = Record<never, never>;

/**
 * The same for the rows of a root connection: the selection below its `edges { node }`; undefined
 * when it asks for no rows at all (only `totalCount`), which then cost no statement.
 */
export async function connectionRows(ctx: Context, info: GraphQLResolveInfo): Promise<WholeRows | undefined> {
  if (!selects(info, ["edges", "pageInfo"])) return undefined;
  return { select: await selectFor(info, ctx, ctx.strategy === "eager", ["edges", "node"]) } as WholeRows;
}
