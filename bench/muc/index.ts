/**
 * `npm run bench -- muc [flags]`: MUC join / fan-out benchmark of our server vs. Prosody.
 *
 * For each selected target (started one at a time, each in its own process) runs the scenario
 * of scenario.ts, records the server's peak RSS (VmHWM) and CPU time from /proc, stops it, and
 * prints a comparison table (stdout; stderr with --json) plus, with --json, exactly one JSON
 * object on stdout. Exit code 1 if any non-skipped target failed.
 */
import { parseArgs } from 'node:util';
import { wasInterrupted } from '../lib/cleanup.js';
import { readCpuMs, readPeakRssKb, readRssKb } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { renderTable, type Row } from '../lib/table.js';
import { runMucLoad, type MucLoadMetrics, type MucLoadOptions } from './scenario.js';
import type { ProsodyGc } from './prosody.js';
import { TARGET_NAMES, startTarget, type TargetName, type TargetOptions } from './targets.js';
import { intFlag, parseOrUsage, UsageError } from '../lib/args.js';

export const description = 'MUC join + groupchat fan-out load (ours vs. Prosody)';

const USAGE = `usage: npm run bench -- muc [options]

  --target ours|prosody|both   servers to measure (default both)
  --occupants N                clients joining one room, 1..1000 (default 200)
  --messages M                 measured messages per sender (default: ~200k deliveries in
                               total, clamped to 5..200; 20 at 1000 occupants, 100 at 200)
  --senders S                  occupants that send (default 10)
  --window W                   max messages in flight, i.e. not yet delivered to all (default 4)
  --concurrency C              connect+auth+bind handshakes in flight (default 50)
  --join-window J              max joins awaiting self-presence; 0 = all at once (default 0)
  --join-timeout SEC           deadline for the join phase (default 60, grows with N² above
                               ~630 occupants: 150 at 1000)
  --prosody-gc MODE            Lua GC of the Prosody reference: generational (default, the
                               documented tuning) or incremental (Prosody 0.12's default)
  --phase-timeout SEC          deadline for connect, fan-out and leave phases (default 60)
  --json                       print one JSON object on stdout; human output goes to stderr
  --verbose                    forward server output to stderr
  -h, --help
`;

type TargetResult =
  | ({ ok: true; server: string; startRssKb?: number; peakRssKb?: number; serverCpuMs?: number; warnings?: string[] } & MucLoadMetrics)
  | { skipped: string }
  | ({
      ok: false;
      failed: string;
      server?: string;
      startRssKb?: number;
      peakRssKb?: number;
      serverCpuMs?: number;
      warnings?: string[];
    } & Partial<MucLoadMetrics>);

/** Metrics compared in the ratio column; `better` says which direction wins. */
const COMPARED = [
  { key: 'connectMs', label: 'connect+auth+bind (ms)', better: 'lower' },
  { key: 'joinAllMs', label: 'join-all (ms)', better: 'lower' },
  { key: 'deliveriesPerSec', label: 'fan-out deliveries/s', better: 'higher' },
  { key: 'p50Ms', label: 'fan-out latency p50 (ms)', better: 'lower' },
  { key: 'p99Ms', label: 'fan-out latency p99 (ms)', better: 'lower' },
  { key: 'leaveAllMs', label: 'leave-all (ms)', better: 'lower' },
  { key: 'startRssKb', label: 'server RSS when ready (MiB)', better: 'lower' },
  { key: 'peakRssKb', label: 'server peak RSS (MiB)', better: 'lower' },
  { key: 'serverCpuMs', label: 'server CPU, whole run (s)', better: 'lower' },
] as const;

type ComparedKey = (typeof COMPARED)[number]['key'];

