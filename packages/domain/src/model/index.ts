export * from "./deployment.ts";
export * from "./project.ts";
export * from "./route.ts";
export * from "./variable.ts";
