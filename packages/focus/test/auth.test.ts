/**
 * Secure rooms at the focus (PROTOCOL-FEATURES §9, Jicofo `ConferenceIqHandler` + `XMPPDomainAuthAuthority` +
 * `AuthenticationRoleManager`): only authenticated users make the focus create a room, guests join rooms that
 * exist, the login-session (`session-id`) flow lib-jitsi-meet uses to "log in" from a guest connection, moderators
 * by authentication and by the token's moderator flag, and the token's room claim. A real XmppServer on loopback
 * with scripted WebSocket clients; no bridge (no media needed here).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuthConfigInput, type Element, hashPassword, NS_MUC, signToken } from '@jitsi-one/xmpp';
import { TestClient } from '../../xmpp/test/client.js';
import { startTestServer, type TestServer, waitFor } from '../../xmpp/test/helpers.js';
import { FocusManager } from '../src/focus.js';

const FOCUS_BARE = 'focus@auth.meet.jitsi';
const NS_FOCUS = 'http://jitsi.org/protocol/focus';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const GUEST = 'guest.meet.jitsi';
const SECRET = 'focus-test-secret-focus-test-secret-0123';

let srv: TestServer;
let focus: FocusManager;
const clients: TestClient[] = [];
let hash = '';

beforeAll(async () => {
  hash = await hashPassword('wonderland', { ln: 10 });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await focus?.stop();
  await srv?.stop();
});

async function start(auth: AuthConfigInput): Promise<void> {
  srv = await startTestServer({ muc: { admins: [FOCUS_BARE] } }, { auth });
  focus = new FocusManager({ xmpp: srv.xmpp, colibri: undefined, timing: { discoTimeoutMs: 200 } });
  focus.start();
}

const secureDomain = (): AuthConfigInput => ({
  mode: 'secure-domain',
  users: [
    { username: 'alice', passwordHash: hash },
    { username: 'bob', passwordHash: hash },
  ],
});
const jwt = (): AuthConfigInput => ({ mode: 'jwt', jwt: { appId: 'my-app', appSecret: SECRET } });

async function login(user: string): Promise<TestClient> {
  const c = await TestClient.open(srv.wsUrl);
  clients.push(c);
  await c.login(srv.domain, 'PLAIN', Buffer.from(`\0${user}\0wonderland`).toString('base64'));
  return c;
}

async function guest(): Promise<TestClient> {
  const c = await TestClient.open(srv.wsUrl);
  clients.push(c);
  await c.login(GUEST);
  return c;
}

async function tokenHolder(claims: Record<string, unknown>): Promise<TestClient> {
  const token = signToken({ iss: 'my-app', aud: 'jitsi', exp: Math.floor(Date.now() / 1000) + 600, ...claims }, SECRET);
  const c = await TestClient.open(`${srv.wsUrl}?room=x&token=${token}`);
  clients.push(c);
  await c.login(srv.domain);
  return c;
}

function conferenceIq(c: TestClient, room: string, attrs: Record<string, string> = { 'machine-uid': 'm-1' }): Promise<Element> {
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return c.iq(`<iq type="set" id="${c.nextId()}" to="focus.${srv.domain}"><conference xmlns="${NS_FOCUS}" room="${room}"${extra}/></iq>`);
}

function errorOf(s: Element): { type: string | undefined; condition: string | undefined; text: string | undefined; app: string | undefined } {
  const err = s.getChild('error');
  let condition: string | undefined;
  let app: string | undefined;
  for (const c of err?.children ?? []) {
    if (typeof c === 'string') continue;
    if (c.attrs.xmlns === NS_STANZAS && c.name !== 'text') condition = c.name;
    else if (c.attrs.xmlns !== NS_STANZAS) app = `${c.attrs.xmlns as string}:${c.name}`;
  }
  return { type: err?.attrs.type, condition, text: err?.getChildText('text') ?? undefined, app };
}

function property(res: Element, name: string): string | undefined {
  return res.getChild('conference', NS_FOCUS)?.getChildren('property').find((p) => p.attrs.name === name)?.attrs.value;
}

async function join(c: TestClient, room: string, nick: string): Promise<void> {
  c.send(`<presence to="${room}/${nick}"><x xmlns="${NS_MUC}"/></presence>`);
  const p = await c.expect((s) => s.name === 'presence' && s.attrs.from === `${room}/${nick}`);
  expect(p.attrs.type, p.toString()).toBeUndefined();
}

const affiliation = (room: string, nick: string) => srv.xmpp.muc.rooms.get(room)?.getOccupant(nick)?.affiliation;

/** A round trip through the focus: everything it did before answering has been routed. */
async function settle(c: TestClient): Promise<void> {
  await c.iq(`<iq type="get" id="${c.nextId()}" to="focus.${srv.domain}"><ping xmlns="urn:xmpp:ping"/></iq>`);
  await new Promise((r) => setTimeout(r, 50));
}

