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
  Lexer,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  Source,
  type Token,
  TokenKind,
  type ValidationContext,
} from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import type { Limits } from "../config.js";
import { ShopError } from "../errors.js";
import { type Estimate, estimate } from "./cost.js";

/** A refused request: which limit, its maximum, and what the request would have needed. */
export function limitExceeded(limit: string, max: number, value: number, message: string): ShopError {
  return new ShopError("LIMIT_EXCEEDED", `${message} (${limit}: ${value}, at most ${max}).`, {
    limit,
    max,
    value,
    http: { status: 400 },
  });
}

/**
 * Counts aliases and directives over an operation, its fragments included (each fragment once per
 * use). Linear in the document: a fragment is counted once and its counts reused at every spread.
 */
function shapeOf(context: ValidationContext, operation: OperationDefinitionNode): Shape {
  const byFragment = new Map<string, Shape>();
  const count = (selectionSet: SelectionSetNode): Shape => {
    let aliases = 0;
    let directives = 0;
    for (const selection of selectionSet.selections) {
      directives += selection.directives?.length ?? 0;
      let inner: Shape | undefined;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) aliases++;
        if (selection.selectionSet) inner = count(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = count(selection.selectionSet);
      } else {
        inner = fragment(selection.name.value);
      }
      if (inner) {
        aliases += inner.aliases;
        directives += inner.directives;
      }
    }
    return { aliases, directives };
  };
  const fragment = (name: string): Shape => {
    const known = byFragment.get(name);
    if (known) return known;
    // Marked before counting: a fragment that spreads itself is the validator's to report, not ours to loop on.
    byFragment.set(name, { aliases: 0, directives: 0 });
    const definition = context.getFragment(name);
    const inner = definition ? count(definition.selectionSet) : { aliases: 0, directives: 0 };
    const found = { aliases: inner.aliases, directives: inner.directives + (definition?.directives?.length ?? 0) };
    byFragment.set(name, found);
    return found;
  };
  return count(operation.selectionSet);
}

interface Shape {
  aliases: number;
  directives: number;
}

/** Aliases and directives: they depend on the document alone, so the validation cache may keep the verdict. */
function shapeRule(limits: Limits) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const { aliases, directives } = shapeOf(context, operation);
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
  let found: Estimate;
  try {
    found = estimate(args.schema, fragments, operation.selectionSet, root, variables, args.contextValue);
  } catch (error) {
    if (error instanceof GraphQLError) return error;
    throw error;
  }
  const { cost, depth, nodeIds } = found;
  if (nodeIds > limits.nodeIds) return limitExceeded("nodeIds", limits.nodeIds, nodeIds, "Too many ids for nodes");
  if (depth > limits.depth) return limitExceeded("depth", limits.depth, depth, "The query is too deep");
  if (cost > limits.cost) return limitExceeded("cost", limits.cost, cost, "The query may load too much");
  return undefined;
}

/**
 * How deeply brackets may nest in a document: far more than any selection under MAX_DEPTH (100 at
 * most) with its arguments needs, far less than what overflows graphql-js's recursive parser (a
 * 4.8 KB list literal nested 2,400 times would, well under the token limit).
 */
export const MAX_NESTING = 256;

/** Refuses a document whose `{`, `[` and `(` nest deeper than MAX_NESTING, before the parser recurses into it. */
function checkNesting(source: string | Source, maxTokens: number): void {
  const lexer = new Lexer(typeof source === "string" ? new Source(source) : source);
  let depth = 0;
  // Past the token limit the parser itself refuses the document (a LIMIT_EXCEEDED of its own).
  for (let tokens = 0; tokens <= maxTokens; tokens++) {
    let token: Token;
    try {
      token = lexer.advance();
    } catch {
      return; // a syntax error: the parser reports it, with its location
    }
    if (token.kind === TokenKind.EOF) return;
    if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
      if (++depth > MAX_NESTING) throw limitExceeded("nesting", MAX_NESTING, depth, "The document nests too deeply");
    } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) {
      depth--;
    }
  }
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
  // Requests whose single operation a limit refused (see onResponse).
  const refused = new WeakSet<Request>();
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        try {
          checkNesting(source, limits.tokens);
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
    /**
     * A refusal answers 400 whichever phase refused it and whatever the client accepts: yoga answers
     * an `application/json` client's parse and validation errors with 200, as the GraphQL-over-HTTP
     * spec allows for its own errors, which would make too many aliases 200 and too deep 400.
     */
    onResultProcess({ request, result }) {
      if (Array.isArray(result) || isAsyncIterable(result)) return;
      if ((result as ExecutionResult).errors?.some((error) => error.extensions?.code === "LIMIT_EXCEEDED")) refused.add(request);
    },
    onResponse({ request, response, setResponse, fetchAPI }) {
      if (response.status !== 200 || !refused.has(request)) return;
      setResponse(new fetchAPI.Response(response.body, { status: 400, headers: response.headers }));
    },
  };
}
