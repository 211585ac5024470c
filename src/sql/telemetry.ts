/**
 * Optional OpenTelemetry traces, on when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is
 * set (sent as OTLP/HTTP JSON): a span per request, per root field (and `totalCount`), per loader batch and per SQL
 * statement, with the same attribution `extensions.sql` shows, so Jaeger or Tempo draws the same
 * picture as the response. The exporter takes the standard OTEL_* settings (headers, service name).
 *
 * Everything here goes through `@opentelemetry/api`: with no provider registered its spans are
 * no-ops, and the SQL and loader spans are not even made (`tracing()` is false).
 */
import { context, propagation, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * The tracer, looked up at each span: OpenTelemetry's own proxy tracer keeps the first provider it
 * met, so spans would go to a stopped provider after a restart in the same process (tests).
 */
export const tracer: Tracer = {
  startSpan: (...args: Parameters<Tracer["startSpan"]>) => trace.getTracer("shop-api").startSpan(...args),
  startActiveSpan: ((...args: unknown[]) =>
    (trace.getTracer("shop-api").startActiveSpan as (...a: unknown[]) => unknown)(...args)) as Tracer["startActiveSpan"],
};

let active = false;

/** Whether spans are being recorded: a provider was started by `startTelemetry`. */
export function tracing(): boolean {
  return active;
}

/**
 * Starts recording spans and exporting them: over OTLP/HTTP to `to`, or to an exporter (tests pass
 * an in-memory one). Returns how to flush and stop. One provider per process, as OpenTelemetry's
 * global API allows.
 */
export async function startTelemetry(serviceName: string, to: string | SpanExporter): Promise<() => Promise<void>> {
  const [{ NodeTracerProvider }, { BatchSpanProcessor, SimpleSpanProcessor }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
  ]);
  const processor =
    typeof to === "string"
      ? new BatchSpanProcessor(new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter({ url: to }))
      : new SimpleSpanProcessor(to);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": process.env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [processor],
  });
  if (active) throw new Error("OpenTelemetry is already started in this process: stop the other app first.");
  provider.register();
  active = true;
  return async () => {
    active = false;
    try {
      await provider.shutdown();
    } finally {
      trace.disable();
      context.disable();
      propagation.disable();
    }
  };
}

/** Runs `fn` in a span, ended when `fn` settles, with its error recorded. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  kind: SpanKind,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** What the request's span reads of the request's context (src/graphql/context.ts). */
interface Traced {
  strategy: string;
  sql: { statements: readonly unknown[] };
}

/**
 * The request's span (`POST /graphql`, a server span), named for its operation once known, with
 * the strategy and the number of statements it sent. Resolver, loader and SQL spans nest under it.
 */
export function useTelemetry(): Plugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) =>
        inSpan(
          `${request.method} ${new URL(request.url).pathname}`,
          { "http.request.method": request.method, "url.path": new URL(request.url).pathname },
          SpanKind.SERVER,
          async () => {
            await wrapped();
          },
        ),
    },
    onExecute: ({ args }) => {
      const span = trace.getActiveSpan();
      const ctx = args.contextValue as unknown as Traced;
      const operation = getOperationAST(args.document, args.operationName);
      span?.setAttributes({
        "graphql.operation.type": operation?.operation ?? "unknown",
        ...(operation?.name ? { "graphql.operation.name": operation.name.value } : {}),
        "shop.strategy": ctx.strategy,
      });
      if (operation?.name) span?.updateName(`${operation.operation} ${operation.name.value}`);
      return { onExecuteDone: () => void span?.setAttribute("shop.sql.count", ctx.sql.statements.length) };
    },
  };
}
export { SpanKind };
