/**
 * The example's HTTP edge in-process, on a real HTTP server: the bearer token and malformed
 * paths. Both are decided before the deployment service is called, so the service here is a
 * stand-in that records its calls (the real one, on a whole stack, is in embedded.test.ts).
 */
import { createServer, type Server } from "node:http";
import { type DeploymentService, NotFound } from "@ferry/deployment-service";
import { afterEach, describe, expect, it } from "vitest";
import { makeHandler } from "../src/app.ts";
import { startExample } from "./example-process.ts";

const TOKEN = "0123456789abcdef-example-token";

/** Answers NotFound for every deployment, recording the ids asked for. */
const standIn = () => {
  const asked: Array<string> = [];
  const service = {
    deployments: {
      get: async (id: string) => {
        asked.push(id);
        throw new NotFound({ resource: "deployment", id });
      },
    },
  } as unknown as DeploymentService;
  return { service, asked };
};

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

const serve = async (service: DeploymentService, token?: string) => {
  const handler = makeHandler(service, { token });
  server = createServer((request, response) => void handler(request, response));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
};

const get = async (url: string, authorization?: string) => {
  const answer = await fetch(url, authorization ? { headers: { authorization } } : {});
  return {
    status: answer.status,
    challenge: answer.headers.get("www-authenticate"),
    body: (await answer.json()) as { error: string; message: string },
  };
};

describe("the bearer token", () => {
  it("refuses a request without it, or with another token, before the service is called", async () => {
    const { service, asked } = standIn();
    const url = `${await serve(service, TOKEN)}/deployments/dep_01jf0000000000000000000000`;
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN.slice(0, -1)}x`,
      `Bearer ${TOKEN}extra`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const answer = await get(url, authorization);
      expect(answer.status, String(authorization)).toBe(401);
      expect(answer.challenge).toBe('Bearer realm="embedded-service"');
      expect(answer.body.error).toBe("Unauthenticated");
      expect(answer.body.message).toContain("EXAMPLE_TOKEN");
      expect(JSON.stringify(answer.body)).not.toContain(TOKEN);
    }
    expect(asked).toEqual([]);
  });

  it("lets the right token through to the service", async () => {
    const { service, asked } = standIn();
    const base = await serve(service, TOKEN);
    const answer = await get(
      `${base}/deployments/dep_01jf0000000000000000000000`,
      `Bearer ${TOKEN}`,
    );
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({
      error: "NotFound",
      message: 'deployment "dep_01jf0000000000000000000000" not found',
    });
    expect((await get(`${base}/deployments/x`, `bearer ${TOKEN}`)).status).toBe(404);
    expect(asked).toEqual(["dep_01jf0000000000000000000000", "x"]);
  });
});

describe("malformed paths", () => {
  it("a malformed percent-encoding in the path is a 400 naming it, not a 500", async () => {
    const { service, asked } = standIn();
    const base = await serve(service);
    for (const route of ["/deployments/%zz", "/deployments/dep%E0%A4%A/events"]) {
      const answer = await get(`${base}${route}`);
      expect(answer.status, route).toBe(400);
      expect(answer.body.error).toBe("ValidationError");
      expect(answer.body.message).toMatch(/^the path segment ".+" is not valid percent-encoding$/);
    }
    expect(asked).toEqual([]);
    // Well-formed encoding still reaches the service, decoded.
    expect((await get(`${base}/deployments/dep%5Fx`)).status).toBe(404);
    expect(asked).toEqual(["dep_x"]);
  });
});

describe("the example's process", () => {
  it("refuses to listen beyond loopback without EXAMPLE_TOKEN, naming both", async () => {
    const example = startExample({
      DATABASE_URL: "postgresql://127.0.0.1:9/ferry",
      FERRY_SECRET_KEYS: "k1:abc",
      HOST: "0.0.0.0",
      PORT: "0",
    });
    const code = await example.exited;
    const output = example.output();
    expect(code).toBe(2);
    expect(output).toContain("HOST: 0.0.0.0 is reachable from other machines");
    expect(output).toContain("set EXAMPLE_TOKEN");
    expect(output).not.toContain("listening");
  });
});
