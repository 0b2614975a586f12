/**
 * Follows a deployment to its end through WatchDeployment. A dropped stream (network error,
 * Unavailable when the server restarts) is resumed with the cursor of the last event, so every
 * event reaches onEvent exactly once, in order. Returns the deployment as GetDeployment shows it
 * once the stream delivered its terminal status.
 */
import type { Deployment, WatchDeploymentResponse } from "@ferry/api";
import { type Api, isTransient } from "../api.ts";
import { isTerminal } from "../status.ts";

export interface FollowOptions {
  /** Leave out log lines (status and step events only). */
  readonly excludeLogs?: boolean;
  /** Stops following (the promise rejects with the abort reason). */
  readonly signal?: AbortSignal;
  /** Consecutive failed reconnects before giving up; default 8 (about a minute with backoff). */
  readonly maxReconnects?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

const backoff = (attempt: number) => Math.min(250 * 2 ** (attempt - 1), 10_000);

export const followDeployment = async (
  api: Api,
  deploymentId: string,
  onEvent: (event: WatchDeploymentResponse) => void,
  options: FollowOptions = {},
): Promise<Deployment> => {
  const maxReconnects = options.maxReconnects ?? 8;
  const callOptions = options.signal === undefined ? {} : { signal: options.signal };
  let cursor = "";
  let failures = 0;
  let ended = false;
  while (!ended) {
    try {
      const stream = api.deployments.watchDeployment(
        { deploymentId, afterCursor: cursor, excludeLogs: options.excludeLogs ?? false },
        callOptions,
      );
      for await (const event of stream) {
        failures = 0;
        if (event.cursor !== "") cursor = event.cursor;
        onEvent(event);
        if (event.event.case === "status" && isTerminal(event.event.value.status)) ended = true;
      }
      // The stream ends after the terminal event; ending before it is a dropped stream.
      if (!ended && ++failures > maxReconnects)
        throw new Error(`the event stream of ${deploymentId} kept ending early`);
    } catch (error) {
      if (options.signal?.aborted || !isTransient(error) || ++failures > maxReconnects) throw error;
    }
    if (!ended) await sleep(backoff(failures), options.signal);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const { deployment } = await api.deployments.getDeployment({ deploymentId }, callOptions);
      if (deployment === undefined) throw new Error(`GetDeployment returned no deployment`);
      return deployment;
    } catch (error) {
      if (!isTransient(error) || attempt > maxReconnects) throw error;
      await sleep(backoff(attempt), options.signal);
    }
  }
};
