/**
 * Issue 7 (privacy): the meeting the privacy tests run, and a raw XMPP-over-WebSocket client that can choose its
 * source address.
 *
 * The meeting: A and B join (WebSocket, `p2p: true`) and go P2P; they set display names (XEP-0172 `<nick>` in
 * their presence, as Jitsi Meet does), A sends a group chat message and B a private message to A; C joins over
 * BOSH, P2P ends and all three get media through the bridge; C sends a group chat message; A (a moderator) mutes
 * C's audio; everyone leaves.
 * Every personal item used (display names, chat text, room name, JIDs, MUC nicks) is recognisable so that the log
 * test can look for it, and is returned in {@link MeetingRecord}.
 *
 * The headless participants (test/participant.ts) connect from 127.0.0.1 (the kernel's source address for every
 * 127.0.0.0/8 destination); the raw client binds any loopback address given. Servers under test listen on
 * 127.0.0.2, so that "127.0.0.1" or "127.0.0.3" in a log line can only be a client's address.
 */
import WebSocket from 'ws';
import { NS_MUC } from '@jitsi-one/xmpp';
import { Participant, type ParticipantSsrcs, waitFor } from './participant.js';

/** Where the servers under test listen (HTTP, bridge UDP, STUN). */
export const SERVER_ADDRESS = '127.0.0.2';
/** Where the headless participants come from (not chosen: the kernel's source address on lo). */
export const PARTICIPANT_ADDRESS = '127.0.0.1';
/** Where the raw clients (failed login, malformed stanza, HTTP requests) come from. */
export const RAW_CLIENT_ADDRESS = '127.0.0.3';

const NS_NICK = 'http://jabber.org/protocol/nick';
/** Longest wait for one step of the meeting (generous: CI machines may be busy). */
const WAIT_MS = 30_000;
const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** MUC nicks (= endpoint ids). Jitsi clients use 8 random hex digits; other XMPP clients may use a name. */
export const NICKS = { a: 'annanick', b: 'bertnick', c: 'carlnick' } as const;
type Who = keyof typeof NICKS;

/** Display names (`<nick xmlns="http://jabber.org/protocol/nick">`). */
export const DISPLAY_NAMES: Record<Who, string> = {
  a: 'Xanthippe Quillfeather',
  b: 'Bartholomew Nutmegger',
  c: 'Cordelia Fizzwiggin',
};

export const CHAT = {
  groupA: 'the purple elephant dances at midnight',
  privateB: 'my secret pinecone recipe is cardamom',
  groupC: 'ostrich lemonade tastes of saffron',
} as const;

const SSRCS: Record<Who, ParticipantSsrcs> = {
  a: { audio: 0x7a00_0001, video: 0x7a00_0010, rtx: 0x7a00_0020, layers: { video: [0x7a00_0011, 0x7a00_0012], rtx: [0x7a00_0021, 0x7a00_0022] } },
  b: { audio: 0x7b00_0001, video: 0x7b00_0010, rtx: 0x7b00_0020, layers: { video: [0x7b00_0011, 0x7b00_0012], rtx: [0x7b00_0021, 0x7b00_0022] } },
  c: { audio: 0x7c00_0001, video: 0x7c00_0010, rtx: 0x7c00_0020, layers: { video: [0x7c00_0011, 0x7c00_0012], rtx: [0x7c00_0021, 0x7c00_0022] } },
};

export interface MeetingTarget {
  wsUrl: string;
  boshUrl: string;
  domain: string;
  focusDomain: string;
  /** Bare room JID. */
  room: string;
}

export interface MeetingRecord {
  /** The participants' full JIDs (anonymous logins: `uuid@domain/resource`). */
  jids: string[];
}

/** Hooks into the meeting, to look at the server while it runs. */
export interface MeetingHooks {
  /** All three are in, media flows through the bridge, chat was exchanged. */
  whileThree?: (people: readonly Participant[]) => Promise<void> | void;
}

function problemsOf(people: readonly Participant[]): string {
  return people.flatMap((x) => x.problems.map((m) => `${x.endpointId}: ${m}`)).join('\n');
}

/** Waits until `r` got at least `min` packets of `s`'s audio and video over `path`. */
async function mediaFrom(r: Participant, s: Who, path: 'bridge' | 'p2p', min: number, all: readonly Participant[]): Promise<void> {
  const count = (ssrc: number): number => (path === 'bridge' ? r.count(ssrc) : r.countP2p(ssrc));
  const base = [SSRCS[s].audio, SSRCS[s].video].map(count);
  await waitFor(() => {
    const got = [SSRCS[s].audio, SSRCS[s].video].map((x, i) => count(x) - (base[i] ?? 0));
    return got.every((g) => g >= min) ? undefined : `${r.endpointId} got ${got.join('/')} audio/video packets from ${NICKS[s]} over ${path}\n${problemsOf(all)}`;
  }, WAIT_MS);
}

