/**
 * Switch latency: how long after a Rollback or Promote RPC returns does frontline answer the
 * live hostname with the target's content? 200 alternating switches between two READY
 * deployments (v1 older, v2 newer): Rollback v2 → v1, then Promote v2, and so on. After each
 * call returns, one client polls frontline (keep-alive, back to back) until the body is the
 * target's; the time from the return to that answer is one sample.
 */
import type { Client } from "@connectrpc/connect";
import type { DeploymentService } from "@ferry/api";
import { Pool } from "undici";
import { percentile, round } from "./stats.ts";

export interface SwitchLatencyResult {
  readonly switches: number;
  /** Milliseconds from the RPC's return to frontline serving the target. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Milliseconds the RPC itself took (client's view). */
  readonly rpcP50: number;
  readonly rpcP99: number;
}

export const measureSwitchLatency = async (options: {
  readonly deployments: Client<typeof DeploymentService>;
  readonly frontlineUrl: string;
  readonly liveHostname: string;
  readonly v1: { readonly id: string; readonly content: string };
  readonly v2: { readonly id: string; readonly content: string };
  readonly switches: number;
  readonly timeoutMs?: number;
}): Promise<SwitchLatencyResult> => {
  const pool = new Pool(options.frontlineUrl, { connections: 1, pipelining: 1 });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const body = async () => {
    const response = await pool.request({
      path: "/",
      method: "GET",
      headers: { host: options.liveHostname },
    });
    return (await response.body.text()).trim();
  };
  const samples: number[] = [];
  const rpcTimes: number[] = [];
  try {
    for (let i = 0; i < options.switches; i++) {
      const rollback = i % 2 === 0;
      const target = rollback ? options.v1 : options.v2;
      const called = performance.now();
      if (rollback)
        await options.deployments.rollback({
          sourceDeploymentId: options.v2.id,
          targetDeploymentId: options.v1.id,
        });
      else await options.deployments.promote({ targetDeploymentId: options.v2.id });
      const returned = performance.now();
      rpcTimes.push(returned - called);
      for (;;) {
        if ((await body()) === target.content) break;
        if (performance.now() - returned > timeoutMs)
          throw new Error(`frontline did not serve ${target.id} ${timeoutMs} ms after switch ${i}`);
      }
      samples.push(performance.now() - returned);
    }
  } finally {
    await pool.close();
  }
  return {
    switches: samples.length,
    p50: round(percentile(samples, 50)),
    p99: round(percentile(samples, 99)),
    max: round(Math.max(...samples)),
    rpcP50: round(percentile(rpcTimes, 50)),
    rpcP99: round(percentile(rpcTimes, 99)),
  };
};
