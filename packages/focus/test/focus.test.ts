/**
 * The focus end to end at the protocol level: a real XmppServer (WebSocket on loopback), a real BridgeService
 * (UDP port 0 on 127.0.0.1) and scripted WebSocket XMPP clients that speak what lib-jitsi-meet sends
 * (PROTOCOL.md §3.1, §3.3, §4, Appendix A). No media: the bridge state is introspected instead.
 */
import { createBridgeService, type BridgeService } from '@jitsi-one/bridge';
import { type Element, NS_MUC, NS_MUC_USER } from '@jitsi-one/xmpp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from '../../xmpp/test/client.js';
import { startTestServer, type TestServer, waitFor } from '../../xmpp/test/helpers.js';
import { FocusManager } from '../src/focus.js';
import { NS_JINGLE } from '../src/jingle/ns.js';
import type { Jingle } from '../src/jingle/types.js';
import { parseJingle } from '../src/jingle/xml.js';
import { LJM_FEATURES } from '../src/jingle/fixtures/ljm-features.js';

const FOCUS_BARE = 'focus@auth.meet.jitsi';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

let srv: TestServer;
let bridge: BridgeService;
let focus: FocusManager;
const clients: TestClient[] = [];

beforeEach(async () => {
  srv = await startTestServer({ muc: { admins: [FOCUS_BARE] } });
  bridge = await createBridgeService({
    config: {
      webSocketBaseUrl: 'ws://127.0.0.1:9/colibri-ws',
      transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] },
    },
  });
  focus = new FocusManager({ xmpp: srv.xmpp, colibri: bridge.bridge });
  focus.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await focus.stop();
  await bridge.close();
  await srv.stop();
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(srv);
  clients.push(c);
  return c;
}

function errorCondition(s: Element): string | undefined {
  for (const c of s.getChild('error')?.children ?? []) {
    if (typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS && c.name !== 'text') return c.name;
  }
  return undefined;
}

function conferenceIq(c: TestClient, room: string): Promise<Element> {
  const id = c.nextId();
  return c.iq(
    `<iq type="set" id="${id}" to="focus.${srv.domain}"><conference xmlns="http://jitsi.org/protocol/focus" room="${room}" machine-uid="m1"><property name="rtcstatsEnabled" value="false"/></conference></iq>`,
  );
}

const selfPresence = (occ: string) => (s: Element) =>
  s.name === 'presence' &&
  s.attrs.from === occ &&
  s.attrs.type === undefined &&
  (s.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).some((st) => st.attrs.code === '110');


const isDiscoGet = (s: Element) =>
  s.name === 'iq' && s.attrs.type === 'get' && s.getChild('query', 'http://jabber.org/protocol/disco#info') !== undefined;

/** Answer the focus's disco#info (routed through the room) with `features`, or with an error when `'error'`. */
async function answerDisco(c: TestClient, room: string, features: string[] | 'error' = LJM_FEATURES): Promise<void> {
  const q = await c.expect(isDiscoGet);
  expect(q.attrs.from).toBe(`${room}/focus`);
  const id = q.attrs.id as string;
  if (features === 'error') {
    c.send(`<iq type="error" id="${id}" to="${room}/focus"><error type="cancel"><service-unavailable xmlns="${NS_STANZAS}"/></error></iq>`);
    return;
  }
  const vars = features.map((f) => `<feature var="${f}"/>`).join('');
  c.send(`<iq type="result" id="${id}" to="${room}/focus"><query xmlns="http://jabber.org/protocol/disco#info">${vars}</query></iq>`);
}

/** The conference IQ, then the MUC join, as LJM does; answers the focus's disco#info unless told `'none'`. */
async function joinConference(
  c: TestClient,
  room: string,
  nick: string,
  disco: string[] | 'error' | 'none' = LJM_FEATURES,
): Promise<void> {
  const res = await conferenceIq(c, room);
  expect(res.attrs.type).toBe('result');
  c.send(`<presence to="${room}/${nick}"><x xmlns="${NS_MUC}"/><stats-id>s-${nick}</stats-id><SourceInfo>{}</SourceInfo></presence>`);
  await c.expect(selfPresence(`${room}/${nick}`));
  if (disco !== 'none') await answerDisco(c, room, disco);
}

const isJingle = (action: string) => (s: Element) =>
  s.name === 'iq' && s.attrs.type === 'set' && s.getChild('jingle', NS_JINGLE)?.attrs.action === action;

