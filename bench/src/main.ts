/**
 * `pnpm bench`: starts the whole stack as `pnpm start` does (in a temporary data directory, on
 * free ports), deploys two versions of a busybox web server, then measures
 *
 *   1. switch latency: Rollback/Promote RPC return → frontline serving the target (p50, p99);
 *   2. proxy overhead: wrk against the container directly, through nginx and through frontline.
 *
 * Prints a table and one JSON line (for keeping results). Environment:
 *   BENCH_SWITCHES (200), BENCH_ROUNDS (3), BENCH_SECONDS (8), BENCH_CONNECTIONS (32),
 *   FERRY_FRONTLINE_WORKERS (default auto: one per core, as nginx's worker_processes auto).
 * Needs wrk and nginx (apt-get install -y wrk nginx) besides what the stack needs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DeploymentService, DeploymentStatus, ProjectService } from "@ferry/api";
import { makeDockerEngine } from "@ferry/containers";
import { removeContainersByLabels, webServerImage } from "@ferry/containers/testing";
import { loadStackConfig, startStack } from "@ferry/stack";
import { freePort } from "@ferry/stack/testing";
import { Effect } from "effect";
import { measureProxyOverhead } from "./proxy-overhead.ts";
import { measureSwitchLatency } from "./switch-latency.ts";

const number = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

const say = (message: string) => process.stdout.write(`${message}\n`);

const main = async () => {
  const switches = number("BENCH_SWITCHES", 200);
  const rounds = number("BENCH_ROUNDS", 3);
  const seconds = number("BENCH_SECONDS", 8);
  const connections = number("BENCH_CONNECTIONS", 32);
  const dataDir = mkdtempSync(path.join(tmpdir(), "ferry-bench-"));
  const config = loadStackConfig({
    ...process.env,
    FERRY_DATA_DIR: dataDir,
    FERRY_API_PORT: String(await freePort()),
    FERRY_HYDRA_PORT: String(await freePort()),
    FERRY_FRONTLINE_PORT: String(await freePort()),
    FERRY_RESTATE_INGRESS_PORT: String(await freePort()),
    FERRY_RESTATE_ADMIN_PORT: String(await freePort()),
    FERRY_RESTATE_NODE_PORT: String(await freePort()),
    FERRY_LOG_LEVEL: "warn",
  });
  say("starting the stack ...");
  const stack = await startStack(config, {
    onLine: () => undefined,
    say: () => undefined,
    // The access log would cost frontline what nginx does not pay (its access_log is off).
    // Workers: one per core, like the nginx it is compared with.
    env: {
      FERRY_FRONTLINE_ACCESS_LOG: "off",
      FERRY_FRONTLINE_WORKERS: process.env.FERRY_FRONTLINE_WORKERS ?? "auto",
    },
  });
  const engine = makeDockerEngine({ url: stack.engineUrl ?? "" });
  try {
    if (stack.engineUrl === undefined) throw new Error(stack.engineProblem);
    const transport = createConnectTransport({
      baseUrl: stack.apiUrl,
      httpVersion: "2",
      interceptors: [
        ((next) => (request) => {
          request.header.set("authorization", `Bearer ${stack.apiKey}`);
          return next(request);
        }) satisfies Interceptor,
      ],
    });
    const projects = createClient(ProjectService, transport);
    const deployments = createClient(DeploymentService, transport);
    const { project } = await projects.createProject({ name: "Bench", slug: "bench" });
    const projectId = project?.id ?? "";

    const deploy = async (content: string) => {
      const image = await webServerImage(engine, { content });
      const { deploymentId } = await deployments.createDeployment({
        projectId,
        environmentSlug: "production",
        source: { case: "dockerImage", value: image },
        regions: ["local-1"],
      });
      for (;;) {
        const { deployment } = await deployments.getDeployment({ deploymentId });
        if (deployment?.status === DeploymentStatus.READY) return deployment;
        if (deployment !== undefined && deployment.status > DeploymentStatus.READY)
          throw new Error(`deployment ${deploymentId} ended ${deployment.errorMessage}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    say("deploying v1 and v2 ...");
    const v1 = await deploy("bench v1");
    const v2 = await deploy("bench v2");
    // The live hostname is the shortest: `<project>--<workspace>.<apex>`.
    const liveHostname = [...v2.hostnames].sort((a, b) => a.length - b.length)[0] ?? "";

    say(`switch latency: ${switches} alternating rollbacks and promotes ...`);
    const latency = await measureSwitchLatency({
      deployments,
      frontlineUrl: stack.frontlineUrl,
      liveHostname,
      v1: { id: v1.id, content: "bench v1" },
      v2: { id: v2.id, content: "bench v2" },
      switches,
    });

    const [container] = await Effect.runPromise(
      engine.listContainers({ "ferry.deployment": v2.id }),
    );
    const port = container?.Ports?.find((p) => p.PrivatePort === 8080)?.PublicPort;
    if (port === undefined) throw new Error("v2's container publishes no port");
    const overhead = await measureProxyOverhead({
      upstream: `127.0.0.1:${port}`,
      frontlineUrl: stack.frontlineUrl,
      hostname: liveHostname,
      nginxPort: await freePort(),
      rounds,
      durationSeconds: seconds,
      connections,
      say,
    });

    const row = (name: string, r: { requestsPerSecond: number; p50: number; p99: number }) =>
      `${name.padEnd(10)} ${r.requestsPerSecond.toFixed(0).padStart(10)} req/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms`;
    say("");
    say(`switch latency (${latency.switches} switches, RPC return → frontline serves target)`);
    say(
      `  p50 ${latency.p50} ms   p99 ${latency.p99} ms   max ${latency.max} ms   (target: p99 ≤ 50 ms)`,
    );
    say(`  the RPCs themselves: p50 ${latency.rpcP50} ms   p99 ${latency.rpcP99} ms`);
    say("");
    say(
      `proxy overhead (wrk, 2 threads, ${connections} connections, ${seconds} s × ${rounds} rounds, median)`,
    );
    say(row("direct", overhead.direct));
    say(row("nginx", overhead.nginx));
    say(row("frontline", overhead.frontline));
    say(`  frontline / nginx requests per second: ${overhead.ratio} (target: ≥ 0.7)`);
    say(
      `  added p99: nginx ${overhead.nginxAddedP99} ms, frontline ${overhead.frontlineAddedP99} ms`,
    );
    say(JSON.stringify({ date: new Date().toISOString(), latency, overhead }));
  } finally {
    await removeContainersByLabels(engine, { "ferry.installation": stack.installation }).catch(
      () => undefined,
    );
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
