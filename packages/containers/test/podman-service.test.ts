/** The Podman service manager and engine detection, against the real Podman of this machine. */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONTAINERS_CONF,
  type DockerEngine,
  detectEngine,
  makeDockerEngine,
  type PodmanService,
  startPodmanService,
} from "../src/index.ts";

let runtimeDir: string;
let service: PodmanService;
let engine: DockerEngine;

beforeAll(async () => {
  runtimeDir = await mkdtemp(join(tmpdir(), "ferry-podman-svc-"));
  service = await startPodmanService({ runtimeDir });
  engine = makeDockerEngine({ url: service.url });
});

afterAll(async () => {
  if (engine !== undefined) await Effect.runPromise(engine.close);
  await service?.stop();
  if (runtimeDir !== undefined) await rm(runtimeDir, { recursive: true, force: true });
});

describe("startPodmanService", () => {
  it("writes the project's containers.conf and serves the Docker Engine API on its socket", async () => {
    expect(service.socketPath).toBe(join(runtimeDir, "podman.sock"));
    expect(service.url).toBe(`unix://${service.socketPath}`);
    const conf = await readFile(service.containersConfPath, "utf8");
    expect(conf).toBe(CONTAINERS_CONF);
    for (const line of [
      "[containers]",
      'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]',
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
    ])
      expect(conf.split("\n")).toContain(line);

    await Effect.runPromise(engine.ping);
    const version = await Effect.runPromise(engine.version);
    expect(version.isPodman).toBe(true);
    expect(version.components).toContain("Podman Engine");
  });

  it("runs the service with CONTAINERS_CONF and BUILDAH_ISOLATION=chroot", async () => {
    const environ = (await readFile(`/proc/${service.pid}/environ`, "utf8")).split("\0");
    expect(environ).toContain(`CONTAINERS_CONF=${service.containersConfPath}`);
    expect(environ).toContain("BUILDAH_ISOLATION=chroot");
    const cmdline = (await readFile(`/proc/${service.pid}/cmdline`, "utf8")).split("\0");
    expect(cmdline).toEqual(expect.arrayContaining(["system", "service", "--time=0", service.url]));
  });

  it("refuses a directory where an engine already answers", async () => {
    await expect(startPodmanService({ runtimeDir })).rejects.toThrow(/already answers/);
  });

  it("fails with the install line when podman is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-podman-none-"));
    try {
      await expect(
        startPodmanService({ runtimeDir: dir, podmanPath: "/nonexistent/podman" }),
      ).rejects.toThrow(/podman is not installed.*apt-get install -y podman runc/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("detectEngine", () => {
  it("uses DOCKER_HOST when it answers", async () => {
    expect(await detectEngine({ env: { DOCKER_HOST: service.url } })).toEqual({
      found: true,
      url: service.url,
      source: "DOCKER_HOST",
    });
  });

  it("says so when DOCKER_HOST is set but dead", async () => {
    const detection = await detectEngine({
      env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      sockets: [service.socketPath],
    });
    expect(detection).toMatchObject({ found: false });
    if (!detection.found) expect(detection.reason).toContain("DOCKER_HOST=unix:///nonexistent");
  });

  it("finds a listed socket that answers", async () => {
    expect(
      await detectEngine({ env: {}, sockets: ["/nonexistent/podman.sock", service.socketPath] }),
    ).toEqual({ found: true, url: service.url, source: "socket" });
  });

  it("reports no engine with what to install, or what to start when podman is there", async () => {
    const none = await detectEngine({
      env: {},
      sockets: ["/nonexistent/podman.sock"],
      podmanPath: "/nonexistent/podman",
    });
    expect(none.found).toBe(false);
    if (!none.found) expect(none.reason).toContain("apt-get install -y podman runc");

    const idle = await detectEngine({ env: {}, sockets: ["/nonexistent/podman.sock"] });
    expect(idle.found).toBe(false);
    if (!idle.found) expect(idle.reason).toMatch(/Podman is installed .*podman system service/);
  });
});

describe("stop", () => {
  it("ends the service and removes its socket, and may be called twice", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-podman-stop-"));
    try {
      const second = await startPodmanService({ runtimeDir: dir });
      expect(existsSync(second.socketPath)).toBe(true);
      await second.stop();
      expect(existsSync(second.socketPath)).toBe(false);
      expect(existsSync(`/proc/${second.pid}`)).toBe(false);
      await second.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
