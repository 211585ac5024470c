/**
 * What one request may cost, checked before anything executes: tokens while parsing, then depth,
 * aliases, directives, the ids given to `nodes` and the estimated cost (see cost.ts) as validation
 * rules. A refused operation runs no SQL; its error is LIMIT_EXCEEDED, naming the limit, the maximum
 * and the value found.
 */
import {
  type ASTVisitor,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Limits } from "../config.js";
import { estimate } from "./cost.js";

/** A refused request: which limit, its maximum, and what the request would have needed. */
export function limitExceeded(limit: string, max: number, value: number, message: string): GraphQLError {
  return new GraphQLError(`${message} (${limit}: ${value}, at most ${max}).`, {
    extensions: { code: "LIMIT_EXCEEDED", limit, max, value, http: { status: 400 } },
  });
}

/** Counts aliases and directives over an operation, its fragments included (each fragment once per use). */
function countIn(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  seen: Set<string>,
): { aliases: number; directives: number } {
  let aliases = 0;
  let directives = 0;
  for (const selection of selectionSet.selections) {
    directives += selection.directives?.length ?? 0;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) aliases++;
      if (selection.selectionSet) {
        const inner = countIn(context, selection.selectionSet, seen);
        aliases += inner.aliases;
        directives += inner.directives;
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const inner = countIn(context, selection.selectionSet, seen);
      aliases += inner.aliases;
      directives += inner.directives;
    } else {
      const fragment = context.getFragment(selection.name.value);
      // A fragment that spreads itself is the validator's to report, not ours to loop on.
      if (!fragment || seen.has(fragment.name.value)) continue;
      const inner = countIn(context, fragment.selectionSet, new Set([...seen, fragment.name.value]));
      aliases += inner.aliases;
      directives += inner.directives + (fragment.directives?.length ?? 0);
    }
  }
  return { aliases, directives };
}

/** How many ids a `nodes(ids:)` argument holds, literal or variable. */
function idCount(value: ValueNode, variables: Record<string, unknown>): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const given = variables[value.name.value];
    return Array.isArray(given) ? given.length : 0;
  }
  return 1;
}

/** Aliases and directives: they depend on the document alone, so the validation cache may keep the verdict. */
function shapeRule(limits: Limits) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const { aliases, directives } = countIn(context, operation.selectionSet, new Set());
      if (aliases > limits.aliases) context.reportError(limitExceeded("aliases", limits.aliases, aliases, "Too many aliases"));
      else if (directives > limits.directives) {
        context.reportError(limitExceeded("directives", limits.directives, directives, "Too many directives"));
      }
    },
  });
}

/** The operation an execution runs, and the fragments it may spread. */
function operationOf(document: DocumentNode, operationName: string | null | undefined) {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    else if (definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName)) {
      operation ??= definition;
    }
  }
  return { operation, fragments };
}

/**
 * Depth, cost and the ids given to `nodes` depend on the variables (`first: $n`, `ids: $ids`), so
 * they are checked for each execution, just before it starts, not in the cached validation.
 */
function executionLimits(limits: Limits, args: ExecutionArgs): GraphQLError | undefined {
  const { operation, fragments } = operationOf(args.document, args.operationName);
  const root = operation && args.schema.getRootType(operation.operation);
  if (!operation || !root) return undefined;
  const variables = (args.variableValues ?? {}) as Record<string, unknown>;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.name.value !== "nodes" || operation.operation !== "query") continue;
    const ids = selection.arguments?.find((arg) => arg.name.value === "ids");
    const count = ids ? idCount(ids.value, variables) : 0;
    if (count > limits.nodeIds) return limitExceeded("nodeIds", limits.nodeIds, count, "Too many ids for nodes");
  }
  const { cost, depth } = estimate(args.schema, fragments, operation.selectionSet, root, variables, args.contextValue);
  if (depth > limits.depth) return limitExceeded("depth", limits.depth, depth, "The query is too deep");
  if (cost > limits.cost) return limitExceeded("cost", limits.cost, cost, "The query may load too much");
  return undefined;
}

/** The envelop plugin that applies the limits. */
export function useLimits(limits: Limits): Plugin {
  const check = ({
    args,
    setResultAndStopExecution,
  }: {
    args: ExecutionArgs;
    setResultAndStopExecution(result: ExecutionResult): void;
  }) => {
    const error = executionLimits(limits, args);
    if (error) setResultAndStopExecution({ errors: [error] });
  };
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parse(source, { ...options, maxTokens: limits.tokens });
        } catch (error) {
          if (error instanceof GraphQLError && /contains more th\w* \d+ tokens/.test(error.message)) {
            throw limitExceeded("tokens", limits.tokens, limits.tokens + 1, "The document is too long");
          }
          throw error;
        }
      });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(shapeRule(limits));
    },
    onExecute: check,
    onSubscribe: check,
  };
}
