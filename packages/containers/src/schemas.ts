/** The parts of the Docker Engine API's answers that Ferry reads (other fields are ignored). */
import { Schema } from "effect";

const Labels = Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.String }));

const PortBinding = Schema.Struct({
  HostIp: Schema.optional(Schema.String),
  HostPort: Schema.optional(Schema.String),
});

/** `"8080/tcp": [{ HostIp, HostPort }]`; null for an exposed port that is not published. */
export const PortMap = Schema.Record({
  key: Schema.String,
  value: Schema.NullOr(Schema.Array(PortBinding)),
});
export type PortMap = typeof PortMap.Type;

export const ContainerInspect = Schema.Struct({
  Id: Schema.String,
  Name: Schema.optional(Schema.String),
  State: Schema.Struct({
    Status: Schema.String,
    ExitCode: Schema.optional(Schema.Number),
    Error: Schema.optional(Schema.String),
  }),
  Config: Schema.Struct({
    Image: Schema.optional(Schema.String),
    Env: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
    Labels: Schema.optional(Labels),
  }),
  HostConfig: Schema.optional(
    Schema.Struct({ PortBindings: Schema.optional(Schema.NullOr(PortMap)) }),
  ),
  NetworkSettings: Schema.optional(
    Schema.Struct({ Ports: Schema.optional(Schema.NullOr(PortMap)) }),
  ),
});
export type ContainerInspect = typeof ContainerInspect.Type;

export const ContainerSummary = Schema.Struct({
  Id: Schema.String,
  Names: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  Image: Schema.optional(Schema.String),
  State: Schema.String,
  Status: Schema.optional(Schema.String),
  Labels: Schema.optional(Labels),
  Ports: Schema.optional(
    Schema.NullOr(
      Schema.Array(
        Schema.Struct({
          IP: Schema.optional(Schema.String),
          PrivatePort: Schema.Number,
          PublicPort: Schema.optional(Schema.Number),
          Type: Schema.optional(Schema.String),
        }),
      ),
    ),
  ),
});
export type ContainerSummary = typeof ContainerSummary.Type;
export const ContainerList = Schema.Array(ContainerSummary);

export const CreatedContainer = Schema.Struct({
  Id: Schema.String,
  Warnings: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
});

export const ImageInspect = Schema.Struct({
  Id: Schema.String,
  RepoTags: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
});

export const Version = Schema.Struct({
  Version: Schema.optional(Schema.String),
  ApiVersion: Schema.optional(Schema.String),
  Platform: Schema.optional(Schema.Struct({ Name: Schema.optional(Schema.String) })),
  Components: Schema.optional(
    Schema.NullOr(
      Schema.Array(Schema.Struct({ Name: Schema.String, Version: Schema.optional(Schema.String) })),
    ),
  ),
});

/** The body of a failed request: Docker sends `message`, Podman also `cause` and `response`. */
export const ErrorBody = Schema.Struct({
  message: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.String),
});

/** One line of the JSON stream of `POST /build` and `POST /images/create`. */
export const ProgressLine = Schema.Struct({
  stream: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  error: Schema.optional(Schema.String),
  errorDetail: Schema.optional(Schema.Struct({ message: Schema.optional(Schema.String) })),
  aux: Schema.optional(Schema.Struct({ ID: Schema.optional(Schema.String) })),
});
