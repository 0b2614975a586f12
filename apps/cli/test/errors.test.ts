/** How failures become a message and an exit code (the contract in apps/cli/README.md). */
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { describeApiError } from "../src/api.ts";
import { CliError } from "../src/errors.ts";
import { ExitCode } from "../src/exit-codes.ts";

describe("describeApiError", () => {
  it("passes the server's message through with exit 3 and the Connect code's name", () => {
    const error = describeApiError(
      new ConnectError(
        "target_deployment_id: the deployment is not READY",
        Code.FailedPrecondition,
      ),
    );
    expect(error).toMatchObject({
      message: "target_deployment_id: the deployment is not READY",
      exitCode: ExitCode.ApiRefused,
      code: "failed_precondition",
    });
  });

  it("says retry (exit 4) for Unavailable and for a refused connection", () => {
    expect(describeApiError(new ConnectError("restate down", Code.Unavailable)).exitCode).toBe(
      ExitCode.Unreachable,
    );
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    const error = describeApiError(
      new ConnectError("fetch failed", Code.Unavailable, undefined, undefined, refused),
      "http://127.0.0.1:1",
    );
    expect(error.exitCode).toBe(ExitCode.Unreachable);
    expect(error.message).toBe(
      "could not reach the Ferry server at http://127.0.0.1:1 (ECONNREFUSED); check --api-url / FERRY_API_URL and that the server runs",
    );
  });

  it("points at login for a refused key, and keeps CliErrors as they are", () => {
    expect(
      describeApiError(new ConnectError("invalid API key", Code.Unauthenticated)).message,
    ).toContain("run `ferry login` or set FERRY_API_KEY");
    const own = new CliError("x", ExitCode.Usage, "usage");
    expect(describeApiError(own)).toBe(own);
  });
});
