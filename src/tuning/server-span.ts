import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import parseForwarded from 'forwarded-parse';
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { routeTemplate } from '../http/route-template';
import { isUntrackedPath } from '../http/untracked-paths';
import { redactQuery } from '../telemetry/redact-url';

/**
 * The request's server span without the http instrumentation, which replaces it when
 * CLOUDMART_TUNING is on (docs/benchmark.md, "A cheaper server span"). The span is the one
 * the instrumentation makes: named "GET /api/products" by route, the stable HTTP server
 * attributes, W3C trace context continued from the request's headers, the RPC metadata
 * request-span.ts reads, error.type and status ERROR on a 5xx.
 *
 * What it leaves out is the per-request cost the instrumentation pays whether or not the
 * span is sampled: binding both emitters to the context (eight listener methods patched on
 * each of `req` and `res`), a WHATWG URL parse of every request (here only of a path the
 * parse would change), and its hooks. Neither binding is needed here: the request's end
 * listener closes over its span, the request observer captures its trace ids before the
 * handlers run, and Express's body parser (raw-body) returns to the caller's async context
 * on its own.
 */
export function traceServerRequests(untrackedPaths: readonly string[], redactedQueryParams: readonly string[]): void {
  if (installed) return;
  installed = true;
  const tracer = trace.getTracer('cloudmart-server-span');
  const redacted = new Set(redactedQueryParams);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- always called with the server as `this`
  const emit = Server.prototype.emit;

  Server.prototype.emit = function emitRequest(this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request') return emit.call(this, event, ...args);
    const req = args[0] as IncomingMessage;
    const res = args[1] as ServerResponse;
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
    if (isUntrackedPath(rawPath, untrackedPaths)) return emit.call(this, event, ...args);
    const query = queryAt === -1 ? undefined : target.slice(queryAt + 1).split('#', 1)[0];

    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const method = normalizeMethod(req.method);
    const span = tracer.startSpan(
      req.method ?? 'GET',
      { kind: SpanKind.SERVER, attributes: requestAttributes(req, method, urlPath(target, rawPath), query, redacted) },
      parent,
    );
    res.once('close', () => endServerSpan(span, req, res));
    const ctx = setRPCMetadata(trace.setSpan(parent, span), { type: RPCType.HTTP, span });
    return context.with(ctx, emit, this, event, ...args);
  } as typeof Server.prototype.emit;
}

let installed = false;

function endServerSpan(span: Span, req: IncomingMessage, res: ServerResponse): void {
  const status = res.statusCode;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) {
    span.setAttribute(ATTR_ERROR_TYPE, String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  const route = routeTemplate(req);
  if (route !== undefined) {
    span.setAttribute(ATTR_HTTP_ROUTE, route);
    span.updateName(`${req.method ?? 'GET'} ${route}`);
  }
  span.end();
}

/** The attributes the http instrumentation sets as the request starts, from the same sources. */
function requestAttributes(req: IncomingMessage, method: string, path: string, query: string | undefined, redacted: ReadonlySet<string>): Attributes {
  const { headers, socket } = req;
  const forwarded = headers.forwarded ? forwardedEntries(headers.forwarded) : [];
  const forwardedHost = forwarded.find((entry) => entry.host);
  const server = forwardedHost?.host
    ? hostAndPort(forwardedHost.host, forwardedHost.proto)
    : headers['x-forwarded-host']
      ? hostAndPort(first(headers['x-forwarded-host']), first(headers['x-forwarded-proto']))
      : hostAndPort(headers.host, 'http');
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_SCHEME]: 'http',
    [ATTR_SERVER_ADDRESS]: server?.host,
    [ATTR_NETWORK_PEER_ADDRESS]: socket.remoteAddress,
    [ATTR_NETWORK_PEER_PORT]: socket.remotePort,
    [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion,
    [ATTR_USER_AGENT_ORIGINAL]: headers['user-agent'],
    [ATTR_URL_PATH]: path,
  };
  if (query) attributes[ATTR_URL_QUERY] = redactQuery(query, redacted);
  const client = forwarded.find((entry) => entry.for)?.for ?? first(headers['x-forwarded-for'])?.split(',', 1)[0]?.trim() ?? socket.remoteAddress;
  if (client) attributes[ATTR_CLIENT_ADDRESS] = stripPort(client);
  if (server?.port !== undefined) attributes[ATTR_SERVER_PORT] = Number(server.port);
  if (method !== req.method) attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = req.method;
  return attributes;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/**
 * Characters a path can hold that WHATWG URL parsing keeps as they are. A path made only of
 * these, starting with a single "/" and without a dot segment, is its own url.path; any other
 * (absolute-form, "//", ".." or "%2e", a space, "\\", non-ASCII) gets the pathname the
 * instrumentation reports, from a URL parse.
 */
const PLAIN_PATH = /^\/(?!\/)[\w\-~!$&'()*+,;=:@/%.]*$/;
const DOT_SEGMENT = /\/\.|%2e/i;

function urlPath(target: string, rawPath: string): string {
  if (PLAIN_PATH.test(rawPath) && !DOT_SEGMENT.test(rawPath)) return rawPath;
  return URL.parse(target, 'http://localhost')?.pathname ?? rawPath;
}

function normalizeMethod(method: string | undefined): string {
  const upper = (method ?? 'GET').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function forwardedEntries(header: string): Record<string, string>[] {
  try {
    return parseForwarded(header);
  } catch {
    return [];
  }
}

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' };

/** server.address and server.port from a Host-style value ("shop:8080", "[::1]:3000"), as the instrumentation splits it. */
function hostAndPort(value: string | undefined, scheme: string | undefined): { host: string; port?: string } | undefined {
  if (!value) return undefined;
  const parts = value.split(':');
  if (parts.length === 1) return { host: value, port: scheme && DEFAULT_PORT[scheme] };
  if (parts.length === 2) return { host: parts[0] ?? '', port: parts[1] };
  if (value.startsWith('[')) {
    if (value.endsWith(']')) return { host: value, port: scheme && DEFAULT_PORT[scheme] };
    const colon = value.lastIndexOf(':');
    if (value[colon - 1] === ']') return { host: value.slice(0, colon), port: value.slice(colon + 1) };
  }
  return { host: value };
}

function stripPort(address: string): string {
  if (address.startsWith('[')) return address.slice(1, address.indexOf(']'));
  const colon = address.indexOf(':');
  return colon !== -1 && colon === address.lastIndexOf(':') ? address.slice(0, colon) : address;
}
