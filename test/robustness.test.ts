/**
 * Issue 5, "Tests": a late joiner, a participant that vanishes without leaving, and bad input. Same wiring as
 * test/conference.test.ts (startServer on loopback, headless participants from test/participant.ts), with short
 * XMPP liveness pings so a silent client is detected quickly. No fixed sleeps: every step waits on a condition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, elements } from '@jitsi-one/xmpp';
import type { RunningServer } from '../packages/server/src/index.js';
import { TestClient } from '../packages/xmpp/test/client.js';
import { emptyDescription, serializeJingle } from '../packages/focus/src/jingle/xml.js';
import type { Jingle } from '../packages/focus/src/jingle/types.js';
import { Participant, waitFor } from './participant.js';
import { startLoopbackServer } from './loopback-server.js';

const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_FOCUS = 'http://jitsi.org/protocol/focus';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const PING_INTERVAL_S = 1;
const PING_TIMEOUT_S = 1;

type Ssrcs = { audio: number; video: number; rtx: number };
const SSRCS: Record<string, Ssrcs> = {
  a1a1a1a1: { audio: 0x1100_0001, video: 0x1100_0010, rtx: 0x1100_0020 },
  b2b2b2b2: { audio: 0x2200_0001, video: 0x2200_0010, rtx: 0x2200_0020 },
  c3c3c3c3: { audio: 0x3300_0001, video: 0x3300_0010, rtx: 0x3300_0020 },
  d4d4d4d4: { audio: 0x4400_0001, video: 0x4400_0010, rtx: 0x4400_0020 },
  e5e5e5e5: { audio: 0x5500_0001, video: 0x5500_0010, rtx: 0x5500_0020 },
};
const FIRST = ['a1a1a1a1', 'b2b2b2b2', 'c3c3c3c3'] as const;
const LATE = 'd4d4d4d4';
const HELD = 'e5e5e5e5';

let server: RunningServer;
let room: string;
const people = new Map<string, Participant>();
const outsiders: TestClient[] = [];

function p(nick: string): Participant {
  const x = people.get(nick);
  if (x === undefined) throw new Error(`no participant ${nick}`);
  return x;
}

function ssrcs(nick: string): Ssrcs {
  const s = SSRCS[nick];
  if (s === undefined) throw new Error(`no SSRCs for ${nick}`);
  return s;
}

function bridgeConference() {
  const meetingId = server.focus?.getConference(room)?.meetingId;
  return meetingId === undefined ? undefined : server.bridge?.bridge.getConferenceByMeetingId(meetingId);
}

function problems(nicks: readonly string[] = [...people.keys()]): string {
  return nicks.flatMap((n) => p(n).problems.map((m) => `${n}: ${m}`)).join('\n');
}

/** Waits until each receiver got at least `min` more packets on each announced audio/video SSRC of each sender. */
async function expectMedia(receivers: readonly string[], senders: readonly string[], min = 10, timeoutMs = 15_000): Promise<void> {
  const base = new Map<string, number>();
  for (const r of receivers) for (const s of senders) if (r !== s) for (const x of [ssrcs(s).audio, ssrcs(s).video]) base.set(`${r}:${x}`, p(r).count(x));
  await waitFor(() => {
    for (const r of receivers) {
      for (const s of senders) {
        if (r === s) continue;
        for (const [kind, x] of [['audio', ssrcs(s).audio], ['video', ssrcs(s).video]] as const) {
          const got = p(r).count(x) - (base.get(`${r}:${x}`) ?? 0);
          if (got < min) return `${r} got ${got} new ${kind} packets from ${s} (ssrc ${x}); received ${JSON.stringify([...p(r).received])}\n${problems()}`;
        }
      }
    }
    return undefined;
  }, timeoutMs);
}

async function join(nick: string, extra: { holdOffer?: boolean } = {}): Promise<Participant> {
  const x = await Participant.join({ wsUrl: server.wsUrl, domain: server.domain, focusDomain: server.focusDomain, room, nick, ssrcs: ssrcs(nick), ...extra });
  people.set(nick, x);
  return x;
}

async function connect(nick: string): Promise<void> {
  const x = p(nick);
  await waitFor(() => (x.offer === undefined ? `no session-initiate for ${nick}\n${problems([nick])}` : undefined));
  await x.accepted();
  await waitFor(() => (x.connected() ? undefined : `ICE/DTLS not connected for ${nick}\n${problems([nick])}`));
}

