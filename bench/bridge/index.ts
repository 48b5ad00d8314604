/**
 * `npm run bench -- bridge [flags]`: SFU forwarding throughput of @jitsi-one/bridge on loopback.
 *
 * Per scenario (S senders × R receivers in one conference):
 * 1. starts the bridge in a child process (bridge-server.ts: UdpMux + EndpointTransport + Bridge,
 *    driven over a JSON-lines control channel), so it has its own event loop, CPU time and RSS;
 * 2. connects S + R client EndpointTransports from this process (generator.ts): real ICE + DTLS-SRTP
 *    per endpoint, signalled with Colibri2 conference-modify; receiver j asks for layer j mod 3;
 * 3. primes (every receiver gets every sender's layer, key frames on PLI), then searches the highest
 *    forwarded rate that is sustained: < 0.1 % loss, ≥ 97 % of the expected rate forwarded and
 *    received, median latency ≤ `--max-p50` (a growing queue would turn into loss once the socket
 *    buffers are full). Steps of `--warmup` + `--seconds` at a rising rate (×1.35), then bisection
 *    between the last good and the first bad rate, at most `--max-steps` steps; a failing step during
 *    which other processes used the machine is repeated (twice per scenario at most);
 * 4. per step: offered and forwarded packets/s (bridge counters and receiver counts), loss (sequence
 *    gaps at the receivers), one-way latency through the bridge p50/p99 (send time in the payload,
 *    same clock), bridge CPU from /proc/<pid>/stat per forwarded packet, bridge RSS, generator CPU,
 *    and the ratio to the SRTP crypto ceiling measured at the start of the run (ceiling.ts).
 *
 * Prints a table (stdout; stderr with --json) and with --json exactly one JSON object on stdout.
 * Child processes are killed on error and SIGINT through bench/lib/cleanup.ts.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { wasInterrupted } from '../lib/cleanup.js';
import { readCpuMs, readPeakRssKb, readRssKb } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { renderTable, type Row } from '../lib/table.js';
import { BridgeProcess } from './bridge-process.js';
import { measureCeiling, type Ceiling } from './ceiling.js';
import { LoadGenerator, type GeneratorOptions, type WindowResult } from './generator.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import type { BridgeCounters } from './protocol.js';
import { cpuCount, readMachineBusyMs } from './sys.js';
import { UsageError } from '../lib/args.js';

export const description = 'SFU forwarding: 10×10 and 3×50 over real ICE/DTLS/SRTP on loopback, max loss-free forwarded pkt/s';

const USAGE = `usage: npm run bench -- bridge [options]

  --scenario 10x10|3x50|all|SxR  senders × receivers in one conference (default all = 10x10 and 3x50)
  --seconds S           measured seconds per step (default 4)
  --warmup S            seconds at a new rate before measuring (default 1.5)
  --rate PPS            measure one step at this expected forwarded rate (packets/s out of the
                        bridge) instead of searching for the highest loss-free rate
  --start PPS           forwarded rate of the first search step (default 20000)
  --max-steps N         search steps per scenario (default 9; steps repeated because other processes
                        were using the machine, at most 2 per scenario, come on top)
  --size BYTES          video RTP packet size before SRTP (default 1200)
  --audio-rate PPS      audio packets/s per sender, forwarded to every receiver (default 0: video only)
  --decrypt-every N     receivers SRTP-decrypt (and time) every N-th packet; all are counted from their
                        RTP header (default 8; 1 = decrypt everything, costs the generator ~3 µs/packet)
  --max-p50 MS          a step whose median one-way latency exceeds this is overloaded: queues are
                        growing and the socket buffers only hide the loss for a while (default 20; the
                        p99 is reported but not judged: GC pauses of either process dominate it)
  --cpu-prof DIR        after the search, profile the bridge for one extra step at the best rate,
                        write DIR/bridge-<scenario>.cpuprofile and print its top self-time functions
  --json                print one JSON object on stdout; human output goes to stderr
  --verbose             forward the bridge process's stderr (set BENCH_BRIDGE_LOG=info for its logs)
  -h, --help
`;

/** Loss threshold of a good step, %. */
const MAX_LOSS_PERCENT = 0.1;
const STEP_UP = 1.35;
/**
 * A generator above this CPU % may itself be what limits a failing step (it cannot read its sockets in
 * time): such a failure is reported as "bridge and generator both saturated".
 */