/** Wait for a Jingle IQ from the focus, ack it, return it parsed. */
async function receiveJingle(c: TestClient, room: string, action: string): Promise<Jingle> {
  const iq = await c.expect(isJingle(action));
  expect(iq.attrs.from).toBe(`${room}/focus`);
  c.send(`<iq type="result" id="${iq.attrs.id as string}" to="${iq.attrs.from as string}"/>`);
  return parseJingle(iq);
}

interface Plan {
  audio: number;
  video: [number, number, number];
  rtx: [number, number, number];
}

function plan(base: number): Plan {
  return { audio: base, video: [base + 1, base + 2, base + 3], rtx: [base + 11, base + 12, base + 13] };
}

function src(ssrc: number, name: string, msid: string, videoType?: string): string {
  return `<source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="${ssrc}" name="${name}"${videoType ? ` videoType="${videoType}"` : ''}><parameter name="msid" value="${msid}"/></source>`;
}

/** A session-accept as LJM sends it (§4.6): transport with ufrag/pwd/fingerprint, own sources, SIM + FID groups. */
function sessionAcceptXml(room: string, sid: string, nick: string, p: Plan, ufrag = `u${nick}`): string {
  const transport = `<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="${ufrag}" pwd="pwd-${nick}-0123456789abcdef"><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="active">3C:7A:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:9E</fingerprint></transport>`;
  const vmsid = `${nick}-video-1-1 track-v-${nick}`;
  const videoSources = [...p.video, ...p.rtx].map((s) => src(s, `${nick}-v0`, vmsid, 'camera')).join('');
  const groups =
    `<ssrc-group xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" semantics="SIM">${p.video.map((s) => `<source ssrc="${s}"/>`).join('')}</ssrc-group>` +
    p.video
      .map((s, i) => `<ssrc-group xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" semantics="FID"><source ssrc="${s}"/><source ssrc="${p.rtx[i] as number}"/></ssrc-group>`)
      .join('');
  return `<iq type="set" id="acc-${nick}" to="${room}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="session-accept" initiator="${room}/focus" sid="${sid}">
<group xmlns="urn:xmpp:jingle:apps:grouping:0" semantics="BUNDLE"><content name="audio"/><content name="video"/><content name="data"/></group>
<content creator="responder" name="audio" senders="both"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><payload-type id="111" name="opus" clockrate="48000" channels="2"/>${src(p.audio, `${nick}-a0`, `${nick}-audio-1-1 track-a-${nick}`)}<rtcp-mux/></description>${transport}</content>
<content creator="responder" name="video" senders="both"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"><payload-type id="100" name="VP8" clockrate="90000"/>${videoSources}${groups}<rtcp-mux/></description>${transport}</content>
</jingle></iq>`;
}

function bridgeConference() {
  const conf = focus.getConference(`room1@${srv.muc}`);
  const meetingId = conf?.meetingId;
  return meetingId === undefined ? undefined : bridge.bridge.getConferenceByMeetingId(meetingId);
}

describe('conference IQ', () => {
  it('answers ready with the focus JID only once the focus is owner in the room', async () => {
    const a = await connect();
    const room = `room1@${srv.muc}`;
    const res = await conferenceIq(a, room);
    expect(res.attrs.type).toBe('result');
    const conf = res.getChild('conference', 'http://jitsi.org/protocol/focus');
    expect(conf?.attrs).toMatchObject({ ready: 'true', focusjid: FOCUS_BARE, room });
    const muc = srv.xmpp.muc.rooms.get(room);
    const occ = muc?.getOccupant('focus');
    expect(occ?.realJid.full).toBe(`${FOCUS_BARE}/focus`);
    expect(occ?.affiliation).toBe('owner');
    expect(occ?.role).toBe('moderator');
    expect(muc?.meetingId).toBeDefined();
    expect(focus.getConference(room)?.meetingId).toBe(muc?.meetingId);

    // The joiner sees the focus with its real JID and the focus presence extensions (§3.5).
    a.send(`<presence to="${room}/aaaa1111"><x xmlns="${NS_MUC}"/></presence>`);
    const fp = await a.expect((s) => s.name === 'presence' && s.attrs.from === `${room}/focus`);
    const item = fp.getChild('x', NS_MUC_USER)?.getChild('item');
    expect(item?.attrs).toMatchObject({ jid: `${FOCUS_BARE}/focus`, affiliation: 'owner', role: 'moderator' });
    expect(fp.getChild('conference-properties', 'http://jitsi.org/protocol/focus')?.getChildren('property').map((p) => p.attrs.key)).toContain(
      'support-terminate-restart',
    );
  });

  it('a second request for the same room reuses the conference', async () => {
    const [a, b] = [await connect(), await connect()];
    const room = `room1@${srv.muc}`;
    const [r1, r2] = await Promise.all([conferenceIq(a, room), conferenceIq(b, room)]);
    expect([r1.attrs.type, r2.attrs.type]).toEqual(['result', 'result']);
    expect(focus.conferences.size).toBe(1);
  });

  it.each([
    ['a JID on another domain', 'room1@elsewhere.example'],
    ['a bare domain', 'conference.meet.jitsi'],
    ['an occupant JID', 'room1@conference.meet.jitsi/nick'],
    ['garbage', 'a@b@c'],
  ])('refuses %s with bad-request', async (_what, room) => {
    const a = await connect();
    const res = await conferenceIq(a, room);
    expect(res.attrs.type).toBe('error');
    expect(errorCondition(res)).toBe('bad-request');
    expect(focus.conferences.size).toBe(0);
  });
});

