/**
 * Parent side of the bridge process: spawns `node --import tsx bench/bridge/bridge-server.ts`
 * (node directly, not the tsx CLI, so the child's pid is the bridge's), waits for `ready`, and
 * offers typed requests over the JSON-lines control channel of protocol.ts. The child is
 * registered with bench/lib/cleanup.ts so it is killed on error, SIGINT and exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { terminate, trackChild } from '../lib/cleanup.js';
import { CONTROL_PREFIX, type ControlMessage, type ControlRequest, type ReplyOf } from './protocol.js';

type RequestBody = ControlRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface BridgeProcessOptions {
  /** Forward the child's stderr to ours. */
  verbose: boolean;
  log: (line: string) => void;
  /** Extra node flags for the child (e.g. --max-semi-space-size). */
  nodeFlags?: readonly string[];
}

export class BridgeProcess {
  readonly pid: number;
  /** The bridge's media port on 127.0.0.1. */
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #untrack: () => void;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: string | undefined;

  private constructor(child: ChildProcess, untrack: () => void, ready: { pid: number; port: number }) {
    this.#child = child;
    this.#untrack = untrack;
    this.pid = ready.pid;
    this.port = ready.port;
  }

  /** Starts the bridge child and resolves once it reported `ready`. */
  static async start(opts: BridgeProcessOptions, timeoutMs = 30_000): Promise<BridgeProcess> {
    const entry = fileURLToPath(new URL('./bridge-server.ts', import.meta.url));
    const tsx = import.meta.resolve('tsx');
    const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', tsx, entry], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const untrack = trackChild(child, 'bridge-server', 3000);
    let tail = '';
    child.stderr?.on('data', (b: Buffer) => {
      const text = b.toString();
      tail = (tail + text).slice(-4000);
      if (opts.verbose) process.stderr.write(text.replace(/^(?=.)/gm, '[bridge] '));
    });
    let onMessage: ((m: ControlMessage) => void) | undefined;
    let buf = '';
    child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith(CONTROL_PREFIX)) continue;
        try {
          onMessage?.(JSON.parse(line.slice(CONTROL_PREFIX.length)) as ControlMessage);
        } catch (err) {
          opts.log(`bad control line from the bridge: ${line.slice(0, 200)} (${(err as Error).message})`);
        }
      }
    });
    try {
      const ready = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bridge did not report ready within ${timeoutMs} ms\n${tail}`)), timeoutMs);
        onMessage = (m) => {
          if (m.type === 'ready') {
            clearTimeout(timer);
            resolve(m);
          } else if (m.type === 'fatal') {
            clearTimeout(timer);
            reject(new Error(`bridge failed to start: ${m.error}`));
          }
        };
        child.once('error', (err) => {
          clearTimeout(timer);
          reject(new Error(`could not start the bridge: ${err.message}`));
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`bridge exited before ready (${signal ?? `code ${code}`})\n${tail.trim()}`));
        });
      });
      const bp = new BridgeProcess(child, untrack, ready);
      onMessage = (m) => bp.#onMessage(m);
      child.once('exit', (code, signal) => {
        bp.#exited = `bridge process exited (${signal ?? `code ${code}`})${tail ? `\n${tail.trim().split('\n').slice(-15).join('\n')}` : ''}`;
        for (const p of bp.#pending.values()) p.reject(new Error(bp.#exited));
        bp.#pending.clear();
      });
      return bp;
    } catch (err) {
      await terminate(child, 2000);
      untrack();
      throw err;
    }
  }

  /** Why the child is gone, if it is. */
  get exitReason(): string | undefined {
    return this.#exited;
  }

  /** Sends one request; resolves with its reply, rejects with the child's error. */
  request<B extends RequestBody>(body: B, timeoutMs = 30_000): Promise<ReplyOf[B['op']]> {
    if (this.#exited !== undefined) return Promise.reject(new Error(this.#exited));
    const id = this.#nextId++;
    return new Promise<ReplyOf[B['op']]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`bridge request ${body.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as ReplyOf[B['op']]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.stdin?.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  /** Asks the child to exit, then makes sure it did (SIGTERM, SIGKILL). */
  async stop(): Promise<void> {
    if (this.#exited === undefined) {
      try {
        await this.request({ op: 'exit' }, 3000);
      } catch {
        /* it may be gone already */
      }
      this.#child.stdin?.end();
    }
    await terminate(this.#child, 5000);
    this.#untrack();
  }

  #onMessage(m: ControlMessage): void {
    if (m.type !== 'reply') return;
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error));
  }
}
