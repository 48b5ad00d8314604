/**
 * The `auth` section wired through the whole server (issue 7, "Secure rooms"): config validation, /config.js
 * advertising the guest domain, and the secure-domain and JWT flows through the real HTTP port (WebSocket and BOSH
 * with `?token=`), with the focus deciding who may create a room. Tokens must never reach the log.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, hashPassword, NS_MUC, signToken, XmlStreamParser } from '@jitsi-one/xmpp';
import { TestClient } from '../../xmpp/test/client.js';
import { type AppConfigInput, ConfigError, loadConfig, type RunningServer, startServer } from '../src/index.js';
import { waitFor } from './helpers.js';

const SECRET = 'server-test-secret-server-test-secret-01';
const NS_FOCUS = 'http://jitsi.org/protocol/focus';

const base: AppConfigInput = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: { c2s: { port: null } },
  log: { level: 'silent' },
  bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
  stun: { enabled: false },
};

let hash = '';
beforeAll(async () => {
  hash = await hashPassword('wonderland', { ln: 10 });
});

let server: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

function issues(overrides: AppConfigInput): string[] {
  try {
    loadConfig({ overrides });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

async function client(url: string, domain: string, mechanism = 'ANONYMOUS', payload?: string): Promise<TestClient> {
  const c = await TestClient.open(url);
  clients.push(c);
  await c.login(domain, mechanism, payload);
  return c;
}

function conferenceIq(c: TestClient, s: RunningServer, room: string): Promise<Element> {
  return c.iq(`<iq type="set" id="${c.nextId()}" to="${s.focusDomain}"><conference xmlns="${NS_FOCUS}" room="${room}" machine-uid="m1"/></iq>`);
}

describe('auth config', () => {
  it('defaults to anonymous, and the defaults need no auth keys', () => {
    expect(loadConfig().auth).toEqual({ mode: 'anonymous', guests: true, users: [] });
  });

  it('reports mistakes with the key path', () => {
    expect(issues({ auth: { mode: 'secure-domain' } })).toEqual(['auth.users: secure-domain mode needs at least one user (nobody could create a room)']);
    expect(issues({ auth: { mode: 'jwt', jwt: { appId: 'a', appSecret: 'short' } } })[0]).toBe(
      'auth.jwt.appSecret: expected string of at least 32 characters, got 5 characters',
    );
    expect(issues({ auth: { mode: 'jwt', jwt: { appId: 'a', appSecret: SECRET, secret: 'x' } as never } })).toEqual([
      'auth.jwt.secret: unknown key',
    ]);
    expect(issues({ auth: { mode: 'secure-domain', users: [{ username: 'alice', passwordHash: 'wonderland' }] } })[0]).toMatch(
      /^auth\.users\[0\]\.passwordHash: expected a hash made with `npm run hash-password`/,
    );
    expect(
      issues({ auth: { mode: 'secure-domain', guestDomain: 'auth.meet.jitsi', users: [{ username: 'alice', passwordHash: hash }] } }),
    ).toEqual(['auth.guestDomain: auth.meet.jitsi is already an XMPP domain of this server; guests need their own']);
  });

  it('never echoes a secret in an error message', () => {
    const out = issues({ auth: { mode: 'jwt', jwt: { appId: 'a', appSecret: 'tooshort-but-secret' } } }).join('\n');
    expect(out).not.toContain('tooshort-but-secret');
  });
});

describe('secure domain through the server', () => {
  it('/config.js advertises hosts.anonymousdomain; an account creates the room, a guest joins it', async () => {
    server = await startServer({ config: { ...base, auth: { mode: 'secure-domain', users: [{ username: 'alice', passwordHash: hash }] } } });
    const s = server;
    const js = await (await fetch(`http://127.0.0.1:${s.httpPort}/config.js`)).text();
    expect(js).toContain('"anonymousdomain": "guest.meet.jitsi"');

    const room = `room1@${s.mucDomain}`;
    const guest = await client(s.wsUrl, 'guest.meet.jitsi');
    const refused = await conferenceIq(guest, s, room);
    expect(refused.getChild('error')?.getChild('not-authorized')).toBeDefined();

    const alice = await client(s.wsUrl, s.domain, 'PLAIN', Buffer.from('\0alice\0wonderland').toString('base64'));
    expect((await conferenceIq(alice, s, room)).getChild('conference')?.attrs.ready).toBe('true');
    alice.send(`<presence to="${room}/a1a1a1a1"><x xmlns="${NS_MUC}"/></presence>`);
    await waitFor(() => (s.xmpp.muc.rooms.get(room)?.getOccupant('a1a1a1a1')?.affiliation === 'owner' ? undefined : 'alice not owner'));

    expect((await conferenceIq(guest, s, room)).getChild('conference')?.attrs.ready).toBe('true');
    guest.send(`<presence to="${room}/g1g1g1g1"><x xmlns="${NS_MUC}"/></presence>`);
    await waitFor(() => (s.xmpp.muc.rooms.get(room)?.getOccupant('g1g1g1g1') ? undefined : 'guest not in the room'));
    expect(s.xmpp.muc.rooms.get(room)?.getOccupant('g1g1g1g1')?.affiliation).toBe('none');
  });

  it('/config.js names no anonymous domain in the default mode', async () => {
    server = await startServer({ config: base });
    const js = await (await fetch(`http://127.0.0.1:${server.httpPort}/config.js`)).text();
    expect(js).not.toContain('anonymousdomain');
  });
});

describe('JWT through the server', () => {
  it('?token= on /xmpp-websocket and /http-bind authenticates; the token is in no log line even at trace level', async () => {
    const lines: string[] = [];
    server = await startServer({
      config: { ...base, log: { level: 'trace', redact: false }, auth: { mode: 'jwt', jwt: { appId: 'my-app', appSecret: SECRET } } },
      logDestination: { write: (l: string) => void lines.push(l) },
    });
    const s = server;
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = signToken({ iss: 'my-app', aud: 'jitsi', room: 'room1', exp, context: { user: { name: 'Tok En' } } }, SECRET);
    const expired = signToken({ iss: 'my-app', aud: 'jitsi', room: 'room1', exp: exp - 3600 }, SECRET);

    // WebSocket: a valid token creates room1.
    const ws = await client(`${s.wsUrl}?room=room1&token=${token}`, s.domain);
    const room = `room1@${s.mucDomain}`;
    expect((await conferenceIq(ws, s, room)).getChild('conference')?.attrs.ready).toBe('true');
    // An expired one is refused with the reason.
    const bad = await TestClient.open(`${s.wsUrl}?room=room1&token=${expired}`);
    clients.push(bad);
    await expect(bad.login(s.domain)).rejects.toThrow(/token expired/);

    // BOSH: the token on the session creation request.
    const post = async (url: string, body: string): Promise<Element> => {
      const r = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'text/xml; charset=utf-8' } });
      let out: Element | undefined;
      new XmlStreamParser('framed', { element: (el) => (out = el), error: (e) => { throw e; } }, { maxStanzaSize: 1_000_000 }).write(await r.text());
      return out as Element;
    };
    const boshUrl = `${s.boshUrl}?room=room1&token=${token}`;
    const created = await post(boshUrl, `<body rid="100" xmlns="http://jabber.org/protocol/httpbind" to="${s.domain}" wait="10" hold="1" ver="1.6" xmpp:version="1.0" xmlns:xmpp="urn:xmpp:xbosh"/>`);
    const sid = created.attrs.sid as string;
    const authed = await post(boshUrl, `<body rid="101" sid="${sid}" xmlns="http://jabber.org/protocol/httpbind"><auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/></body>`);
    expect(authed.getChild('success')).toBeDefined();

    const all = lines.join('\n');
    expect(all).toContain('token authentication failed');
    for (const t of [token, expired]) for (const part of t.split('.')) expect(all).not.toContain(part);
    expect(all).not.toContain(SECRET);
  });
});
