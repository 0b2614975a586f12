/** The ContainerRuntime port over a Docker Engine API (Podman or Docker). */
import {
  CONTAINER_LABELS,
  ContainerRuntime,
  ContainerRuntimeError,
  type InstanceSpec,
  type RunningInstance,
} from "@ferry/domain";
import { Effect, Layer, Option } from "effect";
import { type DockerEngine, type DockerEngineOptions, makeDockerEngine } from "./engine.ts";
import type { ContainerInspect, ContainerSummary, PortMap } from "./schemas.ts";

export interface ContainerRuntimeOptions {
  /**
   * Pull an image that the engine does not have before creating the container. Off by default:
   * Ferry builds its images locally, and a pull that cannot reach a registry only adds a delay
   * before the same "image not found".
   */
  readonly pullMissingImages?: boolean;
  /** Seconds a container gets to exit on SIGTERM before it is killed on remove. Default 10. */
  readonly stopTimeoutSeconds?: number;
  /** Host address the container port is published on. Default 127.0.0.1 (never all interfaces). */
  readonly publishHost?: string;
}

type ListedInstance = RunningInstance & { readonly labels: Readonly<Record<string, string>> };

/** Docker's rule for container names. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;
const ENV_NAME = /^[^=\0]+$/;

/** Replaces every environment variable value in `text`; values are secrets until shown otherwise. */
export const redactEnv = (text: string, env: Readonly<Record<string, string>>): string => {
  let out = text;
  for (const [name, value] of Object.entries(env)) {
    if (value.length === 0) continue;
    out = out.split(`${name}=${value}`).join(`${name}=<redacted>`);
    // Very short values ("1", "on") are not secrets, and hiding them would garble every message.
    if (value.length >= 4) out = out.split(value).join("<redacted>");
  }
  return out;
};

const invalidSpec = (detail: string) =>
  new ContainerRuntimeError({ reason: `invalid instance spec: ${detail}`, retryable: false });

const validateSpec = (spec: InstanceSpec): Effect.Effect<void, ContainerRuntimeError> => {
  if (!CONTAINER_NAME.test(spec.name))
    return Effect.fail(
      invalidSpec(
        `container name "${spec.name}" must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 253 characters)`,
      ),
    );
  if (spec.image.trim().length === 0 || /\s/.test(spec.image))
    return Effect.fail(invalidSpec(`image reference "${spec.image}" is empty or has spaces`));
  if (!Number.isInteger(spec.containerPort) || spec.containerPort < 1 || spec.containerPort > 65535)
    return Effect.fail(
      invalidSpec(`container port ${spec.containerPort} is not a port number (1-65535)`),
    );
  for (const [name, value] of Object.entries(spec.env)) {
    if (!ENV_NAME.test(name))
      return Effect.fail(
        invalidSpec(
          `environment variable name ${JSON.stringify(name)} is empty or contains "=" or NUL`,
        ),
      );
    // The value itself is never named: it may be a secret.
    if (value.includes("\0"))
      return Effect.fail(invalidSpec(`the value of environment variable ${name} contains NUL`));
  }
  for (const name of Object.keys(spec.labels))
    if (name.length === 0 || name.includes("\0"))
      return Effect.fail(invalidSpec("a label name is empty or contains NUL"));
  return Effect.void;
};

const toState = (status: string): RunningInstance["state"] => {
  switch (status.toLowerCase()) {
    case "running":
      return "running";
    case "created":
    case "configured":
      return "created";
    case "exited":
    case "stopped":
    case "dead":
      return "exited";
    default:
      return "unknown";
  }
};

const isWildcard = (ip: string | undefined) =>
  ip === undefined || ip === "" || ip === "0.0.0.0" || ip === "::";

/** The published host address and port for `containerPort` (or the first published port). */
const publishedPort = (
  maps: ReadonlyArray<PortMap | null | undefined>,
  containerPort: number | undefined,
  publishHost: string,
): { host: string; port: number } => {
  for (const map of maps) {
    if (map === null || map === undefined) continue;
    const keys =
      containerPort === undefined
        ? Object.keys(map)
        : [`${containerPort}/tcp`, ...Object.keys(map)];
    for (const key of keys) {
      for (const binding of map[key] ?? []) {
        const port = Number(binding.HostPort);
        if (Number.isInteger(port) && port > 0)
          return {
            host: isWildcard(binding.HostIp) ? publishHost : (binding.HostIp ?? publishHost),
            port,
          };
      }
    }
  }
  return { host: publishHost, port: 0 };
};

const fromInspect = (
  info: ContainerInspect,
  publishHost: string,
  containerPort?: number,
): RunningInstance => {
  const state = toState(info.State.Status);
  const { host, port } = publishedPort(
    [info.NetworkSettings?.Ports, info.HostConfig?.PortBindings],
    containerPort,
    publishHost,
  );
  return {
    containerId: info.Id,
    host,
    port,
    state,
    ...(state === "exited" && info.State.ExitCode !== undefined
      ? { exitCode: info.State.ExitCode }
      : {}),
  };
};

