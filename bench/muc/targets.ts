/**
 * Bench targets: servers the MUC load runs against, each in its own child process.
 *
 *  - ours:    @jitsi-one/server, started by bench/muc/our-server.ts under `node --import tsx`.
 *             Reported as skipped ("not available yet") while the package can't be imported.
 *  - prosody: the system Prosody, see prosody.ts; skipped if not installed.
 *
 * startTarget() resolves to a running server or to a skip reason; real failures throw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { terminate, trackChild } from '../lib/cleanup.js';
import { READY_MARKER, type OurServerReady } from './our-server-protocol.js';
import { findProsody, startProsody, type ProsodyGc } from './prosody.js';
import type { MucEndpoint } from './scenario.js';

export const TARGET_NAMES = ['ours', 'prosody'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface RunningServer {
  endpoint: MucEndpoint;
  /** PID of the server process itself (for /proc peak RSS and CPU). */
  pid: number;
  /** Human-readable description for the report. */
  description: string;
  stop(): Promise<void>;
}

export type StartOutcome = { status: 'running'; server: RunningServer } | { status: 'skipped'; reason: string };

export interface TargetOptions {
  log: (line: string) => void;
  /** Forward the server's own stdout/stderr to our stderr. */
  verbose: boolean;
  /** Lua GC mode for the Prosody reference. */
  prosodyGc: ProsodyGc;
}

export function startTarget(name: TargetName, opts: TargetOptions): Promise<StartOutcome> {
  return name === 'ours' ? startOurServer(opts) : startProsodyTarget(opts);
}

async function startProsodyTarget(opts: TargetOptions): Promise<StartOutcome> {
  if (!findProsody()) {
    const where = process.env.BENCH_PROSODY_BIN ?? '/usr/bin/prosody';
    return { status: 'skipped', reason: `prosody is not installed (${where} missing; apt-get install prosody)` };
  }
  return { status: 'running', server: await startProsody({ log: opts.log, gc: opts.prosodyGc }) };
}

/**
 * Starts our server in a child process. The child dynamically imports '@jitsi-one/server';
 * until that package exists this resolves to { status: 'skipped', reason: 'not available yet (…)' }.
 */
export async function startOurServer(opts: TargetOptions, startTimeoutMs = 60_000): Promise<StartOutcome> {
  const entry = fileURLToPath(new URL('./our-server.ts', import.meta.url));
  const tsx = import.meta.resolve('tsx');
  // Run node directly (not the tsx CLI, which would add a wrapper process) so child.pid is the server.
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_SERVER_PROF] : []), '--import', tsx, entry], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const untrack = trackChild(child, 'our-server');
  try {
    const ready = await waitForReady(child, opts, startTimeoutMs);
    if (!ready.ok) {
      await terminate(child, 2000);
      untrack();
      if (ready.unavailable) return { status: 'skipped', reason: `not available yet (${ready.reason})` };
      throw new Error(ready.reason);
    }
    opts.log(`ours (pid ${ready.pid}) listening on ${ready.wsUrl}, domain ${ready.domain}, muc ${ready.mucDomain}`);
    return {
      status: 'running',
      server: {
        endpoint: { wsUrl: ready.wsUrl, domain: ready.domain, mucDomain: ready.mucDomain },
        pid: ready.pid,
        description: '@jitsi-one/server',
        async stop() {
          child.stdin?.end();
          await terminate(child, 8000);
          untrack();
        },
      },
    };
  } catch (err) {
    await terminate(child, 2000);
    untrack();
    throw err;
  }
}

function waitForReady(child: ChildProcess, opts: TargetOptions, timeoutMs: number): Promise<OurServerReady> {
  return new Promise<OurServerReady>((resolve, reject) => {
    let tail = '';
    let stdoutBuf = '';
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const remember = (text: string): void => {
      tail = (tail + text).slice(-3000);
      if (opts.verbose) process.stderr.write(text.replace(/^(?=.)/gm, '[ours] '));
    };
    const timer = setTimeout(
      () => settle(() => reject(new Error(`our server did not report ready within ${timeoutMs} ms\n${tail}`))),
      timeoutMs,
    );
    child.stdout?.on('data', (b: Buffer) => {
      stdoutBuf += b.toString();
      let nl: number;
      while ((nl = stdoutBuf.indexOf('\n')) >= 0) {
        const line = stdoutBuf.slice(0, nl);
        stdoutBuf = stdoutBuf.slice(nl + 1);
        if (line.startsWith(READY_MARKER)) {
          try {
            const msg = JSON.parse(line.slice(READY_MARKER.length)) as OurServerReady;
            settle(() => resolve(msg));
          } catch (err) {
            settle(() => reject(new Error(`bad ready line from our server: ${line}`)));
          }
        } else {
          remember(`${line}\n`);
        }
      }
    });
    child.stderr?.on('data', (b: Buffer) => remember(b.toString()));
    child.once('error', (err) => settle(() => reject(new Error(`could not start our server: ${err.message}`))));
    child.once('exit', (code, signal) =>
      settle(() => reject(new Error(`our server exited before ready (${signal ?? `code ${code}`})\n${tail.trim()}`))),
    );
  });
}
