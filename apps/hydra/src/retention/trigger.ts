/**
 * How sweeps are asked for: through Restate's ingress, to the one-key `retention` object.
 *
 * Every hydra replica asks at start and then every `intervalSeconds`, one-way, with the
 * idempotency key `retention-<interval slot>`: the asks of every replica (and of a replica that
 * restarted) in one slot are one invocation, and the object skips a sweep that comes less than
 * half an interval after the last one (clocks of replicas differ a little). No chain of delayed
 * calls to lose or to start twice: any running replica keeps sweeps coming, and with no replica
 * running there is nothing to sweep with anyway.
 */
import { errorFields, type Logger } from "../log.ts";
import { RETENTION_KEY, RETENTION_OBJECT, type SweepReport, type SweepRequest } from "./object.ts";

const sweepUrl = (ingressUrl: string, mode: "call" | "send") =>
  `${ingressUrl}/${RETENTION_OBJECT}/${RETENTION_KEY}/sweep${mode === "send" ? "/send" : ""}`;

const post = async (
  url: string,
  body: SweepRequest,
  headers: Record<string, string>,
  timeoutMs: number,
) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`Restate ingress answered ${response.status} to ${url}: ${text.slice(0, 300)}`);
  return text;
};

/** Sends one sweep request for the interval slot `now` falls in (a repeat in the slot is one sweep). */
export const askForSweep = async (
  ingressUrl: string,
  intervalSeconds: number,
  now = Date.now(),
) => {
  const slot = Math.floor(now / (intervalSeconds * 1_000));
  await post(
    sweepUrl(ingressUrl, "send"),
    { minGapMs: (intervalSeconds * 1_000) / 2 },
    { "idempotency-key": `retention-${intervalSeconds}-${slot}` },
    15_000,
  );
};

/** Runs a sweep now and waits for its report (operators and tests; queued behind a running one). */
export const sweepNow = async (ingressUrl: string, timeoutMs = 300_000): Promise<SweepReport> =>
  JSON.parse(await post(sweepUrl(ingressUrl, "call"), {}, {}, timeoutMs)) as SweepReport;

/**
 * Asks for a sweep now and every `intervalSeconds` (0: never). A failed ask is logged and the
 * next tick asks again. Returns the stop function.
 */
export const startSweepTimer = (options: {
  readonly ingressUrl: string;
  readonly intervalSeconds: number;
  readonly logger: Logger;
}): (() => void) => {
  if (options.intervalSeconds <= 0) return () => {};
  const ask = () =>
    askForSweep(options.ingressUrl, options.intervalSeconds).catch((error) =>
      options.logger.warn("could not ask Restate for a retention sweep", {
        ingressUrl: options.ingressUrl,
        ...errorFields(error),
      }),
    );
  void ask();
  const timer = setInterval(ask, options.intervalSeconds * 1_000).unref();
  return () => clearInterval(timer);
};
