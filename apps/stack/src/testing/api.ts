/** The public API as a client sees it: Connect clients with the stack's API key, and polling. */
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { type Deployment, DeploymentService, DeploymentStatus, ProjectService } from "@ferry/api";
import type { Stack } from "../stack.ts";

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };

/** ctrl's public API over HTTP/1.1, called with the stack's API key, as any client calls it. */
export const clientsOf = (stack: Pick<Stack, "apiUrl" | "apiKey">) => {
  const transport = createConnectTransport({
    baseUrl: stack.apiUrl,
    httpVersion: "1.1",
    interceptors: [bearer(stack.apiKey)],
  });
  return {
    projects: createClient(ProjectService, transport),
    deployments: createClient(DeploymentService, transport),
  };
};

export type Clients = ReturnType<typeof clientsOf>;

export const TERMINAL: ReadonlySet<DeploymentStatus> = new Set([
  DeploymentStatus.READY,
  DeploymentStatus.FAILED,
  DeploymentStatus.CANCELLED,
  DeploymentStatus.SUPERSEDED,
]);

/** GetDeployment until the deployment is in a terminal status. */
export const untilTerminal = async (
  clients: Clients,
  id: string,
  timeoutMs = 150_000,
): Promise<Deployment> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { deployment } = await clients.deployments.getDeployment({ deploymentId: id });
    if (deployment && TERMINAL.has(deployment.status)) return deployment;
    if (Date.now() > deadline)
      throw new Error(`deployment ${id} not terminal: ${deployment?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

/** The deployment's own hostname (the one that never moves to another deployment). */
export const ownHostname = (deployment: {
  readonly hostnames: ReadonlyArray<string>;
  readonly id: string;
}) => deployment.hostnames.find((h) => h.includes(deployment.id.slice(4).toLowerCase())) ?? "";
