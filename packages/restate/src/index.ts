/**
 * @ferry/restate: the contract of the `project` virtual object (what ctrl calls and hydra runs)
 * and the domain's WorkflowEngine port over Restate's ingress and admin APIs.
 *
 * The restate-server harness (tests, embedded stack) is `@ferry/restate/server`, apart, so that
 * importing the engine never pulls in process management.
 */
export * from "./contract.ts";
export {
  layer,
  makeWorkflowEngine,
  RestateEngineConfig,
  RestateWorkflowDefect,
} from "./engine.ts";
