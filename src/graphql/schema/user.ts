/** The User type: a customer, their orders and what they spent; user queries and mutations. */
import { mayEditUser, visibleUsers } from "../../auth/rules.js";
import { isPrismaError, notFound, ShopError } from "../../errors.js";
import type { OrderStatus, Prisma } from "../../generated/prisma/client.js";
import { fieldRules, given, rules } from "../../limits/inputs.js";
import { deleteUser } from "../../orders/commands.js";
import { publishChanges } from "../../pubsub.js";
import { builder } from "../builder.js";
import type { Context } from "../context.js";
import { dbId } from "./ids.js";
import {
  connectionOptions,
  containsText,
  countOf as countTotal,
  cursorConnection,
  defineOrderBy,
  type ListArgs,
  listArgs,
  orderByOf,
  relationPage,
} from "./lists.js";
import { connectionRows, rowQuery } from "./loading.js";
import { OrderOrderBy, OrderStatusEnum } from "./order-inputs.js";
import { OrderRef, UserRef } from "./refs.js";
import { countOf, loads, toMany } from "./relations.js";

/** The page of `User.orders`: shared by the eager plan and the loaders. */
const ordersPage = (args: { status?: OrderStatus | null } & ListArgs, ctx: Context) =>
  relationPage("Order", args, ctx, args.status ? { equals: { status: args.status } } : {});

builder.objectFields(UserRef, (t) => ({
  name: t.exposeString("name", { description: "Display name." }),
  email: t.exposeString("email", { description: "Unique email address (lower-case)." }),
  age: t.exposeInt("age", { description: "Age in years; 0 when unknown." }),
  active: t.exposeBoolean("active", { description: "Inactive users keep their history but cannot be expected to order." }),
  createdAt: t.expose("createdAt", { type: "DateTime", description: "When the user signed up." }),
  updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the user was last changed." }),
  orders: t.field({
    type: [OrderRef],
    description: "The user's orders, a page at a time (default: oldest first, 20).",
    args: {
      status: t.arg({ type: OrderStatusEnum, required: false, description: "Only orders in this status." }),
      ...listArgs(t.arg, OrderOrderBy),
    },
    extensions: loads("orders", ordersPage),
    resolve: toMany("User", "orders", ordersPage),
  }),
  orderCount: t.int({
    description: "How many orders the user has placed, in any status.",
    complexity: 1,
    extensions: { loads: { count: "orders" } },
    resolve: countOf("orders", (ctx) => ctx.loaders.orderCountOfUser()),
  }),
  totalSpent: t.field({
    type: "Decimal",
    description: "What the user's COMPLETED orders add up to.",
    complexity: 1,
    resolve: (user, _args, ctx, info) => ctx.loaders.totalSpentOfUser().load(user.id, info.path),
  }),
}));

const UserOrderBy = defineOrderBy("User", "users", {
  id: "Signup order.",
  name: "Name.",
  email: "Email address.",
  age: "Age.",
  createdAt: "Signup time.",
});

const UserFilter = builder.inputType("UserFilter", {
  description: "Which users to list.",
  fields: (t) => ({
    active: t.boolean({ description: "Only active (true) or inactive (false) users." }),
    search: t.string({
      description: "Case-insensitive text that the name or email contains (at most 100 characters).",
    }),
  }),
  validate: fieldRules({ search: rules.search }),
});

function userWhere(filter: typeof UserFilter.$inferInput | null | undefined, ctx: Context): Prisma.UserWhereInput {
  return {
    AND: [visibleUsers(ctx.viewer)],
    ...(filter?.active != null ? { active: filter.active } : {}),
    ...(filter?.search ? { OR: [{ name: containsText(filter.search) }, { email: containsText(filter.search) }] } : {}),
  };
}

builder.queryFields((t) => ({
  me: t.field({
    type: UserRef,
    nullable: true,
    description: "The signed-in user; null when anonymous or signed in with an operator token.",
    resolve: async (_root, _args, ctx, info) =>
      ctx.viewer.userId === null
        ? null
        : ctx.prisma.user.findFirst({ ...(await rowQuery(ctx, info)), where: { id: ctx.viewer.userId } }),
  }),
  user: t.field({
    type: UserRef,
    nullable: true,
    authScopes: { signedIn: true },
    description: "A user by ID; null when there is none (or it is not yours to see). Signed in.",
    args: { id: t.arg.globalID({ for: UserRef, required: true, description: "The user's global ID." }) },
    resolve: async (_root, args, ctx, info) =>
      ctx.prisma.user.findFirst({
        ...(await rowQuery(ctx, info)),
        where: { id: dbId(args.id, "id"), AND: [visibleUsers(ctx.viewer)] },
      }),
  }),
  users: t.connection(
    {
      type: UserRef,
      authScopes: { signedIn: true },
      description: "The users you may see (all of them for an admin, yourself for a customer), a page at a time.",
      args: {
        filter: t.arg({ type: UserFilter, description: "Which users to include." }),
        orderBy: t.arg({ type: UserOrderBy, description: "Sort order (default: id ascending)." }),
      },
      resolve: async (_root, args, ctx, info) => {
        const where = userWhere(args.filter, ctx);
        return cursorConnection(
          info,
          args,
          await connectionRows(ctx, info),
          (query, window) => ctx.prisma.user.findMany({ ...query, ...window, where, orderBy: orderByOf(args.orderBy) }),
          () => countTotal(info, () => ctx.prisma.user.count({ where })),
        );
      },
    },
    connectionOptions("A page of users.", "users"),
    { description: "A user in a page of users." },
  ),
}));

