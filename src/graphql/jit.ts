/**
 * Compiled execution: queries and mutations run as a function graphql-jit compiles once per
 * document and operation, instead of graphql-js walking the document for every object. What the
 * compiler does not do stays with graphql-js: subscriptions, and documents with `@defer`/`@stream`
 * (incremental delivery). A document the compiler refuses runs on graphql-js too.
 *
 * (Not `@envelop/graphql-jit`: it keeps one compilation per document whatever the operation, so a
 * document with several operations, as GraphiQL sends them, would run the first one it compiled.)
 */
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isScalarType,
  isSpecifiedScalarType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import type { Plugin } from "graphql-yoga";

/**
 * True when a document is one the compiler would run differently from graphql-js: it asks for
 * incremental delivery (`@defer`/`@stream`), or writes a value of a custom scalar inline (graphql-jit
 * bakes inline arguments into its code as JSON, so `price: "19.99"` would reach the resolver as a
 * string instead of the Decimal the scalar made of it; as a variable it is parsed on each run).
 */
function onlyGraphqlJs(schema: GraphQLSchema, document: DocumentNode): boolean {
  let found = false;
  const types = new TypeInfo(schema);
  const customScalar = () => {
    const type = types.getInputType();
    return (
      type !== null &&
      type !== undefined &&
      isScalarType(getNamedType(type)) &&
      !isSpecifiedScalarType(getNamedType(type) as never)
    );
  };
  visit(
    document,
    visitWithTypeInfo(types, {
      Directive(node) {
        if (node.name.value === "defer" || node.name.value === "stream") found = true;
      },
      Argument(node) {
        if (node.value.kind !== Kind.VARIABLE && customScalar()) found = true;
      },
      ObjectField(node) {
        if (node.value.kind !== Kind.VARIABLE && customScalar()) found = true;
      },
      ListValue(node) {
        if (customScalar() && node.values.some((value) => value.kind !== Kind.VARIABLE)) found = true;
      },
    }),
  );
  return found;
}

/**
 * The variables' errors as graphql-js reports them (its messages, checked before anything runs) and
 * as yoga's executor marks them: a request error, HTTP 400. graphql-jit checks them too, but says it
 * in its own words and without the mark.
 */
function variableErrors(args: ExecutionArgs): ExecutionResult | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation?.variableDefinitions?.length) return undefined;
  const coerced = getVariableValues(args.schema, operation.variableDefinitions, args.variableValues ?? {}, { maxErrors: 50 });
  if (!coerced.errors) return undefined;
  return {
    errors: coerced.errors.map(
      (error) =>
        new GraphQLError(error.message, {
          nodes: error.nodes,
          extensions: { ...error.extensions, http: { status: 400 } },
        }),
    ),
  };
}

/**
 * The envelop plugin: each query or mutation of a document without `@defer`/`@stream` runs compiled.
 * Compilations are kept with their document (which yoga's parse cache keeps), one per operation.
 */
export function useJit(): Plugin {
  const byDocument = new WeakMap<DocumentNode, { incremental: boolean; operations: Map<string, CompiledQuery | null> }>();
  const compiled = (args: ExecutionArgs): CompiledQuery | null => {
    let entry = byDocument.get(args.document);
    if (!entry) {
      entry = { incremental: onlyGraphqlJs(args.schema, args.document), operations: new Map() };
      byDocument.set(args.document, entry);
    }
    if (entry.incremental) return null;
    const name = args.operationName ?? "";
    let query = entry.operations.get(name);
    if (query === undefined) {
      const operation = getOperationAST(args.document, args.operationName);
      const result =
        operation && operation.operation !== "subscription" && operation.kind === Kind.OPERATION_DEFINITION
          ? compileQuery(args.schema, args.document, args.operationName ?? undefined, { disablingCapturingStackErrors: true })
          : undefined;
      query = result && isCompiledQuery(result) ? result : null;
      entry.operations.set(name, query);
    }
    return query;
  };
  return {
    onExecute({ args, setExecuteFn }) {
      const query = compiled(args);
      if (!query) return;
      setExecuteFn(
        (run) => variableErrors(run) ?? (query.query(run.rootValue, run.contextValue, run.variableValues ?? {}) as never),
      );
    },
  };
}
