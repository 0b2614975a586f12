// @ferry/api/internal: the internal API between ctrl and frontline (package internal.v1),
// generated from /proto/internal. Not part of the public contract: clients never see it.
export * from "./gen/internal/v1/route_feed_pb.js";
