import type { Project } from "@ferry/api";
import type { Command } from "commander";
import type { Cli } from "../cli.ts";
import { projectJson } from "../format/json.ts";
import { projectText, table } from "../format/text.ts";
import { resolveProject } from "../projects.ts";

export const registerProjectsCommand = (program: Command, cli: Cli): void => {
  const projects = program
    .command("projects")
    .description("create, list and inspect projects")
    .addHelpText(
      "after",
      `
Examples:
  $ ferry projects create web --name "Web shop"
  $ ferry projects list
  $ ferry projects get web`,
    );

  projects
    .command("create")
    .description(
      "create a project (with environments production and preview); SLUG is a DNS label: lowercase letters, digits and -",
    )
    .argument("<slug>", "the project's slug, part of its hostnames")
    .option("--name <name>", "display name (default: the slug)")
    .addHelpText("after", `\nExample:\n  $ ferry projects create web --name "Web shop" --json`)
    .action(async (slug: string, options: { name?: string }, command: Command) => {
      const { project } = await cli
        .api(command)
        .projects.createProject({ slug, name: options.name ?? slug });
      if (project === undefined) throw new Error("CreateProject returned no project");
      cli.result(
        command,
        projectJson(project),
        () => `Created project ${project.slug} (${project.id})`,
      );
    });

  projects
    .command("list")
    .description("list the workspace's projects, by slug")
    .addHelpText("after", `\nExample:\n  $ ferry projects list --json | jq -r '.projects[].slug'`)
    .action(async (_options: unknown, command: Command) => {
      const api = cli.api(command);
      const all: Array<Project> = [];
      let pageToken = "";
      do {
        const page = await api.projects.listProjects({ pageSize: 200, pageToken });
        all.push(...page.projects);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      cli.result(command, { projects: all.map(projectJson) }, () =>
        all.length === 0
          ? "No projects yet: ferry projects create SLUG"
          : table(
              ["SLUG", "ID", "NAME", "LIVE DEPLOYMENT"],
              all.map((project) => [
                project.slug,
                project.id,
                project.name,
                project.liveDeploymentId === ""
                  ? "-"
                  : `${project.liveDeploymentId}${project.rolledBack ? " (rolled back)" : ""}`,
              ]),
            ),
      );
    });

  projects
    .command("get")
    .description("show a project: settings, environments, live deployment")
    .argument("<project>", "slug or id")
    .addHelpText(
      "after",
      `\nExamples:\n  $ ferry projects get web\n  $ ferry projects get prj_01j9... --json`,
    )
    .action(async (name: string, _options: unknown, command: Command) => {
      const project = await resolveProject(cli.api(command), name);
      cli.result(command, projectJson(project), () => projectText(project));
    });
};
