/**
 * `npm run bench -- soak [flags]`: rooms join and leave for N minutes; the server's memory and handles must not grow.
 *
 * The server runs in its own process (server-child.ts: `startServer()` on loopback, `--expose-gc`, samples over IPC),
 * so its numbers are its own. This process drives headless participants (test/participant.ts: XMPP over WebSocket,
 * the conference IQ, MUC, Jingle answered by werift, ICE/DTLS/SRTP with the bridge, synthetic audio and VP8
 * simulcast) in waves: every wave, `--rooms` fresh rooms fill with `--size` participants each, everyone receives
 * everyone's audio and video, media flows for `--hold` seconds, then all go — most with a clean leave, one per room
 * killed (TCP destroyed, no goodbye). Once the server holds nothing any more (no XMPP session, MUC room, focus or
 * bridge conference: checked, a leftover is a failure) it is sampled after a full GC: RSS, V8 heap used,
 * external/array-buffer memory, active handles (`process._getActiveHandles()`) and resources by type
 * (`process.getActiveResourcesInfo()`).
 *
 * Verdict (exit code 1 only on a clear trend; the numbers are printed either way). The first `--warmup` waves fill
 * caches, pools and JIT code and are not judged. Over the waves after that:
 * - heap, and external + array buffers: fails when the last three samples' median exceeds the first three's by more
 *   than max(8 MiB, 10 %) AND the least-squares slope over all judged samples accounts for at least half of that (a
 *   steady climb, not one late jump);
 * - active handles: fails when each of the last three samples is above the largest of the first three by more than 2
 *   (idle, every wave ends with the same sockets and timers);
 * - RSS: reported; fails only when it ends 50 % and 50 MB above its post-warm-up start (the allocator keeps freed
 *   pages, so RSS alone is a weak signal);
 * - the server not becoming idle within 20 s after a wave (something of it stays), or the server dying, fails.
 * A wave in which some participant got no media in time (on a machine this busy, werift's DTLS client gives up now
 * and then) is reported and counted; the run fails only when every wave did. Fewer than 6 judged samples: reported,
 * not judged.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Participant, type ParticipantSsrcs, waitFor } from '../../test/participant.js';
import { hasExited, terminate, trackChild, wasInterrupted } from '../lib/cleanup.js';
import { readPeakRssKb } from '../lib/proc.js';
import { renderTable, type Row } from '../lib/table.js';
import type { ServerSample } from './server-child.js';

export const description = 'rooms joining and leaving for N minutes; server memory and handle counts at start and end, fails on growth';

const USAGE = `usage: npm run bench -- soak [options]

  --minutes N           how long waves keep starting (default 2; fractions allowed)
  --rooms N             rooms per wave (default 3)
  --size N              participants per room (default 3)
  --hold SEC            seconds of media in each wave once everyone receives everyone (default 3)
  --warmup N            first waves not judged (default 2)
  --server-config JSON  merged over the bench's server config
  --heap-snapshots DIR  write V8 heap snapshots of the server after the warm-up and at the end into DIR
                        (compare them in Chrome DevTools' Memory tab to find what grew)
  --json                print one JSON object on stdout; human output goes to stderr
  --verbose             one line per wave, and the server's output
  -h, --help

Exit code 1 when memory or handles show a clear growth trend (see bench/soak/index.ts), a wave fails, or the
server dies; 0 otherwise.
`;

class UsageError extends Error {}

const MiB = 1024 * 1024;

interface Sample extends ServerSample {
  wave: number;
  minutes: number;
  joins: number;
}

interface Server {
  child: ChildProcess;
  wsUrl: string;
  domain: string;
  mucDomain: string;
  focusDomain: string;
  sample(gc: boolean): Promise<ServerSample>;
  /** Writes a heap snapshot of the server to `path`; resolves with the file written. */
  snapshot(path: string): Promise<string>;
  stop(): Promise<void>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

