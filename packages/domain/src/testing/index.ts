export * from "./in-memory.ts";
