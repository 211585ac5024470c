/** MAX_BATCH: how many operations one JSON-array request may carry. */
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { limitExceeded } from "../limits/index.js";

/** JSON-array batching up to `max` operations; a larger batch is refused whole, before any runs. */
export function useBatchLimit(max: number): Plugin {
  return {
    onRequestParse: () => ({
      onRequestParseDone({ requestParserResult }) {
        if (Array.isArray(requestParserResult) && requestParserResult.length > max) {
          const error = limitExceeded("batch", max, requestParserResult.length, "Too many operations in one batch");
          throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 413 } } });
        }
      },
    }),
  };
}
