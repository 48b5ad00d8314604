/**
 * Issue 6, meeting features of our web client (packages/web/client) in three headless Chromium pages against the real
 * server on loopback, all through the UI: keyboard-only join, group and private chat with the unread count, raised
 * hands, moderator actions (mute through the focus, grant moderator, kick; none offered to non-moderators; a refused
 * action shows its error), screen share as its own tile on stage, stage view with high/low receive heights, a
 * phone-sized window, what the browser keeps (local storage keys, no cookies), recent rooms switched off by the server,
 * and that every request goes to the server's origin. A screenshot of the meeting is kept in test-artifacts/.
 *
 * Alice joins first and is the moderator (the focus's auto-owner); Bob and Carol join with cameras off (less CPU);
 * Carol uses a 390×844 window. Every wait polls a condition; there are no fixed sleeps. (Mute indicators for self-mute are covered in test/web-client.test.ts.)
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type RunningServer, startServer } from '../packages/server/src/index.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { othersIn, pageErrorsIn, personIn, pollUntil } from './web-pages.js';

const ROOM = 'web-client-features';
const NAMES = ['Alice', 'Bob', 'Carol'] as const;
type Name = (typeof NAMES)[number];
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);
const POLL = { timeout: 15_000, interval: 50 };
/** What the client may keep in local storage (client/src/storage.ts STORAGE_KEYS). */
const ALLOWED_KEYS = ['jitsi-one.userId', 'jitsi-one.displayName', 'jitsi-one.joinOptions', 'jitsi-one.recentRooms', 'jitsi-one.devices', 'jitsi-one.ui'];

interface Person {
  name: Name;
  context: BrowserContext;
  page: Page;
  id: string;
  errors: string[];
}

interface Hook {
  view: string;
  endpointId: string | undefined;
  participants(): Array<{ id: string; displayName: string; audioMuted: boolean; role: string | undefined; raisedHand: number; screenSharing: boolean }>;
  local(): { role: string | undefined; handRaised: boolean; screenSharing: boolean; audioMuted: boolean; audioTrackEnabled: boolean | undefined } | undefined;
  receiverConstraints(): { heights: Record<string, number>; onStage: string[] } | undefined;
  stats(): Promise<Array<{ participantId: string; sourceName: string; kind: string; framesDecoded?: number; bytesReceived?: number }>>;
}
type HookHost = { __jitsiOne?: Hook };

/** The little of the page's DOM the checks use (the root project has no DOM types): `globalThis as unknown as Dom`. */
interface DomElement {
  id: string;
  hidden: boolean;
  textContent: string | null;
  outerHTML: string;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  closest(selector: string): DomElement | null;
  querySelector(selector: string): DomElement | null;
  getBoundingClientRect(): { left: number; right: number; bottom: number; width: number };
}
interface Dom {
  document: {
    activeElement: DomElement | null;
    cookie: string;
    documentElement: { scrollWidth: number };
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): ArrayLike<DomElement>;
  };
  localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; length: number; key(i: number): string | null };
  sessionStorage: { length: number };
  getComputedStyle(el: DomElement): { outlineStyle: string };
}
interface DomVideo {
  videoWidth: number;
  paused: boolean;
}

let server: RunningServer;
let browser: Browser;
const people = new Map<Name, Person>();
const requests: string[] = [];
const servers: RunningServer[] = [];

const person = (name: Name): Person => personIn(people, name);

const others = (name: Name): Person[] => othersIn(people, name);

const pageErrors = (): string => pageErrorsIn(people);

const waitForAsync = (check: () => Promise<string | undefined>, timeoutMs?: number): Promise<void> => pollUntil(check, pageErrors, timeoutMs);

async function open(name: Name, url: string, viewport = { width: 1000, height: 640 }): Promise<Person> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const p: Person = { name, context, page, id: '', errors: [] };
  page.on('request', (req) => void requests.push(req.url()));
  page.on('websocket', (ws) => void requests.push(ws.url()));
  page.on('pageerror', (err) => void p.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') p.errors.push(msg.text());
  });
  await page.goto(url);
  return p;
}

async function view(p: Person): Promise<string | undefined> {
  return p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.view);
}

