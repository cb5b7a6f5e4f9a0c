import type { IncomingHttpHeaders } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

/**
 * Traces through `@opentelemetry/api` only: a no-op until the operator installs and starts an OpenTelemetry
 * SDK (see the README), then one span per Konnect operation and a child span per IdP call, with the W3C
 * trace context sent to the IdP; an operation continues the trace its caller sent (Konnect's `traceparent`).
 * Attributes never hold a secret: operation names, adapter ids, request ids, methods, hosts, route templates
 * and status codes, error codes.
 */
const tracer = trace.getTracer('@dcr-bridge/core');

/**
 * Runs `work` inside a span named `name`; the span ends with the work, marked as an error when it throws. Its
 * parent is the active span, or the span in `parent` (a request's incoming trace context) when given.
 */
export async function inSpan<T>(
  name: string,
  kind: 'operation' | 'idp',
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const options = { kind: kind === 'idp' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes };
  return tracer.startActiveSpan(name, options, parent, async (span) => {
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

/**
 * The trace context a request continues: the active one when a span is already under way (an HTTP server
 * instrumentation made one for this request, having read its headers itself), else the one the caller sent
 * (`traceparent`, `tracestate`), read by whatever propagator the process registered (W3C trace context with
 * the OpenTelemetry SDK's defaults). Without an SDK: the empty context, at no cost.
 */
export function incomingTraceContext(headers: IncomingHttpHeaders): Context {
  const active = context.active();
  return trace.getSpan(active) ? active : propagation.extract(active, headers);
}
