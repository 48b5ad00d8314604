/**
 * Trying to break the focus's occupant check and source ownership (issue 7, "Secure rooms"): two rooms on one real
 * XmppServer (WebSocket on loopback) with a real bridge; scripted clients that are occupants of one room attack the
 * other, or the participants of their own room. Every attack must be refused with a typed error, leave the
 * victim's session, sources and bridge endpoint as they were, and tell nobody anything.
 * (The basic cases, a non-occupant and a source-add/-remove of another's SSRC, are in focus.test.ts and
 * test/robustness.test.ts.)
 */
import { createBridgeService, type BridgeService } from '@jitsi-one/bridge';
import { type Element, NS_MUC, NS_MUC_USER } from '@jitsi-one/xmpp';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from '../../xmpp/test/client.js';
import { startTestServer, type TestServer, waitFor } from '../../xmpp/test/helpers.js';
import { FocusManager } from '../src/focus.js';
import { NS_JINGLE } from '../src/jingle/ns.js';
import type { Jingle } from '../src/jingle/types.js';
import { parseJingle } from '../src/jingle/xml.js';

const FOCUS_BARE = 'focus@auth.meet.jitsi';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const SSMA = 'urn:xmpp:jingle:apps:rtp:ssma:0';

let srv: TestServer;
let bridge: BridgeService;
let focus: FocusManager;
const clients: TestClient[] = [];

