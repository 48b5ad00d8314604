/**
 * Issue 6, media paths and connection: our web client in headless Chromium pages (one browser, a context per
 * person, fake camera and microphone) against the real server on loopback, with the embedded STUN server in
 * `/config.js` and a 1 s `backToP2PDelay`.
 *
 * - Two people are peer to peer: the selected ICE candidate pair (getStats candidate-pair + remote-candidate, read in
 *   the page) joins the two browsers, not the bridge's UDP port; both decode each other over the P2P connection and
 *   send nothing to the bridge; each tile shows a connection indicator.
 * - A third joins: P2P ends and all three get each other's media through the bridge; when the third leaves, the two
 *   go back to P2P.
 * - Reconnect: one page's XMPP connection is cut (as a network failure: the socket closes without a stream close);
 *   the page shows the banner, reconnects, rejoins under a new endpoint id, the banner goes, and media flows again.
 * - BOSH fallback: a page whose `/config.js` names a WebSocket URL the server refuses joins over BOSH.
 * - Every request of every page (HTTP and WebSocket) went to the server's own origin.
 *
 * Every wait polls a condition; there are no fixed sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../packages/server/src/index.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { othersIn, pageErrorsIn, personIn, pollUntil } from './web-pages.js';
import { startLoopbackServer } from './loopback-server.js';

const ROOM = 'web-client-p2p';
type Name = 'Alice' | 'Bob' | 'Carol' | 'Dave';
const POLL = { timeout: 20_000, interval: 50 };

interface Person {
  name: Name;
  page: Page;
  id: string;
  errors: string[];
}

interface InboundStats {
  participantId: string;
  sourceName: string;
  kind: 'audio' | 'video';
  path: 'jvb' | 'p2p';
  bytesReceived: number;
  framesDecoded?: number;
}

interface P2PInfo {
  active: boolean;
  state: string;
  peer?: string;
  initiator?: boolean;
  pair?: { local: { address: string; port: number; type: string }; remote: { address: string; port: number; type: string } };
}

interface Hook {
  view: string;
  endpointId: string | undefined;
  participants(): Array<{ id: string; displayName: string }>;
  stats(): Promise<InboundStats[]>;
  p2p(): Promise<P2PInfo | undefined>;
  bridgeBytesSent(): Promise<number>;
  connection(): { state: string; attempt: number; transport: 'websocket' | 'bosh' } | undefined;
  dropConnection(): void;
}
type HookHost = { __jitsiOne?: Hook };

let server: RunningServer;
let browser: Browser;
const people = new Map<Name, Person>();
const requests: string[] = [];

const person = (name: Name): Person => personIn(people, name);

const others = (name: Name): Person[] => othersIn(people, name);

const pageErrors = (): string => pageErrorsIn(people);

function bridgePort(): number {
  const port = server.bridge?.mux.port;
  if (port === undefined) throw new Error('no bridge');
  return port;
}

const stats = (p: Person): Promise<InboundStats[]> => p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.stats() ?? Promise.resolve([]));
const p2p = (p: Person): Promise<P2PInfo | undefined> => p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.p2p() ?? Promise.resolve(undefined));
const bridgeBytesSent = (p: Person): Promise<number> => p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.bridgeBytesSent() ?? Promise.resolve(0));
const connection = (p: Person): Promise<ReturnType<Hook['connection']>> => p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.connection());
const endpointId = async (p: Person): Promise<string> => (await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.endpointId)) ?? '';

const waitForAsync = (check: () => Promise<string | undefined>, timeoutMs?: number): Promise<void> => pollUntil(check, pageErrors, timeoutMs);

/**
 * Waits until each receiver decoded `minFrames` more video frames and got `minBytes` more audio bytes from each of
 * its senders, over `path` when given (counters of another connection start a new baseline).
 */
