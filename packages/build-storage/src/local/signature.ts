/**
 * The signature of a local upload URL: HMAC-SHA256 over everything the URL grants (method, key,
 * expiry, size limit and, when the client declared it, the exact size), keyed with ctrl's upload
 * signing secret. The URL is the only credential of an upload: whoever holds it may PUT that
 * one key, until it expires, at most that many bytes, and nothing else.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** What one upload URL allows. */
export interface UploadGrant {
  readonly key: string;
  /** Unix seconds: the URL is refused after this second. */
  readonly expires: number;
  /** The most bytes accepted. */
  readonly max: number;
  /** When set, exactly this many bytes must be sent. */
  readonly size?: number | undefined;
}

/** Versioned, so that a future change of the signed fields can never verify an old layout. */
const DOMAIN = "ferry-upload-v1";

const digest = (secret: Uint8Array, grant: UploadGrant): Buffer =>
  createHmac("sha256", secret)
    .update(
      [DOMAIN, "PUT", grant.key, grant.expires, grant.max, grant.size ?? ""].join("\n"),
      "utf8",
    )
    .digest();

/** The `sig` query parameter for `grant`: base64url, no padding. */
export const sign = (secret: Uint8Array, grant: UploadGrant): string =>
  digest(secret, grant).toString("base64url");

/** Whether `signature` is the signature of `grant`, compared in constant time. */
export const verify = (secret: Uint8Array, grant: UploadGrant, signature: string): boolean => {
  // The exact form `sign` makes: Node's base64 decoder skips stray characters, and one
  // signature should have one spelling. The shape is not secret (every signature has it).
  if (!SIGNATURE_FORM.test(signature)) return false;
  return timingSafeEqual(Buffer.from(signature, "base64url"), digest(secret, grant));
};

/** 32 bytes in base64url without padding. */
const SIGNATURE_FORM = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
