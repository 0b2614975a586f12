/** Every command of `ferry`, in the order `ferry --help` lists them. */
import type { Command } from "commander";
import type { Cli } from "../cli.ts";
import { registerBatchCommand } from "./batch.ts";
import { registerDeployCommand } from "./deploy.ts";
import { registerDeploymentCommands } from "./deployments.ts";
import { registerEnvCommand } from "./env.ts";
import { registerLoginCommand } from "./login.ts";
import { registerLogsCommand } from "./logs.ts";
import { registerProjectsCommand } from "./projects.ts";
import { registerTrafficCommands } from "./traffic.ts";

export const registerCommands = (program: Command, cli: Cli): void => {
  registerLoginCommand(program, cli);
  registerProjectsCommand(program, cli);
  registerEnvCommand(program, cli);
  registerDeployCommand(program, cli);
  registerDeploymentCommands(program, cli);
  registerTrafficCommands(program, cli);
  registerLogsCommand(program, cli);
  registerBatchCommand(program, cli);
};