async function startServer(overrides: Record<string, unknown>, verbose: boolean): Promise<Server> {
  const config = deepMerge(
    {
      http: { port: 0, host: '127.0.0.1', insecureHttp: true },
      xmpp: { c2s: { port: null } },
      log: { level: 'warn' },
      bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
      stun: { enabled: false },
    },
    overrides,
  );
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = fork(fileURLToPath(new URL('./server-child.ts', import.meta.url)), [JSON.stringify(config)], {
    cwd: root,
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', verbose ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
  const untrack = trackChild(child, 'soak server', 8000);
  const waiting: Array<(s: ServerSample) => void> = [];
  const snapshots: Array<(path: string) => void> = [];
  let ready: ((m: { wsUrl: string; domain: string; mucDomain: string; focusDomain: string }) => void) | undefined;
  const readyP = new Promise<{ wsUrl: string; domain: string; mucDomain: string; focusDomain: string }>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code, signal) => reject(new Error(`server exited during start (${signal ?? `code ${code}`})`)));
  });
  child.on('message', (raw) => {
    const m = raw as { type: string };
    if (m.type === 'ready') ready?.(raw as { wsUrl: string; domain: string; mucDomain: string; focusDomain: string });
    else if (m.type === 'sample') waiting.shift()?.(raw as ServerSample);
    else if (m.type === 'snapshot') snapshots.shift()?.((raw as { path: string }).path);
  });
  const info = await Promise.race([readyP, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('server not ready within 60 s')), 60_000).unref())]);
  return {
    child,
    ...info,
    sample: (gc) =>
      new Promise((resolve, reject) => {
        if (hasExited(child) || !child.connected) {
          reject(new Error('the server process is gone'));
          return;
        }
        waiting.push(resolve);
        child.send({ type: 'sample', gc });
      }),
    snapshot: (path) =>
      new Promise((resolve, reject) => {
        if (hasExited(child) || !child.connected) {
          reject(new Error('the server process is gone'));
          return;
        }
        snapshots.push(resolve);
        child.send({ type: 'snapshot', path });
      }),
    stop: async () => {
      if (child.connected) child.send({ type: 'stop' });
      await terminate(child, 8000);
      untrack();
    },
  };
}

let ssrcCounter = 0;

function identity(): { nick: string; ssrcs: ParticipantSsrcs } {
  const base = 0x2000_0000 + ++ssrcCounter * 0x100;
  return {
    nick: randomBytes(4).toString('hex'),
    ssrcs: { audio: base + 1, video: base + 0x10, rtx: base + 0x20, layers: { video: [base + 0x11, base + 0x12], rtx: [base + 0x21, base + 0x22] } },
  };
}