async function expectMediaFlowing(receivers: readonly Person[], senders: (r: Person) => readonly Person[], path?: 'jvb' | 'p2p', minFrames = 15, minBytes = 2000): Promise<void> {
  const key = (r: Person, id: string, st: InboundStats): string => `${r.name}<-${id}:${st.kind}:${st.path}`;
  const value = (st: InboundStats): number => (st.kind === 'video' ? (st.framesDecoded ?? 0) : st.bytesReceived);
  const base = new Map<string, number>();
  for (const r of receivers) for (const st of await stats(r)) base.set(key(r, st.participantId, st), value(st));
  await waitForAsync(async () => {
    for (const r of receivers) {
      const all = await stats(r);
      for (const s of senders(r)) {
        for (const kind of ['video', 'audio'] as const) {
          const st = all.find((x) => x.participantId === s.id && x.kind === kind && !x.sourceName.endsWith('-v1'));
          if (st === undefined) return `${r.name} has no ${kind} from ${s.name}: ${JSON.stringify(all)}`;
          if (path !== undefined && st.path !== path) return `${r.name} gets ${s.name}'s ${kind} over ${st.path}, not ${path}`;
          const grown = value(st) - (base.get(key(r, s.id, st)) ?? 0);
          const min = kind === 'video' ? minFrames : minBytes;
          if (grown < min) return `${r.name}: ${grown} new ${kind === 'video' ? 'frames' : 'audio bytes'} from ${s.name} over ${st.path}`;
        }
      }
    }
    return undefined;
  }, 30_000);
}

/**
 * Waits until the two are peer to peer on one candidate pair between the two browsers: each one's local candidate
 * is the other's remote one (the selected pair may move, e.g. from IPv4 to IPv6, before it settles), and neither
 * end is the bridge's port.
 */
async function expectP2P(a: Person, b: Person): Promise<void> {
  await waitForAsync(async () => {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const info = await p2p(x);
      if (info?.active !== true || info.peer !== y.id) return `${x.name} is not P2P with ${y.name}: ${JSON.stringify(info)}`;
      if (info.pair === undefined) return `${x.name} has no selected candidate pair yet`;
    }
    const [pa, pb] = [(await p2p(a))?.pair, (await p2p(b))?.pair];
    const same = pa !== undefined && pb !== undefined && pa.local.port === pb.remote.port && pa.remote.port === pb.local.port && pa.local.address === pb.remote.address;
    return same ? undefined : `the two selected pairs differ: ${JSON.stringify(pa)} / ${JSON.stringify(pb)}`;
  });
  for (const x of [a, b]) {
    const pair = (await p2p(x))?.pair;
    expect(pair?.remote.port, `${x.name}'s selected pair must not end on the bridge`).not.toBe(bridgePort());
    expect(pair?.local.port).not.toBe(bridgePort());
  }
  // The smaller endpoint id started the session (LJM's rule).
  expect((await p2p(a.id < b.id ? a : b))?.initiator).toBe(true);
}

/** Waits until the page sends nothing more to the bridge (P2P suspended its encodings). */
async function expectBridgeSuspended(p: Person): Promise<void> {
  let last = -1;
  let unchanged = 0;
  await waitForAsync(async () => {
    const now = await bridgeBytesSent(p);
    unchanged = now === last ? unchanged + 1 : 0;
    last = now;
    // Unchanged over five polls (≥ 0.5 s): at 30 fps video and 50 audio packets/s, nothing goes out.
    return unchanged >= 5 ? undefined : `${p.name} still sends to the bridge (${now} bytes)`;
  });
}

async function open(name: Name, url: string, opts: { configJs?: (js: string) => string } = {}): Promise<Person> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  const page = await context.newPage();
  const p: Person = { name, page, id: '', errors: [] };
  page.on('request', (req) => void requests.push(req.url()));
  page.on('websocket', (ws) => void requests.push(ws.url()));
  page.on('pageerror', (err) => void p.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') p.errors.push(msg.text());
  });
  const rewrite = opts.configJs;
  if (rewrite !== undefined) {
    await page.route('**/config.js', async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, body: rewrite(await res.text()) });
    });
  }
  await page.goto(url);
  return p;
}

