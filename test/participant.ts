/**
 * A headless Jitsi participant for whole-stack tests and benchmarks: what lib-jitsi-meet does on the wire, without a
 * browser.
 *
 * - XMPP over WebSocket (@xmpp/client) or BOSH (strophe.js), SASL ANONYMOUS (test/xmpp-link.ts);
 * - the conference IQ to `focus.<domain>`, then the MUC join with LJM's presence payload (PROTOCOL.md §3.1, §3.4.1);
 * - answers every IQ sent to it: disco#info with LJM's features (§3.4.2), `result` for everything else (acked first,
 *   acted on afterwards, as LJM does);
 * - JVB session: on the focus's session-initiate (§4.3, §4.5) turns the offer into SDP with sdp-transform
 *   (test/jingle-sdp.ts), lets a werift RTCPeerConnection answer it, and sends session-accept (§4.6) with its
 *   transport (ufrag, pwd, fingerprint setup=active, no candidates) and its sources: audio `<ep>-a0`, video `<ep>-v0`
 *   as one SSRC + RTX, or three simulcast SSRCs each with RTX in SIM and FID groups when `ssrcs.layers` is given;
 * - opens the colibri-ws bridge channel from the offer and sends ReceiverVideoConstraints (§6);
 * - tracks the remote sources of the offer and of source-add / source-remove (§4.7), and drops a leaver's sources on
 *   its unavailable presence as LJM does (§3.3.3);
 * - P2P (`p2p: true`, §8): with exactly one other participant in the room, the one with the smaller nick sends a P2P
 *   session-initiate to the other through the MUC; the other answers with session-accept; once that DTLS is up both
 *   send media only P2P (JVB media suspended, the JVB session kept). When a third joins the P2P session is terminated
 *   (`success`, "Turning off P2P session") and media goes back to the bridge; when two remain, P2P starts again;
 * - sends synthetic media (test/synthetic-media.ts) once a path is up: Opus-like audio with the audio-level
 *   extension, VP8 per simulcast layer to the bridge, one VP8 stream P2P;
 * - counts every decrypted RTP packet it receives by SSRC, per path, and when the first VP8 key frame of each SSRC
 *   arrived; per SSRC also bytes and the longest gap between two packets since {@link Participant.markGaps};
 * - reliability options: `bridgeAddress` points its bridge candidate at a UDP proxy (test/udp-impairment.ts);
 *   `repair` NACKs gaps in received video and unwraps RTX as a receiver, and answers the bridge's NACKs with RTX as
 *   a sender (test/media-repair.ts), as a browser does; {@link Participant.flood} makes one layer a flood.
 */
import { GenericNack, RTCPeerConnection, RtcpTransportLayerFeedback, RtpPacket, type RTCDtlsTransport } from 'werift';
import WebSocket from 'ws';
import { type Element, NS_MUC } from '@jitsi-one/xmpp';
import { emptyDescription, expandJsonSources, parseJingle, serializeJingle } from '../packages/focus/src/jingle/xml.js';
import { LJM_FEATURES as LJM_DISCO_FEATURES } from '../packages/focus/src/jingle/fixtures/ljm-features.js';
import type { Content, Jingle, Reason, RtpDescription, RtpHdrExt, Source, SsrcGroup } from '../packages/focus/src/jingle/types.js';
import { jingleToSdp, sdpMids, sdpPayloadTypes, sdpTransport, sourcesOf, usablePayloadTypes, type Media } from './jingle-sdp.js';
import { buildRtx, ReceiveRepair, SendHistory } from './media-repair.js';
import { MediaPump, SIMULCAST_SIZES, vp8KeyFrameSize, type VideoLayer } from './synthetic-media.js';
import { connectXmpp, type XmppLink, type XmppTransportKind } from './xmpp-link.js';

export { isVp8KeyFrame } from './synthetic-media.js';
export { jingleToSdp } from './jingle-sdp.js';

const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_FOCUS = 'http://jitsi.org/protocol/focus';
const URI_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** What this LJM answers to disco#info (PROTOCOL §3.4.2, defaults: no SSRC rewriting), with entity caps. */
export const LJM_FEATURES = [...LJM_DISCO_FEATURES, 'http://jabber.org/protocol/caps'];

export interface ParticipantSsrcs {
  audio: number;
  /** The main video SSRC (the lowest simulcast layer's, what receivers are told), and its RTX. */
  video: number;
  rtx: number;
  /** The two higher simulcast layers and their RTX; without them the camera is one stream. */
  layers?: { video: [number, number]; rtx: [number, number] };
}

export interface ParticipantOptions {
  /** XMPP WebSocket URL (`RunningServer.wsUrl`). */
  wsUrl: string;
  /** BOSH URL (`RunningServer.boshUrl`), used with `transport: 'bosh'`. */
  boshUrl?: string;
  /** How to reach the XMPP server (default WebSocket). */
  transport?: XmppTransportKind;
  domain: string;
  focusDomain: string;
  /** Bare room JID. */
  room: string;
  /** MUC nick = endpoint id (LJM: 8 hex digits). */
  nick: string;
  ssrcs: ParticipantSsrcs;
  /** When true, a session-initiate is recorded but not answered until {@link Participant.answerOffer} (default false). */
  holdOffer?: boolean;
  /** Go P2P with the other participant while there are exactly two (default false). */
  p2p?: boolean;
  /**
   * Replaces the address of every candidate in the bridge's offer (JVB session), e.g. with a UDP impairment proxy's
   * (test/udp-impairment.ts), so that all media to and from the bridge goes through it.
   */
  bridgeAddress?: { ip: string; port: number };
  /**
   * Loss repair on the JVB session as a browser does it (test/media-repair.ts): NACK gaps in received video and
   * unwrap RTX; keep sent video and answer the bridge's NACKs with RTX. Default false (werift's own receiver-side
   * NACK handling then stays as it is).
   */
  repair?: boolean;
  /** RTP packets per VP8 frame sent to the bridge (default 1). */
  videoPacketsPerFrame?: number;
}

