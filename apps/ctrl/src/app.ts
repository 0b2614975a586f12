/**
 * ctrl as Connect sees it: its routes and the interceptors every call goes
 * through, built on one runtime. The same pair serves the real HTTP server
 * (server.ts) and the in-memory transport of tests (createRouterTransport).
 *
 * Interceptors, outermost first: the request log (request id, one line per
 * call), then authentication (the principal).
 */
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { authInterceptor } from "./auth.ts";
import { ServerReflection } from "./descriptors.ts";
import type { Log } from "./log.ts";
import { type RequestLogOptions, requestLogInterceptor } from "./request-log.ts";
import { makeRoutes } from "./routes.ts";
import { type CtrlRuntime, makeRunner } from "./runtime.ts";
import { makeRpc } from "./services/rpc.ts";

export interface Ctrl {
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: Interceptor[];
}

export interface CtrlOptions {
  readonly runtime: CtrlRuntime;
  readonly log: Log;
  readonly requestLog?: RequestLogOptions;
}

export const makeCtrl = (options: CtrlOptions): Ctrl => {
  const run = makeRunner(options.runtime, options.log);
  return {
    routes: makeRoutes(makeRpc(run)),
    interceptors: [
      requestLogInterceptor(options.log, options.requestLog),
      authInterceptor({ run, publicServices: new Set([ServerReflection.typeName]) }),
    ],
  };
};
