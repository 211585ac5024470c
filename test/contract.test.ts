/** The published contract: the committed SDL is current, and everything in it is described. */
import { readFileSync } from "node:fs";
import {
  buildClientSchema,
  type GraphQLArgument,
  type GraphQLEnumValue,
  type GraphQLField,
  type GraphQLInputField,
  getIntrospectionQuery,
  type IntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  lexicographicSortSchema,
  printSchema,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printedSchema, SCHEMA_FILE } from "../src/cli/print-schema.js";
import { schema } from "../src/graphql/schema/index.js";
import { createTestShop, dataOf, type TestShop } from "./support/shop.js";

let shop: TestShop;
beforeAll(async () => {
  shop = await createTestShop({ seed: false });
});
afterAll(() => shop?.close());

describe("src/schema.graphql", () => {
  it("is up to date (run `npm run schema:print` after changing the schema)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(printedSchema());
  });

  it("is the schema the server serves, directives included (@defer, @stream, @specifiedBy)", async () => {
    const introspection = dataOf<IntrospectionQuery>(
      await shop.gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true })),
    );
    const served = printSchema(lexicographicSortSchema(buildClientSchema(introspection)));
    expect(`${served}\n`).toBe(readFileSync(SCHEMA_FILE, "utf8"));
    expect(served).toContain("directive @defer(");
    expect(served).toContain("directive @stream(");
    expect(served).toContain(
      'scalar SafeInt @specifiedBy(url: "https://www.ecma-international.org/ecma-262/#sec-number.issafeinteger")',
    );
  });

  it("describes every type, field, argument, input field and enum value", () => {
    const missing: string[] = [];
    const check = (coordinate: string, description: string | null | undefined) => {
      if (!description?.trim()) missing.push(coordinate);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
      check(type.name, type.description);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
          check(`${type.name}.${field.name}`, field.description);
          for (const arg of field.args as GraphQLArgument[]) check(`${type.name}.${field.name}(${arg.name}:)`, arg.description);
        }
      }
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields()) as GraphQLInputField[])
          check(`${type.name}.${field.name}`, field.description);
      }
      if (isEnumType(type)) {
        for (const value of type.getValues() as GraphQLEnumValue[]) check(`${type.name}.${value.name}`, value.description);
      }
    }
    expect(missing).toEqual([]);
  });
});
