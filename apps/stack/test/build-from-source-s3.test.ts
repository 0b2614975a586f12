/**
 * Build from source on the whole stack with S3-compatible build storage (s3rver, started here):
 * ctrl hands out a presigned PUT to the bucket, the client uploads there directly, ctrl checks
 * the object at CreateDeployment and hydra downloads it from the bucket to build it. Nothing of
 * the upload passes through ctrl, and nothing is written to the local build storage.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { DeploymentStatus } from "@ferry/api";
import { startTestS3Server, type TestS3Server } from "@ferry/build-storage/testing";
import { BUSYBOX_BASE, busyboxContext, tarGzBytes } from "@ferry/builder/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Clients,
  clientsOf,
  ownHostname,
  put,
  serves,
  startTestStack,
  type TestStack,
  untilTerminal,
} from "../src/testing.ts";

let s3: TestS3Server;
let stack: TestStack;
let clients: Clients;

/** Unique to this run: Podman's layer cache would otherwise replay a RUN without its output. */
const marker = `${process.pid}-${Date.now().toString(36)}`;

beforeAll(async () => {
  s3 = await startTestS3Server({ bucket: "ferry-builds" });
  stack = await startTestStack({ name: "ferry-build-s3", env: s3.env });
  expect(stack.engineUrl).toBeDefined();
  clients = clientsOf(stack);
});

afterAll(async () => {
  await stack?.dispose();
  await s3?.stop();
});

describe("build from source on S3 build storage", () => {
  it("presigned PUT to the bucket → CreateDeployment → READY → served through frontline", async () => {
    const { project } = await clients.projects.createProject({ name: "Bucket", slug: "bucket" });
    const projectId = project?.id ?? "";
    const content = `hello from s3 ${marker}`;
    const archive = await tarGzBytes([
      ...busyboxContext(
        [
          BUSYBOX_BASE.trimEnd(),
          "COPY site /www",
          `RUN echo "built from s3 ${marker}"`,
          'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
          "",
        ].join("\n"),
        { dockerfilePath: "deploy/Dockerfile" },
      ),
      { name: "site/index.html", content },
    ]);

    // Declaring the size signs it into the URL: S3 then takes exactly that many bytes.
    const url = await clients.deployments.createUploadUrl({
      projectId,
      sizeBytes: BigInt(archive.length),
    });
    expect(url.method).toBe("PUT");
    expect(url.buildContextPath).toMatch(new RegExp(`^projects/${projectId}/contexts/`));
    expect(
      url.uploadUrl.startsWith(`${s3.config.endpoint}/ferry-builds/${url.buildContextPath}?`),
    ).toBe(true);
    expect(new URL(url.uploadUrl).searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(url.requiredHeaders).toStrictEqual({ "content-length": String(archive.length) });
    const answer = await put(url.uploadUrl, archive, url.requiredHeaders);
    expect(answer.status).toBe(200);

    const created = await clients.deployments.createDeployment({
      projectId,
      environmentSlug: "production",
      source: {
        case: "buildContext",
        value: { buildContextPath: url.buildContextPath, dockerfilePath: "deploy/Dockerfile" },
      },
      regions: ["local-1"],
    });
    const deployment = await untilTerminal(clients, created.deploymentId, 200_000);
    expect(deployment.errorMessage).toBe("");
    expect(deployment.status).toBe(DeploymentStatus.READY);
    await serves(stack.frontlineUrl, ownHostname(deployment), content);
    await serves(stack.frontlineUrl, "bucket--default.ferry.localhost", content);

    const { lines } = await clients.deployments.getBuildLogs({
      deploymentId: created.deploymentId,
    });
    expect(lines.map((line) => line.text)).toContain(`built from s3 ${marker}`);
    // The archive went to the bucket, not to the local build storage.
    const local = path.join(stack.dataDir, "build-contexts");
    expect(existsSync(local) ? readdirSync(local, { recursive: true }) : []).toStrictEqual([]);
  });
});
