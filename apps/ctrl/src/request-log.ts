/**
 * Request ids and request logs: the outermost interceptor gives every call a
 * request id (a context value, and the `x-request-id` response header or
 * trailer), and writes ONE JSON line per call when it ends: request id,
 * procedure, protocol, Connect code, duration, and the workspace when the
 * call was authenticated. Never headers (they carry the API key) and never
 * bodies (they carry secret values).
 */
import { randomUUID } from "node:crypto";
import { Code, type ConnectError, type Interceptor } from "@connectrpc/connect";
import { principalKey, procedureOf, requestIdKey } from "./context.ts";
import { REQUEST_ID_HEADER, thrownToConnectError } from "./errors.ts";
import type { Log } from "./log.ts";

/** `InvalidArgument` → `invalid_argument`, the name Connect uses on the wire. */
export const codeName = (code: Code): string =>
  (Code[code] ?? "unknown").replace(
    /[A-Z]/g,
    (c, i: number) => `${i > 0 ? "_" : ""}${c.toLowerCase()}`,
  );

const protocolOf = (contentType: string | null): string => {
  if (contentType?.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
};

export interface RequestLogOptions {
  readonly newRequestId?: () => string;
  readonly now?: () => number;
}

export const requestLogInterceptor = (log: Log, options: RequestLogOptions = {}): Interceptor => {
  const newRequestId = options.newRequestId ?? randomUUID;
  const now = options.now ?? (() => performance.now());
  return (next) => async (request) => {
    const requestId = newRequestId();
    request.contextValues.set(requestIdKey, requestId);
    const started = now();
    const procedure = procedureOf(request.service, request.method);
    const protocol = protocolOf(request.header.get("content-type"));
    let logged = false;
    const done = (code: Code | undefined) => {
      if (logged) return;
      logged = true;
      const workspaceId = request.contextValues.get(principalKey)?.workspaceId;
      log.info("rpc", {
        requestId,
        procedure,
        protocol,
        code: code === undefined ? "ok" : codeName(code),
        durationMs: Math.round((now() - started) * 10) / 10,
        ...(workspaceId === undefined ? {} : { workspaceId }),
      });
    };
    const failed = (thrown: unknown): ConnectError => {
      const error = thrownToConnectError(thrown, { requestId, procedure, log });
      error.metadata.set(REQUEST_ID_HEADER, requestId);
      done(error.code);
      return error;
    };
    try {
      const response = await next(request);
      response.header.set(REQUEST_ID_HEADER, requestId);
      if (!response.stream) {
        done(undefined);
        return response;
      }
      const messages = response.message;
      return {
        ...response,
        message: (async function* () {
          try {
            yield* messages;
            done(undefined);
          } catch (thrown) {
            throw failed(thrown);
          } finally {
            // The client went away (the server stopped reading the stream).
            done(Code.Canceled);
          }
        })(),
      };
    } catch (thrown) {
      throw failed(thrown);
    }
  };
};
