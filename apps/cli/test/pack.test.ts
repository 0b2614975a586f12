/**
 * packDirectory against Docker's .dockerignore rules: comments, root-only `*`, `**`, a whole
 * directory excluded with a `!` exception inside it, and the Dockerfile and .dockerignore
 * sent even when excluded. The archive itself is read back with tar.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { list } from "tar";
import { afterEach, describe, expect, it } from "vitest";
import { packDirectory } from "../src/deploy/pack.ts";
import { CliError } from "../src/errors.ts";
import { ExitCode } from "../src/exit-codes.ts";

const dirs: Array<string> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const fixture = (files: Record<string, string>) => {
  const dir = mkdtempSync(path.join(tmpdir(), "ferry-pack-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
};

const archiveEntries = async (file: string) => {
  const entries: Array<{ path: string; type: string; linkpath: string | undefined }> = [];
  await list({
    file,
    onReadEntry: (entry) => {
      entries.push({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
    },
  });
  return entries;
};

describe("packDirectory", () => {
  it("leaves out what .dockerignore excludes, with Docker's rules", async () => {
    const dir = fixture({
      Dockerfile: "FROM scratch\nCOPY . /app\n",
      ".dockerignore": [
        "# secrets stay home",
        "secret.env",
        "logs",
        "!logs/keep.log",
        "**/*.tmp",
        "node_modules",
        "*.md",
        "Dockerfile",
        ".dockerignore",
      ].join("\n"),
      "app.js": "console.log(1)",
      "secret.env": "TOKEN=1",
      "logs/a.log": "x",
      "logs/keep.log": "kept",
      "node_modules/left/index.js": "",
      "src/main.ts": "",
      "src/deep/scratch.tmp": "",
      "README.md": "root markdown: matched by *.md",
      "docs/guide.md": "nested markdown: * does not cross /",
    });
    symlinkSync("app.js", path.join(dir, "link.js"));

    const packed = await packDirectory(dir);
    try {
      expect(packed.entries).toEqual([
        ".dockerignore",
        "Dockerfile",
        "app.js",
        "docs/",
        "docs/guide.md",
        "link.js",
        "logs/keep.log",
        "src/",
        "src/deep/",
        "src/main.ts",
      ]);
      const inArchive = await archiveEntries(packed.path);
      const names = inArchive.map((entry) => entry.path.replace(/\/$/, "")).sort();
      expect(names).toEqual(packed.entries.map((entry) => entry.replace(/\/$/, "")).sort());
      expect(inArchive.find((entry) => entry.path === "link.js")).toMatchObject({
        type: "SymbolicLink",
        linkpath: "app.js",
      });
      expect(packed.size).toBeGreaterThan(0);
    } finally {
      packed.remove();
    }
  });

  it("skips an excluded directory whole and keeps a Dockerfile in a subdirectory", async () => {
    const dir = fixture({
      "docker/web.Dockerfile": "FROM scratch\n",
      ".dockerignore": "docker\n.git\n",
      ".git/HEAD": "ref: refs/heads/main",
      "index.html": "hi",
    });
    const packed = await packDirectory(dir, { dockerfile: "./docker/../docker/web.Dockerfile" });
    packed.remove();
    expect(packed.dockerfile).toBe("docker/web.Dockerfile");
    expect(packed.entries).toEqual([".dockerignore", "docker/web.Dockerfile", "index.html"]);
  });

  it("refuses a missing Dockerfile, one outside the context, and a missing directory", async () => {
    const dir = fixture({ "index.html": "hi" });
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );
    const missing = await refusal(packDirectory(dir));
    expect(missing).toBeInstanceOf(CliError);
    expect((missing as CliError).exitCode).toBe(ExitCode.Usage);
    expect((missing as CliError).message).toMatch(
      /no Dockerfile at .*Dockerfile: add one, pass --dockerfile PATH/,
    );
    const outside = await refusal(packDirectory(dir, { dockerfile: "../Dockerfile" }));
    expect((outside as CliError).message).toBe(
      "the Dockerfile ../Dockerfile is outside the build context",
    );
    const noDir = await refusal(packDirectory(path.join(dir, "nope")));
    expect((noDir as CliError).message).toMatch(/nope is not a directory to deploy/);
  });

  it("gives two packs of the same tree the same digest, whatever the times; another for new content", async () => {
    const dir = fixture({
      Dockerfile: "FROM scratch\n",
      "src/app.js": "1\n",
      ".dockerignore": "*.log\n",
      "x.log": "a",
    });
    const first = await packDirectory(dir);
    first.remove();
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(path.join(dir, "src/app.js"), later, later);
    writeFileSync(path.join(dir, "x.log"), "ignored files do not count");
    const second = await packDirectory(dir);
    second.remove();
    expect(second.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second.digest).toBe(first.digest);
    writeFileSync(path.join(dir, "src/app.js"), "2\n");
    const changed = await packDirectory(dir);
    changed.remove();
    expect(changed.digest).not.toBe(first.digest);
    chmodSync(path.join(dir, "src/app.js"), 0o755);
    const executable = await packDirectory(dir);
    executable.remove();
    expect(executable.digest).not.toBe(changed.digest);
  });
});
