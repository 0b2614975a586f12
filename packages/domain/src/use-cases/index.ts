export * from "./cancel-deployment.ts";
export * from "./create-deployment.ts";
export * from "./create-upload-url.ts";
export * from "./get-deployment.ts";
export * from "./list-deployments.ts";
export * from "./lookups.ts";
export * from "./projects.ts";
export * from "./traffic.ts";
