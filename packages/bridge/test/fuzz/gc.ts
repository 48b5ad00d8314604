/**
 * A handle on V8's garbage collector for leak checks: `global.gc` when the process runs with --expose-gc, else the
 * flag is turned on at run time and `gc` taken from a fresh context (a documented V8 flag; works on Node 20).
 * `undefined` when neither works: callers then skip their memory assertion rather than make it flaky.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function exposeGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as () => void;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** heapUsed after two full collections (the second catches what finalizers of the first released). */
export function heapUsedAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
