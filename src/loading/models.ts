/**
 * What the loading code knows about the data model, read from the Prisma schema (its DMMF, which
 * prisma/generate.mjs writes to src/generated/datamodel.ts) rather than written by hand: each
 * model's columns, and each relation's target and the foreign key that joins it. A new relation in
 * schema.prisma needs no entry here.
 */
import { models as datamodel } from "../generated/datamodel.js";

export type ModelName = "User" | "Product" | "Order" | "OrderItem";

export interface Relation {
  name: string;
  target: ModelName;
  list: boolean;
  /** A to-one relation: the parent's column that holds the target's id (`Order.userId`). */
  foreignKey?: string;
  /** A list: the target's column that holds the parent's id (`Order.userId` for `User.orders`). */
  backReference?: string;
}

export interface Model {
  name: ModelName;
  /** The table, quoted for SQL. */
  table: string;
  /** Scalar columns and their Prisma types (`Int`, `String`, `DateTime`, `Decimal`, an enum's name…). */
  columns: ReadonlyMap<string, string>;
  relations: ReadonlyMap<string, Relation>;
}

interface DmmfField {
  name: string;
  kind: string;
  type: string;
  isList: boolean;
  relationName?: string;
  relationFromFields?: readonly string[];
}

function readModels(): Record<ModelName, Model> {
  const models = datamodel as unknown as Record<ModelName, readonly DmmfField[]>;
  const read = (name: ModelName): Model => {
    const fields = models[name];
    const columns = new Map(fields.filter((f) => f.kind === "scalar" || f.kind === "enum").map((f) => [f.name, f.type]));
    const relations = new Map<string, Relation>();
    for (const field of fields.filter((f) => f.kind === "object")) {
      const target = field.type as ModelName;
      if (!field.isList) {
        relations.set(field.name, { name: field.name, target, list: false, foreignKey: field.relationFromFields?.[0] });
        continue;
      }
      // The other side of a list holds the key: the target's to-one field of the same relation.
      const inverse = models[target].find((f) => f.relationName === field.relationName && !f.isList);
      relations.set(field.name, { name: field.name, target, list: true, backReference: inverse?.relationFromFields?.[0] });
    }
    return { name, table: `"${name}"`, columns, relations };
  };
  return { User: read("User"), Product: read("Product"), Order: read("Order"), OrderItem: read("OrderItem") };
}

/** The four models, by name. */
export const MODELS = readModels();

/** A column of `model`, quoted for SQL; throws for a name that is not one (no identifier comes from a client). */
export function column(model: Model, name: string): string {
  if (!model.columns.has(name)) throw new Error(`${model.name} has no column ${name}.`);
  return `"${name}"`;
}