export async function run(args: string[]): Promise<number> {
  const parsed = parseOrUsage(
    () =>
      parseArgs({
        args,
        allowPositionals: false,
        options: {
          target: { type: 'string', default: 'both' },
          occupants: { type: 'string' },
          messages: { type: 'string' },
          senders: { type: 'string' },
          window: { type: 'string' },
          concurrency: { type: 'string' },
          'join-window': { type: 'string' },
          'prosody-gc': { type: 'string', default: 'generational' },
          'join-timeout': { type: 'string' },
          'phase-timeout': { type: 'string' },
          json: { type: 'boolean', default: false },
          verbose: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      }).values,
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;

  let targets: TargetName[];
  let load: Omit<MucLoadOptions, 'log' | 'room'>;
  let prosodyGc: ProsodyGc;
  try {
    const t = parsed.target;
    if (t === 'both') targets = [...TARGET_NAMES];
    else if (t === 'ours' || t === 'prosody') targets = [t];
    else throw new UsageError(`--target must be ours, prosody or both (got ${t})`);
    const gc = parsed['prosody-gc'];
    if (gc !== 'generational' && gc !== 'incremental') throw new UsageError(`--prosody-gc must be generational or incremental`);
    prosodyGc = gc;
    const phaseMs = intFlag(parsed['phase-timeout'], 'phase-timeout', 60, 1, 3600) * 1000;
    const occupants = intFlag(parsed.occupants, 'occupants', 200, 1, 1000);
    const defaultJoinTimeout = Math.max(60, Math.round(150 * (occupants / 1000) ** 2));
    const senders = intFlag(parsed.senders, 'senders', 10, 1, 1000);
    // Enough messages for ~200k measured deliveries (20 per sender at 1000 occupants, 100 at 200).
    const defaultMessages = Math.min(200, Math.max(5, Math.round(200_000 / (occupants * Math.min(senders, occupants)))));
    load = {
      occupants,
      messagesPerSender: intFlag(parsed.messages, 'messages', defaultMessages, 1, 100_000),
      senders,
      window: intFlag(parsed.window, 'window', 4, 1, 10_000),
      joinWindow: intFlag(parsed['join-window'], 'join-window', 0, 0, 1000),
      connectConcurrency: intFlag(parsed.concurrency, 'concurrency', 50, 1, 1000),
      timeouts: {
        connectMs: phaseMs,
        joinMs: intFlag(parsed['join-timeout'], 'join-timeout', defaultJoinTimeout, 1, 3600) * 1000,
        fanoutMs: phaseMs,
        leaveMs: phaseMs,
      },
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 1;
  }

  const json = parsed.json;
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const senders = Math.min(load.senders, load.occupants);
  log(
    `muc bench: ${load.occupants} occupants, ${senders} senders × ${load.messagesPerSender} messages, ` +
      `window ${load.window}, join window ${load.joinWindow || 'all'}, targets: ${targets.join(', ')}`,
  );

  const results: Partial<Record<TargetName, TargetResult>> = {};
  for (const name of targets) {
    if (wasInterrupted()) break;
    results[name] = await measureTarget(name, load, {
      log: (l) => log(`[${name}] ${l}`),
      verbose: parsed.verbose,
      prosodyGc,
    });
  }

  if (wasInterrupted()) return 130;
  const ratios = computeRatios(results);
  const table = renderReport(load.occupants, results, ratios);
  if (json) {
    process.stderr.write(`\n${table}\n`);
    const out = {
      bench: 'muc',
      occupants: load.occupants,
      params: {
        senders,
        messagesPerSender: load.messagesPerSender,
        window: load.window,
        joinWindow: load.joinWindow,
        connectConcurrency: load.connectConcurrency,
        joinTimeoutMs: load.timeouts.joinMs,
        prosodyGc: targets.includes('prosody') ? prosodyGc : undefined,
      },
      targets: results,
      ratios,
      ratioNote: 'ours / prosody; deliveriesPerSec: higher is better; all others: lower is better',
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(`\n${table}\n`);
  }
  const failed = Object.values(results).some((r) => r && 'failed' in r);
  return failed ? 1 : 0;
}

async function measureTarget(
  name: TargetName,
  load: Omit<MucLoadOptions, 'log' | 'room'>,
  opts: TargetOptions,
): Promise<TargetResult> {
  let outcome;
  try {
    outcome = await startTarget(name, opts);
  } catch (err) {
    const reason = `failed to start: ${(err as Error).message}`;
    opts.log(reason);
    return { ok: false, failed: reason };
  }
  if (outcome.status === 'skipped') {
    opts.log(`${name}: ${outcome.reason} — skipped`);
    return { skipped: outcome.reason };
  }

  const server = outcome.server;
  try {
    const startRssKb = readRssKb(server.pid);
    const cpu0 = readCpuMs(server.pid);
    const res = await runMucLoad(server.endpoint, { ...load, room: 'benchroom', log: opts.log });
    const cpu1 = readCpuMs(server.pid);
    const peakRssKb = readPeakRssKb(server.pid);
    const serverCpuMs = cpu0 !== undefined && cpu1 !== undefined ? Math.round(cpu1 - cpu0) : undefined;
    for (const w of res.warnings) opts.log(`warning: ${w}`);
    const warnings = res.warnings.length ? res.warnings : undefined;
    if (res.error) {
      opts.log(`FAILED: ${res.error}`);
      return { ok: false, failed: res.error, server: server.description, ...res.metrics, startRssKb, peakRssKb, serverCpuMs, warnings };
    }
    return { ok: true, server: server.description, ...res.metrics, startRssKb, peakRssKb, serverCpuMs, warnings };
  } finally {
    await server.stop().catch((err: unknown) => opts.log(`stop failed: ${String(err)}`));
  }
}

function metricOf(r: TargetResult | undefined, key: ComparedKey): number | undefined {
  if (!r || !('ok' in r) || !r.ok) return undefined;
  const v = r[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function computeRatios(results: Partial<Record<TargetName, TargetResult>>): Partial<Record<ComparedKey, number>> {
  const ratios: Partial<Record<ComparedKey, number>> = {};
  for (const { key } of COMPARED) {
    const ours = metricOf(results.ours, key);
    const ref = metricOf(results.prosody, key);
    if (ours !== undefined && ref !== undefined && ref !== 0) ratios[key] = round(ours / ref, 2);
  }
  return ratios;
}

function renderReport(
  occupants: number,
  results: Partial<Record<TargetName, TargetResult>>,
  ratios: Partial<Record<ComparedKey, number>>,
): string {
  const cell = (name: TargetName, key: ComparedKey | 'occupants'): string => {
    const r = results[name];
    if (!r) return '-';
    if ('skipped' in r) return 'skipped';
    const v = key === 'occupants' ? occupants : r[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) return r.ok ? '-' : 'FAILED';
    if (key === 'peakRssKb' || key === 'startRssKb') return (v / 1024).toFixed(1);
    if (key === 'serverCpuMs') return (v / 1000).toFixed(2);
    return String(v);
  };
  const rows: Row[] = [['metric', 'ours', 'prosody', 'ours/prosody', 'better']];
  rows.push(['occupants', cell('ours', 'occupants'), cell('prosody', 'occupants'), '', '']);
  for (const { key, label, better } of COMPARED) {
    const ratio = ratios[key];
    rows.push([label, cell('ours', key), cell('prosody', key), ratio === undefined ? '-' : `${ratio}x`, better]);
  }
  const clientCpu = (name: TargetName): string => {
    const r = results[name];
    if (!r || !('ok' in r)) return '-';
    return `${r.joinClientCpuPct ?? '-'} / ${r.clientCpuPct ?? '-'}`;
  };
  rows.push(['load-client CPU join / fan-out (%)', clientCpu('ours'), clientCpu('prosody'), '', '']);

  const notes: string[] = [];
  for (const name of TARGET_NAMES) {
    const r = results[name];
    if (!r) continue;
    if ('skipped' in r) notes.push(`${name}: skipped — ${r.skipped}`);
    else if (!r.ok) notes.push(`${name}: FAILED — ${r.failed}`);
    for (const w of ('warnings' in r && r.warnings) || []) notes.push(`${name}: warning — ${w}`);
  }
  for (const name of TARGET_NAMES) {
    const r = results[name];
    if (r && 'ok' in r && ((r.clientCpuPct ?? 0) >= 85 || (r.joinClientCpuPct ?? 0) >= 85)) {
      notes.push(`${name}: the load client was near one full core, so that phase measured the client too (a lower bound for the server).`);
    }
  }
  notes.push('ratio = ours / prosody: for deliveries/s higher is better, for times, RSS and CPU lower is better.');
  return `${renderTable(rows)}\n${notes.join('\n')}`;
}
