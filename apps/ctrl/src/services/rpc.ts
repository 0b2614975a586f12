/** How a handler runs a use case: as the caller's workspace, on the one runtime, errors mapped once. */
import type { HandlerContext } from "@connectrpc/connect";
import type { DomainError, WorkspaceId } from "@ferry/domain";
import type { Effect } from "effect";
import { requestMetaOf, requirePrincipal } from "../context.ts";
import type { CtrlServices, EffectRunner } from "../runtime.ts";

export interface Rpc {
  /** Runs `useCase` for the authenticated workspace; a failure throws the mapped ConnectError. */
  readonly run: <A>(
    context: HandlerContext,
    useCase: (workspaceId: WorkspaceId) => Effect.Effect<A, DomainError, CtrlServices>,
  ) => Promise<A>;
}

export const makeRpc = (run: EffectRunner): Rpc => ({
  run: async (context, useCase) => {
    const { workspaceId } = requirePrincipal(context);
    return await run(useCase(workspaceId), requestMetaOf(context));
  },
});
