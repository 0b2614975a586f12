/**
 * @ferry/deployment-service: Ferry's deployment service as a library.
 *
 * - createDeploymentService(config): the API's operations in-process, for other Node services
 *   and scripts (Promises that reject with the domain's tagged errors)
 * - the composition ctrl serves too: liveLayer / baseLayer, the build storage wiring, the watch
 *   loop and the deployment operations' shapes
 */
export {
  AlreadyExists,
  NotFound,
  PreconditionFailed,
  ValidationError,
  WorkflowUnavailable,
} from "@ferry/domain";
export {
  type BuildStorageConfig,
  type BuildStorageOptions,
  type BuildStorageWiring,
  describeBuildStorage,
  wireBuildStorage,
} from "./build-storage.ts";
export {
  type BaseLayerInput,
  type BaseServices,
  baseLayer,
  type DeploymentServices,
  type LiveLayerInput,
  liveLayer,
  type RestateEndpoints,
  unavailableWorkflowEngine,
  type WorkflowEngineFactory,
} from "./composition.ts";
export type { DeploymentServiceConfig } from "./config.ts";
export {
  BuildStorageRefused,
  DatabaseSchemaBehind,
  InternalError,
  ServiceClosed,
} from "./errors.ts";
export { effectLogger, type LogSink } from "./logger.ts";
export {
  type DeploymentDetails,
  type DeploymentDetailsPage,
  getDeploymentDetails,
  listDeploymentDetails,
  promoteDeployment,
  rollbackDeployment,
  type TrafficChange,
} from "./operations.ts";
export { pendingMigrations } from "./schema-check.ts";
export {
  type CreateDeploymentRequest,
  createDeploymentService,
  type DeploymentOperations,
  type DeploymentService,
  type DeploymentSource,
  type ListDeploymentsOptions,
  type ProjectOperations,
  type VariableInput,
  type WatchedEvent,
  type WatchOptions,
} from "./service.ts";
export type { BuildContextBody, UploadedBuildContext } from "./upload.ts";
export { uploadSigningSecret } from "./upload-signing.ts";
export {
  decodePosition,
  encodeCursor,
  encodePosition,
  HEARTBEAT_MS,
  WATCH_PAGE_SIZE,
  type WatchItem,
  type WatchLoopOptions,
  type WatchRequest,
  type WorkspaceRunner,
  watchDeploymentEvents,
} from "./watch.ts";
