/** MAX_BODY_BYTES, by the declared length: a larger body is refused with 413 before it is read. */
import type { Plugin } from "graphql-yoga";
import { limitExceeded } from "../limits/index.js";

/** Refuses a body over the limit by its declared length (src/http/server.ts refuses bodies of unknown length). */
export function useBodyLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length <= maxBytes) return;
      const error = limitExceeded("bodyBytes", maxBytes, length, "The request body is too large");
      endResponse(
        new fetchAPI.Response(
          JSON.stringify({ errors: [{ message: error.message, extensions: { ...error.extensions, http: undefined } }] }),
          {
            status: 413,
            headers: { "content-type": "application/json; charset=utf-8", connection: "close" },
          },
        ),
      );
    },
  };
}
