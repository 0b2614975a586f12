/**
 * ctrl as Connect sees it: its routes and the interceptors every call goes
 * through, built on one runtime. The same pair serves the real HTTP server
 * (server.ts) and the in-memory transport of tests (createRouterTransport).
 *
 * Interceptors, outermost first: the request log (request id, one line per
 * call), then authentication (the principal).
 */
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { RouteFeedService } from "@ferry/api/internal";
import { authInterceptor } from "./auth.ts";
import { ServerReflection } from "./descriptors.ts";
import type { Log } from "./log.ts";
import { type RequestLogOptions, requestLogInterceptor } from "./request-log.ts";
import type { RouteFeed } from "./route-feed/route-feed.ts";
import { routeFeedService } from "./route-feed/service.ts";
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
  /** Serves internal.v1.RouteFeedService to gateways holding `internalToken`. */
  readonly routeFeed?: { readonly feed: RouteFeed; readonly internalToken: string };
}

export const makeCtrl = (options: CtrlOptions): Ctrl => {
  const run = makeRunner(options.runtime, options.log);
  const apiRoutes = makeRoutes(makeRpc(run));
  const routeFeed = options.routeFeed;
  return {
    routes: (router) => {
      apiRoutes(router);
      if (routeFeed !== undefined)
        router.service(
          RouteFeedService,
          routeFeedService(routeFeed.feed, routeFeed.internalToken, options.log),
        );
    },
    interceptors: [
      requestLogInterceptor(options.log, options.requestLog),
      authInterceptor({
        run,
        // Reflection is public (the API's schema); the route feed checks its own token.
        publicServices: new Set([ServerReflection.typeName, RouteFeedService.typeName]),
      }),
    ],
  };
};
