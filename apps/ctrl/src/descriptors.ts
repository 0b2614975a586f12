/**
 * Two third-party protobuf schemas ctrl speaks besides its own API, declared
 * here as descriptors instead of generated from .proto files (two small
 * files do not justify a second code generation step):
 *
 * - `grpc.reflection.v1` (grpc/reflection/v1/reflection.proto): the gRPC
 *   server reflection service that `buf curl`, grpcurl and Postman use to
 *   discover the API without a local schema.
 * - `google.rpc.BadRequest` (google/rpc/error_details.proto): the standard
 *   error detail listing the fields of a request that failed validation.
 *
 * Field names, numbers and types are those of the upstream files (only the
 * fields used here are declared; unknown fields are skipped on the wire). The
 * TypeScript shapes below are what protoc-gen-es would generate for them.
 */
import {
  create,
  createFileRegistry,
  type DescFile,
  type Message,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import type { GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type FieldDescriptorProtoSchema,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";

type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;

const {
  STRING: TYPE_STRING,
  INT32: TYPE_INT32,
  BYTES: TYPE_BYTES,
  MESSAGE: TYPE_MESSAGE,
} = FieldDescriptorProto_Type;

const field = (
  name: string,
  number: number,
  type: FieldDescriptorProto_Type,
  options: {
    readonly repeated?: boolean;
    readonly typeName?: string;
    readonly oneof?: number;
  } = {},
): FieldInit => ({
  name,
  number,
  type,
  label: options.repeated
    ? FieldDescriptorProto_Label.REPEATED
    : FieldDescriptorProto_Label.OPTIONAL,
  ...(options.typeName === undefined ? {} : { typeName: options.typeName }),
  ...(options.oneof === undefined ? {} : { oneofIndex: options.oneof }),
});

const fileOf = (proto: FileDescriptorProto): DescFile => {
  const file = createFileRegistry(proto, () => undefined).getFile(proto.name);
  if (file === undefined) throw new Error(`descriptor ${proto.name} did not load`);
  return file;
};

// ---------------------------------------------------------------------------
// grpc.reflection.v1

const R = ".grpc.reflection.v1";

export const file_grpc_reflection_v1_reflection: DescFile = fileOf(
  create(FileDescriptorProtoSchema, {
    name: "grpc/reflection/v1/reflection.proto",
    package: "grpc.reflection.v1",
    syntax: "proto3",
    messageType: [
      {
        name: "ServerReflectionRequest",
        field: [
          field("host", 1, TYPE_STRING),
          field("file_by_filename", 3, TYPE_STRING, { oneof: 0 }),
          field("file_containing_symbol", 4, TYPE_STRING, { oneof: 0 }),
          field("file_containing_extension", 5, TYPE_MESSAGE, {
            oneof: 0,
            typeName: `${R}.ExtensionRequest`,
          }),
          field("all_extension_numbers_of_type", 6, TYPE_STRING, { oneof: 0 }),
          field("list_services", 7, TYPE_STRING, { oneof: 0 }),
        ],
        oneofDecl: [{ name: "message_request" }],
      },
      {
        name: "ExtensionRequest",
        field: [field("containing_type", 1, TYPE_STRING), field("extension_number", 2, TYPE_INT32)],
      },
      {
        name: "ServerReflectionResponse",
        field: [
          field("valid_host", 1, TYPE_STRING),
          field("original_request", 2, TYPE_MESSAGE, {
            typeName: `${R}.ServerReflectionRequest`,
          }),
          field("file_descriptor_response", 4, TYPE_MESSAGE, {
            oneof: 0,
            typeName: `${R}.FileDescriptorResponse`,
          }),
          field("all_extension_numbers_response", 5, TYPE_MESSAGE, {
            oneof: 0,
            typeName: `${R}.ExtensionNumberResponse`,
          }),
          field("list_services_response", 6, TYPE_MESSAGE, {
            oneof: 0,
            typeName: `${R}.ListServiceResponse`,
          }),
          field("error_response", 7, TYPE_MESSAGE, {
            oneof: 0,
            typeName: `${R}.ErrorResponse`,
          }),
        ],
        oneofDecl: [{ name: "message_response" }],
      },
      {
        name: "FileDescriptorResponse",
        field: [field("file_descriptor_proto", 1, TYPE_BYTES, { repeated: true })],
      },
      {
        name: "ExtensionNumberResponse",
        field: [
          field("base_type_name", 1, TYPE_STRING),
          field("extension_number", 2, TYPE_INT32, { repeated: true }),
        ],
      },
      {
        name: "ListServiceResponse",
        field: [
          field("service", 1, TYPE_MESSAGE, { repeated: true, typeName: `${R}.ServiceResponse` }),
        ],
      },
      { name: "ServiceResponse", field: [field("name", 1, TYPE_STRING)] },
      {
        name: "ErrorResponse",
        field: [field("error_code", 1, TYPE_INT32), field("error_message", 2, TYPE_STRING)],
      },
    ],
    service: [
      {
        name: "ServerReflection",
        method: [
          {
            name: "ServerReflectionInfo",
            inputType: `${R}.ServerReflectionRequest`,
            outputType: `${R}.ServerReflectionResponse`,
            clientStreaming: true,
            serverStreaming: true,
          },
        ],
      },
    ],
  }),
);

export type ExtensionRequest = Message<"grpc.reflection.v1.ExtensionRequest"> & {
  containingType: string;
  extensionNumber: number;
};

export type ServerReflectionRequest = Message<"grpc.reflection.v1.ServerReflectionRequest"> & {
  host: string;
  messageRequest:
    | { case: "fileByFilename"; value: string }
    | { case: "fileContainingSymbol"; value: string }
    | { case: "fileContainingExtension"; value: ExtensionRequest }
    | { case: "allExtensionNumbersOfType"; value: string }
    | { case: "listServices"; value: string }
    | { case: undefined; value?: undefined };
};

export type FileDescriptorResponse = Message<"grpc.reflection.v1.FileDescriptorResponse"> & {
  fileDescriptorProto: Uint8Array[];
};

export type ExtensionNumberResponse = Message<"grpc.reflection.v1.ExtensionNumberResponse"> & {
  baseTypeName: string;
  extensionNumber: number[];
};

export type ServiceResponse = Message<"grpc.reflection.v1.ServiceResponse"> & { name: string };

export type ListServiceResponse = Message<"grpc.reflection.v1.ListServiceResponse"> & {
  service: ServiceResponse[];
};

export type ErrorResponse = Message<"grpc.reflection.v1.ErrorResponse"> & {
  errorCode: number;
  errorMessage: string;
};

export type ServerReflectionResponse = Message<"grpc.reflection.v1.ServerReflectionResponse"> & {
  validHost: string;
  originalRequest?: ServerReflectionRequest | undefined;
  messageResponse:
    | { case: "fileDescriptorResponse"; value: FileDescriptorResponse }
    | { case: "allExtensionNumbersResponse"; value: ExtensionNumberResponse }
    | { case: "listServicesResponse"; value: ListServiceResponse }
    | { case: "errorResponse"; value: ErrorResponse }
    | { case: undefined; value?: undefined };
};

const messageOf = <T extends Message>(file: DescFile, name: string): GenMessage<T> => {
  const message = file.messages.find((m) => m.name === name);
  if (message === undefined) throw new Error(`${file.name} has no message ${name}`);
  return message as unknown as GenMessage<T>;
};

export const ServerReflectionRequestSchema = messageOf<ServerReflectionRequest>(
  file_grpc_reflection_v1_reflection,
  "ServerReflectionRequest",
);
export const ServerReflectionResponseSchema = messageOf<ServerReflectionResponse>(
  file_grpc_reflection_v1_reflection,
  "ServerReflectionResponse",
);

export const ServerReflection = file_grpc_reflection_v1_reflection
  .services[0] as unknown as GenService<{
  serverReflectionInfo: {
    methodKind: "bidi_streaming";
    input: typeof ServerReflectionRequestSchema;
    output: typeof ServerReflectionResponseSchema;
  };
}>;

// ---------------------------------------------------------------------------
// google.rpc.BadRequest

export const file_google_rpc_error_details: DescFile = fileOf(
  create(FileDescriptorProtoSchema, {
    name: "google/rpc/error_details.proto",
    package: "google.rpc",
    syntax: "proto3",
    messageType: [
      {
        name: "BadRequest",
        field: [
          field("field_violations", 1, TYPE_MESSAGE, {
            repeated: true,
            typeName: ".google.rpc.BadRequest.FieldViolation",
          }),
        ],
        nestedType: [
          {
            name: "FieldViolation",
            field: [field("field", 1, TYPE_STRING), field("description", 2, TYPE_STRING)],
          },
        ],
      },
    ],
  }),
);

export type BadRequest_FieldViolation = Message<"google.rpc.BadRequest.FieldViolation"> & {
  field: string;
  description: string;
};

export type BadRequest = Message<"google.rpc.BadRequest"> & {
  fieldViolations: BadRequest_FieldViolation[];
};

export const BadRequestSchema = messageOf<BadRequest>(file_google_rpc_error_details, "BadRequest");