/** The defined condition of an IQ error reply (RFC 6120 §8.3.3), or a description of what came instead. */
function errorCondition(el: Element): string {
  if (el.attrs.type !== 'error') return `not an error: ${el.toString()}`;
  const err = el.getChild('error');
  const cond = err === undefined ? undefined : elements(err).find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
  return cond?.name ?? `no defined condition: ${el.toString()}`;
}

async function outsider(): Promise<TestClient> {
  const c = await TestClient.connect({ wsUrl: server.wsUrl, domain: server.domain });
  outsiders.push(c);
  return c;
}

beforeAll(async () => {
  server = await startLoopbackServer({ xmpp: { pingIntervalSeconds: PING_INTERVAL_S, pingTimeoutSeconds: PING_TIMEOUT_S } });
  room = `robust@${server.mucDomain}`;
  // The focus invites once two participants are in the room, so all three join before any session is awaited.
  for (const nick of FIRST) await join(nick);
  await Promise.all(FIRST.map(connect));
  await expectMedia(FIRST, FIRST, 5);
});

afterAll(async () => {
  for (const c of outsiders) c.close();
  await Promise.all([...people.values()].map((x) => x.leave()));
  await server?.stop();
});

describe('issue 5: late joiner, silent disconnect, bad input', () => {
  it('a fourth participant joins late and receives audio and video from all three (and they from it)', async () => {
    await join(LATE);
    await connect(LATE);
    await expectMedia([LATE], FIRST, 10);
    await expectMedia(FIRST, [LATE], 10);
    expect(problems()).toBe('');
    const conf = bridgeConference();
    expect(conf && [...conf.endpoints.keys()].sort()).toEqual([...FIRST, LATE].sort());
  });

  it('a participant whose socket goes silent without leaving is removed within the ping timeout; the others keep their media', async () => {
    const conf = bridgeConference();
    expect(conf?.endpoints.has(LATE)).toBe(true);
    const started = Date.now();
    await p(LATE).cut(); // no unavailable presence, no </close>, no WS pongs, no XEP-0199 answers, no media
    // Liveness: idle ≥ interval → ping; no answer for the timeout → dropped. The check runs every interval/2.
    const limitMs = (PING_INTERVAL_S + PING_TIMEOUT_S + 1) * 1000 + 1500;
    await waitFor(() => (server.xmpp.muc.rooms.get(room)?.getOccupant(LATE) !== undefined ? `${LATE} still in the room after ${Date.now() - started} ms` : undefined), limitMs);
    await waitFor(() => (conf?.endpoints.has(LATE) ? `endpoint ${LATE} still on the bridge after ${Date.now() - started} ms` : undefined), limitMs);
    expect(Date.now() - started).toBeLessThan(limitMs);
    await waitFor(() => {
      const stale = FIRST.filter((n) => p(n).remote.has(LATE));
      return stale.length > 0 ? `${stale.join(', ')} still list ${LATE}'s sources` : undefined;
    }, 5000);
    await p(LATE).leave();
    people.delete(LATE);
    expect(conf && [...conf.endpoints.keys()].sort()).toEqual([...FIRST].sort());
    await expectMedia(FIRST, FIRST, 10);
    expect(problems()).toBe('');
  });

  it('Jingle from a client that is not an occupant is refused with a typed error', async () => {
    const c = await outsider();
    const sid = p('a1a1a1a1').offer?.sid ?? 'nosuchsid';
    const jingle = `<jingle xmlns="${NS_JINGLE}" action="source-add" sid="${sid}"><content name="audio"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="${ssrcs('b2b2b2b2').audio}"/></description></content></jingle>`;
    // To room/focus and to an occupant the MUC refuses (not-acceptable, XEP-0045 §7.5); the focus component itself
    // answers IQs it does not serve with service-unavailable.
    for (const to of [`${room}/focus`, server.focusDomain, `${room}/a1a1a1a1`]) {
      const res = await c.iq(`<iq type="set" id="${c.nextId()}" to="${to}">${jingle}</iq>`);
      if (process.env.ROBUSTNESS_DEBUG) console.log(`non-occupant Jingle to ${to}: ${res.toString()}`);
      const allowed = to === server.focusDomain ? ['not-acceptable', 'service-unavailable'] : ['not-acceptable'];
      expect(allowed, `to ${to}: ${res.toString()}`).toContain(errorCondition(res));
    }
    await expectMedia(FIRST, FIRST, 10);
    expect(problems()).toBe('');
    expect(FIRST.every((n) => p(n).remote.get('a1a1a1a1')?.audio.has(ssrcs('b2b2b2b2').audio) !== true)).toBe(true);
  });

  it('a source-add announcing another participant\'s SSRC is refused and the victim\'s media still reaches the others', async () => {
    const forger = p('a1a1a1a1');
    const victim = ssrcs('b2b2b2b2');
    const sid = forger.offer?.sid;
    expect(sid).toBeDefined();
    const logLen = new Map(FIRST.map((n) => [n, p(n).jingleLog.length]));
    const forge = (media: 'audio' | 'video', ssrc: number): Jingle => ({
      action: 'source-add',
      sid: sid ?? '',
      contents: [{ name: media, creator: 'responder', senders: 'both', description: { ...emptyDescription(media), sources: [{ ssrc, name: `a1a1a1a1-${media[0] ?? 'x'}9`, owner: 'a1a1a1a1', msid: 'forged track', parameters: [] }] } }],
    });
    for (const [media, ssrc] of [['audio', victim.audio], ['video', victim.video]] as const) {
      const res = await forger.iq(`<iq type="set" id="${forger.link.nextId()}" to="${forger.focusOccupant}">${serializeJingle(forge(media, ssrc)).toString()}</iq>`);
      if (process.env.ROBUSTNESS_DEBUG) console.log(`forged ${media} source-add: ${res.toString()}`);
      expect(errorCondition(res), res.toString()).toBe('bad-request');
    }
    // Nobody was told of the forged sources, the bridge still routes the victim's SSRCs to everyone.
    await expectMedia(['a1a1a1a1', 'c3c3c3c3'], ['b2b2b2b2'], 20);
    await expectMedia(FIRST, FIRST, 10);
    for (const n of FIRST) {
      const added = p(n).jingleLog.slice(logLen.get(n) ?? 0);
      expect(added, `${n} got signalling after the forged source-add`).toEqual([]);
      if (n !== 'a1a1a1a1') expect(p(n).remote.get('a1a1a1a1')?.audio.has(victim.audio) === true).toBe(false);
    }
    expect(problems()).toBe('');
  });

  it('a session-accept with garbage content is refused; a correct one afterwards still works; nobody else is disturbed', async () => {
    const e = await join(HELD, { holdOffer: true });
    await waitFor(() => (e.offer === undefined ? `no session-initiate for ${HELD}` : undefined));
    const sid = e.offer?.sid ?? '';
    const transport = `<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="abcd" pwd="abcdefghijklmnopqrstuvwx"><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="active">${Array.from({ length: 32 }, () => 'AB').join(':')}</fingerprint></transport>`;
    const desc = (media: string, inner: string) => `<description xmlns="urn:xmpp:jingle:apps:rtp:1" media="${media}">${inner}</description>`;
    const accept = (contents: string) => `<jingle xmlns="${NS_JINGLE}" action="session-accept" sid="${sid}" responder="${e.link.jid}">${contents}</jingle>`;
    const opus = '<payload-type id="111" name="opus" clockrate="48000" channels="2"/>';
    const garbage: Record<string, string> = {
      'non-numeric SSRC': accept(`<content name="audio" creator="responder" senders="both">${desc('audio', `${opus}<source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="notanumber" name="${HELD}-a0"/>`)}${transport}</content>`),
      'SSRC beyond 32 bits': accept(`<content name="audio" creator="responder" senders="both">${desc('audio', `${opus}<source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="4294967296" name="${HELD}-a0"/>`)}${transport}</content>`),
      'negative SSRC': accept(`<content name="audio" creator="responder" senders="both">${desc('audio', `${opus}<source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="-5" name="${HELD}-a0"/>`)}${transport}</content>`),
      'non-numeric payload type and clock rate': accept(`<content name="audio" creator="responder" senders="both">${desc('audio', '<payload-type id="abc" name="opus" clockrate="fast" channels="x"/>')}${transport}</content>`),
      'missing transport': accept(`<content name="audio" creator="responder" senders="both">${desc('audio', `${opus}<source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="${ssrcs(HELD).audio}" name="${HELD}-a0"/>`)}</content>`),
      'transport without ufrag/pwd/fingerprint': accept(`<content name="audio" creator="responder" senders="both">${desc('audio', opus)}<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1"/></content>`),
      'non-numeric SSRC group member': accept(`<content name="video" creator="responder" senders="both">${desc('video', `<payload-type id="100" name="VP8" clockrate="90000"/><source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="${ssrcs(HELD).video}" name="${HELD}-v0"/><ssrc-group xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" semantics="FID"><source ssrc="${ssrcs(HELD).video}"/><source ssrc="zz"/></ssrc-group>`)}${transport}</content>`),
    };
    const failures: string[] = [];
    for (const [what, j] of Object.entries(garbage)) {
      const res = await e.iq(`<iq type="set" id="${e.link.nextId()}" to="${e.focusOccupant}">${j}</iq>`);
      const cond = errorCondition(res);
      if (process.env.ROBUSTNESS_DEBUG) console.log(`garbage session-accept (${what}): ${res.toString()}`);
      if (!['bad-request', 'not-acceptable', 'jid-malformed'].includes(cond)) failures.push(`${what}: ${cond}`);
    }
    expect(failures, 'garbage session-accepts not refused with a typed error').toEqual([]);
    // The others saw nothing from the refused accepts and keep exchanging media.
    for (const n of FIRST) expect(p(n).remote.has(HELD), `${n} was told ${HELD}'s sources`).toBe(false);
    await expectMedia(FIRST, FIRST, 10);
    // The pending session survives the refusals: the correct session-accept is answered `result` and media flows.
    await e.answerOffer();
    expect(e.acceptResult?.attrs.type).toBe('result');
    await waitFor(() => (e.connected() ? undefined : `ICE/DTLS not connected for ${HELD}\n${problems([HELD])}`));
    await expectMedia([HELD], FIRST, 10);
    await expectMedia(FIRST, [HELD], 10);
    expect(problems()).toBe('');
  });

  it('a conference IQ for a room name with illegal characters is refused with bad-request or jid-malformed', async () => {
    const c = await outsider();
    const muc = server.mucDomain;
    const names = [`a b@${muc}`, `x&quot;y@${muc}`, `@${muc}`, `a&lt;b@${muc}`, `a/b@${muc}`, `a:b@${muc}`, `a@b@${muc}`, `x&apos;y@${muc}`, `room@${muc}/res`, `room@not-the-muc.example`];
    const failures: string[] = [];
    for (const name of names) {
      const res = await c.iq(`<iq type="set" id="${c.nextId()}" to="${server.focusDomain}"><conference xmlns="${NS_FOCUS}" room="${name}" machine-uid="m-x"/></iq>`);
      const cond = errorCondition(res);
      if (process.env.ROBUSTNESS_DEBUG) console.log(`conference IQ room="${name}": ${res.toString()}`);
      if (cond !== 'bad-request' && cond !== 'jid-malformed') failures.push(`room="${name}": ${cond}`);
    }
    expect(failures, 'illegal room names accepted or refused without bad-request/jid-malformed').toEqual([]);
    expect(server.focus?.conferences.size).toBe(1);
    await expectMedia([...FIRST, HELD], [...FIRST, HELD], 10);
    expect(problems()).toBe('');
  });

  it('a participant whose TCP connection is destroyed without leaving is removed and its endpoint expired', async () => {
    const conf = bridgeConference();
    expect(conf?.endpoints.has(HELD)).toBe(true);
    await p(HELD).cut({ terminate: true });
    const limitMs = (PING_INTERVAL_S + PING_TIMEOUT_S + 1) * 1000 + 1500;
    await waitFor(() => (server.xmpp.muc.rooms.get(room)?.getOccupant(HELD) !== undefined ? `${HELD} still in the room` : undefined), limitMs);
    await waitFor(() => (conf?.endpoints.has(HELD) ? `endpoint ${HELD} still on the bridge` : undefined), limitMs);
    await p(HELD).leave();
    people.delete(HELD);
    await waitFor(() => (FIRST.some((n) => p(n).remote.has(HELD)) ? `others still list ${HELD}'s sources` : undefined), 5000);
    await expectMedia(FIRST, FIRST, 10);
    expect(problems()).toBe('');
  });
});
