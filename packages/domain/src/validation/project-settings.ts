/** Runtime settings of a project, with their bounds. */
import { Schema } from "effect";
import { hasControlCharacter } from "./text.ts";

export const MAX_REPLICAS_PER_REGION = 20;
export const MAX_HEALTH_CHECK_TIMEOUT_SECONDS = 3600;

const integerBetween = (min: number, max: number) =>
  Schema.Number.pipe(
    Schema.filter(
      (n) =>
        (Number.isInteger(n) && n >= min && n <= max) ||
        `must be an integer from ${min} to ${max} (got ${n})`,
    ),
  );

export const ContainerPort = integerBetween(1, 65535);
export const ReplicasPerRegion = integerBetween(1, MAX_REPLICAS_PER_REGION);
export const HealthCheckTimeoutSeconds = integerBetween(1, MAX_HEALTH_CHECK_TIMEOUT_SECONDS);

export const HealthCheckPath = Schema.String.pipe(
  Schema.filter((path) => {
    if (!path.startsWith("/")) return `must start with '/' (got "${path}")`;
    if (path.length > 1024) return "must be at most 1024 characters";
    if (hasControlCharacter(path) || /[\s#]/.test(path))
      return "must not contain whitespace, control characters or '#'";
    return true;
  }),
);

/** A partial update: absent fields keep their value. */
export const ProjectSettingsPatch = Schema.Struct({
  containerPort: Schema.optional(ContainerPort),
  healthCheckPath: Schema.optional(HealthCheckPath),
  healthCheckTimeoutSeconds: Schema.optional(HealthCheckTimeoutSeconds),
  replicasPerRegion: Schema.optional(ReplicasPerRegion),
});
export type ProjectSettingsPatch = typeof ProjectSettingsPatch.Type;
