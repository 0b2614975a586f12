/**
 * What interceptors hand to handlers, as Connect context values: the request
 * id (set by the request log, the outermost interceptor) and the principal
 * (set by the auth interceptor).
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type HandlerContext,
} from "@connectrpc/connect";
import type { ApiKeyId, WorkspaceId } from "@ferry/domain";

/** Who is calling: the workspace of the API key. */
export interface Principal {
  readonly workspaceId: WorkspaceId;
  readonly apiKeyId: ApiKeyId;
}

export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: "the authenticated workspace of the call",
});

export const requestIdKey = createContextKey<string>("", { description: "the request id" });

/** The principal of a call; Unauthenticated if no interceptor set one (a wiring bug, never silent). */
export const requirePrincipal = (context: HandlerContext): Principal => {
  const principal = context.values.get(principalKey);
  if (principal === undefined)
    throw new ConnectError("this call was not authenticated", Code.Unauthenticated);
  return principal;
};

/** `/ctrl.v1.ProjectService/ListProjects`, as in the URL. */
export const procedureOf = (service: DescService, method: DescMethod): string =>
  `/${service.typeName}/${method.name}`;

/** Names a call in logs and in the errors of its defects. */
export interface RequestMeta {
  readonly requestId: string;
  readonly procedure: string;
}

/** The request id and procedure of a call, from an interceptor's request or a handler's context. */
export const requestMetaOf = (call: {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly contextValues?: ContextValues;
  readonly values?: ContextValues;
}): RequestMeta => ({
  requestId: (call.contextValues ?? call.values)?.get(requestIdKey) ?? "",
  procedure: procedureOf(call.service, call.method),
});
