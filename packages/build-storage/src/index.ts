/**
 * @ferry/build-storage: the domain's BuildStorage port, twice.
 *
 * - local: a directory; upload URLs signed with a secret and served by ctrl through
 *   `makeUploadHandler` (mounted at `PUT /v1/uploads/*`)
 * - s3: S3-compatible storage; presigned PUT URLs
 */
export { keyProblem, MAX_KEY_LENGTH } from "./keys.ts";
// Writing an archive in-process (@ferry/deployment-service uploadBuildContext): the same files,
// temporary names and bounded receive as the upload handler.
export { fileOf, temporaryFileFor } from "./local/files.ts";
export { type Received, receive as receiveToFile } from "./local/receive.ts";
export {
  type LocalBuildStorageOptions,
  localBuildStorage,
  makeLocalBuildStorage,
} from "./local/storage.ts";
export {
  makeUploadHandler,
  type UploadHandler,
  type UploadHandlerOptions,
} from "./local/upload-handler.ts";
export { isUploadPath, UPLOAD_PATH_PREFIX } from "./local/upload-url.ts";
export {
  MAX_PRESIGN_SECONDS,
  makeS3BuildStorage,
  makeS3Client,
  type S3BuildStorageConfig,
  s3BuildStorage,
} from "./s3/storage.ts";
