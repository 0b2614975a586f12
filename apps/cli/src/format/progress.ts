/**
 * The live display of a deployment's events while deploy or watch follows it, on stderr (stdout
 * carries only the result). On a terminal: a spinner line with the current step and the elapsed
 * time, finished steps and log lines printed above it. Elsewhere (pipes, CI): one plain line
 * per event, no spinner, no colors. With --json nothing is shown.
 */
import { DeploymentStepStatus, type WatchDeploymentResponse } from "@ferry/api";
import { type Io, useColor } from "../io.ts";
import { statusName, statusWithMessage } from "../status.ts";
import { stepStatusName } from "./json.ts";

export interface Progress {
  readonly onEvent: (event: WatchDeploymentResponse) => void;
  /** Stops the spinner and clears its line. */
  readonly stop: () => void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

const silent: Progress = { onEvent: () => undefined, stop: () => undefined };

export const createProgress = (
  io: Io,
  options: { readonly json: boolean; readonly showLogs?: boolean },
): Progress => {
  if (options.json) return silent;
  const out = io.stderr;
  const showLogs = options.showLogs ?? true;
  const startedAt = Date.now();
  const stepStarts = new Map<string, number>();
  let current = "PENDING";

  if (!useColor(io, out)) {
    return {
      onEvent: (event) => {
        switch (event.event.case) {
          case "status":
            out.write(
              `status ${statusWithMessage(event.event.value.status, event.event.value.errorMessage)}\n`,
            );
            break;
          case "step": {
            const step = event.event.value.step;
            if (step === undefined) break;
            out.write(
              `step ${step.name} ${stepStatusName(step.status)}${step.message === "" ? "" : `: ${step.message}`}\n`,
            );
            break;
          }
          case "log":
            if (showLogs) out.write(`  ${event.event.value.step} | ${event.event.value.text}\n`);
            break;
          default:
            break;
        }
      },
      stop: () => undefined,
    };
  }

  const dim = (text: string) => `\u001b[2m${text}\u001b[22m`;
  const green = (text: string) => `\u001b[32m${text}\u001b[39m`;
  const red = (text: string) => `\u001b[31m${text}\u001b[39m`;
  let frame = 0;
  const clear = () => out.write("\r\u001b[2K");
  const draw = () => {
    // A pseudo-terminal may report 0 columns; the line is short, so only cut it when known.
    const columns = out.columns !== undefined && out.columns > 0 ? out.columns : 80;
    const elapsed = seconds(Date.now() - startedAt);
    const text = `${FRAMES[frame % FRAMES.length]} ${current}`.slice(
      0,
      Math.max(columns - elapsed.length - 2, 1),
    );
    clear();
    out.write(`${text} ${dim(elapsed)}`);
  };
  const above = (text: string) => {
    clear();
    out.write(`${text}\n`);
    draw();
  };
  const timer = setInterval(() => {
    frame++;
    draw();
  }, 100);
  timer.unref();
  draw();

  return {
    onEvent: (event) => {
      switch (event.event.case) {
        case "status": {
          const { status, errorMessage } = event.event.value;
          current = statusName(status);
          if (errorMessage !== "") above(red(`✗ ${current}: ${errorMessage}`));
          else draw();
          break;
        }
        case "step": {
          const step = event.event.value.step;
          if (step === undefined) break;
          if (step.status === DeploymentStepStatus.RUNNING) {
            if (!stepStarts.has(step.name)) stepStarts.set(step.name, Date.now());
            current = step.name;
            draw();
            break;
          }
          const took =
            step.endedAt > 0n && step.startedAt > 0n
              ? Number(step.endedAt - step.startedAt)
              : Date.now() - (stepStarts.get(step.name) ?? startedAt);
          const mark = step.status === DeploymentStepStatus.SUCCEEDED ? green("✓") : red("✗");
          above(
            `${mark} ${step.name} ${dim(seconds(took))}${step.message === "" ? "" : ` ${dim(step.message)}`}`,
          );
          break;
        }
        case "log": {
          if (!showLogs) break;
          const line = event.event.value;
          above(
            `${dim(`  ${line.step.toLowerCase()}${line.region === "" ? "" : `/${line.region}`} |`)} ${line.text}`,
          );
          break;
        }
        default:
          break;
      }
    },
    stop: () => {
      clearInterval(timer);
      clear();
    },
  };
};
