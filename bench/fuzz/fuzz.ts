/**
 * `npm run bench -- fuzz [--cases N] [--seed S] [--json]` (or `npx tsx bench/fuzz/fuzz.ts …`): the long fuzz run of
 * issue 7 (1,000,000 cases by default) over the same families as the test suite (packages/bridge/test/fuzz):
 *
 * - the pure parser families: RTP (+ header extensions, stripper), VP8 descriptors, compound RTCP (+ transport-cc),
 *   STUN, SRTP/SRTCP (4 profiles), bridge-channel JSON, DTLS records into real DTLS sessions;
 * - the media port on loopback UDP: datagrams from an unknown address through a real socket, and from the peers'
 *   verified addresses injected where the mux hands them to a transport, while media flows through the bridge;
 * - XML (packages/xmpp/test/fuzz): `xml`, mutated stanzas/stream headers/BOSH bodies through XmlStreamParser in
 *   random chunks; `xml-session`, fuzzed WebSocket connections into a live XmppServer, each followed by a ping
 *   from a healthy session (the server's error logs count as failures).
 *
 * Report: cases and cases/s per family, outcomes ("drops by reason") per family, the port's drop counters (mux,
 * transports, ICE), every exception or invariant violation with the seed, case and hex of the input (asynchronous
 * ones — uncaught exceptions, unhandled rejections, errors the mux caught and logged — with the most recent inputs),
 * whether forwarding still works afterwards, and the heap (after a full GC) before and after. Exit code 1 when
 * anything failed.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createBridgeCertificate } from '../../packages/bridge/src/transport/certificate.js';
import { DtlsFamily } from '../../packages/bridge/test/fuzz/dtls-family.js';
import { formatFailures, runFamily, type FamilyResult, type FuzzFailure } from '../../packages/bridge/test/fuzz/engine.js';
import { PARSER_FAMILIES, createParserFamily, type ParserFamilyName } from '../../packages/bridge/test/fuzz/families.js';
import { exposeGc, heapUsedAfterGc } from '../../packages/bridge/test/fuzz/gc.js';
import { PortHarness, counterDelta, type PortSnapshot, type StreamReport } from '../../packages/bridge/test/fuzz/port.js';
import { Watchdog } from '../../packages/bridge/test/fuzz/watchdog.js';
import { createXmlParserFamily, createXmlSessionFamily } from '../../packages/xmpp/test/fuzz/families.js';
import { renderTable, type Row } from '../lib/table.js';

export const description = 'fuzz 1,000,000 RTP/RTCP/STUN/SRTP/DTLS/VP8/JSON/XML inputs through the parsers, at the media port and into a live XMPP server';

const USAGE = `usage: npm run bench -- fuzz [options]   (or: npx tsx bench/fuzz/fuzz.ts [options])

  --cases N        total cases (default 1000000), split over the families by weight
  --seed S         run seed (default: random; printed, reuse it to replay)
  --only A,B       only these families (${[...PARSER_FAMILIES, 'dtls', 'port-unknown', 'port-verified', 'xml', 'xml-session'].join(', ')})
  --json           print one JSON object on stdout; the report goes to stderr
  -h, --help
`;

type FamilyName = ParserFamilyName | 'dtls' | 'port-unknown' | 'port-verified' | 'xml' | 'xml-session';

/** Share of the cases per family (cheap datagram parsers get most; zod and werift cost ~10× per case). */
const WEIGHTS: Record<FamilyName, number> = {
  rtp: 15,
  vp8: 10,
  rtcp: 15,
  stun: 12,
  srtp: 13,
  channel: 3,
  dtls: 4,
  'port-unknown': 14,
  'port-verified': 14,
  // Of 1,000,000: xml 128,205 and xml-session 17,094.
  xml: 15,
  'xml-session': 2,
};

const FAMILY_INDEX: Record<FamilyName, number> = {
  rtp: 0,
  vp8: 1,
  rtcp: 2,
  stun: 3,
  srtp: 4,
  channel: 5,
  dtls: 6,
  'port-unknown': 100,
  'port-verified': 101,
  xml: 7,
  'xml-session': 8,
};

interface AsyncError {
  kind: string;
  family: string;
  message: string;
  recentInputsHex: string[];
}

/** Splits `total` by weight over `names` (largest remainder; the sum is exactly `total`). */
function split(total: number, names: readonly FamilyName[]): Map<FamilyName, number> {
  const w = names.reduce((s, n) => s + WEIGHTS[n], 0);
  const raw = names.map((n) => (total * WEIGHTS[n]) / w);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((s, x) => s + x, 0);
  const order = raw.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    out[i] = (out[i] as number) + 1;
  }
  return new Map(names.map((n, i) => [n, out[i] as number]));
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en');
const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

