/**
 * @ferry/hydra: Ferry's durable workflows on Restate. The `project` virtual
 * object (deploy, promote, rollback), the process that serves it, and its
 * configuration.
 */
export { ConfigError, describeConfig, type HydraConfig, loadConfig } from "./config.ts";
export { type Logger, type LogLevel, makeLogger } from "./log.ts";
export { makeDeploysObject } from "./objects/deploys.ts";
export { makeProjectObject, type ProjectObject } from "./objects/project.ts";
export { type ReconcileReport, reconcileOnce } from "./reconcile.ts";
export { makeRetentionObject, type SweepReport } from "./retention/object.ts";
export { type Hydra, registerWithRestate, type StartOptions, startHydra } from "./server.ts";
