export { loadStackConfig, type StackConfig, StackConfigError } from "./config.ts";
export { type Stack, type StartStackOptions, startStack } from "./stack.ts";