/** One wave: rooms fill, media flows everyone to everyone, hold, everyone goes (one per room killed). */
async function wave(server: Server, wave: number, rooms: number, size: number, holdS: number): Promise<number> {
  const groups: Array<Array<{ p: Participant; ssrcs: ParticipantSsrcs }>> = [];
  try {
    await Promise.all(
      Array.from({ length: rooms }, async (_, r) => {
        const room = `soak-${wave}-${r}@${server.mucDomain}`;
        const g: Array<{ p: Participant; ssrcs: ParticipantSsrcs }> = [];
        groups.push(g);
        for (let i = 0; i < size; i++) {
          const id = identity();
          g.push({ p: await Participant.join({ wsUrl: server.wsUrl, domain: server.domain, focusDomain: server.focusDomain, room, ...id }), ssrcs: id.ssrcs });
        }
      }),
    );
    const all = groups.flat();
    const problems = (): string => all.flatMap((m) => m.p.problems.map((x) => `${m.p.endpointId}: ${x}`)).join('; ');
    const lacking = (min: (m: { p: Participant }, o: { ssrcs: ParticipantSsrcs }) => number): string | undefined => {
      for (const g of groups) {
        for (const m of g) {
          for (const o of g) {
            if (m === o) continue;
            const need = min(m, o);
            if (m.p.count(o.ssrcs.audio) < need || m.p.count(o.ssrcs.video) < need) {
              const state = (x: Participant): string => `${x.endpointId}: offer ${x.offer !== undefined}, accepted ${x.acceptResult?.attrs.type ?? '-'}, connected ${x.connected()}, sending ${x.sendingToBridge()}, knows ${[...x.remote.keys()].join(' ')}`;
              return `${m.p.endpointId} has ${m.p.count(o.ssrcs.audio)}/${need} audio and ${m.p.count(o.ssrcs.video)}/${need} video packets of ${o.p.endpointId} (${state(m.p)}; ${state(o.p)}) ${problems()}`;
            }
          }
        }
      }
      return undefined;
    };
    await waitFor(() => lacking(() => 10), 30_000);
    // Hold: `holdS` more seconds of audio (50 packets/s) between every pair.
    const base = new Map<string, number>();
    for (const g of groups) for (const m of g) for (const o of g) if (m !== o) base.set(`${m.p.endpointId}:${o.ssrcs.audio}`, m.p.count(o.ssrcs.audio));
    await waitFor(() => lacking((m, o) => (base.get(`${m.p.endpointId}:${o.ssrcs.audio}`) ?? 0) + holdS * 50), holdS * 1000 + 30_000);
    return all.length;
  } finally {
    await Promise.all(
      groups.map(async (g) => {
        for (const [i, m] of g.entries()) {
          if (i === g.length - 1) await m.p.cut({ terminate: true });
          await m.p.leave();
        }
      }),
    );
  }
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Trend {
  name: string;
  start: number;
  end: number;
  growth: number;
  /** Growth the least-squares line accounts for over the judged waves. */
  fitted: number;
  threshold: number;
  leak: boolean;
}

/** The growth criterion for one byte series (see the module comment). */
function byteTrend(name: string, judged: readonly Sample[], pick: (s: Sample) => number): Trend {
  const ys = judged.map(pick);
  const start = median(ys.slice(0, 3));
  const end = median(ys.slice(-3));
  const xs = judged.map((s) => s.wave);
  const fitted = slope(xs, ys) * ((xs.at(-1) ?? 0) - (xs[0] ?? 0));
  const threshold = Math.max(8 * MiB, 0.1 * start);
  const growth = end - start;
  return { name, start, end, growth, fitted, threshold, leak: growth > threshold && fitted > threshold / 2 };
}

function resourcesLine(r: Record<string, number>): string {
  return Object.entries(r)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export async function run(args: string[]): Promise<number> {
  let opts: {
    minutes: number;
    rooms: number;
    size: number;
    hold: number;
    warmup: number;
    json: boolean;
    verbose: boolean;
    serverConfig: Record<string, unknown>;
    snapshotDir: string | undefined;
  };
  try {
    const { values } = parseArgs({
      args,
      options: {
        minutes: { type: 'string' },
        rooms: { type: 'string' },
        size: { type: 'string' },
        hold: { type: 'string' },
        warmup: { type: 'string' },
        'server-config': { type: 'string' },
        'heap-snapshots': { type: 'string' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const num = (v: string | undefined, name: string, def: number, min: number, max: number, int = true): number => {
      if (v === undefined) return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${int ? 'an integer' : 'a number'} in ${min}..${max}`);
      return n;
    };
    let serverConfig: Record<string, unknown> = {};
    if (values['server-config'] !== undefined) {
      const parsed: unknown = JSON.parse(values['server-config']);
      if (!isObject(parsed)) throw new UsageError('--server-config must be a JSON object');
      serverConfig = parsed;
    }
    opts = {
      minutes: num(values.minutes, 'minutes', 2, 0.1, 24 * 60, false),
      rooms: num(values.rooms, 'rooms', 3, 1, 50),
      size: num(values.size, 'size', 3, 2, 20),
      hold: num(values.hold, 'hold', 3, 0, 600, false),
      warmup: num(values.warmup, 'warmup', 2, 0, 100),
      json: values.json === true,
      verbose: values.verbose === true,
      serverConfig,
      snapshotDir: values['heap-snapshots'] === undefined ? undefined : resolve(values['heap-snapshots']),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const out = (line: string): void => {
    (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
  };

  out(`soak: ${opts.minutes} min of waves of ${opts.rooms} rooms × ${opts.size} participants, ${opts.hold} s of media each; first ${opts.warmup} waves not judged`);
  const server = await startServer(opts.serverConfig, opts.verbose);
  const samples: Sample[] = [];
  const failures: string[] = [];
  const mediaFailures: string[] = [];
  let joins = 0;
  let peakBytes: number | undefined;
  const t0 = performance.now();
  const minutes = (): number => (performance.now() - t0) / 60_000;
  const take = async (w: number): Promise<Sample> => {
    const s = { ...(await server.sample(true)), wave: w, minutes: minutes(), joins };
    samples.push(s);
    return s;
  };
  try {
    const start = await take(0);
    out(`server pid ${server.child.pid ?? '?'}: RSS ${(start.rssBytes / MiB).toFixed(1)} MiB, heap ${(start.heapUsedBytes / MiB).toFixed(1)} MiB, ${start.handles} handles at start`);
    let w = 0;
    while (minutes() < opts.minutes && !wasInterrupted()) {
      w++;
      try {
        joins += await wave(server, w, opts.rooms, opts.size, opts.hold);
      } catch (err) {
        if (server.child.exitCode !== null || server.child.signalCode !== null) {
          failures.push(`wave ${w}: the server died (${server.child.signalCode ?? `code ${server.child.exitCode}`})`);
          break;
        }
        mediaFailures.push(`wave ${w}: ${(err as Error).message.slice(0, 400)}`);
        out(`wave ${w}: no media for everyone in time: ${(err as Error).message.slice(0, 400)}`);
        joins += opts.rooms * opts.size;
      }
      // Idle: everything of the wave is gone from the server (the focus's own XMPP session stays).
      let last: ServerSample | undefined;
      const idleBy = performance.now() + 20_000;
      const idle = (x: ServerSample): boolean =>
        x.xmppSessions <= start.xmppSessions && x.mucRooms + x.focusConferences + x.bridgeConferences + x.bridgeEndpoints === 0;
      for (;;) {
        last = await server.sample(false);
        if (idle(last) || performance.now() > idleBy) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!idle(last)) {
        failures.push(
          `wave ${w}: the server still holds ${last.xmppSessions} XMPP sessions (${start.xmppSessions} at start), ${last.mucRooms} rooms, ${last.focusConferences} focus conferences, ${last.bridgeConferences} bridge conferences, ${last.bridgeEndpoints} endpoints 20 s after everyone left`,
        );
        break;
      }
      const s = await take(w);
      if (opts.snapshotDir !== undefined && w === opts.warmup + 1) out(`heap snapshot: ${await server.snapshot(join(opts.snapshotDir, `soak-wave-${w}.heapsnapshot`))}`);
      if (opts.verbose) {
        out(
          `wave ${w} (${s.minutes.toFixed(2)} min, ${joins} joins): RSS ${(s.rssBytes / MiB).toFixed(1)} MiB, heap ${(s.heapUsedBytes / MiB).toFixed(2)} MiB, external ${((s.externalBytes + s.arrayBuffersBytes) / MiB).toFixed(2)} MiB, handles ${s.handles}, pool ${s.packetPool.created}/${s.packetPool.pooled}`,
        );
      }
    }
    if (opts.snapshotDir !== undefined && samples.length > 1) out(`heap snapshot: ${await server.snapshot(join(opts.snapshotDir, `soak-wave-${samples.at(-1)?.wave ?? 0}.heapsnapshot`))}`);
  } finally {
    const peakKb = server.child.pid === undefined ? undefined : readPeakRssKb(server.child.pid);
    if (peakKb !== undefined) peakBytes = peakKb * 1024;
    await server.stop();
  }

  const first = samples[0];
  const lastSample = samples.at(-1);
  if (first === undefined || lastSample === undefined) {
    out('no samples');
    return 1;
  }
  const judged = samples.filter((s) => s.wave > opts.warmup);
  const trends: Trend[] = [];
  let handleLeak = false;
  let handleLine = 'not judged (fewer than 6 samples after warm-up)';
  let rssLeak = false;
  if (judged.length >= 6) {
    trends.push(byteTrend('V8 heap used', judged, (s) => s.heapUsedBytes));
    trends.push(byteTrend('external + array buffers', judged, (s) => s.externalBytes + s.arrayBuffersBytes));
    const hStart = Math.max(...judged.slice(0, 3).map((s) => s.handles));
    const hEnd = judged.slice(-3).map((s) => s.handles);
    handleLeak = hEnd.every((h) => h > hStart + 2);
    handleLine = `largest of the first three ${hStart}, last three ${hEnd.join(', ')}: ${handleLeak ? 'GROWING' : 'ok'}`;
    const rStart = median(judged.slice(0, 3).map((s) => s.rssBytes));
    const rEnd = median(judged.slice(-3).map((s) => s.rssBytes));
    rssLeak = rEnd > rStart * 1.5 && rEnd - rStart > 50 * MiB;
  }
  const afterWarmup = judged[0];
  const mib = (b: number): string => (b / MiB).toFixed(1);
  const rows: Row[] = [
    ['server (idle, after a full GC)', 'start', afterWarmup ? `after wave ${afterWarmup.wave}` : 'after warm-up', `end (wave ${lastSample.wave})`, 'end − after warm-up'],
    ['RSS (MiB)', mib(first.rssBytes), afterWarmup ? mib(afterWarmup.rssBytes) : '–', mib(lastSample.rssBytes), afterWarmup ? mib(lastSample.rssBytes - afterWarmup.rssBytes) : '–'],
    ['V8 heap used (MiB)', mib(first.heapUsedBytes), afterWarmup ? mib(afterWarmup.heapUsedBytes) : '–', mib(lastSample.heapUsedBytes), afterWarmup ? mib(lastSample.heapUsedBytes - afterWarmup.heapUsedBytes) : '–'],
    [
      'external + array buffers (MiB)',
      mib(first.externalBytes + first.arrayBuffersBytes),
      afterWarmup ? mib(afterWarmup.externalBytes + afterWarmup.arrayBuffersBytes) : '–',
      mib(lastSample.externalBytes + lastSample.arrayBuffersBytes),
      afterWarmup ? mib(lastSample.externalBytes + lastSample.arrayBuffersBytes - afterWarmup.externalBytes - afterWarmup.arrayBuffersBytes) : '–',
    ],
    ['active handles', String(first.handles), afterWarmup ? String(afterWarmup.handles) : '–', String(lastSample.handles), afterWarmup ? String(lastSample.handles - afterWarmup.handles) : '–'],
  ];
  const peak = peakBytes;
  out('');
  out(`${lastSample.wave} waves, ${joins} joins (${opts.rooms} rooms × ${opts.size} per wave) in ${lastSample.minutes.toFixed(2)} min${peak !== undefined ? `; peak RSS ${mib(peak)} MiB` : ''}`);
  out(renderTable(rows));
  out(`resources at start: ${resourcesLine(first.resources)}`);
  out(`resources at end:   ${resourcesLine(lastSample.resources)}`);
  for (const t of trends) {
    const perJoin = afterWarmup && joins > afterWarmup.joins ? (t.growth / (joins - afterWarmup.joins)) : 0;
    out(
      `${t.name}: ${mib(t.start)} → ${mib(t.end)} MiB (median of the first / last three judged samples), ${t.growth >= 0 ? '+' : ''}${mib(t.growth)} MiB ` +
        `(${(perJoin / 1024).toFixed(2)} KiB per join), fitted trend ${t.fitted >= 0 ? '+' : ''}${mib(t.fitted)} MiB, threshold ${mib(t.threshold)} MiB: ${t.leak ? 'GROWING' : 'ok'}`,
    );
  }
  out(`active handles: ${handleLine}`);
  if (rssLeak) out('RSS: grew by more than 50 % and 50 MiB: GROWING');
  if (mediaFailures.length > 0) out(`waves in which someone got no media in time: ${mediaFailures.length} of ${lastSample.wave}`);
  if (mediaFailures.length > 0 && mediaFailures.length >= lastSample.wave) failures.push('no wave got media to everyone');
  for (const f of failures) out(`FAILED: ${f}`);
  const leak = trends.some((t) => t.leak) || handleLeak || rssLeak;
  if (leak) out('FAILED: growth trend (see above)');
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ options: { ...opts, serverConfig: undefined }, joins, peakRssBytes: peak, samples, trends, handleLeak, rssLeak, mediaFailures, failures, ok: !leak && failures.length === 0 })}\n`);
  }
  return leak || failures.length > 0 ? 1 : 0;
}
