/**
 * Small OS helpers for benches: free loopback ports, waiting for a port to
 * accept connections, and reading a process's peak RSS / CPU time from /proc.
 */
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** Asks the kernel for a currently free TCP port on 127.0.0.1. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a port'))));
    });
  });
}

/**
 * Resolves once host:port accepts a TCP connection. Rejects after timeoutMs, or
 * as soon as `abort()` returns a reason (e.g. the server process died).
 */
export async function waitForPort(
  port: number,
  host: string,
  timeoutMs: number,
  abort?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = abort?.();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ port, host });
      const done = (v: boolean): void => {
        sock.destroy();
        resolve(v);
      };
      sock.once('connect', () => done(true));
      sock.once('error', () => done(false));
      sock.setTimeout(1000, () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${host}:${port} did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readStatusKb(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) of a process in KiB, or undefined if unreadable. */
export function readPeakRssKb(pid: number): number | undefined {
  return readStatusKb(pid, 'VmHWM');
}

/** Current resident set size (VmRSS) of a process in KiB, or undefined if unreadable. */
export function readRssKb(pid: number): number | undefined {
  return readStatusKb(pid, 'VmRSS');
}

/** Clock ticks per second for /proc/<pid>/stat; 100 on every mainstream Linux build. */
const CLK_TCK = 100;

/** User+system CPU time consumed so far by a process, in ms, or undefined if unreadable. */
export function readCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces; everything after the last ')' is space separated,
    // starting at field 3, so utime (14) and stime (15) are at indexes 11 and 12.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLK_TCK : undefined;
  } catch {
    return undefined;
  }
}
