/**
 * `npm run bench -- join [flags]`: time to first media for a joining participant, and the server's memory.
 *
 * Starts `npm start`'s server (packages/server/src/main.ts) in a child process on loopback (server.ts) and drives
 * headless Jitsi participants from this process (test/participant.ts: XMPP over WebSocket, the conference IQ, MUC,
 * Jingle answered by werift, ICE/DTLS/SRTP to the bridge, synthetic audio + VP8 with a key frame first and every 30
 * frames). Measured per join: the time from the participant's WebSocket open to the first VP8 key frame it receives
 * from each of the others, for the 2nd and 3rd participant of fresh rooms and the 10th of a room of 9 (scenario.ts),
 * reported as p50/p99 over the repeated joins with a breakdown into phases (probe.ts). The server's RSS is read
 * from /proc/<pid>/status: idle after a warm-up conference, with the big room full, per participant, peak (VmHWM).
 *
 * The aims of the issue are printed next to the numbers (pass/miss) but never decide the exit code: 0 unless
 * something broke (the server died, a join got no media in time). Human output goes to stdout, or to stderr with
 * --json, which prints exactly one JSON object on stdout.
 */
import { parseArgs } from 'node:util';
import { wasInterrupted } from '../lib/cleanup.js';
import { percentiles, round } from '../lib/stats.js';
import { renderTable, type Row } from '../lib/table.js';
import type { JoinTimeline } from './probe.js';
import { runJoinScenario, type PhaseStats, type ScenarioResult } from './scenario.js';
import { measureTsxOverheadKb, startJoinServer } from './server.js';
import { intFlag, parseOrUsage, UsageError } from '../lib/args.js';

export const description =
  'time from WebSocket connect to the first VP8 key frame from each other participant (2nd, 3rd, 10th); server RSS';

const USAGE = `usage: npm run bench -- join [options]

  --rooms N             fresh rooms in which the 2nd and the 3rd participant are measured (default 20)
  --joins N             joins of the last participant into the big room (default 20)
  --size N              size of the big room; its N-th participant is measured (default 10, 4..50)
  --timeout SEC         deadline for one join to receive key frames from everyone (default 20)
  --settle MS           pause after a room is stable before its RSS is sampled (default 500)
  --steady SEC          how long the big room is kept after it first is full before the steady-state
                        RSS sample (default 10: the bridge's retransmission caches keep the last
                        second of each video source, so they are full well before that)
  --jitter MS           random pause 0..MS before each measured join of the 3rd and the last
                        participant, so joins fall at a random point of the senders' 1 s key frame
                        cycle (default 1000)
  --gc                  force a full GC in the server before every RSS sample (the server runs with
                        --inspect=127.0.0.1:0 and the bench calls HeapProfiler.collectGarbage), and
                        report its V8 heap too
  --server-config JSON  merged over the bench's server config, for experiments, e.g.
                        '{"bridge":{"video":{"nackCacheBytes":65536}}}'
  --log-level LEVEL     the server's log level (default warn)
  --json                print one JSON object on stdout; human output goes to stderr
                        (use npm run -s, or npm's banner lands on stdout too)
  --verbose             forward the server's output to stderr
  -h, --help

The default run takes about two minutes. All participants (werift: JavaScript ICE, DTLS and SRTP) run in this
process, so on a small machine its CPU use, shown in the output, is part of every measured time.
`;

/** The aims. Printed with the results; they never change the exit code. */
const AIMS = {
  thirdFirstMediaMs: 1500,
  idleRssMb: 150,
  perParticipantMb: 2,
} as const;

interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function dist(values: readonly number[]): Dist | undefined {
  if (values.length === 0) return undefined;
  const a = Float64Array.from(values);
  const [p50, p99, max] = percentiles(a, a.length, [50, 99, 100]);
  return { n: values.length, p50: round(p50 ?? NaN), p99: round(p99 ?? NaN), max: round(max ?? NaN) };
}

