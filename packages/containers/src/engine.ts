/**
 * A small Docker Engine API client (v1.41 paths, which Docker and `podman system service` both
 * serve) over undici: a unix socket or plain tcp. Every failure is a ContainerRuntimeError whose
 * reason a user can act on and whose `retryable` says whether trying again can help.
 */
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { ContainerRuntimeError } from "@ferry/domain";
import { Duration, Effect, Option, Schema } from "effect";
import { Agent, request } from "undici";
import { DEFAULT_ENGINE_URL, type EngineEndpoint, parseEngineUrl } from "./endpoint.ts";
import {
  ContainerInspect,
  ContainerList,
  type ContainerSummary,
  CreatedContainer,
  ErrorBody,
  ImageInspect,
  ProgressLine,
  Version,
} from "./schemas.ts";

export interface DockerEngineOptions {
  /** `unix:///path`, `tcp://host:port`; defaults to DOCKER_HOST, then Podman's root socket. */
  readonly url?: string;
  /** API version in request paths; 1.41 is what Podman 4 serves (and every Docker since 20.10). */
  readonly apiVersion?: string;
  /** Deadline of one request, except those that say otherwise (stop, build, pull). */
  readonly requestTimeout?: Duration.DurationInput;
}

/** What `POST /containers/create` receives (the fields Ferry sets). */
export interface CreateContainerBody {
  readonly Image: string;
  readonly Env?: ReadonlyArray<string>;
  readonly Cmd?: ReadonlyArray<string>;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly HostConfig?: {
    readonly PortBindings?: Readonly<
      Record<string, ReadonlyArray<{ readonly HostIp: string; readonly HostPort: string }>>
    >;
    readonly RestartPolicy?: { readonly Name: string; readonly MaximumRetryCount?: number };
  };
}

export type CreateResult =
  | { readonly _tag: "Created"; readonly id: string }
  | { readonly _tag: "NameInUse" };

export interface EngineVersion {
  /** Podman: the distribution ("linux/amd64/debian-12"); Docker: "Docker Engine - Community". */
  readonly platform: string;
  readonly version: string;
  readonly apiVersion: string;
  /** e.g. ["Podman Engine", "Conmon", "OCI Runtime (runc)"] or ["Engine", "containerd", "runc"]. */
  readonly components: ReadonlyArray<string>;
  readonly isPodman: boolean;
}

export interface BuildImageInput {
  readonly tag: string;
  /**
   * A tar (or tar.gz) archive of the build context: bytes, or a stream (a file's, so a large
   * context is never held in memory). A stream is consumed once: a second attempt needs a new one.
   */
  readonly context: Uint8Array | Readable;
  /** Path of the Dockerfile inside the context; defaults to `Dockerfile`. */
  readonly dockerfile?: string;
  /** `--build-arg`s: the values of the Dockerfile's `ARG`s. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** Labels set on the image. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Receives each line of build output as it arrives (lines split across the engine's messages
   * are joined first). With it, `output` keeps only the last BUILD_OUTPUT_TAIL lines, so a long
   * build's output is not held in memory.
   */
  readonly onOutput?: (line: string) => void;
  readonly timeout?: Duration.DurationInput;
}

/** How many lines `output` keeps when `onOutput` receives them all. */
export const BUILD_OUTPUT_TAIL = 50;

/**
 * How a build ended, when the engine ran it: the engine answers 200 and reports a failing build
 * (a Dockerfile error, a failing RUN) in its stream, which `build` returns as `BuildFailed`.
 */
export type BuildOutcome =
  | {
      readonly _tag: "Built";
      readonly imageId: string | undefined;
      readonly output: ReadonlyArray<string>;
    }
  | {
      readonly _tag: "BuildFailed";
      /** The engine's error message, as it sent it. */
      readonly error: string;
      readonly output: ReadonlyArray<string>;
    };

