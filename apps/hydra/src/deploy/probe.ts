/** One HTTP health probe of an instance: GET, no redirects followed, a short deadline. */

export type ProbeAnswer =
  | { readonly healthy: true; readonly answer: string }
  | { readonly healthy: false; readonly answer: string };

const describeFailure = (error: unknown, timeoutMs: number): string => {
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError")
      return `no answer within ${timeoutMs / 1000} s`;
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    switch (code) {
      case "ECONNREFUSED":
        return "connection refused";
      case "ECONNRESET":
      case "UND_ERR_SOCKET":
        return "connection closed without an answer";
      case "EHOSTUNREACH":
        return "host unreachable";
      default:
        return typeof code === "string" ? code : error.message;
    }
  }
  return String(error);
};

/**
 * `GET http://{host}:{port}{path}`: 2xx and 3xx are healthy; any other status
 * is the last answer (e.g. "502"); a failure to connect is described
 * ("connection refused"). Never throws.
 */
export const probeHttp = async (
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<ProbeAnswer> => {
  if (port <= 0) return { healthy: false, answer: "no published port" };
  const target = `http://${host.includes(":") ? `[${host}]` : host}:${port}${path.startsWith("/") ? path : `/${path}`}`;
  try {
    const response = await fetch(target, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: { "user-agent": "ferry-hydra-health-check" },
    });
    await response.body?.cancel().catch(() => {});
    const answer = String(response.status);
    return response.status >= 200 && response.status < 400
      ? { healthy: true, answer }
      : { healthy: false, answer };
  } catch (error) {
    return { healthy: false, answer: describeFailure(error, timeoutMs) };
  }
};
