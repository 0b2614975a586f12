/**
 * Build from source on the whole stack (local build storage, the default), through the public
 * API only: a source tree packed as .tar.gz → CreateUploadUrl → PUT → CreateDeployment with a
 * build context → WatchDeployment → READY → served through frontline. Then every error a user
 * can act on, each with its own message.
 *
 * Builds are few (they are the slow part): one that succeeds, one Dockerfile the engine refuses
 * and one failing RUN. Every other bad archive fails in hydra's checks before any build.
 */
import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeploymentStatus, DeploymentStepStatus, type WatchDeploymentResponse } from "@ferry/api";
import {
  BUSYBOX_BASE,
  busyboxContext,
  type TestEntry,
  tarBytes,
  tarGzBytes,
} from "@ferry/builder/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Clients,
  clientsOf,
  ownHostname,
  serves,
  startTestStack,
  type TestStack,
  untilTerminal,
  upload,
  uploaded,
} from "../src/testing.ts";
import { buildLogs, describeEvent, engineGet, isStatus, watch } from "./support/build.ts";

/** Small enough to exceed cheaply, large enough for a busybox context (about 1 MiB gzip'd). */
const UPLOAD_LIMIT = 2 * 1024 * 1024;

let stack: TestStack;
let clients: Clients;

/** Unique to this run: Podman's layer cache would otherwise replay a RUN without its output. */
const marker = `${process.pid}-${Date.now().toString(36)}`;

beforeAll(async () => {
  stack = await startTestStack({
    name: "ferry-build-from-source",
    env: { FERRY_UPLOAD_MAX_BYTES: String(UPLOAD_LIMIT) },
  });
  expect(stack.engineUrl).toBeDefined();
  clients = clientsOf(stack);
});

afterAll(async () => {
  await stack?.dispose();
});

const createProject = async (slug: string) => {
  const { project } = await clients.projects.createProject({ name: slug, slug });
  return project?.id ?? "";
};

const deployContext = (projectId: string, buildContextPath: string, dockerfilePath?: string) =>
  clients.deployments.createDeployment({
    projectId,
    environmentSlug: "production",
    source: {
      case: "buildContext",
      value: { buildContextPath, ...(dockerfilePath === undefined ? {} : { dockerfilePath }) },
    },
    regions: ["local-1"],
  });

/** Everything but heartbeats: those are not part of the event sequence. */
const events = (responses: ReadonlyArray<WatchDeploymentResponse>) =>
  responses.filter((r) => r.event.case !== "heartbeat");

/** JSON of API responses (int64 as strings), to search for what must never be in one. */
const json = (value: unknown) =>
  JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));