export interface DockerEngine {
  readonly endpoint: EngineEndpoint;
  /** `GET /_ping`: succeeds when the engine answers OK. */
  readonly ping: Effect.Effect<void, ContainerRuntimeError>;
  readonly version: Effect.Effect<EngineVersion, ContainerRuntimeError>;
  readonly imageExists: (ref: string) => Effect.Effect<boolean, ContainerRuntimeError>;
  /** Pulls one tag (or digest) of an image; `latest` when the reference names none. */
  readonly pullImage: (ref: string) => Effect.Effect<void, ContainerRuntimeError>;
  /**
   * `POST /build`, streamed: a build the engine ran and that failed is a `BuildFailed` outcome;
   * only a request the engine refused or could not answer is a ContainerRuntimeError.
   */
  readonly build: (input: BuildImageInput) => Effect.Effect<BuildOutcome, ContainerRuntimeError>;
  /** `POST /build`; resolves with the image id and the build output, a failed build is an error. */
  readonly buildImage: (
    input: BuildImageInput,
  ) => Effect.Effect<
    { readonly imageId: string | undefined; readonly output: ReadonlyArray<string> },
    ContainerRuntimeError
  >;
  /** Creates (does not start); a taken name is an answer, not a failure, so callers can adopt. */
  readonly createContainer: (
    name: string,
    body: CreateContainerBody,
  ) => Effect.Effect<CreateResult, ContainerRuntimeError>;
  readonly startContainer: (id: string) => Effect.Effect<void, ContainerRuntimeError>;
  /** None when the container does not exist. */
  readonly inspectContainer: (
    id: string,
  ) => Effect.Effect<Option.Option<ContainerInspect>, ContainerRuntimeError>;
  readonly stopContainer: (
    id: string,
    timeoutSeconds: number,
  ) => Effect.Effect<"stopped" | "not-running" | "gone", ContainerRuntimeError>;
  /** `DELETE ?force=true&v=true`: kills it if it still runs. */
  readonly removeContainer: (
    id: string,
  ) => Effect.Effect<"removed" | "gone", ContainerRuntimeError>;
  /**
   * `DELETE /images/{ref}` without force: removes that reference (an image with other tags is only
   * untagged); a missing image is "gone"; an image a container uses is refused (409).
   */
  readonly removeImage: (ref: string) => Effect.Effect<"removed" | "gone", ContainerRuntimeError>;
  /** Containers in every state whose labels include all of `labels`. */
  readonly listContainers: (
    labels: Readonly<Record<string, string>>,
  ) => Effect.Effect<ReadonlyArray<ContainerSummary>, ContainerRuntimeError>;
  /** The last `tail` lines of stdout and stderr, interleaved as written. */
  readonly containerLogs: (
    id: string,
    tail: number,
  ) => Effect.Effect<ReadonlyArray<string>, ContainerRuntimeError>;
  /** Closes the connections. */
  readonly close: Effect.Effect<void>;
}

interface EngineRequest {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean>>;
  readonly json?: unknown;
  readonly body?: Uint8Array | Readable;
  readonly contentType?: string;
  /** Receives a 200 answer's body chunk by chunk (the response's `body` is then empty). */
  readonly onChunk?: (chunk: Buffer) => void;
  readonly timeout?: Duration.DurationInput;
  /** What is being done, for messages: "creating container web-1". */
  readonly what: string;
}

interface EngineResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** Engine answers (Podman sends most of them as 500) that no retry will change. */
const PERMANENT_ENGINE_FAILURE =
  /invalid argument|invalid reference format|value out of range|invalid environment variable|invalid range format|names must match|executable file not found|command that was not found|unable to start container process|no such image|image not known/i;

const NAME_IN_USE = /already in use/i;

/** A ContainerRuntimeError for a request that the engine answered with an error status. */
export const engineFailure = (
  what: string,
  status: number,
  message: string,
): ContainerRuntimeError => {
  const retryable = status >= 500 && !PERMANENT_ENGINE_FAILURE.test(message);
  return new ContainerRuntimeError({
    reason: `container engine failed ${what}: ${message} (HTTP ${status})`,
    retryable,
  });
};

