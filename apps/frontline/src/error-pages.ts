/**
 * The responses frontline makes itself. Short HTML pages that name the
 * problem and the request id (for support), and never an instance address,
 * an error message from Node or undici, or a stack trace: those describe
 * Ferry's network, not the visitor's request.
 */

export type ErrorReason =
  /** 400: no Host header, or one that cannot be a hostname. */
  | "bad_host"
  /** 404: no deployment serves the hostname. */
  | "unknown_host"
  /** 503: the route table has not received its first snapshot. */
  | "starting"
  /** 503: the deployment has no instance. */
  | "no_upstream"
  /** 502: no instance accepted a connection. */
  | "upstream_unreachable"
  /** 502: the instance closed the connection or sent something that is not HTTP. */
  | "upstream_error"
  /** 504: the instance did not answer in time. */
  | "upstream_timeout"
  /** 503: frontline is shutting down. */
  | "shutting_down";

export interface ErrorPage {
  readonly status: number;
  readonly title: string;
  readonly message: (hostname: string) => string;
}

export const ERROR_PAGES: Readonly<Record<ErrorReason, ErrorPage>> = {
  bad_host: {
    status: 400,
    title: "Bad Request",
    message: () => "The request has no valid Host header.",
  },
  unknown_host: {
    status: 404,
    title: "Not Found",
    message: (host) => `No deployment serves the hostname ${host}.`,
  },
  starting: {
    status: 503,
    title: "Service Unavailable",
    message: () => "frontline is starting: it has not received its routes yet. Retry shortly.",
  },
  no_upstream: {
    status: 503,
    title: "Service Unavailable",
    message: (host) => `The deployment serving ${host} has no running instance.`,
  },
  upstream_unreachable: {
    status: 502,
    title: "Bad Gateway",
    message: (host) => `No instance of the deployment serving ${host} accepted the connection.`,
  },
  upstream_error: {
    status: 502,
    title: "Bad Gateway",
    message: (host) => `The deployment serving ${host} closed the connection without a response.`,
  },
  upstream_timeout: {
    status: 504,
    title: "Gateway Timeout",
    message: (host) => `The deployment serving ${host} did not answer in time.`,
  },
  shutting_down: {
    status: 503,
    title: "Service Unavailable",
    message: () => "frontline is restarting. Retry shortly.",
  },
};

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

/** The page's body. `hostname` is the normalized one (validated before it is shown). */
export function errorBody(reason: ErrorReason, hostname: string, requestId: string): string {
  const page = ERROR_PAGES[reason];
  const title = `${page.status} ${page.title}`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>
<p>${escapeHtml(page.message(hostname))}</p>
<p><small>Request ID: ${escapeHtml(requestId)}</small></p>
</body></html>
`;
}