describe("build from source, end to end", () => {
  const SECRET = `s3cr3t-${randomBytes(12).toString("hex")}`;
  const GREETING = `hello-arg-${marker}`;
  const CONTENT = `hello from source ${marker}`;
  const DOCKERFILE = [
    BUSYBOX_BASE.trimEnd(),
    "ARG GREETING",
    // Declared, but a secret is never a build argument: $API_TOKEN stays empty.
    "ARG API_TOKEN",
    "COPY site /www",
    `RUN echo "build ${marker} greeting=$GREETING token=$API_TOKEN" && echo "$GREETING" > /www/greeting.txt`,
    'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
    "",
  ].join("\n");

  it("upload → CreateDeployment (Dockerfile in a subfolder) → watched live to READY → served through frontline; secrets stay out", async () => {
    const projectId = await createProject("site");
    await clients.projects.setEnvironmentVariables({
      projectId,
      environmentSlug: "production",
      variables: [
        { key: "GREETING", value: GREETING },
        { key: "API_TOKEN", value: SECRET, secret: true },
      ],
    });
    const archive = await tarGzBytes([
      ...busyboxContext(DOCKERFILE, { dockerfilePath: "docker/web.Dockerfile" }),
      // Built instead if the Dockerfile path were ignored, and that build would fail.
      { name: "Dockerfile", content: "THIS IS NOT THE DOCKERFILE TO BUILD\n" },
      { name: "site/index.html", content: CONTENT },
    ]);
    expect(archive.length).toBeLessThan(UPLOAD_LIMIT);
    const path = await uploaded(clients, projectId, archive);
    expect(path).toMatch(new RegExp(`^projects/${projectId}/contexts/[^/]+\\.tar\\.gz$`));

    const created = await deployContext(projectId, path, "docker/web.Dockerfile");
    expect(created.status).toBe(DeploymentStatus.PENDING);
    const id = created.deploymentId;
    // Two watchers from the start: one stays to the end; the other leaves at the first build
    // log line and comes straight back, while the build runs, with the last cursor it had.
    const leaveAndResume = async () => {
      const firstPart = await watch(clients, id, { until: (r) => r.event.case === "log" });
      const lastSeen = firstPart.at(-1);
      expect(lastSeen?.event.case).toBe("log");
      const rest = await watch(clients, id, { afterCursor: lastSeen?.cursor ?? "" });
      return { firstPart, rest };
    };
    const [whole, { firstPart, rest }] = await Promise.all([watch(clients, id), leaveAndResume()]);

    // Resumed: exactly the uninterrupted sequence, no gap, no duplicate.
    expect(events([...firstPart, ...rest])).toStrictEqual(events(whole));
    const sequence = events(whole).map(describeEvent);
    expect(new Set(events(whole).map((r) => r.cursor)).size).toBe(sequence.length);

    // The first message is the state the deployment was created in; the stream ends at READY.
    expect(sequence[0]).toBe("status PENDING");
    expect(sequence.at(-1)).toBe("status READY");
    const statuses = sequence.filter((line) => line.startsWith("status "));
    expect(statuses).toStrictEqual([
      "status PENDING",
      "status BUILDING",
      "status DEPLOYING",
      "status NETWORK",
      "status READY",
    ]);
    expect(sequence.filter((line) => line.startsWith("step "))).toStrictEqual([
      "step BUILDING RUNNING",
      "step BUILDING SUCCEEDED",
      "step DEPLOYING RUNNING",
      "step DEPLOYING SUCCEEDED",
      "step NETWORK RUNNING",
      "step NETWORK SUCCEEDED",
      "step READY RUNNING",
      "step READY SUCCEEDED",
    ]);
    // A step starts once its status is announced, and ends before the step after it starts.
    const at = (line: string) => sequence.indexOf(line);
    for (const [step, next] of [
      ["BUILDING", "DEPLOYING"],
      ["DEPLOYING", "NETWORK"],
      ["NETWORK", "READY"],
    ] as const) {
      expect(at(`step ${step} RUNNING`)).toBeGreaterThan(at(`status ${step}`));
      expect(at(`step ${step} SUCCEEDED`)).toBeLessThan(at(`step ${next} RUNNING`));
    }
    // The build's output, live, between the start and the end of BUILDING; the plain variable
    // was a build argument, the secret was not.
    const buildStart = sequence.indexOf("step BUILDING RUNNING");
    const buildEnd = sequence.indexOf("step BUILDING SUCCEEDED");
    const logLines = sequence.filter((line) => line.startsWith("log "));
    expect(logLines.length).toBeGreaterThan(0);
    expect(
      sequence.every((line, i) => !line.startsWith("log ") || (i > buildStart && i < buildEnd)),
    ).toBe(true);
    expect(logLines).toContain(`log BUILDING build ${marker} greeting=${GREETING} token=`);

    const { deployment } = await clients.deployments.getDeployment({ deploymentId: id });
    expect(deployment?.status).toBe(DeploymentStatus.READY);
    expect(deployment?.errorMessage).toBe("");
    expect(deployment?.steps.map((s) => [s.name, DeploymentStepStatus[s.status]])).toStrictEqual([
      ["BUILDING", "SUCCEEDED"],
      ["DEPLOYING", "SUCCEEDED"],
      ["NETWORK", "SUCCEEDED"],
      ["READY", "SUCCEEDED"],
    ]);
    const hostname = ownHostname({ hostnames: deployment?.hostnames ?? [], id });
    expect(hostname).not.toBe("");
    await serves(stack.frontlineUrl, hostname, CONTENT);
    await serves(stack.frontlineUrl, hostname, GREETING, { path: "/greeting.txt" });
    await serves(stack.frontlineUrl, "site--default.ferry.localhost", CONTENT);

    // GetBuildLogs: the same lines as the stream, and complete.
    const logs = await buildLogs(clients, id);
    expect(logs.complete).toBe(true);
    expect(logs.lines.map((text) => `log BUILDING ${text}`)).toStrictEqual(logLines);

    // The secret is in no API response ...
    const { variables } = await clients.projects.listEnvironmentVariables({
      projectId,
      environmentSlug: "production",
    });
    const listed = await clients.deployments.listDeployments({ projectId });
    const responses = json([whole, firstPart, rest, deployment, logs.responses, variables, listed]);
    expect(responses).toContain(GREETING);
    expect(responses).not.toContain(SECRET);
    // ... nor in the image: its history (build arguments show there) and its layers.
    const image = deployment?.image ?? "";
    expect(image).not.toBe("");
    const history = await engineGet(stack.engineUrl ?? "", `/images/${image}/history`);
    expect(history.status).toBe(200);
    expect(history.body.toString("utf8")).toContain(`build ${marker}`);
    expect(history.body.toString("latin1")).not.toContain(SECRET);
    const exported = await engineGet(stack.engineUrl ?? "", `/images/${image}/get`);
    expect(exported.status).toBe(200);
    // Layers are plain tars in the export: what the build wrote is there to be found.
    expect(exported.body.includes(GREETING)).toBe(true);
    expect(exported.body.includes(SECRET)).toBe(false);
    // ... nor in what ctrl, hydra and frontline logged.
    expect(stack.output.join("\n")).not.toContain(SECRET);
  });
});

