/**
 * `npm run bench -- browser [flags]`: our web client in real browsers.
 *
 * Starts the server in this process (loopback, the embedded STUN server, `startServer` as the system tests do) and
 * three headless Chromium instances (Debian's chromium through playwright-core, fake camera and microphone:
 * test/browser.ts), one per person, so each browser's CPU is its own. Each round opens a fresh room; the three
 * browsers load the meeting page one after another, fill in a name and join through the UI, as a person would.
 *
 * Measured:
 * - time from page load (navigation start of the meeting page) to the first remote video frame rendered — the
 *   first `requestVideoFrameCallback` of a remote tile's `<video>`, its `presentationTime` — for the 2nd browser
 *   (from the 1st) and the 3rd (from both others: the later of the two), also counted from the click on "Join";
 * - with all three in the meeting, over a window of `--duration` seconds: each browser's CPU, from Chromium's own
 *   per-process accounting (CDP `SystemInfo.getProcessInfo`: browser, renderer, GPU, utility processes — audio and
 *   video capture included), as % of one core; and the bytes each receives and sends (RTP payload bytes from
 *   getStats through the client's debug hook).
 *
 * The exit code is 0 unless something broke (a browser got no remote frame in time). Human output goes to stdout,
 * or to stderr with --json, which prints exactly one JSON object on stdout.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { type RunningServer, startServer } from '../../packages/server/src/index.js';
import { chromiumAvailable, launchChromium } from '../../test/browser.js';
import { onCleanup, wasInterrupted } from '../lib/cleanup.js';
import { percentiles, round } from '../lib/stats.js';
import { renderTable, type Row } from '../lib/table.js';
import { intFlag, parseOrUsage, UsageError } from '../lib/args.js';

export const description =
  'web client in Chromium: page load → first remote frame (2nd, 3rd browser); CPU per browser and bytes received with three';

const USAGE = `usage: npm run bench -- browser [options]

  --rounds N        meetings whose join times are measured: a fresh room, three browsers joining one after
                    another (default 5)
  --duration SEC    length of the CPU and traffic window with three in the last meeting (default 20)
  --warmup SEC      wait after the third browser shows both others before the window starts (default 5)
  --timeout SEC     deadline for a browser to show a remote frame from everyone (default 30)
  --viewport WxH    browser window size (default 1280x720): tile sizes set the resolution each one receives
  --no-p2p          P2P off (then the first two also meet through the bridge)
  --json            print one JSON object on stdout; human output goes to stderr
                    (use npm run -s, or npm's banner lands on stdout too)
  -h, --help

The default run takes about a minute. The server runs in this process; the three browsers, the server and the
bench share the machine's cores (shown in the output).
`;

/**
 * Runs in every page before the client: records, per remote tile (endpoint id), when its video element first
 * presented a frame (`requestVideoFrameCallback` metadata, ms since the page's navigation start).
 */
const FRAME_PROBE = `
(() => {
  const frames = {};
  const seen = new WeakSet();
  window.__bench = { frames };
  const scan = () => {
    for (const v of document.querySelectorAll('figure.tile[data-endpoint] video')) {
      const fig = v.closest('figure');
      if (fig === null || fig.dataset.local === 'true' || seen.has(v)) continue;
      seen.add(v);
      const id = fig.dataset.endpoint;
      v.requestVideoFrameCallback((now, meta) => {
        if (frames[id] === undefined) frames[id] = typeof meta.presentationTime === 'number' ? meta.presentationTime : now;
      });
    }
  };
  setInterval(scan, 10);
})();
`;

interface HookHost {
  __bench?: { frames: Record<string, number> };
  __jitsiOne?: {
    view: string;
    endpointId: string | undefined;
    stats(): Promise<Array<{ bytesReceived: number; kind: string; participantId: string }>>;
    bridgeBytesSent(): Promise<number>;
    p2p(): Promise<{ active: boolean } | undefined>;
  };
}

interface Joined {
  page: Page;
  context: BrowserContext;
  id: string;
  /** ms since navigation start when "Join" was clicked. */
  clickAt: number;
}

/** One browser: its Chromium, and a CDP session for per-process CPU. */
interface Instance {
  browser: Browser;
  cdp: CDPSession;
}