async function join(name: Name, opts: { configJs?: (js: string) => string } = {}): Promise<Person> {
  const p = await open(name, `${server.url}${ROOM}`, opts);
  await p.page.getByLabel('Your name').fill(p.name);
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
  await waitForAsync(async () => {
    const view = await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.view);
    return view === 'meeting' ? undefined : `${p.name} is on view ${String(view)}`;
  });
  p.id = await endpointId(p);
  expect(p.id).toMatch(/^[0-9a-f]{8}$/);
  people.set(name, p);
  return p;
}

async function leave(p: Person): Promise<void> {
  await p.page.getByRole('button', { name: 'Leave meeting' }).click();
  await expect.poll(() => p.page.getByRole('heading', { name: 'You left the meeting.' }).isVisible(), POLL).toBe(true);
  people.delete(p.name);
  await p.page.context().close();
}

const suite = chromiumAvailable() ? describe : describe.skip;

suite('issue 6: P2P for two, the bridge from three, reconnect and BOSH in the web client', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    server = await startLoopbackServer({ stun: { enabled: true, port: 0, host: '127.0.0.1' }, web: { p2p: { backToP2PDelay: 1 } } });
    // The fake media UI answers getDisplayMedia too (a synthetic screen); the flag picks it.
    browser = await launchChromium({ extraArgs: ['--auto-select-desktop-capture-source=Entire screen'] });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('two people are peer to peer: a candidate pair between the browsers, media over it, nothing to the bridge', async () => {
    const alice = await join('Alice');
    const bob = await join('Bob');
    await expectP2P(alice, bob);
    await expectMediaFlowing([alice, bob], (r) => others(r.name), 'p2p');
    await expectBridgeSuspended(alice);
    await expectBridgeSuspended(bob);
    await expect.poll(() => alice.page.locator('.meeting-header .status').textContent(), POLL).toContain('Connected directly (peer to peer)');
    // The focus still keeps both on the bridge (§8: the JVB session continues, suspended).
    const conf = server.focus?.getConference(`${ROOM}@${server.mucDomain}`);
    expect(conf?.sources.has(alice.id) && conf.sources.has(bob.id)).toBe(true);
  });

  it('each tile shows a connection indicator with bitrate, packet loss and resolution', async () => {
    const alice = person('Alice');
    const bob = person('Bob');
    const indicator = alice.page.locator(`[data-endpoint="${bob.id}"] [data-indicator="connection"]`);
    await expect.poll(async () => Number(await indicator.getAttribute('data-kbps')), POLL).toBeGreaterThan(50);
    await expect.poll(() => indicator.getAttribute('data-resolution'), POLL).toMatch(/^\d+x\d+$/);
    expect(await indicator.getAttribute('data-path')).toBe('p2p');
    expect(await indicator.getAttribute('aria-label')).toMatch(/^Connection (good|fair|poor): receiving [\d.]+ (kbit|Mbit)\/s, [\d.]+ % packet loss, \d+×\d+, direct \(peer to peer\)$/);
    const own = alice.page.locator('[data-local="true"] [data-indicator="connection"]');
    await expect.poll(() => own.getAttribute('aria-label'), POLL).toMatch(/^Your connection (good|fair|poor): sending/);
  });

  it('a screen share goes peer to peer too (a second video source on a new m-line, source-add / source-remove)', async () => {
    const [alice, bob] = [person('Alice'), person('Bob')];
    await alice.page.getByRole('button', { name: 'Share your screen' }).click();
    const screen = bob.page.locator(`.tile[data-screen-of="${alice.id}"]`);
    await expect.poll(() => screen.count(), POLL).toBe(1);
    await waitForAsync(async () => {
      const st = (await stats(bob)).find((x) => x.sourceName === `${alice.id}-v1`);
      return st?.path === 'p2p' && (st.framesDecoded ?? 0) > 10 ? undefined : `Bob's view of Alice's screen: ${JSON.stringify(st)}`;
    });
    expect((await p2p(alice))?.active).toBe(true);
    await alice.page.getByRole('button', { name: 'Stop sharing your screen' }).click();
    await expect.poll(() => screen.count(), POLL).toBe(0);
    await expectMediaFlowing([bob], () => [alice], 'p2p');
  });

  it('a third person joins: P2P ends and all three get each other\'s media through the bridge', async () => {
    await join('Carol');
    const [alice, bob] = [person('Alice'), person('Bob')];
    await waitForAsync(async () => {
      for (const x of [alice, bob]) {
        const info = await p2p(x);
        if (info?.state !== 'none') return `${x.name} still has a P2P session: ${JSON.stringify(info)}`;
      }
      return undefined;
    });
    await expectMediaFlowing([...people.values()], (r) => others(r.name), 'jvb');
  });

  it('the third leaves: the two go back to P2P', async () => {
    await leave(person('Carol'));
    const [alice, bob] = [person('Alice'), person('Bob')];
    await expectP2P(alice, bob);
    await expectMediaFlowing([alice, bob], (r) => others(r.name), 'p2p');
  });

  it('a dropped connection shows the banner, reconnects, rejoins with a new session and media flows again', async () => {
    const [alice, bob] = [person('Alice'), person('Bob')];
    const before = bob.id;
    const banner = bob.page.getByRole('alert').filter({ hasText: 'The connection to the server was lost' });
    await bob.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.dropConnection());
    await expect.poll(() => banner.isVisible(), POLL).toBe(true);
    await waitForAsync(async () => ((await connection(bob))?.state === 'connected' ? undefined : `Bob: ${JSON.stringify(await connection(bob))}`));
    await expect.poll(() => banner.isVisible(), POLL).toBe(false);
    bob.id = await endpointId(bob);
    expect(bob.id).not.toBe(before);
    // Alice sees Bob's new occupant and not the old one; Bob sees Alice.
    await expect.poll(() => alice.page.locator(`[data-endpoint="${bob.id}"]`).count(), POLL).toBe(1);
    await expect.poll(() => alice.page.locator(`[data-endpoint="${before}"]`).count(), POLL).toBe(0);
    await expect.poll(() => bob.page.locator(`[data-endpoint="${alice.id}"]`).count(), POLL).toBe(1);
    await expectMediaFlowing([alice, bob], (r) => others(r.name));
    await expectP2P(alice, bob);
  });

  it('when the WebSocket cannot be opened the client joins over BOSH and gets media', async () => {
    // This page's /config.js names a WebSocket path the server refuses (404 on the upgrade).
    const dave = await join('Dave', { configJs: (js) => js.replace(/\/xmpp-websocket/g, '/no-xmpp-websocket') });
    expect((await connection(dave))?.transport).toBe('bosh');
    // The browser reports the refused WebSocket on the console; that is the expected failure, not a client error.
    dave.errors = dave.errors.filter((e) => !/no-xmpp-websocket|status of 404/.test(e));
    await expectMediaFlowing([...people.values()], (r) => others(r.name), 'jvb');
    const paths = new Set(requests.map((u) => new URL(u).pathname));
    expect(paths).toContain('/http-bind');
  });

  it("every request of every page went to the server's own origin, and no page reported an error", () => {
    const origin = new URL(server.url);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => new URL(u).host !== origin.host)).toEqual([]);
    expect(pageErrors()).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Interoperability: our client and lib-jitsi-meet peer to peer (needs LJM_BUNDLE, as test/ljm.test.ts)

