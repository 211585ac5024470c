/**
 * Which database a request reads from, when there are read replicas (DATABASE_REPLICA_URLS): a
 * query reads from a replica unless its caller wrote something in the last moments, so that
 * a client always reads its own writes; a mutation (with the re-read of what it returns) and a
 * subscription's events stay on the primary. The choice is made once the operation is known, on
 * the request's SQL record, which src/db/replicas.ts reads for every statement.
 */
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { RecentWriters } from "../db/replicas.js";
import type { Context } from "./context.js";

export function useReadReplicas(writers: RecentWriters): Plugin<Context> {
  return {
    async onExecute({ args }) {
      const context = args.contextValue as Context;
      const operation = getOperationAST(args.document, args.operationName)?.operation;
      if (operation === "mutation") {
        return { onExecuteDone: () => writers.wrote(context.caller.key) };
      }
      if (operation === "query" && !(await writers.wroteLately(context.caller.key))) context.sql.readFrom = "replica";
      return undefined;
    },
  };
}