describe('conference flow', () => {
  it('moderator, session-initiate, session-accept, source-add, ownership, leave and teardown', async () => {
    const room = `room1@${srv.muc}`;
    const a = await connect();
    const b = await connect();

    // A joins first and is made owner (auto-owner, §3.1).
    await joinConference(a, room, 'aaaa1111');
    const owner = await a.expect(
      (s) => s.name === 'presence' && s.attrs.from === `${room}/aaaa1111` && s.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation === 'owner',
    );
    expect(owner.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.role).toBe('moderator');
    // One participant: no media session yet (min-participants 2).
    expect(bridgeConference()).toBeUndefined();

    // B joins: both are invited from room/focus with the bridge transport.
    await joinConference(b, room, 'bbbb2222');
    const offerA = await receiveJingle(a, room, 'session-initiate');
    const offerB = await receiveJingle(b, room, 'session-initiate');
    for (const offer of [offerA, offerB]) {
      expect(offer.initiator).toBe(`${FOCUS_BARE}/focus`);
      expect(offer.bridgeSession?.id).toMatch(/.+/);
      expect(offer.group?.contents).toEqual(['audio', 'video']);
      for (const c of offer.contents) {
        const t = c.transport;
        expect(t?.ufrag).toMatch(/.+/);
        expect(t?.pwd).toMatch(/.+/);
        expect(t?.fingerprints[0]?.hash).toBe('sha-256');
        expect(t?.fingerprints[0]?.setup).toBe('actpass');
        expect(t?.candidates.length).toBeGreaterThan(0);
        expect(t?.candidates[0]).toMatchObject({ ip: '127.0.0.1', port: bridge.mux.port, protocol: 'udp' });
        expect(t?.webSockets[0]?.url).toMatch(/^ws:\/\/127\.0\.0\.1:9\/colibri-ws\//);
        // Only the bridge's placeholder sources: nobody has accepted yet.
        expect(c.description?.sources.map((s) => s.owner)).toEqual(['jvb']);
      }
    }
    expect(offerA.sid).not.toBe(offerB.sid);
    const conf = bridgeConference();
    expect(conf && [...conf.endpoints.keys()].sort()).toEqual(['aaaa1111', 'bbbb2222']);
    expect(offerA.contents[0]?.transport?.webSockets[0]?.url).toContain(`/${conf?.id ?? '?'}/aaaa1111?pwd=`);

    // A accepts with simulcast sources: result, and the bridge has A's transport and sources. B's session is still
    // pending, so A's sources are queued for it (§4.7).
    const pa = plan(1000);
    const accA = await a.iq(sessionAcceptXml(room, offerA.sid, 'aaaa1111', pa));
    expect(accA.attrs.type).toBe('result');
    expect(conf?.endpoints.get('aaaa1111')?.sources.length).toBe(2);
    expect(focus.getConference(room)?.participants.get('bbbb2222')?.session?.queued).toBe(1);

    // B announces one of A's SSRCs: refused, nothing changes, nobody is told.
    const forged = plan(2000);
    forged.audio = pa.audio;
    const bad = await b.iq(sessionAcceptXml(room, offerB.sid, 'bbbb2222', forged));
    expect(bad.attrs.type).toBe('error');
    expect(errorCondition(bad)).toBe('bad-request');
    expect(conf?.endpoints.get('bbbb2222')?.sources.length ?? 0).toBe(0);

    // A Jingle IQ with an unknown sid: item-not-found / unknown-session.
    const wrongSid = await b.iq(
      `<iq type="set" id="ws1" to="${room}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="nope"/></iq>`,
    );
    expect(errorCondition(wrongSid)).toBe('item-not-found');
    expect(wrongSid.getChild('error')?.getChild('unknown-session', 'urn:xmpp:jingle:errors:1')).toBeDefined();

    // B's real accept: result; B then gets the queued source-add with A's sources, and A gets B's.
    const pb = plan(2000);
    const accB = await b.iq(sessionAcceptXml(room, offerB.sid, 'bbbb2222', pb));
    expect(accB.attrs.type).toBe('result');
    const addB = await receiveJingle(b, room, 'source-add');
    expect(addB.sid).toBe(offerB.sid);
    const videoB = addB.contents.find((c) => c.name === 'video')?.description;
    const audioB = addB.contents.find((c) => c.name === 'audio')?.description;
    expect(audioB?.sources.map((s) => [s.ssrc, s.owner, s.name])).toEqual([[pa.audio, 'aaaa1111', 'aaaa1111-a0']]);
    // Simulcast stripped: the first layer and its RTX, one FID group, no SIM group (§4.4).
    expect(videoB?.sources.map((s) => s.ssrc).sort()).toEqual([pa.video[0], pa.rtx[0]].sort());
    expect(videoB?.sources.every((s) => s.owner === 'aaaa1111' && s.msid === 'aaaa1111-video-1-1 track-v-aaaa1111')).toBe(true);
    expect(videoB?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [pa.video[0], pa.rtx[0]] }]);
    const addA = await receiveJingle(a, room, 'source-add');
    expect(addA.sid).toBe(offerA.sid);
    expect(addA.contents.flatMap((c) => c.description?.sources ?? []).every((s) => s.owner === 'bbbb2222')).toBe(true);
    expect(addA.contents.flatMap((c) => c.description?.ssrcGroups ?? []).some((g) => g.semantics === 'SIM')).toBe(false);
    expect(conf?.endpoints.get('bbbb2222')?.sources.length).toBe(2);

    // transport-info is acknowledged.
    const ti = await b.iq(`<iq type="set" id="ti1" to="${room}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="${offerB.sid}"/></iq>`);
    expect(ti.attrs.type).toBe('result');

    // A client source-add (screen share) is forwarded; a source-remove of another's SSRC is refused.
    const share = await b.iq(
      `<iq type="set" id="sa1" to="${room}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="source-add" sid="${offerB.sid}"><content name="video"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video">${src(2100, 'bbbb2222-v1', 'share-bbbb track-share', 'desktop')}</description></content></jingle></iq>`,
    );
    expect(share.attrs.type).toBe('result');
    const addShare = await receiveJingle(a, room, 'source-add');
    expect(addShare.contents[0]?.description?.sources.map((s) => [s.ssrc, s.name, s.videoType, s.owner])).toEqual([
      [2100, 'bbbb2222-v1', 'desktop', 'bbbb2222'],
    ]);
    const steal = await b.iq(
      `<iq type="set" id="sr1" to="${room}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="source-remove" sid="${offerB.sid}"><content name="audio"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio">${src(pa.audio, 'aaaa1111-a0', 'x y')}</description></content></jingle></iq>`,
    );
    expect(errorCondition(steal)).toBe('bad-request');
    expect(conf?.endpoints.get('aaaa1111')?.sources.length).toBe(2);

    // A (the owner) leaves: its endpoint expires, B is elected owner, B gets source-remove for A's sources.
    a.send(`<presence to="${room}/aaaa1111" type="unavailable"/>`);
    await waitFor(() => (conf?.endpoints.has('aaaa1111') ? 'endpoint A still on the bridge' : undefined));
    await b.expect(
      (s) => s.name === 'presence' && s.attrs.from === `${room}/bbbb2222` && s.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation === 'owner',
    );
    expect(conf?.endpoints.has('bbbb2222')).toBe(true);
    const leftRemove = await receiveJingle(b, room, 'source-remove');
    expect(leftRemove.sid).toBe(offerB.sid);
    const removedSources = leftRemove.contents.flatMap((c) => c.description?.sources ?? []);
    expect(removedSources.map((s) => s.ssrc)).toEqual(expect.arrayContaining([pa.audio, pa.video[0], pa.rtx[0]]));
    expect(removedSources.every((s) => s.owner === 'aaaa1111')).toBe(true);

    // The last participant leaves: bridge conference expired, focus gone, room destroyed.
    b.send(`<presence to="${room}/bbbb2222" type="unavailable"/>`);
    await waitFor(() => (srv.xmpp.muc.rooms.has(room) ? 'room still exists' : undefined));
    expect(bridge.bridge.conferences.size).toBe(0);
    expect(focus.conferences.size).toBe(0);
  });

  it('refuses Jingle from non-occupants, directly or through the room', async () => {
    const room = `room1@${srv.muc}`;
    const a = await connect();
    const b = await connect();
    await joinConference(a, room, 'aaaa1111');
    await joinConference(b, room, 'bbbb2222');
    const offerA = await receiveJingle(a, room, 'session-initiate');
    await receiveJingle(b, room, 'session-initiate');

    const c = await connect();
    const jingle = `<jingle xmlns="urn:xmpp:jingle:1" action="session-accept" sid="${offerA.sid}"/>`;
    const viaRoom = await c.iq(`<iq type="set" id="x1" to="${room}/focus">${jingle}</iq>`);
    expect(errorCondition(viaRoom)).toBe('not-acceptable');
    const direct = await c.iq(`<iq type="set" id="x2" to="${FOCUS_BARE}/focus">${jingle}</iq>`);
    expect(errorCondition(direct)).toBe('not-acceptable');
    // Nothing happened to A's session.
    expect(focus.getConference(room)?.participants.get('aaaa1111')?.session?.state).toBe('pending');
  });

  it('re-invites on session-terminate with bridge-session restart (ICE failure recovery)', async () => {
    const room = `room1@${srv.muc}`;
    const a = await connect();
    const b = await connect();
    await joinConference(a, room, 'aaaa1111');
    await joinConference(b, room, 'bbbb2222');
    const offerA = await receiveJingle(a, room, 'session-initiate');
    const offerB = await receiveJingle(b, room, 'session-initiate');
    expect((await a.iq(sessionAcceptXml(room, offerA.sid, 'aaaa1111', plan(1000)))).attrs.type).toBe('result');
    expect((await b.iq(sessionAcceptXml(room, offerB.sid, 'bbbb2222', plan(2000)))).attrs.type).toBe('result');
    await receiveJingle(a, room, 'source-add');
    await receiveJingle(b, room, 'source-add');

    // Wrong bridge-session id: item-not-found, session kept.
    const wrong = await a.iq(
      `<iq type="set" id="t0" to="${room}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="session-terminate" sid="${offerA.sid}"><reason><connectivity-error/><text>ICE FAILED</text></reason><bridge-session xmlns="http://jitsi.org/protocol/focus" id="other" restart="true"/></jingle></iq>`,
    );
    expect(errorCondition(wrong)).toBe('item-not-found');

    const res = await a.iq(
      `<iq type="set" id="t1" to="${room}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="session-terminate" sid="${offerA.sid}"><reason><connectivity-error/><text>ICE FAILED</text></reason><bridge-session xmlns="http://jitsi.org/protocol/focus" id="${offerA.bridgeSession?.id ?? ''}" restart="true"/></jingle></iq>`,
    );
    expect(res.attrs.type).toBe('result');
    // B is told A's sources are gone; A gets a new session with B's sources in the offer.
    const removed = await receiveJingle(b, room, 'source-remove');
    expect(removed.contents.flatMap((c) => c.description?.sources ?? []).every((s) => s.owner === 'aaaa1111')).toBe(true);
    const again = await receiveJingle(a, room, 'session-initiate');
    expect(again.sid).not.toBe(offerA.sid);
    expect(again.bridgeSession?.id).not.toBe(offerA.bridgeSession?.id);
    expect(again.contents.flatMap((c) => c.description?.sources ?? []).some((s) => s.owner === 'bbbb2222')).toBe(true);
    // The new endpoint accepts with the same sources again.
    expect((await a.iq(sessionAcceptXml(room, again.sid, 'aaaa1111', plan(1000), 'ufrag2'))).attrs.type).toBe('result');
    await receiveJingle(b, room, 'source-add');
  });
});

