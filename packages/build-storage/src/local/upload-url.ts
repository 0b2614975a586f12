/**
 * The local upload URL: `{publicBaseUrl}/v1/uploads/{key}?expires=…&max=…[&size=…]&sig=…`,
 * served by ctrl itself. Made by the storage (createUploadUrl), read back by the upload handler.
 */
import { sign, type UploadGrant, verify } from "./signature.ts";

/** Where ctrl serves uploads. A reverse proxy in front of ctrl must pass this path unchanged. */
export const UPLOAD_PATH_PREFIX = "/v1/uploads/";

/** Whether a request target (`/v1/uploads/…?…`) is an upload: what ctrl routes to the handler. */
export const isUploadPath = (target: string | undefined): boolean =>
  target?.startsWith(UPLOAD_PATH_PREFIX) ?? false;

const encodeKey = (key: string): string => key.split("/").map(encodeURIComponent).join("/");

export const uploadUrl = (
  publicBaseUrl: string,
  secret: Uint8Array,
  grant: UploadGrant,
): string => {
  const query = new URLSearchParams({ expires: String(grant.expires), max: String(grant.max) });
  if (grant.size !== undefined) query.set("size", String(grant.size));
  query.set("sig", sign(secret, grant));
  return `${publicBaseUrl.replace(/\/+$/, "")}${UPLOAD_PATH_PREFIX}${encodeKey(grant.key)}?${query}`;
};

/** A non-negative integer written the way `uploadUrl` writes it, else undefined. */
const count = (text: string | null): number | undefined =>
  text !== null && /^(0|[1-9]\d{0,15})$/.test(text) ? Number(text) : undefined;

export type ParsedUpload =
  | { readonly ok: true; readonly grant: UploadGrant }
  | { readonly ok: false; readonly status: 400 | 403 | 404; readonly message: string };

/**
 * The grant of a request target, when its signature holds. Says nothing about expiry (the
 * handler checks it against its clock) or about the key's shape (checked by the storage rules).
 */
export const parseUploadTarget = (target: string, secret: Uint8Array): ParsedUpload => {
  const [rawPath = "", rawQuery = ""] = target.split("?", 2);
  if (!rawPath.startsWith(UPLOAD_PATH_PREFIX))
    return { ok: false, status: 404, message: `no such endpoint: ${rawPath}` };
  let key: string;
  try {
    key = rawPath.slice(UPLOAD_PATH_PREFIX.length).split("/").map(decodeURIComponent).join("/");
  } catch {
    return { ok: false, status: 400, message: "the upload path is not valid percent-encoding" };
  }
  const query = new URLSearchParams(rawQuery);
  const expires = count(query.get("expires"));
  const max = count(query.get("max"));
  const sizeText = query.get("size");
  const size = sizeText === null ? undefined : count(sizeText);
  const signature = query.get("sig");
  const grant = { key, expires: expires ?? -1, max: max ?? -1, size };
  if (
    expires === undefined ||
    max === undefined ||
    (sizeText !== null && size === undefined) ||
    signature === null ||
    !verify(secret, grant, signature)
  )
    return {
      ok: false,
      status: 403,
      message:
        "the upload URL's signature is not valid (altered or incomplete URL?): use the URL exactly as CreateUploadUrl returned it",
    };
  return { ok: true, grant };
};
