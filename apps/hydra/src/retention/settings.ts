/**
 * Retention's settings (read from the environment by config.ts, like every other setting) and
 * the parser of FERRY_RETENTION_PERIOD.
 */

export interface RetentionSettings {
  /** Artifacts of a deployment are kept at least this long after it finished. */
  readonly periodMs: number;
  /** Each hydra asks for a sweep this often; 0: never on its own (only when asked). */
  readonly intervalSeconds: number;
  /** The most deployments (or stored objects) one page of a sweep looks at. */
  readonly batchSize: number;
  /**
   * How long an upload URL accepts its upload (ctrl's FERRY_UPLOAD_URL_TTL_SECONDS): a stored
   * context no deployment uses is abandoned once older than this plus the period.
   */
  readonly uploadUrlTtlSeconds: number;
}

export const DEFAULT_RETENTION_PERIOD = "7d";
export const DEFAULT_RETENTION_INTERVAL_SECONDS = 3_600;
export const DEFAULT_RETENTION_BATCH_SIZE = 50;
/** Same default as ctrl's FERRY_UPLOAD_URL_TTL_SECONDS. */
export const DEFAULT_UPLOAD_URL_TTL_SECONDS = 900;
/**
 * The most pages one sweep goes through, of deployments and of stored objects each (so at most
 * 20 × FERRY_RETENTION_BATCH_SIZE of each per sweep); the next sweep continues where it stopped.
 */
export const MAX_PAGES_PER_SWEEP = 20;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_PERIOD_MS = 3_650 * UNIT_MS.d;

/**
 * `7d`, `12h`, `30m`, `90s`: a whole number and one unit. Returns the milliseconds, or the
 * problem to report.
 */
export const parseRetentionPeriod = (
  raw: string,
):
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly problem: string } => {
  const match = /^(\d{1,7})([smhd])$/.exec(raw.trim().toLowerCase());
  const ms =
    match === null ? Number.NaN : Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (!Number.isFinite(ms) || ms < UNIT_MS.s || ms > MAX_PERIOD_MS)
    return {
      ok: false,
      problem: `must be a duration from 1s to 3650d: a whole number followed by s, m, h or d, like 7d, 12h, 30m or 90s (got "${raw}")`,
    };
  return { ok: true, ms };
};
