/**
 * Is a recorded process still the one we started? A pid alone is not enough: pids are reused,
 * and a dead child that nobody reaped (a zombie) still answers kill(pid, 0). On Linux both are
 * told apart with /proc/<pid>/stat; elsewhere the pid check is all there is.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { ProcessRef } from "./job-files.ts";

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and ")". */
const procStat = (pid: number): ReadonlyArray<string> | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
};

/** Field 22 of /proc/<pid>/stat (start time since boot, in clock ticks), or null. */
export const processStartTime = (pid: number): string | null => procStat(pid)?.[19] ?? null;

export const processRef = (pid: number): ProcessRef => ({ pid, startTime: processStartTime(pid) });

export const isAlive = (ref: ProcessRef): boolean => {
  try {
    process.kill(ref.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(ref.pid);
  if (stat === undefined) return true;
  if (stat[0] === "Z" || stat[0] === "X") return false;
  return ref.startTime === null || stat[19] === ref.startTime;
};

/** Signals the process group led by `ref` (the runner is started detached, so it leads one). */
export const signalGroup = (ref: ProcessRef, signal: NodeJS.Signals): void => {
  if (!isAlive(ref)) return;
  try {
    process.kill(-ref.pid, signal);
  } catch {
    try {
      process.kill(ref.pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
};

/** Polls until the process is gone; false when it still lives after `ms`. */
export const waitForExit = async (ref: ProcessRef, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (isAlive(ref)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
};

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it is gone (or cannot be killed). */
export const terminateGroup = async (ref: ProcessRef, graceMs: number): Promise<boolean> => {
  signalGroup(ref, "SIGTERM");
  if (await waitForExit(ref, graceMs)) return true;
  signalGroup(ref, "SIGKILL");
  return waitForExit(ref, 5_000);
};
