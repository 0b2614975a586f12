/**
 * Proxy overhead: wrk against the same busybox container directly, through nginx and through
 * frontline, side by side in one run. Rounds alternate (direct, nginx, frontline, nginx,
 * frontline, ...) so that the machine's noise hits both proxies alike; the result per target
 * is the median round. Reports requests per second, p50/p99 latency, the p99 each proxy adds
 * over the direct path, and frontline's requests per second as a fraction of nginx's.
 */
import { startNginx } from "./nginx.ts";
import { round } from "./stats.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

export interface ProxyOverheadResult {
  readonly direct: WrkResult;
  readonly nginx: WrkResult;
  readonly frontline: WrkResult;
  /** frontline req/s ÷ nginx req/s. */
  readonly ratio: number;
  /** Milliseconds added at p99 over the direct path. */
  readonly nginxAddedP99: number;
  readonly frontlineAddedP99: number;
}

const median = (results: ReadonlyArray<WrkResult>): WrkResult => {
  const sorted = [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] as WrkResult;
};

export const measureProxyOverhead = async (options: {
  /** host:port of the container's published port. */
  readonly upstream: string;
  readonly frontlineUrl: string;
  readonly hostname: string;
  readonly nginxPort: number;
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly say: (message: string) => void;
}): Promise<ProxyOverheadResult> => {
  const nginx = await startNginx({ port: options.nginxPort, upstream: options.upstream });
  const wrk = (url: string) =>
    runWrk({
      url,
      host: options.hostname,
      threads: 2,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
    });
  const runs = {
    direct: [] as WrkResult[],
    nginx: [] as WrkResult[],
    frontline: [] as WrkResult[],
  };
  try {
    // Warm-up: connection pools, JIT.
    await runWrk({
      url: `${options.frontlineUrl}/`,
      host: options.hostname,
      threads: 1,
      connections: 8,
      durationSeconds: 2,
    });
    await runWrk({
      url: `${nginx.url}/`,
      host: options.hostname,
      threads: 1,
      connections: 8,
      durationSeconds: 2,
    });
    for (let round = 1; round <= options.rounds; round++) {
      options.say(`proxy overhead: round ${round} of ${options.rounds}`);
      runs.direct.push(await wrk(`http://${options.upstream}/`));
      runs.nginx.push(await wrk(`${nginx.url}/`));
      runs.frontline.push(await wrk(`${options.frontlineUrl}/`));
    }
  } finally {
    await nginx.stop();
  }
  const direct = median(runs.direct);
  const viaNginx = median(runs.nginx);
  const viaFrontline = median(runs.frontline);
  for (const [name, result] of Object.entries({ direct, nginx: viaNginx, frontline: viaFrontline }))
    if (result.non2xx > 0 || result.socketErrors > 0)
      options.say(
        `warning: ${name} had ${result.non2xx} non-2xx answers and ${result.socketErrors} socket errors`,
      );
  return {
    direct,
    nginx: viaNginx,
    frontline: viaFrontline,
    ratio: round(viaFrontline.requestsPerSecond / viaNginx.requestsPerSecond, 3),
    nginxAddedP99: round(viaNginx.p99 - direct.p99),
    frontlineAddedP99: round(viaFrontline.p99 - direct.p99),
  };
};
