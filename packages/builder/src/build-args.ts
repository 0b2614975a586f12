/**
 * Build arguments: the Dockerfile's `ARG` names, and which of a deployment's variables become
 * `--build-arg`s. Only plain variables the Dockerfile declares are passed; secret variables are
 * never passed to a build (build arguments end up in the image's history and the build log).
 */

export interface DockerfileArg {
  readonly name: string;
  /** The default after `=`, quotes removed; undefined for `ARG NAME`. */
  readonly defaultValue: string | undefined;
  /** 1-based line of the instruction. */
  readonly line: number;
}

/** `# escape=`` ` (or `\`) among the parser directives at the top of the file. */
const escapeDirective = (lines: ReadonlyArray<string>): string => {
  for (const line of lines) {
    const directive = /^\s*#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (directive === null) break;
    if (directive[1]?.toLowerCase() === "escape" && (directive[2] === "`" || directive[2] === "\\"))
      return directive[2];
  }
  return "\\";
};

interface Instruction {
  readonly keyword: string;
  readonly rest: string;
  readonly line: number;
}

/** Heredoc delimiters opened on an instruction line: `RUN <<EOF`, `COPY <<-"END" /x`. */
const heredocDelimiters = (text: string): ReadonlyArray<{ name: string; stripTabs: boolean }> =>
  [...text.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)].map((m) => ({
    name: m[3] ?? "",
    stripTabs: m[1] === "-",
  }));

/**
 * The instructions of a Dockerfile, with line continuations joined, comments and empty lines
 * dropped (also inside a continuation, as Docker does) and heredoc bodies skipped.
 */
export const dockerfileInstructions = (text: string): ReadonlyArray<Instruction> => {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const escapeChar = escapeDirective(lines);
  const continuation = new RegExp(`${escapeChar === "\\" ? "\\\\" : "`"}[ \\t]*$`);
  const out: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = i;
    const first = lines[i] ?? "";
    i += 1;
    if (/^\s*(#|$)/.test(first)) continue;
    let joined = "";
    let current = first;
    while (continuation.test(current) && i < lines.length) {
      joined += current.replace(continuation, "");
      current = lines[i] ?? "";
      i += 1;
      while (i < lines.length && /^\s*(#|$)/.test(current)) {
        current = lines[i] ?? "";
        i += 1;
      }
    }
    joined += current;
    const match = /^\s*(\S+)\s*(.*)$/.exec(joined);
    if (match === null) continue;
    const keyword = (match[1] ?? "").toUpperCase();
    const rest = match[2] ?? "";
    out.push({ keyword, rest, line: start + 1 });
    for (const heredoc of heredocDelimiters(rest)) {
      while (i < lines.length) {
        const body = lines[i] ?? "";
        i += 1;
        if ((heredoc.stripTabs ? body.replace(/^\t+/, "") : body) === heredoc.name) break;
      }
    }
  }
  return out;
};

/** Splits `A=1 B="two words" C` into words, honouring quotes and backslash escapes. */
const shellWords = (text: string): ReadonlyArray<string> => {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
};

const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every `ARG NAME[=default]` of every stage (one instruction may declare several). */
export const parseDockerfileArgs = (text: string): ReadonlyArray<DockerfileArg> =>
  dockerfileInstructions(text)
    .filter((instruction) => instruction.keyword === "ARG")
    .flatMap((instruction) =>
      shellWords(instruction.rest).flatMap((word) => {
        const eq = word.indexOf("=");
        const name = eq < 0 ? word : word.slice(0, eq);
        if (!ARG_NAME.test(name)) return [];
        return [
          { name, defaultValue: eq < 0 ? undefined : word.slice(eq + 1), line: instruction.line },
        ];
      }),
    );

export interface BuildVariables {
  /** The deployment's plain (non-secret) variables: name → value. */
  readonly plain: Readonly<Record<string, string>>;
  /** Names of its secret variables; their values are never given to this module. */
  readonly secretKeys: ReadonlyArray<string>;
}

export interface SelectedBuildArgs {
  /** What `POST /build` gets as `buildargs`: declared by an ARG, plain, and not a secret's name. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** ARGs named like a secret variable: not passed (tell the user why the ARG is empty). */
  readonly secretArgs: ReadonlyArray<string>;
  /** Plain variables the Dockerfile does not declare: not passed. */
  readonly undeclared: ReadonlyArray<string>;
}

/**
 * Chooses the build arguments. A name that is both plain and secret is treated as secret: when
 * in doubt, nothing goes to the build.
 */
export const selectBuildArgs = (
  dockerfileText: string,
  variables: BuildVariables,
): SelectedBuildArgs => {
  const declared = new Set(parseDockerfileArgs(dockerfileText).map((arg) => arg.name));
  const secret = new Set(variables.secretKeys);
  const buildArgs: Record<string, string> = {};
  const undeclared: string[] = [];
  for (const [name, value] of Object.entries(variables.plain)) {
    if (secret.has(name)) continue;
    if (declared.has(name)) buildArgs[name] = value;
    else undeclared.push(name);
  }
  return {
    buildArgs,
    secretArgs: [...declared].filter((name) => secret.has(name)).sort(),
    undeclared: undeclared.sort(),
  };
};
