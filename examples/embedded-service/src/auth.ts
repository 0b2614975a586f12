/**
 * The example's one credential: a bearer token (EXAMPLE_TOKEN) that every request must carry
 * when one is configured. The service behind it acts with the full rights of its workspace, so
 * the comparison is timing-safe: both sides are hashed to the same length first, so neither the
 * token's content nor its length shows in how long a refusal takes.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** Hosts that only this machine can reach; anything else needs a token (config.ts). */
export const isLoopback = (host: string): boolean => {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return (
    bare === "localhost" ||
    bare === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(bare) ||
    /^::ffff:127(\.\d{1,3}){3}$/.test(bare)
  );
};

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** True when the request carries `Authorization: Bearer <token>` with exactly this token. */
export const hasToken = (request: IncomingMessage, token: string): boolean => {
  const match = /^Bearer ([^\s]+)\s*$/i.exec(request.headers.authorization ?? "");
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), digest(token));
};
