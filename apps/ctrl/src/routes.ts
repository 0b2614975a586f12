/** The Connect routes of ctrl: what each service path is served by. Wiring lives in server.ts. */
import type { ConnectRouter } from "@connectrpc/connect";
import { DeploymentService, ProjectService } from "@ferry/api";
import { reflectionRoutes } from "./reflection.ts";
import { deploymentService } from "./services/deployment-service.ts";
import { projectService } from "./services/project-service.ts";
import type { Rpc } from "./services/rpc.ts";

/** The API's services, as reflection lists them. */
export const API_SERVICES = [DeploymentService, ProjectService] as const;

export const makeRoutes =
  (rpc: Rpc) =>
  (router: ConnectRouter): void => {
    router.service(DeploymentService, deploymentService(rpc));
    router.service(ProjectService, projectService(rpc));
    reflectionRoutes(API_SERVICES)(router);
  };
