/**
 * The server under test for the join bench: `npm start`'s entry (packages/server/src/main.ts) in a child process
 * (`node --import tsx`, so the child's pid is the server and /proc/<pid>/status gives its RSS alone), on loopback
 * with plain HTTP, no c2s port, no STUN server, and the bridge's UDP port on 127.0.0.1 (any free port). Everything
 * else keeps its defaults, so the focus and bridge behave as in production.
 *
 * Readiness: the child prints `jitsi-one: open <url>` once startServer() has resolved (HTTP, bridge and focus up),
 * and GET /about/health must answer 200; both are awaited, no fixed sleep. Domain names come from GET /config.js
 * (`hosts.domain`, `hosts.muc`, `hosts.focus`), as a Jitsi Meet client learns them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { hasExited, terminate, trackChild, trackTempDir } from '../lib/cleanup.js';
import { freePort } from '../lib/proc.js';

export interface JoinServer {
  pid: number;
  wsUrl: string;
  domain: string;
  mucDomain: string;
  focusDomain: string;
  /** Problems the server logged (warn and above), for the report. */
  readonly logTail: string[];
  /** True if the process has exited. */
  exited(): boolean;
  /**
   * With `gc`: a full garbage collection in the server (over the inspector protocol), then its V8 heap use in KiB
   * (Runtime.getHeapUsage usedSize); otherwise a no-op returning undefined.
   */
  collectGarbage(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  log: (line: string) => void;
  /** Forward the server's stdout/stderr to our stderr. */
  verbose: boolean;
  /** Server log level (default warn). */
  logLevel: string;
  startTimeoutMs?: number;
  /**
   * Start the server with `--inspect=127.0.0.1:0` so that {@link JoinServer.collectGarbage} can force a full GC
   * before RSS samples (HeapProfiler.collectGarbage over the inspector WebSocket).
   */
  gc?: boolean;
  /** Merged over the bench's server config (e.g. `{ bridge: { video: { nackCacheBytes: 65536 } } }`). */
  configOverrides?: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `base` with `over` merged in (objects recursively; arrays and scalars replace). */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function httpGet(port: number, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * RSS of a `node --import tsx` process that loaded one empty TypeScript module, minus that of a plain `node` process
 * running the same empty module as JavaScript, in KiB: roughly what the tsx loader (its module-hooks thread, esbuild
 * glue) adds to the server's RSS. A compiled build would not pay it. (A lower bound: the server's ~200 modules also
 * pass through tsx, whose caches grow with them.)
 */
export async function measureTsxOverheadKb(): Promise<number | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-join-tsx-'));
  const untrack = trackTempDir(dir);
  const body = 'process.stdout.write(String(process.memoryUsage().rss));\n';
  writeFileSync(join(dir, 'empty.ts'), `const n: number = 0;\n${body}`);
  writeFileSync(join(dir, 'empty.mjs'), body);
  const rssOf = (args: string[]): Promise<number | undefined> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => (out += c));
      child.once('error', () => resolve(undefined));
      child.once('exit', () => {
        const n = Number(out.trim());
        resolve(Number.isFinite(n) && n > 0 ? n / 1024 : undefined);
      });
    });
  try {
    const diffs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const withTsx = await rssOf(['--import', import.meta.resolve('tsx'), join(dir, 'empty.ts')]);
      const plain = await rssOf([join(dir, 'empty.mjs')]);
      if (withTsx !== undefined && plain !== undefined) diffs.push(Math.max(0, withTsx - plain));
    }
    diffs.sort((a, b) => a - b);
    return diffs[Math.floor(diffs.length / 2)];
  } finally {
    untrack();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startJoinServer(opts: ServerOptions): Promise<JoinServer> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'bench-join-'));
  const untrackDir = trackTempDir(dir);
  const port = await freePort();
  const configFile = join(dir, 'config.json');
  const config: Record<string, unknown> = {
    http: { port, host: '127.0.0.1', insecureHttp: true },
    xmpp: { c2s: { port: null } },
    log: { level: opts.logLevel },
    bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
    stun: { enabled: false },
  };
  writeFileSync(configFile, JSON.stringify(opts.configOverrides ? deepMerge(config, opts.configOverrides) : config, null, 2));

  const tsx = import.meta.resolve('tsx');
  const entry = join(root, 'packages/server/src/main.ts');
  // node directly (not the tsx CLI, which would add a wrapper process), so child.pid is the server itself.
  const nodeArgs = [...(opts.gc ? ['--inspect=127.0.0.1:0'] : []), '--import', tsx, entry, '--config', configFile];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const untrackChild = trackChild(child, 'jitsi-one server', 8000);
  const logTail: string[] = [];
  let opened = false;
  let startError: string | undefined;
  const remember = (line: string): void => {
    if (line.trim() === '') return;
    if (opts.verbose) process.stderr.write(`[server] ${line}\n`);
    logTail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (logTail.length > 50) logTail.shift();
  };
  let outBuf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    outBuf += chunk;
    let nl: number;
    while ((nl = outBuf.indexOf('\n')) >= 0) {
      const line = outBuf.slice(0, nl);
      outBuf = outBuf.slice(nl + 1);
      if (line.startsWith('jitsi-one: open ')) {
        opened = true;
        if (opts.verbose) process.stderr.write(`[server] ${line}\n`);
      } else remember(line);
    }
  });
  let inspectorUrl: string | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(chunk)?.[1];
    chunk.split('\n').forEach(remember);
  });
  child.once('error', (err) => (startError = `could not start the server: ${err.message}`));

  const stop = async (): Promise<void> => {
    await terminate(child, 8000);
    untrackChild();
    untrackDir();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    for (;;) {
      if (startError) throw new Error(startError);
      if (hasExited(child)) {
        const how = child.signalCode ?? `code ${child.exitCode}`;
        throw new Error(`server exited during start (${how})\n${logTail.join('\n')}`);
      }
      if (opened) {
        const ok = await httpGet(port, '/about/health').then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) break;
      }
      if (Date.now() > deadline) {
        throw new Error(`server not ready within ${opts.startTimeoutMs ?? 60_000} ms\n${logTail.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const cfg = await httpGet(port, '/config.js');
    const m = /^var config = ([\s\S]*);\s*$/.exec(cfg.body);
    if (cfg.status !== 200 || !m?.[1]) throw new Error(`unexpected /config.js (HTTP ${cfg.status})`);
    const parsed = JSON.parse(m[1]) as { hosts?: { domain?: string; muc?: string; focus?: string }; websocket?: string };
    const { domain, muc, focus } = parsed.hosts ?? {};
    if (!domain || !muc || !focus || !parsed.websocket) throw new Error('/config.js lacks hosts.domain/muc/focus or websocket');
    const pid = child.pid;
    if (pid === undefined) throw new Error('server has no pid');
    opts.log(`server pid ${pid} on http://127.0.0.1:${port}/ (domain ${domain}, muc ${muc}, focus ${focus})`);
    let inspector: Inspector | undefined;
    if (opts.gc) {
      if (inspectorUrl === undefined) throw new Error('--gc: the server printed no inspector URL');
      inspector = await Inspector.connect(inspectorUrl);
    }
    return {
      pid,
      wsUrl: parsed.websocket,
      domain,
      mucDomain: muc,
      focusDomain: focus,
      logTail,
      exited: () => hasExited(child),
      collectGarbage: async () => {
        if (inspector === undefined) return undefined;
        await inspector.call('HeapProfiler.collectGarbage');
        const usage = (await inspector.call('Runtime.getHeapUsage')) as { usedSize?: number };
        return typeof usage.usedSize === 'number' ? usage.usedSize / 1024 : undefined;
      },
      stop: async () => {
        inspector?.close();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A minimal Chrome DevTools protocol client: one WebSocket, requests matched to responses by id. */
class Inspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (res: { result?: unknown; error?: { message: string } }) => void>();
  #id = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      this.#pending.get(msg.id)?.(msg);
      this.#pending.delete(msg.id);
    });
    ws.on('error', () => undefined);
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Inspector(ws)));
      ws.once('error', reject);
    });
  }

  call(method: string, timeoutMs = 30_000): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), timeoutMs);
      this.#pending.set(id, (res) => {
        clearTimeout(timer);
        if (res.error) reject(new Error(`inspector ${method}: ${res.error.message}`));
        else resolve(res.result);
      });
      this.#ws.send(JSON.stringify({ id, method }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}
