/** CSRF: a POST a browser form could send (no preflight) is refused without the x-graphql-csrf header. */
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * A form or multipart POST from another site can run a mutation without a CORS preflight; such a
 * POST needs a header a browser form cannot set. GETs pass: they never run mutations.
 */
export function useFormPostProtection(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ["x-graphql-csrf"] });
  return {
    onRequestParse(payload) {
      if (payload.request.method === "GET") return;
      try {
        return csrf.onRequestParse?.(payload);
      } catch {
        throw new GraphQLError("A form or text POST needs the x-graphql-csrf header; send JSON, or add the header.", {
          extensions: { code: "BAD_REQUEST", http: { status: 403 } },
        });
      }
    },
  };
}