/** Per SSRC: packets and bytes received, and arrival gaps since {@link Participant.markGaps}. */
export interface ArrivalStats {
  packets: number;
  bytes: number;
  /** performance.now() of the last packet (or of the mark, before any packet since). */
  last: number;
  /** Longest time between two packets (or the mark and the first packet) since the mark, ms. */
  longestGap: number;
}

/** What the sender side of `repair` did. */
export interface RtxSenderStats {
  /** Sequence numbers the bridge NACKed. */
  nacked: number;
  /** RTX packets sent in answer. */
  rtxSent: number;
  /** NACKed numbers no longer (or never) in the history. */
  unknown: number;
}

/** The sources of one remote endpoint as announced by the focus (offer / source-add, minus source-remove). */
export interface RemoteEndpointSources {
  audio: Set<number>;
  video: Set<number>;
}

/** Poll `check` until it returns undefined (condition met); fail with its last reason after `timeoutMs`. */
export async function waitFor(check: () => string | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason = check();
  while (reason !== undefined) {
    if (Date.now() > deadline) throw new Error(`timed out: ${reason}`);
    await new Promise((r) => setTimeout(r, 20));
    reason = check();
  }
}

/** A werift peer connection kept on loopback (host candidates on 127.0.0.1 only). */
function loopbackPeerConnection(): RTCPeerConnection {
  return new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
  });
}

async function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const sub = pc.iceGatheringStateChange.subscribe((st) => {
      if (st === 'complete') {
        sub.unSubscribe();
        resolve();
      }
    });
  });
}

/** One received-media path (the JVB session or the P2P session). */
interface MediaPath {
  pc: RTCPeerConnection;
  dt: RTCDtlsTransport;
  pump: MediaPump | undefined;
}

interface P2pSession extends Partial<MediaPath> {
  sid: string;
  peer: string;
  initiator: boolean;
  ended: boolean;
}

export class Participant {
  readonly link: XmppLink;
  readonly opts: ParticipantOptions;
  readonly occupantJid: string;
  readonly focusOccupant: string;
  /** The offer, once received. */
  offer: Jingle | undefined;
  /** The focus's answer to our session-accept. */
  acceptResult: Element | undefined;
  /** Remote sources by owner endpoint id (offer + source-add − source-remove). */
  readonly remote = new Map<string, RemoteEndpointSources>();
  /** Jingle actions received from the focus, in order, with the owners of the sources they carry. */
  readonly jingleLog: Array<{ action: string; owners: string[] }> = [];
  /** P2P Jingle actions, sent (`>`) and received (`<`), in order, e.g. `> session-initiate`. */
  readonly p2pLog: string[] = [];
  /** Decrypted RTP received over the JVB session, by SSRC (packet counts). */
  readonly received = new Map<number, number>();
  /** Decrypted RTP received over the P2P session, by SSRC. */
  readonly receivedP2p = new Map<number, number>();
  /**
   * What was received per SSRC (both paths): payload types, packets with the audio-level extension, VP8 key frames
   * and the height of the last one (which simulcast layer the bridge forwards).
   */
  readonly details = new Map<number, { pts: Set<number>; withAudioLevel: number; vp8KeyFrames: number; lastKeyFrameHeight?: number }>();
  /** When (performance.now()) the first packet of a VP8 key frame arrived, by SSRC. */
  readonly firstKeyFrameAt = new Map<number, number>();
  /** When (performance.now()) the XMPP connection was opened (set by {@link join}). */
  openedAt = 0;
  /** Things that went wrong outside an awaited call (reported by tests). */
  readonly problems: string[] = [];
  /** The colibri-ws bridge channel (undefined until opened). */
  channel: WebSocket | undefined;
  readonly channelMessages: Array<Record<string, unknown>> = [];
  /** Other occupants (not the focus), by nick. */
  readonly others = new Set<string>();
  /** Arrivals by SSRC, both paths. */
  readonly arrivals = new Map<number, ArrivalStats>();
  #gapMark = performance.now();
  /** With `repair`: the receive side (NACKs sent, RTX received, per remote video SSRC). */
  readonly repair: ReceiveRepair | undefined;
  /** With `repair`: the send side. */
  readonly rtxSender: RtxSenderStats = { nacked: 0, rtxSent: 0, unknown: 0 };
  readonly #history = new SendHistory();
  /** Remote FID groups: RTX SSRC → media SSRC. */
  readonly #remoteRtx = new Map<number, number>();
  #jvb: MediaPath | undefined;
  #jvbPc: RTCPeerConnection | undefined;
  #jvbAccepted = false;
  #p2p: P2pSession | undefined;
  #left = false;
  #joined = false;
  #accepted: Promise<void> | undefined;
  #audioLevelId = 1;
  #joinedWaiter: (() => void) | undefined;

