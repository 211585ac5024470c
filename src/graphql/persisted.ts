/**
 * Persisted operations: the client's trusted documents (PERSISTED_OPERATIONS=only runs nothing
 * else), or automatic persisted queries seeded with them.
 */
import { useAPQ } from "@graphql-yoga/plugin-apq";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { GraphQLError } from "graphql";
import { createLRUCache, type Plugin } from "graphql-yoga";
import type { Config } from "../config.js";

/**
 * A hash as the server keeps it: codegen's trusted-documents manifest names operations
 * `sha256:<hex>`, Apollo's automatic persisted queries send the bare `<hex>`; both name one document.
 */
export const bareHash = (hash: string) => hash.replace(/^sha256:/, "");

/**
 * Persisted-query requests the plugins below would misread: only version 1 of the extension exists
 * (an unknown version was run as a plain query), and a `sha256:` hash is taken as the bare one.
 */
function usePersistedQueryExtension(): Plugin {
  return {
    onParams({ params, setParams }) {
      const persisted = (params.extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery;
      if (persisted === undefined || persisted === null) return;
      const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
      if (version !== 1 || typeof sha256Hash !== "string") {
        throw new GraphQLError("Only version 1 of the persistedQuery extension, with a sha256Hash string, is supported.", {
          extensions: { code: "PERSISTED_QUERY_NOT_SUPPORTED", http: { status: 400 } },
        });
      }
      if (sha256Hash.startsWith("sha256:")) {
        setParams({
          ...params,
          extensions: { ...params.extensions, persistedQuery: { version, sha256Hash: bareHash(sha256Hash) } },
        });
      }
    },
  };
}

const onlyTrusted = (code: string, what: string) => ({
  message: `This server runs only its clients' trusted documents (PERSISTED_OPERATIONS=only): ${what}.`,
  extensions: { code, http: { status: 400 } },
});

/** The trusted documents, or APQ (seeded with them) when the server also runs other operations. */
export function persistedOperationPlugins(config: Config, documents: Record<string, string>): Plugin[] {
  const trusted = new Map(Object.entries(documents).map(([hash, document]) => [bareHash(hash), document]));
  if (config.persistedOperations.mode === "only") {
    return [
      usePersistedQueryExtension(),
      usePersistedOperations({
        getPersistedOperation: (hash) => trusted.get(bareHash(hash)) ?? null,
        allowArbitraryOperations: false,
        // The plugin's codes, with a sentence that says what to send instead, and 400 (a request
        // error) for every kind of client: yoga would answer application/json clients 200.
        customErrors: {
          persistedQueryOnly: onlyTrusted("CANNOT_SEND_PQ_ID_AND_BODY", "send its hash, not its text"),
          keyNotFound: onlyTrusted("PERSISTED_QUERY_ID_REQUIRED", "send its hash in extensions.persistedQuery"),
          notFound: onlyTrusted("PERSISTED_QUERY_NOT_IN_LIST", "this hash names none of them"),
        },
      }),
    ];
  }
  const store = createLRUCache<string>({ max: 1000 + trusted.size, ttl: 0 });
  for (const [hash, document] of trusted) store.set(hash, document);
  return [usePersistedQueryExtension(), useAPQ({ store })];
}