describe('moderator policy', () => {
  it('"nobody" grants no one owner', async () => {
    await focus.stop();
    focus = new FocusManager({ xmpp: srv.xmpp, colibri: bridge.bridge, config: { moderatorPolicy: 'nobody' } });
    focus.start();
    const room = `room1@${srv.muc}`;
    const a = await connect();
    await joinConference(a, room, 'aaaa1111');
    const b = await connect();
    await joinConference(b, room, 'bbbb2222');
    await receiveJingle(a, room, 'session-initiate');
    expect(srv.xmpp.muc.rooms.get(room)?.getOccupant('aaaa1111')?.affiliation).toBe('none');
  });

  it('"everybody" makes every participant owner', async () => {
    await focus.stop();
    focus = new FocusManager({ xmpp: srv.xmpp, colibri: bridge.bridge, config: { moderatorPolicy: 'everybody' } });
    focus.start();
    const room = `room1@${srv.muc}`;
    const a = await connect();
    const b = await connect();
    await joinConference(a, room, 'aaaa1111');
    await joinConference(b, room, 'bbbb2222');
    await waitFor(() => {
      const r = srv.xmpp.muc.rooms.get(room);
      return r?.getOccupant('aaaa1111')?.affiliation === 'owner' && r.getOccupant('bbbb2222')?.affiliation === 'owner' ? undefined : 'not owners yet';
    });
  });
});

