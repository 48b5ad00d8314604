/**
 * Whole-machine CPU time from /proc/stat, to tell how much of the machine other processes used
 * during a step (the bench shares the machine with whatever else runs; its numbers are only
 * meaningful when that is small).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc/stat (100 on every mainstream Linux build, as in bench/lib/proc.ts). */
const CLK_TCK = 100;

/** Busy CPU time of the whole machine so far (all cores; user+nice+system+irq+softirq+steal), ms. */
export function readMachineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return ((user + nice + system + irq + softirq + steal) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Number of CPUs the machine has. */
export function cpuCount(): number {
  return cpus().length;
}