function median(values: readonly (number | undefined)[]): number | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return dist(v)?.p50;
}

/** Per-position summary of the measured joins. */
interface PositionSummary {
  position: number;
  joins: number;
  /** Key frames from all others (the max over them), per join. */
  allOthersMs: Dist | undefined;
  /** Key frame from each other participant: one sample per (join, other participant). */
  eachOtherMs: Dist | undefined;
  /** Medians of the phases, ms after WebSocket open. */
  medians: {
    joinedMs: number | undefined;
    offerMs: number | undefined;
    acceptedMs: number | undefined;
    connectedMs: number | undefined;
    /** First video RTP packet from all others (max over them). */
    firstVideoAllMs: number | undefined;
    allKeyFramesMs: number | undefined;
    /** Key frames from all others minus ICE + DTLS connected: the wait for media once the transport is up. */
    afterDtlsMs: number | undefined;
  };
  /** Joins whose session-initiate arrived before Participant.join() returned (offerMs unknown there). */
  offerBeforeJoined: number;
}

function summarize(position: number, ts: readonly JoinTimeline[]): PositionSummary {
  const each = ts.flatMap((t) => Object.values(t.keyFrameMs));
  return {
    position,
    joins: ts.length,
    allOthersMs: dist(ts.map((t) => t.allKeyFramesMs)),
    eachOtherMs: dist(each),
    medians: {
      joinedMs: median(ts.map((t) => t.joinedMs)),
      offerMs: median(ts.map((t) => t.offerMs)),
      acceptedMs: median(ts.map((t) => t.acceptedMs)),
      connectedMs: median(ts.map((t) => t.connectedMs)),
      firstVideoAllMs: median(ts.map((t) => Math.max(...Object.values(t.firstVideoMs)))),
      allKeyFramesMs: median(ts.map((t) => t.allKeyFramesMs)),
      afterDtlsMs: median(ts.map((t) => (t.connectedMs === undefined ? undefined : t.allKeyFramesMs - t.connectedMs))),
    },
    offerBeforeJoined: ts.filter((t) => t.offerMs === undefined).length,
  };
}

function mb(kb: number | undefined): number | undefined {
  return kb === undefined ? undefined : round((kb * 1024) / 1e6, 1);
}

interface Aim {
  aim: string;
  measured: string;
  value: number | undefined;
  limit: number;
  met: boolean | undefined;
}

function aim(label: string, value: number | undefined, limit: number, unit: string): Aim {
  return {
    aim: label,
    measured: value === undefined ? 'n/a' : `${value} ${unit}`,
    value,
    limit,
    met: value === undefined ? undefined : value < limit,
  };
}

