/**
 * Header rewriting at the proxy boundary (RFC 9110 section 7.6.1): hop-by-hop
 * headers (Connection and every header it names, Keep-Alive, Proxy-*, TE,
 * Trailer, Transfer-Encoding, Upgrade) describe one connection and are
 * dropped in both directions; the X-Forwarded-* headers and X-Request-Id are
 * set by frontline, never trusted from the client (except X-Forwarded-For,
 * which is appended to, as every proxy in a chain does).
 *
 * The request side works on `rawHeaders` (the flat list Node parsed): reading
 * `req.headers` would build a second, lowercased copy on every request.
 */
import type { IncomingHttpHeaders } from "node:http";

/** Lowercase names dropped from requests and responses. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // Not hop-by-hop, but Node has already answered `100-continue` to the client, and undici refuses it.
  "expect",
]);

/** Request headers frontline sets itself. */
const OWN: ReadonlySet<string> = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-request-id",
]);

/** Connection options that are not header names. */
const CONNECTION_OPTIONS: ReadonlySet<string> = new Set(["close", "keep-alive", "upgrade"]);

const isProxyHeader = (name: string) => name.startsWith("proxy-");

/** Header names listed in Connection values (lowercase); undefined when none (the usual case). */
function connectionNames(
  values: string | ReadonlyArray<string> | undefined,
): Set<string> | undefined {
  if (values === undefined) return undefined;
  let names: Set<string> | undefined;
  for (const line of typeof values === "string" ? [values] : values)
    for (const token of line.split(",")) {
      const name = token.trim().toLowerCase();
      if (name === "" || CONNECTION_OPTIONS.has(name)) continue;
      names ??= new Set();
      names.add(name);
    }
  return names;
}

export interface Forwarded {
  /** The client's address (the peer of frontline's socket). */
  readonly clientIp: string;
  /** The Host header as the client sent it (or the authority of an absolute-form target). */
  readonly host: string;
  readonly proto: "http" | "https";
  readonly requestId: string;
}

export interface BodySink {
  /** Whether the request has a body: Content-Length above 0, or Transfer-Encoding. */
  setHasBody(value: boolean): void;
}

/**
 * The headers to send upstream, as a flat `[name, value, ...]` list, from the
 * client's raw headers. `upgrade`: a WebSocket handshake, which keeps
 * `Upgrade` and gets `Connection: Upgrade`.
 */
export function requestHeaders(
  raw: ReadonlyArray<string>,
  forwarded: Forwarded,
  body?: BodySink,
  upgrade = false,
): string[] {
  const out: string[] = [];
  let xff: string | undefined;
  let connection: string[] | undefined;
  let hasBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (OWN.has(lower)) {
      if (lower === "x-forwarded-for") xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (HOP_BY_HOP.has(lower) || isProxyHeader(lower)) {
      if (lower === "transfer-encoding") hasBody = true;
      else if (lower === "connection") {
        connection ??= [];
        connection.push(value);
      } else if (upgrade && lower === "upgrade") out.push(name, value);
      continue;
    }
    if (lower === "content-length" && value !== "0") hasBody = true;
    // The host frontline routed by: the Host header, or the authority of an absolute-form target.
    out.push(name, lower === "host" ? forwarded.host : value);
  }
  body?.setHasBody(hasBody);
  const named = connectionNames(connection);
  const kept = named === undefined ? out : withoutNamed(out, named);
  if (upgrade) kept.push("Connection", "Upgrade");
  kept.push(
    "X-Forwarded-For",
    xff === undefined ? forwarded.clientIp : `${xff}, ${forwarded.clientIp}`,
    "X-Forwarded-Proto",
    forwarded.proto,
    "X-Forwarded-Host",
    forwarded.host,
    "X-Request-Id",
    forwarded.requestId,
  );
  return kept;
}

function withoutNamed(list: ReadonlyArray<string>, named: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2)
    if (!named.has((list[i] as string).toLowerCase()))
      out.push(list[i] as string, list[i + 1] as string);
  return out;
}

/** The Host header of raw headers ("" when absent). */
export function rawHost(raw: ReadonlyArray<string>): string {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === "host") return raw[i + 1] as string;
  }
  return "";
}

/** The upstream's response headers without hop-by-hop ones, plus X-Request-Id, for `writeHead`. */
export function responseHeaders(
  headers: IncomingHttpHeaders,
  requestId: string,
): Record<string, string | string[]> {
  const named = connectionNames(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || isProxyHeader(name) || named?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  out["x-request-id"] = requestId;
  return out;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: IPv4 clients of a dual-stack socket, as they know themselves. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return "unknown";
  return remote.startsWith("::ffff:") ? remote.slice(7) : remote;
}