/** Sets the display name the way Jitsi Meet does: a presence update carrying `<nick xmlns=…/nick>`. */
function setDisplayName(p: Participant, name: string): void {
  const nick = p.endpointId;
  const sourceInfo = JSON.stringify({ [`${nick}-a0`]: { muted: false }, [`${nick}-v0`]: { muted: false, videoType: 'camera' } });
  p.link.send(
    `<presence to="${p.occupantJid}"><stats-id>stats-${nick}</stats-id><SourceInfo>${sourceInfo}</SourceInfo>` +
      `<nick xmlns="${NS_NICK}">${name}</nick><jitsi_participant_codecList>vp8,vp9,h264</jitsi_participant_codecList></presence>`,
  );
}

/** Resolves when `p` receives a message whose body is `text`. */
function received(p: Participant, text: string): Promise<void> {
  return new Promise((resolve) => {
    p.link.onStanza((el) => {
      if (el.name === 'message' && el.getChildText('body') === text) resolve();
    });
  });
}

function withTimeout<T>(what: string, p: Promise<T>, ms = 15_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);
}

/** Resolves when `p`'s presence for `other` carries the display name `name`. */
function sawDisplayName(p: Participant, other: Participant, name: string): Promise<void> {
  return new Promise((resolve) => {
    p.link.onStanza((el) => {
      if (el.name === 'presence' && el.attrs.from === other.occupantJid && el.getChildText('nick', NS_NICK) === name) resolve();
    });
  });
}

/**
 * Runs the whole meeting. Everyone has left when it resolves (also when it fails: participants are always asked
 * to leave).
 */
export async function runMeeting(t: MeetingTarget, hooks: MeetingHooks = {}): Promise<MeetingRecord> {
  const people: Participant[] = [];
  const join = async (who: Who, transport: 'websocket' | 'bosh'): Promise<Participant> => {
    const p = await Participant.join({
      wsUrl: t.wsUrl,
      boshUrl: t.boshUrl,
      transport,
      domain: t.domain,
      focusDomain: t.focusDomain,
      room: t.room,
      nick: NICKS[who],
      ssrcs: SSRCS[who],
      p2p: true,
    });
    people.push(p);
    return p;
  };
  try {
    const a = await join('a', 'websocket');
    const b = await join('b', 'websocket');
    // Bridge sessions up, then P2P between the two (A's nick is smaller: A offers), bridge sessions kept.
    await waitFor(() => [a, b].filter((x) => !x.connected()).map((x) => `${x.endpointId}: bridge session not connected\n${problemsOf(people)}`)[0], WAIT_MS);
    await waitFor(() => [a, b].filter((x) => !x.p2pActive()).map((x) => `${x.endpointId}: P2P not active; ${x.p2pLog.join(', ')}\n${problemsOf(people)}`)[0], WAIT_MS);
    await mediaFrom(a, 'b', 'p2p', 5, people);
    await mediaFrom(b, 'a', 'p2p', 5, people);

    // Display names and chat.
    const seen = withTimeout('display name of A seen by B', sawDisplayName(b, a, DISPLAY_NAMES.a));
    setDisplayName(a, DISPLAY_NAMES.a);
    setDisplayName(b, DISPLAY_NAMES.b);
    await seen;
    const groupA = withTimeout('group message at B', received(b, CHAT.groupA));
    a.link.send(`<message to="${t.room}" type="groupchat" id="g1"><body>${CHAT.groupA}</body><nick xmlns="${NS_NICK}">${DISPLAY_NAMES.a}</nick></message>`);
    await groupA;
    const privateB = withTimeout('private message at A', received(a, CHAT.privateB));
    b.link.send(`<message to="${a.occupantJid}" type="chat" id="p1"><body>${CHAT.privateB}</body><nick xmlns="${NS_NICK}">${DISPLAY_NAMES.b}</nick></message>`);
    await privateB;

    // The third (over BOSH): P2P ends, everyone through the bridge.
    const c = await join('c', 'bosh');
    setDisplayName(c, DISPLAY_NAMES.c);
    await waitFor(() => [a, b].filter((x) => x.p2pActive()).map((x) => `${x.endpointId}: P2P still active`)[0], WAIT_MS);
    await waitFor(() => people.filter((x) => !x.connected()).map((x) => `${x.endpointId}: bridge session not connected\n${problemsOf(people)}`)[0], WAIT_MS);
    for (const [r, s] of [[a, 'b'], [a, 'c'], [b, 'a'], [b, 'c'], [c, 'a'], [c, 'b']] as const) await mediaFrom(r, s, 'bridge', 5, people);
    const groupC = withTimeout('group message at A', received(a, CHAT.groupC));
    c.link.send(`<message to="${t.room}" type="groupchat" id="g2"><body>${CHAT.groupC}</body><nick xmlns="${NS_NICK}">${DISPLAY_NAMES.c}</nick></message>`);
    await groupC;
    // A moderator action naming another participant: A (the first in, a moderator) mutes C's audio.
    const mute = await a.iq(`<iq type="set" id="${a.link.nextId()}" to="${a.focusOccupant}"><mute xmlns="http://jitsi.org/jitmeet/audio" jid="${c.occupantJid}">true</mute></iq>`);
    if (mute.attrs.type !== 'result') throw new Error(`mute refused: ${mute.toString()}`);
    const problems = problemsOf(people);
    if (problems !== '') throw new Error(`participant problems:\n${problems}`);
    await hooks.whileThree?.(people);
    return { jids: people.map((x) => x.link.jid) };
  } finally {
    await Promise.all(people.map((x) => x.leave()));
  }
}