interface CpuSample {
  /** Seconds of CPU by process type (summed over the processes of that type alive now). */
  byType: Record<string, number>;
}

async function cpuSample(i: Instance): Promise<CpuSample> {
  const { processInfo } = (await i.cdp.send('SystemInfo.getProcessInfo')) as { processInfo: Array<{ type: string; id: number; cpuTime: number }> };
  const byType: Record<string, number> = {};
  for (const p of processInfo) {
    const type = p.type === 'renderer' || p.type === 'browser' || p.type === 'GPU' ? p.type : 'utility';
    byType[type] = (byType[type] ?? 0) + p.cpuTime;
  }
  return { byType };
}

async function join(instance: Instance, url: string, name: string, viewport: { width: number; height: number }): Promise<Joined> {
  const context = await instance.browser.newContext({ viewport });
  const page = await context.newPage();
  await page.addInitScript({ content: FRAME_PROBE });
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  const button = page.getByRole('button', { name: 'Join meeting' });
  await button.waitFor();
  const clickAt = await page.evaluate(() => performance.now());
  await button.click();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const id = await page.evaluate(() => {
      const hook = (globalThis as unknown as HookHost).__jitsiOne;
      return hook?.view === 'meeting' ? hook.endpointId : undefined;
    });
    if (id !== undefined) return { page, context, id, clickAt };
    if (Date.now() > deadline) throw new Error(`${name} did not get into the meeting`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `p` rendered a frame from each of `from`; returns their times (ms since navigation start). */
async function firstFrames(p: Joined, from: readonly Joined[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frames = await p.page.evaluate(() => (globalThis as unknown as HookHost).__bench?.frames ?? {});
    const times = from.map((o) => frames[o.id]);
    if (times.every((t) => t !== undefined)) return times as number[];
    if (Date.now() > deadline) throw new Error(`no remote frame within ${timeoutMs} ms (have ${JSON.stringify(frames)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Dist {
  n: number;
  p50: number;
  max: number;
  min: number;
}

function dist(values: readonly number[]): Dist | undefined {
  if (values.length === 0) return undefined;
  const [p50, max, min] = percentiles(Float64Array.from(values), values.length, [50, 100, 0]);
  return { n: values.length, p50: round(p50 ?? NaN, 0), max: round(max ?? NaN, 0), min: round(min ?? NaN, 0) };
}

const fmt = (v: number | undefined, d = 0): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
const triple = (d: Dist | undefined): string => (d ? `${fmt(d.p50)} / ${fmt(d.min)} / ${fmt(d.max)}` : '–');

interface BrowserUsage {
  name: string;
  cpuPct: number;
  byTypePct: Record<string, number>;
  receivedKbps: number;
  receivedMB: number;
  sentToBridgeKbps: number;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseOrUsage(
    () =>
      parseArgs({
        args,
        allowPositionals: false,
        options: {
          rounds: { type: 'string' },
          duration: { type: 'string' },
          warmup: { type: 'string' },
          timeout: { type: 'string' },
          viewport: { type: 'string' },
          'no-p2p': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      }).values,
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  let rounds: number, durationS: number, warmupS: number, timeoutS: number;
  let viewport: { width: number; height: number };
  try {
    rounds = intFlag(parsed.rounds, 'rounds', 5, 1, 1000);
    durationS = intFlag(parsed.duration, 'duration', 20, 1, 3600);
    warmupS = intFlag(parsed.warmup, 'warmup', 5, 0, 600);
    timeoutS = intFlag(parsed.timeout, 'timeout', 30, 1, 600);
    const m = /^(\d+)x(\d+)$/.exec(parsed.viewport ?? '1280x720');
    if (m === null) throw new UsageError('--viewport must be WIDTHxHEIGHT');
    viewport = { width: Number(m[1]), height: Number(m[2]) };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 1;
  }
  if (!chromiumAvailable()) {
    process.stderr.write('Chromium is not installed (Debian package chromium, or set CHROMIUM)\n');
    return 1;
  }
  const p2p = !parsed['no-p2p'];
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`browser bench: ${rounds} meetings of three, then ${durationS} s with three; viewport ${viewport.width}x${viewport.height}, P2P ${p2p ? 'on' : 'off'}`);

  const server: RunningServer = await startServer({
    config: {
      http: { port: 0, host: '127.0.0.1', insecureHttp: true },
      xmpp: { c2s: { port: null } },
      log: { level: 'silent' },
      bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
      stun: { port: 0, host: '127.0.0.1' },
      web: { p2p: { enabled: p2p } },
    },
  });
  const instances: Instance[] = [];
  const unregister = onCleanup(
    'browser bench: browsers and server',
    async () => {
      await Promise.allSettled(instances.map((i) => i.browser.close()));
      await server.stop();
    },
    () => undefined,
  );
  const names = ['first', 'second', 'third'] as const;
  const second: number[] = [];
  const secondFromClick: number[] = [];
  const third: number[] = [];
  const thirdFromClick: number[] = [];
  const thirdEach: number[] = [];
  const failures: string[] = [];
  let usage: BrowserUsage[] = [];
  let windowS = 0;
  let version = '';
  try {
    for (let i = 0; i < 3; i++) {
      const browser = await launchChromium();
      instances.push({ browser, cdp: await browser.newBrowserCDPSession() });
    }
    version = instances[0]?.browser.version() ?? '';
    for (let r = 1; r <= rounds && !wasInterrupted(); r++) {
      const room = `bench-browser-${r}-${Math.random().toString(36).slice(2, 8)}`;
      const url = `${server.url}${room}`;
      const people: Joined[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const p = await join(instances[i] as Instance, url, names[i] as string, viewport);
          people.push(p);
          if (i === 0) continue;
          const times = await firstFrames(p, people.slice(0, i), timeoutS * 1000);
          const last = Math.max(...times);
          if (i === 1) {
            second.push(last);
            secondFromClick.push(last - p.clickAt);
          } else {
            third.push(last);
            thirdFromClick.push(last - p.clickAt);
            thirdEach.push(...times);
          }
        }
        log(`  meeting ${r}: 2nd ${fmt(second.at(-1))} ms, 3rd ${fmt(third.at(-1))} ms after page load`);
        if (r === rounds) {
          // Everyone shows both others, then the window.
          for (const p of people) await firstFrames(p, people.filter((o) => o !== p), timeoutS * 1000);
          await new Promise((res) => setTimeout(res, warmupS * 1000));
          const received = (p: Joined): Promise<number> =>
            p.page.evaluate(async () => ((await (globalThis as unknown as HookHost).__jitsiOne?.stats()) ?? []).reduce((a, s) => a + s.bytesReceived, 0));
          const sent = (p: Joined): Promise<number> => p.page.evaluate(async () => (await (globalThis as unknown as HookHost).__jitsiOne?.bridgeBytesSent()) ?? 0);
          const cpu0 = await Promise.all(instances.map(cpuSample));
          const rx0 = await Promise.all(people.map(received));
          const tx0 = await Promise.all(people.map(sent));
          const t0 = performance.now();
          await new Promise((res) => setTimeout(res, durationS * 1000));
          const cpu1 = await Promise.all(instances.map(cpuSample));
          const rx1 = await Promise.all(people.map(received));
          const tx1 = await Promise.all(people.map(sent));
          windowS = (performance.now() - t0) / 1000;
          usage = people.map((_, i): BrowserUsage => {
            const a = cpu0[i] as CpuSample;
            const b = cpu1[i] as CpuSample;
            const byTypePct: Record<string, number> = {};
            let total = 0;
            for (const type of new Set([...Object.keys(a.byType), ...Object.keys(b.byType)])) {
              // A process that ended inside the window loses its CPU; one that started counts from zero.
              const d = Math.max(0, (b.byType[type] ?? 0) - (a.byType[type] ?? 0));
              byTypePct[type] = round((d / windowS) * 100, 1);
              total += d;
            }
            const rx = (rx1[i] ?? 0) - (rx0[i] ?? 0);
            return {
              name: names[i] as string,
              cpuPct: round((total / windowS) * 100, 1),
              byTypePct,
              receivedKbps: round((rx * 8) / 1000 / windowS, 0),
              receivedMB: round(rx / 1e6, 2),
              sentToBridgeKbps: round((((tx1[i] ?? 0) - (tx0[i] ?? 0)) * 8) / 1000 / windowS, 0),
            };
          });
        }
      } catch (err) {
        failures.push(`meeting ${r}: ${err instanceof Error ? err.message : String(err)}`);
        log(`  meeting ${r} failed: ${failures.at(-1)}`);
      } finally {
        await Promise.allSettled(people.map((p) => p.context.close()));
      }
    }
  } finally {
    await Promise.allSettled(instances.map((i) => i.browser.close()));
    await server.stop();
    unregister();
  }
  if (wasInterrupted()) return 130;

  const results = {
    secondMs: dist(second),
    secondFromClickMs: dist(secondFromClick),
    thirdMs: dist(third),
    thirdFromClickMs: dist(thirdFromClick),
    thirdEachMs: dist(thirdEach),
  };
  const text = renderReport(results, usage, { rounds, windowS, viewport, p2p, version, failures });
  if (parsed.json) {
    process.stderr.write(`\n${text}\n`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'browser',
        params: { rounds, durationS, warmupS, timeoutS, viewport, p2p },
        environment: { chromium: version, cores: cpus().length },
        firstRemoteFrameMs: results,
        samples: { second: second.map((v) => round(v, 0)), third: third.map((v) => round(v, 0)) },
        threePersonMeeting: { windowS: round(windowS, 1), browsers: usage },
        failures,
        notes: [
          'first remote frame: requestVideoFrameCallback presentationTime of a remote tile, ms after the navigation start of the meeting page (or after the click on Join)',
          'CPU: CDP SystemInfo.getProcessInfo cpuTime summed over the browser\'s processes, % of one core',
          'bytes: RTP payload bytes from getStats (inbound-rtp bytesReceived; outbound-rtp bytesSent on the bridge connection)',
        ],
      })}\n`,
    );
  } else {
    process.stdout.write(`\n${text}\n`);
  }
  return failures.length > 0 ? 1 : 0;
}

function renderReport(
  r: { secondMs?: Dist | undefined; secondFromClickMs?: Dist | undefined; thirdMs?: Dist | undefined; thirdFromClickMs?: Dist | undefined; thirdEachMs?: Dist | undefined },
  usage: readonly BrowserUsage[],
  extra: { rounds: number; windowS: number; viewport: { width: number; height: number }; p2p: boolean; version: string; failures: readonly string[] },
): string {
  const times: Row[] = [
    ['first remote video frame rendered, ms (p50 / min / max)', 'after page load', 'after "Join"'],
    [`2nd browser, from the 1st (${r.secondMs?.n ?? 0} meetings)`, triple(r.secondMs), triple(r.secondFromClickMs)],
    [`3rd browser, from both others (the later one; ${r.thirdMs?.n ?? 0} meetings)`, triple(r.thirdMs), triple(r.thirdFromClickMs)],
    ['3rd browser, from each other (one sample per other)', triple(r.thirdEachMs), ''],
  ];
  const types = [...new Set(usage.flatMap((u) => Object.keys(u.byTypePct)))].sort();
  const meeting: Row[] = [
    [`three in a meeting, ${fmt(extra.windowS, 1)} s`, 'CPU', ...types.map((t) => `  ${t}`), 'received kbit/s', 'received MB', 'sent to bridge kbit/s'],
    ...usage.map((u): Row => [
      `${u.name} browser`,
      `${fmt(u.cpuPct, 1)} %`,
      ...types.map((t) => `${fmt(u.byTypePct[t], 1)} %`),
      fmt(u.receivedKbps),
      fmt(u.receivedMB, 2),
      fmt(u.sentToBridgeKbps),
    ]),
  ];
  const notes = [
    `Chromium ${extra.version} headless, fake camera and microphone, viewport ${extra.viewport.width}x${extra.viewport.height}, P2P ${extra.p2p ? 'on' : 'off'};`,
    `${cpus().length} cores shared by the three browsers, the server and the bench. CPU is % of one core (CDP`,
    'SystemInfo.getProcessInfo, all processes of the browser); bytes are RTP payload bytes from getStats.',
  ];
  const odd = extra.failures.length > 0 ? ['', `${extra.failures.length} failures:`, ...extra.failures.map((f) => `  ${f}`)] : [];
  return [renderTable(times), '', renderTable(meeting), '', ...notes, ...odd].join('\n');
}
