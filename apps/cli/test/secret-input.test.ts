/**
 * `env set KEY --secret` (and `login`) read a value that is not on the command line: hidden at a
 * terminal, else from standard input, which must end. The bin runs as a child process whose
 * stdin is left open, empty, or fed a value; the terminal is a stand-in stream.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../src/errors.ts";
import { ExitCode } from "../src/exit-codes.ts";
import type { Io } from "../src/io.ts";
import { readSecret } from "../src/prompt.ts";
import { type FakeCtrl, startFakeCtrl } from "./support/fake-ctrl.ts";
import { runFerry } from "./support/run-ferry.ts";

let home: string;
let ctrl: FakeCtrl;
beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), "ferry-secret-"));
  ctrl = await startFakeCtrl();
});
afterAll(async () => {
  await ctrl.close();
  rmSync(home, { recursive: true, force: true });
});

// `env set` asks the server for the current variables (is KEY secret now?) before it reads the
// value, so nobody types a secret only to learn the server is unreachable: a server that answers.
const configured = () => ({
  HOME: home,
  FERRY_API_URL: ctrl.apiUrl,
  FERRY_API_KEY: "ferry_test",
});

describe("env set KEY --secret from standard input that is not a terminal", () => {
  it("fails after FERRY_STDIN_TIMEOUT when stdin is left open and nothing arrives", async () => {
    const started = Date.now();
    const run = await runFerry(["env", "set", "DB_PASSWORD", "--secret", "--project", "web"], {
      env: { ...configured(), FERRY_STDIN_TIMEOUT: "1" },
      keepStdinOpen: true,
      timeoutMs: 30_000,
    });
    expect(run.code).toBe(ExitCode.Usage);
    expect(run.stderr).toBe(
      'ferry: no value for DB_PASSWORD on standard input: it is not a terminal, and nothing arrived in 1 s while it stayed open; pipe it in (printf %s "$VALUE" | ferry ...) or redirect a file (< FILE), or run ferry at a terminal to type it hidden (FERRY_STDIN_TIMEOUT=SECONDS waits longer)\n',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("fails at once when stdin is empty and closed, and with --json says so as JSON", async () => {
    const run = await runFerry(
      ["env", "set", "DB_PASSWORD", "--secret", "--project", "web", "--json"],
      { env: configured(), input: "" },
    );
    expect(run.code).toBe(ExitCode.Usage);
    expect(run.stdout).toBe("");
    expect(JSON.parse(run.stderr)).toEqual({
      error: {
        code: "usage",
        message:
          'no value for DB_PASSWORD on standard input (it is empty or closed): pipe it in (printf %s "$VALUE" | ferry ...) or redirect a file (< FILE), or run ferry at a terminal to type it hidden',
        exitCode: ExitCode.Usage,
      },
    });
  });

  it("reports a missing configuration before waiting for a value", async () => {
    const run = await runFerry(["env", "set", "DB_PASSWORD", "--secret", "--project", "web"], {
      env: { HOME: home },
      keepStdinOpen: true,
      timeoutMs: 30_000,
    });
    expect(run.code).toBe(ExitCode.Usage);
    expect(run.stderr).toMatch(/^ferry: no Ferry server configured/);
  });

  it("rejects a FERRY_STDIN_TIMEOUT that is not a number of seconds", async () => {
    const run = await runFerry(["env", "set", "DB_PASSWORD", "--secret", "--project", "web"], {
      env: { ...configured(), FERRY_STDIN_TIMEOUT: "ten" },
      input: "s3cret",
    });
    expect(run.code).toBe(ExitCode.Usage);
    expect(run.stderr).toBe(
      'ferry: FERRY_STDIN_TIMEOUT: "ten" is not a number of seconds (for example 30; 0 waits without limit)\n',
    );
  });

  it("reads a piped value to its end: slow writers are waited for, one trailing newline dropped", async () => {
    const stdin = new PassThrough();
    const reading = readSecret(ioWith(stdin, { FERRY_STDIN_TIMEOUT: "1" }), "", "value for K");
    stdin.write("s3c");
    await new Promise((resolve) => setTimeout(resolve, 600));
    stdin.write("ret\n");
    await new Promise((resolve) => setTimeout(resolve, 600));
    stdin.end();
    expect(await reading).toBe("s3cret");
  });

  it("fails when the value arrives but stdin is never closed", async () => {
    const stdin = new PassThrough();
    const reading = readSecret(ioWith(stdin, { FERRY_STDIN_TIMEOUT: "0.2" }), "", "value for K");
    stdin.write("s3cret\n");
    const error = await reading.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe(
      'standard input was not closed after the value for K (nothing more arrived in 0.2 s): close it after writing the value, for example printf %s "$VALUE" | ferry ...',
    );
  });
});

describe("env set KEY --secret at a terminal", () => {
  it("prompts on stderr and never echoes what is typed", async () => {
    const stdin = Object.assign(new PassThrough(), {
      isTTY: true,
      rawMode: false,
      setRawMode(mode: boolean) {
        this.rawMode = mode;
        return this;
      },
    });
    let stderr = "";
    const io: Io = {
      ...ioWith(stdin, {}),
      stderr: {
        write: (text: string) => {
          stderr += text;
        },
      },
    };
    const reading = readSecret(io, "Value for K: ", "value for K");
    expect(stdin.rawMode).toBe(true);
    // A typo corrected with backspace, then Enter.
    stdin.write("s3cx\u007fret\r");
    expect(await reading).toBe("s3cret");
    expect(stderr).toBe("Value for K: \n");
    expect(stdin.rawMode).toBe(false);
  });
});

function ioWith(stdin: Io["stdin"], env: Record<string, string>): Io {
  const discard = { write: () => true };
  return { stdin, stdout: discard, stderr: discard, env, cwd: home };
}
