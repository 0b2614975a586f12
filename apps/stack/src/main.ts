/**
 * `pnpm start`: the whole stack on embedded defaults. Prints where each part
 * listens and the API key; Ctrl-C stops every part it started.
 */
import { loadStackConfig, StackConfigError } from "./config.ts";
import { startStack } from "./stack.ts";

const main = async () => {
  const config = loadStackConfig();
  const stack = await startStack(config);
  process.stdout.write(
    [
      "",
      "Ferry is up.",
      `  API (Connect, gRPC, gRPC-Web)  ${stack.apiUrl}`,
      `  API key                        ${stack.apiKey}`,
      `  Restate ingress / admin        ${stack.restate.ingressUrl} / ${stack.restate.adminUrl}`,
      `  hydra endpoint                 ${stack.hydraUrl}`,
      `  frontline (deployments)        ${stack.frontlineUrl}  (hostnames *.ferry.localhost resolve to 127.0.0.1)`,
      `  container engine               ${stack.engineUrl ?? `none (${stack.engineProblem})`}`,
      `  data                           ${stack.dataDir}`,
      "",
      "Try:",
      `  curl -s -H 'Authorization: Bearer ${stack.apiKey}' -H 'Content-Type: application/json' \\`,
      `    -d '{"name":"Web","slug":"web"}' ${stack.apiUrl}/ctrl.v1.ProjectService/CreateProject`,
      "",
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping frontline, hydra, ctrl, restate-server ...\n`);
      void stack.stop().then(() => process.exit(0));
    });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof StackConfigError ? "configuration: " : "ferry could not start: "}${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
