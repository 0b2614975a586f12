/**
 * The example service: configuration → the embedded deployment service → HTTP. SIGTERM and
 * SIGINT close the HTTP server, then the service (its database pool and listener).
 *
 *   DATABASE_URL=... FERRY_SECRET_KEYS=... pnpm --filter @ferry/example-embedded-service start
 *
 * It listens on loopback unless HOST says otherwise, and beyond loopback only with EXAMPLE_TOKEN
 * (config.ts): the embedded service has its workspace's full rights.
 */
import { createServer } from "node:http";
import { createDeploymentService } from "@ferry/deployment-service";
import { makeHandler } from "./app.ts";
import { ExampleConfigError, loadConfig } from "./config.ts";

const main = async () => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ExampleConfigError)) throw error;
    process.stderr.write(`embedded-service: ${error.message}\n`);
    process.exit(2);
  }
  const service = await createDeploymentService(config.service);
  const handler = makeHandler(service, { token: config.token });
  const server = createServer((request, response) => void handler(request, response));
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  process.stdout.write(
    `embedded-service listening on http://${config.host}:${port} (workspace ${service.workspace.slug}${config.token === undefined ? "" : ", bearer token required"})\n`,
  );
  const stop = () => {
    server.close(() => void service.close().then(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
};

main().catch((error: unknown) => {
  process.stderr.write(
    `embedded-service: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