async function restartFocus(options: Partial<ConstructorParameters<typeof FocusManager>[0]>): Promise<void> {
  await focus.stop();
  focus = new FocusManager({ xmpp: srv.xmpp, colibri: bridge.bridge, ...options });
  focus.start();
}

/** A and B in room1 with JVB sessions (offers acked); A is owner (auto-owner). */
async function twoInRoom(): Promise<{ a: TestClient; b: TestClient; room: string; offerA: Jingle; offerB: Jingle }> {
  const room = `room1@${srv.muc}`;
  const a = await connect();
  const b = await connect();
  await joinConference(a, room, 'aaaa1111');
  await a.expect(
    (s) => s.name === 'presence' && s.attrs.from === `${room}/aaaa1111` && s.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation === 'owner',
  );
  await joinConference(b, room, 'bbbb2222');
  const offerA = await receiveJingle(a, room, 'session-initiate');
  const offerB = await receiveJingle(b, room, 'session-initiate');
  return { a, b, room, offerA, offerB };
}

describe('source-remove on leave', () => {
  it('is not sent when sourceRemoveOnLeave is off (Jicofo behaviour): the leaver is still expired', async () => {
    await restartFocus({ config: { sourceRemoveOnLeave: false } });
    const { a, b, room, offerA, offerB } = await twoInRoom();
    expect((await a.iq(sessionAcceptXml(room, offerA.sid, 'aaaa1111', plan(1000)))).attrs.type).toBe('result');
    expect((await b.iq(sessionAcceptXml(room, offerB.sid, 'bbbb2222', plan(2000)))).attrs.type).toBe('result');
    await receiveJingle(a, room, 'source-add');
    a.send(`<presence to="${room}/aaaa1111" type="unavailable"/>`);
    await waitFor(() => (bridgeConference()?.endpoints.has('aaaa1111') ? 'endpoint A still on the bridge' : undefined));
    await waitFor(() => (focus.getConference(room)?.participants.has('aaaa1111') ? 'A still a participant' : undefined));
    expect(b.all(isJingle('source-remove'))).toEqual([]);
  });
});

