/**
 * XEP-0045 join, presence update, nick change, leave and disconnect, as lib-jitsi-meet needs them (PROTOCOL.md §3.3.1–3.3.3).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS_MUC_USER } from '../src/index.js';
import type { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';
import { clients, codes, connectPlain, errorCondition, isPresence, item, join, mucUser } from './muc-helpers.js';

let srv: TestServer;
let open: TestClient[] = [];

beforeEach(async () => {
  srv = await startTestServer();
  open = [];
});
afterEach(async () => {
  for (const c of open) c.close();
  await srv.stop();
});

async function three(): Promise<[TestClient, TestClient, TestClient]> {
  const cs = await clients(srv, 3);
  open.push(...cs);
  return cs as [TestClient, TestClient, TestClient];
}

const LJM_PAYLOAD =
  '<stats-id>Kenna-R4x</stats-id>' +
  '<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://jitsi.org/jitsi-meet" ver="Yk8u="/>' +
  '<features><feature var="https://jitsi.org/meet/e2ee"/></features>' +
  '<jitsi_participant_codecList>av1,vp9,vp8,h264</jitsi_participant_codecList>' +
  '<SourceInfo>{"abcd-a0":{"muted":false},"abcd-v0":{"muted":false,"videoType":"camera"}}</SourceInfo>' +
  '<nick xmlns="http://jabber.org/protocol/nick">Alice &amp; Co</nick>';

describe('MUC join', () => {
  it('first join creates an instant room: self-presence with 110, 100, 201 and owner/moderator item with the real JID', async () => {
    const [a] = await three();
    const room = `room1@${srv.muc}`;
    const self = await join(a, `${room}/alice`);
    expect(self.attrs.type).toBeUndefined();
    expect(codes(self)).toEqual(['100', '110', '201']);
    expect(item(self)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator', jid: a.jid });
    const r = srv.xmpp.muc.getRoom(room);
    expect(r?.occupantList()).toEqual([{ nick: 'alice', jid: `${room}/alice`, realJid: a.jid, role: 'moderator', affiliation: 'owner', privileged: false }]);
    expect(r?.meetingId).toMatch(/^[0-9a-f-]{36}$/);
    expect(srv.xmpp.stats().rooms).toBe(1);
    expect(srv.xmpp.stats().occupants).toBe(1);
  });

  it('three clients join: existing occupants first, then self (110/100), then broadcast; muc#user <x> first; payload forwarded untouched', async () => {
    const [a, b, c] = await three();
    const room = `room2@${srv.muc}`;
    await join(a, `${room}/a`, LJM_PAYLOAD);
    const customB = '<foo xmlns="urn:example:foo" attr="1"><bar>x &lt; y</bar></foo><jitsi_participant_raisedHand>123</jitsi_participant_raisedHand>';
    // A forged muc#user <x> from the client is dropped; its muc <x> is not forwarded.
    const selfB = await join(b, `${room}/b`, `<x xmlns="${NS_MUC_USER}"><item affiliation="owner" role="moderator"/></x>${customB}`);
    expect(codes(selfB)).toEqual(['100', '110']);
    expect(item(selfB)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant', jid: b.jid });
    const selfC = await join(c, `${room}/c`, '<SourceInfo>{}</SourceInfo>');
    expect(codes(selfC)).toEqual(['100', '110']);

    // C saw a, b, then itself, in that order.
    const presencesC = c.all((s) => s.name === 'presence' && (s.attrs.from as string).startsWith(`${room}/`));
    expect(presencesC.map((p) => p.attrs.from)).toEqual([`${room}/a`, `${room}/b`, `${room}/c`]);
    const [pa, pb] = presencesC as [Element, Element, Element];
    expect(pa.attrs.to).toBe(c.jid);
    // muc#user <x> is the first child, with the real JID.
    const firstA = pa.children.find((ch) => typeof ch !== 'string') as Element;
    expect(firstA.name).toBe('x');
    expect(firstA.attrs.xmlns).toBe(NS_MUC_USER);
    expect(item(pa)?.attrs).toEqual({ affiliation: 'owner', role: 'moderator', jid: a.jid });
    expect(codes(pa)).toEqual([]);
    // Every LJM extension element arrives unchanged (serialized form compared).
    const serialized = pa.toString();
    expect(serialized).toContain('<stats-id>Kenna-R4x</stats-id>');
    expect(serialized).toContain('<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://jitsi.org/jitsi-meet" ver="Yk8u="/>');
    expect(serialized).toContain('<features><feature var="https://jitsi.org/meet/e2ee"/></features>');
    expect(pa.getChildText('SourceInfo')).toBe('{"abcd-a0":{"muted":false},"abcd-v0":{"muted":false,"videoType":"camera"}}');
    expect(serialized).toContain('<jitsi_participant_codecList>av1,vp9,vp8,h264</jitsi_participant_codecList>');
    expect(pa.getChild('nick', 'http://jabber.org/protocol/nick')?.getText()).toBe('Alice & Co');
    expect(pb.toString()).toContain('<foo xmlns="urn:example:foo" attr="1"><bar>x &lt; y</bar></foo>');
    expect(pb.getChildText('jitsi_participant_raisedHand')).toBe('123');
    expect(pb.getChildren('x').length).toBe(1); // only the server's muc#user <x>
    expect(item(pb)?.attrs.role).toBe('participant');
    expect(pa.getChildren('x').some((x) => x.attrs.xmlns === 'http://jabber.org/protocol/muc')).toBe(false);

    // A and B got C's join broadcast (no 110), with the real JID.
    const cAtA = await a.expect(isPresence(`${room}/c`));
    expect(codes(cAtA)).toEqual([]);
    expect(item(cAtA)?.attrs.jid).toBe(c.jid);
    const cAtB = await b.expect(isPresence(`${room}/c`));
    expect(cAtB.getChildText('SourceInfo')).toBe('{}');
    expect(srv.xmpp.muc.occupants(room).map((o) => o.nick)).toEqual(['a', 'b', 'c']);
  });

  it('presence updates are broadcast to all occupants, the sender included with 110, and replace the payload', async () => {
    const [a, b] = await three();
    const room = `upd@${srv.muc}`;
    await join(a, `${room}/a`, '<SourceInfo>{}</SourceInfo>');
    await join(b, `${room}/b`);
    a.send(`<presence to="${room}/a"><SourceInfo>{"a-a0":{"muted":true}}</SourceInfo><nick xmlns="http://jabber.org/protocol/nick">A2</nick></presence>`);
    const atB = await b.expect((s) => isPresence(`${room}/a`)(s) && s.getChildText('SourceInfo') !== '{}');
    expect(atB.getChildText('SourceInfo')).toBe('{"a-a0":{"muted":true}}');
    expect(codes(atB)).toEqual([]);
    const atA = await a.expect((s) => isPresence(`${room}/a`)(s) && codes(s).length === 1);
    expect(codes(atA)).toEqual(['110']);
    expect(atA.getChildText('nick', 'http://jabber.org/protocol/nick')).toBe('A2');
    // A late joiner gets the latest payload.
    const [, , c] = open as [TestClient, TestClient, TestClient];
    await join(c, `${room}/c`);
    const aAtC = await c.expect(isPresence(`${room}/a`));
    expect(aAtC.getChildText('SourceInfo')).toBe('{"a-a0":{"muted":true}}');
  });

  it('a nick in use gives a cancel/conflict presence error from the occupant JID; the same client re-joining is an update', async () => {
    const [a, b] = await three();
    const room = `conflict@${srv.muc}`;
    await join(a, `${room}/same`);
    const err = await join(b, `${room}/same`);
    expect(err.attrs.type).toBe('error');
    expect(err.attrs.to).toBe(b.jid);
    expect(err.getChild('error')?.attrs.type).toBe('cancel');
    expect(errorCondition(err)).toBe('conflict');
    expect(err.getChild('error')?.getChild('conflict')?.attrs.xmlns).toBe('urn:ietf:params:xml:ns:xmpp-stanzas');
    expect(srv.xmpp.muc.occupants(room)).toHaveLength(1);
    const again = await join(a, `${room}/same`, '<stats-id>x</stats-id>');
    expect(codes(again)).toContain('110');
    expect(srv.xmpp.muc.occupants(room)).toHaveLength(1);
  });

  it('nick change (§7.6): 303 unavailable with the new nick, then available from the new nick', async () => {
    const [a, b] = await three();
    const room = `nick@${srv.muc}`;
    await join(a, `${room}/old`);
    await join(b, `${room}/b`);
    a.send(`<presence to="${room}/new"><stats-id>s</stats-id></presence>`);
    const gone = await b.expect(isPresence(`${room}/old`, 'unavailable'));
    expect(codes(gone)).toEqual(['303']);
    expect(item(gone)?.attrs.nick).toBe('new');
    const selfGone = await a.expect(isPresence(`${room}/old`, 'unavailable'));
    expect(codes(selfGone)).toEqual(['110', '303']);
    const back = await b.expect(isPresence(`${room}/new`));
    expect(back.getChildText('stats-id')).toBe('s');
    const selfBack = await a.expect(isPresence(`${room}/new`));
    expect(codes(selfBack)).toEqual(['110']);
    expect(srv.xmpp.muc.occupants(room).map((o) => o.nick).sort()).toEqual(['b', 'new']);
    // Changing to a taken nick is a conflict.
    a.send(`<presence to="${room}/b"/>`);
    const err = await a.expect(isPresence(`${room}/b`, 'error'));
    expect(errorCondition(err)).toBe('conflict');
  });

  it('room and nick as sent after JID prep: the localpart is lower-cased, the nick kept', async () => {
    const [a] = await three();
    a.send(`<presence to="MixedCase@${srv.muc}/NiCk"><x xmlns="http://jabber.org/protocol/muc"/></presence>`);
    const p = await a.expect((s) => s.name === 'presence' && codes(s).includes('110'));
    expect(p.attrs.from).toBe(`mixedcase@${srv.muc}/NiCk`);
    expect(srv.xmpp.muc.getRoom(`MIXEDCASE@${srv.muc}`)?.occupants.has('NiCk')).toBe(true);
  });

  it('presence to the bare room JID is jid-malformed; a too-long room name is refused', async () => {
    const [a] = await three();
    a.send(`<presence to="nonick@${srv.muc}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`);
    const err = await a.expect((s) => s.name === 'presence' && s.attrs.type === 'error');
    expect(err.attrs.from).toBe(`nonick@${srv.muc}`);
    expect(errorCondition(err)).toBe('jid-malformed');
    const long = 'x'.repeat(300);
    const err2 = await join(a, `${long}@${srv.muc}/n`);
    expect(err2.attrs.type).toBe('error');
    expect(errorCondition(err2)).toBe('not-acceptable');
    expect(srv.xmpp.muc.rooms.size).toBe(0);
  });
});

describe('MUC leave', () => {
  it('leaving: self unavailable with 110 and role none, others unavailable with role none and the jid; client <status> forwarded', async () => {
    const [a, b] = await three();
    const room = `leave@${srv.muc}`;
    await join(a, `${room}/a`);
    await join(b, `${room}/b`);
    b.send(`<presence to="${room}/b" type="unavailable"><status>switch_room</status></presence>`);
    const self = await b.expect(isPresence(`${room}/b`, 'unavailable'));
    expect(codes(self)).toEqual(['110']);
    expect(item(self)?.attrs).toMatchObject({ affiliation: 'none', role: 'none' });
    const other = await a.expect(isPresence(`${room}/b`, 'unavailable'));
    expect(codes(other)).toEqual([]);
    expect(item(other)?.attrs).toEqual({ affiliation: 'none', role: 'none', jid: b.jid });
    expect(other.getChildText('status')).toBe('switch_room');
    expect(srv.xmpp.muc.occupants(room).map((o) => o.nick)).toEqual(['a']);
  });

  it('a client whose session ends without leaving is removed; the others see it leave', async () => {
    const [a, b] = await three();
    const room = `disc@${srv.muc}`;
    await join(a, `${room}/a`);
    await join(b, `${room}/b`);
    b.ws.terminate();
    const gone = await a.expect(isPresence(`${room}/b`, 'unavailable'), 5000);
    expect(item(gone)?.attrs).toMatchObject({ role: 'none', jid: b.jid });
    expect(srv.xmpp.muc.occupants(room).map((o) => o.nick)).toEqual(['a']);
  });

  it('broadcast unavailable presence (no to) leaves every room', async () => {
    const [a, b] = await three();
    await join(a, `r1@${srv.muc}/a`);
    await join(a, `r2@${srv.muc}/a`);
    await join(b, `r1@${srv.muc}/b`);
    a.send('<presence type="unavailable"/>');
    await b.expect(isPresence(`r1@${srv.muc}/a`, 'unavailable'));
    await waitFor(() => (srv.xmpp.muc.rooms.has(`r2@${srv.muc}`) ? 'r2 still there' : undefined));
    expect(srv.xmpp.muc.occupants(`r1@${srv.muc}`).map((o) => o.nick)).toEqual(['b']);
  });

  it('the last leave drops the room with all its state (history, subject, affiliations, config); a new room starts clean', async () => {
    await srv.stop();
    srv = await startTestServer({ muc: { historyLength: 10 } });
    const [a, b] = await three();
    const room = `drop@${srv.muc}`;
    const destroyed: string[] = [];
    srv.xmpp.muc.events.on('muc-room-destroyed', ({ room: r, explicit }) => {
      destroyed.push(`${r.jid.bare}:${explicit}`);
    });
    await join(a, `${room}/a`);
    await join(b, `${room}/b`);
    a.send(`<message type="groupchat" to="${room}" id="m1"><body>secret history</body></message>`);
    await b.expect((s) => s.name === 'message' && s.attrs.id === 'm1');
    a.send(`<message type="groupchat" to="${room}"><subject>Old topic</subject></message>`);
    await b.expect((s) => s.name === 'message' && s.getChildText('subject') === 'Old topic');
    a.send(
      `<iq type="set" id="own" to="${room}"><query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit"><field var="muc#roomconfig_roomsecret"><value>pw</value></field></x></query></iq>`,
    );
    await a.expect((s) => s.name === 'iq' && s.attrs.id === 'own');
    const r = srv.xmpp.muc.getRoom(room);
    expect(r?.history.length).toBe(1);
    expect(r?.config.password).toBe('pw');
    const firstMeeting = r?.meetingId;
    b.send(`<presence to="${room}/b" type="unavailable"/>`);
    a.send(`<presence to="${room}/a" type="unavailable"/>`);
    await waitFor(() => (srv.xmpp.muc.rooms.size === 0 ? undefined : 'room still there'));
    expect(destroyed).toEqual([`${room}:false`]);
    expect(r?.destroyed).toBe(true);
    expect(r?.history.length).toBe(0);
    expect(r?.subject).toBeUndefined();
    expect(r?.affiliations.size).toBe(0);
    expect(srv.xmpp.muc.occupantCount()).toBe(0);
    expect(srv.xmpp.muc.iqProxy.pendingCount).toBe(0);

    // Same name again: a brand-new room (no password, no history, no subject, new meeting id, b is the creator).
    const self = await join(b, `${room}/b`);
    expect(codes(self)).toContain('201');
    expect(item(self)?.attrs.affiliation).toBe('owner');
    const r2 = srv.xmpp.muc.getRoom(room);
    expect(r2).not.toBe(r);
    expect(r2?.meetingId).not.toBe(firstMeeting);
    expect(r2?.config.password).toBe('');
    expect(b.all((s) => s.name === 'message' && s.getChildText('body') === 'secret history')).toHaveLength(1); // only the live one
    expect(b.all((s) => s.name === 'message' && s.getChild('subject') !== undefined)).toHaveLength(1);
  });
});

describe('MUC join restrictions', () => {
  it('room creation restricted to muc.roomCreators: others get not-allowed "Room creation is restricted"; admins create and anyone may then join', async () => {
    await srv.stop();
    srv = await startTestServer({
      accounts: [{ jid: 'focus@auth.meet.jitsi', password: 'focuspw' }],
      muc: { roomCreators: ['creator@auth.meet.jitsi'], admins: ['focus@auth.meet.jitsi'] },
    });
    const [a] = await three();
    const room = `restricted@${srv.muc}`;
    const err = await join(a, `${room}/a`);
    expect(err.attrs.type).toBe('error');
    expect(err.getChild('error')?.attrs.type).toBe('cancel');
    expect(errorCondition(err)).toBe('not-allowed');
    expect(err.getChild('error')?.getChildText('text')).toBe('Room creation is restricted');
    expect(srv.xmpp.muc.rooms.size).toBe(0);

    const focus = await connectPlain(srv, 'focus', 'focuspw', 'auth.meet.jitsi');
    open.push(focus);
    const selfFocus = await join(focus, `${room}/focus`);
    expect(codes(selfFocus)).toEqual(['100', '110', '201']);
    expect(item(selfFocus)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
    const ok = await join(a, `${room}/a`);
    expect(ok.attrs.type).toBeUndefined();
    expect(item(ok)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
  });

  it('max occupants: cancel/service-unavailable when full; muc#roomconfig_maxusers lowers it; service admins bypass and are not counted', async () => {
    await srv.stop();
    srv = await startTestServer({
      accounts: [{ jid: 'focus@auth.meet.jitsi', password: 'focuspw' }],
      limits: { maxOccupantsPerRoom: 2 },
      muc: { admins: ['focus@auth.meet.jitsi'] },
    });
    const [a, b, c] = await three();
    const focus = await connectPlain(srv, 'focus', 'focuspw', 'auth.meet.jitsi');
    open.push(focus);
    const room = `full@${srv.muc}`;
    await join(focus, `${room}/focus`);
    await join(a, `${room}/a`);
    await join(b, `${room}/b`);
    const err = await join(c, `${room}/c`);
    expect(err.attrs.type).toBe('error');
    expect(err.getChild('error')?.attrs.type).toBe('cancel');
    expect(errorCondition(err)).toBe('service-unavailable');
    expect(srv.xmpp.muc.getRoom(room)?.countedSize).toBe(2);
    expect(srv.xmpp.muc.getRoom(room)?.size).toBe(3);

    // maxusers 1 below the server limit: after b leaves, c still cannot join (a alone fills it).
    focus.send(
      `<iq type="set" id="cfg" to="${room}"><query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit"><field var="muc#roomconfig_maxusers"><value>1</value></field></x></query></iq>`,
    );
    const res = await focus.expect((s) => s.name === 'iq' && s.attrs.id === 'cfg');
    expect(res.attrs.type).toBe('result');
    b.send(`<presence to="${room}/b" type="unavailable"/>`);
    await a.expect(isPresence(`${room}/b`, 'unavailable'));
    const err2 = await join(c, `${room}/c`);
    expect(errorCondition(err2)).toBe('service-unavailable');
  });

  it('an occupant bouncing an error presence is removed with status 333', async () => {
    const [a, b] = await three();
    const room = `bounce@${srv.muc}`;
    await join(a, `${room}/a`);
    await join(b, `${room}/b`);
    b.send(`<presence type="error" to="${room}/a"><error type="cancel"><gone xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`);
    const gone = await a.expect(isPresence(`${room}/b`, 'unavailable'));
    expect(codes(gone)).toEqual(['333']);
    expect(mucUser(gone)).toBeDefined();
  });
});
