/**
 * The example's HTTP API, on node:http, over an embedded deployment service:
 *
 *   POST /deploy                       {"project": "web", "image": "...", "environment": "production"}
 *                                      → 202 {"deploymentId", "status", "projectId"}; creates the project first if needed
 *   GET  /deployments/{id}             → 200 {"id", "status", "errorMessage", "hostnames", "isLive", "steps"}
 *   GET  /deployments/{id}/events      → 200 NDJSON, one event per line, until the terminal status;
 *                                        `?cursor=` resumes after an event
 *   POST /deployments/{id}/promote     → 200 {"liveDeploymentId", "changed", ...}
 *
 * The library's errors become HTTP answers in one function (`answerError`): its tagged errors
 * say exactly what went wrong, so each maps to one status.
 *
 * With a token configured, every request must carry `Authorization: Bearer <token>` (401
 * otherwise): the service acts with its workspace's full rights, so whoever reaches this
 * endpoint can deploy, promote and read deployments. config.ts demands a token beyond loopback.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type DeploymentService, NotFound, type WatchedEvent } from "@ferry/deployment-service";
import { hasToken } from "./auth.ts";

export interface HandlerOptions {
  /** When set, the bearer token every request must carry. */
  readonly token?: string | undefined;
}

const STATUS_OF_TAG: Readonly<Record<string, number>> = {
  ValidationError: 400,
  NotFound: 404,
  AlreadyExists: 409,
  PreconditionFailed: 409,
  WorkflowUnavailable: 503,
  ServiceClosed: 503,
};

const send = (response: ServerResponse, status: number, body: unknown) => {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
};

/** A library failure as an HTTP answer; anything untagged is a 500 whose cause stays in the log. */
export const answerError = (response: ServerResponse, error: unknown) => {
  const tag = (error as { _tag?: unknown })?._tag;
  const status = typeof tag === "string" ? STATUS_OF_TAG[tag] : undefined;
  if (status === undefined) {
    console.error("embedded-service: unexpected failure", error);
    if (!response.headersSent)
      send(response, 500, { error: "InternalError", message: "internal error" });
    else response.destroy();
    return;
  }
  const violations = (error as { violations?: unknown }).violations;
  if (!response.headersSent)
    send(response, status, {
      error: tag,
      message: (error as Error).message,
      ...(violations === undefined ? {} : { violations }),
    });
  else response.destroy();
};

const readJson = async (request: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Array<Buffer> = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new BadRequest("the body is larger than 64 KiB");
    chunks.push(chunk);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (typeof body === "object" && body !== null && !Array.isArray(body))
      return body as Record<string, unknown>;
  } catch {}
  throw new BadRequest("the body must be a JSON object");
};

class BadRequest extends Error {
  readonly _tag = "ValidationError";
}

/** The request target as a URL; one that does not parse is the client's error. */
const parseTarget = (target: string | undefined): URL => {
  try {
    return new URL(target ?? "/", "http://localhost");
  } catch {
    throw new BadRequest("the request target is not a valid URL path");
  }
};

const text = (body: Record<string, unknown>, field: string, fallback?: string): string => {
  const value = body[field] ?? fallback;
  if (typeof value !== "string") throw new BadRequest(`${field}: must be a string`);
  return value;
};

/** The project with this slug, created (named after the slug) when it does not exist yet. */
const projectFor = async (service: DeploymentService, slug: string) => {
  try {
    return (await service.projects.get(slug)).project;
  } catch (error) {
    if (!(error instanceof NotFound)) throw error;
    return (await service.projects.create({ name: slug, slug })).project;
  }
};

/** One watched event as a JSON line. */
const eventLine = (event: WatchedEvent) => {
  const body = event.body;
  return {
    cursor: event.cursor,
    at: event.at,
    ...(body._tag === "Status"
      ? {
          type: "status",
          status: body.status,
          isLive: body.isLive,
          errorMessage: body.errorMessage,
        }
      : body._tag === "Step"
        ? { type: "step", step: body.step.name, stepStatus: body.step.status }
        : { type: "log", step: body.line.step, text: body.line.text }),
  };
};

const streamEvents = async (
  service: DeploymentService,
  id: string,
  cursor: string | undefined,
  response: ServerResponse,
) => {
  // The client leaving ends the watch.
  const stop = new AbortController();
  response.once("close", () => stop.abort());
  const events = service.deployments
    .watch(id, {
      signal: stop.signal,
      ...(cursor === undefined ? {} : { cursor }),
    })
    [Symbol.asyncIterator]();
  // The first event (or the failure: a malformed id, an unknown deployment) before the headers.
  const first = await events.next();
  response.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
  if (!first.done) response.write(`${JSON.stringify(eventLine(first.value))}\n`);
  for (let next = await events.next(); !next.done; next = await events.next())
    response.write(`${JSON.stringify(eventLine(next.value))}\n`);
  response.end();
};

/** A path segment, percent-decoded; malformed encoding (`%zz`) is the client's error. */
const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest(`the path segment "${segment}" is not valid percent-encoding`);
  }
};

export const makeHandler =
  (service: DeploymentService, options: HandlerOptions = {}) =>
  async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const { token } = options;
    if (token !== undefined && !hasToken(request, token)) {
      response.setHeader("www-authenticate", 'Bearer realm="embedded-service"');
      return send(response, 401, {
        error: "Unauthenticated",
        message:
          'this endpoint needs "Authorization: Bearer <token>" with the EXAMPLE_TOKEN it was started with',
      });
    }
    try {
      const url = parseTarget(request.url);
      const parts = url.pathname.split("/").filter((part) => part !== "");
      if (request.method === "POST" && url.pathname === "/deploy") {
        const body = await readJson(request);
        const project = await projectFor(service, text(body, "project"));
        const created = await service.deployments.create({
          projectId: project.id,
          environmentSlug: text(body, "environment", "production"),
          source: { image: text(body, "image") },
        });
        return send(response, 202, { ...created, projectId: project.id });
      }
      if (parts[0] === "deployments" && parts[1] !== undefined) {
        const id = decodeSegment(parts[1]);
        if (request.method === "GET" && parts.length === 2) {
          const { deployment, routes, steps, isLive } = await service.deployments.get(id);
          return send(response, 200, {
            id: deployment.id,
            status: deployment.status,
            errorMessage: deployment.errorMessage ?? "",
            hostnames: routes.map((route) => route.hostname),
            isLive,
            steps: steps.map((step) => ({ name: step.name, status: step.status })),
          });
        }
        if (request.method === "GET" && parts[2] === "events" && parts.length === 3)
          return await streamEvents(
            service,
            id,
            url.searchParams.get("cursor") ?? undefined,
            response,
          );
        if (request.method === "POST" && parts[2] === "promote" && parts.length === 3)
          return send(response, 200, await service.deployments.promote(id));
      }
      send(response, 404, {
        error: "NotFound",
        message: `no route for ${request.method} ${url.pathname}`,
      });
    } catch (error) {
      answerError(response, error);
    }
  };
