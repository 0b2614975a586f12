/** Quantities as people read them in messages. */
const UNITS = ["KiB", "MiB", "GiB", "TiB"] as const;

/** Byte counts: "12.3 MiB", "512 bytes". */
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

/** Durations: "30 min" for whole minutes, else seconds with one decimal ("4.5 s"). */
export const formatDuration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`;
