/**
 * Issue 6: our own web client (packages/web/client), served by the server, in three headless Chromium pages (one
 * browser, three contexts, fake camera and microphone) against the real server on loopback.
 *
 * Everything goes through the UI: the first person starts the meeting from `/`, the others open `/<room>`; each
 * fills in a name on the pre-join screen and joins. Assertions read the DOM and the client's debug hook
 * (`(globalThis as unknown as HookHost).__jitsiOne`: getStats of its bridge connection): each page shows two remote videos whose decoded frames
 * keep rising, receives audio, sees mute indicators, and loses a tile when someone leaves. Every request of every page
 * (HTTP and WebSocket) is recorded and must go to the server's own origin. A screenshot of the three-person meeting
 * is kept in test-artifacts/. Every wait polls a condition; there are no fixed sleeps.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../packages/server/src/index.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { waitFor } from './participant.js';
import { othersIn, pageErrorsIn, personIn, pollUntil } from './web-pages.js';
import { startLoopbackServer } from './loopback-server.js';

const ROOM = 'web-client-three';
const NAMES = ['Alice', 'Bob', 'Carol'] as const;
type Name = (typeof NAMES)[number];
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);
/** For `expect.poll` on the DOM (its default of 1 s is short on a loaded machine). */
const POLL = { timeout: 15_000, interval: 50 };

interface Person {
  name: Name;
  page: Page;
  /** Endpoint id (MUC nick), known once joined. */
  id: string;
  /** Console errors and page errors. */
  errors: string[];
}

/** What `(globalThis as unknown as HookHost).__jitsiOne.stats()` returns per remote source. */
interface InboundStats {
  participantId: string;
  sourceName: string;
  kind: 'audio' | 'video';
  /** The connection it arrives on (two people go peer to peer after `backToP2PDelay`; counters restart). */
  path: 'jvb' | 'p2p';
  bytesReceived: number;
  framesDecoded?: number;
}

interface Hook {
  view: string;
  outboundVideo(): Promise<Array<{ ssrc: number; framesEncoded: number; frameHeight: number; bytesSent: number }>>;
  endpointId: string | undefined;
  participants(): Array<{ id: string; displayName: string; audioMuted: boolean; videoMuted: boolean }>;
  stats(): Promise<InboundStats[]>;
  videos(): Array<{ id: string; playing: boolean; width: number; height: number }>;
}

/** The page's global object as the client's debug hook extends it (the root project has no DOM types). */
type HookHost = { __jitsiOne?: Hook };

let server: RunningServer;
let browser: Browser;
const people = new Map<Name, Person>();
/** Every URL any page requested (HTTP and WebSocket). */
const requests: string[] = [];

const person = (name: Name): Person => personIn(people, name);

const others = (name: Name): Person[] => othersIn(people, name);

const pageErrors = (): string => pageErrorsIn(people);

async function stats(p: Person): Promise<InboundStats[]> {
  return p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.stats() ?? Promise.resolve([]));
}

/** Polls an async check (the page round trip makes `waitFor`'s synchronous check unsuitable). */
const waitForAsync = (check: () => Promise<string | undefined>, timeoutMs?: number): Promise<void> => pollUntil(check, pageErrors, timeoutMs);

/**
 * Waits until, for each page in `receivers`, the decoded frames of every sender's video and the received audio
 * bytes have risen by at least `minFrames` / `minBytes` over a baseline taken now.
 */
async function expectMediaFlowing(receivers: readonly Person[], senders: (r: Person) => readonly Person[], opts = { minFrames: 15, minBytes: 2000 }): Promise<void> {
  const key = (r: Person, s: Person, kind: string, path: string | undefined): string => `${r.name}<-${s.name}:${kind}:${path ?? ''}`;
  const base = new Map<string, number>();
  for (const r of receivers) {
    for (const st of await stats(r)) {
      const s = [...people.values()].find((x) => x.id === st.participantId);
      if (s !== undefined) base.set(key(r, s, st.kind, st.path), st.kind === 'video' ? (st.framesDecoded ?? 0) : st.bytesReceived);
    }
  }
  await waitForAsync(async () => {
    for (const r of receivers) {
      const all = await stats(r);
      for (const s of senders(r)) {
        const v = all.find((x) => x.participantId === s.id && x.kind === 'video');
        const a = all.find((x) => x.participantId === s.id && x.kind === 'audio');
        const frames = (v?.framesDecoded ?? 0) - (base.get(key(r, s, 'video', v?.path)) ?? 0);
        const bytes = (a?.bytesReceived ?? 0) - (base.get(key(r, s, 'audio', a?.path)) ?? 0);
        if (frames < opts.minFrames) return `${r.name} decoded ${frames} new frames from ${s.name}: ${JSON.stringify(all)}`;
        if (bytes < opts.minBytes) return `${r.name} received ${bytes} new audio bytes from ${s.name}: ${JSON.stringify(all)}`;
      }
    }
    return undefined;
  }, 30_000);
}

