/**
 * Groupchat, private messages, IQs between occupants, subject and history (PROTOCOL.md §3.3.5–3.3.6).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NS_MUC_USER } from '../src/index.js';
import type { TestClient } from './client.js';
import { type TestServer, startTestServer } from './helpers.js';
import { clients, codes, configSubmit, errorCondition, isPresence, join } from './muc-helpers.js';

let srv: TestServer;
let open: TestClient[] = [];
const room = () => `msgs@${srv.muc}`;

async function setup(config = {}): Promise<[TestClient, TestClient, TestClient]> {
  srv = await startTestServer(config);
  const cs = await clients(srv, 3);
  open = cs;
  await join(cs[0] as TestClient, `${room()}/a`);
  await join(cs[1] as TestClient, `${room()}/b`);
  await join(cs[2] as TestClient, `${room()}/c`);
  return cs as [TestClient, TestClient, TestClient];
}

afterEach(async () => {
  for (const c of open) c.close();
  await srv.stop();
});

describe('groupchat', () => {
  beforeEach(() => {
    open = [];
  });

  it('is reflected to every occupant including the sender, from room/nick, keeping id and all children', async () => {
    const [a, b, c] = await setup();
    const json = '<json-message xmlns="http://jitsi.org/jitmeet">{"type":"x","v":"&lt;b&gt;"}</json-message>';
    a.send(`<message type="groupchat" to="${room()}" id="msg-1"><body>hello &amp; bye</body>${json}<reply xmlns="urn:xmpp:reply:0" to="${room()}/b"/></message>`);
    for (const cl of [a, b, c]) {
      const m = await cl.expect((s) => s.name === 'message' && s.attrs.id === 'msg-1');
      expect(m.attrs.from).toBe(`${room()}/a`);
      expect(m.attrs.to).toBe(cl.jid);
      expect(m.attrs.type).toBe('groupchat');
      expect(m.getChildText('body')).toBe('hello & bye');
      expect(m.getChild('json-message', 'http://jitsi.org/jitmeet')?.getText()).toBe('{"type":"x","v":"<b>"}');
      expect(m.getChild('reply', 'urn:xmpp:reply:0')?.attrs.to).toBe(`${room()}/b`);
    }
  });

  it('from a non-occupant is not-acceptable; to a room that does not exist is item-not-found', async () => {
    const [a] = await setup();
    const [outsider] = await clients(srv, 1);
    open.push(outsider as TestClient);
    (outsider as TestClient).send(`<message type="groupchat" to="${room()}" id="x1"><body>hi</body></message>`);
    const err = await (outsider as TestClient).expect((s) => s.name === 'message' && s.attrs.id === 'x1');
    expect(err.attrs.type).toBe('error');
    expect(errorCondition(err)).toBe('not-acceptable');
    (outsider as TestClient).send(`<message type="groupchat" to="nowhere@${srv.muc}" id="x2"><body>hi</body></message>`);
    const err2 = await (outsider as TestClient).expect((s) => s.name === 'message' && s.attrs.id === 'x2');
    expect(errorCondition(err2)).toBe('item-not-found');
    expect(a.all((s) => s.name === 'message' && s.getChildText('body') === 'hi')).toHaveLength(0);
  });

  it('visitors in a moderated room may not speak (forbidden) until given voice', async () => {
    const [a, b] = await setup();
    a.send(configSubmit(room(), 'mod', { 'muc#roomconfig_moderatedroom': '1' }));
    expect((await a.expect((s) => s.attrs.id === 'mod')).attrs.type).toBe('result');
    const [v] = await clients(srv, 1);
    open.push(v as TestClient);
    const self = await join(v as TestClient, `${room()}/v`);
    expect(self.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.role).toBe('visitor');
    (v as TestClient).send(`<message type="groupchat" to="${room()}" id="v1"><body>can I?</body></message>`);
    const err = await (v as TestClient).expect((s) => s.name === 'message' && s.attrs.id === 'v1');
    expect(errorCondition(err)).toBe('forbidden');
    a.send(`<iq type="set" id="voice" to="${room()}"><query xmlns="http://jabber.org/protocol/muc#admin"><item nick="v" role="participant"/></query></iq>`);
    expect((await a.expect((s) => s.attrs.id === 'voice')).attrs.type).toBe('result');
    const upd = await b.expect((s) => isPresence(`${room()}/v`)(s) && s.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.role === 'participant');
    expect(upd).toBeDefined();
    (v as TestClient).send(`<message type="groupchat" to="${room()}" id="v2"><body>now</body></message>`);
    await b.expect((s) => s.name === 'message' && s.attrs.id === 'v2');
  });
});

describe('private messages', () => {
  beforeEach(() => {
    open = [];
  });

  it('chat to room/nick reaches that occupant from room/sender, and is not reflected', async () => {
    const [a, b, c] = await setup();
    a.send(`<message type="chat" to="${room()}/b" id="pm1"><body>psst</body></message>`);
    const m = await b.expect((s) => s.name === 'message' && s.attrs.id === 'pm1');
    expect(m.attrs.from).toBe(`${room()}/a`);
    expect(m.attrs.to).toBe(b.jid);
    expect(m.getChildText('body')).toBe('psst');
    expect(m.getChild('x', NS_MUC_USER)).toBeDefined();
    // Sync point: a later groupchat reaches a and c; the private one never did.
    b.send(`<message type="groupchat" to="${room()}" id="sync"><body>s</body></message>`);
    await a.expect((s) => s.attrs.id === 'sync');
    await c.expect((s) => s.attrs.id === 'sync');
    expect(a.all((s) => s.attrs.id === 'pm1')).toHaveLength(0);
    expect(c.all((s) => s.attrs.id === 'pm1')).toHaveLength(0);
  });

  it('to a missing nick is item-not-found; from a non-occupant is not-acceptable', async () => {
    const [a] = await setup();
    a.send(`<message type="chat" to="${room()}/ghost" id="pm2"><body>?</body></message>`);
    const err = await a.expect((s) => s.name === 'message' && s.attrs.id === 'pm2');
    expect(err.attrs.type).toBe('error');
    expect(err.attrs.from).toBe(`${room()}/ghost`);
    expect(errorCondition(err)).toBe('item-not-found');
    const [outsider] = (await clients(srv, 1)) as [TestClient];
    open.push(outsider);
    outsider.send(`<message type="chat" to="${room()}/a" id="pm3"><body>?</body></message>`);
    const err2 = await outsider.expect((s) => s.name === 'message' && s.attrs.id === 'pm3');
    expect(errorCondition(err2)).toBe('not-acceptable');
  });
});

describe('IQs between occupants', () => {
  beforeEach(() => {
    open = [];
  });

  it('a get/set reaches the target from room/sender with a rewritten id; the answer returns with the original id from room/target', async () => {
    const [a, b] = await setup();
    const jingle = '<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s1"><content name="audio"/></jingle>';
    a.send(`<iq type="set" id="jingle-1" to="${room()}/b">${jingle}</iq>`);
    const got = await b.expect((s) => s.name === 'iq' && s.attrs.type === 'set');
    expect(got.attrs.from).toBe(`${room()}/a`);
    expect(got.attrs.to).toBe(b.jid);
    expect(got.attrs.id).not.toBe('jingle-1');
    expect((got.attrs.id as string).length).toBeGreaterThanOrEqual(16);
    expect(got.getChild('jingle', 'urn:xmpp:jingle:1')?.attrs.sid).toBe('s1');
    expect(srv.xmpp.muc.iqProxy.pendingCount).toBe(1);
    b.send(`<iq type="result" id="${got.attrs.id}" to="${room()}/a"/>`);
    const res = await a.expect((s) => s.name === 'iq' && s.attrs.id === 'jingle-1');
    expect(res.attrs.type).toBe('result');
    expect(res.attrs.from).toBe(`${room()}/b`);
    expect(res.attrs.to).toBe(a.jid);
    expect(srv.xmpp.muc.iqProxy.pendingCount).toBe(0);
  });

  it('error answers go back the same way; answers from anyone but the target are dropped', async () => {
    const [a, b, c] = await setup();
    a.send(`<iq type="get" id="q-1" to="${room()}/b"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
    const got = await b.expect((s) => s.name === 'iq' && s.attrs.type === 'get');
    expect(got.getChild('query')?.attrs.xmlns).toBe('http://jabber.org/protocol/disco#info');
    // c tries to forge the answer with the id it cannot know anyway, and with the real one.
    c.send(`<iq type="result" id="${got.attrs.id}" to="${room()}/a"><query xmlns="urn:forged"/></iq>`);
    b.send(`<iq type="error" id="${got.attrs.id}" to="${room()}/a"><error type="cancel"><feature-not-implemented xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`);
    const res = await a.expect((s) => s.name === 'iq' && s.attrs.id === 'q-1');
    expect(res.attrs.type).toBe('error');
    expect(res.attrs.from).toBe(`${room()}/b`);
    expect(errorCondition(res)).toBe('feature-not-implemented');
    expect(a.all((s) => s.name === 'iq' && s.attrs.id === 'q-1')).toHaveLength(1);
  });

  it('to a missing nick is item-not-found; from a non-occupant is not-acceptable', async () => {
    const [a] = await setup();
    const r1 = await a.iq(`<iq type="get" id="m1" to="${room()}/nobody"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(r1.attrs.type).toBe('error');
    expect(r1.attrs.from).toBe(`${room()}/nobody`);
    expect(errorCondition(r1)).toBe('item-not-found');
    const [outsider] = (await clients(srv, 1)) as [TestClient];
    open.push(outsider);
    const r2 = await outsider.iq(`<iq type="get" id="m2" to="${room()}/a"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(errorCondition(r2)).toBe('not-acceptable');
  });

  it('answers self-ping (XEP-0410) and room ping for occupants only', async () => {
    const [a] = await setup();
    const r1 = await a.iq(`<iq type="get" id="sp" to="${room()}/a"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(r1.attrs.type).toBe('result');
    expect(r1.attrs.from).toBe(`${room()}/a`);
    const r2 = await a.iq(`<iq type="get" id="rp" to="${room()}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(r2.attrs.type).toBe('result');
    const [outsider] = (await clients(srv, 1)) as [TestClient];
    open.push(outsider);
    const r3 = await outsider.iq(`<iq type="get" id="rp2" to="${room()}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(errorCondition(r3)).toBe('not-acceptable');
    const r4 = await outsider.iq(`<iq type="get" id="rp3" to="gone@${srv.muc}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(errorCondition(r4)).toBe('item-not-found');
  });

  it('a request whose target left gets no answer from a stranger, and the answer to a requester who left is dropped', async () => {
    const [a, b] = await setup();
    a.send(`<iq type="get" id="late" to="${room()}/b"><query xmlns="urn:example"/></iq>`);
    const got = await b.expect((s) => s.name === 'iq' && s.attrs.type === 'get');
    a.send(`<presence to="${room()}/a" type="unavailable"/>`);
    await b.expect(isPresence(`${room()}/a`, 'unavailable'));
    b.send(`<iq type="result" id="${got.attrs.id}" to="${room()}/a"/>`);
    // Sync: b's next groupchat echo arrives after the (dropped) answer was processed.
    b.send(`<message type="groupchat" to="${room()}" id="sync2"><body>x</body></message>`);
    await b.expect((s) => s.attrs.id === 'sync2');
    expect(a.all((s) => s.name === 'iq' && s.attrs.id === 'late')).toHaveLength(0);
  });
});

describe('subject', () => {
  beforeEach(() => {
    open = [];
  });

  it('only moderators may change it by default; it is broadcast and sent to later joiners', async () => {
    const [a, b, c] = await setup();
    b.send(`<message type="groupchat" to="${room()}" id="s1"><subject>by participant</subject></message>`);
    const err = await b.expect((s) => s.name === 'message' && s.attrs.id === 's1');
    expect(err.attrs.type).toBe('error');
    expect(errorCondition(err)).toBe('forbidden');
    a.send(`<message type="groupchat" to="${room()}" id="s2"><subject>Topic</subject></message>`);
    for (const cl of [a, b, c]) {
      const m = await cl.expect((s) => s.name === 'message' && s.attrs.id === 's2');
      expect(m.getChildText('subject')).toBe('Topic');
      expect(m.attrs.from).toBe(`${room()}/a`);
    }
    expect(srv.xmpp.muc.getRoom(room())?.subject?.text).toBe('Topic');
    const [d] = (await clients(srv, 1)) as [TestClient];
    open.push(d);
    await join(d, `${room()}/d`);
    const subj = await d.expect((s) => s.name === 'message' && s.getChild('subject') !== undefined);
    expect(subj.getChildText('subject')).toBe('Topic');
    expect(subj.attrs.from).toBe(`${room()}/a`);
    // It came after d's self-presence.
    const idxSelf = d.received.findIndex((s) => s.name === 'presence' && codes(s).includes('110'));
    expect(d.received.indexOf(subj)).toBeGreaterThan(idxSelf);
  });

  it('muc#roomconfig_changesubject lets participants change it', async () => {
    const [a, b] = await setup();
    a.send(configSubmit(room(), 'cs', { 'muc#roomconfig_changesubject': '1' }));
    expect((await a.expect((s) => s.attrs.id === 'cs')).attrs.type).toBe('result');
    b.send(`<message type="groupchat" to="${room()}" id="s3"><subject>From b</subject></message>`);
    const m = await a.expect((s) => s.name === 'message' && s.attrs.id === 's3');
    expect(m.getChildText('subject')).toBe('From b');
  });

  it('no subject message on join when none is set', async () => {
    const [, , c] = await setup();
    c.send(`<message type="groupchat" to="${room()}" id="sync"><body>x</body></message>`);
    await c.expect((s) => s.attrs.id === 'sync');
    expect(c.all((s) => s.name === 'message' && s.getChild('subject') !== undefined)).toHaveLength(0);
  });
});

describe('history', () => {
  beforeEach(() => {
    open = [];
  });

  it('off by default', async () => {
    const [a] = await setup();
    a.send(`<message type="groupchat" to="${room()}" id="h0"><body>one</body></message>`);
    await a.expect((s) => s.attrs.id === 'h0');
    expect(srv.xmpp.muc.getRoom(room())?.history).toHaveLength(0);
  });

  it('with muc.historyLength, joiners get the last messages with <delay>, after their self-presence, honouring maxstanzas', async () => {
    const [a] = await setup({ muc: { historyLength: 2 } });
    for (const n of [1, 2, 3]) {
      a.send(`<message type="groupchat" to="${room()}" id="h${n}"><body>m${n}</body></message>`);
      await a.expect((s) => s.attrs.id === `h${n}`);
    }
    a.send(`<message type="groupchat" to="${room()}" id="j"><json-message xmlns="http://jitsi.org/jitmeet">{}</json-message></message>`);
    await a.expect((s) => s.attrs.id === 'j');
    const [d, e] = (await clients(srv, 2)) as [TestClient, TestClient];
    open.push(d, e);
    const self = await join(d, `${room()}/d`);
    const h2 = await d.expect((s) => s.name === 'message' && s.attrs.id === 'h2');
    const h3 = await d.expect((s) => s.name === 'message' && s.attrs.id === 'h3');
    expect(d.received.indexOf(h2)).toBeGreaterThan(d.received.indexOf(self));
    expect(d.received.indexOf(h3)).toBeGreaterThan(d.received.indexOf(h2));
    const delay = h2.getChild('delay', 'urn:xmpp:delay');
    expect(delay?.attrs.from).toBe(room());
    expect(Number.isNaN(Date.parse(delay?.attrs.stamp as string))).toBe(false);
    expect(h2.attrs.from).toBe(`${room()}/a`);
    expect(h2.attrs.to).toBe(d.jid);
    expect(d.all((s) => s.name === 'message' && (s.attrs.id === 'h1' || s.attrs.id === 'j'))).toHaveLength(0);

    await join(e, `${room()}/e`, '', '<history maxstanzas="1"/>');
    const only = await e.expect((s) => s.name === 'message' && s.getChild('delay') !== undefined);
    expect(only.attrs.id).toBe('h3');
    e.send(`<message type="groupchat" to="${room()}" id="sync"><body>s</body></message>`);
    await e.expect((s) => s.attrs.id === 'sync');
    expect(e.all((s) => s.name === 'message' && s.getChild('delay') !== undefined)).toHaveLength(1);
  });
});