describe('secure domain', () => {
  it('an authenticated user creates the room: ready, a session id, its identity, authentication=true; it is made owner', async () => {
    await start(secureDomain());
    const room = `room1@${srv.muc}`;
    const alice = await login('alice');
    const res = await conferenceIq(alice, room);
    expect(res.attrs.type).toBe('result');
    const conf = res.getChild('conference', NS_FOCUS);
    expect(conf?.attrs).toMatchObject({ ready: 'true', focusjid: FOCUS_BARE, identity: 'alice@meet.jitsi' });
    expect(conf?.attrs['session-id']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(property(res, 'authentication')).toBe('true');
    expect(property(res, 'externalAuth')).toBe('false');
    await join(alice, room, 'a1a1a1a1');
    await waitFor(() => (affiliation(room, 'a1a1a1a1') === 'owner' ? undefined : 'alice is not owner'));
  });

  it('a guest cannot create a room (not-authorized, as Jicofo) but joins once an authenticated user has created it, without moderator rights', async () => {
    await start(secureDomain());
    const room = `room1@${srv.muc}`;
    const g = await guest();
    const refused = await conferenceIq(g, room);
    expect(refused.attrs.type).toBe('error');
    expect(errorOf(refused)).toEqual({ type: 'auth', condition: 'not-authorized', text: 'not authorized user domain', app: undefined });
    expect(focus.conferences.size).toBe(0);
    expect(srv.xmpp.muc.rooms.size).toBe(0);
    // Going around the focus does not help: the MUC lets only the focus create rooms.
    g.send(`<presence to="${room}/g1g1g1g1"><x xmlns="${NS_MUC}"/></presence>`);
    const direct = await g.expect((s) => s.name === 'presence' && s.attrs.type === 'error');
    expect(errorOf(direct).condition).toBe('not-allowed');
    expect(srv.xmpp.muc.rooms.size).toBe(0);

    const alice = await login('alice');
    expect((await conferenceIq(alice, room)).attrs.type).toBe('result');
    await join(alice, room, 'a1a1a1a1');
    const again = await conferenceIq(g, room);
    expect(again.getChild('conference', NS_FOCUS)?.attrs).toMatchObject({ ready: 'true' });
    expect(again.getChild('conference', NS_FOCUS)?.attrs['session-id']).toBeUndefined();
    await join(g, room, 'g1g1g1g1');
    await waitFor(() => (affiliation(room, 'a1a1a1a1') === 'owner' ? undefined : 'alice not owner'));
    await settle(g);
    expect(affiliation(room, 'g1g1g1g1')).toBe('none');
    // The guest stays without rights when the owner leaves (no auto-owner among guests).
    alice.close();
    await waitFor(() => (srv.xmpp.muc.rooms.get(room)?.getOccupant('a1a1a1a1') ? 'alice still there' : undefined));
    await settle(g);
    expect(affiliation(room, 'g1g1g1g1')).toBe('none');
  });

  it('"log in" from a guest connection (lib-jitsi-meet authenticateAndUpgradeRole): the session id authenticates the guest JID', async () => {
    await start(secureDomain());
    const room = `room2@${srv.muc}`;
    const g = await guest();
    expect(errorOf(await conferenceIq(g, room, { 'machine-uid': 'browser-1' })).condition).toBe('not-authorized');
    // A second connection logs in and asks the focus; it gets a session id and disconnects without joining.
    const auth = await login('bob');
    const viaLogin = await conferenceIq(auth, room, { 'machine-uid': 'browser-1' });
    const sessionId = viaLogin.getChild('conference', NS_FOCUS)?.attrs['session-id'] as string;
    expect(sessionId).toBeDefined();
    auth.close();
    // The guest connection repeats its request with the session id: accepted, and it is made owner on join.
    const upgraded = await conferenceIq(g, room, { 'machine-uid': 'browser-1', 'session-id': sessionId });
    expect(upgraded.getChild('conference', NS_FOCUS)?.attrs).toMatchObject({ ready: 'true', 'session-id': sessionId, identity: 'bob@meet.jitsi' });
    await join(g, room, 'g2g2g2g2');
    await waitFor(() => (affiliation(room, 'g2g2g2g2') === 'owner' ? undefined : 'guest with a session is not owner'));
  });

  it('a guest already in the room who logs in is made owner when it repeats the request with the session id', async () => {
    await start(secureDomain());
    const room = `room3@${srv.muc}`;
    const alice = await login('alice');
    await conferenceIq(alice, room);
    await join(alice, room, 'a1a1a1a1');
    const g = await guest();
    await conferenceIq(g, room, { 'machine-uid': 'browser-2' });
    await join(g, room, 'g3g3g3g3');
    await settle(g);
    expect(affiliation(room, 'g3g3g3g3')).toBe('none');
    const bob = await login('bob');
    const sessionId = (await conferenceIq(bob, room, { 'machine-uid': 'browser-2' })).getChild('conference', NS_FOCUS)?.attrs['session-id'] as string;
    bob.close();
    await conferenceIq(g, room, { 'machine-uid': 'browser-2', 'session-id': sessionId });
    await waitFor(() => (affiliation(room, 'g3g3g3g3') === 'owner' ? undefined : 'guest not upgraded'));
  });

  it('refuses an unknown session id (session-invalid) and a session id from another machine; logout ends a session', async () => {
    await start(secureDomain());
    const room = `room4@${srv.muc}`;
    const g = await guest();
    const unknown = await conferenceIq(g, room, { 'machine-uid': 'm-1', 'session-id': 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(errorOf(unknown)).toEqual({ type: 'modify', condition: 'not-acceptable', text: 'invalid session', app: `${NS_FOCUS}:session-invalid` });

    const alice = await login('alice');
    const sessionId = (await conferenceIq(alice, room, { 'machine-uid': 'm-1' })).getChild('conference', NS_FOCUS)?.attrs['session-id'] as string;
    const stolen = await conferenceIq(g, room, { 'machine-uid': 'm-2', 'session-id': sessionId });
    expect(errorOf(stolen)).toMatchObject({ condition: 'not-acceptable', text: 'machine UID mismatch or empty' });

    const out = await alice.iq(`<iq type="set" id="lo1" to="focus.${srv.domain}"><logout xmlns="${NS_FOCUS}" session-id="${sessionId}"/></iq>`);
    expect(out.attrs.type).toBe('result');
    const after = await conferenceIq(g, room, { 'machine-uid': 'm-1', 'session-id': sessionId });
    expect(errorOf(after).app).toBe(`${NS_FOCUS}:session-invalid`);
    const twice = await alice.iq(`<iq type="set" id="lo2" to="focus.${srv.domain}"><logout xmlns="${NS_FOCUS}" session-id="${sessionId}"/></iq>`);
    expect(errorOf(twice).app).toBe(`${NS_FOCUS}:session-invalid`);
  });

  it('login sessions are forgotten when their conference ends', async () => {
    await start(secureDomain());
    const room = `room5@${srv.muc}`;
    const alice = await login('alice');
    await conferenceIq(alice, room);
    await join(alice, room, 'a1a1a1a1');
    expect(focus.authority.sessionCount).toBe(1);
    alice.send(`<presence to="${room}/a1a1a1a1" type="unavailable"/>`);
    await waitFor(() => (focus.conferences.size === 0 ? undefined : 'conference still running'));
    expect(focus.authority.sessionCount).toBe(0);
  });
});

describe('JWT', () => {
  it('a token holder creates the room of its claim; authentication=false (no login sessions); the moderator flag makes it owner', async () => {
    await start(jwt());
    const room = `room1@${srv.muc}`;
    const t = await tokenHolder({ room: 'room1', context: { user: { name: 'T', moderator: true } } });
    const res = await conferenceIq(t, room);
    expect(res.getChild('conference', NS_FOCUS)?.attrs).toMatchObject({ ready: 'true' });
    expect(res.getChild('conference', NS_FOCUS)?.attrs['session-id']).toBeUndefined();
    expect(property(res, 'authentication')).toBe('false');
    await join(t, room, 't1t1t1t1');
    await waitFor(() => (affiliation(room, 't1t1t1t1') === 'owner' ? undefined : 'token holder not owner'));
  });

  it('moderator: false keeps a token holder from being owner even when first; no claim: authenticated, so owner', async () => {
    await start(jwt());
    const room = `room1@${srv.muc}`;
    const denied = await tokenHolder({ room: '*', context: { user: { moderator: 'false' } } });
    await conferenceIq(denied, room);
    await join(denied, room, 'd1d1d1d1');
    const plain = await tokenHolder({ room: 'room1' });
    await conferenceIq(plain, room);
    await join(plain, room, 'p1p1p1p1');
    await waitFor(() => (affiliation(room, 'p1p1p1p1') === 'owner' ? undefined : 'token holder without a flag not owner'));
    await settle(denied);
    expect(affiliation(room, 'd1d1d1d1')).toBe('none');
  });

  it('a token for another room is refused (not-allowed) whether or not the room exists', async () => {
    await start(jwt());
    const t = await tokenHolder({ room: 'room1' });
    const res = await conferenceIq(t, `room2@${srv.muc}`);
    expect(errorOf(res)).toMatchObject({ type: 'cancel', condition: 'not-allowed', text: 'room not allowed by the token' });
    expect(focus.conferences.size).toBe(0);
    const owner = await tokenHolder({ room: 'room2' });
    expect((await conferenceIq(owner, `room2@${srv.muc}`)).attrs.type).toBe('result');
    expect(errorOf(await conferenceIq(t, `room2@${srv.muc}`)).condition).toBe('not-allowed');
  });

  it('a guest (no token, guest domain) cannot create a room but joins one a token holder created', async () => {
    await start(jwt());
    const room = `room1@${srv.muc}`;
    const g = await guest();
    expect(errorOf(await conferenceIq(g, room)).condition).toBe('not-authorized');
    const t = await tokenHolder({ room: 'room1' });
    await conferenceIq(t, room);
    await join(t, room, 't1t1t1t1');
    expect((await conferenceIq(g, room)).attrs.type).toBe('result');
    await join(g, room, 'g1g1g1g1');
    await settle(g);
    expect(affiliation(room, 'g1g1g1g1')).toBe('none');
  });
});

describe('anonymous mode (default)', () => {
  it('is unchanged: anyone creates rooms, authentication=false, the first participant is owner', async () => {
    await start({});
    const room = `room1@${srv.muc}`;
    const c = await TestClient.connect(srv);
    clients.push(c);
    const res = await conferenceIq(c, room);
    expect(res.getChild('conference', NS_FOCUS)?.attrs.ready).toBe('true');
    expect(property(res, 'authentication')).toBe('false');
    expect(property(res, 'externalAuth')).toBeUndefined();
    await join(c, room, 'c1c1c1c1');
    await waitFor(() => (affiliation(room, 'c1c1c1c1') === 'owner' ? undefined : 'not owner'));
    expect(srv.xmpp.muc.rooms.get(room)?.getOccupant('c1c1c1c1')?.role).toBe('moderator');
  });
});
