/**
 * The migration history and schema.prisma must describe the same database. The expected shape comes
 * from Prisma's own schema parser (its DMMF); the actual shape from PostgreSQL's catalogue after
 * src/db/migrate.ts has applied every migration.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, readMigrations } from "../src/db/migrate.js";
import { createTestShop, type TestShop } from "./support/shop.js";

const { get_dmmf } = createRequire(import.meta.url)("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };

interface DmmfField {
  name: string;
  kind: "scalar" | "enum" | "object";
  type: string;
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  nativeType: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface Dmmf {
  datamodel: {
    models: { name: string; dbName: string | null; fields: DmmfField[] }[];
    enums: { name: string; values: { name: string }[] }[];
    indexes: { model: string; type: "id" | "unique" | "normal" | "fulltext"; fields: { name: string }[] }[];
  };
}

const dmmf: Dmmf = JSON.parse(
  get_dmmf(
    JSON.stringify({
      prismaSchema: [["schema.prisma", readFileSync(new URL("../prisma/schema.prisma", import.meta.url), "utf8")]],
    }),
  ),
);

/** The PostgreSQL type Prisma creates for a field, as `format_type` prints it. */
function expectedType(field: DmmfField): string {
  if (field.kind === "enum") return `"${field.type}"`;
  if (field.nativeType) {
    const [name, args] = field.nativeType;
    if (name === "Decimal") return `numeric(${args.join(",")})`;
    throw new Error(`add a mapping for @db.${name}`);
  }
  const types: Record<string, string> = {
    Int: "integer",
    String: "text",
    Boolean: "boolean",
    DateTime: "timestamp(3) without time zone",
    Decimal: "numeric(65,30)",
    BigInt: "bigint",
    Float: "double precision",
  };
  const type = types[field.type];
  if (!type) throw new Error(`add a mapping for ${field.type}`);
  return field.isList ? `${type}[]` : type;
}

const ON_DELETE: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  SetNull: "SET NULL",
  NoAction: "NO ACTION",
  SetDefault: "SET DEFAULT",
};

let shop: TestShop;
let columns: { table: string; column: string; type: string; nullable: boolean; hasDefault: boolean }[];
let indexes: { table: string; columns: string[]; unique: boolean; primary: boolean }[];
let foreignKeys: { table: string; columns: string[]; refTable: string; refColumns: string[]; onDelete: string }[];

beforeAll(async () => {
  shop = await createTestShop();
  columns = await shop.prisma.$queryRaw`
    SELECT c.relname AS "table", a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS "type",
           NOT a.attnotnull AS nullable, a.atthasdef AS "hasDefault"
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'`;
  indexes = await shop.prisma.$queryRaw`
    SELECT t.relname AS "table", i.indisunique AS "unique", i.indisprimary AS "primary",
           ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord) AS columns
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'`;
  foreignKeys = await shop.prisma.$queryRaw`
    SELECT t.relname AS "table", r.relname AS "refTable",
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS "refColumns",
           CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' WHEN 'a' THEN 'NO ACTION' WHEN 'd' THEN 'SET DEFAULT' END AS "onDelete"
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
    WHERE c.contype = 'f'`;
});
afterAll(() => shop?.close());

/** Rows as canonical strings (keys sorted), in a stable order, so two lists compare as sets. */
const sortKeys = <T extends object>(rows: T[]) => rows.map((row) => JSON.stringify(row, Object.keys(row).sort())).sort();

describe("the migrated database matches schema.prisma", () => {
  it("has exactly the tables and columns, with their types, nullability and defaults", () => {
    const expected = dmmf.datamodel.models.flatMap((model) =>
      model.fields
        .filter((f) => f.kind !== "object")
        .map((f) => ({
          table: model.dbName ?? model.name,
          column: f.name,
          type: expectedType(f),
          nullable: !f.isRequired,
          hasDefault: f.hasDefaultValue,
        })),
    );
    expect(sortKeys(columns)).toEqual(sortKeys(expected));
  });

  it("has exactly the primary keys, unique constraints and indexes", () => {
    const expected = dmmf.datamodel.indexes.map((index) => ({
      table: index.model,
      columns: index.fields.map((f) => f.name),
      unique: index.type !== "normal",
      primary: index.type === "id",
    }));
    expect(sortKeys(indexes)).toEqual(sortKeys(expected));
  });

  it("has exactly the foreign keys, with their delete rules", () => {
    const expected = dmmf.datamodel.models.flatMap((model) =>
      model.fields
        .filter((f) => f.relationFromFields?.length)
        .map((f) => ({
          table: model.name,
          refTable: f.type,
          columns: f.relationFromFields!,
          refColumns: f.relationToFields!,
          onDelete: ON_DELETE[f.relationOnDelete ?? "Restrict"]!,
        })),
    );
    expect(sortKeys(foreignKeys)).toEqual(sortKeys(expected));
  });

  it("has the enums with their values in order", async () => {
    const rows = await shop.prisma.$queryRaw<{ name: string; values: string[] }[]>`
      SELECT t.typname AS name, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS values
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'`;
    expect(rows).toEqual(dmmf.datamodel.enums.map((e) => ({ name: e.name, values: e.values.map((v) => v.name) })));
  });

  it("enforces the CHECK constraints added by hand", async () => {
    const user = await shop.prisma.user.create({ data: { name: "C", email: "check@example.com" } });
    const product = await shop.prisma.product.create({ data: { name: "P", price: "1.00", category: "X", stock: 1 } });
    const order = await shop.prisma.order.create({ data: { userId: user.id } });
    await expect(shop.prisma.product.update({ where: { id: product.id }, data: { stock: -1 } })).rejects.toThrow(
      /Product_stock_check/,
    );
    await expect(shop.prisma.product.update({ where: { id: product.id }, data: { price: "-0.01" } })).rejects.toThrow(
      /Product_price_check/,
    );
    await expect(
      shop.prisma.orderItem.create({ data: { orderId: order.id, productId: product.id, quantity: 0, unitPrice: "1.00" } }),
    ).rejects.toThrow(/OrderItem_quantity_check/);
  });
});

describe("the migration runner", () => {
  it("records each migration the way Prisma does, and applies nothing twice", async () => {
    const onDisk = await readMigrations();
    const rows = await shop.prisma.$queryRaw<
      { migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]
    >`
      SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`;
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(onDisk.map((m) => [m.name, m.checksum]));
    expect(rows.every((r) => r.finished_at instanceof Date && r.applied_steps_count === 1)).toBe(true);
    expect(await migrate(shop.app.db)).toEqual([]);
  });

  it("rolls back a failing migration completely and records nothing", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, cpSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "migrations-"));
    cpSync(new URL("../prisma/migrations", import.meta.url), dir, { recursive: true });
    mkdirSync(join(dir, "29990101000000_broken"));
    writeFileSync(
      join(dir, "29990101000000_broken", "migration.sql"),
      `CREATE TABLE "Half" (id INT);\nSELECT * FROM "NoSuchTable";\n`,
    );
    await expect(migrate(shop.app.db, dir)).rejects.toThrow(/NoSuchTable/);
    const half = await shop.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_class WHERE relname = 'Half'`;
    expect(Number(half[0]!.n)).toBe(0);
    const recorded = await shop.prisma.$queryRaw<
      { n: bigint }[]
    >`SELECT count(*) AS n FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`;
    expect(Number(recorded[0]!.n)).toBe(0);
  });
});