beforeEach(async () => {
  srv = await startTestServer({ muc: { admins: [FOCUS_BARE] } });
  bridge = await createBridgeService({
    config: { webSocketBaseUrl: 'ws://127.0.0.1:9/colibri-ws', transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
  });
  // One participant is enough for a media session here; no disco#info answers needed.
  focus = new FocusManager({
    xmpp: srv.xmpp,
    colibri: bridge.bridge,
    config: { minParticipants: 1, singleParticipantTimeoutMs: 0 },
    timing: { discoTimeoutMs: 100, discoInviteWaitMs: 10 },
    ...(process.env.SEC_DEBUG ? { log: pino({ level: 'debug' }) } : {}),
  });
  focus.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await focus.stop();
  await bridge.close();
  await srv.stop();
});

interface Plan {
  audio: number;
  video: number;
  rtx: number;
}

interface Member {
  c: TestClient;
  room: string;
  nick: string;
  offer: Jingle;
  plan: Plan;
}

function errorCondition(s: Element): string | undefined {
  for (const c of s.getChild('error')?.children ?? []) {
    if (typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS && c.name !== 'text') return c.name;
  }
  return undefined;
}

const isJingle = (action: string) => (s: Element) =>
  s.name === 'iq' && s.attrs.type === 'set' && s.getChild('jingle', NS_JINGLE)?.attrs.action === action;

async function receiveJingle(c: TestClient, room: string, action: string): Promise<Jingle> {
  const iq = await c.expect(isJingle(action));
  expect(iq.attrs.from).toBe(`${room}/focus`);
  c.send(`<iq type="result" id="${iq.attrs.id as string}" to="${iq.attrs.from as string}"/>`);
  return parseJingle(iq);
}

function source(ssrc: number, name: string, msid: string, extra = ''): string {
  return `<source xmlns="${SSMA}" ssrc="${ssrc}" name="${name}"><parameter name="msid" value="${msid}"/>${extra}</source>`;
}

const TRANSPORT = (nick: string) =>
  `<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="u${nick}" pwd="pwd-${nick}-0123456789abcdef"><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="active">${Array.from({ length: 32 }, () => 'AB').join(':')}</fingerprint></transport>`;

/** session-accept with one audio source and one video source + RTX (FID). */
function sessionAccept(room: string, sid: string, nick: string, p: Plan, names = { a: `${nick}-a0`, v: `${nick}-v0` }): string {
  return `<iq type="set" id="acc-${nick}-${sid.slice(0, 4)}" to="${room}/focus"><jingle xmlns="${NS_JINGLE}" action="session-accept" sid="${sid}">
<content creator="responder" name="audio" senders="both"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><payload-type id="111" name="opus" clockrate="48000" channels="2"/>${source(p.audio, names.a, `${nick}-audio track-a-${nick}`)}<rtcp-mux/></description>${TRANSPORT(nick)}</content>
<content creator="responder" name="video" senders="both"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"><payload-type id="100" name="VP8" clockrate="90000"/>${source(p.video, names.v, `${nick}-video track-v-${nick}`)}${source(p.rtx, names.v, `${nick}-video track-v-${nick}`)}<ssrc-group xmlns="${SSMA}" semantics="FID"><source ssrc="${p.video}"/><source ssrc="${p.rtx}"/></ssrc-group><rtcp-mux/></description>${TRANSPORT(nick)}</content>
</jingle></iq>`;
}

function jingle(room: string, sid: string, action: string, contents: string): string {
  return `<iq type="set" id="j${Math.random().toString(36).slice(2, 8)}" to="${room}/focus"><jingle xmlns="${NS_JINGLE}" action="${action}" sid="${sid}">${contents}</jingle></iq>`;
}

function videoContent(inner: string): string {
  return `<content name="video"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video">${inner}</description></content>`;
}

function audioContent(inner: string): string {
  return `<content name="audio"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio">${inner}</description></content>`;
}

/** Join `room` as `nick`, accept the focus's offer with `plan`'s sources. */
async function member(room: string, nick: string, plan: Plan, accept = true): Promise<Member> {
  const c = await TestClient.connect(srv);
  clients.push(c);
  const res = await c.iq(`<iq type="set" id="${c.nextId()}" to="focus.${srv.domain}"><conference xmlns="http://jitsi.org/protocol/focus" room="${room}" machine-uid="m"/></iq>`);
  expect(res.attrs.type).toBe('result');
  c.send(`<presence to="${room}/${nick}"><x xmlns="${NS_MUC}"/><SourceInfo>{}</SourceInfo></presence>`);
  await c.expect((s) => s.name === 'presence' && s.attrs.from === `${room}/${nick}` && s.getChild('x', NS_MUC_USER) !== undefined);
  const offer = await receiveJingle(c, room, 'session-initiate');
  if (accept) {
    const acc = await c.iq(sessionAccept(room, offer.sid, nick, plan));
    expect(acc.attrs.type, acc.toString()).toBe('result');
  }
  return { c, room, nick, offer, plan };
}

function conferenceOf(room: string) {
  const meetingId = focus.getConference(room)?.meetingId;
  return meetingId === undefined ? undefined : bridge.bridge.getConferenceByMeetingId(meetingId);
}

function focusSsrcs(room: string, nick: string): number[] {
  return (focus.getConference(room)?.sources.get(nick)?.sources ?? []).map((s) => s.ssrc).sort((x, y) => x - y);
}

function bridgeSsrcs(room: string, nick: string): number[] {
  const ep = conferenceOf(room)?.endpoints.get(nick);
  return (ep?.sources ?? []).flatMap((m) => m.ssrcs).sort((x, y) => x - y);
}

const sorted = (p: Plan) => [p.audio, p.video, p.rtx].sort((x, y) => x - y);

/** Room A with two accepted participants, room B with one. */
async function twoRooms() {
  const roomA = `rooma@${srv.muc}`;
  const roomB = `roomb@${srv.muc}`;
  const a1 = await member(roomA, 'a1a1a1a1', { audio: 1001, video: 1002, rtx: 1003 });
  const a2 = await member(roomA, 'a2a2a2a2', { audio: 2001, video: 2002, rtx: 2003 });
  const b1 = await member(roomB, 'b1b1b1b1', { audio: 3001, video: 3002, rtx: 3003 });
  // a1 has been told a2's sources (a2's offer carried a1's); start counting from here.
  await receiveJingle(a1.c, roomA, 'source-add');
  const quiet = new Map([a1, a2, b1].map((m) => [m.nick, m.c.received.length]));
  /** Jingle IQs a member got since the attack started. */
  const told = (m: Member) => m.c.received.slice(quiet.get(m.nick)).filter((s) => s.attrs.type === 'set' && s.getChild('jingle', NS_JINGLE)).length;
  return { roomA, roomB, a1, a2, b1, told };
}

/** Everything about the victims is as before the attack. */
async function unharmed(members: Member[], told: (m: Member) => number): Promise<void> {
  // A round trip through the focus and the room, so anything the attack caused has been delivered.
  for (const m of members) {
    await m.c.iq(`<iq type="get" id="${m.c.nextId()}" to="${m.room}/focus"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  }
  for (const m of members) {
    expect(focus.getConference(m.room)?.participants.get(m.nick)?.session?.active, `${m.nick}'s session`).toBe(true);
    expect(focusSsrcs(m.room, m.nick), `${m.nick}'s sources at the focus`).toEqual(sorted(m.plan));
    expect(bridgeSsrcs(m.room, m.nick), `${m.nick}'s sources on the bridge`).toEqual(sorted(m.plan));
    expect(told(m), `${m.nick} was sent Jingle after the attack`).toBe(0);
  }
}

describe('the occupant check, attacked', () => {
  it("an occupant of another room cannot reach this room's focus, directly or through the room", async () => {
    const { roomA, a1, a2, b1, told } = await twoRooms();
    const forged = jingle(roomA, a1.offer.sid, 'source-add', videoContent(source(4242, 'b1b1b1b1-v9', 'x y')));
    // Through room A (b1 is not its occupant): the MUC refuses.
    const viaRoom = await b1.c.iq(forged);
    expect(errorCondition(viaRoom)).toBe('not-acceptable');
    // To the focus's real JID: not from a conference occupant.
    const direct = await b1.c.iq(forged.replace(`to="${roomA}/focus"`, `to="${FOCUS_BARE}/focus"`));
    expect(errorCondition(direct)).toBe('not-acceptable');
    // To a1 itself through room A: only occupants may send IQs to occupants.
    const toVictim = await b1.c.iq(forged.replace(`to="${roomA}/focus"`, `to="${roomA}/a1a1a1a1"`));
    expect(errorCondition(toVictim)).toBe('not-acceptable');
    await unharmed([a1, a2, b1], told);
  });

  it("an occupant of room B using room A's session id in its own room gets unknown-session", async () => {
    const { roomB, a1, a2, b1, told } = await twoRooms();
    for (const action of ['source-add', 'source-remove', 'session-terminate', 'transport-info']) {
      const body = action === 'session-terminate' ? '<reason><success/></reason>' : action.startsWith('source') ? audioContent(source(a1.plan.audio, 'a1a1a1a1-a0', 'x y')) : '';
      const res = await b1.c.iq(jingle(roomB, a1.offer.sid, action, body));
      expect(errorCondition(res), action).toBe('item-not-found');
      expect(res.getChild('error')?.getChild('unknown-session', 'urn:xmpp:jingle:errors:1'), action).toBeDefined();
    }
    await unharmed([a1, a2, b1], told);
  });

  it("a participant cannot act on another participant's session in its own room", async () => {
    const { roomA, a1, a2, b1, told } = await twoRooms();
    const terminate = await a2.c.iq(jingle(roomA, a1.offer.sid, 'session-terminate', '<reason><success/></reason>'));
    expect(errorCondition(terminate)).toBe('item-not-found');
    const accept = await a2.c.iq(sessionAccept(roomA, a1.offer.sid, 'a2a2a2a2', { audio: 5001, video: 5002, rtx: 5003 }));
    expect(errorCondition(accept)).toBe('item-not-found');
    await unharmed([a1, a2, b1], told);
  });

  it('a spoofed from is a stream error for the spoofer and changes nothing', async () => {
    const { roomA, a1, a2, b1, told } = await twoRooms();
    b1.c.send(
      jingle(roomA, a1.offer.sid, 'session-terminate', '<reason><success/></reason>').replace('<iq ', `<iq from="${roomA}/a1a1a1a1" `),
    );
    const err = await b1.c.expect((s) => s.name === 'stream:error');
    expect(err.getChild('invalid-from')).toBeDefined();
    await b1.c.waitClosed();
    await unharmed([a1, a2], told);
  });

  it('a second session-accept (replay) is refused', async () => {
    const { roomA, a1, a2, b1, told } = await twoRooms();
    const again = await a1.c.iq(sessionAccept(roomA, a1.offer.sid, 'a1a1a1a1', a1.plan).replace(/id="acc-[^"]+"/, 'id="replay1"'));
    expect(errorCondition(again)).toBe('unexpected-request');
    expect(again.getChild('error')?.getChild('out-of-order', 'urn:xmpp:jingle:errors:1')).toBeDefined();
    await unharmed([a1, a2, b1], told);
  });
});

describe('source ownership, attacked', () => {
  it("source-remove of someone else's SSRCs is refused, also when mixed with its own (nothing is removed)", async () => {
    const { roomA, a1, a2, b1, told } = await twoRooms();
    const theirs = await a2.c.iq(jingle(roomA, a2.offer.sid, 'source-remove', audioContent(source(a1.plan.audio, 'a1a1a1a1-a0', 'x y'))));
    expect(errorCondition(theirs)).toBe('bad-request');
    const mixed = await a2.c.iq(
      jingle(roomA, a2.offer.sid, 'source-remove', videoContent(source(a2.plan.video, 'a2a2a2a2-v0', 'a2a2a2a2-video track-v-a2a2a2a2') + source(a1.plan.video, 'a1a1a1a1-v0', 'x y'))),
    );
    expect(errorCondition(mixed)).toBe('bad-request');
    // Another room's SSRC (b1 in room B) is unknown here.
    const foreign = await a2.c.iq(jingle(roomA, a2.offer.sid, 'source-remove', audioContent(source(b1.plan.audio, 'b1b1b1b1-a0', 'x y'))));
    expect(errorCondition(foreign)).toBe('bad-request');
    await unharmed([a1, a2, b1], told);
  });

  it("source-add colliding with another participant's SSRC, group member, source name or msid is refused", async () => {
    const { roomA, a1, a2, b1, told } = await twoRooms();
    const attempts: Record<string, string> = {
      'an SSRC': videoContent(source(a1.plan.video, 'a2a2a2a2-v1', 'a2-share track-share')),
      'an RTX SSRC in a FID group': videoContent(
        `${source(7001, 'a2a2a2a2-v1', 'a2-share track-share')}<ssrc-group xmlns="${SSMA}" semantics="FID"><source ssrc="7001"/><source ssrc="${a1.plan.rtx}"/></ssrc-group>`,
      ),
      'a source name': videoContent(source(7002, 'a1a1a1a1-v0', 'a2-share track-share')),
      'an msid': videoContent(source(7003, 'a2a2a2a2-v1', 'a1a1a1a1-video track-v-a1a1a1a1')),
    };
    for (const [what, contents] of Object.entries(attempts)) {
      const res = await a2.c.iq(jingle(roomA, a2.offer.sid, 'source-add', contents));
      expect(errorCondition(res), `${what}: ${res.toString()}`).toBe('bad-request');
    }
    await unharmed([a1, a2, b1], told);
  });

  it("a session-accept that announces another participant's SSRC is refused; the session stays pending and a correct accept works", async () => {
    const { roomA, a1, a2, b1, told } = await twoRooms();
    const late = await member(roomA, 'a3a3a3a3', { audio: 6001, video: 6002, rtx: 6003 }, false);
    const forged = await late.c.iq(sessionAccept(roomA, late.offer.sid, 'a3a3a3a3', { audio: a2.plan.audio, video: 6002, rtx: 6003 }));
    expect(errorCondition(forged)).toBe('bad-request');
    expect(focus.getConference(roomA)?.participants.get('a3a3a3a3')?.session?.state).toBe('pending');
    expect(focusSsrcs(roomA, 'a3a3a3a3')).toEqual([]);
    await unharmed([a1, a2, b1], told);
    const ok = await late.c.iq(sessionAccept(roomA, late.offer.sid, 'a3a3a3a3', late.plan).replace(/id="acc-[^"]+"/, 'id="retry1"'));
    expect(ok.attrs.type).toBe('result');
    await waitFor(() => (focusSsrcs(roomA, 'a3a3a3a3').length === 3 ? undefined : 'a3 sources not stored'));
  });

  it('an owner attribute naming someone else is ignored: the sources are attributed to the sender', async () => {
    const { roomA, a1, a2 } = await twoRooms();
    const res = await a2.c.iq(
      jingle(roomA, a2.offer.sid, 'source-add', videoContent(source(7100, 'a2a2a2a2-v1', 'a2-share track-share', '<ssrc-info xmlns="http://jitsi.org/jitmeet" owner="a1a1a1a1"/>'))),
    );
    expect(res.attrs.type).toBe('result');
    const add = await receiveJingle(a1.c, roomA, 'source-add');
    const srcs = add.contents.flatMap((c) => c.description?.sources ?? []);
    expect(srcs.map((s) => [s.ssrc, s.owner])).toEqual([[7100, 'a2a2a2a2']]);
    expect(focus.getConference(roomA)?.sources.ownerOf(7100)).toBe('a2a2a2a2');
    expect(focusSsrcs(roomA, 'a1a1a1a1')).toEqual(sorted(a1.plan));
  });

  it('SSRCs are per conference: the same SSRC in another room is not a collision and stays separate', async () => {
    const { roomB, a1, b1 } = await twoRooms();
    const res = await b1.c.iq(jingle(roomB, b1.offer.sid, 'source-add', videoContent(source(a1.plan.video, 'b1b1b1b1-v1', 'b1-share track-share'))));
    expect(res.attrs.type).toBe('result');
    expect(focus.getConference(`rooma@${srv.muc}`)?.sources.ownerOf(a1.plan.video)).toBe('a1a1a1a1');
    expect(focus.getConference(roomB)?.sources.ownerOf(a1.plan.video)).toBe('b1b1b1b1');
  });
});
