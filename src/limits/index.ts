/**
 * What one request may cost, checked before anything executes: tokens while parsing, then depth,
 * aliases, directives, the ids given to `nodes` and the estimated cost (see cost.ts) as validation
 * rules. A refused operation runs no SQL; its error is LIMIT_EXCEEDED, naming the limit, the maximum
 * and the value found.
 */
import {
  type ASTVisitor,
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

function shapeRule(limits: Limits, variables: Record<string, unknown>) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const { aliases, directives } = countIn(context, operation.selectionSet, new Set());
      const found = aliases > limits.aliases ? "aliases" : directives > limits.directives ? "directives" : undefined;
      if (found === "aliases") context.reportError(limitExceeded("aliases", limits.aliases, aliases, "Too many aliases"));
      if (found === "directives")
        context.reportError(limitExceeded("directives", limits.directives, directives, "Too many directives"));
    },
    Field(field) {
      if (field.name.value !== "nodes" || context.getParentType()?.name !== "Query") return;
      const ids = field.arguments?.find((arg) => arg.name.value === "ids");
      const count = ids ? idCount(ids.value, variables) : 0;
      if (count > limits.nodeIds) context.reportError(limitExceeded("nodeIds", limits.nodeIds, count, "Too many ids for nodes"));
    },
  });
}

/** The envelop plugin that applies the limits; the context is the request's (the cost may depend on it). */
export function useLimits(limits: Limits): Plugin {
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
    onValidate({ addValidationRule, context }) {
      const variables = ((context as { params?: { variables?: Record<string, unknown> } }).params?.variables ?? {}) as Record<
        string,
        unknown
      >;
      addValidationRule(shapeRule(limits, variables));
      addValidationRule(
        (validation: ValidationContext): ASTVisitor => ({
          OperationDefinition(operation: OperationDefinitionNode) {
            const root = validation.getSchema().getRootType(operation.operation);
            if (!root) return;
            const { cost, depth } = estimate(validation, operation.selectionSet, root, variables, context);
            if (depth > limits.depth)
              validation.reportError(limitExceeded("depth", limits.depth, depth, "The query is too deep"));
            else if (cost > limits.cost)
              validation.reportError(limitExceeded("cost", limits.cost, cost, "The query may load too much"));
          },
        }),
      );
    },
  };
}