// ------------------------------------------------------------------------------------------------ raw client

/** A bare XMPP-over-WebSocket connection from a chosen local address; frames are kept as strings. */
export class RawXmpp {
  readonly frames: string[] = [];
  closed = false;
  readonly #ws: WebSocket;
  #waiters: Array<{ re: RegExp; resolve: (f: string) => void }> = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (d) => {
      const f = String(d);
      this.frames.push(f);
      for (const w of [...this.#waiters]) {
        if (w.re.test(f)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.closed = true;
    });
  }

  static async open(url: string, localAddress: string): Promise<RawXmpp> {
    const ws = new WebSocket(url, 'xmpp', { localAddress });
    const c = new RawXmpp(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  send(data: string): void {
    this.#ws.send(data);
  }

  /** The first frame (already received or to come) matching `re`. */
  expect(re: RegExp, timeoutMs = 5000): Promise<string> {
    const have = this.frames.find((f) => re.test(f));
    if (have !== undefined) return Promise.resolve(have);
    return withTimeout(
      `frame matching ${re}; got ${this.frames.slice(-3).join(' | ')}`,
      new Promise<string>((resolve) => this.#waiters.push({ re, resolve })),
      timeoutMs,
    );
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await waitFor(() => (this.closed ? undefined : 'socket still open'), timeoutMs);
  }

  /** Opens the stream to `domain` and waits for the features. */
  async openStream(domain: string): Promise<string> {
    const before = this.frames.length;
    this.send(`<open xmlns="${FRAMING}" to="${domain}" version="1.0"/>`);
    await waitFor(() => (this.frames.slice(before).some((f) => f.includes('stream:features')) ? undefined : 'no stream features'), 5000);
    return this.frames.slice(before).find((f) => f.includes('stream:features')) ?? '';
  }

  /** SASL PLAIN; resolves with the `<success/>` or `<failure/>` frame. */
  async plain(user: string, password: string): Promise<string> {
    this.send(`<auth xmlns="${NS_SASL}" mechanism="PLAIN">${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`);
    return this.expect(/<(success|failure)\b/);
  }

  /** SASL ANONYMOUS, stream restart and bind; resolves with the full JID. */
  async anonymous(domain: string): Promise<string> {
    await this.openStream(domain);
    this.send(`<auth xmlns="${NS_SASL}" mechanism="ANONYMOUS"/>`);
    await this.expect(/<success\b/);
    await this.openStream(domain);
    this.send(`<iq xmlns="jabber:client" type="set" id="bind1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`);
    const res = await this.expect(/id="bind1"/);
    const jid = /<jid>([^<]+)<\/jid>/.exec(res)?.[1];
    if (jid === undefined) throw new Error(`bind failed: ${res}`);
    return jid;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.send(`<close xmlns="${FRAMING}"/>`);
    } catch {
      // already gone
    }
    this.#ws.close();
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

/** Joins `room` as `nick` from a raw client (presence with `<x xmlns=muc>`), resolves on self-presence. */
export async function rawJoin(c: RawXmpp, room: string, nick: string, displayName: string): Promise<void> {
  c.send(`<presence xmlns="jabber:client" to="${room}/${nick}"><x xmlns="${NS_MUC}"/><nick xmlns="${NS_NICK}">${displayName}</nick></presence>`);
  await c.expect(new RegExp(`<presence[^>]*from="${room.replace(/\./g, '\\.')}/${nick}"[^>]*>.*code="110"`));
}
