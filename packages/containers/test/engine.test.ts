/**
 * The engine client's parsing and failure mapping, with no engine or a fake one on a unix
 * socket (answers copied from Podman 4.3).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ContainerRuntimeError } from "@ferry/domain";
import { Effect, Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { demuxLogs, engineFailure, isNameConflict } from "../src/engine.ts";
import {
  makeContainerRuntime,
  makeDockerEngine,
  parseEngineUrl,
  redactEnv,
  splitImageRef,
} from "../src/index.ts";
import { isStaticElf, tarContext } from "../src/testing/index.ts";

const failure = async <A, E>(effect: Effect.Effect<A, E>): Promise<E> => {
  const result = await Effect.runPromise(Effect.either(effect));
  if (Either.isRight(result)) throw new Error("expected a failure, got a success");
  return result.left;
};

const spec = {
  name: "web-1",
  image: "localhost/app:1",
  region: "local",
  containerPort: 8080,
  env: { DATABASE_URL: "postgres://app:hunter2-secret@db/app" },
  labels: { "ferry.deployment": "dep_1" },
};

describe("parseEngineUrl", () => {
  it("accepts unix sockets, bare socket paths, tcp and http", () => {
    expect(parseEngineUrl("unix:///run/podman/podman.sock")).toEqual({
      url: "unix:///run/podman/podman.sock",
      socketPath: "/run/podman/podman.sock",
      origin: "http://localhost",
    });
    expect(parseEngineUrl("/var/run/docker.sock").socketPath).toBe("/var/run/docker.sock");
    expect(parseEngineUrl("tcp://127.0.0.1:2375").origin).toBe("http://127.0.0.1:2375");
    expect(parseEngineUrl("http://engine:2375/").origin).toBe("http://engine:2375");
  });

  it("rejects what it cannot speak, saying what it accepts", () => {
    expect(() => parseEngineUrl("https://engine:2376")).toThrow(/not supported/);
    expect(() => parseEngineUrl("ssh://user@host")).toThrow(/not supported/);
    expect(() => parseEngineUrl("unix://relative.sock")).toThrow(/absolute/);
    expect(() => parseEngineUrl(`unix:///${"x".repeat(120)}`)).toThrow(/107 bytes/);
    expect(() => parseEngineUrl("engine:2375")).toThrow(/expected unix/);
  });
});

describe("helpers", () => {
  it("splits image references for a pull", () => {
    expect(splitImageRef("localhost/app:1")).toEqual({ image: "localhost/app", tag: "1" });
    expect(splitImageRef("registry:5000/team/app")).toEqual({
      image: "registry:5000/team/app",
      tag: "latest",
    });
    expect(splitImageRef("app@sha256:abc")).toEqual({ image: "app", tag: "sha256:abc" });
  });

  it("demultiplexes log frames and leaves TTY output alone", () => {
    const frame = (kind: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = kind;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]))).toBe("out\nerr\n");
    expect(demuxLogs(Buffer.from("plain tty output\n"))).toBe("plain tty output\n");
  });

  it("redacts env values, long ones anywhere and any one after its name", () => {
    const env = { TOKEN: "abcd-secret", FLAG: "on" };
    expect(redactEnv("TOKEN=abcd-secret FLAG=on saw abcd-secret", env)).toBe(
      "TOKEN=<redacted> FLAG=<redacted> saw <redacted>",
    );
    expect(redactEnv("turned on", env)).toBe("turned on");
  });

  it("classifies engine answers: user mistakes are final, engine trouble is retryable", () => {
    const cases: Array<[number, string, boolean]> = [
      [400, "bad parameter", false],
      [404, "no such container", false],
      [
        500,
        "container create: running container create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument",
        false,
      ],
      [500, 'fill out specgen: invalid environment variable: "=x"', false],
      [
        500,
        'runc: runc create failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory: OCI runtime attempted to invoke a command that was not found',
        false,
      ],
      [500, "database is locked", true],
      [503, "service unavailable", true],
    ];
    for (const [status, message, retryable] of cases)
      expect(engineFailure("doing it", status, message).retryable, message).toBe(retryable);
    expect(isNameConflict(409, "Conflict")).toBe(true);
    expect(
      isNameConflict(
        500,
        'the container name "web-1" is already in use by 5695: that name is already in use',
      ),
    ).toBe(true);
    expect(isNameConflict(500, "database is locked")).toBe(false);
  });

  it("tells a static busybox from a dynamic binary", () => {
    expect(isStaticElf(readFileSync("/bin/busybox"))).toBe(true);
    expect(isStaticElf(readFileSync("/bin/sh"))).toBe(false);
    expect(isStaticElf(Buffer.from("#!/bin/sh\n"))).toBe(false);
  });

  it("packs a build context as a tar with executable binaries", async () => {
    const tar = await tarContext({
      Dockerfile: "FROM scratch\n",
      "bin/tool": new Uint8Array([1, 2]),
    });
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(0, 100).toString("latin1")).toContain("Dockerfile");
    const second = tar.indexOf("bin/tool");
    expect(second).toBeGreaterThan(0);
    // ustar mode field: octal at offset 100 of the header.
    expect(Number.parseInt(tar.subarray(second + 100, second + 108).toString("latin1"), 8)).toBe(
      0o755,
    );
  });
});

describe("an unreachable engine", () => {
  it("is a retryable failure that says where it looked", async () => {
    const runtime = makeContainerRuntime(
      makeDockerEngine({ url: "unix:///nonexistent/podman.sock" }),
    );
    const error = await failure(runtime.start(spec));
    expect(error).toBeInstanceOf(ContainerRuntimeError);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("unix:///nonexistent/podman.sock");
    expect(error.message).toContain("socket does not exist");

    const refused = await failure(
      makeContainerRuntime(makeDockerEngine({ url: "tcp://127.0.0.1:9" })).listByLabels({}),
    );
    expect(refused.retryable).toBe(true);
    expect(refused.message).toContain("connection refused");
  });
});

describe("a fake engine", () => {
  let server: Server | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const fakeEngine = async (
    handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
  ): Promise<string> => {
    dir = await mkdtemp(join(tmpdir(), "ferry-fake-engine-"));
    const socketPath = join(dir, "engine.sock");
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => handler(req, body, res));
    });
    await new Promise<void>((resolve) => server?.listen(socketPath, resolve));
    return `unix://${socketPath}`;
  };

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };

  it("never lets an env value through an engine error message", async () => {
    const url = await fakeEngine((req, body, res) => {
      if (req.url?.includes("/images/")) return json(res, 200, { Id: "sha256:1" });
      // An engine that quotes the request back, as Podman does for a bad variable.
      return json(res, 500, { message: `fill out specgen: invalid argument: ${body}` });
    });
    const error = await failure(makeContainerRuntime(makeDockerEngine({ url })).start(spec));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("invalid argument");
    expect(error.message).not.toContain("hunter2-secret");
    expect(error.message).toContain("DATABASE_URL=<redacted>");
  });

  it("times out a request the engine never answers, as retryable", async () => {
    const url = await fakeEngine(() => {
      // never answers
    });
    const engine = makeDockerEngine({ url, requestTimeout: "200 millis" });
    const error = await failure(engine.ping);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/did not finish a ping within/);
    await Effect.runPromise(engine.close);
  });

  it("treats a 5xx that says nothing permanent as retryable", async () => {
    const url = await fakeEngine((_req, _body, res) =>
      json(res, 500, { cause: "database is locked", message: "database is locked", response: 500 }),
    );
    const error = await failure(makeContainerRuntime(makeDockerEngine({ url })).listByLabels({}));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("database is locked");
  });

  it("reads a build failure from the stream of a 200 answer", async () => {
    const url = await fakeEngine((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        `${JSON.stringify({ stream: "STEP 1/2: FROM scratch\n" })}\n${JSON.stringify({
          error: "COPY failed: no such file",
          errorDetail: { message: "COPY failed: no such file" },
        })}\n`,
      );
    });
    const engine = makeDockerEngine({ url });
    const error = await failure(
      engine.buildImage({ tag: "localhost/x:1", context: new Uint8Array(512) }),
    );
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("image build localhost/x:1 failed: COPY failed");
    await Effect.runPromise(engine.close);
  });

  it("streams a build: lines joined across messages and chunks, args and labels in the query", async () => {
    let seen: { url: string; body: string } | undefined;
    const url = await fakeEngine((req, body, res) => {
      seen = { url: req.url ?? "", body };
      res.writeHead(200, { "content-type": "application/json" });
      const messages = [
        { stream: "STEP 1/2: FROM scratch\n" },
        { stream: "partial " },
        { stream: "line\nsecond\n" },
        { aux: { ID: "sha256:abc" } },
        { stream: "Successfully built abc\n" },
      ];
      const text = messages.map((m) => `${JSON.stringify(m)}\n`).join("");
      // Cut the stream mid-message, and mid-character of a multi-byte letter, to test reassembly.
      const bytes = Buffer.from(text.replace("partial", "partiäl"));
      const cut = bytes.indexOf(Buffer.from("ä")) + 1;
      res.write(bytes.subarray(0, cut));
      setTimeout(() => res.end(bytes.subarray(cut)), 20);
    });
    const engine = makeDockerEngine({ url });
    const lines: string[] = [];
    const outcome = await Effect.runPromise(
      engine.build({
        tag: "localhost/x:1",
        context: Readable.from([Buffer.from("context-bytes")]),
        dockerfile: "app/Dockerfile",
        buildArgs: { GREETING: "hi there" },
        labels: { "ferry.project": "prj_1" },
        onOutput: (line) => lines.push(line),
      }),
    );
    expect(outcome).toEqual({
      _tag: "Built",
      imageId: "sha256:abc",
      output: ["STEP 1/2: FROM scratch", "partiäl line", "second", "Successfully built abc"],
    });
    expect(lines).toEqual(outcome.output);
    const query = new URL(seen?.url ?? "", "http://x").searchParams;
    expect(query.get("dockerfile")).toBe("app/Dockerfile");
    expect(JSON.parse(query.get("buildargs") ?? "")).toEqual({ GREETING: "hi there" });
    expect(JSON.parse(query.get("labels") ?? "")).toEqual({ "ferry.project": "prj_1" });
    expect(seen?.body).toBe("context-bytes");
    await Effect.runPromise(engine.close);
  });

  it("returns a failed build as an outcome with the engine's message", async () => {
    const url = await fakeEngine((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        `${JSON.stringify({ stream: "STEP 2/2: RUN false\n" })}\n${JSON.stringify({
          errorDetail: { message: 'building at STEP "RUN false": exit status 1\n' },
          error: 'building at STEP "RUN false": exit status 1\n',
        })}\n`,
      );
    });
    const engine = makeDockerEngine({ url });
    const outcome = await Effect.runPromise(
      engine.build({ tag: "localhost/x:1", context: new Uint8Array(512) }),
    );
    expect(outcome).toEqual({
      _tag: "BuildFailed",
      error: 'building at STEP "RUN false": exit status 1',
      output: ["STEP 2/2: RUN false"],
    });
    await Effect.runPromise(engine.close);
  });
});