const AUDIO_NS = 'http://jitsi.org/jitmeet/audio';
const VIDEO_NS = 'http://jitsi.org/jitmeet/video';
const DESKTOP_NS = 'http://jitsi.org/jitmeet/desktop';

function muteIq(c: TestClient, room: string, ns: string, jid: string | undefined, value = 'true'): Promise<Element> {
  return c.iq(`<iq type="set" id="${c.nextId()}" to="${room}/focus"><mute xmlns="${ns}"${jid === undefined ? '' : ` jid="${jid}"`}>${value}</mute></iq>`);
}

const isMuteTo = (ns: string) => (s: Element) => s.name === 'iq' && s.attrs.type === 'set' && s.getChild('mute', ns) !== undefined;

describe('mute IQ (§3.5)', () => {
  it('a moderator mutes audio: result, the target is told from room/focus, the bridge force-mutes until it unmutes itself', async () => {
    const { a, b, room } = await twoInRoom();
    const res = await muteIq(a, room, AUDIO_NS, `${room}/bbbb2222`);
    expect(res.attrs.type).toBe('result');
    expect(res.attrs.from).toBe(`${room}/focus`);
    const told = await b.expect(isMuteTo(AUDIO_NS));
    expect(told.attrs.from).toBe(`${room}/focus`);
    expect(told.attrs.to).toBe(b.jid);
    expect(told.getChild('mute', AUDIO_NS)?.attrs.actor).toBe(`${room}/aaaa1111`);
    expect(told.getChild('mute', AUDIO_NS)?.text()).toBe('true');
    const ep = () => bridgeConference()?.endpoints.get('bbbb2222');
    expect(ep()?.forceMute).toMatchObject({ audio: true, video: false });

    // B mutes (SourceInfo muted), then unmutes itself: the force-mute is lifted only after the unmute.
    b.send(`<presence to="${room}/bbbb2222"><SourceInfo>{"bbbb2222-a0":{"muted":true},"bbbb2222-v0":{"muted":false,"videoType":"camera"}}</SourceInfo></presence>`);
    await waitFor(() => (focus.getConference(room)?.participants.get('bbbb2222')?.forceMute.audio === 'muted' ? undefined : 'not seen muted'));
    expect(ep()?.forceMute.audio).toBe(true);
    b.send(`<presence to="${room}/bbbb2222"><SourceInfo>{"bbbb2222-a0":{"muted":false},"bbbb2222-v0":{"muted":false,"videoType":"camera"}}</SourceInfo></presence>`);
    await waitFor(() => (ep()?.forceMute.audio === false ? undefined : 'still force-muted'));
    // A was never told anything.
    expect(a.all(isMuteTo(AUDIO_NS))).toEqual([]);
  });

  it('video mutes force-mute video; desktop mutes only tell the client; a self-unmute lifts the force-mute', async () => {
    const { a, b, room } = await twoInRoom();
    expect((await muteIq(a, room, VIDEO_NS, `${room}/bbbb2222`)).attrs.type).toBe('result');
    await b.expect(isMuteTo(VIDEO_NS));
    const ep = () => bridgeConference()?.endpoints.get('bbbb2222');
    expect(ep()?.forceMute).toMatchObject({ audio: false, video: true });

    expect((await muteIq(a, room, DESKTOP_NS, `${room}/bbbb2222`)).attrs.type).toBe('result');
    const desk = await b.expect(isMuteTo(DESKTOP_NS));
    expect(desk.getChild('mute', DESKTOP_NS)?.attrs.actor).toBe(`${room}/aaaa1111`);
    expect(ep()?.forceMute).toMatchObject({ audio: false, video: true });

    // B unmutes its own video by IQ: allowed, force-mute lifted, nobody is sent a mute IQ.
    const self = await muteIq(b, room, VIDEO_NS, `${room}/bbbb2222`, 'false');
    expect(self.attrs.type).toBe('result');
    expect(ep()?.forceMute.video).toBe(false);
    expect(b.all(isMuteTo(VIDEO_NS))).toHaveLength(1);
  });

  it('refuses non-moderators, unmuting others, bad and unknown targets with typed errors', async () => {
    const { a, b, room } = await twoInRoom();
    const ep = () => bridgeConference()?.endpoints.get('aaaa1111');
    // B is not a moderator.
    expect(errorCondition(await muteIq(b, room, AUDIO_NS, `${room}/aaaa1111`))).toBe('not-allowed');
    expect(ep()?.forceMute.audio).toBe(false);
    // Nobody unmutes someone else, not even a moderator.
    expect(errorCondition(await muteIq(a, room, AUDIO_NS, `${room}/bbbb2222`, 'false'))).toBe('not-allowed');
    // Missing or bad jid, bad value.
    expect(errorCondition(await muteIq(a, room, AUDIO_NS, undefined))).toBe('bad-request');
    expect(errorCondition(await muteIq(a, room, AUDIO_NS, 'a@b@c'))).toBe('bad-request');
    expect(errorCondition(await muteIq(a, room, AUDIO_NS, `other@${srv.muc}/bbbb2222`))).toBe('bad-request');
    expect(errorCondition(await muteIq(a, room, AUDIO_NS, room))).toBe('bad-request');
    expect(errorCondition(await muteIq(a, room, AUDIO_NS, `${room}/bbbb2222`, 'maybe'))).toBe('bad-request');
    // Unknown target.
    expect(errorCondition(await muteIq(a, room, AUDIO_NS, `${room}/nobody99`))).toBe('item-not-found');
    expect(b.all(isMuteTo(AUDIO_NS))).toEqual([]);
    // Self-mute is allowed to anyone.
    expect((await muteIq(b, room, AUDIO_NS, `${room}/bbbb2222`)).attrs.type).toBe('result');
    await b.expect(isMuteTo(AUDIO_NS));
  });
});