describe("errors a user can act on", () => {
  const context = (dockerfile = `${BUSYBOX_BASE}CMD ["/bin/busybox", "true"]\n`) =>
    busyboxContext(dockerfile);

  it("an upload over FERRY_UPLOAD_MAX_BYTES is refused at the PUT and nothing is stored", async () => {
    const projectId = await createProject("too-large");
    const { buildContextPath, answer } = await upload(
      clients,
      projectId,
      randomBytes(UPLOAD_LIMIT + 1),
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toStrictEqual({
      error: `the archive is ${UPLOAD_LIMIT + 1} bytes; this upload URL accepts at most ${UPLOAD_LIMIT}`,
    });
    const error = await deployContext(projectId, buildContextPath).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it("CreateDeployment with another project's build context: InvalidArgument", async () => {
    const owner = await createProject("owner");
    const other = await createProject("other");
    const path = await uploaded(clients, owner, await tarGzBytes(context()));
    const error = await deployContext(other, path).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toContain(
      `must be a key under "projects/${other}/contexts/" (it belongs to another project or was not made by CreateUploadUrl)`,
    );
  });

  it("a build context never uploaded: NotFound naming it", async () => {
    const projectId = await createProject("never-uploaded");
    const { buildContextPath } = await clients.deployments.createUploadUrl({ projectId });
    const error = await deployContext(projectId, buildContextPath).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    expect((error as ConnectError).rawMessage).toBe(
      `build context "${buildContextPath}" not found: nothing was uploaded to it, or the upload did not finish: PUT the archive to the URL CreateUploadUrl returned, then create the deployment`,
    );
  });

  const HINT = "create it with `tar -czf source.tar.gz -C <directory> .`";
  const INSIDE =
    "build contexts may only hold files, directories and links that stay inside them: remove it, or create the archive from inside the directory (tar -czf source.tar.gz -C <directory> .)";
  const buildFailures: ReadonlyArray<{
    readonly name: string;
    readonly archive: () => Promise<Uint8Array>;
    readonly dockerfilePath?: string;
    readonly message: string | RegExp;
  }> = [
    {
      name: "not-gzipped",
      archive: () => tarBytes(context()),
      message: `the source archive is a tar that is not gzip'd; ${HINT}`,
    },
    {
      name: "not-an-archive",
      archive: async () => Buffer.from("just some text, not an archive\n"),
      message: `the source archive is not gzip'd (it does not start with the gzip signature); ${HINT}`,
    },
    {
      name: "parent-path",
      archive: () => tarGzBytes([...context(), { name: "../escape.txt", content: "x" }]),
      message: `the source archive's entry "../escape.txt" has a ".." component, so it points outside the archive; ${INSIDE}`,
    },
    {
      name: "absolute-path",
      archive: () => tarGzBytes([...context(), { name: "/etc/escape.txt", content: "x" }]),
      message: `the source archive's entry "/etc/escape.txt" has an absolute path; ${INSIDE}`,
    },
    {
      name: "symlink-out",
      archive: () =>
        tarGzBytes([
          ...context(),
          { name: "passwd", type: "symlink", linkname: "../../../etc/passwd" } as TestEntry,
        ]),
      message: `the source archive's entry "passwd" is a symbolic link to "../../../etc/passwd", outside the archive; ${INSIDE}`,
    },
    {
      name: "no-dockerfile-there",
      archive: () => tarGzBytes(context()),
      dockerfilePath: "docker/Dockerfile",
      message:
        'no Dockerfile at "docker/Dockerfile" in the source archive; there is one at "Dockerfile": set the Dockerfile path (build_context.dockerfile_path; ferry deploy --dockerfile) to Dockerfile',
    },
    {
      name: "dockerfile-syntax",
      archive: () => tarGzBytes(context(`${BUSYBOX_BASE}NOT_AN_INSTRUCTION ${marker}\n`)),
      message:
        /^the Dockerfile is invalid.*unknown instruction.*NOT_AN_INSTRUCTION.*; fix it and deploy again$/is,
    },
    {
      name: "failing-run",
      archive: () =>
        tarGzBytes(
          context(
            `${BUSYBOX_BASE}RUN echo "first ${marker}" && echo "last ${marker}" && exit 7\nCMD ["/bin/busybox", "true"]\n`,
          ),
        ),
      message: new RegExp(
        `^the build step "RUN echo .*" \\(step \\d+/\\d+\\) failed with exit code 7; its last output:\\n(.*\\n)?first ${marker}\\nlast ${marker}$`,
      ),
    },
  ];

  it("archives and Dockerfiles hydra refuses: FAILED at BUILDING, each with its own message", async () => {
    // One after another: the embedded database serves concurrent connections badly (see the
    // stack's FERRY_DATABASE_POOL_SIZE), and these are quick.
    const outcomes = [];
    for (const failure of buildFailures) {
      const projectId = await createProject(failure.name);
      const path = await uploaded(clients, projectId, await failure.archive());
      const { deploymentId } = await deployContext(projectId, path, failure.dockerfilePath);
      const watched = await watch(clients, deploymentId);
      const deployment = await untilTerminal(clients, deploymentId, 10_000);
      outcomes.push({ failure, watched, deployment });
    }
    for (const { failure, watched, deployment } of outcomes) {
      const where = `${failure.name}: ${deployment.errorMessage}`;
      expect(DeploymentStatus[deployment.status], where).toBe("FAILED");
      if (typeof failure.message === "string")
        expect(deployment.errorMessage, where).toBe(failure.message);
      else expect(deployment.errorMessage, where).toMatch(failure.message);
      expect(
        deployment.steps.map((s) => [s.name, DeploymentStepStatus[s.status]]),
        where,
      ).toStrictEqual([["BUILDING", "FAILED"]]);
      // The stream ends with the failure, carrying the same message.
      const last = watched.at(-1);
      expect(last && isStatus(last, DeploymentStatus.FAILED), where).toBe(true);
      expect(last?.event.case === "status" && last.event.value.errorMessage, where).toBe(
        deployment.errorMessage,
      );
    }
  });
});
