/**
 * @ferry/ctrl: the ConnectRPC server of Ferry's control plane. Exported for
 * tests and for embedding the same server elsewhere (the one-command stack).
 */
export { type Ctrl, type CtrlOptions, makeCtrl } from "./app.ts";
export {
  authenticate,
  createWorkspace,
  DEFAULT_WORKSPACE_SLUG,
  ensureBootstrap,
  hashToken,
  issueApiKey,
  newApiToken,
} from "./auth.ts";
export { ConfigError, type CtrlConfig, DEFAULTS, loadConfig } from "./config.ts";
export { type Principal, principalKey, requestIdKey } from "./context.ts";
export { toConnectError } from "./errors.ts";
export { type Log, makeLog, memoryLog } from "./log.ts";
export { makeRoutes } from "./routes.ts";
export {
  type CtrlRuntime,
  type CtrlServices,
  liveLayer,
  makeRuntime,
  type RestateEndpoints,
  unavailableWorkflowEngine,
  type WorkflowEngineFactory,
} from "./runtime.ts";
export { type CtrlServer, HEALTH_PATH, type ServerOptions, startServer } from "./server.ts";