const GENERATOR_MAX_CPU_PERCENT = 85;
/** Other processes above this CPU % make a step unreliable: a failing one is repeated (at most twice per scenario). */
const CONTENDED_CPU_PERCENT = 25;

interface Options {
  scenarios: { name: string; senders: number; receivers: number }[];
  seconds: number;
  warmup: number;
  rate: number | undefined;
  start: number;
  maxSteps: number;
  maxP50Ms: number;
  gen: Omit<GeneratorOptions, 'log'>;
  cpuProfDir: string | undefined;
  json: boolean;
  verbose: boolean;
}

interface StepResult {
  targetForwardedPps: number;
  videoPpsPerLayer: number;
  targetOfferedPps: number;
  offeredPps: number;
  forwardedPps: number;
  receivedPps: number;
  lossPercent: number;
  lost: number;
  expected: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  latencySamples: number;
  bridgeCpuPercent: number;
  /** CPU of the whole machine during the step, % of one core (100 × cores at most). */
  machineCpuPercent: number;
  /** Machine CPU not used by the bridge or the generator (other processes, unattributed kernel work), %. */
  otherCpuPercent: number;
  bridgeCpuUsPerForwarded: number;
  /** With BENCH_BRIDGE_TIME_SENDS=1: wall time per UdpMux.send (the sendto syscall), µs. */
  bridgeSendUs?: number;
  /** Forwarded packets per second of bridge CPU time. */
  forwardedPerCoreSecond: number;
  /** forwardedPerCoreSecond ÷ the SrtpSession ceiling. */
  ceilingRatio: number;
  /** forwardedPerCoreSecond ÷ the raw node:crypto ceiling. */
  rawCeilingRatio: number;
  bridgeRssMiB: number;
  generatorCpuPercent: number;
  generatorMaxTickGapMs: number;
  /** The generator could not offer the target rate: the step says nothing about the bridge. */
  generatorLimited: boolean;
  /** The generator used more than GENERATOR_MAX_CPU_PERCENT: a failure may be the generator's. */
  generatorBusy: boolean;
  /** Other processes used more than CONTENDED_CPU_PERCENT of the machine during the step. */
  contended: boolean;
  pass: boolean;
  notes: string[];
  bridgeDrops: Record<string, number>;
}

interface ScenarioResult {
  name: string;
  senders: number;
  receivers: number;
  endpoints: number;
  connectMs: number;
  steps: StepResult[];
  best: StepResult | undefined;
  limit: string;
  /** Bridge RSS right after start, before any endpoint. */
  bridgeStartRssMiB: number | undefined;
  bridgePeakRssMiB: number | undefined;
  keyframeRequests: number;
  profile?: ProfileSummary;
  error?: string;
}

function num(value: string | undefined, name: string, def: number, min: number, max: number, integer = false): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
  }
  return n;
}

