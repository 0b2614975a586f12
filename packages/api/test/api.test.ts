import { create, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  CreateDeploymentRequestSchema,
  DeploymentService,
  DeploymentStatus,
  ProjectService,
} from "../src/index.ts";

describe("CreateDeploymentRequest", () => {
  const request = create(CreateDeploymentRequestSchema, {
    projectId: "proj_123",
    environmentSlug: "production",
    source: {
      case: "buildContext",
      value: {
        buildContextPath: "projects/proj_123/contexts/abc.tar.gz",
        dockerfilePath: "./docker/Dockerfile",
      },
    },
    gitCommit: {
      commitSha: "0123456789abcdef0123456789abcdef01234567",
      branch: "main",
      commitMessage: "Fix the thing",
      authorHandle: "octocat",
      authorAvatarUrl: "https://example.com/a.png",
      timestamp: 1_764_000_000_000n,
    },
    regions: ["local"],
    idempotencyKey: "deploy-1",
  });

  it("round-trips through the binary format", () => {
    const decoded = fromBinary(
      CreateDeploymentRequestSchema,
      toBinary(CreateDeploymentRequestSchema, request),
    );
    expect(decoded).toEqual(request);
    expect(decoded.source.case).toBe("buildContext");
  });

  it("round-trips through the JSON format", () => {
    const json = toJson(CreateDeploymentRequestSchema, request);
    expect(json).toMatchObject({
      projectId: "proj_123",
      environmentSlug: "production",
      buildContext: { buildContextPath: "projects/proj_123/contexts/abc.tar.gz" },
      // int64 is a string in the protobuf JSON mapping.
      gitCommit: { timestamp: "1764000000000" },
    });
    expect(fromJson(CreateDeploymentRequestSchema, json)).toEqual(request);
  });

  it("keeps the presence of optional fields", () => {
    const image = create(CreateDeploymentRequestSchema, {
      projectId: "proj_123",
      environmentSlug: "preview",
      source: { case: "dockerImage", value: "ghcr.io/acme/api:1.4.2" },
    });
    const decoded = fromBinary(
      CreateDeploymentRequestSchema,
      toBinary(CreateDeploymentRequestSchema, image),
    );
    expect(decoded.gitCommit).toBeUndefined();
    expect(decoded.source).toEqual({ case: "dockerImage", value: "ghcr.io/acme/api:1.4.2" });
  });
});

describe("service descriptors", () => {
  // Clients and tests call these names; renaming one is a breaking change.
  it("DeploymentService exposes the fixed methods", () => {
    expect(DeploymentService.typeName).toBe("ctrl.v1.DeploymentService");
    const names = DeploymentService.methods.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "CreateDeployment",
        "GetDeployment",
        "ListDeployments",
        "Promote",
        "Rollback",
        "CancelDeployment",
        "WatchDeployment",
        "CreateUploadUrl",
        "GetBuildLogs",
      ]),
    );
    expect(DeploymentService.method.watchDeployment.methodKind).toBe("server_streaming");
    expect(DeploymentService.method.promote.methodKind).toBe("unary");
  });

  it("ProjectService exposes the fixed methods", () => {
    expect(ProjectService.typeName).toBe("ctrl.v1.ProjectService");
    const names = ProjectService.methods.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "CreateProject",
        "GetProject",
        "ListProjects",
        "UpdateProjectSettings",
        "CreateEnvironment",
        "SetEnvironmentVariables",
        "ListEnvironmentVariables",
      ]),
    );
  });

  it("DeploymentStatus has the fixed values", () => {
    expect(DeploymentStatus).toMatchObject({
      UNSPECIFIED: 0,
      PENDING: 1,
      BUILDING: 2,
      DEPLOYING: 3,
      NETWORK: 4,
      READY: 5,
      FAILED: 6,
      CANCELLED: 7,
      SUPERSEDED: 8,
    });
  });
});
