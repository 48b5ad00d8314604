/**
 * The web client in the secure auth modes (README "Secure rooms"), in headless Chromium against the real server:
 *
 * - secure domain: a guest who opens a meeting that has not started sees "Waiting for the host" with a login form;
 *   a wrong password shows an error and keeps the form; the right one (typed and submitted with the keyboard)
 *   starts the meeting and makes that person moderator. A second guest who was already waiting joins by itself
 *   (the client keeps asking), and a third who comes later joins without any login;
 * - JWT: `?jwt=` of the meeting URL goes as `?token=` on the XMPP WebSocket URL, leaves the address bar at once and
 *   is never stored; a refused token shows a clear error.
 *
 * Every wait polls a condition; there are no fixed sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hashPassword, signToken } from '@jitsi-one/xmpp';
import { type AppConfigInput, type RunningServer, startServer } from '../packages/server/src/index.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { pollUntil } from './web-pages.js';

const SECRET = 'web-client-auth-secret-web-client-auth-01';
const POLL = { timeout: 15_000, interval: 50 };

interface Hook {
  view: string;
  endpointId: string | undefined;
  local(): { role: string | undefined } | undefined;
}
type HookHost = { __jitsiOne?: Hook };

interface Person {
  name: string;
  page: Page;
  errors: string[];
  websockets: string[];
}

const base: AppConfigInput = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: { c2s: { port: null } },
  log: { level: 'silent' },
  bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
  stun: { enabled: false },
};

let browser: Browser;
const people: Person[] = [];

const context = (): string => people.flatMap((p) => p.errors.map((e) => `${p.name}: ${e}`)).join('\n');

async function open(name: string, url: string): Promise<Person> {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 600 } });
  const page = await ctx.newPage();
  const p: Person = { name, page, errors: [], websockets: [] };
  page.on('websocket', (ws) => void p.websockets.push(ws.url()));
  page.on('pageerror', (err) => void p.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') p.errors.push(msg.text());
  });
  people.push(p);
  await page.goto(url);
  return p;
}

async function closeAll(): Promise<void> {
  for (const p of people.splice(0)) await p.page.context().close();
}

const view = (p: Person): Promise<string | undefined> => p.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.view);

async function waitForView(p: Person, wanted: string, timeoutMs?: number): Promise<void> {
  await pollUntil(async () => {
    const v = await view(p);
    return v === wanted ? undefined : `${p.name} is on view ${String(v)}, not ${wanted}`;
  }, context, timeoutMs);
}

/** Pre-join screen: name, camera off (less work for the machine), Join. */
async function pressJoin(p: Person): Promise<void> {
  await p.page.getByLabel('Your name').fill(p.name);
  await p.page.getByLabel('Join with camera off').check();
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
}

const suite = chromiumAvailable() ? describe : describe.skip;

