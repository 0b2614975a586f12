/**
 * Uploads a packed build context: CreateUploadUrl (which also checks the size against the
 * server's limit), then one HTTP request with the method and headers it returned. The URL is
 * opaque (ctrl's own upload endpoint or S3-compatible storage).
 */
import { openAsBlob } from "node:fs";
import type { Api } from "../api.ts";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

export interface Archive {
  readonly path: string;
  readonly size: number;
}

const MiB = 1024 * 1024;

/** Returns the build_context_path to pass to CreateDeployment. */
export const uploadContext = async (
  api: Api,
  projectId: string,
  archive: Archive,
): Promise<string> => {
  const target = await api.deployments.createUploadUrl({
    projectId,
    sizeBytes: BigInt(archive.size),
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(target.requiredHeaders)) headers.set(name, value);
  let response: Response;
  try {
    response = await fetch(target.uploadUrl, {
      method: target.method === "" ? "PUT" : target.method,
      headers,
      body: await openAsBlob(archive.path),
    });
  } catch (error) {
    throw new CliError(
      `could not upload the build context: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
      ExitCode.Unreachable,
      "upload_failed",
    );
  }
  if (!response.ok) {
    const body = (await response.text().catch(() => "")).slice(0, 500).trim();
    const reason =
      response.status === 413
        ? `the build context (${(archive.size / MiB).toFixed(1)} MiB) is larger than the server accepts (${(Number(target.maxSizeBytes) / MiB).toFixed(1)} MiB); exclude files with .dockerignore`
        : `the upload was refused with HTTP ${response.status}${body === "" ? "" : `: ${body}`}`;
    throw new CliError(
      reason,
      response.status >= 500 ? ExitCode.Unreachable : ExitCode.ApiRefused,
      "upload_failed",
    );
  }
  return target.buildContextPath;
};
