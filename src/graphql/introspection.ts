/** INTROSPECTION=0: the schema cannot be read, nor guessed from error messages. */
import { type ExecutionResult, GraphQLError, NoSchemaIntrospectionCustomRule } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";

/** graphql-js's "Did you mean …?" hints: with introspection off they would spell out the schema. */
const SUGGESTION = / ?Did you mean [^?]*\?$/;

function withoutSuggestion(error: Error): GraphQLError {
  const { nodes, path, extensions } = error as GraphQLError;
  if (!SUGGESTION.test(error.message) && error instanceof GraphQLError) return error;
  return new GraphQLError(error.message.replace(SUGGESTION, ""), { nodes, path, extensions });
}

/**
 * Introspection off, on every transport: the validation rule refuses `__schema` and `__type`
 * (yoga's own plugin decides per HTTP request, so a WebSocket operation slipped past it), and the
 * suggestions that would name fields, arguments and values go from every error.
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result, setResult }) => {
        if (result.some((error) => SUGGESTION.test(error.message))) setResult(result.map(withoutSuggestion));
      };
    },
    onExecutionResult({ result, setResult }) {
      if (isAsyncIterable(result) || Array.isArray(result)) return;
      const errors = (result as ExecutionResult).errors;
      if (errors?.some((error) => SUGGESTION.test(error.message))) {
        setResult({ ...(result as ExecutionResult), errors: errors.map(withoutSuggestion) });
      }
    },
  };
}
