/**
 * Hostnames and upstream addresses as text. Routes are keyed by the
 * normalized hostname: lowercase, no port, no trailing dot, so that
 * `App.Example.com.:8000` finds the route of `app.example.com`.
 */

const COLON = 58;
const OPEN_BRACKET = 91;
const DOT = 46;

/**
 * The route key of a Host header value, or "" when it cannot be one (empty,
 * a port that is not a number). Cheap on purpose: it runs on every request,
 * and the table is searched before the (slower) full validation, which only a
 * miss needs (to tell 400 from 404).
 */
export function normalizeHost(raw: string | undefined): string {
  if (raw === undefined || raw.length === 0) return "";
  let end = raw.length;
  if (raw.charCodeAt(0) === OPEN_BRACKET) {
    // An IPv6 literal: "[::1]" or "[::1]:8000".
    const close = raw.indexOf("]");
    if (close < 0) return "";
    if (close + 1 < raw.length && (raw.charCodeAt(close + 1) !== COLON || !isPort(raw, close + 2)))
      return "";
    end = close + 1;
  } else {
    const colon = raw.indexOf(":");
    if (colon >= 0) {
      if (!isPort(raw, colon + 1)) return "";
      end = colon;
    }
    if (end > 0 && raw.charCodeAt(end - 1) === DOT) end--;
  }
  return (end === raw.length ? raw : raw.slice(0, end)).toLowerCase();
}

/** Digits only, 1 to 5 of them, from `start` to the end. */
function isPort(text: string, start: number): boolean {
  const length = text.length - start;
  if (length < 1 || length > 5) return false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const NAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const IPV6 = /^\[[0-9a-f:.]{2,45}\]$/;

/** A normalized hostname that may be routed: DNS labels (underscores tolerated) or an IP literal. */
export function isValidHostname(hostname: string): boolean {
  return NAME.test(hostname) || IPV6.test(hostname);
}

export interface Address {
  /** For `net.connect`: without brackets. */
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (brackets kept for IPv6), for undici. */
  readonly origin: string;
}

/** Parses an upstream address `host:port` (`[v6]:port` for IPv6); undefined when malformed. */
export function parseAddress(address: string): Address | undefined {
  let host: string;
  let portText: string;
  if (address.charCodeAt(0) === OPEN_BRACKET) {
    const close = address.indexOf("]");
    if (close < 0 || address.charCodeAt(close + 1) !== COLON) return undefined;
    host = address.slice(1, close);
    portText = address.slice(close + 2);
    if (!/^[0-9a-fA-F:.]+$/.test(host)) return undefined;
  } else {
    const colon = address.lastIndexOf(":");
    if (colon <= 0) return undefined;
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (!/^[A-Za-z0-9._-]+$/.test(host)) return undefined;
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { host, port, origin: `http://${address}` };
}