function topOutcomes(o: Record<string, number>, limit = 14): string {
  return Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cases: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  const total = values.cases !== undefined ? Number(values.cases) : 1_000_000;
  if (!Number.isInteger(total) || total < 1) throw new TypeError('--cases must be a positive integer');
  const seed = (values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 0x1_0000_0000)) >>> 0;
  const all = Object.keys(WEIGHTS) as FamilyName[];
  const names = values.only !== undefined ? (values.only.split(',').map((s) => s.trim()) as FamilyName[]) : all;
  for (const n of names) if (!(n in WEIGHTS)) throw new TypeError(`unknown family ${n}`);
  const counts = split(total, names);
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  // Asynchronous failures: uncaught exceptions, unhandled rejections, and errors the mux caught and logged.
  const recent: string[] = [];
  const remember = (b: Uint8Array): void => {
    recent.push(Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex').slice(0, 4096));
    if (recent.length > 8) recent.shift();
  };
  let current = 'setup';
  const asyncErrors: AsyncError[] = [];
  const onAsync = (kind: string) => (err: unknown): void => {
    asyncErrors.push({ kind, family: current, message: err instanceof Error ? (err.stack ?? err.message) : String(err), recentInputsHex: [...recent] });
  };
  const onUncaught = onAsync('uncaughtException');
  const onRejection = onAsync('unhandledRejection');
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  const errorLogs: string[] = [];
  const portLog = pino({ level: 'error' }, { write: (line: string) => void errorLogs.push(line) });

  const gc = exposeGc();
  const heapBefore = gc !== undefined ? heapUsedAfterGc(gc) : process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  log(`fuzz: seed ${seed}, ${fmt(total)} cases (${[...counts].map(([n, c]) => `${n} ${fmt(c)}`).join(', ')})`);

  const watchdog = new Watchdog(Object.fromEntries(Object.entries(FAMILY_INDEX).map(([name, i]) => [i, name])));
  /** heapUsed after a full GC at the end of each family (shows where memory stays, and that it doesn't keep growing). */
  const heapCheckpoints: { after: string; heapBytes: number }[] = [];
  const checkpoint = (after: string): void => {
    if (gc !== undefined) heapCheckpoints.push({ after, heapBytes: heapUsedAfterGc(gc) });
  };
  const results: FamilyResult[] = [];
  const portReports: { name: string; report: StreamReport }[] = [];
  let portSummary: Record<string, unknown> | undefined;
  const t0 = performance.now();
  try {
    for (const name of PARSER_FAMILIES) {
      const n = counts.get(name);
      if (n === undefined || n === 0) continue;
      current = name;
      const family = createParserFamily(name, seed);
      const r = await runFamily(family, { seed, cases: n, familyIndex: FAMILY_INDEX[name], watchdog, onInput: remember });
      results.push(r);
      checkpoint(name);
      log(`  ${name}: ${fmt(n)} cases in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failureCount} failures`);
    }
    const nDtls = counts.get('dtls') ?? 0;
    if (nDtls > 0) {
      current = 'dtls';
      const family = await DtlsFamily.create(seed, await createBridgeCertificate(), await createBridgeCertificate());
      try {
        const r = await runFamily(family, { seed, cases: nDtls, familyIndex: FAMILY_INDEX.dtls, watchdog, yieldEvery: 64, onInput: remember });
        results.push(r);
        log(`  dtls: ${fmt(nDtls)} cases in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failureCount} failures`);
      } finally {
        family.close();
      }
      checkpoint('dtls');
    }
    const nXml = counts.get('xml') ?? 0;
    if (nXml > 0) {
      current = 'xml';
      const r = await runFamily(createXmlParserFamily(), { seed, cases: nXml, familyIndex: FAMILY_INDEX.xml, watchdog, onInput: remember });
      results.push(r);
      checkpoint('xml');
      log(`  xml: ${fmt(nXml)} cases in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failureCount} failures`);
    }
    const nXmlSession = counts.get('xml-session') ?? 0;
    if (nXmlSession > 0) {
      current = 'xml-session';
      const family = await createXmlSessionFamily();
      try {
        const r = await runFamily(family, { seed, cases: nXmlSession, familyIndex: FAMILY_INDEX['xml-session'], watchdog, yieldEvery: 64, onInput: remember });
        results.push(r);
        log(`  xml-session: ${fmt(nXmlSession)} connections in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failureCount} failures`);
      } finally {
        await family.close?.();
      }
      checkpoint('xml-session');
    }
    const nUnknown = counts.get('port-unknown') ?? 0;
    const nVerified = counts.get('port-verified') ?? 0;
    if (nUnknown + nVerified > 0) {
      current = 'port-setup';
      const h = await PortHarness.create({ bridgeCert: await createBridgeCertificate(), peerCert: await createBridgeCertificate(), seed, log: portLog });
      try {
        const before: PortSnapshot = h.snapshot();
        h.startBackgroundMedia();
        if (nUnknown > 0) {
          current = 'port-unknown';
          const r = await h.fuzzFromUnknownAddress(nUnknown, { seed, familyIndex: FAMILY_INDEX['port-unknown'], onDatagram: remember, watchdog });
          portReports.push({ name: 'port-unknown', report: r });
          checkpoint('port-unknown');
          log(`  port-unknown: ${fmt(nUnknown)} datagrams in ${(r.elapsedMs / 1000).toFixed(1)} s (${fmt(r.notReceived)} dropped by the kernel)`);
        }
        if (nVerified > 0) {
          current = 'port-verified';
          const r = await h.fuzzFromVerifiedAddress(nVerified, { seed, familyIndex: FAMILY_INDEX['port-verified'], onDatagram: remember, watchdog });
          portReports.push({ name: 'port-verified', report: r });
          checkpoint('port-verified');
          log(`  port-verified: ${fmt(nVerified)} datagrams in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failureCount} exceptions`);
        }
        h.stopBackgroundMedia();
        current = 'port-after';
        let forwarding: string;
        try {
          const ex = await h.exchange(200);
          forwarding = `ok: ${ex.rtp[0]}/200 and ${ex.rtp[1]}/200 RTP, ${ex.rtcp[0]}/50 and ${ex.rtcp[1]}/50 RTCP through the bridge`;
        } catch (err) {
          forwarding = `FAILED: ${err instanceof Error ? err.message : String(err)}`;
        }
        const after = h.snapshot();
        portSummary = {
          forwarding,
          transports: after.bridge.map((b, i) => ({
            state: b.state,
            samePair: b.selected === before.bridge[i]?.selected,
            pairs: b.pairs,
            drops: counterDelta(before.bridge[i]?.dropped ?? {}, b.dropped),
            ice: counterDelta(before.bridge[i]?.ice ?? {}, b.ice),
          })),
          peers: after.peers.map((p) => p.state),
          mux: counterDelta(before.mux.dropped as unknown as Record<string, number>, after.mux.dropped as unknown as Record<string, number>),
          muxDatagramsIn: after.mux.datagramsIn - before.mux.datagramsIn,
          repliesToUnknownAddress: after.repliesToUnknown,
          registrations: `${before.registrations} → ${after.registrations}`,
        };
      } finally {
        await h.close();
      }
      checkpoint('port closed');
    }
  } finally {
    await watchdog.stop();
  }
  const elapsedMs = performance.now() - t0;
  // Let late rejections surface before judging.
  await new Promise((r) => setTimeout(r, 200));
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  const heapAfter = gc !== undefined ? heapUsedAfterGc(gc) : process.memoryUsage().heapUsed;
  const rssAfter = process.memoryUsage().rss;

  // ----------------------------------------------------------------------------------------------- report
  const rows: Row[] = [['family', 'cases', 'seconds', 'cases/s', 'failures']];
  let done = 0;
  for (const r of results) {
    done += r.cases;
    rows.push([r.family, fmt(r.cases), (r.elapsedMs / 1000).toFixed(2), fmt(r.cases / (r.elapsedMs / 1000)), String(r.failureCount)]);
  }
  for (const { name, report } of portReports) {
    done += report.cases;
    rows.push([name, fmt(report.cases), (report.elapsedMs / 1000).toFixed(2), fmt(report.cases / (report.elapsedMs / 1000)), String(report.failureCount)]);
  }
  const failures = results.reduce((s, r) => s + r.failureCount, 0) + portReports.reduce((s, p) => s + p.report.failureCount, 0);
  rows.push(['total', fmt(done), (elapsedMs / 1000).toFixed(2), fmt(done / (elapsedMs / 1000)), String(failures)]);
  const handlerErrors = (portSummary?.mux as Record<string, number> | undefined)?.handlerError ?? 0;
  const forwardingOk = portSummary === undefined || (typeof portSummary.forwarding === 'string' && portSummary.forwarding.startsWith('ok'));
  const transportsOk =
    portSummary === undefined ||
    ((portSummary.transports as { state: string; samePair: boolean }[]).every((t) => t.state === 'connected' && t.samePair) && portSummary.repliesToUnknownAddress === 0);
  const ok = failures === 0 && asyncErrors.length === 0 && handlerErrors === 0 && errorLogs.length === 0 && forwardingOk && transportsOk;

  const lines: string[] = [];
  lines.push(`fuzz bench — seed ${seed}, ${fmt(done)} cases, node ${process.version}`, '', renderTable(rows), '', 'outcomes (drops by reason) per family:');
  for (const r of results) lines.push(`  ${r.family}: ${topOutcomes(r.outcomes)}`);
  for (const { name, report } of portReports) lines.push(`  ${name} inputs: ${topOutcomes(report.bySource)}`);
  if (portSummary !== undefined) {
    lines.push('', 'media port after the fuzz:');
    lines.push(`  forwarding: ${String(portSummary.forwarding)}`);
    lines.push(`  mux drops: ${topOutcomes(portSummary.mux as Record<string, number>, 20)}`);
    (portSummary.transports as { state: string; samePair: boolean; pairs: number; drops: Record<string, number>; ice: Record<string, number> }[]).forEach((t, i) => {
      lines.push(`  transport ${i}: ${t.state}, same pair ${t.samePair}, ${t.pairs} pair(s); drops: ${topOutcomes(t.drops, 20)}; ICE: ${topOutcomes(t.ice, 20)}`);
    });
    lines.push(`  sent to the unknown address: ${String(portSummary.repliesToUnknownAddress)}; mux registrations ${String(portSummary.registrations)}`);
  }
  lines.push('', `exceptions: ${failures === 0 && asyncErrors.length === 0 && handlerErrors === 0 && errorLogs.length === 0 ? 'none' : ''}`);
  if (failures > 0) lines.push(formatFailures(results), ...portReports.flatMap((p) => p.report.failures.map((f: FuzzFailure) => `[${p.name}] case ${f.caseIndex} (seed ${f.runSeed}): ${f.message}\n  input: ${f.inputHex}`)));
  for (const e of asyncErrors) lines.push(`[${e.kind} during ${e.family}] (seed ${seed}) ${e.message}\n  recent inputs:\n    ${e.recentInputsHex.join('\n    ')}`);
  if (handlerErrors > 0 || errorLogs.length > 0) lines.push(`mux handler errors: ${handlerErrors}; error logs:\n  ${errorLogs.slice(0, 5).join('\n  ')}`);
  if (heapCheckpoints.length > 0) {
    let prev = heapBefore;
    lines.push(`heap after GC at the end of each family: ${heapCheckpoints.map((c) => { const d = c.heapBytes - prev; prev = c.heapBytes; return `${c.after} ${mb(c.heapBytes)} (${d >= 0 ? '+' : ''}${mb(d)})`; }).join(', ')}`);
  }
  lines.push(`heap (after GC${gc === undefined ? ' unavailable: plain heapUsed' : ''}): before ${mb(heapBefore)}, after ${mb(heapAfter)} (${heapAfter >= heapBefore ? '+' : ''}${mb(heapAfter - heapBefore)}); rss ${mb(rssBefore)} → ${mb(rssAfter)}`);
  lines.push(`result: ${ok ? 'PASS' : 'FAIL'}`);
  const text = lines.join('\n');

  if (values.json) {
    log(`\n${text}`);
    const out = {
      bench: 'fuzz',
      node: process.version,
      seed,
      cases: done,
      elapsedMs: Math.round(elapsedMs),
      casesPerSecond: Math.round(done / (elapsedMs / 1000)),
      families: [
        ...results.map((r) => ({ family: r.family, cases: r.cases, elapsedMs: Math.round(r.elapsedMs), failures: r.failureCount, outcomes: r.outcomes })),
        ...portReports.map(({ name, report }) => ({ family: name, cases: report.cases, elapsedMs: Math.round(report.elapsedMs), failures: report.failureCount, inputs: report.bySource, notReceived: report.notReceived })),
      ],
      port: portSummary,
      failures: [...results.flatMap((r) => r.failures), ...portReports.flatMap((p) => p.report.failures)],
      asyncErrors,
      errorLogs,
      heap: { beforeBytes: heapBefore, afterBytes: heapAfter, afterGc: gc !== undefined, checkpoints: heapCheckpoints },
      rss: { beforeBytes: rssBefore, afterBytes: rssAfter },
      pass: ok,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(`\n${text}\n`);
  }
  return ok ? 0 : 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`fuzz bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
