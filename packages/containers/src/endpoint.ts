/** Where a Docker Engine API listens: `unix:///path`, a bare socket path, `tcp://host:port` or `http://host:port`. */

export interface EngineEndpoint {
  /** The address as written by the operator, for messages. */
  readonly url: string;
  /** Set for a unix socket. */
  readonly socketPath?: string;
  /** The HTTP origin requests are sent to (a placeholder host for a unix socket). */
  readonly origin: string;
}

/** Linux limits a unix socket path to 107 bytes plus the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export const DEFAULT_ENGINE_URL = "unix:///run/podman/podman.sock";

/** Parses an engine address; throws an Error whose message says what is accepted. */
export const parseEngineUrl = (url: string): EngineEndpoint => {
  const trimmed = url.trim();
  let socketPath: string | undefined;
  if (trimmed.startsWith("unix://")) socketPath = trimmed.slice("unix://".length);
  else if (trimmed.startsWith("/")) socketPath = trimmed;
  if (socketPath !== undefined) {
    if (!socketPath.startsWith("/"))
      throw new Error(`container engine address "${url}": a unix socket path must be absolute`);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES)
      throw new Error(
        `container engine address "${url}": a unix socket path is limited to ${MAX_SOCKET_PATH_BYTES} bytes`,
      );
    return { url: `unix://${socketPath}`, socketPath, origin: "http://localhost" };
  }
  const match = /^(tcp|http):\/\/([^/]+?)\/?$/.exec(trimmed);
  if (match?.[2] !== undefined) return { url: trimmed, origin: `http://${match[2]}` };
  if (/^(https|ssh|npipe):\/\//.test(trimmed))
    throw new Error(
      `container engine address "${url}" is not supported: use a unix socket (unix:///path) or plain tcp (tcp://host:port)`,
    );
  throw new Error(
    `container engine address "${url}" is not understood: expected unix:///path/to.sock or tcp://host:port`,
  );
};
