/**
 * gRPC server reflection, v1 (`grpc.reflection.v1.ServerReflection`): a
 * bidirectional stream on which a client asks for the services served and
 * for the file descriptors that define a symbol or a file, so that tools
 * (`buf curl`, grpcurl, Postman) call the API without a local schema.
 *
 * Answers come from the descriptors embedded in @ferry/api (and this
 * service's own), with each file's dependencies; on one stream a dependency is
 * sent once. Ferry declares no extensions: those requests answer NOT_FOUND.
 * The service is public (no API key): it reveals only the published schema,
 * and `buf curl` does not send request headers with reflection by default.
 *
 * Bidirectional streaming needs HTTP/2 (h2c or TLS) for every protocol.
 */
import {
  create,
  type DescFile,
  type DescMessage,
  type DescService,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  file_grpc_reflection_v1_reflection,
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionResponseSchema,
} from "./descriptors.ts";

/** gRPC status codes carried in ErrorResponse.error_code. */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;

export { ServerReflection };

interface Index {
  readonly files: ReadonlyMap<string, DescFile>;
  readonly symbols: ReadonlyMap<string, DescFile>;
  readonly services: ReadonlyArray<string>;
}

const indexOf = (services: ReadonlyArray<DescService>): Index => {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const addMessage = (file: DescFile, message: DescMessage) => {
    symbols.set(message.typeName, file);
    for (const field of message.fields) symbols.set(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) symbols.set(`${message.typeName}.${oneof.name}`, file);
    for (const nested of message.nestedMessages) addMessage(file, nested);
    for (const nested of message.nestedEnums) symbols.set(nested.typeName, file);
    for (const extension of message.nestedExtensions) symbols.set(extension.typeName, file);
  };
  const addFile = (file: DescFile) => {
    // DescFile.name drops the ".proto" suffix; clients ask by the full file name.
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dependency of file.dependencies) addFile(dependency);
    for (const message of file.messages) addMessage(file, message);
    for (const enumeration of file.enums) {
      symbols.set(enumeration.typeName, file);
      // Enum values live in the scope enclosing the enum (protobuf's C++ scoping).
      const scope = enumeration.typeName.slice(0, enumeration.typeName.lastIndexOf(".") + 1);
      for (const value of enumeration.values) symbols.set(`${scope}${value.name}`, file);
    }
    for (const extension of file.extensions) symbols.set(extension.typeName, file);
    for (const service of file.services) {
      symbols.set(service.typeName, file);
      for (const method of service.methods) symbols.set(`${service.typeName}.${method.name}`, file);
    }
  };
  for (const service of services) addFile(service.file);
  return { files, symbols, services: services.map((service) => service.typeName).sort() };
};

/** The file and, once per stream, each of its transitive dependencies, serialized. */
const withDependencies = (file: DescFile, sent: Set<string>): Array<Uint8Array> => {
  const out: Array<Uint8Array> = [];
  const visit = (current: DescFile, requested: boolean) => {
    if (!requested && sent.has(current.proto.name)) return;
    sent.add(current.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, current.proto));
    for (const dependency of current.dependencies) visit(dependency, false);
  };
  visit(file, true);
  return out;
};

type Answer = NonNullable<
  MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]
>;

const answer = (index: Index, request: ServerReflectionRequest, sent: Set<string>): Answer => {
  const error = (errorCode: number, errorMessage: string) =>
    ({ case: "errorResponse", value: { errorCode, errorMessage } }) as const;
  const files = (file: DescFile) =>
    ({
      case: "fileDescriptorResponse",
      value: { fileDescriptorProto: withDependencies(file, sent) },
    }) as const;
  const { messageRequest } = request;
  switch (messageRequest.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: { service: index.services.map((name) => ({ name })) },
      };
    case "fileByFilename": {
      const file = index.files.get(messageRequest.value);
      return file === undefined
        ? error(NOT_FOUND, `file not found: ${messageRequest.value}`)
        : files(file);
    }
    case "fileContainingSymbol": {
      const symbol = messageRequest.value.replace(/^\./, "");
      const file = index.symbols.get(symbol);
      return file === undefined ? error(NOT_FOUND, `symbol not found: ${symbol}`) : files(file);
    }
    case "fileContainingExtension":
      return error(
        NOT_FOUND,
        `extension ${messageRequest.value.extensionNumber} of ${messageRequest.value.containingType} not found`,
      );
    case "allExtensionNumbersOfType": {
      const type = messageRequest.value.replace(/^\./, "");
      return index.symbols.has(type)
        ? {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: type, extensionNumber: [] },
          }
        : error(NOT_FOUND, `type not found: ${type}`);
    }
    default:
      return error(INVALID_ARGUMENT, "the request sets none of the message_request fields");
  }
};

/** Registers the reflection service, describing `services` (and itself). */
export const reflectionRoutes =
  (services: ReadonlyArray<DescService>) =>
  (router: ConnectRouter): void => {
    const index = indexOf([...services, ...file_grpc_reflection_v1_reflection.services]);
    router.service(ServerReflection, {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const request of requests) {
          yield create(ServerReflectionResponseSchema, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer(index, request, sent),
          });
        }
      },
    });
  };