const LJM_BUNDLE = process.env.LJM_BUNDLE;
const ljmSuite = chromiumAvailable() && LJM_BUNDLE !== undefined && LJM_BUNDLE !== '' ? describe : describe.skip;

/**
 * Runs in the LJM page: `harness.start({ room, testing })` connects over WebSocket, joins with camera and microphone
 * and P2P on (LJM's `testing.forceInitiator`/`forceResponder` pick the role); `harness.snapshot()` reports P2P state
 * and what arrives on the P2P connection.
 */
const LJM_HARNESS = `
(() => {
  const J = window.JitsiMeetJS;
  let connection, conference, tracks = [];
  const events = [];
  async function start(o) {
    const config = window.config;
    J.init({ ...config });
    J.setLogLevel(J.logLevels.WARN);
    connection = await new Promise((resolve, reject) => {
      const c = new J.JitsiConnection(null, null, { ...config, serviceUrl: config.websocket + '?room=' + encodeURIComponent(o.room) });
      c.addEventListener(J.events.connection.CONNECTION_ESTABLISHED, () => resolve(c));
      c.addEventListener(J.events.connection.CONNECTION_FAILED, (e) => reject(new Error('CONNECTION_FAILED ' + e)));
      c.connect();
    });
    tracks = await J.createLocalTracks({ devices: ['audio', 'video'] });
    conference = connection.initJitsiConference(o.room, { ...config, p2p: { ...config.p2p, enabled: true }, testing: o.testing });
    const C = J.events.conference;
    const joined = new Promise((resolve, reject) => {
      conference.on(C.CONFERENCE_JOINED, resolve);
      conference.on(C.CONFERENCE_FAILED, (e) => reject(new Error('CONFERENCE_FAILED ' + e)));
    });
    conference.on(C.P2P_STATUS, (_c, on) => events.push('p2p ' + on));
    conference.on(C.TRACK_ADDED, (t) => { if (!t.isLocal()) events.push('track ' + t.getParticipantId() + ' ' + t.getType() + ' p2p=' + t.isP2P); });
    for (const t of tracks) await conference.addTrack(t);
    conference.join();
    await joined;
    return conference.myUserId();
  }
  async function snapshot() {
    const pc = conference?.p2pJingleSession?.peerconnection?.peerconnection;
    const out = { p2pActive: conference?.isP2PActive() ?? false, initiator: conference?.p2pJingleSession?.isInitiator, frames: 0, audioBytes: 0, remotePort: undefined, events };
    if (!pc) return out;
    const all = [...(await pc.getStats()).values()];
    const byId = new Map(all.map((s) => [s.id, s]));
    const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport ? byId.get(transport.selectedCandidatePairId) : undefined;
    out.remotePort = pair ? byId.get(pair.remoteCandidateId)?.port : undefined;
    for (const s of all) {
      if (s.type !== 'inbound-rtp') continue;
      if (s.kind === 'video') out.frames += s.framesDecoded || 0;
      else out.audioBytes += s.bytesReceived || 0;
    }
    return out;
  }
  async function leave() {
    try { await conference?.leave(); } catch {}
    for (const t of tracks) { try { await t.dispose(); } catch {} }
    try { await connection?.disconnect(); } catch {}
  }
  window.harness = { start, snapshot, leave };
})();
`;

