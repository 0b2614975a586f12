/** Where the server and key come from: flags, then environment, then `ferry login`'s file. */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../src/errors.ts";
import { ExitCode } from "../src/exit-codes.ts";
import { configFilePath, resolveSettings, writeConfigFile } from "../src/settings.ts";

let home: string;
let file: string;
beforeEach(() => {
  home = mkdtempSync(path.join(tmpdir(), "ferry-settings-"));
  file = configFilePath({ XDG_CONFIG_HOME: path.join(home, "config") });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const failure = (run: () => unknown): CliError => {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("expected a CliError");
};

describe("resolveSettings", () => {
  it("takes flags over the environment over the config file", () => {
    writeConfigFile(file, { apiUrl: "http://file.example:7070", apiKey: "file-key" });
    const env = { FERRY_API_URL: "http://env.example:7070/", FERRY_API_KEY: "env-key" };
    expect(resolveSettings({}, {}, file)).toEqual({
      apiUrl: "http://file.example:7070",
      apiKey: "file-key",
    });
    expect(resolveSettings({}, env, file)).toEqual({
      apiUrl: "http://env.example:7070",
      apiKey: "env-key",
    });
    expect(
      resolveSettings({ apiUrl: "https://flag.example", apiKey: "flag-key" }, env, file),
    ).toEqual({ apiUrl: "https://flag.example", apiKey: "flag-key" });
    // A key from the environment with the file's URL.
    expect(resolveSettings({}, { FERRY_API_KEY: "env-key" }, file)).toEqual({
      apiUrl: "http://file.example:7070",
      apiKey: "env-key",
    });
  });

  it("never sends the saved key to another server", () => {
    writeConfigFile(file, { apiUrl: "http://file.example:7070", apiKey: "file-key" });
    const error = failure(() => resolveSettings({ apiUrl: "http://other.example" }, {}, file));
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toContain(
      "the key saved by `ferry login` is for http://file.example:7070",
    );
    expect(error.message).not.toContain("file-key");
    // The same URL (written differently) does use it.
    expect(resolveSettings({ apiUrl: "http://file.example:7070/" }, {}, file).apiKey).toBe(
      "file-key",
    );
  });

  it("says what to do when nothing is configured or a value is bad", () => {
    expect(failure(() => resolveSettings({}, {}, file)).message).toMatch(
      /^no Ferry server configured: run `ferry login --api-url URL`/,
    );
    expect(
      failure(() => resolveSettings({}, { FERRY_API_URL: "http://a.example" }, file)).message,
    ).toBe(
      "no API key for http://a.example: run `ferry login`, or set FERRY_API_KEY, or pass --api-key",
    );
    expect(
      failure(() => resolveSettings({ apiUrl: "ftp://x", apiKey: "k" }, {}, file)).message,
    ).toBe('--api-url: "ftp://x" must start with http:// or https://');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, "{not json");
    const damaged = failure(() => resolveSettings({}, {}, file));
    expect(damaged.exitCode).toBe(ExitCode.Usage);
    expect(damaged.message).toContain("is not valid JSON; run `ferry login` again");
  });

  it("writes the config file readable by its owner only", () => {
    writeConfigFile(file, { apiUrl: "http://a.example", apiKey: "k" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      apiUrl: "http://a.example",
      apiKey: "k",
    });
  });

  it("tightens the modes of a config file and directory that already existed", () => {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    chmodSync(path.dirname(file), 0o755);
    writeFileSync(file, "{}", { mode: 0o644 });
    chmodSync(file, 0o644);
    writeConfigFile(file, { apiUrl: "http://a.example", apiKey: "k" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it("warns about a config file others can read, and still uses it", () => {
    writeConfigFile(file, { apiUrl: "http://a.example", apiKey: "k" });
    const warnings: Array<string> = [];
    expect(resolveSettings({}, {}, file, (m) => warnings.push(m)).apiKey).toBe("k");
    expect(warnings).toEqual([]);
    chmodSync(file, 0o640);
    expect(resolveSettings({}, {}, file, (m) => warnings.push(m)).apiKey).toBe("k");
    expect(warnings).toEqual([
      `the config file ${file} holds an API key and is readable by others (mode 0640); run \`chmod 600 ${file}\` or \`ferry login\` again`,
    ]);
    expect(warnings.join("")).not.toContain('"k"');
  });

  it("finds the config file under XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configFilePath({ XDG_CONFIG_HOME: "/x/cfg", HOME: "/home/u" })).toBe(
      "/x/cfg/ferry/config.json",
    );
    expect(configFilePath({ HOME: "/home/u" })).toBe("/home/u/.config/ferry/config.json");
    // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
    expect(configFilePath({ XDG_CONFIG_HOME: "cfg", HOME: "/home/u" })).toBe(
      "/home/u/.config/ferry/config.json",
    );
  });
});
