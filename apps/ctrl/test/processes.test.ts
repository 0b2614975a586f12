/**
 * ctrl's two programs as an operator runs them, as child processes on a real
 * migrated database: `main.ts` (config → migrate → bootstrap → listen →
 * SIGTERM) and the `admin.ts` commands.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeploymentService, DeploymentStatus, ProjectService } from "@ferry/api";
import { createTestDatabase, type TestDatabase } from "@ferry/db/testing";
import { generateKey, parseKeyRing } from "@ferry/secret-box";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../src/admin.ts";
import { hashToken } from "../src/auth.ts";
import { authorization, expectError } from "./support.ts";

const ADMIN = fileURLToPath(new URL("../src/admin.ts", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const execNode = promisify(execFile);

let db: TestDatabase;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  db = await createTestDatabase();
  env = {
    PATH: process.env.PATH,
    DATABASE_URL: db.url,
    FERRY_SECRET_KEYS: generateKey("k1"),
  };
});
afterAll(() => db?.close());

/** The admin command in this process (fast); one test runs it as a process too. */
const admin = async (args: ReadonlyArray<string>, extraEnv: NodeJS.ProcessEnv = {}) => {
  let stdout = "";
  let stderr = "";
  const code = await runAdmin(args, {
    env: { ...env, ...extraEnv },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
};

const activeKey = (token: string) =>
  db.prisma.apiKey.findFirst({ where: { hash: hashToken(token), revokedAt: null } });

describe("admin", () => {
  it("creates a workspace and prints its key once", async () => {
    const created = await admin(["create-workspace", "--name", "Acme Inc", "--slug", "acme"]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^ferry_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(
      /^created workspace acme \(ws_[0-9a-z]{26}\)\. Its API key, shown only this once:\n$/,
    );
    const key = await activeKey(token);
    const workspace = await db.prisma.workspace.findUnique({ where: { slug: "acme" } });
    expect(workspace?.name).toBe("Acme Inc");
    expect(key?.workspaceId).toBe(workspace?.id);
    expect(JSON.stringify(await db.prisma.apiKey.findMany())).not.toContain(token);
  });

  it("creates more keys and refuses mistakes with exit code 2", async () => {
    const second = await admin(["create-key", "--workspace", "acme", "--name", "ci"]);
    expect(second.code).toBe(0);
    expect((await activeKey(second.stdout.trim()))?.name).toBe("ci");

    expect(await admin(["create-workspace", "--name", "Again", "--slug", "acme"])).toEqual({
      code: 2,
      stdout: "",
      stderr: 'admin: workspace "acme" already exists\n',
    });
    expect(await admin(["create-key", "--workspace", "nope"])).toMatchObject({
      code: 2,
      stderr: 'admin: workspace "nope" not found\n',
    });
    expect(await admin(["create-workspace", "--name", "X", "--slug", "Not Valid"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^admin: slug: must contain only lowercase letters/),
    });
    const usage = await admin(["create-workspace", "--slug", "x"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^admin: create-workspace needs --name and --slug\nusage:\n/);
    expect((await admin(["frobnicate"])).stderr).toMatch(
      /^admin: unknown command "frobnicate"\nusage:/,
    );
    expect((await admin(["create-key", "--bogus"])).code).toBe(2);
  });

  it("runs as a program; prints a new secret key; reports a bad configuration", async () => {
    const { stdout } = await execNode(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", ADMIN, "generate-secret-key", "--id", "k2"],
      { env, timeout: 30_000 },
    );
    expect(parseKeyRing(stdout.trim()).currentKeyId).toBe("k2");
    const bad = await admin(["create-key", "--workspace", "acme"], { FERRY_API_PORT: "http" });
    expect(bad).toMatchObject({
      code: 2,
      stderr:
        'admin: invalid configuration:\n  - FERRY_API_PORT: must be an integer from 0 to 65535 (got "http")\n',
    });
  });
});

describe("main", () => {
  const lines: Array<Record<string, unknown>> = [];
  let child: ChildProcess | undefined;

  afterAll(() => {
    child?.kill("SIGKILL");
  });

  it("starts, bootstraps its key, serves, and stops gracefully on SIGTERM", async () => {
    child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN], {
      env: {
        ...env,
        FERRY_API_PORT: "0",
        FERRY_BOOTSTRAP_TOKEN: "main-test-bootstrap-token",
        // Nothing listens there: the Restate adapter is wired, Restate is down.
        FERRY_RESTATE_INGRESS_URL: "http://127.0.0.1:1",
        FERRY_RESTATE_ADMIN_URL: "http://127.0.0.1:1",
        FERRY_RESTATE_REQUEST_TIMEOUT_MS: "2000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    const listening = new Promise<string>((resolve, reject) => {
      let buffer = "";
      child?.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
          const line = JSON.parse(buffer.slice(0, end)) as Record<string, unknown>;
          buffer = buffer.slice(end + 1);
          lines.push(line);
          if (typeof line.url === "string") resolve(line.url);
        }
      });
      child?.once("exit", (code) => reject(new Error(`main exited with ${code}: ${stderr}`)));
    });
    const url = await listening;
    expect(lines.map((line) => line.msg)).toEqual([
      "database ready",
      "bootstrap key ready",
      "route feed ready",
      `ctrl listening on ${url} (Connect, gRPC and gRPC-Web; HTTP/1.1 and h2c)`,
    ]);
    expect(lines[1]).toMatchObject({ workspace: "default", createdKey: true });

    const transport = createGrpcTransport({
      baseUrl: url,
      interceptors: [authorization("Bearer main-test-bootstrap-token")],
    });
    const { project } = await createClient(ProjectService, transport).createProject({
      name: "Web",
      slug: "web",
    });
    expect(project?.slug).toBe("web");
    // Restate is down: Unavailable, and the deployment is FAILED, never left PENDING.
    const deployments = createClient(DeploymentService, transport);
    await expectError(
      deployments.createDeployment({
        projectId: project?.id ?? "",
        environmentSlug: "production",
        source: { case: "dockerImage", value: "localhost/web:1" },
      }),
      Code.Unavailable,
      /./,
    );
    const listed = await deployments.listDeployments({ projectId: project?.id ?? "" });
    expect(listed.deployments.map((d) => d.status)).toEqual([DeploymentStatus.FAILED]);
    expect(listed.deployments[0]?.errorMessage).toMatch(
      /^the deploy workflow could not be started: /,
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    expect(lines.map((line) => line.msg).slice(-2)).toEqual([
      "SIGTERM: shutting down (calls in flight finish first)",
      "stopped",
    ]);
    expect(lines.some((line) => line.msg === "rpc" && line.code === "ok")).toBe(true);
    expect(JSON.stringify(lines)).not.toContain("main-test-bootstrap-token");
  });

  it("refuses to start with a bad configuration, listing each problem", async () => {
    const result = await execNode(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", MAIN],
      { env: { PATH: process.env.PATH, FERRY_API_PORT: "-1", FERRY_REGIONS: "Local" } },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result).toMatchObject({
      code: 2,
      stderr:
        'ctrl: invalid configuration:\n  - FERRY_API_PORT: must be an integer from 0 to 65535 (got "-1")\n  - FERRY_REGIONS: region names must be lowercase letters, digits and \'-\', at most 63 characters (got "Local")\n',
    });
  });
});
