/**
 * Turns the engine's report of a failed build into a message for the user: a Dockerfile error
 * (fix the Dockerfile), a failing RUN (its output says why), or another engine failure.
 * Patterns cover Podman 4 (buildah) and Docker (classic builder and BuildKit).
 */
import type { BuildFailure } from "./job-files.ts";

/** How many lines of the failing step's output a failure carries. */
export const FAILURE_TAIL_LINES = 20;

/** `STEP 2/5: RUN make` (Podman) or `Step 2/5 : RUN make` (Docker). */
const STEP_LINE = /^(?:STEP|Step) (\d+)\/(\d+) ?: (.*)$/;

export const isStepLine = (line: string): boolean => STEP_LINE.test(line);

const DOCKERFILE_ERROR =
  /unknown instruction|parse error|requires (?:at least|exactly|either|one|two)|no FROM statement|no contents in|only supports the|unknown flag|can not be blank|empty continuation|must be (?:a|an) /i;

/** The exit code of a failed RUN, in the words of Podman, Docker classic or BuildKit. */
const EXIT_CODE = /exit status (\d+)|returned a non-zero code: (\d+)|exit code: (\d+)/;

/** Podman prefixes errors with the step (`building at STEP "RUN x": ...`) and may append a Go dump. */
const cleanError = (error: string): { readonly step?: string; readonly text: string } => {
  let text = error
    .replace(/\s*&imagebuilder\.Step\{[\s\S]*$/, "")
    .replace(/\/var\/tmp\/libpod_builder\d+\/build\/?/g, "")
    .trim();
  const at = /^building at STEP "([\s\S]*?)": ([\s\S]*)$/.exec(text);
  let step: string | undefined;
  if (at !== null) {
    step = at[1]?.trim();
    text = at[2] ?? text;
  }
  text = text.replace(/^Build error: /, "").trim();
  return step === undefined ? { text } : { step, text };
};

interface StepInfo {
  readonly number: string;
  readonly instruction: string;
  /** Output printed since the step began (layer ids and engine noise left out). */
  readonly output: ReadonlyArray<string>;
}

const lastStep = (lines: ReadonlyArray<string>): StepInfo | undefined => {
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = STEP_LINE.exec(lines[i] ?? "");
    if (match !== null)
      return {
        number: `${match[1]}/${match[2]}`,
        instruction: match[3] ?? "",
        output: lines.slice(i + 1).filter((line) => !/^-+> /.test(line)),
      };
  }
  return undefined;
};

const quoteOutput = (lines: ReadonlyArray<string>): string =>
  lines.length === 0 ? "it printed nothing" : `its last output:\n${lines.join("\n")}`;

/**
 * Classifies a failed build from the engine's error and the output before it (redacted lines,
 * the last ones at least back to the failing step's STEP line).
 */
export const classifyBuildFailure = (
  engineError: string,
  recentOutput: ReadonlyArray<string>,
): BuildFailure => {
  const { step: errorStep, text } = cleanError(engineError);
  const step = lastStep(recentOutput);
  const instruction = errorStep ?? step?.instruction;
  const stepName =
    instruction === undefined
      ? ""
      : ` ${JSON.stringify(instruction)}${step === undefined ? "" : ` (step ${step.number})`}`;
  const tail = (step?.output ?? recentOutput).slice(-FAILURE_TAIL_LINES);
  const withStep = instruction === undefined ? {} : { step: instruction };

  if (DOCKERFILE_ERROR.test(text))
    return {
      kind: "dockerfile",
      message: `the Dockerfile is invalid${stepName === "" ? "" : ` at${stepName}`}: ${text}; fix it and deploy again`,
      ...withStep,
      outputTail: [],
    };

  const exit = EXIT_CODE.exec(text);
  if (instruction !== undefined && /^RUN\b/i.test(instruction) && exit !== null) {
    const code = exit[1] ?? exit[2] ?? exit[3];
    return {
      kind: "run-step",
      message: `the build step${stepName} failed with exit code ${code}; ${quoteOutput(tail)}`,
      ...withStep,
      outputTail: tail,
    };
  }

  return {
    kind: "engine",
    message: `the build failed${stepName === "" ? "" : ` at${stepName}`}: ${text}${
      tail.length === 0 ? "" : `\n${tail.join("\n")}`
    }`,
    ...withStep,
    outputTail: tail,
  };
};