const fmt = (v: number | undefined, d = 0): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
const pair = (d: Dist | undefined): string => (d ? `${fmt(d.p50)} / ${fmt(d.p99)}` : '–');
const pct = (cpuMs: number | undefined, wallMs: number): string =>
  cpuMs === undefined || wallMs <= 0 ? '–' : `${Math.round((cpuMs / wallMs) * 100)} %`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseOrUsage(
    () =>
      parseArgs({
        args,
        allowPositionals: false,
        options: {
          rooms: { type: 'string' },
          joins: { type: 'string' },
          size: { type: 'string' },
          timeout: { type: 'string' },
          settle: { type: 'string' },
          steady: { type: 'string' },
          jitter: { type: 'string' },
          'log-level': { type: 'string', default: 'warn' },
          gc: { type: 'boolean', default: false },
          'server-config': { type: 'string' },
          json: { type: 'boolean', default: false },
          verbose: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      }).values,
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  let configOverrides: Record<string, unknown> | undefined;
  let rooms: number, joins: number, size: number, timeoutS: number, settleMs: number, steadyS: number, jitterMs: number;
  try {
    rooms = intFlag(parsed.rooms, 'rooms', 20, 0, 10_000);
    joins = intFlag(parsed.joins, 'joins', 20, 0, 10_000);
    size = intFlag(parsed.size, 'size', 10, 4, 50);
    timeoutS = intFlag(parsed.timeout, 'timeout', 20, 1, 600);
    settleMs = intFlag(parsed.settle, 'settle', 500, 0, 60_000);
    steadyS = intFlag(parsed.steady, 'steady', 10, 0, 3600);
    jitterMs = intFlag(parsed.jitter, 'jitter', 1000, 0, 60_000);
    if (parsed['server-config'] !== undefined) {
      let v: unknown;
      try {
        v = JSON.parse(parsed['server-config']);
      } catch (err) {
        throw new UsageError(`--server-config: ${(err as Error).message}`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--server-config must be a JSON object');
      configOverrides = v as Record<string, unknown>;
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 1;
  }
  const json = parsed.json;
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  log(`join bench: ${rooms} fresh rooms (#2, #3), ${joins} joins into a room of ${size - 1} (#${size})`);

  const tsxKb = await measureTsxOverheadKb();
  const server = await startJoinServer({
    log,
    verbose: parsed.verbose,
    logLevel: parsed['log-level'],
    gc: parsed.gc,
    configOverrides,
  });
  let res: ScenarioResult;
  try {
    res = await runJoinScenario(
      { wsUrl: server.wsUrl, domain: server.domain, focusDomain: server.focusDomain },
      server,
      { rooms, joins, size, mediaTimeoutMs: timeoutS * 1000, settleMs, steadyMs: steadyS * 1000, jitterMs, log },
    );
  } catch (err) {
    log(`bench broke: ${err instanceof Error ? err.message : String(err)}`);
    if (server.logTail.length) log(`server output (last lines):\n${server.logTail.join('\n')}`);
    await server.stop();
    if (wasInterrupted()) return 130;
    return 1;
  }
  const serverLog = [...server.logTail];
  await server.stop();
  if (wasInterrupted()) return 130;

  const positions = [2, 3, size].map((p) => summarize(p, res.joins.get(p) ?? []));
  const byPos = new Map(positions.map((s) => [s.position, s]));
  const third = byPos.get(3);
  const fullKb = median(res.rss.fullKb);
  const idleMb = mb(res.rss.idleKb);
  const { steadyKb, idleKb } = res.rss;
  const perParticipantMb =
    steadyKb !== undefined && idleKb !== undefined ? round(((steadyKb - idleKb) * 1024) / 1e6 / size, 2) : undefined;
  const firstMs = AIMS.thirdFirstMediaMs;
  const aims: Aim[] = [
    aim(`3rd participant, first media from all others, p50 < ${firstMs} ms`, third?.allOthersMs?.p50, firstMs, 'ms'),
    aim(`3rd participant, first media from all others, p99 < ${firstMs} ms`, third?.allOthersMs?.p99, firstMs, 'ms'),
    aim(`server RSS idle < ${AIMS.idleRssMb} MB`, idleMb, AIMS.idleRssMb, 'MB'),
    aim(`server RSS per participant < ${AIMS.perParticipantMb} MB`, perParticipantMb, AIMS.perParticipantMb, 'MB'),
  ];

  const text = renderReport(positions, res, { size, fullKb, perParticipantMb, aims, tsxKb, steadyS, settleMs, serverLog });
  if (json) {
    process.stderr.write(`\n${text}\n`);
    const phases = Object.fromEntries(
      Object.entries(res.phases).map(([k, v]) => [
        k,
        v && {
          wallMs: round(v.wallMs),
          benchCpuMs: round(v.benchCpuMs),
          serverCpuMs: v.serverCpuMs === undefined ? undefined : round(v.serverCpuMs),
        },
      ]),
    );
    const out = {
      bench: 'join',
      params: { rooms, joins, size, timeoutS, settleMs, steadyS, jitterMs, gc: parsed.gc, serverConfig: configOverrides },
      firstMedia: Object.fromEntries(positions.map((p) => [String(p.position), p])),
      rssMb: {
        start: mb(res.rss.startKb),
        idle: idleMb,
        beforeLast: mb(res.rss.beforeLastKb),
        full: mb(fullKb),
        fullSamples: res.rss.fullKb.map((kb) => mb(kb)),
        steady: mb(res.rss.steadyKb),
        perParticipant: perParticipantMb,
        peak: mb(res.rss.peakKb),
        tsxLoaderEstimate: mb(tsxKb),
      },
      heapAfterGcMb: parsed.gc
        ? {
            idle: mb(res.heap.idleKb),
            beforeLast: mb(res.heap.beforeLastKb),
            full: mb(median(res.heap.fullKb)),
            fullSamples: res.heap.fullKb.map((kb) => mb(kb)),
            steady: mb(res.heap.steadyKb),
          }
        : undefined,
      phases,
      aims: aims.map(({ aim: a, value, limit, met }) => ({ aim: a, value, limit, met })),
      failures: res.failures,
      serverLog,
      samples: Object.fromEntries(
        [...res.joins.entries()].map(([pos, ts]) => [
          String(pos),
          ts.map((t) => ({
            joinedMs: round(t.joinedMs),
            offerMs: t.offerMs === undefined ? undefined : round(t.offerMs),
            acceptedMs: t.acceptedMs === undefined ? undefined : round(t.acceptedMs),
            connectedMs: t.connectedMs === undefined ? undefined : round(t.connectedMs),
            keyFrameMs: Object.values(t.keyFrameMs).map((v) => round(v)),
          })),
        ]),
      ),
      notes: [
        'times in ms after the joining participant started its WebSocket connect; MB = 10^6 bytes',
        'all participants (werift, JavaScript DTLS/SRTP) run in the bench process: its CPU use is part of every time',
        "werift's DTLS client waits 100 ms before its ClientHello",
        'the synthetic senders send a key frame every 30 frames (~1 s) and do not answer keyframe requests',
      ],
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(`\n${text}\n`);
  }
  return res.failures.length > 0 ? 1 : 0;
}

function renderReport(
  positions: readonly PositionSummary[],
  res: ScenarioResult,
  extra: {
    size: number;
    fullKb: number | undefined;
    perParticipantMb: number | undefined;
    aims: readonly Aim[];
    tsxKb: number | undefined;
    steadyS: number;
    settleMs: number;
    serverLog: readonly string[];
  },
): string {
  const head = ['time to first media, ms after WebSocket open', ...positions.map((p) => `#${p.position}`)];
  const row = (label: string, f: (p: PositionSummary) => string): Row => [label, ...positions.map(f)];
  const media: Row[] = [
    head,
    row('joins measured', (p) => String(p.joins)),
    row('key frame from ALL others, p50 / p99', (p) => pair(p.allOthersMs)),
    row('key frame from ALL others, max', (p) => fmt(p.allOthersMs?.max)),
    row('key frame from EACH other, p50 / p99', (p) => pair(p.eachOtherMs)),
    row('medians: XMPP joined (auth, conference IQ, MUC)', (p) => fmt(p.medians.joinedMs)),
    row('  Jingle session-initiate received', (p) => fmt(p.medians.offerMs)),
    row('  session-accept answered', (p) => fmt(p.medians.acceptedMs)),
    row('  ICE + DTLS with the bridge up', (p) => fmt(p.medians.connectedMs)),
    row('  first video RTP from all others', (p) => fmt(p.medians.firstVideoAllMs)),
    row('  key frames from all others', (p) => fmt(p.medians.allKeyFramesMs)),
    row('  of which after ICE + DTLS were up', (p) => fmt(p.medians.afterDtlsMs)),
  ];
  const memory: Row[] = [
    ['server memory (MB)', 'value'],
    ['RSS when ready', fmt(mb(res.rss.startKb), 1)],
    ['RSS idle, after a warm-up conference ended', fmt(mb(res.rss.idleKb), 1)],
    [`RSS with ${extra.size - 1} in a room, ${extra.settleMs} ms after media flowed`, fmt(mb(res.rss.beforeLastKb), 1)],
    [
      `RSS with ${extra.size} in a room, ${extra.settleMs} ms after media flowed (median of ${res.rss.fullKb.length})`,
      fmt(mb(extra.fullKb), 1),
    ],
    [
      `RSS with ${extra.size} in a room after ${extra.steadyS} s (steady state, before join/leave churn)`,
      fmt(mb(res.rss.steadyKb), 1),
    ],
    [`per participant: (steady RSS with ${extra.size} − idle) / ${extra.size}`, fmt(extra.perParticipantMb, 2)],
    ['peak RSS (VmHWM), whole run', fmt(mb(res.rss.peakKb), 1)],
    ['included in each: tsx loader (≈ empty `node --import tsx` − `node`)', fmt(mb(extra.tsxKb), 1)],
  ];
  if (res.heap.idleKb !== undefined) {
    const steady = res.heap.steadyKb;
    memory.push(
      ['V8 heap after forced GC: idle', fmt(mb(res.heap.idleKb), 1)],
      [`V8 heap after forced GC: ${extra.size - 1} in a room`, fmt(mb(res.heap.beforeLastKb), 1)],
      [`V8 heap after forced GC: ${extra.size} in a room (median)`, fmt(mb(median(res.heap.fullKb)), 1)],
      [`V8 heap after forced GC: ${extra.size} in a room, steady state`, fmt(mb(steady), 1)],
      [
        `V8 heap per participant: (steady heap with ${extra.size} − idle) / ${extra.size}`,
        fmt(steady === undefined ? undefined : mb((steady - res.heap.idleKb) / extra.size), 2),
      ],
    );
  }
  const phaseNames: Record<string, string> = {
    warmup: 'warm-up (1 room of 3)',
    big: `room of ${extra.size}`,
    small: 'fresh rooms (#2, #3)',
  };
  const cpu: Row[] = [
    ['phase', 'wall (s)', 'bench process CPU', 'server CPU'],
    ...Object.entries(res.phases)
      .filter((e): e is [string, PhaseStats] => e[1] !== undefined)
      .map(([k, v]): Row => [
        phaseNames[k] ?? k,
        fmt(v.wallMs / 1000, 1),
        pct(v.benchCpuMs, v.wallMs),
        pct(v.serverCpuMs, v.wallMs),
      ]),
  ];
  const aims: Row[] = [
    ['aim (not enforced)', 'measured', 'result'],
    ...extra.aims.map((a): Row => [a.aim, a.measured, a.met === undefined ? 'n/a' : a.met ? 'pass' : 'MISS']),
  ];
  const notes: string[] = [
    'CPU is % of one core. All participants (werift: JavaScript ICE/DTLS/SRTP) run in the bench process, so its CPU',
    'use is part of every measured time. Client-side parts of the times: werift\'s DTLS client waits 100 ms before',
    'its ClientHello; then the bridge asks each sender for a key frame (PLI) and the synthetic senders answer on',
    'their next frame (up to 33 ms), as an encoder does ("of which after ICE + DTLS were up"). MB = 10^6 bytes.',
  ];
  const odd: string[] = [];
  for (const p of positions) {
    if (p.offerBeforeJoined > 0) {
      odd.push(`#${p.position}: ${p.offerBeforeJoined} offers arrived before the MUC join returned (not timed)`);
    }
  }
  if (extra.serverLog.length) {
    odd.push(
      `the server wrote ${extra.serverLog.length} log lines at or above its log level; the last:`,
      ...extra.serverLog.slice(-5).map((l) => `  ${l}`),
    );
  }
  if (res.failures.length) odd.push(`${res.failures.length} failures:`, ...res.failures.map((f) => `  ${f}`));
  const tables = [renderTable(media), renderTable(memory), renderTable(cpu), renderTable(aims)].join('\n\n');
  return [tables, '', ...notes, ...(odd.length ? ['', ...odd] : [])].join('\n');
}