const fromSummary = (summary: ContainerSummary, publishHost: string): ListedInstance => {
  const state = toState(summary.State);
  const published = (summary.Ports ?? []).find(
    (p) => (p.Type === undefined || p.Type === "tcp") && (p.PublicPort ?? 0) > 0,
  );
  const exit = /^exited \((-?\d+)\)/i.exec(summary.Status ?? "");
  return {
    containerId: summary.Id,
    host:
      published === undefined || isWildcard(published.IP)
        ? publishHost
        : (published.IP ?? publishHost),
    port: published?.PublicPort ?? 0,
    state,
    ...(state === "exited" && exit?.[1] !== undefined ? { exitCode: Number(exit[1]) } : {}),
    labels: summary.Labels ?? {},
  };
};

const notFound = (containerId: string) =>
  new ContainerRuntimeError({ reason: `container ${containerId} not found`, retryable: false });

/** The ContainerRuntime port over one engine. */
export const makeContainerRuntime = (
  engine: DockerEngine,
  options: ContainerRuntimeOptions = {},
): ContainerRuntime["Type"] => {
  const publishHost = options.publishHost ?? "127.0.0.1";
  const stopTimeoutSeconds = options.stopTimeoutSeconds ?? 10;

  const ensureImage = (image: string) =>
    Effect.gen(function* () {
      if (yield* engine.imageExists(image)) return;
      if (options.pullMissingImages !== true)
        return yield* Effect.fail(
          new ContainerRuntimeError({ reason: `image not found: ${image}`, retryable: false }),
        );
      yield* engine.pullImage(image);
    });

  const inspectOrFail = (containerId: string, containerPort?: number) =>
    Effect.flatMap(engine.inspectContainer(containerId), (found) =>
      Option.match(found, {
        onNone: () => Effect.fail(notFound(containerId)),
        onSome: (info) => Effect.succeed(fromInspect(info, publishHost, containerPort)),
      }),
    );

  /**
   * A create that finds the name taken: when the container is this very instance (a retried
   * start after a crash), it is adopted and started; anything else is a conflict.
   */
  const adopt = (spec: InstanceSpec, labels: Readonly<Record<string, string>>) =>
    Effect.gen(function* () {
      const existing = yield* engine.inspectContainer(spec.name);
      if (Option.isNone(existing))
        return yield* Effect.fail(
          new ContainerRuntimeError({
            reason: `container name ${spec.name} was taken and released while starting; try again`,
            retryable: true,
          }),
        );
      const have = existing.value.Config.Labels ?? {};
      const same = Object.entries(labels).every(([k, v]) => have[k] === v);
      if (!same)
        return yield* Effect.fail(
          new ContainerRuntimeError({
            reason: `a container named ${spec.name} already exists and does not belong to this instance; remove it or choose another name`,
            retryable: false,
          }),
        );
      return existing.value.Id;
    });

  const start = (spec: InstanceSpec) =>
    Effect.gen(function* () {
      yield* validateSpec(spec);
      yield* ensureImage(spec.image);
      const labels = { ...spec.labels, [CONTAINER_LABELS.region]: spec.region };
      const portKey = `${spec.containerPort}/tcp`;
      const containerId = yield* engine
        .createContainer(spec.name, {
          Image: spec.image,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          Labels: labels,
          ExposedPorts: { [portKey]: {} },
          HostConfig: {
            // HostPort "" lets the engine choose a free port; read it back from inspect.
            PortBindings: { [portKey]: [{ HostIp: publishHost, HostPort: "" }] },
          },
        })
        .pipe(
          Effect.flatMap((created) =>
            created._tag === "Created" ? Effect.succeed(created.id) : adopt(spec, labels),
          ),
        );
      yield* engine.startContainer(containerId).pipe(
        // A container that cannot start is not left behind.
        Effect.tapError(() => Effect.ignore(engine.removeContainer(containerId))),
      );
      return yield* inspectOrFail(containerId, spec.containerPort);
    }).pipe(
      Effect.mapError(
        (e) =>
          new ContainerRuntimeError({
            reason: redactEnv(e.reason, spec.env),
            retryable: e.retryable,
          }),
      ),
    );

  const remove = (containerId: string) =>
    Effect.gen(function* () {
      // A failed graceful stop is not fatal: the forced delete kills the container.
      const stopped = yield* Effect.either(engine.stopContainer(containerId, stopTimeoutSeconds));
      if (stopped._tag === "Right" && stopped.right === "gone") return;
      yield* engine.removeContainer(containerId);
    });

  const listByLabels = (labels: Readonly<Record<string, string>>) =>
    Effect.map(engine.listContainers(labels), (list) =>
      list.map((summary) => fromSummary(summary, publishHost)),
    );

  return {
    start,
    inspect: (containerId) => inspectOrFail(containerId),
    remove,
    removeImage: (ref) => engine.removeImage(ref),
    listByLabels,
  };
};

export interface LayerOptions extends DockerEngineOptions, ContainerRuntimeOptions {}

/** The engine client as a scoped resource: its connections close with the scope. */
export const dockerEngine = (options: DockerEngineOptions = {}) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => makeDockerEngine(options),
      catch: (error) =>
        new ContainerRuntimeError({
          reason: error instanceof Error ? error.message : String(error),
          retryable: false,
        }),
    }),
    (engine) => engine.close,
  );

/** ContainerRuntime over the engine at `options.url` (default: DOCKER_HOST, then Podman's socket). */
export const layer = (
  options: LayerOptions = {},
): Layer.Layer<ContainerRuntime, ContainerRuntimeError> =>
  Layer.scoped(
    ContainerRuntime,
    Effect.map(dockerEngine(options), (engine) => makeContainerRuntime(engine, options)),
  );
