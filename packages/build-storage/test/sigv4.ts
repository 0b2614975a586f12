/**
 * Checks a SigV4 presigned URL the way S3 does, for one request: which headers it signed, and
 * whether a request with given header values matches the signature. s3rver does not check V4
 * signatures at all (its authentication middleware says "Signature version 4 calculation is
 * unimplemented" and accepts any), so the tests ask this instead whether S3 would refuse a body
 * of another length. Written from the SigV4 specification, not from the SDK's signer.
 */
import { createHash, createHmac } from "node:crypto";

const hmac = (key: string | Buffer, text: string) =>
  createHmac("sha256", key).update(text).digest();
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

export const signedHeaders = (url: string): Array<string> =>
  (new URL(url).searchParams.get("X-Amz-SignedHeaders") ?? "").split(";");

/** Whether a `method` request to `url` carrying `headers` (lowercase names) matches its signature. */
export const matchesSignature = (
  url: string,
  method: string,
  headers: Record<string, string>,
  secretAccessKey: string,
): boolean => {
  const parsed = new URL(url);
  const query = parsed.searchParams;
  const signed = signedHeaders(url);
  if (signed.some((name) => headers[name] === undefined)) return false;
  const canonicalQuery = [...query.entries()]
    .filter(([name]) => name !== "X-Amz-Signature")
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalRequest = [
    method,
    parsed.pathname,
    canonicalQuery,
    signed.map((name) => `${name}:${(headers[name] ?? "").trim()}\n`).join(""),
    signed.join(";"),
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const [, date = "", region = "", service = "", terminator = ""] = (
    query.get("X-Amz-Credential") ?? ""
  ).split("/");
  const scope = [date, region, service, terminator].join("/");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    query.get("X-Amz-Date"),
    scope,
    sha256(canonicalRequest),
  ].join("\n");
  const key = [date, region, service, terminator].reduce<Buffer | string>(
    (k, part) => hmac(k, part),
    `AWS4${secretAccessKey}`,
  );
  return hmac(key, stringToSign).toString("hex") === query.get("X-Amz-Signature");
};
