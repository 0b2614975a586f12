export * from "./deployment-lifecycle.ts";
export * from "./hostnames.ts";
export * from "./retention.ts";
export * from "./traffic.ts";