  private constructor(link: XmppLink, opts: ParticipantOptions) {
    this.link = link;
    this.opts = opts;
    this.occupantJid = `${opts.room}/${opts.nick}`;
    this.focusOccupant = `${opts.room}/focus`;
    if (opts.repair === true) {
      this.repair = new ReceiveRepair({
        sendNack: (mediaSsrc, seqs) => {
          const dt = this.#jvb?.dt;
          if (dt?.state !== 'connected') return;
          const feedback = new GenericNack({ senderSsrc: opts.ssrcs.video, mediaSourceSsrc: mediaSsrc, lost: seqs });
          dt.sendRtcp([new RtcpTransportLayerFeedback({ feedback })]).catch(() => undefined);
        },
      });
    }
    link.respond((iq) => {
      const disco = iq.getChild('query', NS_DISCO_INFO);
      if (iq.attrs.type !== 'get' || disco === undefined) return '';
      const node = disco.attrs.node !== undefined ? ` node="${String(disco.attrs.node)}"` : '';
      return `<query xmlns="${NS_DISCO_INFO}"${node}>${LJM_FEATURES.map((f) => `<feature var="${f}"/>`).join('')}</query>`;
    });
    link.onStanza((el) => this.#onStanza(el));
  }

  /** Connects, asks the focus for the conference, joins the room (does not wait for the Jingle session). */
  static async join(opts: ParticipantOptions): Promise<Participant> {
    const openedAt = performance.now();
    const kind = opts.transport ?? 'websocket';
    const service = kind === 'bosh' ? opts.boshUrl : opts.wsUrl;
    if (service === undefined) throw new Error('transport bosh needs boshUrl');
    const link = await connectXmpp(kind, service, opts.domain);
    const p = new Participant(link, opts);
    p.openedAt = openedAt;
    const res = await link.iq(
      `<iq type="set" id="${link.nextId()}" to="${opts.focusDomain}"><conference xmlns="${NS_FOCUS}" room="${opts.room}" machine-uid="m-${opts.nick}"><property name="rtcstatsEnabled" value="false"/><property name="startAudioMuted" value="9"/><property name="startVideoMuted" value="9"/></conference></iq>`,
    );
    const conf = res.getChild('conference', NS_FOCUS);
    if (res.attrs.type !== 'result' || conf?.attrs.ready !== 'true') throw new Error(`conference IQ refused: ${res.toString()}`);
    const joined = new Promise<void>((resolve) => {
      p.#joinedWaiter = resolve;
    });
    const sourceInfo = JSON.stringify({ [`${opts.nick}-a0`]: { muted: false }, [`${opts.nick}-v0`]: { muted: false, videoType: 'camera' } });
    link.send(
      `<presence to="${p.occupantJid}"><x xmlns="${NS_MUC}"/><stats-id>stats-${opts.nick}</stats-id>` +
        `<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://jitsi.org/jitsi-meet" ver="cvjWXufsg4xT62Ec2mlATkFZ9lk="/>` +
        `<SourceInfo>${sourceInfo}</SourceInfo><nick xmlns="http://jabber.org/protocol/nick">${opts.nick}</nick>` +
        `<jitsi_participant_codecList>vp8,vp9,h264</jitsi_participant_codecList></presence>`,
    );
    await Promise.race([
      joined,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${opts.nick}: no self-presence within 10 s`)), 10_000)),
    ]);
    p.#joined = true;
    p.#evaluateP2p();
    return p;
  }

  get endpointId(): string {
    return this.opts.nick;
  }

  /** The peer connection of the JVB session (created as soon as the offer is handled). */
  get pc(): RTCPeerConnection | undefined {
    return this.#jvbPc;
  }

  /** True once werift's ICE + DTLS with the bridge are up. */
  connected(): boolean {
    return this.#jvb?.dt.state === 'connected';
  }

  /** True while media goes P2P (P2P DTLS up). */
  p2pActive(): boolean {
    return this.#p2p !== undefined && !this.#p2p.ended && this.#p2p.dt?.state === 'connected';
  }

  /** The P2P session's selected ICE candidate pair (ports), if any. */
  p2pCandidatePair(): { localPort: number; remotePort: number; remoteIp: string } | undefined {
    const pair = this.#p2p?.pc?.iceTransports[0]?.getSelectedCandidatePair();
    if (!pair) return undefined;
    // "candidate:<foundation> <component> <protocol> <priority> <ip> <port> typ …"
    const field = (c: { candidate: string }, i: number): string => c.candidate.replace(/^candidate:/, '').split(' ')[i] ?? '';
    return { localPort: Number(field(pair.local, 5)), remotePort: Number(field(pair.remote, 5)), remoteIp: field(pair.remote, 4) };
  }

  /** True while media is being sent to the bridge. */
  sendingToBridge(): boolean {
    return this.#jvb?.pump?.running === true;
  }

  /** Resolves once session-accept was answered `result` (rejects on error). */
  accepted(): Promise<void> {
    return this.#accepted ?? Promise.reject(new Error(`${this.opts.nick}: no session-initiate yet`));
  }

  /** Packets received over the JVB session on `ssrc` so far. */
  count(ssrc: number): number {
    return this.received.get(ssrc) ?? 0;
  }

  /** Starts a new gap measurement: every SSRC's longest gap counts from now. */
  markGaps(): void {
    const now = performance.now();
    this.#gapMark = now;
    for (const a of this.arrivals.values()) {
      a.last = now;
      a.longestGap = 0;
    }
  }

  /** Longest time without a packet on `ssrc` since {@link markGaps}, up to now (ms). */
  longestGap(ssrc: number): number {
    const now = performance.now();
    const a = this.arrivals.get(ssrc);
    if (a === undefined) return now - this.#gapMark;
    return Math.max(a.longestGap, now - a.last);
  }

  /** Bytes received on `ssrc` so far (both paths). */
  bytes(ssrc: number): number {
    return this.arrivals.get(ssrc)?.bytes ?? 0;
  }

  /** The JVB media pump (once the session is accepted), e.g. for its counters. */
  get pump(): MediaPump | undefined {
    return this.#jvb?.pump;
  }

  /** Turns the video layer `ssrc` (default: the top one) into a flood of `bitrateBps` towards the bridge. */
  flood(bitrateBps: number, ssrc?: number): void {
    const pump = this.#jvb?.pump;
    if (pump === undefined) throw new Error(`${this.opts.nick}: no JVB media yet`);
    const { video, layers } = this.opts.ssrcs;
    pump.flood(ssrc ?? layers?.video[1] ?? video, bitrateBps);
  }

  /** Packets received over P2P on `ssrc` so far. */
  countP2p(ssrc: number): number {
    return this.receivedP2p.get(ssrc) ?? 0;
  }

  /** Packets sent so far (both paths). */
  get sentPackets(): number {
    return (this.#jvb?.pump?.sent ?? 0) + (this.#p2p?.pump?.sent ?? 0);
  }

  /** Sends an IQ (string XML with an `id`) and resolves with its result or error. */
  iq(stanza: string): Promise<Element> {
    return this.link.iq(stanza);
  }

  #onStanza(el: Element): void {
    const from = String(el.attrs.from ?? '');
    if (el.name === 'presence') {
      this.#onPresence(el, from);
      return;
    }
    if (el.name !== 'iq' || (el.attrs.type !== 'get' && el.attrs.type !== 'set')) return;
    if (el.getChild('jingle', NS_JINGLE) === undefined) return;
    let j: Jingle;
    try {
      j = parseJingle(el);
    } catch (err) {
      this.problems.push(`unparseable Jingle from ${from}: ${(err as Error).message}`);
      return;
    }
    if (from === this.focusOccupant) this.#onFocusJingle(j);
    else if (from.startsWith(`${this.opts.room}/`)) this.#onPeerJingle(j, from.slice(this.opts.room.length + 1));
    else this.problems.push(`Jingle ${j.action} from ${from}, not from the room`);
  }

  #onPresence(el: Element, from: string): void {
    if (!from.startsWith(`${this.opts.room}/`)) return;
    const nick = from.slice(this.opts.room.length + 1);
    if (nick === this.opts.nick) {
      const codes = (el.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildren('status') ?? []).map((st) => st.attrs.code);
      if (el.attrs.type === undefined && codes.includes('110')) this.#joinedWaiter?.();
      return;
    }
    if (nick === 'focus') return;
    if (el.attrs.type === 'unavailable') {
      // LJM drops a leaver's remote sources itself on MUC_MEMBER_LEFT (§3.3.3).
      this.remote.delete(nick);
      this.others.delete(nick);
    } else if (el.attrs.type === undefined) {
      this.others.add(nick);
    } else {
      return;
    }
    if (this.#joined) this.#evaluateP2p();
  }

  #onFocusJingle(j: Jingle): void {
    const srcs = sourcesOf(j);
    this.jingleLog.push({ action: j.action, owners: [...new Set(srcs.map((s) => s.source.owner ?? '?'))] });
    switch (j.action) {
      case 'session-initiate':
        this.offer = j;
        this.#addSources(srcs);
        this.#addRemoteRtx(j);
        if (this.opts.holdOffer !== true) void this.answerOffer();
        break;
      case 'source-add':
        this.#addSources(srcs);
        this.#addRemoteRtx(j);
        break;
      case 'source-remove':
        for (const { media, source } of srcs) {
          const e = this.remote.get(source.owner ?? '?');
          e?.[media].delete(source.ssrc);
          if (e !== undefined && e.audio.size === 0 && e.video.size === 0) this.remote.delete(source.owner ?? '?');
        }
        break;
      case 'session-terminate':
        this.problems.push(`session-terminate received: ${j.reason?.condition ?? ''} ${j.reason?.text ?? ''}`);
        break;
      default:
        break;
    }
  }

  /** Remembers the FID groups (media SSRC, RTX SSRC) of remote video, to unwrap RTX with `repair`. */
  #addRemoteRtx(j: Jingle): void {
    const contents: Content[] = [...j.contents, ...(j.jsonSources !== undefined ? expandJsonSources(j.jsonSources) : [])];
    for (const c of contents) {
      if ((c.description?.media ?? c.name) !== 'video') continue;
      for (const s of c.description?.sources ?? []) if (s.owner !== 'jvb') this.repair?.watch.add(s.ssrc);
      for (const g of c.description?.ssrcGroups ?? []) {
        const [media, rtx] = g.ssrcs;
        if (g.semantics !== 'FID' || media === undefined || rtx === undefined) continue;
        this.#remoteRtx.set(rtx, media);
        this.repair?.rtxToMedia.set(rtx, media);
        this.repair?.watch.delete(rtx);
      }
    }
  }

  #addSources(srcs: Array<{ media: Media; source: Source }>): void {
    for (const { media, source } of srcs) {
      const owner = source.owner ?? '?';
      if (owner === 'jvb') continue;
      let e = this.remote.get(owner);
      if (e === undefined) {
        e = { audio: new Set(), video: new Set() };
        this.remote.set(owner, e);
      }
      e[media].add(source.ssrc);
    }
  }

  // ------------------------------------------------------------------------------------------------------ JVB session

  /** Answers the received offer with the normal session-accept (automatic unless `holdOffer`). */
  answerOffer(): Promise<void> {
    if (this.#accepted !== undefined) return this.#accepted;
    const offer = this.offer;
    if (offer === undefined) return Promise.reject(new Error(`${this.opts.nick}: no session-initiate yet`));
    this.#accepted = this.#answerJvb(offer);
    this.#accepted.catch((err: Error) => this.problems.push(`session-initiate handling failed: ${err.message}`));
    return this.#accepted;
  }

  /** Our video sources, SIM group and FID groups for the JVB session (§4.6). */
  #jvbVideo(): { layers: VideoLayer[]; sources: Source[]; groups: SsrcGroup[] } {
    const { nick } = this.opts;
    const { video, rtx, layers } = this.opts.ssrcs;
    const msid = `${nick}-video-1-1 track-v-${nick}`;
    const mains = layers ? [video, ...layers.video] : [video];
    const rtxs = layers ? [rtx, ...layers.rtx] : [rtx];
    const sizes = layers ? SIMULCAST_SIZES : [[640, 360] as const];
    return {
      layers: mains.map((ssrc, i) => ({ ssrc, width: sizes[i]?.[0] ?? 640, height: sizes[i]?.[1] ?? 360 })),
      sources: [...mains, ...rtxs].map((ssrc): Source => ({ ssrc, name: `${nick}-v0`, videoType: 'camera', owner: nick, msid, parameters: [] })),
      groups: [
        ...(mains.length > 1 ? [{ semantics: 'SIM', ssrcs: mains }] : []),
        ...mains.map((ssrc, i) => ({ semantics: 'FID', ssrcs: [ssrc, rtxs[i] ?? 0] })),
      ],
    };
  }

  async #answerJvb(offer: Jingle): Promise<void> {
    const ws = offer.contents.find((c) => c.transport?.webSockets[0] !== undefined)?.transport?.webSockets[0]?.url;
    if (ws !== undefined) this.#openChannel(ws);
    const pc = loopbackPeerConnection();
    this.#jvbPc = pc;
    await pc.setRemoteDescription({ type: 'offer', sdp: jingleToSdp(this.#viaBridgeAddress(offer)) });
    if (this.repair !== undefined) {
      // Our own NACK logic replaces werift's receiver-side NACK generator (which mixes SSRCs of one m-line).
      for (const t of pc.getTransceivers()) (t.receiver as unknown as { nack: { addPacket(p: unknown): void } }).nack.addPacket = () => undefined;
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const local = pc.localDescription?.sdp ?? answer.sdp;
    const dt = pc.dtlsTransports[0];
    if (dt === undefined) throw new Error('werift has no DTLS transport');
    dt.onRtp.subscribe((p) => {
      this.#onRtp(p, this.received);
      this.repair?.onRtp(p.header.ssrc, p.header.sequenceNumber, p.header.payloadType, p.payload, performance.now());
    });
    this.#jvb = { pc, dt, pump: undefined };
    // LJM sends no candidates in the JVB session-accept: the bridge learns the address peer-reflexively (§4.6).
    const transport = { ...sdpTransport(local, 'active'), candidates: [] };

    const { nick } = this.opts;
    const video = this.#jvbVideo();
    const contents: Content[] = [];
    for (const c of offer.contents) {
      const d = c.description;
      if (d === undefined || (d.media !== 'audio' && d.media !== 'video')) continue;
      const desc: RtpDescription = { ...emptyDescription(d.media), rtcpMux: true };
      desc.payloadTypes = usablePayloadTypes(d);
      desc.rtpHdrExts = d.rtpHdrExts.map((x): RtpHdrExt => ({ id: x.id, uri: x.uri }));
      if (d.media === 'audio') {
        this.#audioLevelId = d.rtpHdrExts.find((x) => x.uri === URI_AUDIO_LEVEL)?.id ?? this.#audioLevelId;
        desc.sources = [{ ssrc: this.opts.ssrcs.audio, name: `${nick}-a0`, owner: nick, msid: `${nick}-audio-1-1 track-a-${nick}`, parameters: [] }];
      } else {
        desc.sources = video.sources;
        desc.ssrcGroups = video.groups;
      }
      contents.push({ name: c.name, creator: 'responder', senders: 'both', description: desc, transport });
    }
    const accept: Jingle = {
      action: 'session-accept',
      sid: offer.sid,
      ...(offer.initiator !== undefined ? { initiator: offer.initiator } : {}),
      responder: this.link.jid,
      group: { semantics: 'BUNDLE', contents: ['audio', 'video', 'data'] },
      contents,
    };
    const res = await this.link.iq(`<iq type="set" id="${this.link.nextId()}" to="${this.focusOccupant}">${serializeJingle(accept).toString()}</iq>`);
    this.acceptResult = res;
    if (res.attrs.type !== 'result') throw new Error(`session-accept refused: ${res.toString()}`);
    const pt = (media: Media, re: RegExp, dflt: number): number =>
      usablePayloadTypes(offer.contents.find((c) => c.description?.media === media)?.description ?? emptyDescription(media)).find((p) => re.test(p.name))?.id ?? dflt;
    const videoPt = pt('video', /vp8/i, 100);
    this.#jvb.pump = new MediaPump({
      audioSsrc: this.opts.ssrcs.audio,
      audioPt: pt('audio', /opus/i, 111),
      audioLevelExtId: this.#audioLevelId,
      videoPt,
      layers: video.layers,
      ...(this.opts.videoPacketsPerFrame !== undefined ? { videoPacketsPerFrame: this.opts.videoPacketsPerFrame } : {}),
    });
    this.#jvbAccepted = true;
    dt.onStateChange.subscribe((st) => {
      if (st === 'failed' && !this.#left) this.problems.push(`DTLS with the bridge failed (ICE ${pc.iceConnectionState})`);
      this.#route();
    });
    answerKeyFrameRequests(dt, () => this.#jvb?.pump);
    const videoDesc = offer.contents.find((c) => c.description?.media === 'video')?.description;
    const rtxPts = (videoDesc?.payloadTypes ?? []).filter((p) => /^rtx$/i.test(p.name));
    if (this.repair !== undefined) for (const p of rtxPts) this.repair.rtxPts.add(p.id);
    if (this.opts.repair === true) {
      const rtxPt = rtxPts.find((p) => p.parameters.some((x) => x.name === 'apt' && x.value === String(videoPt)))?.id;
      if (rtxPt !== undefined) this.#answerNacks(dt, rtxPt);
      else this.problems.push('repair: the offer has no RTX payload type for VP8');
    }
    this.#route();
  }

  /** The offer with every candidate pointing at `bridgeAddress` (unchanged without it). */
  #viaBridgeAddress(offer: Jingle): Jingle {
    const to = this.opts.bridgeAddress;
    if (to === undefined) return offer;
    return {
      ...offer,
      contents: offer.contents.map((c) =>
        c.transport === undefined ? c : { ...c, transport: { ...c.transport, candidates: c.transport.candidates.map((x) => ({ ...x, ip: to.ip, port: to.port })) } },
      ),
    };
  }

  /** Sender side of `repair`: answers generic NACKs (RFC 4585) for our video with RTX (RFC 4588) from the history. */
  #answerNacks(dt: RTCDtlsTransport, rtxPt: number): void {
    const { video, rtx, layers } = this.opts.ssrcs;
    const rtxOf = new Map<number, number>([[video, rtx]]);
    if (layers) layers.video.forEach((v, i) => rtxOf.set(v, layers.rtx[i] ?? 0));
    const rtxSeq = new Map<number, number>();
    dt.onRtcp.subscribe((pkt) => {
      if (pkt.type !== 205) return;
      // werift bundles more than one copy of its RTP classes: recognise a generic NACK by shape, not instanceof.
      const fb = (pkt as { feedback?: { count?: number; mediaSourceSsrc?: number; lost?: number[] } }).feedback;
      if (fb?.count !== 1 || fb.mediaSourceSsrc === undefined || !Array.isArray(fb.lost)) return;
      const rtxSsrc = rtxOf.get(fb.mediaSourceSsrc);
      if (rtxSsrc === undefined) return;
      for (const lost of fb.lost) {
        this.rtxSender.nacked++;
        const orig = this.#history.get(fb.mediaSourceSsrc, lost & 0xffff);
        if (orig === undefined) {
          this.rtxSender.unknown++;
          continue;
        }
        const seq = rtxSeq.get(rtxSsrc) ?? 0x4000;
        rtxSeq.set(rtxSsrc, (seq + 1) & 0xffff);
        const out = buildRtx(orig, rtxSsrc, rtxPt, seq);
        this.rtxSender.rtxSent++;
        sender(dt)(out);
      }
    });
  }

  #openChannel(url: string): void {
    const ws = new WebSocket(url);
    this.channel = ws;
    ws.on('message', (d) => {
      try {
        this.channelMessages.push(JSON.parse(String(d)) as Record<string, unknown>);
      } catch {
        this.problems.push('bridge channel sent non-JSON');
      }
    });
    ws.on('error', (err) => this.problems.push(`bridge channel error: ${err.message}`));
    ws.on('open', () => {
      // What LJM sends once the channel is open (§6.2).
      ws.send(JSON.stringify({ colibriClass: 'ReceiverVideoConstraints', lastN: -1, defaultConstraints: { maxHeight: 720 }, constraints: {} }));
    });
  }

  // ------------------------------------------------------------------------------------------------------------ media

  #onRtp(p: RtpPacket, counts: Map<number, number>): void {
    const ssrc = p.header.ssrc;
    counts.set(ssrc, (counts.get(ssrc) ?? 0) + 1);
    const now = performance.now();
    let a = this.arrivals.get(ssrc);
    if (a === undefined) {
      a = { packets: 0, bytes: 0, last: this.#gapMark, longestGap: 0 };
      this.arrivals.set(ssrc, a);
    }
    a.packets++;
    a.bytes += p.serializeSize;
    if (now - a.last > a.longestGap) a.longestGap = now - a.last;
    a.last = now;
    let d = this.details.get(ssrc);
    if (d === undefined) {
      d = { pts: new Set(), withAudioLevel: 0, vp8KeyFrames: 0 };
      this.details.set(ssrc, d);
    }
    d.pts.add(p.header.payloadType);
    if (p.header.extensions.some((x) => x.id === this.#audioLevelId && x.payload.length >= 1)) d.withAudioLevel++;
    const size = vp8KeyFrameSize(p.payload);
    if (size !== undefined) {
      d.vp8KeyFrames++;
      d.lastKeyFrameHeight = size.height;
      if (!this.firstKeyFrameAt.has(ssrc)) this.firstKeyFrameAt.set(ssrc, performance.now());
    }
  }

  /** Media goes P2P while that session's DTLS is up, to the bridge otherwise (LJM suspends JVB media in P2P, §8). */
  #route(): void {
    const p2p = this.#p2p;
    const p2pUp = !this.#left && p2p !== undefined && !p2p.ended && p2p.dt?.state === 'connected';
    const jvb = this.#jvb;
    if (p2pUp) {
      jvb?.pump?.stop();
      if (p2p.pump !== undefined && !p2p.pump.running && p2p.dt !== undefined) p2p.pump.start(sender(p2p.dt));
      return;
    }
    p2p?.pump?.stop();
    // Start once DTLS is up, so the first key frame is not lost before the transport can carry it.
    if (!this.#left && this.#jvbAccepted && jvb?.pump !== undefined && !jvb.pump.running && jvb.dt.state === 'connected') {
      const send = sender(jvb.dt);
      const history = this.opts.repair === true ? this.#history : undefined;
      jvb.pump.start(history === undefined ? send : (buf) => (history.record(buf), send(buf)));
    }
  }

  // ------------------------------------------------------------------------------------------------------------- P2P

  #evaluateP2p(): void {
    if (this.opts.p2p !== true || this.#left) return;
    const [peer] = this.others;
    const want = this.others.size === 1 && peer !== undefined;
    const cur = this.#p2p !== undefined && !this.#p2p.ended ? this.#p2p : undefined;
    if (!want) {
      if (cur !== undefined) this.#stopP2p(cur, { condition: 'success', text: 'Turning off P2P session' }, true);
      return;
    }
    if (cur !== undefined) return;
    // The participant whose endpoint id compares smaller starts the session (§8).
    if (this.opts.nick < peer) void this.#startP2p(peer).catch((err: Error) => this.problems.push(`P2P start failed: ${err.message}`));
  }

  #sendP2p(peer: string, j: Jingle): Promise<Element> {
    this.p2pLog.push(`> ${j.action}`);
    return this.link.iq(`<iq type="set" id="${this.link.nextId()}" to="${this.opts.room}/${peer}">${serializeJingle(j).toString()}</iq>`);
  }

  /** Our P2P contents from the local SDP: one per mid, our sources (no simulcast in P2P), transport and candidates. */
  #p2pContents(local: string, creator: 'initiator' | 'responder'): Content[] {
    const { nick, ssrcs } = this.opts;
    const transport = sdpTransport(local);
    return sdpMids(local).map(({ mid, media }): Content => {
      const desc: RtpDescription = { ...emptyDescription(media), rtcpMux: true, payloadTypes: sdpPayloadTypes(local, mid) };
      if (media === 'audio') {
        desc.sources = [{ ssrc: ssrcs.audio, name: `${nick}-a0`, msid: `${nick}-audio-1-1 track-a-${nick}`, parameters: [] }];
      } else {
        const msid = `${nick}-video-1-1 track-v-${nick}`;
        desc.sources = [ssrcs.video, ssrcs.rtx].map((ssrc): Source => ({ ssrc, name: `${nick}-v0`, videoType: 'camera', msid, parameters: [] }));
        desc.ssrcGroups = [{ semantics: 'FID', ssrcs: [ssrcs.video, ssrcs.rtx] }];
      }
      return { name: mid, creator, senders: 'both', description: desc, transport };
    });
  }

  #p2pSetup(s: P2pSession, pc: RTCPeerConnection, local: string): void {
    const dt = pc.dtlsTransports[0];
    if (dt === undefined) throw new Error('werift has no P2P DTLS transport');
    s.pc = pc;
    s.dt = dt;
    const mids = sdpMids(local);
    const audio = mids.find((m) => m.media === 'audio');
    const video = mids.find((m) => m.media === 'video');
    const audioPt = audio ? sdpPayloadTypes(local, audio.mid).find((p) => /opus/i.test(p.name))?.id : undefined;
    const videoPt = video ? sdpPayloadTypes(local, video.mid).find((p) => /vp8/i.test(p.name))?.id : undefined;
    s.pump = new MediaPump({
      audioSsrc: this.opts.ssrcs.audio,
      audioPt: audioPt ?? 111,
      audioLevelExtId: this.#audioLevelId,
      videoPt: videoPt ?? 96,
      layers: [{ ssrc: this.opts.ssrcs.video, width: 1280, height: 720 }],
    });
    dt.onRtp.subscribe((p) => {
      if (!s.ended) this.#onRtp(p, this.receivedP2p);
    });
    dt.onStateChange.subscribe(() => this.#route());
    answerKeyFrameRequests(dt, () => s.pump);
  }

  async #startP2p(peer: string): Promise<void> {
    const s: P2pSession = { sid: `p2p${Math.random().toString(36).slice(2, 12)}`, peer, initiator: true, ended: false };
    this.#p2p = s;
    const pc = loopbackPeerConnection();
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const local = pc.localDescription?.sdp ?? '';
    this.#p2pSetup(s, pc, local);
    if (s.ended) return;
    const contents = this.#p2pContents(local, 'initiator');
    const res = await this.#sendP2p(peer, {
      action: 'session-initiate',
      sid: s.sid,
      initiator: this.link.jid,
      group: { semantics: 'BUNDLE', contents: contents.map((c) => c.name) },
      contents,
    });
    if (res.attrs.type !== 'result') this.problems.push(`P2P session-initiate refused: ${res.toString().slice(0, 300)}`);
  }

  async #acceptP2p(offer: Jingle, peer: string): Promise<void> {
    const s: P2pSession = { sid: offer.sid, peer, initiator: false, ended: false };
    this.#p2p = s;
    const pc = loopbackPeerConnection();
    await pc.setRemoteDescription({ type: 'offer', sdp: jingleToSdp(offer) });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    const local = pc.localDescription?.sdp ?? '';
    this.#p2pSetup(s, pc, local);
    if (s.ended) return;
    const contents = this.#p2pContents(local, 'responder');
    const res = await this.#sendP2p(peer, {
      action: 'session-accept',
      sid: s.sid,
      ...(offer.initiator !== undefined ? { initiator: offer.initiator } : {}),
      responder: this.link.jid,
      group: { semantics: 'BUNDLE', contents: contents.map((c) => c.name) },
      contents,
    });
    if (res.attrs.type !== 'result') this.problems.push(`P2P session-accept refused: ${res.toString().slice(0, 300)}`);
    this.#route();
  }

  #stopP2p(s: P2pSession, reason: Reason, tellPeer: boolean): void {
    if (s.ended) return;
    s.ended = true;
    if (tellPeer) void this.#sendP2p(s.peer, { action: 'session-terminate', sid: s.sid, contents: [], reason }).catch(() => undefined);
    s.pump?.stop();
    void s.pc?.close().catch(() => undefined);
    this.#route();
  }

  #onPeerJingle(j: Jingle, peer: string): void {
    this.p2pLog.push(`< ${j.action}`);
    const s = this.#p2p !== undefined && !this.#p2p.ended && this.#p2p.sid === j.sid ? this.#p2p : undefined;
    switch (j.action) {
      case 'session-initiate':
        if (this.opts.p2p !== true || this.others.size !== 1 || (this.#p2p !== undefined && !this.#p2p.ended)) {
          void this.#sendP2p(peer, { action: 'session-terminate', sid: j.sid, contents: [], reason: { condition: 'decline', text: 'P2P disabled' } }).catch(() => undefined);
          return;
        }
        void this.#acceptP2p(j, peer).catch((err: Error) => this.problems.push(`P2P accept failed: ${err.message}`));
        return;
      case 'session-accept':
        if (s?.initiator !== true || s.pc === undefined) return;
        s.pc.setRemoteDescription({ type: 'answer', sdp: jingleToSdp(j) }).then(
          () => this.#route(),
          (err: Error) => this.problems.push(`P2P answer rejected by werift: ${err.message}`),
        );
        return;
      case 'session-terminate':
        if (s !== undefined) this.#stopP2p(s, j.reason ?? { condition: 'success' }, false);
        return;
      default:
        return; // transport-info (candidates are in the offer/answer), source-add, content-modify: acked only
    }
  }

  // ------------------------------------------------------------------------------------------------------- lifecycle

  /**
   * Vanishes without leaving: stops media and the peer connections, and stops reading its XMPP connection (so
   * neither WebSocket pings nor XEP-0199 pings are answered) with no unavailable presence and no close. With
   * `terminate: true` the TCP connection is also destroyed at once. {@link leave} cleans up afterwards.
   */
  async cut(opts: { terminate?: boolean } = {}): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.#stopMedia();
    this.channel?.terminate();
    this.link.stall(opts);
    await this.#closePcs();
  }

  #stopMedia(): void {
    this.repair?.close();
    this.#jvb?.pump?.stop();
    this.#p2p?.pump?.stop();
    if (this.#p2p) this.#p2p.ended = true;
  }

  async #closePcs(): Promise<void> {
    await Promise.all([this.#jvb?.pc.close().catch(() => undefined), this.#p2p?.pc?.close().catch(() => undefined)]);
  }

  /** Leaves the room (unavailable presence), stops media, closes the peer connections, channel and XMPP link. */
  async leave(): Promise<void> {
    if (this.#left) {
      await this.link.close();
      return;
    }
    this.#left = true;
    this.#stopMedia();
    if (!this.link.closed) this.link.send(`<presence to="${this.occupantJid}" type="unavailable"/>`);
    this.channel?.terminate();
    await this.#closePcs();
    await this.link.close();
  }
}

/** Answers RTCP PLI (RFC 4585) and FIR (RFC 5104) for our SSRCs with a key frame on the next frame, as an encoder does. */
function answerKeyFrameRequests(dt: RTCDtlsTransport, pump: () => MediaPump | undefined): void {
  dt.onRtcp.subscribe((pkt) => {
    if (pkt.type !== 206) return;
    const fb = (pkt as { feedback?: { count?: number; mediaSsrc?: number; entries?: Array<{ ssrc: number }> } }).feedback;
    if (fb?.count === 1 && fb.mediaSsrc !== undefined) pump()?.keyFrame(fb.mediaSsrc);
    else if (fb?.count === 4) for (const e of fb.entries ?? []) pump()?.keyFrame(e.ssrc);
  });
}

/** Puts a built RTP packet on a DTLS transport below werift's RTP sender (werift encrypts it). */
function sender(dt: RTCDtlsTransport): (buf: Buffer) => void {
  return (buf) => {
    if (dt.state !== 'connected') return;
    const p = RtpPacket.deSerialize(buf);
    dt.sendRtp(p.payload, p.header).catch(() => undefined);
  };
}
