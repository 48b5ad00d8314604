/**
 * The secure auth modes at the XMPP level, on a real loopback server with real WebSocket and BOSH clients:
 * secure domain (SASL PLAIN with scrypt-hashed accounts on the main domain, ANONYMOUS guests on guest.<domain>,
 * room creation restricted to the focus) and JWT (SASL ANONYMOUS accepted on the main domain only with a valid
 * token from `?token=` of the WebSocket or BOSH URL, the token's room claim enforced on MUC join). The focus's part
 * (who makes the focus create a room, moderators) is in packages/focus/test/auth.test.ts.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuthConfigInput, type Element, hashPassword, NS_MUC, NS_MUC_USER, signToken, XmlStreamParser, xml } from '../src/index.js';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const FOCUS = 'focus@auth.meet.jitsi';
/** lib-jitsi-meet's FAILURE_REGEX (modules/xmpp/xmpp.ts): the only SASL failure shape whose <text> it shows. */
const LJM_FAILURE_REGEX = /<failure.*><not-allowed\/><text>(.*)<\/text><\/failure>/i;

const SECRET = 'test-secret-test-secret-test-secret-0123';
const NOW_S = () => Math.floor(Date.now() / 1000);

let srv: TestServer | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.stop();
  srv = undefined;
});

let aliceHash = '';
beforeAll(async () => {
  aliceHash = await hashPassword('wonderland');
});

async function start(auth: AuthConfigInput, logLevel = 'info'): Promise<TestServer> {
  srv = await startTestServer({ muc: { admins: [FOCUS] } }, { auth, logLevel });
  return srv;
}

function secureDomain(): AuthConfigInput {
  return { mode: 'secure-domain', users: [{ username: 'alice', passwordHash: aliceHash }] };
}

function jwtMode(extra: Record<string, unknown> = {}): AuthConfigInput {
  return { mode: 'jwt', jwt: { appId: 'my-app', appSecret: SECRET, ...extra } };
}

async function open(url: string): Promise<{ c: TestClient; raw: string[] }> {
  const c = await TestClient.open(url);
  clients.push(c);
  const raw: string[] = [];
  c.ws.on('message', (d) => raw.push(d.toString()));
  return { c, raw };
}

/** Open the stream to `domain` and return the offered SASL mechanisms. */
async function mechanisms(c: TestClient, domain: string): Promise<string[]> {
  c.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${domain}" version="1.0"/>`);
  const f = await c.expect((s) => s.name === 'stream:features');
  return (f.getChild('mechanisms', NS_SASL)?.getChildren('mechanism') ?? []).map((m) => m.text());
}

function plain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

async function auth(c: TestClient, mechanism: string, payload = ''): Promise<Element> {
  c.sendRaw(`<auth xmlns="${NS_SASL}" mechanism="${mechanism}">${payload}</auth>`);
  return c.expect((s) => s.name === 'success' || s.name === 'failure');
}

/** Restart and bind after <success/>. */
async function bind(c: TestClient, domain: string): Promise<string> {
  c.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${domain}" version="1.0"/>`);
  await c.expect((s) => s.name === 'stream:features');
  const b = await c.iq(`<iq type="set" id="bind1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`);
  c.jid = b.getChild('bind')?.getChildText('jid') ?? '';
  return c.jid;
}

function failure(el: Element): { condition: string | undefined; text: string | undefined } {
  const condition = el.children.find((x): x is Element => typeof x !== 'string' && x.name !== 'text')?.name;
  return { condition, text: el.getChildText('text') ?? undefined };
}

function errorCondition(s: Element): string | undefined {
  for (const c of s.getChild('error')?.children ?? []) {
    if (typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS && c.name !== 'text') return c.name;
  }
  return undefined;
}

/** A room created by the (stand-in) focus, a service admin, over an in-process session. */
function focusCreatesRoom(s: TestServer, room: string): void {
  const focus = s.xmpp.createLocalSession(`${FOCUS}/focus-${room}`, () => undefined);
  focus.receive(xml('presence', { xmlns: 'jabber:client', to: `${room}/focus` }, xml('x', { xmlns: NS_MUC })));
}

