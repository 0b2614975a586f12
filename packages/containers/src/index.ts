/**
 * @ferry/containers: the ContainerRuntime port over the Docker Engine API (Podman or Docker),
 * the engine client underneath it, and a manager for a private Podman service.
 */
export {
  DEFAULT_ENGINE_URL,
  type EngineEndpoint,
  parseEngineUrl,
} from "./endpoint.ts";
export {
  BUILD_OUTPUT_TAIL,
  type BuildImageInput,
  type BuildOutcome,
  type CreateContainerBody,
  type CreateResult,
  type DockerEngine,
  type DockerEngineOptions,
  type EngineVersion,
  makeDockerEngine,
  splitImageRef,
} from "./engine.ts";
export {
  CONTAINERS_CONF,
  DEFAULT_ENGINE_SOCKETS,
  type DetectEngineOptions,
  detectEngine,
  type EngineDetection,
  INSTALL_HINT,
  type PodmanService,
  PodmanServiceError,
  type PodmanServiceOptions,
  startPodmanService,
} from "./podman-service.ts";
export {
  type ContainerRuntimeOptions,
  dockerEngine,
  type LayerOptions,
  layer,
  makeContainerRuntime,
  redactEnv,
} from "./runtime.ts";
