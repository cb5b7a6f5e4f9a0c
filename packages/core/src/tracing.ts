import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

/**
 * Traces through `@opentelemetry/api` only: a no-op until the operator installs and starts an OpenTelemetry
 * SDK (see the README), then one span per Konnect operation and a child span per IdP call, with the W3C
 * trace context sent to the IdP. Attributes never hold a secret: operation names, adapter ids, request ids,
 * methods, hosts and status codes, error codes.
 */
const tracer = trace.getTracer('@dcr-bridge/core');

/** Runs `work` inside a span named `name`; the span ends with the work, marked as an error when it throws. */
export async function inSpan<T>(
  name: string,
  kind: 'operation' | 'idp',
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: kind === 'idp' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : 'error' });
      if (typeof code === 'string') span.setAttribute('error.type', code);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Adds the active trace context to outgoing headers (`traceparent`, `tracestate`), when a propagator is set. */
export function injectTraceContext(headers: Record<string, string>): void {
  propagation.inject(context.active(), headers);
}