function parseOptions(args: string[]): Options | 'help' {
  const v = parseArgs({
    args,
    allowPositionals: false,
    options: {
      scenario: { type: 'string', default: 'all' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      rate: { type: 'string' },
      start: { type: 'string' },
      'max-steps': { type: 'string' },
      size: { type: 'string' },
      'audio-rate': { type: 'string' },
      'decrypt-every': { type: 'string' },
      'max-p50': { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
  if (v.help) return 'help';
  const scenarios: Options['scenarios'] = [];
  for (const s of (v.scenario ?? 'all').split(',')) {
    if (s === 'all') {
      scenarios.push({ name: '10x10', senders: 10, receivers: 10 }, { name: '3x50', senders: 3, receivers: 50 });
      continue;
    }
    const m = /^(\d+)x(\d+)$/.exec(s);
    const senders = Number(m?.[1]);
    const receivers = Number(m?.[2]);
    if (!m || senders < 1 || receivers < 1 || senders > 100 || receivers > 500) throw new UsageError(`--scenario must be 10x10, 3x50, all or SxR (got ${s})`);
    scenarios.push({ name: s, senders, receivers });
  }
  return {
    scenarios,
    seconds: num(v.seconds, 'seconds', 4, 0.5, 600),
    warmup: num(v.warmup, 'warmup', 1.5, 0, 60),
    rate: v.rate === undefined ? undefined : num(v.rate, 'rate', 0, 100, 10_000_000),
    start: num(v.start, 'start', 20_000, 100, 10_000_000),
    maxSteps: num(v['max-steps'], 'max-steps', 9, 1, 100, true),
    maxP50Ms: num(v['max-p50'], 'max-p50', 20, 0.1, 100_000),
    gen: {
      packetSize: num(v.size, 'size', 1200, 64, 1400, true),
      audioRate: num(v['audio-rate'], 'audio-rate', 0, 0, 1000),
      decryptEvery: num(v['decrypt-every'], 'decrypt-every', 8, 1, 1000, true),
      fps: 30,
      keyframeIntervalMs: 10_000,
    },
    cpuProfDir: v['cpu-prof'] === undefined ? undefined : resolve(v['cpu-prof']),
    json: v.json ?? false,
    verbose: v.verbose ?? false,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function diffCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

export async function run(args: string[]): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parseOptions(args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (opts === 'help') {
    process.stderr.write(USAGE);
    return 0;
  }
  const o = opts;
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  if (o.cpuProfDir !== undefined) mkdirSync(o.cpuProfDir, { recursive: true });

  log(
    `bridge bench: ${o.scenarios.map((s) => s.name).join(', ')}; ${o.gen.packetSize}-byte VP8 simulcast (3 SSRCs per sender)` +
      `${o.gen.audioRate > 0 ? ` + audio ${o.gen.audioRate} pkt/s per sender` : ''}; ` +
      (o.rate !== undefined ? `one step at ${o.rate} forwarded pkt/s` : `search from ${o.start} forwarded pkt/s, ≤ ${o.maxSteps} steps`) +
      ` of ${o.warmup}+${o.seconds} s; node ${process.version}`,
  );
  const ceiling = measureCeiling(o.gen.packetSize);
  log(
    `SRTP ceiling (${ceiling.sizeBytes} B): SrtpSession unprotect ${ceiling.srtpSession.unprotectUs.toFixed(2)} + protect ` +
      `${ceiling.srtpSession.protectUs.toFixed(2)} µs → ${Math.round(ceiling.srtpSession.packetsPerSecond)} pkt/s per core; ` +
      `raw node:crypto (cipher+hmac per packet) ${(ceiling.rawNodeCrypto.unprotectUs + ceiling.rawNodeCrypto.protectUs).toFixed(2)} µs → ` +
      `${Math.round(ceiling.rawNodeCrypto.packetsPerSecond)} pkt/s`,
  );

  const results: ScenarioResult[] = [];
  for (const sc of o.scenarios) {
    if (wasInterrupted()) break;
    results.push(await runScenario(sc, o, ceiling, (l) => log(`[${sc.name}] ${l}`)));
  }
  if (wasInterrupted()) return 130;

  const report = renderReport(results, ceiling);
  if (o.json) {
    process.stderr.write(`\n${report}\n`);
    const r = (x: number, d = 1): number => (Number.isFinite(x) ? round(x, d) : x);
    const step = (s: StepResult) => ({
      ...s,
      videoPpsPerLayer: r(s.videoPpsPerLayer),
      offeredPps: Math.round(s.offeredPps),
      forwardedPps: Math.round(s.forwardedPps),
      receivedPps: Math.round(s.receivedPps),
      lossPercent: r(s.lossPercent, 4),
      latencyP50Ms: r(s.latencyP50Ms, 3),
      latencyP99Ms: r(s.latencyP99Ms, 3),
      latencyMaxMs: r(s.latencyMaxMs, 3),
      bridgeCpuPercent: r(s.bridgeCpuPercent),
      machineCpuPercent: r(s.machineCpuPercent),
      otherCpuPercent: r(s.otherCpuPercent),
      bridgeCpuUsPerForwarded: r(s.bridgeCpuUsPerForwarded, 2),
      ...(s.bridgeSendUs !== undefined ? { bridgeSendUs: r(s.bridgeSendUs, 2) } : {}),
      forwardedPerCoreSecond: Math.round(s.forwardedPerCoreSecond),
      ceilingRatio: r(s.ceilingRatio, 3),
      rawCeilingRatio: r(s.rawCeilingRatio, 3),
      bridgeRssMiB: r(s.bridgeRssMiB),
      generatorCpuPercent: r(s.generatorCpuPercent),
      generatorMaxTickGapMs: r(s.generatorMaxTickGapMs, 2),
    });
    const out = {
      bench: 'bridge',
      node: process.version,
      cpus: cpuCount(),
      params: {
        seconds: o.seconds,
        warmup: o.warmup,
        rate: o.rate,
        start: o.start,
        maxSteps: o.maxSteps,
        packetSize: o.gen.packetSize,
        audioRate: o.gen.audioRate,
        decryptEvery: o.gen.decryptEvery,
        fps: o.gen.fps,
        maxLossPercent: MAX_LOSS_PERCENT,
        maxP50Ms: o.maxP50Ms,
        generatorMaxCpuPercent: GENERATOR_MAX_CPU_PERCENT,
      },
      ceiling: {
        sizeBytes: ceiling.sizeBytes,
        srtpSession: { unprotectUs: r(ceiling.srtpSession.unprotectUs, 3), protectUs: r(ceiling.srtpSession.protectUs, 3), packetsPerSecond: Math.round(ceiling.srtpSession.packetsPerSecond) },
        rawNodeCrypto: { unprotectUs: r(ceiling.rawNodeCrypto.unprotectUs, 3), protectUs: r(ceiling.rawNodeCrypto.protectUs, 3), packetsPerSecond: Math.round(ceiling.rawNodeCrypto.packetsPerSecond) },
      },
      scenarios: Object.fromEntries(
        results.map((s) => [
          s.name,
          {
            ...s,
            best: s.best ? step(s.best) : null,
            steps: s.steps.map(step),
            bridgeStartRssMiB: s.bridgeStartRssMiB !== undefined ? r(s.bridgeStartRssMiB) : null,
            bridgePeakRssMiB: s.bridgePeakRssMiB !== undefined ? r(s.bridgePeakRssMiB) : null,
          },
        ]),
      ),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(`\n${report}\n`);
  }
  return results.some((s) => s.error !== undefined) ? 1 : 0;
}

async function runScenario(
  sc: { name: string; senders: number; receivers: number },
  o: Options,
  ceiling: Ceiling,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    name: sc.name,
    senders: sc.senders,
    receivers: sc.receivers,
    endpoints: sc.senders + sc.receivers,
    connectMs: Number.NaN,
    steps: [],
    best: undefined,
    limit: 'not measured',
    bridgeStartRssMiB: undefined,
    bridgePeakRssMiB: undefined,
    keyframeRequests: 0,
  };
  let bridge: BridgeProcess | undefined;
  let gen: LoadGenerator | undefined;
  try {
    bridge = await BridgeProcess.start({ verbose: o.verbose, log });
    const bp = bridge;
    const startRss = readRssKb(bp.pid);
    result.bridgeStartRssMiB = startRss !== undefined ? startRss / 1024 : undefined;
    log(`bridge pid ${bp.pid} on 127.0.0.1:${bp.port}; connecting ${sc.senders} senders + ${sc.receivers} receivers`);
    const t0 = performance.now();
    gen = await LoadGenerator.connect(sc, bp, { ...o.gen, log });
    const g = gen;
    result.connectMs = Math.round(performance.now() - t0);
    log(`all ${result.endpoints} endpoints connected (ICE + DTLS) in ${result.connectMs} ms`);

    // Prime: low rate until every receiver gets every sender (allocation, PLI, key frame, switch).
    g.setRate(Math.max(30, Math.min(300, o.start / (sc.senders * sc.receivers))));
    const primeDeadline = performance.now() + 20_000;
    for (;;) {
      const cov = g.coverage(20);
      if (cov.ready >= cov.expected) break;
      if (bp.exitReason !== undefined) throw new Error(bp.exitReason);
      if (performance.now() > primeDeadline) throw new Error(`priming: only ${cov.ready}/${cov.expected} receiver streams flowing after 20 s`);
      await sleep(50);
    }
    log(`media flowing to all ${g.coverage(0).expected} receiver streams after ${Math.round(performance.now() - t0 - result.connectMs)} ms`);

    const measure = async (forwarded: number): Promise<StepResult> => {
      const videoRate = forwarded / (sc.senders * sc.receivers) - o.gen.audioRate;
      if (!(videoRate > 0)) throw new Error(`rate ${forwarded} is below the audio rate alone`);
      g.setRate(videoRate);
      await sleep(o.warmup * 1000);
      const ga = g.startWindow();
      const m0 = readMachineBusyMs();
      const [ba, cpuA] = [await bp.request({ op: 'stats', meetingId: g.meetingId }), readCpuMs(bp.pid)];
      await sleep(o.seconds * 1000);
      const w = g.endWindow(ga);
      const [bb, cpuB] = [await bp.request({ op: 'stats', meetingId: g.meetingId }), readCpuMs(bp.pid)];
      const m1 = readMachineBusyMs();
      const machine = m0 !== undefined && m1 !== undefined ? (100 * (m1 - m0)) / 1000 / w.seconds : Number.NaN;
      return stepResult(forwarded, videoRate, g.offeredFor(videoRate), w, ba, bb, cpuA, cpuB, readRssKb(bp.pid), ceiling, machine, o.maxP50Ms);
    };

    const logStep = (i: number, s: StepResult): void =>
      log(
        `step ${i}: target ${fmtK(s.targetForwardedPps)} fwd/s (${round(s.videoPpsPerLayer)} pkt/s per layer) → offered ${fmtK(s.offeredPps)}, ` +
          `forwarded ${fmtK(s.forwardedPps)} (receivers ${fmtK(s.receivedPps)}), loss ${fmtPct(s.lossPercent)}, ` +
          `latency p50 ${s.latencyP50Ms.toFixed(2)} / p99 ${s.latencyP99Ms.toFixed(2)} ms, bridge CPU ${s.bridgeCpuPercent.toFixed(0)} % ` +
          `(${s.bridgeCpuUsPerForwarded.toFixed(2)} µs/pkt${s.bridgeSendUs !== undefined ? `, ${s.bridgeSendUs.toFixed(2)} µs in sendto` : ''}), generator CPU ${s.generatorCpuPercent.toFixed(0)} %` +
          `${s.pass ? '' : ' FAIL'}${s.notes.length ? ` [${s.notes.join('; ')}]` : ''}`,
      );

    const steps = result.steps;
    const runStep = async (forwarded: number): Promise<StepResult> => {
      if (bp.exitReason !== undefined) throw new Error(bp.exitReason);
      const s = await measure(forwarded);
      steps.push(s);
      logStep(steps.length, s);
      return s;
    };

    if (o.rate !== undefined) {
      const s = await runStep(o.rate);
      result.best = s.pass ? s : undefined;
      result.limit = s.pass ? 'single step (--rate)' : describeFailure(s);
    } else {
      let good: StepResult | undefined;
      let bad: StepResult | undefined;
      let rate = o.start;
      let retries = 2;
      // Repeated steps do not count against --max-steps.
      while (steps.length - (2 - retries) < o.maxSteps && !wasInterrupted()) {
        const s = await runStep(rate);
        if (!s.pass) {
          // Let the queues of an overloaded step drain before the next one.
          g.setRate(0);
          await sleep(700);
          if (s.contended && !s.generatorLimited && retries > 0) {
            retries--;
            log('repeating the step: other processes were using the machine');
            continue;
          }
        }
        if (s.pass) good = s;
        else bad = s;
        if (s.generatorLimited) break;
        if (bad === undefined) {
          rate = Math.round(rate * STEP_UP);
        } else if (good === undefined) {
          rate = Math.round(rate / 2);
          if (rate < 1000) break;
        } else {
          if (bad.targetForwardedPps / good.targetForwardedPps < 1.08) break;
          rate = Math.round(Math.sqrt(good.targetForwardedPps * bad.targetForwardedPps));
        }
      }
      result.best = good;
      if (bad !== undefined) result.limit = describeFailure(bad);
      else result.limit = `not reached within ${o.maxSteps} steps`;
    }

    if (o.cpuProfDir !== undefined && result.best !== undefined && !wasInterrupted()) {
      const path = join(o.cpuProfDir, `bridge-${sc.name}.cpuprofile`);
      await bp.request({ op: 'profileStart' });
      const s = await measure(result.best.targetForwardedPps);
      await bp.request({ op: 'profileStop', path });
      log(`profiled step at ${fmtK(s.targetForwardedPps)} fwd/s (bridge CPU ${s.bridgeCpuPercent.toFixed(0)} % with the profiler on) → ${path}`);
      result.profile = summarizeProfile(path);
    }
    g.stop();
    const last = await bp.request({ op: 'stats', meetingId: g.meetingId });
    result.keyframeRequests = last.keyframeRequests;
    const peak = readPeakRssKb(bp.pid);
    result.bridgePeakRssMiB = peak !== undefined ? peak / 1024 : undefined;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`FAILED: ${result.error}`);
  } finally {
    await gen?.close().catch((err: unknown) => log(`generator close failed: ${String(err)}`));
    await bridge?.stop().catch((err: unknown) => log(`bridge stop failed: ${String(err)}`));
  }
  return result;
}

function stepResult(
  forwarded: number,
  videoRate: number,
  targetOffered: number,
  w: WindowResult,
  ba: BridgeCounters,
  bb: BridgeCounters,
  cpuA: number | undefined,
  cpuB: number | undefined,
  rssKb: number | undefined,
  ceiling: Ceiling,
  machineCpuPercent: number,
  maxP50Ms: number,
): StepResult {
  const bridgeSeconds = (bb.atMs - ba.atMs) / 1000;
  const fwd = bb.rtpSent - ba.rtpSent;
  const cpuMs = cpuA !== undefined && cpuB !== undefined ? cpuB - cpuA : Number.NaN;
  const usPerPkt = fwd > 0 ? (cpuMs * 1000) / fwd : Number.NaN;
  const perCoreSecond = 1e6 / usPerPkt;
  const bridgeCpuPercent = (100 * cpuMs) / 1000 / bridgeSeconds;
  // /proc/stat and per-process times are sampled differently: small negative values mean "nothing else".
  const otherCpuPercent = Math.max(0, machineCpuPercent - bridgeCpuPercent - w.generatorCpuPercent);
  const notes: string[] = [];
  const underOffered = w.offeredPps < 0.97 * targetOffered;
  const generatorBusy = w.generatorCpuPercent >= GENERATOR_MAX_CPU_PERCENT;
  // What the bridge should have forwarded for what was actually offered.
  const expectedFwd = (forwarded * w.offeredPps) / targetOffered;
  const forwardedPps = fwd / bridgeSeconds;
  const keepingUp = forwardedPps >= 0.97 * expectedFwd && w.receivedPps >= 0.97 * expectedFwd;
  const latencyOk = w.latencyP50Ms <= maxP50Ms;
  const contended = otherCpuPercent > CONTENDED_CPU_PERCENT;
  if (!(w.lossPercent < MAX_LOSS_PERCENT)) notes.push(`loss ${fmtPct(w.lossPercent)}`);
  if (underOffered) notes.push(`generator behind: offered ${Math.round(w.offeredPps)}/${Math.round(targetOffered)} pkt/s`);
  if (generatorBusy) notes.push(`generator CPU ${w.generatorCpuPercent.toFixed(0)} %`);
  if (w.skipped > 0) notes.push(`generator stalled: ${w.skipped} packets skipped, longest tick gap ${w.maxTickGapMs.toFixed(0)} ms`);
  if (!keepingUp) notes.push(`not keeping up: ${Math.round(forwardedPps)} forwarded, ${Math.round(w.receivedPps)} received of ${Math.round(expectedFwd)} pkt/s`);
  if (!latencyOk) notes.push(`median latency ${w.latencyP50Ms.toFixed(0)} ms > ${maxP50Ms} ms (queues growing)`);
  if (contended) notes.push(`other processes used ${otherCpuPercent.toFixed(0)} % CPU`);
  if (w.silentStreams > 0) notes.push(`${w.silentStreams} receiver streams got nothing`);
  if (w.wrongLayer > 0) notes.push(`${w.wrongLayer} packets of the wrong layer`);
  if (w.badTrailer > 0) notes.push(`${w.badTrailer} packets with a bad trailer`);
  if (w.srtpErrors > 0) notes.push(`${w.srtpErrors} SRTP errors at receivers`);
  const bridgeDrops = {
    ...prefixed('mux:', diffCounts(ba.muxDrops, bb.muxDrops)),
    ...prefixed('transport:', diffCounts(ba.transportDrops, bb.transportDrops)),
    ...prefixed('', diffCounts(ba.pipelineDrops, bb.pipelineDrops)),
  };
  const pass =
    w.lossPercent < MAX_LOSS_PERCENT && keepingUp && latencyOk && w.silentStreams === 0 && w.wrongLayer === 0 && w.badTrailer === 0 && !underOffered;
  const generatorLimited = underOffered;
  return {
    targetForwardedPps: forwarded,
    videoPpsPerLayer: videoRate,
    targetOfferedPps: targetOffered,
    offeredPps: w.offeredPps,
    forwardedPps,
    receivedPps: w.receivedPps,
    lossPercent: w.lossPercent,
    lost: w.lost,
    expected: w.expected,
    latencyP50Ms: w.latencyP50Ms,
    latencyP99Ms: w.latencyP99Ms,
    latencyMaxMs: w.latencyMaxMs,
    latencySamples: w.latencySamples,
    bridgeCpuPercent,
    machineCpuPercent,
    otherCpuPercent,
    bridgeCpuUsPerForwarded: usPerPkt,
    ...(ba.sends && bb.sends && bb.sends.count > ba.sends.count
      ? { bridgeSendUs: (bb.sends.us - ba.sends.us) / (bb.sends.count - ba.sends.count) }
      : {}),
    forwardedPerCoreSecond: perCoreSecond,
    ceilingRatio: perCoreSecond / ceiling.srtpSession.packetsPerSecond,
    rawCeilingRatio: perCoreSecond / ceiling.rawNodeCrypto.packetsPerSecond,
    bridgeRssMiB: rssKb !== undefined ? rssKb / 1024 : Number.NaN,
    generatorCpuPercent: w.generatorCpuPercent,
    generatorMaxTickGapMs: w.maxTickGapMs,
    generatorLimited,
    generatorBusy,
    contended,
    pass,
    notes,
    bridgeDrops,
  };
}

function prefixed(prefix: string, r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [`${prefix}${k}`, v]));
}

function describeFailure(s: StepResult): string {
  const at = `${fmtK(s.targetForwardedPps)} fwd/s`;
  const cpus = `bridge CPU ${s.bridgeCpuPercent.toFixed(0)} %, generator CPU ${s.generatorCpuPercent.toFixed(0)} %`;
  const what = s.notes.filter((n) => !n.startsWith('generator CPU')).join('; ');
  if (s.generatorLimited) return `generator at ${at} (${cpus}): ${what}`;
  if (s.generatorBusy) return `bridge and generator both near saturation at ${at} (${cpus}; the machine has ${cpuCount()} CPUs): ${what}`;
  if (s.bridgeCpuPercent >= 90) return `bridge CPU at ${at} (${cpus}): ${what || `loss ${fmtPct(s.lossPercent)}`}`;
  return `${at} (${cpus}): ${what || `loss ${fmtPct(s.lossPercent)}`}`;
}

const fmtK = (n: number): string => (Number.isFinite(n) ? `${(n / 1000).toFixed(1)}k` : '-');
const fmtPct = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(3)} %` : '-');
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

function renderReport(results: readonly ScenarioResult[], ceiling: Ceiling): string {
  const parts: string[] = [];
  const rows: Row[] = [
    [
      'scenario (best loss-free step)',
      'offered pkt/s',
      'fwd pkt/s (bridge)',
      'fwd pkt/s (receivers)',
      'loss %',
      'lat p50 ms',
      'lat p99 ms',
      'bridge CPU %',
      'µs/fwd pkt',
      'fwd pkt/s per core',
      '× ceiling',
      'bridge RSS MiB',
      'gen CPU %',
    ],
  ];
  for (const s of results) {
    const b = s.best;
    if (b === undefined) {
      rows.push([`${s.name} (${s.endpoints} endpoints)`, s.error ? `error: ${s.error.split('\n')[0]}` : 'no loss-free step', '', '', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    rows.push([
      `${s.name} (${s.senders} senders × ${s.receivers} receivers)`,
      fmt(b.offeredPps, 0),
      fmt(b.forwardedPps, 0),
      fmt(b.receivedPps, 0),
      fmt(b.lossPercent, 3),
      fmt(b.latencyP50Ms, 2),
      fmt(b.latencyP99Ms, 2),
      fmt(b.bridgeCpuPercent, 0),
      fmt(b.bridgeCpuUsPerForwarded, 2),
      fmt(b.forwardedPerCoreSecond, 0),
      fmt(b.ceilingRatio, 2),
      fmt(b.bridgeRssMiB, 0),
      fmt(b.generatorCpuPercent, 0),
    ]);
  }
  parts.push(renderTable(rows));
  parts.push(
    `ceiling: SrtpSession unprotect + protect of a ${ceiling.sizeBytes}-byte packet = ${fmt(ceiling.srtpSession.unprotectUs + ceiling.srtpSession.protectUs, 2)} µs → ` +
      `${Math.round(ceiling.srtpSession.packetsPerSecond)} pkt/s per core (× ceiling = fwd pkt/s per core ÷ this); raw node:crypto cipher+hmac per packet: ` +
      `${Math.round(ceiling.rawNodeCrypto.packetsPerSecond)} pkt/s per core`,
  );
  for (const s of results) {
    const contended = s.steps.filter((t) => t.contended).length;
    parts.push(
      `${s.name}: limit: ${s.limit}; connect ${fmt(s.connectMs, 0)} ms; bridge RSS ${fmt(s.bridgeStartRssMiB ?? Number.NaN, 0)} MiB at start, ` +
        `${fmt(s.bridgePeakRssMiB ?? Number.NaN, 0)} MiB peak; keyframe requests ${s.keyframeRequests}` +
        (contended > 0 ? `\nWARNING: in ${contended} of ${s.steps.length} steps other processes used > ${CONTENDED_CPU_PERCENT} % CPU: these numbers are pessimistic` : ''),
    );
    if (s.steps.length > 0) {
      const sr: Row[] = [
        ['step', 'target fwd/s', 'offered/s', 'fwd/s bridge', 'fwd/s recv', 'loss %', 'p50 ms', 'p99 ms', 'bridge CPU %', 'µs/pkt', 'gen CPU %', 'other CPU %', 'ok'],
      ];
      s.steps.forEach((t, i) =>
        sr.push([
          String(i + 1),
          fmt(t.targetForwardedPps, 0),
          fmt(t.offeredPps, 0),
          fmt(t.forwardedPps, 0),
          fmt(t.receivedPps, 0),
          fmt(t.lossPercent, 3),
          fmt(t.latencyP50Ms, 2),
          fmt(t.latencyP99Ms, 2),
          fmt(t.bridgeCpuPercent, 0),
          fmt(t.bridgeCpuUsPerForwarded, 2),
          fmt(t.generatorCpuPercent, 0),
          fmt(t.otherCpuPercent, 0),
          t.pass ? 'yes' : t.generatorLimited ? 'gen' : t.generatorBusy ? 'no (gen busy)' : 'no',
        ]),
      );
      parts.push(renderTable(sr));
    }
    if (s.profile !== undefined) {
      const pr: Row[] = [['bridge self time (profiled step)', 'where', 'ms', '%']];
      for (const f of s.profile.functions) pr.push([f.name, f.where, fmt(f.selfMs, 0), fmt(f.percent, 1)]);
      parts.push(`${s.name}: CPU profile ${s.profile.path} (${fmt(s.profile.busyMs, 0)} ms busy of ${fmt(s.profile.wallMs, 0)} ms)\n${renderTable(pr)}`);
      const fr: Row[] = [['bridge self time by file', 'ms', '%']];
      for (const f of s.profile.files) fr.push([f.name, fmt(f.selfMs, 0), fmt(f.percent, 1)]);
      parts.push(renderTable(fr));
    }
  }
  return parts.join('\n\n');
}
