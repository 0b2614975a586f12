// @ferry/api: Ferry's public API contract (package ctrl.v1), generated from /proto by
// protoc-gen-es (`pnpm --filter @ferry/api generate`; src/gen is not committed).
// Message types, enums and the service descriptors (DeploymentService, ProjectService) that
// @connectrpc/connect uses for servers and clients.
export * from "./gen/ctrl/v1/common_pb.js";
export * from "./gen/ctrl/v1/deployment_pb.js";
export * from "./gen/ctrl/v1/project_pb.js";