const hasRtx = (offer: Jingle) => offer.contents.some((c) => c.description?.payloadTypes.some((pt) => pt.name === 'rtx'));
const hasTcc = (offer: Jingle) =>
  offer.contents.some((c) => c.description?.payloadTypes.some((pt) => pt.rtcpFbs.some((f) => f.type === 'transport-cc')));
const hasRemb = (offer: Jingle) =>
  offer.contents.some((c) => c.description?.payloadTypes.some((pt) => pt.rtcpFbs.some((f) => f.type === 'goog-remb')));

describe('participant features (disco#info, §3.4.2)', () => {
  it('shapes each offer and the bridge endpoint from the disco#info answer', async () => {
    const room = `room1@${srv.muc}`;
    const a = await connect();
    const b = await connect();
    const plain = LJM_FEATURES.filter((f) => !['urn:ietf:rfc:4588', 'http://jitsi.org/tcc', 'http://jitsi.org/remb'].includes(f));
    await joinConference(a, room, 'aaaa1111', plain);
    await joinConference(b, room, 'bbbb2222');
    const offerA = await receiveJingle(a, room, 'session-initiate');
    const offerB = await receiveJingle(b, room, 'session-initiate');
    // The default offer config has TCC off, so REMB is what the REMB feature switches (§4.3.1).
    expect([hasRtx(offerA), hasTcc(offerA), hasRemb(offerA)]).toEqual([false, false, false]);
    expect([hasRtx(offerB), hasRemb(offerB)]).toEqual([true, true]);
    expect(focus.getConference(room)?.participants.get('aaaa1111')?.disco).toBe('done');
    // The bridge endpoint negotiated what A was offered: no RTX payload type.
    expect(bridgeConference()?.endpoints.has('aaaa1111')).toBe(true);
  });

  it('falls back to what LJM always advertises when the query fails, and does not wait for a silent client', async () => {
    await restartFocus({ timing: { discoInviteWaitMs: 50, discoTimeoutMs: 200 } });
    const room = `room1@${srv.muc}`;
    const a = await connect();
    const b = await connect();
    await joinConference(a, room, 'aaaa1111', 'error');
    await joinConference(b, room, 'bbbb2222', 'none'); // never answers
    const offerA = await receiveJingle(a, room, 'session-initiate');
    const offerB = await receiveJingle(b, room, 'session-initiate');
    for (const o of [offerA, offerB]) expect([hasRtx(o), hasRemb(o)]).toEqual([true, true]);
    const conf = focus.getConference(room);
    expect(conf?.participants.get('aaaa1111')?.disco).toBe('failed');
    await waitFor(() => (conf?.participants.get('bbbb2222')?.disco === 'failed' ? undefined : 'disco still pending'));
  });
});

