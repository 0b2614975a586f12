/**
 * `node src/main.ts`: hydra as a process. Reads its configuration (config.ts),
 * starts the endpoint, registers it with Restate, reconciles containers, and
 * stops cleanly on SIGINT/SIGTERM.
 */
import { ConfigError, describeConfig, loadConfig } from "./config.ts";
import { errorFields, makeLogger } from "./log.ts";
import { startHydra } from "./server.ts";

const boot = makeLogger({ level: "info" });

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    boot.error("invalid configuration", { problems: error.problems });
    process.exit(2);
  }
  throw error;
}

const logger = makeLogger({ level: config.logLevel });
logger.info("starting", { config: describeConfig(config), pid: process.pid });

try {
  const hydra = await startHydra(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping", { signal });
    hydra.close().then(
      () => process.exit(0),
      (error) => {
        logger.error("stop failed", errorFields(error));
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
} catch (error) {
  logger.error("could not start", errorFields(error));
  process.exit(1);
}
