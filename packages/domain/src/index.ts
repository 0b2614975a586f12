/**
 * @ferry/domain: Ferry's rules and use cases, with no I/O.
 *
 * - ids: prefixed, sortable ids and the Ids service
 * - errors: the tagged failures every edge maps to a Connect code
 * - model: what a workspace, project, environment, deployment, route is
 * - validation: request rules (Effect Schema), each at its exact boundary
 * - rules: the deployment lifecycle, hostnames, promote/rollback and the pin
 * - ports: the services adapters implement (repositories, workflow engine, ...)
 * - use-cases: CreateDeployment, CreateUploadUrl, GetDeployment, ListDeployments, Promote, Rollback
 */
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./model/index.ts";
export * from "./ports/index.ts";
export * from "./rules/index.ts";
export * from "./use-cases/index.ts";
export * from "./validation/index.ts";