describe('single-participant timeout (§3.1)', () => {
  it('terminates the lone session with expired, expires the bridge conference, and re-invites when someone joins', async () => {
    await restartFocus({ config: { singleParticipantTimeoutMs: 150 } });
    const { a, b, room, offerA } = await twoInRoom();
    expect(focus.getConference(room)?.hasBridgeConference).toBe(true);
    b.send(`<presence to="${room}/bbbb2222" type="unavailable"/>`);
    const term = await receiveJingle(a, room, 'session-terminate');
    expect(term.sid).toBe(offerA.sid);
    expect(term.reason).toMatchObject({ condition: 'expired', text: 'Idle session timeout' });
    await waitFor(() => (bridge.bridge.conferences.size === 0 ? undefined : 'bridge conference not expired'));
    const conf = focus.getConference(room);
    expect(conf?.hasBridgeConference).toBe(false);
    expect(conf?.participants.get('aaaa1111')?.session).toBeUndefined();
    expect(srv.xmpp.muc.rooms.has(room)).toBe(true);

    // Someone joins: both get new sessions on a new bridge conference.
    const c = await connect();
    await joinConference(c, room, 'cccc3333');
    const again = await receiveJingle(a, room, 'session-initiate');
    expect(again.sid).not.toBe(offerA.sid);
    await receiveJingle(c, room, 'session-initiate');
    expect([...(bridgeConference()?.endpoints.keys() ?? [])].sort()).toEqual(['aaaa1111', 'cccc3333']);
  });

  it('is off when singleParticipantTimeoutMs is 0: the lone session and its bridge conference stay', async () => {
    await restartFocus({ config: { singleParticipantTimeoutMs: 0 } });
    const { a, b, room } = await twoInRoom();
    b.send(`<presence to="${room}/bbbb2222" type="unavailable"/>`);
    await waitFor(() => (focus.getConference(room)?.participants.size === 1 ? undefined : 'B still there'));
    // With the timer disabled the lone session stays; the bridge conference with it.
    expect(focus.getConference(room)?.participants.get('aaaa1111')?.session?.ended).toBe(false);
    expect(bridge.bridge.conferences.size).toBe(1);
    expect(a.all(isJingle('session-terminate'))).toEqual([]);
  });
});
