/**
 * Process-wide cleanup registry for benches.
 *
 * Child processes and temp dirs registered here are stopped / removed by their owner
 * normally, and otherwise by runCleanups() on error, on SIGINT/SIGTERM and as a last resort
 * synchronously on process 'exit' (SIGKILL + rmSync), so a bench leaves no servers or temp
 * dirs behind. On a signal the urgent part happens synchronously in the handler (SIGTERM to
 * children, temp dirs removed), because `tsx` SIGKILLs a child that is slow to react to a
 * relayed signal; stragglers are SIGKILLed after a grace period. Repeated signals within 2 s
 * (a terminal's Ctrl-C reaches npm, tsx and us at once) count as one.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';

interface CleanupTask {
  readonly name: string;
  /** Graceful, bounded cleanup. */
  run(): Promise<void>;
  /** Last-resort synchronous cleanup (used from the 'exit' handler). */
  runSync(): void;
  /** Immediate synchronous first step on SIGINT/SIGTERM (default: runSync). */
  onSignal?(): void;
}

const tasks = new Set<CleanupTask>();
let installed = false;

/** Registers a cleanup task; returns a function that unregisters it (without running it). */
export function onCleanup(name: string, run: () => Promise<void>, runSync: () => void, onSignal?: () => void): () => void {
  const task: CleanupTask = { name, run, runSync, onSignal };
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends SIGTERM, waits up to graceMs for exit, then SIGKILLs. Resolves once the child is gone. */
export async function terminate(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!hasExited(child)) child.kill('SIGKILL');
  }, graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Tracks a child process so it is always killed; returns the unregister function. */
export function trackChild(child: ChildProcess, name: string, graceMs = 5000): () => void {
  return onCleanup(
    `child ${name} (pid ${child.pid ?? '?'})`,
    () => terminate(child, graceMs),
    () => {
      if (!hasExited(child)) child.kill('SIGKILL');
    },
    () => {
      if (!hasExited(child)) child.kill('SIGTERM');
    },
  );
}

/** Tracks a temporary directory so it is always removed; returns the unregister function. */
export function trackTempDir(dir: string): () => void {
  return onCleanup(
    `temp dir ${dir}`,
    () => rm(dir, { recursive: true, force: true }),
    () => rmSync(dir, { recursive: true, force: true }),
  );
}

/** Runs (and unregisters) every pending cleanup task, children first, each bounded in time. */
export async function runCleanups(timeoutMs = 10_000): Promise<void> {
  // Newest first (a server's child process before its temp dir). Tasks stay registered
  // until done, so the 'exit' handler still covers them if we are cut short.
  for (const task of [...tasks].reverse()) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        task.run(),
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        }),
      ]);
    } catch (err) {
      process.stderr.write(`cleanup: ${task.name}: ${(err as Error).message}; forcing\n`);
      try {
        task.runSync();
      } catch {
        /* best effort */
      }
    } finally {
      clearTimeout(timer);
      tasks.delete(task);
    }
  }
}

let interruptedAt = 0;

/** True once SIGINT/SIGTERM was received (results after that are not meaningful). */
export function wasInterrupted(): boolean {
  return interruptedAt !== 0;
}

/** Installs SIGINT/SIGTERM/exit handlers once. A second signal forces immediate exit. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (interruptedAt) {
      if (Date.now() - interruptedAt < 2000) return; // same Ctrl-C, relayed by npm/tsx
      process.exit(code); // the 'exit' handler still runs the sync cleanups
    }
    interruptedAt = Date.now();
    process.stderr.write(`\n${signal}: cleaning up (press again to force)...\n`);
    for (const task of [...tasks].reverse()) {
      try {
        (task.onSignal ?? task.runSync)();
      } catch {
        /* best effort */
      }
    }
    void runCleanups(3000).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const task of [...tasks].reverse()) {
      try {
        task.runSync();
      } catch {
        /* best effort */
      }
    }
    tasks.clear();
  });
}