/** True for a create that failed because the name is taken (Docker: 409; Podman 4: 500). */
export const isNameConflict = (status: number, message: string): boolean =>
  status === 409 || (status >= 500 && NAME_IN_USE.test(message));

const errorMessage = (body: Buffer): string => {
  const text = body.toString("utf8").trim();
  try {
    const parsed = Schema.decodeUnknownSync(ErrorBody)(JSON.parse(text));
    return parsed.message ?? parsed.cause ?? text;
  } catch {
    return text.length > 0 ? text.slice(0, 500) : "(no message)";
  }
};

const errorCode = (cause: unknown): string | undefined => {
  if (typeof cause === "object" && cause !== null && "code" in cause) {
    const code = (cause as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
};

const transportFailure = (
  endpoint: EngineEndpoint,
  what: string,
  cause: unknown,
): ContainerRuntimeError => {
  const code = errorCode(cause);
  const where = `the container engine at ${endpoint.url}`;
  switch (code) {
    case "ENOENT":
      return new ContainerRuntimeError({
        reason: `cannot reach ${where} while ${what}: the socket does not exist. Start the engine (podman system service, or Ferry's own Podman service) or point DOCKER_HOST at a running one`,
        retryable: true,
      });
    case "ECONNREFUSED":
      return new ContainerRuntimeError({
        reason: `cannot reach ${where} while ${what}: connection refused; is the engine running?`,
        retryable: true,
      });
    case "EACCES":
    case "EPERM":
      return new ContainerRuntimeError({
        reason: `cannot reach ${where} while ${what}: permission denied on the socket; run Ferry as a user that may use it`,
        retryable: false,
      });
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "ETIMEDOUT":
      return new ContainerRuntimeError({
        reason: `${where} timed out while ${what}`,
        retryable: true,
      });
    default: {
      const detail = cause instanceof Error ? cause.message : String(cause);
      return new ContainerRuntimeError({
        reason: `lost the connection to ${where} while ${what}: ${code ?? detail}`,
        retryable: true,
      });
    }
  }
};

const decodeFailure = (what: string, error: unknown): ContainerRuntimeError =>
  new ContainerRuntimeError({
    reason: `the container engine answered ${what} with something Ferry does not understand: ${
      error instanceof Error ? error.message.split("\n")[0] : String(error)
    }`,
    retryable: false,
  });

/** Splits an image reference into the `fromImage` and `tag` of `POST /images/create`. */
export const splitImageRef = (ref: string): { readonly image: string; readonly tag: string } => {
  const at = ref.indexOf("@");
  if (at >= 0) return { image: ref.slice(0, at), tag: ref.slice(at + 1) };
  const lastSlash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > lastSlash) return { image: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { image: ref, tag: "latest" };
};

/** An image reference in a request path: slashes stay, everything else is escaped. */
const imagePath = (ref: string): string => ref.split("/").map(encodeURIComponent).join("/");

/**
 * Demultiplexes the `logs` stream of a container without a TTY (8-byte frame headers:
 * stream, 0, 0, 0, big-endian length); a TTY container's stream is returned as it is.
 */
export const demuxLogs = (raw: Buffer): string => {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const kind = raw[offset];
    if (
      (kind !== 0 && kind !== 1 && kind !== 2) ||
      raw[offset + 1] !== 0 ||
      raw[offset + 2] !== 0 ||
      raw[offset + 3] !== 0
    )
      return raw.toString("utf8");
    const length = raw.readUInt32BE(offset + 4);
    chunks.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  if (offset !== raw.length) return raw.toString("utf8");
  return Buffer.concat(chunks).toString("utf8");
};

const parseProgress = (body: Buffer): Array<typeof ProgressLine.Type> =>
  body
    .toString("utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .flatMap((line) => {
      try {
        return [Schema.decodeUnknownSync(ProgressLine)(JSON.parse(line))];
      } catch {
        return [{ stream: line }];
      }
    });

/**
 * Reads the JSON stream of `POST /build` as it arrives: complete output lines go to `onOutput`
 * (a line may be split across messages, and messages across chunks), the error and the image id
 * are remembered.
 */
export const buildStreamReader = (onOutput?: (line: string) => void) => {
  const decoder = new StringDecoder("utf8");
  const output: string[] = [];
  let pendingJson = "";
  let pendingText = "";
  let error: string | undefined;
  let imageId: string | undefined;

  const emit = (raw: string) => {
    // A progress line redrawn with \r shows only its last state.
    const line = raw.replace(/\r$/, "").split("\r").at(-1) ?? "";
    if (line.length === 0) return;
    output.push(line);
    if (onOutput !== undefined) {
      if (output.length > BUILD_OUTPUT_TAIL) output.shift();
      onOutput(line);
    }
  };
  const onText = (text: string) => {
    const parts = (pendingText + text).split("\n");
    pendingText = parts.pop() ?? "";
    for (const part of parts) emit(part);
  };
  const onMessage = (line: string) => {
    if (line.trim().length === 0) return;
    let message: typeof ProgressLine.Type;
    try {
      message = Schema.decodeUnknownSync(ProgressLine)(JSON.parse(line));
    } catch {
      message = { stream: `${line}\n` };
    }
    if (message.stream !== undefined) onText(message.stream);
    const failed = message.error ?? message.errorDetail?.message;
    if (failed !== undefined) error ??= failed.trim();
    if (message.aux?.ID !== undefined) imageId = message.aux.ID;
  };

  return {
    write: (chunk: Buffer) => {
      const lines = (pendingJson + decoder.write(chunk)).split("\n");
      pendingJson = lines.pop() ?? "";
      for (const line of lines) onMessage(line);
    },
    end: (): BuildOutcome => {
      onMessage(pendingJson + decoder.end());
      pendingJson = "";
      if (pendingText.length > 0) emit(pendingText);
      pendingText = "";
      return error === undefined
        ? { _tag: "Built", imageId, output }
        : { _tag: "BuildFailed", error, output };
    },
  };
};

const PULL_NOT_FOUND = /manifest unknown|not found|unauthorized|denied|requested access/i;

export const makeDockerEngine = (options: DockerEngineOptions = {}): DockerEngine => {
  const endpoint = parseEngineUrl(options.url ?? process.env.DOCKER_HOST ?? DEFAULT_ENGINE_URL);
  const prefix = `/v${options.apiVersion ?? "1.41"}`;
  const defaultTimeout = options.requestTimeout ?? "30 seconds";
  const dispatcher = new Agent({
    ...(endpoint.socketPath === undefined ? {} : { connect: { socketPath: endpoint.socketPath } }),
    // Deadlines are enforced per request below; undici's own would cut long builds short.
    headersTimeout: 0,
    bodyTimeout: 0,
  });

  const send = (req: EngineRequest): Effect.Effect<EngineResponse, ContainerRuntimeError> => {
    const timeout = Duration.decode(req.timeout ?? defaultTimeout);
    const query =
      req.query === undefined
        ? ""
        : `?${new URLSearchParams(Object.entries(req.query).map(([k, v]): [string, string] => [k, String(v)]))}`;
    const path = req.path === "/_ping" ? req.path : `${prefix}${req.path}`;
    const headers: Record<string, string> = {};
    let body: string | Uint8Array | Readable | undefined;
    if (req.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.json);
    } else if (req.body !== undefined) {
      headers["content-type"] = req.contentType ?? "application/octet-stream";
      body = req.body;
    }
    return Effect.tryPromise({
      try: async (signal) => {
        const res = await request(`${endpoint.origin}${path}${query}`, {
          dispatcher,
          method: req.method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal,
        });
        if (req.onChunk !== undefined && res.statusCode === 200) {
          for await (const chunk of res.body) req.onChunk(Buffer.from(chunk as Uint8Array));
          return { status: res.statusCode, body: Buffer.alloc(0) };
        }
        return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
      },
      catch: (cause) => transportFailure(endpoint, req.what, cause),
    }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new ContainerRuntimeError({
            reason: `the container engine at ${endpoint.url} did not finish ${req.what} within ${Duration.format(timeout)}`,
            retryable: true,
          }),
      }),
    );
  };

  /** Sends; any status outside `ok` becomes a failure. */
  const call = (req: EngineRequest, ok: ReadonlyArray<number>) =>
    Effect.flatMap(send(req), (res) =>
      ok.includes(res.status)
        ? Effect.succeed(res)
        : Effect.fail(engineFailure(req.what, res.status, errorMessage(res.body))),
    );

  const decodeJson = <A, I>(schema: Schema.Schema<A, I>, what: string, body: Buffer) =>
    Effect.try({
      try: () => Schema.decodeUnknownSync(schema)(JSON.parse(body.toString("utf8"))),
      catch: (error) => decodeFailure(what, error),
    });

  const ping = Effect.flatMap(send({ method: "GET", path: "/_ping", what: "a ping" }), (res) =>
    res.status === 200 && res.body.toString("utf8").trim() === "OK"
      ? Effect.void
      : Effect.fail(engineFailure("a ping", res.status, errorMessage(res.body))),
  );

  const version = Effect.gen(function* () {
    const what = "a version request";
    const res = yield* call({ method: "GET", path: "/version", what }, [200]);
    const v = yield* decodeJson(Version, what, res.body);
    const components = (v.Components ?? []).map((c) => c.Name);
    const platform = v.Platform?.Name ?? "unknown";
    return {
      platform,
      version: v.Version ?? "unknown",
      apiVersion: v.ApiVersion ?? "unknown",
      components,
      isPodman: [platform, ...components].some((name) => /podman/i.test(name)),
    };
  });

  const imageExists = (ref: string) =>
    Effect.gen(function* () {
      const what = `looking up image ${ref}`;
      const res = yield* call(
        { method: "GET", path: `/images/${imagePath(ref)}/json`, what },
        [200, 404],
      );
      if (res.status === 404) return false;
      yield* decodeJson(ImageInspect, what, res.body);
      return true;
    });

  const pullImage = (ref: string) =>
    Effect.gen(function* () {
      const what = `pulling image ${ref}`;
      const { image, tag } = splitImageRef(ref);
      const res = yield* send({
        method: "POST",
        path: "/images/create",
        query: { fromImage: image, tag },
        timeout: "10 minutes",
        what,
      });
      const failed =
        res.status === 200
          ? parseProgress(res.body).find((line) => line.error !== undefined)?.error
          : errorMessage(res.body);
      if (failed === undefined) return;
      if (res.status === 404 || PULL_NOT_FOUND.test(failed))
        return yield* Effect.fail(
          new ContainerRuntimeError({
            reason: `image not found: ${ref} (pull failed: ${failed})`,
            retryable: false,
          }),
        );
      return yield* Effect.fail(
        new ContainerRuntimeError({
          reason: `could not pull image ${ref}: ${failed}`,
          retryable: res.status === 200 || res.status >= 500,
        }),
      );
    });

  const build = (input: BuildImageInput) =>
    Effect.gen(function* () {
      const reader = buildStreamReader(input.onOutput);
      yield* call(
        {
          method: "POST",
          path: "/build",
          query: {
            t: input.tag,
            dockerfile: input.dockerfile ?? "Dockerfile",
            rm: true,
            forcerm: true,
            ...(input.buildArgs === undefined
              ? {}
              : { buildargs: JSON.stringify(input.buildArgs) }),
            ...(input.labels === undefined ? {} : { labels: JSON.stringify(input.labels) }),
          },
          body: input.context,
          contentType: "application/x-tar",
          timeout: input.timeout ?? "10 minutes",
          onChunk: reader.write,
          what: `building image ${input.tag}`,
        },
        [200],
      );
      return reader.end();
    });

  const buildImage = (input: BuildImageInput) =>
    Effect.flatMap(build(input), (outcome) => {
      if (outcome._tag === "Built")
        return Effect.succeed({ imageId: outcome.imageId, output: outcome.output });
      const tail = outcome.output.slice(-5).join("\n");
      return Effect.fail(
        new ContainerRuntimeError({
          reason: `image build ${input.tag} failed: ${outcome.error}${tail.length > 0 ? `\n${tail}` : ""}`,
          retryable: false,
        }),
      );
    });

  const createContainer = (name: string, body: CreateContainerBody) =>
    Effect.gen(function* () {
      const what = `creating container ${name}`;
      const res = yield* send({
        method: "POST",
        path: "/containers/create",
        query: { name },
        json: body,
        what,
      });
      if (res.status === 201 || res.status === 200) {
        const created = yield* decodeJson(CreatedContainer, what, res.body);
        return { _tag: "Created", id: created.Id } as const;
      }
      const message = errorMessage(res.body);
      if (res.status === 404)
        return yield* Effect.fail(
          new ContainerRuntimeError({ reason: `image not found: ${body.Image}`, retryable: false }),
        );
      if (isNameConflict(res.status, message)) return { _tag: "NameInUse" } as const;
      return yield* Effect.fail(engineFailure(what, res.status, message));
    });

  const startContainer = (id: string) =>
    Effect.asVoid(
      call(
        {
          method: "POST",
          path: `/containers/${encodeURIComponent(id)}/start`,
          what: `starting container ${id}`,
        },
        [204, 304],
      ),
    );

  const inspectContainer = (id: string) =>
    Effect.gen(function* () {
      const what = `inspecting container ${id}`;
      const res = yield* call(
        { method: "GET", path: `/containers/${encodeURIComponent(id)}/json`, what },
        [200, 404],
      );
      if (res.status === 404) return Option.none();
      return Option.some(yield* decodeJson(ContainerInspect, what, res.body));
    });

  const stopContainer = (id: string, timeoutSeconds: number) =>
    Effect.map(
      call(
        {
          method: "POST",
          path: `/containers/${encodeURIComponent(id)}/stop`,
          query: { t: timeoutSeconds },
          // The engine waits `t` seconds before it kills.
          timeout: Duration.sum(Duration.seconds(timeoutSeconds), defaultTimeout),
          what: `stopping container ${id}`,
        },
        [204, 304, 404],
      ),
      (res) => (res.status === 204 ? "stopped" : res.status === 304 ? "not-running" : "gone"),
    );

  const removeContainer = (id: string) =>
    Effect.map(
      call(
        {
          method: "DELETE",
          path: `/containers/${encodeURIComponent(id)}`,
          query: { force: true, v: true },
          what: `removing container ${id}`,
        },
        [200, 204, 404],
      ),
      (res) => (res.status === 404 ? "gone" : "removed"),
    );

  const removeImage = (ref: string) =>
    Effect.map(
      call(
        { method: "DELETE", path: `/images/${imagePath(ref)}`, what: `removing image ${ref}` },
        [200, 404],
      ),
      (res) => (res.status === 404 ? "gone" : "removed"),
    );

  const listContainers = (labels: Readonly<Record<string, string>>) =>
    Effect.gen(function* () {
      const what = "listing containers";
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const res = yield* call(
        {
          method: "GET",
          path: "/containers/json",
          query: { all: true, filters: JSON.stringify(filters) },
          what,
        },
        [200],
      );
      return yield* decodeJson(ContainerList, what, res.body);
    });

  const containerLogs = (id: string, tail: number) =>
    Effect.map(
      call(
        {
          method: "GET",
          path: `/containers/${encodeURIComponent(id)}/logs`,
          query: { stdout: true, stderr: true, tail: Math.max(0, Math.floor(tail)) },
          what: `reading the logs of container ${id}`,
        },
        [200],
      ),
      (res) => {
        const lines = demuxLogs(res.body).split("\n");
        if (lines.at(-1) === "") lines.pop();
        return lines;
      },
    );

  const close = Effect.promise(() => dispatcher.close().catch(() => undefined));

  return {
    endpoint,
    ping,
    version,
    imageExists,
    pullImage,
    build,
    buildImage,
    createContainer,
    startContainer,
    inspectContainer,
    stopContainer,
    removeContainer,
    removeImage,
    listContainers,
    containerLogs,
    close,
  };
};
