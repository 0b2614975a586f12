/**
 * `ferry` installed the way a user outside the repository gets it: the package packed (its
 * prepack bundles dist/ferry.mjs), the tarball installed with `npm install -g --prefix`,
 * offline, and the installed bin run by the Node on PATH. No server is needed.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FerryRun, runProcess } from "./support/run-ferry.ts";

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8")) as {
  version: string;
};

const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): Promise<FerryRun> => runProcess(command, args, { ...options, timeoutMs: 60_000 });

const succeeded = (result: FerryRun): FerryRun => {
  if (result.code !== 0)
    throw new Error(`exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
};

let work: string;
// The Node that runs this test (the repository's Node 24) is the `node` on the user's PATH.
const USER_PATH = [path.dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":");

/** A clean environment: nothing of the repository's pnpm or of a Ferry configuration leaks in. */
const cleanEnv = (home: string): NodeJS.ProcessEnv => ({ PATH: USER_PATH, HOME: home });

/** Installs the tarball into a fresh prefix with npm, offline; returns the prefix. */
const install = async (tarball: string, name: string): Promise<string> => {
  const prefix = path.join(work, name);
  const home = path.join(work, `${name}-home`);
  mkdirSync(home);
  succeeded(
    await run(
      "npm",
      ["install", "--global", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", tarball],
      { cwd: work, env: cleanEnv(home) },
    ),
  );
  return prefix;
};

beforeAll(() => {
  work = realpathSync(mkdtempSync(path.join(tmpdir(), "ferry-install-")));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("the packed ferry package", () => {
  it("installs from `pnpm pack` with npm, offline, and runs outside the repository", async () => {
    const tarball = path.join(work, "ferry-pnpm.tgz");
    succeeded(
      await run("pnpm", ["pack", "--out", tarball], { cwd: PACKAGE_DIR, env: process.env }),
    );
    const prefix = await install(tarball, "pnpm-prefix");
    const ferry = path.join(prefix, "bin", "ferry");
    // The bin is the bundle: no TypeScript, no workspace package, no dependency to install.
    expect(realpathSync(ferry)).toBe(
      path.join(prefix, "lib", "node_modules", "@ferry", "cli", "dist", "ferry.mjs"),
    );
    // The inlined packages' licenses travel with them.
    const notices = readFileSync(
      path.join(prefix, "lib", "node_modules", "@ferry", "cli", "dist", "THIRD-PARTY-LICENSES.txt"),
      "utf8",
    );
    for (const name of ["commander", "@connectrpc/connect", "@bufbuild/protobuf", "tar", "yaml"])
      expect(notices).toContain(`\n${name}@`);
    const home = path.join(work, "user");
    mkdirSync(home);
    const env = cleanEnv(home);

    const help = succeeded(await run(ferry, ["--help"], { cwd: work, env }));
    expect(help.stdout).toMatch(/^Usage: ferry \[options\] \[command\]/);
    for (const command of ["login", "projects", "env", "deploy", "rollback", "batch"])
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, "m"));

    const shown = succeeded(await run(ferry, ["--version"], { cwd: work, env }));
    expect(shown.stdout).toBe(`${version}\n`);

    const unconfigured = await run(ferry, ["projects", "list"], { cwd: work, env });
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.stdout).toBe("");
    expect(unconfigured.stderr).toBe(
      "ferry: no Ferry server configured: run `ferry login --api-url URL`, or set FERRY_API_URL and FERRY_API_KEY, or pass --api-url and --api-key\n",
    );
  });

  it("installs from `npm pack` the same way", async () => {
    const destination = path.join(work, "npm-pack");
    mkdirSync(destination);
    // npm pack runs the same prepack (the bundle); it needs the repository's Node on PATH.
    const packed = succeeded(
      await run("npm", ["pack", "--pack-destination", destination, "--json"], {
        cwd: PACKAGE_DIR,
        env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
      }),
    );
    const [{ filename, files }] = JSON.parse(packed.stdout) as [
      { filename: string; files: Array<{ path: string }> },
    ];
    expect(files.map((file) => file.path).sort()).toEqual([
      "README.md",
      "dist/THIRD-PARTY-LICENSES.txt",
      "dist/ferry.mjs",
      "package.json",
    ]);
    const prefix = await install(path.join(destination, filename), "npm-prefix");
    const home = path.join(work, "npm-user");
    mkdirSync(home);
    const shown = succeeded(
      await run(path.join(prefix, "bin", "ferry"), ["--version"], {
        cwd: work,
        env: cleanEnv(home),
      }),
    );
    expect(shown.stdout).toBe(`${version}\n`);
  });
});
