/** Human-readable output: aligned tables and `key  value` blocks, plain text (no colors). */
import type { Deployment, Project } from "@ferry/api";
import { statusName } from "../status.ts";
import { environmentKindName, isoTime, stepStatusName } from "./json.ts";

/** Columns padded to their widest cell, two spaces apart. */
export const table = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
) => {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? "").length)),
  );
  return all
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
};

/** `key  value` lines with the keys aligned; entries with an undefined value are left out. */
export const fields = (entries: ReadonlyArray<readonly [string, string | undefined]>) => {
  const shown = entries.filter(
    (entry): entry is readonly [string, string] => entry[1] !== undefined,
  );
  const width = Math.max(...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width + 1)}  ${value}`).join("\n");
};

const time = (ms: bigint) => isoTime(ms) ?? "-";

export const firstLine = (text: string) => text.split("\n", 1)[0] ?? "";

export const sourceText = (deployment: Deployment) =>
  deployment.source.case === "dockerImage"
    ? `image ${deployment.source.value}`
    : deployment.source.case === "buildContext"
      ? `build (${deployment.source.value.dockerfilePath ?? "Dockerfile"})`
      : "-";

export const projectText = (project: Project) =>
  [
    fields([
      ["id", project.id],
      ["name", project.name],
      ["slug", project.slug],
      ["live", project.liveDeploymentId === "" ? "(none)" : project.liveDeploymentId],
      ["rolled back", project.rolledBack ? "yes (new production deploys wait for promote)" : "no"],
      ["created", time(project.createdAt)],
    ]),
    "",
    table(
      ["ENVIRONMENT", "KIND", "CURRENT DEPLOYMENT"],
      project.environments.map((environment) => [
        environment.slug,
        environmentKindName(environment.kind),
        environment.currentDeploymentId === "" ? "-" : environment.currentDeploymentId,
      ]),
    ),
  ].join("\n");

/** The short view (`ferry status`). */
export const statusText = (deployment: Deployment) =>
  fields([
    ["deployment", deployment.id],
    ["status", `${statusName(deployment.status)}${deployment.isLive ? " (live)" : ""}`],
    ["error", deployment.errorMessage === "" ? undefined : deployment.errorMessage],
    ["environment", deployment.environmentSlug],
    ["hostnames", deployment.hostnames.length === 0 ? undefined : deployment.hostnames.join(", ")],
  ]);

/** The full view (`ferry get`). */
export const deploymentText = (deployment: Deployment) => {
  const git = deployment.gitCommit;
  const steps = deployment.steps.map((step) => [
    step.name,
    stepStatusName(step.status),
    time(step.startedAt),
    time(step.endedAt),
    step.message,
  ]);
  return [
    fields([
      ["deployment", deployment.id],
      ["project", deployment.projectId],
      ["environment", deployment.environmentSlug],
      ["status", `${statusName(deployment.status)}${deployment.isLive ? " (live)" : ""}`],
      ["error", deployment.errorMessage === "" ? undefined : deployment.errorMessage],
      ["source", sourceText(deployment)],
      ["image", deployment.image === "" ? undefined : deployment.image],
      ["branch", git?.branch === "" ? undefined : git?.branch],
      ["commit", git?.commitSha === "" ? undefined : git?.commitSha],
      ["message", git?.commitMessage === "" ? undefined : firstLine(git?.commitMessage ?? "")],
      ["author", git?.authorHandle === "" ? undefined : git?.authorHandle],
      ["regions", deployment.regions.join(", ")],
      ["created", time(deployment.createdAt)],
      ["updated", time(deployment.updatedAt)],
      ["idempotency key", deployment.idempotencyKey === "" ? undefined : deployment.idempotencyKey],
      [
        "hostnames",
        deployment.routesUnavailable
          ? "(routing store unavailable; ask again later)"
          : deployment.hostnames.length === 0
            ? "(none)"
            : deployment.hostnames.join("\n             "),
      ],
    ]),
    ...(steps.length === 0
      ? []
      : ["", table(["STEP", "STATUS", "STARTED", "ENDED", "MESSAGE"], steps)]),
  ].join("\n");
};

/** One row per deployment (`ferry list`). */
export const deploymentsTable = (deployments: ReadonlyArray<Deployment>) =>
  table(
    ["ID", "ENVIRONMENT", "STATUS", "BRANCH", "COMMIT", "CREATED"],
    deployments.map((deployment) => [
      deployment.id,
      deployment.environmentSlug,
      `${statusName(deployment.status)}${deployment.isLive ? " (live)" : ""}`,
      deployment.gitCommit?.branch || "-",
      deployment.gitCommit?.commitSha.slice(0, 12) || "-",
      time(deployment.createdAt),
    ]),
  );
