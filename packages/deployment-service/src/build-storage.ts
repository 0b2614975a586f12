/**
 * Build storage as configured: the port's adapter (a local directory or S3), and for local
 * storage the handler of its upload URLs, which ctrl mounts at `PUT /v1/uploads/*`.
 */
import {
  localBuildStorage,
  makeUploadHandler,
  type S3BuildStorageConfig,
  s3BuildStorage,
  type UploadHandler,
} from "@ferry/build-storage";
import type { BuildStorage } from "@ferry/domain";
import type { Layer } from "effect";

/** Where uploaded build contexts are stored: a local directory (absolute) or S3. */
export type BuildStorageConfig =
  | { readonly kind: "local"; readonly dir: string }
  | ({ readonly kind: "s3" } & S3BuildStorageConfig);

export interface BuildStorageWiring {
  readonly layer: Layer.Layer<BuildStorage>;
  /** Local storage only: serves the upload URLs it hands out. */
  readonly uploadHandler: UploadHandler | undefined;
}

export interface BuildStorageOptions {
  /**
   * Where clients reach ctrl; called for each URL, since with no FERRY_PUBLIC_URL it is the
   * listen URL, known only once the server listens.
   */
  readonly publicBaseUrl: () => string;
  readonly signingSecret: Uint8Array;
  /** An upload that failed on the storage's side (never its bytes). */
  readonly onUploadError?: (error: unknown, context: { readonly key: string }) => void;
}

export const wireBuildStorage = (
  config: BuildStorageConfig,
  options: BuildStorageOptions,
): BuildStorageWiring => {
  if (config.kind === "s3") return { layer: s3BuildStorage(config), uploadHandler: undefined };
  const local = { root: config.dir, signingSecret: options.signingSecret };
  return {
    layer: localBuildStorage({ ...local, publicBaseUrl: options.publicBaseUrl }),
    uploadHandler: makeUploadHandler({
      ...local,
      ...(options.onUploadError === undefined ? {} : { onError: options.onUploadError }),
    }),
  };
};

/** The storage for a start log: never the S3 secret. */
export const describeBuildStorage = (config: BuildStorageConfig) =>
  config.kind === "local"
    ? { kind: "local", dir: config.dir }
    : {
        kind: "s3",
        endpoint: config.endpoint ?? "AWS",
        region: config.region,
        bucket: config.bucket,
        forcePathStyle: config.forcePathStyle,
      };