async function joinRoom(c: TestClient, occupant: string): Promise<Element> {
  c.send(`<presence to="${occupant}"><x xmlns="${NS_MUC}"/></presence>`);
  return c.expect((s) => s.name === 'presence' && s.attrs.from === occupant);
}

describe('secure domain', () => {
  it('the main domain offers PLAIN only, the guest domain ANONYMOUS only', async () => {
    const s = await start(secureDomain());
    expect(s.xmpp.domains.guestDomain).toBe('guest.meet.jitsi');
    const { c: a } = await open(s.wsUrl);
    expect(await mechanisms(a, s.domain)).toEqual(['PLAIN']);
    const { c: g } = await open(s.wsUrl);
    expect(await mechanisms(g, 'guest.meet.jitsi')).toEqual(['ANONYMOUS']);
  });

  it('an account logs in with SASL PLAIN (scrypt hash) and is an authenticated identity', async () => {
    const s = await start(secureDomain());
    const { c } = await open(s.wsUrl);
    await mechanisms(c, s.domain);
    expect((await auth(c, 'PLAIN', plain('Alice', 'wonderland'))).name).toBe('success');
    const jid = await bind(c, s.domain);
    expect(jid).toMatch(/^alice@meet\.jitsi\//);
    expect(s.xmpp.auth.identity(jid)).toEqual({ kind: 'account', authenticated: true });
  });

  it('a wrong password or unknown user gets not-authorized; the third failure closes the stream', async () => {
    const s = await start(secureDomain());
    const { c } = await open(s.wsUrl);
    await mechanisms(c, s.domain);
    expect(failure(await auth(c, 'PLAIN', plain('alice', 'rabbit-hole'))).condition).toBe('not-authorized');
    expect(failure(await auth(c, 'PLAIN', plain('mallory', 'wonderland'))).condition).toBe('not-authorized');
    expect(failure(await auth(c, 'PLAIN', plain('alice', 'Wonderland'))).condition).toBe('not-authorized');
    const err = await c.expect((el) => el.name === 'stream:error');
    expect(err.getChild('policy-violation')).toBeDefined();
    await c.waitClosed();
    expect(s.xmpp.sessions.size).toBe(0);
    // ANONYMOUS is not offered on the main domain, even if asked for.
    const { c: anon } = await open(s.wsUrl);
    await mechanisms(anon, s.domain);
    expect(failure(await auth(anon, 'ANONYMOUS')).condition).toBe('invalid-mechanism');
  });

  it('input sent while the password is being checked is held and processed after the answer', async () => {
    const s = await start(secureDomain());
    const { c } = await open(s.wsUrl);
    await mechanisms(c, s.domain);
    // A pipelining client: the restart follows the <auth/> before <success/> arrived.
    c.sendRaw(`<auth xmlns="${NS_SASL}" mechanism="PLAIN">${plain('alice', 'wonderland')}</auth>`);
    c.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${s.domain}" version="1.0"/>`);
    expect((await c.expect((el) => el.name === 'success' || el.name === 'failure')).name).toBe('success');
    const f = await c.expect((el) => el.name === 'stream:features');
    expect(f.getChild('bind')).toBeDefined();
  });

  it('guests log in anonymously on the guest domain; nobody but the focus creates a room directly', async () => {
    const s = await start(secureDomain());
    const { c: g } = await open(s.wsUrl);
    await mechanisms(g, 'guest.meet.jitsi');
    expect((await auth(g, 'ANONYMOUS')).name).toBe('success');
    const jid = await bind(g, 'guest.meet.jitsi');
    expect(s.xmpp.auth.identity(jid)).toEqual({ kind: 'guest', authenticated: false });
    const room = `room1@${s.muc}`;
    const refused = await joinRoom(g, `${room}/guest1`);
    expect(refused.attrs.type).toBe('error');
    expect(errorCondition(refused)).toBe('not-allowed');
    expect(refused.getChild('error')?.getChildText('text')).toBe('Room creation is restricted');
    expect(s.xmpp.muc.rooms.size).toBe(0);

    const { c: a } = await open(s.wsUrl);
    await mechanisms(a, s.domain);
    await auth(a, 'PLAIN', plain('alice', 'wonderland'));
    await bind(a, s.domain);
    expect((await joinRoom(a, `${room}/alice1`)).attrs.type).toBe('error');

    // Once the focus has created it, the guest may join.
    focusCreatesRoom(s, room);
    await waitFor(() => (s.xmpp.muc.rooms.has(room) ? undefined : 'no room'));
    const joined = await joinRoom(g, `${room}/guest1`);
    expect(joined.attrs.type).toBeUndefined();
    expect(joined.getChild('x', NS_MUC_USER)).toBeDefined();
  });

  it('with guests off there is no guest domain and anonymous logins fail everywhere', async () => {
    const s = await start({ ...secureDomain(), guests: false });
    expect(s.xmpp.domains.guestDomain).toBeUndefined();
    const { c } = await open(s.wsUrl);
    c.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="guest.meet.jitsi" version="1.0"/>`);
    const err = await c.expect((el) => el.name === 'stream:error');
    expect(err.getChild('host-unknown')).toBeDefined();
  });
});

describe('JWT', () => {
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: 'my-app',
    aud: 'jitsi',
    sub: 'meet.jitsi',
    room: 'room1',
    exp: NOW_S() + 3600,
    context: { user: { id: 'u-1', name: 'Alice Token', moderator: 'true' } },
    ...extra,
  });

  it('a valid token on ?token= of the WebSocket URL authenticates SASL ANONYMOUS', async () => {
    const s = await start(jwtMode());
    const token = signToken(claims(), SECRET);
    const { c } = await open(`${s.wsUrl}?room=room1&token=${token}`);
    expect(await mechanisms(c, s.domain)).toEqual(['ANONYMOUS']);
    expect((await auth(c, 'ANONYMOUS')).name).toBe('success');
    const jid = await bind(c, s.domain);
    expect(s.xmpp.auth.identity(jid)).toEqual({
      kind: 'token',
      authenticated: true,
      user: { id: 'u-1', name: 'Alice Token', moderator: true },
      moderator: true,
      room: 'room1',
    });
    // The raw token is not kept on the session once SASL has run.
    expect(s.xmpp.sessions.get(jid)?.token).toBeUndefined();
  });

  it.each<[string, () => string | undefined, string]>([
    ['no token', () => undefined, 'token required'],
    ['an expired token', () => signToken(claims({ exp: NOW_S() - 3600 }), SECRET), 'token expired'],
    ['a token not valid yet', () => signToken(claims({ nbf: NOW_S() + 3600 }), SECRET), "token not valid yet ('nbf' claim)"],
    ['a wrong signature', () => signToken(claims(), `${SECRET}-other`), 'invalid token signature'],
    ['alg none', () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`, 'token algorithm not accepted (HS256 only)'],
    ['a malformed token', () => 'not-a-jwt', 'malformed token'],
    ['a wrong issuer', () => signToken(claims({ iss: 'someone-else' }), SECRET), "invalid issuer ('iss' claim)"],
    ['no room claim', () => signToken(claims({ room: undefined }), SECRET), "token has no 'room' claim"],
  ])('refuses %s with <not-allowed/> and a reason lib-jitsi-meet can show', async (_what, make, reason) => {
    const s = await start(jwtMode());
    const token = make();
    const { c, raw } = await open(token === undefined ? s.wsUrl : `${s.wsUrl}?token=${encodeURIComponent(token)}`);
    await mechanisms(c, s.domain);
    const f = await auth(c, 'ANONYMOUS');
    expect(f.name).toBe('failure');
    expect(failure(f)).toEqual({ condition: 'not-allowed', text: reason });
    const frame = raw.find((r) => r.startsWith('<failure')) ?? '';
    expect(LJM_FAILURE_REGEX.exec(frame)?.[1]).toBe(reason);
    expect(s.xmpp.sessions.size).toBe(0);
  });

  it('a valid token on ?token= of the BOSH URL authenticates; a BOSH session created without one does not', async () => {
    const s = await start(jwtMode());
    const token = signToken(claims(), SECRET);
    const bosh = async (url: string): Promise<Element | undefined> => {
      const rid = 4242;
      const post = async (body: string): Promise<Element> => {
        const r = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'text/xml; charset=utf-8' } });
        let out: Element | undefined;
        new XmlStreamParser('framed', { element: (el) => (out = el), error: (e) => { throw e; } }, { maxStanzaSize: 1_000_000 }).write(await r.text());
        return out as Element;
      };
      const created = await post(`<body rid="${rid}" xmlns="${NS_HTTPBIND}" to="${s.domain}" xml:lang="en" wait="10" hold="1" ver="1.6" xmpp:version="1.0" xmlns:xmpp="urn:xmpp:xbosh"/>`);
      const sid = created.attrs.sid as string;
      const res = await post(`<body rid="${rid + 1}" sid="${sid}" xmlns="${NS_HTTPBIND}"><auth xmlns="${NS_SASL}" mechanism="ANONYMOUS"/></body>`);
      return res.children.find((x): x is Element => typeof x !== 'string');
    };
    expect((await bosh(`${s.boshUrl}?room=room1&token=${token}`))?.name).toBe('success');
    const refused = await bosh(s.boshUrl);
    expect(refused?.name).toBe('failure');
    expect(refused?.getChildText('text')).toBe('token required');
  });

  it('guests without a token log in on the guest domain', async () => {
    const s = await start(jwtMode());
    const { c } = await open(s.wsUrl);
    expect(await mechanisms(c, 'guest.meet.jitsi')).toEqual(['ANONYMOUS']);
    expect((await auth(c, 'ANONYMOUS')).name).toBe('success');
    expect(s.xmpp.auth.identity(await bind(c, 'guest.meet.jitsi'))?.kind).toBe('guest');
  });

  it('a token holder may only join the room of its room claim (not-allowed elsewhere); * allows any', async () => {
    const s = await start(jwtMode());
    for (const r of ['room1', 'room2']) focusCreatesRoom(s, `${r}@${s.muc}`);
    await waitFor(() => (s.xmpp.muc.rooms.size === 2 ? undefined : 'rooms missing'));
    const { c } = await open(`${s.wsUrl}?token=${signToken(claims({ room: 'Room1' }), SECRET)}`);
    await mechanisms(c, s.domain);
    await auth(c, 'ANONYMOUS');
    await bind(c, s.domain);
    const other = await joinRoom(c, `room2@${s.muc}/tok1`);
    expect(other.attrs.type).toBe('error');
    expect(errorCondition(other)).toBe('not-allowed');
    expect(other.getChild('error')?.attrs.type).toBe('cancel');
    expect((await joinRoom(c, `room1@${s.muc}/tok1`)).attrs.type).toBeUndefined();

    const { c: any } = await open(`${s.wsUrl}?token=${signToken(claims({ room: '*' }), SECRET)}`);
    await mechanisms(any, s.domain);
    await auth(any, 'ANONYMOUS');
    await bind(any, s.domain);
    expect((await joinRoom(any, `room2@${s.muc}/tok2`)).attrs.type).toBeUndefined();
  });

  it('tokens never reach the log, even at debug level and when refused', async () => {
    const s = await start(jwtMode(), 'debug');
    const good = signToken(claims(), SECRET);
    const expired = signToken(claims({ exp: NOW_S() - 3600 }), SECRET);
    for (const token of [good, expired]) {
      const { c } = await open(`${s.wsUrl}?room=room1&token=${token}`);
      await mechanisms(c, s.domain);
      await auth(c, 'ANONYMOUS');
      c.close();
    }
    await waitFor(() => (s.xmpp.allSessions.size === 0 ? undefined : 'sessions left'));
    const all = JSON.stringify(s.logs);
    expect(s.logs.some((l) => l.msg === 'token authentication failed' && l.reason === 'expired')).toBe(true);
    for (const token of [good, expired]) {
      for (const part of token.split('.')) expect(all).not.toContain(part);
    }
    expect(all).not.toContain(SECRET);
  });
});