async function joined(p: Person): Promise<void> {
  await waitForAsync(async () => ((await view(p)) === 'meeting' ? undefined : `${p.name} is on view ${String(await view(p))}`));
  p.id = (await p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.endpointId)) ?? '';
  expect(p.id).toMatch(/^[0-9a-f]{8}$/);
  people.set(p.name, p);
}

/** Pre-join → meeting with the mouse; `cameraOff` keeps this page's encoder idle (less CPU beside the other suites). */
async function joinByMouse(p: Person, opts: { cameraOff?: boolean } = {}): Promise<void> {
  await p.page.getByLabel('Your name').fill(p.name);
  if (opts.cameraOff === true) await p.page.getByLabel('Join with camera off').check();
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
  await joined(p);
}

/** The id of the element that has the keyboard focus. */
async function focusedId(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as Dom).document.activeElement?.id ?? '');
}

/** Presses Tab until the element with `id` has the focus (at most `max` times), like a keyboard user. */
async function tabTo(page: Page, id: string, max = 15): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await focusedId(page)) === id) return;
    await page.keyboard.press('Tab');
  }
  expect(await focusedId(page)).toBe(id);
}

async function chatLines(p: Person): Promise<Array<{ from: string; text: string; private: string }>> {
  return p.page.locator('#chat-panel .chat-message').evaluateAll((els) =>
    (els as unknown as DomElement[]).map((e) => ({ from: e.dataset.from ?? '', text: e.querySelector('.chat-text')?.textContent ?? '', private: e.dataset.private ?? '' })),
  );
}

async function openPanel(p: Person, id: 'chat' | 'participants'): Promise<void> {
  const button = p.page.locator(`#${id}-toggle`);
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  await expect.poll(() => p.page.locator(`#${id}-panel`).isVisible(), POLL).toBe(true);
}

const suite = chromiumAvailable() ? describe : describe.skip;

