export * from "./in-memory.ts";
export * from "./in-memory-retention.ts";
