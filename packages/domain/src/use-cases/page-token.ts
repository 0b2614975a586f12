/**
 * Page tokens are opaque to clients: the sort key of the last item of the previous page,
 * hex-encoded behind a version tag that names what the key is. A token of another version
 * (another list's, or one made before a list changed its order) is refused, never misread.
 */
export const PAGE_TOKEN_VERSIONS = {
  /** The last item's id: lists ordered by id (ListDeployments). */
  id: "1",
  /** The last item's slug: lists ordered by slug (ListProjects). */
  slug: "2",
} as const;
export type PageTokenKind = keyof typeof PAGE_TOKEN_VERSIONS;

export const encodePageToken = (lastKey: string, kind: PageTokenKind = "id"): string =>
  PAGE_TOKEN_VERSIONS[kind] +
  Array.from(lastKey, (char) => char.charCodeAt(0).toString(16).padStart(2, "0")).join("");

/** The key inside a token of `kind`; undefined for anything else. */
export const decodePageToken = (token: string, kind: PageTokenKind = "id"): string | undefined => {
  const version = PAGE_TOKEN_VERSIONS[kind];
  if (!token.startsWith(version) || (token.length - version.length) % 2 !== 0) return undefined;
  const hex = token.slice(version.length);
  if (!/^[0-9a-f]*$/.test(hex)) return undefined;
  let out = "";
  for (let i = 0; i < hex.length; i += 2)
    out += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
  return out;
};
