/**
 * muc#owner (configuration form, password lock, destroy) and discovery of the service and rooms
 * (PROTOCOL.md §3.3.7–3.3.9).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Element } from '../src/index.js';
import type { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';
import { clients, codes, configSubmit, errorCondition, isPresence, join, mucUser } from './muc-helpers.js';

const NS_OWNER = 'http://jabber.org/protocol/muc#owner';
let srv: TestServer;
let open: TestClient[] = [];
const room = () => `owner@${srv.muc}`;

beforeEach(async () => {
  srv = await startTestServer();
  open = (await clients(srv, 3)) as TestClient[];
});
afterEach(async () => {
  for (const c of open) c.close();
  await srv.stop();
});

function fields(form: Element | undefined): Map<string, Element> {
  return new Map((form?.getChildren('field') ?? []).map((f) => [f.attrs.var as string, f]));
}

async function discoInfo(c: TestClient, to: string, id = c.nextId()): Promise<Element> {
  return c.iq(`<iq type="get" id="${id}" to="${to}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
}

const features = (info: Element) => info.getChild('query')?.getChildren('feature').map((f) => f.attrs.var as string) ?? [];

describe('configuration form', () => {
  it('owner gets a muc#roomconfig form with every field LJM needs (roomsecret included); others are forbidden', async () => {
    const [a, b] = open as [TestClient, TestClient];
    await join(a, `${room()}/a`);
    await join(b, `${room()}/b`);
    const res = await a.iq(`<iq type="get" id="f1" to="${room()}"><query xmlns="${NS_OWNER}"/></iq>`);
    expect(res.attrs.type).toBe('result');
    const form = res.getChild('query', NS_OWNER)?.getChild('x', 'jabber:x:data');
    expect(form?.attrs.type).toBe('form');
    const f = fields(form);
    expect(f.get('FORM_TYPE')?.attrs.type).toBe('hidden');
    expect(f.get('FORM_TYPE')?.getChildText('value')).toBe('http://jabber.org/protocol/muc#roomconfig');
    for (const name of [
      'roomname',
      'roomdesc',
      'persistentroom',
      'publicroom',
      'changesubject',
      'membersonly',
      'passwordprotectedroom',
      'roomsecret',
      'whois',
      'maxusers',
      'moderatedroom',
    ]) {
      expect(f.has(`muc#roomconfig_${name}`), name).toBe(true);
    }
    expect(f.get('muc#roomconfig_persistentroom')?.getChildText('value')).toBe('0');
    expect(f.get('muc#roomconfig_whois')?.getChildText('value')).toBe('anyone');
    expect(f.get('muc#roomconfig_roomsecret')?.attrs.type).toBe('text-private');
    const denied = await b.iq(`<iq type="get" id="f2" to="${room()}"><query xmlns="${NS_OWNER}"/></iq>`);
    expect(errorCondition(denied)).toBe('forbidden');
    const denied2 = await b.iq(configSubmit(room(), 'f3', { 'muc#roomconfig_roomname': 'x' }));
    expect(errorCondition(denied2)).toBe('forbidden');
    const missing = await a.iq(`<iq type="get" id="f4" to="nope@${srv.muc}"><query xmlns="${NS_OWNER}"/></iq>`);
    expect(errorCondition(missing)).toBe('item-not-found');
  });

  it('a submission is answered, then every occupant gets a status-104 message; cancel is OK; bad values change nothing', async () => {
    const [a, b] = open as [TestClient, TestClient];
    await join(a, `${room()}/a`);
    await join(b, `${room()}/b`);
    a.send(configSubmit(room(), 's1', { 'muc#roomconfig_roomname': 'Daily standup', 'muc#roomconfig_whois': 'anyone', 'muc#roomconfig_publicroom': '1' }));
    const res = await a.expect((s) => s.name === 'iq' && s.attrs.id === 's1');
    expect(res.attrs.type).toBe('result');
    const m104 = await a.expect((s) => s.name === 'message' && codes(s).includes('104'));
    expect(a.received.indexOf(res)).toBeLessThan(a.received.indexOf(m104));
    expect(m104.attrs.from).toBe(room());
    expect(m104.attrs.type).toBe('groupchat');
    await b.expect((s) => s.name === 'message' && s.attrs.from === room() && codes(s).includes('104'));
    expect(srv.xmpp.muc.getRoom(room())?.config.name).toBe('Daily standup');

    const cancel = await a.iq(`<iq type="set" id="s2" to="${room()}"><query xmlns="${NS_OWNER}"><x xmlns="jabber:x:data" type="cancel"/></query></iq>`);
    expect(cancel.attrs.type).toBe('result');

    // One bad field: not-acceptable and nothing applied (the draft is discarded).
    const bad = await a.iq(configSubmit(room(), 's3', { 'muc#roomconfig_roomname': 'Other', 'muc#roomconfig_maxusers': 'many' }));
    expect(errorCondition(bad)).toBe('not-acceptable');
    const bad2 = await a.iq(configSubmit(room(), 's4', { 'muc#roomconfig_persistentroom': '1' }));
    expect(errorCondition(bad2)).toBe('not-acceptable');
    expect(srv.xmpp.muc.getRoom(room())?.config.name).toBe('Daily standup');

    // Public rooms are listed by the service, with their name.
    const items = await a.iq(`<iq type="get" id="items" to="${srv.muc}"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`);
    expect(items.getChild('query')?.getChildren('item').map((i) => i.attrs)).toEqual([{ jid: room(), name: 'Daily standup' }]);
  });
});

describe('password-protected room', () => {
  it('lock: join without or with a wrong password is auth/not-authorized, the right one works; disco shows it; unlock', async () => {
    const [a, b, c] = open as [TestClient, TestClient, TestClient];
    await join(a, `${room()}/a`);
    // Exactly what LJM's lockRoom sends.
    a.send(
      configSubmit(room(), 'lock', {
        'muc#roomconfig_roomsecret': 's3cr&amp;t',
        'muc#roomconfig_passwordprotectedroom': '1',
        'muc#roomconfig_whois': 'anyone',
      }),
    );
    expect((await a.expect((s) => s.attrs.id === 'lock')).attrs.type).toBe('result');
    await a.expect((s) => s.name === 'message' && codes(s).includes('104'));
    const info = await discoInfo(a, room());
    expect(features(info)).toContain('muc_passwordprotected');
    expect(features(info)).not.toContain('muc_unsecured');

    const e1 = await join(b, `${room()}/b`);
    expect(e1.attrs.type).toBe('error');
    expect(e1.getChild('error')?.attrs.type).toBe('auth');
    expect(errorCondition(e1)).toBe('not-authorized');
    const e2 = await join(b, `${room()}/b`, '', '<password>wrong</password>');
    expect(errorCondition(e2)).toBe('not-authorized');
    const ok = await join(b, `${room()}/b`, '', '<password>s3cr&amp;t</password>');
    expect(ok.attrs.type).toBeUndefined();
    expect(srv.xmpp.muc.occupants(room()).map((o) => o.nick)).toEqual(['a', 'b']);

    // The form shows the current secret to the owner.
    const form = await a.iq(`<iq type="get" id="f" to="${room()}"><query xmlns="${NS_OWNER}"/></iq>`);
    const f = fields(form.getChild('query')?.getChild('x'));
    expect(f.get('muc#roomconfig_roomsecret')?.getChildText('value')).toBe('s3cr&t');
    expect(f.get('muc#roomconfig_passwordprotectedroom')?.getChildText('value')).toBe('1');

    // Unlock as LJM does: empty secret and 0.
    a.send(configSubmit(room(), 'unlock', { 'muc#roomconfig_roomsecret': '', 'muc#roomconfig_passwordprotectedroom': '0' }));
    expect((await a.expect((s) => s.attrs.id === 'unlock')).attrs.type).toBe('result');
    expect(features(await discoInfo(a, room()))).toContain('muc_unsecured');
    const okC = await join(c, `${room()}/c`);
    expect(okC.attrs.type).toBeUndefined();
  });
});

describe('destroy', () => {
  it('owner destroys: every occupant gets unavailable with item none/none and <destroy><reason>; the room is gone', async () => {
    const [a, b, c] = open as [TestClient, TestClient, TestClient];
    await join(a, `${room()}/a`);
    await join(b, `${room()}/b`);
    await join(c, `${room()}/c`);
    const denied = await b.iq(`<iq type="set" id="d0" to="${room()}"><query xmlns="${NS_OWNER}"><destroy/></query></iq>`);
    expect(errorCondition(denied)).toBe('forbidden');
    const left: string[] = [];
    srv.xmpp.muc.events.on('muc-occupant-left', ({ occupant, reason }) => {
      left.push(`${occupant.nick}:${reason}`);
    });
    const res = await a.iq(`<iq type="set" id="d1" to="${room()}"><query xmlns="${NS_OWNER}"><destroy><reason>Meeting ended</reason></destroy></query></iq>`);
    expect(res.attrs.type).toBe('result');
    for (const [cl, nick] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) {
      const p = await cl.expect(isPresence(`${room()}/${nick}`, 'unavailable'));
      const x = mucUser(p);
      expect(x?.getChild('item')?.attrs).toEqual({ affiliation: 'none', role: 'none' });
      expect(x?.getChild('destroy')?.getChildText('reason')).toBe('Meeting ended');
    }
    expect(srv.xmpp.muc.rooms.size).toBe(0);
    expect(left.sort()).toEqual(['a:destroyed', 'b:destroyed', 'c:destroyed']);
    const info = await discoInfo(a, room());
    expect(errorCondition(info)).toBe('item-not-found');
  });
});

describe('discovery', () => {
  it('room disco#info as PROTOCOL §3.3.8: identity, features and the roominfo form with meetingId and created_timestamp', async () => {
    const [a] = open as [TestClient];
    const before = Date.now();
    await join(a, `${room()}/a`);
    const info = await discoInfo(a, room());
    expect(info.attrs.type).toBe('result');
    expect(info.attrs.from).toBe(room());
    const q = info.getChild('query', 'http://jabber.org/protocol/disco#info');
    expect(q?.getChild('identity')?.attrs).toEqual({ category: 'conference', type: 'text', name: 'owner' });
    expect(features(info).sort()).toEqual(
      ['http://jabber.org/protocol/muc', 'muc_hidden', 'muc_open', 'muc_unmoderated', 'muc_nonanonymous', 'muc_unsecured', 'muc_temporary'].sort(),
    );
    const form = q?.getChild('x', 'jabber:x:data');
    expect(form?.attrs.type).toBe('result');
    const f = fields(form);
    expect(f.get('FORM_TYPE')?.getChildText('value')).toBe('http://jabber.org/protocol/muc#roominfo');
    const meetingId = f.get('muc#roominfo_meetingId')?.getChildText('value');
    expect(meetingId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(meetingId).toBe(srv.xmpp.muc.getRoom(room())?.meetingId);
    const created = Number(f.get('muc#roominfo_created_timestamp')?.getChildText('value'));
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Date.now());
    // Non-existent room.
    const none = await discoInfo(a, `nothing@${srv.muc}`);
    expect(none.attrs.type).toBe('error');
    expect(errorCondition(none)).toBe('item-not-found');
  });

  it('disco#info to an occupant JID is routed to that client and answered back', async () => {
    const [a, b] = open as [TestClient, TestClient];
    await join(a, `${room()}/a`);
    await join(b, `${room()}/b`);
    a.send(`<iq type="get" id="caps" to="${room()}/b"><query xmlns="http://jabber.org/protocol/disco#info" node="https://jitsi.org/jitsi-meet#x"/></iq>`);
    const got = await b.expect((s) => s.name === 'iq' && s.attrs.type === 'get');
    expect(got.attrs.from).toBe(`${room()}/a`);
    b.send(
      `<iq type="result" id="${got.attrs.id}" to="${room()}/a"><query xmlns="http://jabber.org/protocol/disco#info" node="https://jitsi.org/jitsi-meet#x"><feature var="urn:xmpp:jingle:1"/></query></iq>`,
    );
    const res = await a.expect((s) => s.name === 'iq' && s.attrs.id === 'caps');
    expect(res.getChild('query')?.getChild('feature')?.attrs.var).toBe('urn:xmpp:jingle:1');
  });

  it('the service answers disco#info with conference/text and the MUC feature; hidden rooms are not listed', async () => {
    const [a] = open as [TestClient];
    await join(a, `${room()}/a`);
    const info = await discoInfo(a, srv.muc);
    expect(info.getChild('query')?.getChild('identity')?.attrs).toMatchObject({ category: 'conference', type: 'text' });
    expect(features(info)).toContain('http://jabber.org/protocol/muc');
    const items = await a.iq(`<iq type="get" id="it" to="${srv.muc}"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`);
    expect(items.getChild('query')?.getChildren('item')).toHaveLength(0);
    await waitFor(() => (srv.xmpp.muc.rooms.size === 1 ? undefined : 'room missing'));
  });
});