async function open(name: Name, url: string): Promise<Person> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  const page = await context.newPage();
  const p: Person = { name, page, id: '', errors: [] };
  page.on('request', (req) => void requests.push(req.url()));
  page.on('websocket', (ws) => void requests.push(ws.url()));
  page.on('pageerror', (err) => void p.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') p.errors.push(msg.text());
  });
  await page.goto(url);
  return p;
}

/** Pre-join screen → meeting. */
async function joinFromPrejoin(p: Person, opts: { cameraOff?: boolean } = {}): Promise<void> {
  await p.page.getByLabel('Your name').fill(p.name);
  if (opts.cameraOff === true) await p.page.getByLabel('Join with camera off').check();
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
  await waitForAsync(async () => {
    const view = await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.view);
    return view === 'meeting' ? undefined : `${p.name} is on view ${String(view)}`;
  });
  p.id = (await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.endpointId)) ?? '';
  expect(p.id).toMatch(/^[0-9a-f]{8}$/);
  people.set(p.name, p);
}

const suite = chromiumAvailable() ? describe : describe.skip;

suite('issue 6: the web client in three browsers', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    server = await startLoopbackServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the first person starts the meeting from the home page, two more open its link; all join through the pre-join screen', async () => {
    const alice = await open('Alice', server.url);
    await alice.page.getByLabel('Meeting name').fill(ROOM);
    await alice.page.getByRole('button', { name: 'Start meeting' }).click();
    await alice.page.waitForURL(`${server.url}${ROOM}`);
    await joinFromPrejoin(alice);
    await joinFromPrejoin(await open('Bob', `${server.url}${ROOM}`));
    // Carol joins with her camera off: no video source until she turns it on (then source-add, below).
    await joinFromPrejoin(await open('Carol', `${server.url}${ROOM}`), { cameraOff: true });

    // Everyone lists the two others, with their names on the tiles.
    await waitForAsync(async () => {
      for (const p of people.values()) {
        const seen = await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.participants() ?? []);
        for (const o of others(p.name)) {
          if (!seen.some((x) => x.id === o.id && x.displayName === o.name)) return `${p.name} does not list ${o.name}: ${JSON.stringify(seen)}`;
        }
      }
      return undefined;
    });
    for (const p of people.values()) {
      for (const o of others(p.name)) {
        await expect.poll(() => p.page.locator(`[data-endpoint="${o.id}"] figcaption`).textContent(), POLL).toContain(o.name);
      }
    }
    expect(server.xmpp.muc.rooms.get(`${ROOM}@${server.mucDomain}`)?.occupants.size).toBe(4); // three and the focus
  });

  it('someone who joined with the camera off shows as camera-off, and turning it on adds the video source', async () => {
    const carol = person('Carol');
    for (const o of others('Carol')) {
      await expect.poll(() => o.page.locator(`[data-endpoint="${carol.id}"] [data-indicator="camera-off"]`).isVisible(), POLL).toBe(true);
    }
    await carol.page.getByRole('button', { name: 'Turn camera on' }).click();
    for (const o of others('Carol')) {
      await expect.poll(() => o.page.locator(`[data-endpoint="${carol.id}"] [data-indicator="camera-off"]`).isVisible(), POLL).toBe(false);
    }
  });

  it('each page shows two remote videos that are playing and receives audio from both others', async () => {
    await expectMediaFlowing([...people.values()], (r) => others(r.name));
    for (const p of people.values()) {
      await waitForAsync(async () => {
        const videos = await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.videos() ?? []);
        const remote = videos.filter((v) => v.id !== 'local' && v.playing);
        return remote.length === 2 ? undefined : `${p.name} has ${remote.length} playing remote videos: ${JSON.stringify(videos)}`;
      });
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await person('Alice').page.screenshot({ path: new URL('web-client-three-people.png', ARTIFACTS).pathname });
  });

  it('each camera is sent as three VP8 simulcast layers, announced to the focus as a SIM group with RTX (FID) per layer', async () => {
    const conference = server.focus?.getConference(`${ROOM}@${server.mucDomain}`);
    for (const p of people.values()) {
      const set = conference?.sources.get(p.id);
      const sim = set?.groups.find((g) => g.semantics === 'SIM');
      expect(sim?.ssrcs.length, `${p.name}'s SIM group`).toBe(3);
      for (const ssrc of sim?.ssrcs ?? []) {
        expect(set?.groups.some((g) => g.semantics === 'FID' && g.ssrcs[0] === ssrc), `${p.name}: FID for layer ${ssrc}`).toBe(true);
      }
      expect(set?.sources.filter((s) => s.mediaType === 'video').every((s) => s.name === `${p.id}-v0`)).toBe(true);
      expect(set?.sources.some((s) => s.mediaType === 'audio' && s.name === `${p.id}-a0`)).toBe(true);
      // The browser encodes on exactly the announced SSRCs; the fake 720p camera gives at least two live layers.
      await waitForAsync(async () => {
        const out = await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.outboundVideo() ?? Promise.resolve([]));
        const unknown = out.filter((o) => !sim?.ssrcs.includes(o.ssrc));
        const live = out.filter((o) => o.framesEncoded > 0);
        if (unknown.length > 0) return `${p.name} sends on unannounced SSRCs: ${JSON.stringify(out)} vs ${JSON.stringify(sim)}`;
        return live.length >= 2 ? undefined : `${p.name} encodes ${live.length} layers: ${JSON.stringify(out)}`;
      });
    }
  });

  it('muting the camera and microphone shows the indicators on the others\' tiles; unmuting restores the video', async () => {
    const bob = person('Bob');
    await bob.page.getByRole('button', { name: 'Turn camera off' }).click();
    await bob.page.getByRole('button', { name: 'Mute microphone' }).click();
    for (const o of others('Bob')) {
      const tile = o.page.locator(`[data-endpoint="${bob.id}"]`);
      await expect.poll(() => tile.locator('[data-indicator="camera-off"]').isVisible(), POLL).toBe(true);
      await expect.poll(() => tile.locator('[data-indicator="mic-off"]').isVisible(), POLL).toBe(true);
      await expect.poll(() => tile.getAttribute('data-video-muted'), POLL).toBe('true');
    }
    await bob.page.getByRole('button', { name: 'Turn camera on' }).click();
    await bob.page.getByRole('button', { name: 'Unmute microphone' }).click();
    for (const o of others('Bob')) {
      const tile = o.page.locator(`[data-endpoint="${bob.id}"]`);
      await expect.poll(() => tile.locator('[data-indicator="camera-off"]').isVisible(), POLL).toBe(false);
      await expect.poll(() => tile.locator('[data-indicator="mic-off"]').isVisible(), POLL).toBe(false);
    }
    // The camera came back on the same SSRCs: the others decode Bob's video again.
    await expectMediaFlowing(others('Bob'), () => [bob]);
  });

  it('leaving removes the tile on the other pages, and the two left keep their media', async () => {
    const carol = person('Carol');
    await carol.page.getByRole('button', { name: 'Leave meeting' }).click();
    await expect.poll(() => carol.page.getByRole('heading', { name: 'You left the meeting.' }).isVisible(), POLL).toBe(true);
    people.delete('Carol');
    for (const p of people.values()) {
      await expect.poll(() => p.page.locator(`[data-endpoint="${carol.id}"]`).count(), POLL).toBe(0);
      await expect.poll(() => p.page.locator('.tiles .tile').count(), POLL).toBe(2);
    }
    await waitFor(() => (server.xmpp.muc.rooms.get(`${ROOM}@${server.mucDomain}`)?.getOccupant(carol.id) ? 'Carol is still in the room' : undefined));
    await expectMediaFlowing([...people.values()], (r) => others(r.name));
  });

  it('every request of every page went to the server\'s own origin, and no page reported an error', () => {
    const origin = new URL(server.url);
    expect(requests.length).toBeGreaterThan(0);
    const foreign = requests.filter((u) => new URL(u).host !== origin.host);
    expect(foreign).toEqual([]);
    // The pages loaded the client from the server: page, config, bundle, styles; and opened XMPP and colibri-ws.
    const paths = new Set(requests.map((u) => new URL(u).pathname));
    for (const p of ['/', `/${ROOM}`, '/config.js', '/static/app.js', '/static/app.css', '/xmpp-websocket']) expect(paths).toContain(p);
    expect([...paths].some((p) => p.startsWith('/colibri-ws/'))).toBe(true);
    expect(pageErrors()).toBe('');
  });
});
