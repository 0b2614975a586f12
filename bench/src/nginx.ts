/**
 * nginx (Debian's), started with a generated configuration as the reference reverse proxy: one
 * server that proxies every request to `upstream`, with keep-alive to the upstream, access log
 * off (frontline's access log is off during the run as well), workers = cores.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface Nginx {
  readonly url: string;
  stop(): Promise<void>;
}

const NGINX_BIN = ["/usr/sbin/nginx", "nginx"];

export const startNginx = async (options: {
  readonly port: number;
  readonly upstream: string;
}): Promise<Nginx> => {
  const dir = mkdtempSync(path.join(tmpdir(), "ferry-bench-nginx-"));
  const conf = path.join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app { server ${options.upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${options.port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`,
  );
  let lastError: Error | undefined;
  for (const bin of NGINX_BIN) {
    const child = spawn(bin, ["-c", conf, "-p", dir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const started = await new Promise<boolean>((resolve) => {
      child.once("error", (error) => {
        lastError = error;
        resolve(false);
      });
      child.once("exit", (code) => {
        lastError = new Error(`nginx exited with ${code}: ${stderr}`);
        resolve(false);
      });
      const deadline = Date.now() + 5_000;
      const probe = async () => {
        try {
          await fetch(`http://127.0.0.1:${options.port}/`);
          resolve(true);
        } catch {
          if (Date.now() > deadline) resolve(false);
          else setTimeout(probe, 50);
        }
      };
      void probe();
    });
    if (started)
      return {
        url: `http://127.0.0.1:${options.port}`,
        stop: async () => {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGQUIT");
          await exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    child.kill("SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(
    `nginx could not start (${lastError?.message}); install it: apt-get install -y nginx`,
  );
};
