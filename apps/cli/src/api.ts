/**
 * The API clients the commands use, and the one place a failed call becomes a message and an
 * exit code.
 */
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { type Deployment, DeploymentService, ProjectService } from "@ferry/api";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Settings } from "./settings.ts";

export interface Api {
  readonly projects: Client<typeof ProjectService>;
  readonly deployments: Client<typeof DeploymentService>;
  /** Where the clients send their calls (for messages; never carries the key). */
  readonly apiUrl: string;
}

const bearer =
  (apiKey: string): Interceptor =>
  (next) =>
  (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };

/** Connect clients over HTTP/1.1 (the Connect protocol works through any HTTP proxy). */
export const createApi = (settings: Settings): Api => {
  const transport = createConnectTransport({
    baseUrl: settings.apiUrl,
    httpVersion: "1.1",
    interceptors: [bearer(settings.apiKey)],
  });
  return {
    projects: createClient(ProjectService, transport),
    deployments: createClient(DeploymentService, transport),
    apiUrl: settings.apiUrl,
  };
};

/** GetDeployment's deployment (the server always sends one; a NotFound is thrown as such). */
export const getDeployment = async (api: Api, deploymentId: string): Promise<Deployment> => {
  const { deployment } = await api.deployments.getDeployment({ deploymentId });
  if (deployment === undefined)
    throw new Error(`GetDeployment returned no deployment ${deploymentId}`);
  return deployment;
};

// Codes of Node and undici errors that mean the connection itself failed.
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The Node/undici error code deepest in an error's cause chain that names a network failure. */
export const networkErrorCode = (error: unknown): string | undefined => {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
};

/**
 * True when a call failed because the server or the network was unreachable for a moment: the
 * same call may succeed when retried (with the same cursor or idempotency key).
 */
export const isTransient = (error: unknown): boolean => {
  if (networkErrorCode(error) !== undefined) return true;
  const connectError = error instanceof ConnectError ? error : undefined;
  return connectError?.code === Code.Unavailable || connectError?.code === Code.DeadlineExceeded;
};

/** `not_found` for Code.NotFound: the snake_case names the Connect protocol uses on the wire. */
export const connectCodeName = (code: Code): string =>
  (Code[code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

/**
 * Maps any failure of an API call to what the user sees: the server's message (it names the
 * field and is meant for people), the Connect code, and the exit code. CliErrors pass through;
 * anything else is unexpected (a bug): exit 1 with its message.
 */
export const describeApiError = (
  error: unknown,
  apiUrl?: string,
  options: {
    /** What to do about an Unavailable server; default: retry with the same idempotency key. */
    readonly retryHint?: string;
  } = {},
): CliError => {
  if (error instanceof CliError) return error;
  const where = apiUrl === undefined ? "the Ferry server" : `the Ferry server at ${apiUrl}`;
  const network = networkErrorCode(error);
  if (network !== undefined)
    return new CliError(
      `could not reach ${where} (${network}); check --api-url / FERRY_API_URL and that the server runs`,
      ExitCode.Unreachable,
      "unreachable",
    );
  if (!(error instanceof ConnectError))
    return new CliError(
      `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
      ExitCode.OperationFailed,
      "internal",
    );
  const connectError = error;
  const name = connectCodeName(connectError.code);
  const message = connectError.rawMessage;
  switch (connectError.code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return new CliError(
        `${where} is unavailable: ${message} (${options.retryHint ?? "retry; with the same --idempotency-key where the command has one"})`,
        ExitCode.Unreachable,
        name,
      );
    case Code.Unauthenticated:
      return new CliError(
        `${where} refused the API key: ${message} (run \`ferry login\` or set FERRY_API_KEY)`,
        ExitCode.ApiRefused,
        name,
      );
    default:
      return new CliError(message, ExitCode.ApiRefused, name);
  }
};