/** What a user's fields must be, when created and when changed. */
const userRules = fieldRules({ name: rules.name, email: rules.email, age: rules.age });

const CreateUserInput = builder.inputType("CreateUserInput", {
  description: "A new user.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Display name; 1 to 200 characters." }),
    email: t.string({ required: true, description: "Email address; must be unused." }),
    age: t.int({ description: "Age in years, 0 to 150 (default 0)." }),
    active: t.boolean({ description: "Whether the user is active (default true)." }),
  }),
  validate: userRules,
});

const UpdateUserInput = builder.inputType("UpdateUserInput", {
  description: "Changes to a user; omitted fields stay as they are.",
  fields: (t) => ({
    name: t.string({ description: "New display name; 1 to 200 characters." }),
    email: t.string({ description: "New email address; must be unused." }),
    age: t.int({ description: "New age, 0 to 150." }),
    active: t.boolean({ description: "Activate or deactivate." }),
  }),
  validate: userRules,
});

/** Runs a write that may hit the unique email index and reports it as EMAIL_TAKEN. */
async function guardEmail<T>(address: string | null | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (address && isPrismaError(error, "P2002")) {
      throw new ShopError("EMAIL_TAKEN", `The email ${address} is already in use.`, { field: "email" });
    }
    throw error;
  }
}

builder.mutationFields((t) => ({
  createUser: t.field({
    type: UserRef,
    authScopes: { admin: true },
    description: "Creates a user. Fails with EMAIL_TAKEN if the email is in use. Admins.",
    args: { input: t.arg({ type: CreateUserInput, required: true, description: "The new user." }) },
    resolve: async (_root, { input }, ctx, info) => {
      const query = await rowQuery(ctx, info);
      return guardEmail(input.email, () =>
        ctx.prisma.user.create({ ...query, data: { ...given(input), name: input.name, email: input.email } }),
      );
    },
  }),
  updateUser: t.field({
    type: UserRef,
    authScopes: { signedIn: true },
    description:
      "Changes a user. Fails with NOT_FOUND or EMAIL_TAKEN. Admins change anyone; a customer changes their own name and email.",
    args: {
      id: t.arg.globalID({ for: UserRef, required: true, description: "The user's global ID." }),
      input: t.arg({ type: UpdateUserInput, required: true, description: "What to change." }),
    },
    resolve: async (_root, { id: globalId, input }, ctx, info) => {
      const id = dbId(globalId, "id");
      mayEditUser(ctx.viewer, id, input);
      const query = await rowQuery(ctx, info);
      try {
        const user = await guardEmail(input.email, () => ctx.prisma.user.update({ ...query, where: { id }, data: given(input) }));
        // A deactivated user's tokens stop working at once; their open subscriptions end too.
        if (input.active === false) publishChanges(ctx.pubsub, { revoked: [id] });
        return user;
      } catch (error) {
        if (isPrismaError(error, "P2025")) throw notFound("User", id, "id");
        throw error;
      }
    },
  }),
  deleteUser: t.field({
    type: UserRef,
    authScopes: { admin: true },
    description:
      "Deletes a user with their orders and items. Stock held by their PENDING or PROCESSING orders goes back to the products. Returns the user as it was. Admins.",
    args: { id: t.arg.globalID({ for: UserRef, required: true, description: "The user's global ID." }) },
    resolve: async (_root, { id: globalId }, ctx, info) => {
      // The whole selection is read before the rows go, whatever the strategy: afterwards there is
      // nothing left to load, and every strategy must answer the same.
      const id = dbId(globalId, "id");
      const query = await rowQuery(ctx, info, { eager: true });
      const { user, changes } = await deleteUser(ctx.prisma, id, (tx) => tx.user.findUniqueOrThrow({ ...query, where: { id } }));
      publishChanges(ctx.pubsub, { ...changes, revoked: [id] });
      return user;
    },
  }),
}));