interface LjmSnapshot {
  p2pActive: boolean;
  initiator: boolean | undefined;
  frames: number;
  audioBytes: number;
  remotePort: number | undefined;
  events: string[];
}

ljmSuite('issue 6: our client and lib-jitsi-meet peer to peer', { timeout: 60_000 }, () => {
  let ljmServer: RunningServer;
  let ljmBrowser: Browser;

  beforeAll(async () => {
    ljmServer = await startLoopbackServer({ stun: { enabled: true, port: 0, host: '127.0.0.1' } });
    ljmBrowser = await launchChromium();
  });

  afterAll(async () => {
    await ljmBrowser?.close();
    await ljmServer?.stop();
  });

  /** LJM in a page of the server's origin (CSP bypassed for the injected bundle). */
  async function ljm(room: string, testing: Record<string, boolean>): Promise<{ page: Page; id: string; logs: string[]; snapshot: () => Promise<LjmSnapshot>; leave: () => Promise<void> }> {
    const context = await ljmBrowser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') logs.push(`[${m.type()}] ${m.text().slice(0, 300)}`);
    });
    await page.goto(`${ljmServer.url}privacy`);
    await page.addScriptTag({ url: '/config.js' });
    await page.addScriptTag({ path: LJM_BUNDLE as string });
    await page.addScriptTag({ content: LJM_HARNESS });
    const id = await page.evaluate((o) => (globalThis as unknown as { harness: { start(o: unknown): Promise<string> } }).harness.start(o), { room, testing });
    return {
      page,
      id,
      logs,
      snapshot: () => page.evaluate(() => (globalThis as unknown as { harness: { snapshot(): Promise<LjmSnapshot> } }).harness.snapshot()),
      leave: async () => {
        await page.evaluate(() => (globalThis as unknown as { harness: { leave(): Promise<void> } }).harness.leave()).catch(() => undefined);
        await context.close();
      },
    };
  }

  /** Our client, its /config.js carrying LJM's `testing` switches. */
  async function ours(room: string, testing: Record<string, boolean>): Promise<Person> {
    const context = await ljmBrowser.newContext({ viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    const p: Person = { name: 'Alice', page, id: '', errors: [] };
    page.on('pageerror', (err) => void p.errors.push(err.message));
    await page.route('**/config.js', async (route) => {
      const res = await route.fetch();
      const js = (await res.text()).replace(/^var config = /, `var config = Object.assign({ testing: ${JSON.stringify(testing)} }, `).replace(/;\s*$/, ');');
      await route.fulfill({ response: res, body: js });
    });
    await page.goto(`${ljmServer.url}${room}`);
    await page.getByLabel('Your name').fill('Ours');
    await page.getByRole('button', { name: 'Join meeting' }).click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.view), POLL).toBe('meeting');
    p.id = await endpointId(p);
    return p;
  }

  async function expectInterop(me: Person, peer: Awaited<ReturnType<typeof ljm>>, weInitiate: boolean): Promise<void> {
    const bridge = ljmServer.bridge?.mux.port;
    const base = await peer.snapshot();
    await waitForAsync(async () => {
      const [info, s, st] = [await p2p(me), await peer.snapshot(), await stats(me)];
      if (info?.active !== true || info.pair === undefined) return `our client is not P2P: ${JSON.stringify(info)}; LJM ${JSON.stringify(s)}`;
      if (!s.p2pActive) return `LJM is not P2P: ${JSON.stringify(s)}`;
      if (info.initiator !== weInitiate || s.initiator === weInitiate) return `roles: ours ${String(info.initiator)}, LJM ${String(s.initiator)}`;
      if (s.remotePort === bridge || info.pair.remote.port === bridge) return 'the P2P pair ends on the bridge';
      const video = st.find((x) => x.participantId === peer.id && x.kind === 'video');
      const audio = st.find((x) => x.participantId === peer.id && x.kind === 'audio');
      if (video?.path !== 'p2p' || (video.framesDecoded ?? 0) < 30 || (audio?.bytesReceived ?? 0) < 2000) return `we get from LJM: ${JSON.stringify(st)}`;
      if (s.frames - base.frames < 30 || s.audioBytes - base.audioBytes < 2000) return `LJM gets from us: ${JSON.stringify(s)}`;
      return undefined;
    }, 30_000);
    // LJM made remote tracks of ours on its P2P connection (it knew the owner and names of our sources).
    const tracks = (await peer.snapshot()).events.filter((e) => e.startsWith(`track ${me.id} `) && e.endsWith('p2p=true'));
    expect(tracks.map((e) => e.split(' ')[2]).sort()).toEqual(['audio', 'video']);
    expect(peer.logs.filter((l) => /error/i.test(l))).toEqual([]);
  }

  it('we offer, lib-jitsi-meet answers: both peer to peer, media both ways over the direct pair', async () => {
    const me = await ours('ljm-p2p-a', { forceInitiator: true });
    const peer = await ljm('ljm-p2p-a', { forceResponder: true });
    await expectInterop(me, peer, true);
    await peer.leave();
    await me.page.context().close();
    expect(me.errors).toEqual([]);
  });

  it('lib-jitsi-meet offers, we answer: both peer to peer, media both ways over the direct pair', async () => {
    const me = await ours('ljm-p2p-b', { forceResponder: true });
    const peer = await ljm('ljm-p2p-b', { forceInitiator: true });
    await expectInterop(me, peer, false);
    await peer.leave();
    await me.page.context().close();
    expect(me.errors).toEqual([]);
  });
});