suite('issue 6: meeting features of the web client', { timeout: 60_000 }, () => {
  const serverConfig = (web: Record<string, unknown> = {}) => ({
    http: { port: 0, host: '127.0.0.1', insecureHttp: true },
    xmpp: { c2s: { port: null } },
    log: { level: 'silent' as const },
    bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
    stun: { enabled: false },
    web,
  });

  beforeAll(async () => {
    server = await startServer({ config: serverConfig() });
    servers.push(server);
    // The fake media UI also answers getDisplayMedia (a synthetic 720p screen); the flag picks the screen.
    browser = await launchChromium({ extraArgs: ['--auto-select-desktop-capture-source=Entire screen'] });
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.stop();
  });

  it('joins with the keyboard alone: Tab to the field, type, Enter, on the home page and the pre-join screen', async () => {
    const alice = await open('Alice', server.url);
    await tabTo(alice.page, 'room-name');
    await alice.page.keyboard.type(ROOM);
    await alice.page.keyboard.press('Enter');
    await alice.page.waitForURL(`${server.url}${ROOM}`);
    await expect.poll(() => alice.page.getByLabel('Your name').isVisible(), POLL).toBe(true);
    await tabTo(alice.page, 'display-name');
    // Focus is visible: the outline style of :focus-visible applies.
    expect(
      await alice.page.evaluate(() => {
        const w = globalThis as unknown as Dom;
        return w.document.activeElement === null ? 'none' : w.getComputedStyle(w.document.activeElement).outlineStyle;
      }),
    ).not.toBe('none');
    await alice.page.keyboard.type('Alice');
    await alice.page.keyboard.press('Enter');
    await joined(alice);

    // Bob and Carol join with their cameras off: the features below need no more than one camera, and three
    // encoders would slow down the other browser suite running beside this one. Carol is on a phone-sized window.
    await joinByMouse(await open('Bob', `${server.url}${ROOM}`), { cameraOff: true });
    await joinByMouse(await open('Carol', `${server.url}${ROOM}`, { width: 390, height: 844 }), { cameraOff: true });
    for (const p of people.values()) {
      await expect.poll(() => p.page.locator('.tiles .tile[data-endpoint]').count(), POLL).toBe(3);
    }
    // The first to join is the moderator (the focus grants owner), the others are not.
    await waitForAsync(async () => {
      const roles = await Promise.all([...people.values()].map((p) => p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.local()?.role)));
      return roles.join() === 'moderator,participant,participant' ? undefined : `roles ${roles.join()}`;
    });
  });

  it('every control has a label, and the meeting fits a 390×844 window without sideways scrolling', async () => {
    for (const p of people.values()) {
      const unlabelled = await p.page.evaluate(() => {
        const d = (globalThis as unknown as Dom).document;
        return Array.from(d.querySelectorAll('button, select, input, textarea, a[href]'))
          .filter((e) => {
            if (e.closest('[hidden]') !== null) return false;
            const labelled = (e.getAttribute('aria-label') ?? '').trim() !== '' || (e.textContent ?? '').trim() !== '';
            const byLabel = e.id !== '' && d.querySelector(`label[for="${e.id}"]`) !== null;
            return !labelled && !byLabel;
          })
          .map((e) => e.outerHTML.slice(0, 120));
      });
      expect(unlabelled, `${p.name}: controls without a label`).toEqual([]);
    }
    const carol = person('Carol');
    const layout = await carol.page.evaluate(() => ({
      scrollWidth: (globalThis as unknown as Dom).document.documentElement.scrollWidth,
      toolbar: Array.from((globalThis as unknown as Dom).document.querySelectorAll('.toolbar button'))
        .filter((b) => !b.hidden)
        .map((b) => {
          const r = b.getBoundingClientRect();
          return { label: b.getAttribute('aria-label'), left: r.left, right: r.right, bottom: r.bottom, width: r.width };
        }),
    }));
    mkdirSync(ARTIFACTS, { recursive: true });
    await carol.page.screenshot({ path: new URL('web-client-features-phone.png', ARTIFACTS).pathname });
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    for (const b of layout.toolbar) {
      expect(b.width, `${b.label} is visible`).toBeGreaterThan(20);
      expect(b.left >= 0 && b.right <= 390 && b.bottom <= 844, `${b.label} is inside the window: ${JSON.stringify(b)}`).toBe(true);
    }
  });

  it('a group chat message reaches the other two (with an unread count), a private one only its target', async () => {
    const [alice, bob, carol] = NAMES.map(person) as [Person, Person, Person];
    await openPanel(alice, 'chat');
    await expect.poll(() => focusedId(alice.page), POLL).toBe('chat-input');
    await alice.page.keyboard.type('Hello everyone');
    await alice.page.keyboard.press('Enter');
    for (const p of [alice, bob, carol]) {
      await expect.poll(async () => (await chatLines(p)).some((l) => l.text === 'Hello everyone' && l.from === alice.id && l.private === 'false'), POLL).toBe(true);
    }
    // Bob's chat is closed: the button counts the unread message.
    await expect.poll(() => bob.page.locator('#chat-toggle').getAttribute('data-unread'), POLL).toBe('1');
    expect(await bob.page.locator('#chat-toggle').getAttribute('aria-label')).toBe('Open chat, 1 unread message');

    await openPanel(bob, 'chat');
    await expect.poll(() => bob.page.locator('#chat-toggle').getAttribute('data-unread'), POLL).toBe('0');
    await bob.page.getByLabel('Send to').selectOption(carol.id);
    await bob.page.getByLabel('Message', { exact: true }).fill('Just for you, Carol');
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(async () => (await chatLines(bob)).some((l) => l.text === 'Just for you, Carol' && l.private === 'true'), POLL).toBe(true);
    // Then a group message from Bob: once Alice has it, the private one (sent before) would have reached her too.
    await bob.page.getByLabel('Send to').selectOption('');
    await bob.page.getByLabel('Message', { exact: true }).fill('Back to everyone');
    await bob.page.keyboard.press('Enter');
    await openPanel(carol, 'chat');
    await expect.poll(async () => (await chatLines(carol)).some((l) => l.text === 'Just for you, Carol' && l.from === bob.id && l.private === 'true'), POLL).toBe(true);
    await expect.poll(async () => (await chatLines(alice)).some((l) => l.text === 'Back to everyone'), POLL).toBe(true);
    expect((await chatLines(alice)).map((l) => l.text)).not.toContain('Just for you, Carol');
    // Escape closes the panel and gives the focus back to its button.
    await carol.page.keyboard.press('Escape');
    await expect.poll(() => carol.page.locator('#chat-panel').isVisible(), POLL).toBe(false);
    expect(await focusedId(carol.page)).toBe('chat-toggle');
  });

  it('a raised hand shows on the others\' tiles and in the participant list', async () => {
    const carol = person('Carol');
    await carol.page.getByRole('button', { name: 'Raise your hand' }).click();
    for (const o of others('Carol')) {
      await expect.poll(() => o.page.locator(`[data-endpoint="${carol.id}"] [data-indicator="hand"]`).isVisible(), POLL).toBe(true);
    }
    const alice = person('Alice');
    await openPanel(alice, 'participants');
    await expect.poll(() => alice.page.locator(`#participants-panel li[data-participant="${carol.id}"] [data-indicator="hand"]`).count(), POLL).toBe(1);
    await carol.page.getByRole('button', { name: 'Lower your hand' }).click();
    for (const o of others('Carol')) {
      await expect.poll(() => o.page.locator(`[data-endpoint="${carol.id}"] [data-indicator="hand"]`).isVisible(), POLL).toBe(false);
    }
  });

  it('the moderator mutes Bob (his microphone track ends up muted, everyone sees it); Bob has no moderator controls', async () => {
    const [alice, bob, carol] = NAMES.map(person) as [Person, Person, Person];
    await openPanel(bob, 'participants');
    await expect.poll(() => bob.page.locator('#participants-panel li').count(), POLL).toBe(3);
    expect(await bob.page.locator('#participants-panel [data-action]').count()).toBe(0);

    await openPanel(alice, 'participants');
    await alice.page.getByRole('button', { name: 'Mute Bob', exact: true }).click();
    await waitForAsync(async () => {
      const local = await bob.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.local());
      return local?.audioMuted === true && local.audioTrackEnabled === false ? undefined : `Bob's microphone: ${JSON.stringify(local)}`;
    });
    await expect.poll(() => bob.page.locator('.notice').textContent(), POLL).toContain('Alice muted your microphone');
    for (const p of [alice, carol]) {
      await expect.poll(() => p.page.locator(`[data-endpoint="${bob.id}"] [data-indicator="mic-off"]`).isVisible(), POLL).toBe(true);
    }
    expect(await bob.page.getByRole('button', { name: 'Unmute microphone' }).isVisible()).toBe(true);
  });

  it('the moderator makes Bob a moderator; the server refuses his attempt to remove Alice (an owner) and he sees why', async () => {
    const [alice, bob] = NAMES.map(person) as [Person, Person, Person];
    await alice.page.getByRole('button', { name: 'Make Bob a moderator' }).click();
    await expect.poll(() => bob.page.locator('.notice').textContent(), POLL).toContain('You are now a moderator');
    await expect.poll(() => bob.page.locator(`#participants-panel li[data-participant="${alice.id}"] [data-action="kick"]`).count(), POLL).toBe(1);
    await bob.page.getByRole('button', { name: 'Remove Alice from the meeting' }).click();
    await expect.poll(() => bob.page.locator('#participants-panel .error').textContent(), POLL).toMatch(/Could not remove the participant: you are not allowed/);
    expect(server.xmpp.muc.rooms.get(`${ROOM}@${server.mucDomain}`)?.getOccupant(alice.id)).toBeDefined();
  });

  it('a screen share appears for the others as its own tile, on stage, asked at a higher resolution than thumbnails', async () => {
    const carol = person('Carol');
    await carol.page.getByRole('button', { name: 'Share your screen' }).click();
    await expect.poll(() => carol.page.getByRole('button', { name: 'Stop sharing your screen' }).isVisible(), POLL).toBe(true);
    // The focus got the second video source, named <id>-v1 with videoType desktop (source-add, PROTOCOL §4.7).
    await waitForAsync(async () => {
      const sources = server.focus?.getConference(`${ROOM}@${server.mucDomain}`)?.sources.get(carol.id)?.sources ?? [];
      return sources.some((s) => s.name === `${carol.id}-v1` && s.videoType === 'desktop') ? undefined : `focus has ${JSON.stringify(sources.map((s) => [s.name, s.videoType]))}`;
    });
    for (const o of others('Carol')) {
      const screen = o.page.locator(`.tile[data-screen-of="${carol.id}"]`);
      await expect.poll(() => screen.count(), POLL).toBe(1);
      await expect.poll(() => screen.getAttribute('class'), POLL).toContain('on-stage');
      await expect.poll(() => o.page.locator('.tiles').getAttribute('data-view'), POLL).toBe('stage');
      await waitForAsync(async () => {
        const st = await o.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.stats() ?? Promise.resolve([]));
        const frames = st.find((s) => s.sourceName === `${carol.id}-v1`)?.framesDecoded ?? 0;
        const playing = await screen.locator('video').evaluate((v) => (v as unknown as DomVideo).videoWidth > 0 && !(v as unknown as DomVideo).paused);
        return frames > 10 && playing ? undefined : `${o.name} decoded ${frames} frames of Carol's screen (playing ${playing})`;
      });
      await waitForAsync(async () => {
        const c = await o.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.receiverConstraints());
        const stage = c?.heights[`${carol.id}-v1`] ?? 0;
        const thumbs = Object.entries(c?.heights ?? {}).filter(([name]) => name !== `${carol.id}-v1`).map(([, v]) => v);
        return c?.onStage.join() === `${carol.id}-v1` && thumbs.length > 0 && thumbs.every((t) => t < stage)
          ? undefined
          : `${o.name}'s constraints: ${JSON.stringify(c)}`;
      });
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await person('Alice').page.screenshot({ path: new URL('web-client-features-screen-share.png', ARTIFACTS).pathname });

    await carol.page.getByRole('button', { name: 'Stop sharing your screen' }).click();
    for (const o of others('Carol')) {
      await expect.poll(() => o.page.locator(`.tile[data-screen-of="${carol.id}"]`).count(), POLL).toBe(0);
      // Stage view was switched on by the share, so it goes back to tiles.
      await expect.poll(() => o.page.locator('.tiles').getAttribute('data-view'), POLL).toBe('tile');
    }
  });

  it('stage view shows one participant large and the others in the filmstrip; the choice is kept in local storage', async () => {
    const alice = person('Alice');
    await alice.page.getByRole('button', { name: 'Switch to stage view' }).click();
    await expect.poll(() => alice.page.locator('.tiles').getAttribute('data-view'), POLL).toBe('stage');
    await expect.poll(() => alice.page.locator('.tiles .stage .tile.on-stage').count(), POLL).toBe(1);
    await expect.poll(() => alice.page.locator('.tiles .filmstrip .tile').count(), POLL).toBe(2);
    await waitForAsync(async () => {
      const c = await alice.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.receiverConstraints());
      const stage = c?.onStage[0];
      const rest = Object.entries(c?.heights ?? {}).filter(([name]) => name !== stage);
      return stage !== undefined && rest.every(([, v]) => v < (c?.heights[stage] ?? 0)) ? undefined : `constraints ${JSON.stringify(c)}`;
    });
    // The fake microphones all beep: the bridge names a dominant speaker, whose tile is marked.
    await expect.poll(() => alice.page.locator('.tile.speaking').count(), POLL).toBeGreaterThan(0);
    expect(await alice.page.evaluate(() => (globalThis as unknown as Dom).localStorage.getItem('jitsi-one.ui'))).toBe('{"view":"stage"}');
    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.page.screenshot({ path: new URL('web-client-features-three-people.png', ARTIFACTS).pathname });
    await alice.page.getByRole('button', { name: 'Switch to tile view' }).click();
    await expect.poll(() => alice.page.locator('.tiles').getAttribute('data-view'), POLL).toBe('tile');
  });

  it('another microphone can be chosen in the meeting: it is remembered, and the others keep hearing audio', async () => {
    const [alice, bob] = NAMES.map(person) as [Person, Person, Person];
    await alice.page.locator('#settings-toggle').click();
    const select = alice.page.locator('#meeting-microphone');
    await expect.poll(() => select.locator('option').count(), POLL).toBeGreaterThan(1);
    const current = await select.inputValue();
    const next = (await select.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).find((v) => v !== current) ?? '';
    await select.selectOption(next);
    await expect.poll(() => alice.page.evaluate(() => (globalThis as unknown as Dom).localStorage.getItem('jitsi-one.devices')), POLL).toBe(JSON.stringify({ audioInput: next }));
    const audioBytes = async (): Promise<number> => {
      const st = await bob.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.stats() ?? Promise.resolve([]));
      return st.find((s) => s.participantId === alice.id && s.kind === 'audio')?.bytesReceived ?? 0;
    };
    const before = await audioBytes();
    await waitForAsync(async () => ((await audioBytes()) > before + 2000 ? undefined : `Bob received ${(await audioBytes()) - before} new audio bytes from Alice`));
    await alice.page.keyboard.press('Escape');
    await expect.poll(() => focusedId(alice.page), POLL).toBe('settings-toggle');
  });

  it('a moderator removes Carol: she is told who did it, the others lose her tile', async () => {
    const [alice, bob, carol] = NAMES.map(person) as [Person, Person, Person];
    await openPanel(alice, 'participants');
    await alice.page.getByRole('button', { name: 'Remove Carol from the meeting' }).click();
    await expect.poll(() => carol.page.getByRole('heading', { name: 'You were removed from the meeting by Alice.' }).isVisible(), POLL).toBe(true);
    for (const p of [alice, bob]) await expect.poll(() => p.page.locator(`[data-endpoint="${carol.id}"]`).count(), POLL).toBe(0);
  });

  it('after the meeting the browser holds only the allowed local-storage keys and no cookies or other storage', async () => {
    for (const name of ['Alice', 'Bob'] as const) await person(name).page.getByRole('button', { name: 'Leave meeting' }).click();
    for (const p of people.values()) {
      await expect.poll(() => view(p), POLL).toBe('ended');
      const kept = await p.page.evaluate(() => {
        const w = globalThis as unknown as Dom;
        return {
          local: Array.from({ length: w.localStorage.length }, (_, i) => w.localStorage.key(i) ?? ''),
          session: w.sessionStorage.length,
          cookie: w.document.cookie,
          recent: w.localStorage.getItem('jitsi-one.recentRooms'),
          userId: w.localStorage.getItem('jitsi-one.userId'),
        };
      });
      expect(kept.local.filter((k) => !ALLOWED_KEYS.includes(k)), `${p.name}'s local storage`).toEqual([]);
      expect(kept.userId).toMatch(/^[0-9a-f]{32}$/);
      expect(kept.recent).toContain(ROOM);
      expect(kept.session).toBe(0);
      expect(kept.cookie).toBe('');
      expect(await p.context.cookies()).toEqual([]);
    }
  });

  it('with recent rooms disabled by the server (web.recentRooms: false) no room name is stored', async () => {
    const other = await startServer({ config: serverConfig({ recentRooms: false }) });
    servers.push(other);
    const p = await open('Alice', `${other.url}secret-room-name`);
    // A list from before (as if recent rooms had been on) is forgotten too.
    await p.page.evaluate(() => (globalThis as unknown as Dom).localStorage.setItem('jitsi-one.recentRooms', JSON.stringify([{ name: 'older-room', joinedAt: 1 }])));
    await p.page.reload();
    await p.page.getByLabel('Your name').fill('Alice');
    await p.page.getByRole('button', { name: 'Join meeting' }).click();
    await waitForAsync(async () => ((await view(p)) === 'meeting' ? undefined : `view ${String(await view(p))}`));
    await p.page.getByRole('button', { name: 'Leave meeting' }).click();
    await expect.poll(() => view(p), POLL).toBe('ended');
    const all = await p.page.evaluate(() => {
      const ls = (globalThis as unknown as Dom).localStorage;
      return Array.from({ length: ls.length }, (_, i) => [ls.key(i) ?? '', ls.getItem(ls.key(i) ?? '') ?? ''] as const);
    });
    expect(all.map(([k]) => k).filter((k) => !ALLOWED_KEYS.includes(k))).toEqual([]);
    expect(JSON.stringify(all)).not.toMatch(/secret-room-name|older-room/);
    await p.page.goto(other.url);
    await expect.poll(() => p.page.getByText('This server does not keep a list of recent meetings').isVisible(), POLL).toBe(true);
    await p.context.close();
  });

  it('every request of every page went to the server\'s own origin, and no page reported an error', () => {
    const origins = new Set(servers.map((s) => new URL(s.url).host));
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !origins.has(new URL(u).host))).toEqual([]);
    expect(pageErrors()).toBe('');
  });
});
