/** Byte counts as people read them in messages: "12.3 MiB", "512 bytes". */
const UNITS = ["KiB", "MiB", "GiB", "TiB"] as const;

export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  let value = bytes;
  let unit = "bytes";
  for (const next of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  // One decimal unless it is a whole number: "2 GiB", "1.5 MiB".
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${text} ${unit}`;
};
