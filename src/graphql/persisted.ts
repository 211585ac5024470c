/**
 * Persisted operations: the client's trusted documents (PERSISTED_OPERATIONS=only runs nothing
 * else), or automatic persisted queries seeded with them.
 */
import { type APQStore, useAPQ } from "@graphql-yoga/plugin-apq";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { GraphQLError } from "graphql";
import { createLRUCache, type Plugin } from "graphql-yoga";
import type { Redis } from "ioredis";
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

/**
 * The trusted documents, or APQ (which knows them too) when the server also runs other operations;
 * with `redis`, a document registered on one instance is known to all.
 */
export function persistedOperationPlugins(config: Config, documents: Record<string, string>, redis?: Redis): Plugin[] {
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
  return [usePersistedQueryExtension(), useAPQ({ store: apqStore(trusted, redis) })];
}

/** How long Redis keeps a registered document after it was last registered: a day. */
export const APQ_TTL_SECONDS = 86_400;
const APQ_KEY = "shop-apq:";

/**
 * Where registered documents are kept: the trusted ones always; the others in this process (1,000
 * at most, the most recent) and, with Redis, for every instance, so that a client registers a
 * document once and not once per instance behind the balancer. The plugin checks a document's hash
 * before it stores it, so what Redis holds was sent by some client with that very hash. Redis out of
 * reach costs a round trip, never an answer: a document Redis cannot give is unknown
 * (PERSISTED_QUERY_NOT_FOUND, and the client sends its text again).
 */
function apqStore(trusted: Map<string, string>, redis: Redis | undefined): APQStore {
  const local = createLRUCache<string>({ max: 1000, ttl: 0 });
  return {
    async get(hash) {
      const known = trusted.get(hash) ?? local.get(hash);
      if (known !== undefined || !redis) return known;
      const shared = await redis.get(APQ_KEY + hash).catch(() => null);
      if (shared !== null) local.set(hash, shared);
      return shared;
    },
    set(hash, document) {
      local.set(hash, document);
      redis?.set(APQ_KEY + hash, document, "EX", APQ_TTL_SECONDS).catch(() => undefined);
    },
  };
}
