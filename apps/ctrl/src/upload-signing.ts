/** The secret that signs local upload URLs: shared with the embedded library (see there). */
export { uploadSigningSecret } from "@ferry/deployment-service";
