/**
 * Build storage as configured (FERRY_BUILD_STORAGE), wired by the shared composition
 * (@ferry/deployment-service), with upload failures written to ctrl's log. For local storage
 * the server mounts the wiring's upload handler at `PUT /v1/uploads/*`.
 */
import {
  type BuildStorageConfig,
  type BuildStorageWiring,
  wireBuildStorage as wireSharedBuildStorage,
} from "@ferry/deployment-service";
import type { Log } from "./log.ts";

export { type BuildStorageWiring, describeBuildStorage } from "@ferry/deployment-service";

export interface BuildStorageOptions {
  /**
   * Where clients reach ctrl; called for each URL, since with no FERRY_PUBLIC_URL it is the
   * listen URL, known only once the server listens.
   */
  readonly publicBaseUrl: () => string;
  readonly signingSecret: Uint8Array;
  readonly log: Log;
}

export const wireBuildStorage = (
  config: BuildStorageConfig,
  options: BuildStorageOptions,
): BuildStorageWiring =>
  wireSharedBuildStorage(config, {
    publicBaseUrl: options.publicBaseUrl,
    signingSecret: options.signingSecret,
    onUploadError: (error, { key }) => options.log.error("upload failed", { key, error }),
  });