suite('web client in the secure auth modes', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await closeAll();
    await browser?.close();
  });

  describe('secure domain', () => {
    let server: RunningServer;
    beforeAll(async () => {
      const passwordHash = await hashPassword('wonderland', { ln: 10 });
      server = await startServer({ config: { ...base, auth: { mode: 'secure-domain', users: [{ username: 'alice', passwordHash }] } } });
    });
    afterAll(async () => {
      await closeAll();
      await server?.stop();
    });

    it('a guest waits for the host; a wrong password is refused; the right one starts the meeting; guests then get in without login', async () => {
      const room = 'secure-room';
      const url = `${server.url}${room}`;
      const alice = await open('Alice', url);
      await pressJoin(alice);
      await waitForView(alice, 'auth-required');
      await expect.poll(() => alice.page.getByRole('heading', { level: 1 }).textContent(), POLL).toBe('Waiting for the host…');
      // Guests log in on the guest domain.
      expect(server.xmpp.muc.rooms.get(`${room}@${server.mucDomain}`)).toBeUndefined();

      // Bob, a guest, waits too.
      const bob = await open('Bob', url);
      await pressJoin(bob);
      await waitForView(bob, 'auth-required');

      // Wrong password: a clear error, the form stays.
      await alice.page.getByLabel('Username').fill('alice');
      await alice.page.getByLabel('Password').fill('looking-glass');
      await alice.page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => alice.page.getByRole('alert').filter({ hasText: /\S/ }).textContent(), POLL).toBe('Wrong username or password.');
      expect(await view(alice)).toBe('auth-required');
      await expect.poll(() => alice.page.getByRole('button', { name: 'Log in' }).isEnabled(), POLL).toBe(true);
      expect(await alice.page.getByLabel('Password').inputValue()).toBe('');

      // The right one, with the keyboard only: type the password, Enter.
      await alice.page.getByLabel('Password').focus();
      await alice.page.keyboard.type('wonderland');
      await alice.page.keyboard.press('Enter');
      await waitForView(alice, 'meeting');
      await pollUntil(async () => {
        const role = await alice.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.local()?.role);
        return role === 'moderator' ? undefined : `Alice's role is ${String(role)}`;
      }, context);

      // Bob was waiting: he joins by himself (the client keeps asking), as a guest without moderator rights.
      await waitForView(bob, 'meeting');
      // Carol comes later: straight in, no login view.
      const carol = await open('Carol', url);
      await pressJoin(carol);
      await waitForView(carol, 'meeting');
      expect(await carol.page.locator('#login-username').count()).toBe(0);
      for (const guest of [bob, carol]) {
        expect(await guest.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.local()?.role)).not.toBe('moderator');
      }
      const occupants = server.xmpp.muc.rooms.get(`${room}@${server.mucDomain}`)?.occupants;
      expect(occupants?.size).toBe(4); // three and the focus
      expect(context()).toBe('');
    });
  });

  describe('JWT', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ config: { ...base, auth: { mode: 'jwt', jwt: { appId: 'my-app', appSecret: SECRET } } } });
    });
    afterAll(async () => {
      await closeAll();
      await server?.stop();
    });

    it('?jwt= goes as ?token= on the XMPP URL, leaves the address bar, is never stored; a refused token shows an error', async () => {
      const room = 'jwt-room';
      const exp = Math.floor(Date.now() / 1000) + 600;
      const token = signToken({ iss: 'my-app', aud: 'jitsi', room, exp, context: { user: { name: 'Tok En' } } }, SECRET);
      const dana = await open('Dana', `${server.url}${room}?jwt=${token}`);
      expect(dana.page.url()).toBe(`${server.url}${room}`);
      await pressJoin(dana);
      await waitForView(dana, 'meeting');
      expect(dana.page.url()).not.toContain(token);
      expect(dana.websockets.some((u) => u.includes('/xmpp-websocket?') && u.includes(`token=${token}`))).toBe(true);
      const stored = await dana.page.evaluate(() => {
        const s = (globalThis as unknown as { localStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null } }).localStorage;
        let all = '';
        for (let i = 0; i < s.length; i++) all += `${s.key(i) ?? ''}=${s.getItem(s.key(i) ?? '') ?? ''}\n`;
        return all;
      });
      expect(stored).toContain('jitsi-one.'); // the client does use storage …
      for (const part of token.split('.')) expect(stored).not.toContain(part); // … but not for the token
      // Token holders are moderators.
      await pollUntil(async () => {
        const role = await dana.page.evaluate(() => (globalThis as unknown as HookHost).__jitsiOne?.local()?.role);
        return role === 'moderator' ? undefined : `Dana's role is ${String(role)}`;
      }, context);

      // An expired token: a clear error page with the server's reason.
      const expired = signToken({ iss: 'my-app', aud: 'jitsi', room, exp: exp - 3600 }, SECRET);
      const eve = await open('Eve', `${server.url}${room}?jwt=${expired}`);
      expect(eve.page.url()).toBe(`${server.url}${room}`);
      await pressJoin(eve);
      await waitForView(eve, 'error');
      await expect.poll(() => eve.page.getByRole('heading', { level: 1 }).textContent(), POLL).toBe('Your meeting link is not valid');
      await expect.poll(() => eve.page.locator('.error-page p').first().textContent(), POLL).toBe("Your meeting link's access token was refused: token expired.");
      expect(dana.errors).toEqual([]);
    });
  });
});
