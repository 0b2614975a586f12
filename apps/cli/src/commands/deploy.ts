import { existsSync } from "node:fs";
import path from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CreateDeploymentRequestSchema, Project } from "@ferry/api";
import type { Command } from "commander";
import { describeApiError, getDeployment } from "../api.ts";
import type { Cli } from "../cli.ts";
import { type GitMetadata, gitCommitInfo, readGitMetadata } from "../deploy/git.ts";
import { packDirectory } from "../deploy/pack.ts";
import { checkDeployTarget } from "../deploy/target.ts";
import { uploadContext } from "../deploy/upload.ts";
import { usageError } from "../errors.ts";
import { followToEnd } from "../follow-to-end.ts";
import { deploymentJson } from "../format/json.ts";
import { statusText } from "../format/text.ts";
import { resolveProject } from "../projects.ts";

interface DeployOptions {
  readonly project: string;
  readonly env: string;
  readonly dockerfile?: string;
  readonly region: Array<string>;
  readonly image?: string;
  readonly detach?: boolean;
  readonly idempotencyKey?: string;
  readonly git: boolean;
}

const collect = (value: string, previous: Array<string>) => [...previous, value];

type Source = NonNullable<MessageInitShape<typeof CreateDeploymentRequestSchema>["source"]>;

export const registerDeployCommand = (program: Command, cli: Cli): void => {
  program
    .command("deploy")
    .summary("deploy a directory or an image and follow it to READY")
    .description(
      "build DIR (default: the current directory) with its Dockerfile, or run a prebuilt --image, and follow the deployment until it is READY",
    )
    .argument("[dir]", "the build context: packed honoring .dockerignore, uploaded, built by Ferry")
    .requiredOption("-p, --project <project>", "project slug or id")
    .option("-e, --env <environment>", "environment slug", "production")
    .option(
      "-f, --dockerfile <path>",
      "the Dockerfile, relative to the current directory like docker build -f (default: DIR/Dockerfile)",
    )
    .option(
      "--region <region>",
      "run in this region (repeat for several; default: every region)",
      collect,
      [],
    )
    .option("--image <ref>", "deploy this prebuilt image instead of building DIR")
    .option("--detach", "return once the deployment is created, without following it")
    .option(
      "--idempotency-key <key>",
      "a repeat with the same key returns the first deployment instead of creating another",
    )
    .option("--no-git", "do not read branch and commit from git")
    .addHelpText(
      "after",
      `
Branch, commit SHA, message, author and commit time are read from git when DIR is in a
repository (with --image: only when DIR is given). Exit 0 when the deployment is READY,
1 when it FAILED or was CANCELLED (with the server's message).

Examples:
  $ ferry deploy --project web                       # the current directory, to production
  $ ferry deploy ./site --project web --env preview --region local-1
  $ ferry deploy --project web --image ghcr.io/acme/web:1.4.2 --detach --json`,
    )
    .action(async (dir: string | undefined, options: DeployOptions, command: Command) => {
      const { io } = cli;
      if (options.image !== undefined && options.dockerfile !== undefined)
        throw usageError("--dockerfile builds DIR; --image deploys a prebuilt image: give one");
      const contextDir = path.resolve(io.cwd, dir ?? ".");
      if (dir !== undefined && !existsSync(contextDir))
        throw usageError(`${dir} is not a directory to deploy`);
      const api = cli.api(command);
      const json = cli.json(command);
      const say = (text: string) => {
        if (!json) io.stderr.write(`${text}\n`);
      };

      // Local problems (no Dockerfile, unreadable files) are reported before any request.
      const archive =
        options.image === undefined
          ? await packDirectory(contextDir, {
              dockerfile:
                options.dockerfile === undefined
                  ? undefined
                  : path
                      .relative(contextDir, path.resolve(io.cwd, options.dockerfile))
                      .split(path.sep)
                      .join("/"),
            })
          : undefined;
      let source: Source;
      let project: Project;
      let git: GitMetadata | undefined;
      // A directory deploy uploads a new context each time: retrying it is a new request, which
      // the server refuses under the same --idempotency-key.
      const retryHint =
        archive === undefined
          ? undefined
          : "retry the deploy; it uploads the directory again, so it is a new request: give it a new --idempotency-key, or none";
      let created: { deploymentId: string };
      try {
        project = await resolveProject(api, options.project);
        // Checked before the upload: a refused request must not leave an upload behind.
        await checkDeployTarget(api, project, options.env, options.region);
        git =
          options.git && (options.image === undefined || dir !== undefined)
            ? await readGitMetadata(contextDir)
            : undefined;
        if (archive === undefined) source = { case: "dockerImage", value: options.image ?? "" };
        else {
          say(
            `Packed ${dir ?? "."} (${archive.entries.length} entries, ${(archive.size / 1024).toFixed(1)} KiB)`,
          );
          const buildContextPath = await uploadContext(api, project.id, archive);
          source = {
            case: "buildContext",
            value: { buildContextPath, dockerfilePath: archive.dockerfile },
          };
        }
        const request: MessageInitShape<typeof CreateDeploymentRequestSchema> = {
          projectId: project.id,
          environmentSlug: options.env,
          source,
          regions: options.region,
          idempotencyKey: options.idempotencyKey ?? "",
          ...(git === undefined
            ? {}
            : {
                gitCommit: gitCommitInfo(git, Date.now(), (line) =>
                  io.stderr.write(`ferry: warning: ${line}\n`),
                ),
              }),
        };
        created = await api.deployments.createDeployment(request);
      } catch (error) {
        throw retryHint === undefined ? error : describeApiError(error, api.apiUrl, { retryHint });
      } finally {
        archive?.remove();
      }
      say(
        `Deployment ${created.deploymentId} of ${project.slug} to ${options.env}${git?.branch === undefined ? "" : ` (${git.branch} ${git.commitSha.slice(0, 7)})`}`,
      );
      if (options.detach === true) {
        const deployment = await getDeployment(api, created.deploymentId);
        cli.result(command, deploymentJson(deployment), () =>
          [statusText(deployment), "", `Follow it: ferry watch ${deployment.id}`].join("\n"),
        );
        return;
      }
      await followToEnd(cli, command, api, created.deploymentId);
    });
};
