/**
 * The direct (P2P) Jingle session between the two participants of a two-person meeting, speaking what
 * lib-jitsi-meet's `JingleSessionPC` speaks with `isP2P` (PROTOCOL §8), so either peer may be our client or LJM:
 *
 * - the **initiator** (the smaller endpoint id, chosen by {@link P2P}) adds an audio and a video transceiver,
 *   creates an offer and sends `session-initiate` to the peer's occupant JID (`room@muc/nick`, routed by the MUC;
 *   the focus is not involved): contents named by mid, `creator="initiator"`, sources with name/videoType/msid,
 *   the BUNDLE group, the transport with the candidates gathered so far (p2p-sdp.ts);
 * - the **responder** applies the offer, puts its tracks on the first audio and video m-lines, answers and sends
 *   `session-accept` (`creator="responder"`);
 * - both trickle their candidates in `transport-info`, batched over 150 ms (LJM `ICE_CAND_GATHERING_TIMEOUT`), each
 *   content with the transport's ufrag/pwd and fingerprint;
 * - receiver constraints go to the peer as `content-modify` with `senders` and `<source-frame-height>` per source,
 *   and the peer's constraints scale our camera down (LJM `modifyContents`);
 * - the peer's `source-add` / `source-remove` change the remote description, and LJM's P2P renegotiation is done
 *   the same way: the remote description is applied as an offer and answered, whoever initiated. Our own sources
 *   never change during a session: both transceivers send from the start, a muted camera is a null track on the
 *   same SSRCs (so we never need to send source-add on P2P; LJM ends P2P when SSRCs change);
 * - `session-terminate` ends it (reasons chosen by {@link P2P}).
 *
 * Every SDP change runs in one queue, as in the JVB session. `established` fires when ICE and DTLS first connect
 * (LJM switches on ICE connected; the first media needs DTLS anyway), `failed` when ICE fails.
 *
 * References:
 * - /work/shared/PROTOCOL.md §8; LJM `modules/xmpp/JingleSessionPC.ts` (`invite`, `acceptOffer`, `setAnswer`,
 *   `_sendIceCandidates`, `_sendContentModify`, `modifyContents`, `_renegotiate`), `strophe.jingle.js`
 * - https://xmpp.org/extensions/xep-0166.html (sessions), xep-0176 §3 (trickle via transport-info)
 * - https://www.w3.org/TR/webrtc/ (RTCPeerConnection, RTCRtpTransceiver, RTCRtpSender.setParameters)
 */
import { type Content, type Jingle, type ReasonCondition, serializeJingle } from '@jitsi-one/focus';
import { type Element, xml } from '@jitsi-one/xmpp';
import { Emitter } from '../events.js';
import type { XmppConnection } from '../xmpp/connection.js';
import {
  P2pRemoteDescription,
  candidateAttribute,
  candidateFromLine,
  diffP2pSources,
  localP2pContents,
} from './p2p-sdp.js';
import type { RemoteTrackEvent } from './jvb-session.js';
import type { LocalSourceName, MediaKind, RemoteSource } from './sdp.js';

/** LJM's timeout for Jingle IQs it sends (Appendix B). */
const JINGLE_IQ_TIMEOUT_MS = 10_000;
/** LJM batches trickled candidates over this long (`ICE_CAND_GATHERING_TIMEOUT`). */
const CANDIDATE_BATCH_MS = 150;
/** Receiver constraints are sent at most this often (the grid re-measures on every resize). */
const CONSTRAINTS_INTERVAL_MS = 1000;
const NS_JITMEET_VIDEO = 'http://jitsi.org/jitmeet/video';

export interface P2PSessionOptions {
  connection: XmppConnection;
  sid: string;
  initiator: boolean;
  /** Our occupant JID (`room@muc/nick`): `initiator`/`responder` attributes. */
  localJid: string;
  /** The peer's occupant JID: where every IQ goes. */
  peerJid: string;
  /** Our endpoint id: source names `<id>-a0`, `<id>-v0`. */
  endpointId: string;
  /** The peer's endpoint id: owner of every remote source. */
  peerId: string;
  /** STUN/TURN servers (`config.p2p.stunServers`). */
  iceServers: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  tracks: { audio?: MediaStreamTrack | null | undefined; video?: MediaStreamTrack | null | undefined };
}

interface P2PSessionEvents {
  remoteTrack: RemoteTrackEvent;
  remoteTrackRemoved: { source: RemoteSource };
  /** ICE and DTLS connected for the first time. */
  established: undefined;
  /** ICE failed (LJM ends the session with `connectivity-error` "ICE FAILED"). */
  failed: { error: Error };
  connectionState: RTCPeerConnectionState;
}

export class P2PSession extends Emitter<P2PSessionEvents> {
  readonly sid: string;
  readonly initiator: boolean;
  readonly peerJid: string;
  readonly peerId: string;
  readonly pc: RTCPeerConnection;
  readonly #conn: XmppConnection;
  readonly #localJid: string;
  readonly #endpointId: string;
  readonly #stream = new MediaStream();
  readonly #tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null };
  /** Our screen share: its track (null once stopped) and the m-line it goes out on (`<ep>-v1`, desktop). */
  #desktop: { track: MediaStreamTrack | null; mid: string } | undefined;
  readonly #desktopStream = new MediaStream();
  #remote: P2pRemoteDescription | undefined;
  #localContents: Content[] = [];
  #queue: Promise<void> = Promise.resolve();
  /** Remote candidates that arrived before the remote description. */
  #pendingRemoteCandidates: RTCIceCandidateInit[] = [];
  /** Local candidates not sent yet, and whether session-initiate/-accept went out (they may follow it). */
  #localCandidates: RTCIceCandidate[] = [];
  #candidateTimer: number | undefined;
  #signalled = false;
  /** The session-accept was sent and acknowledged, or received and applied (LJM: state ACTIVE). */
  #active = false;
  #established = false;
  #closed = false;
  /** Sources shown, by mid. */
  readonly #emitted = new Map<string, RemoteSource>();
  /** What we ask of the peer (source name → max height), and what was last sent. */
  #constraints: Record<string, number> = {};
  #sentConstraints = '';
  #constraintsTimer: number | undefined;
  #lastConstraintsAt = 0;
  /** A screen share started before the session was established (sent once it is). */
  #pendingDesktop: MediaStreamTrack | null = null;
  /** What the peer asks of our camera: max height (undefined: no limit), and whether it wants video at all. */
  #peerMaxHeight: number | undefined;
  #peerWantsVideo = true;

  constructor(opts: P2PSessionOptions) {
    super();
    this.sid = opts.sid;
    this.initiator = opts.initiator;
    this.peerJid = opts.peerJid;
    this.peerId = opts.peerId;
    this.#conn = opts.connection;
    this.#localJid = opts.localJid;
    this.#endpointId = opts.endpointId;
    this.#tracks = { audio: opts.tracks.audio ?? null, video: opts.tracks.video ?? null };
    this.pc = new RTCPeerConnection({
      iceServers: opts.iceServers,
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      ...(opts.iceTransportPolicy !== undefined ? { iceTransportPolicy: opts.iceTransportPolicy } : {}),
    });
    this.pc.addEventListener('icecandidate', (ev) => this.#onLocalCandidate(ev.candidate));
    this.pc.addEventListener('connectionstatechange', () => {
      const state = this.pc.connectionState;
      this.emit('connectionState', state);
      if (state === 'connected' && !this.#established) {
        this.#established = true;
        this.emit('established', undefined);
      }
    });
    this.pc.addEventListener('iceconnectionstatechange', () => {
      if (this.pc.iceConnectionState === 'failed') this.emit('failed', { error: new Error('ICE failed') });
    });
    this.pc.addEventListener('track', () => this.#syncRemoteTracks());
  }

  /** True once ICE and DTLS connected. */
  get established(): boolean {
    return this.#established;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The peer's sources currently received. */
  get remoteSources(): RemoteSource[] {
    return [...this.#emitted.values()];
  }

  /** Initiator: offers the session (LJM `invite`). Failures are reported with `failed`. */
  invite(): void {
    void this.#enqueue(async () => {
      for (const kind of ['audio', 'video'] as const) {
        this.pc.addTransceiver(this.#tracks[kind] ?? kind, { direction: 'sendrecv', streams: [this.#stream] });
      }
      await this.pc.setLocalDescription(await this.pc.createOffer());
      const { contents, group } = localP2pContents(this.#localSdp(), 'initiator', this.#sourceNames());
      this.#localContents = contents;
      const initiate: Jingle = { action: 'session-initiate', sid: this.sid, initiator: this.#localJid, contents, ...(group ? { group } : {}) };
      // Not awaited, as LJM: the answer is the session-accept, not the IQ result.
      this.#sendJingle(initiate).catch((err: unknown) => console.warn('P2P session-initiate not acknowledged', err));
      this.#signalled = true;
      this.#flushCandidates();
    }, true);
  }

  /** Responder: answers the peer's session-initiate (already acked) with session-accept (LJM `acceptOffer`). */
  accept(offer: Jingle): void {
    void this.#enqueue(async () => {
      this.#remote = new P2pRemoteDescription(offer.contents, offer.group, this.peerId);
      await this.pc.setRemoteDescription({ type: 'offer', sdp: this.#remote.toSdp() });
      await this.#attachLocalTracks();
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      await this.#applyRemoteCandidates();
      const { contents, group } = localP2pContents(this.#localSdp(), 'responder', this.#sourceNames());
      this.#localContents = contents;
      const accept: Jingle = {
        action: 'session-accept',
        sid: this.sid,
        initiator: this.peerJid,
        responder: this.#localJid,
        contents,
        ...(group ? { group } : {}),
      };
      const sent = this.#sendJingle(accept);
      this.#signalled = true;
      this.#flushCandidates();
      this.#syncRemoteTracks();
      await sent;
      this.#active = true;
      if (Object.keys(this.#constraints).length > 0) this.#sendContentModify();
      this.#afterEstablished();
    }, true);
  }

  /** A Jingle IQ from the peer for this session (already acked). */
  onJingle(j: Jingle, iq: Element): void {
    switch (j.action) {
      case 'session-accept':
        void this.#enqueue(async () => {
          if (!this.initiator || this.#remote !== undefined) return;
          this.#remote = new P2pRemoteDescription(j.contents, j.group, this.peerId);
          await this.pc.setRemoteDescription({ type: 'answer', sdp: this.#remote.toSdp() });
          await this.#applyRemoteCandidates();
          this.#syncRemoteTracks();
          this.#active = true;
          // LJM's initiator always tells the peer its video senders and constraints after the answer.
          this.#sendContentModify();
          this.#afterEstablished();
        }, true);
        break;
      case 'transport-info':
        this.#onRemoteCandidates(j);
        break;
      case 'content-modify':
        this.#onContentModify(iq);
        break;
      case 'source-add':
      case 'source-remove': {
        const add = j.action === 'source-add';
        void this.#enqueue(async () => {
          const remote = this.#remote;
          if (remote === undefined) return;
          // LJM `getDesiredMediaDirection`: the m-line sends both ways when we send that media.
          const weSend = (m: MediaKind): boolean => this.#transceiverOf(m) !== undefined;
          const before = remote.toSdp();
          if (add) remote.addSources(j.contents, weSend);
          else remote.removeSources(j.contents, weSend);
          if (remote.toSdp() !== before) await this.#renegotiate();
        });
        break;
      }
      default:
        break;
    }
  }

  /** Sets (or clears, for a muted camera) what we send of one kind; same SSRCs, no signalling. */
  setTrack(kind: MediaKind, track: MediaStreamTrack | null): Promise<void> {
    this.#tracks[kind] = track;
    return this.#enqueue(async () => {
      const t = this.#transceiverOf(kind);
      if (t === undefined) return;
      await t.sender.replaceTrack(track);
      if (kind === 'video') await this.#applyVideoConstraints();
    });
  }

  /**
   * Starts (a track) or stops (null) sending a screen share as a second video source `<ep>-v1` (videoType
   * desktop), as LJM's P2P `addTracks` does: an m-line is appended to the remote description (recvonly on the peer's
   * side), the answer sends on it, and the new SSRCs go to the peer in source-add; stopping sends source-remove and
   * keeps the m-line for the next share. Waits until the session is established.
   */
  setDesktopTrack(track: MediaStreamTrack | null): Promise<void> {
    return this.#enqueue(async () => {
      const remote = this.#remote;
      if (remote === undefined || !this.#active) {
        this.#pendingDesktop = track;
        return;
      }
      const current = this.#desktop;
      if (track !== null && current?.track != null) {
        current.track = track;
        await this.#desktopTransceiver()?.sender.replaceTrack(track);
        return;
      }
      if (track === null && (current === undefined || current.track === null)) return;
      if (current === undefined) this.#desktop = { track, mid: remote.addLocalMline('video') };
      else current.track = track;
      await this.#renegotiate();
    });
  }

  /** The heights we want the peer's video sources at (by source name); sent as content-modify when changed. */
  setReceiverConstraints(heights: Record<string, number>): void {
    this.#constraints = { ...heights };
    if (!this.#active) return;
    const wait = this.#lastConstraintsAt + CONSTRAINTS_INTERVAL_MS - Date.now();
    if (wait <= 0) this.#sendContentModify();
    else if (this.#constraintsTimer === undefined) {
      this.#constraintsTimer = window.setTimeout(() => {
        this.#constraintsTimer = undefined;
        this.#sendContentModify();
      }, wait);
    }
  }

  /**
   * Ends the session: sends session-terminate with `reason` when `send` (LJM skips it when the peer already left or
   * ended it), then closes the connection.
   */
  terminate(reason: { condition: ReasonCondition; text?: string }, send: boolean): void {
    if (this.#closed) return;
    if (send) {
      const j: Jingle = { action: 'session-terminate', sid: this.sid, initiator: this.initiator ? this.#localJid : this.peerJid, contents: [], reason };
      // Both ends may terminate at once (a third joined): the peer then answers item-not-found, which is expected.
      this.#sendJingle(j).catch(() => undefined);
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    window.clearTimeout(this.#candidateTimer);
    window.clearTimeout(this.#constraintsTimer);
    this.pc.close();
    this.removeAllListeners();
  }

  // ----------------------------------------------------------------------------------------------- internals

  #enqueue(job: () => Promise<void>, fatal = false): Promise<void> {
    const run = this.#queue.then(async () => {
      if (!this.#closed) await job();
    });
    this.#queue = run.catch((err: unknown) => {
      if (this.#closed) return;
      console.error('P2P session modification failed', err);
      if (fatal) this.emit('failed', { error: err instanceof Error ? err : new Error(String(err)) });
    });
    return run;
  }

  #localSdp(): string {
    return this.pc.localDescription?.sdp ?? '';
  }

  /** Our transceiver of a kind: the first one (by mid) that sends it. */
  #transceiverOf(kind: MediaKind): RTCRtpTransceiver | undefined {
    return this.pc
      .getTransceivers()
      .filter((t) => t.mid !== null && t.mid !== this.#desktop?.mid && t.receiver.track.kind === kind && t.direction !== 'stopped')
      .sort((a, b) => Number(a.mid) - Number(b.mid))
      .find((t) => t.direction === 'sendrecv' || t.direction === 'sendonly');
  }

  #sourceNames(): Map<string, LocalSourceName> {
    const names = new Map<string, LocalSourceName>();
    const a = this.#transceiverOf('audio')?.mid;
    const v = this.#transceiverOf('video')?.mid;
    if (a != null) names.set(a, { name: `${this.#endpointId}-a0` });
    if (v != null) names.set(v, { name: `${this.#endpointId}-v0`, videoType: 'camera' });
    // A stopped share keeps its (inactive) m-line, and Chrome keeps listing its SSRCs: leaving it out of the names
    // is what makes it a source-remove.
    if (this.#desktop?.track != null) names.set(this.#desktop.mid, { name: `${this.#endpointId}-v1`, videoType: 'desktop' });
    return names;
  }

  #desktopTransceiver(): RTCRtpTransceiver | undefined {
    const mid = this.#desktop?.mid;
    return mid === undefined ? undefined : this.pc.getTransceivers().find((t) => t.mid === mid);
  }

  /** After the first offer/answer: a screen share that was already running goes out now (LJM does the same). */
  #afterEstablished(): void {
    const pending = this.#pendingDesktop;
    this.#pendingDesktop = null;
    if (pending !== null && pending.readyState === 'live') void this.setDesktopTrack(pending).catch(() => undefined);
  }

  /** Responder: our tracks go on the first audio and video m-line of the offer, sending both ways. */
  async #attachLocalTracks(): Promise<void> {
    for (const kind of ['audio', 'video'] as const) {
      const t = this.pc
        .getTransceivers()
        .filter((x) => x.mid !== null && x.receiver.track.kind === kind)
        .sort((a, b) => Number(a.mid) - Number(b.mid))[0];
      if (t === undefined) continue;
      t.direction = 'sendrecv';
      await t.sender.replaceTrack(this.#tracks[kind]);
      t.sender.setStreams(this.#stream);
    }
  }

  /** LJM's P2P renegotiation: the remote description as an offer, our answer, our source changes signalled. */
  async #renegotiate(): Promise<void> {
    const remote = this.#remote;
    if (remote === undefined) return;
    await this.pc.setRemoteDescription({ type: 'offer', sdp: remote.toSdp() });
    const desktop = this.#desktop;
    const dt = this.#desktopTransceiver();
    if (desktop !== undefined && dt !== undefined) {
      dt.direction = desktop.track !== null ? 'sendonly' : 'inactive';
      if (dt.sender.track !== desktop.track) await dt.sender.replaceTrack(desktop.track);
      dt.sender.setStreams(this.#desktopStream);
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.#syncRemoteTracks();
    const { contents } = localP2pContents(this.#localSdp(), this.initiator ? 'initiator' : 'responder', this.#sourceNames());
    const diff = diffP2pSources(this.#localContents, contents);
    this.#localContents = contents;
    if (diff.removed.length > 0) await this.#sendJingle({ action: 'source-remove', sid: this.sid, initiator: this.#initiatorJid(), contents: diff.removed });
    if (diff.added.length > 0) await this.#sendJingle({ action: 'source-add', sid: this.sid, initiator: this.#initiatorJid(), contents: diff.added });
  }

  #initiatorJid(): string {
    return this.initiator ? this.#localJid : this.peerJid;
  }

  /** Emits the peer's tracks that appeared and the ones that went away since the last call. */
  #syncRemoteTracks(): void {
    const remote = this.#remote;
    if (remote === undefined || this.#closed) return;
    const seen = new Set<string>();
    for (const t of this.pc.getTransceivers()) {
      const mid = t.mid;
      if (mid === null || t.direction === 'stopped') continue;
      const source = remote.sourceOfMid(mid);
      if (source === undefined) continue;
      seen.add(mid);
      const before = this.#emitted.get(mid);
      if (before !== undefined && before.name === source.name && before.ssrcs[0] === source.ssrcs[0]) continue;
      if (before !== undefined) this.emit('remoteTrackRemoved', { source: before });
      this.#emitted.set(mid, source);
      this.emit('remoteTrack', { source, track: t.receiver.track });
    }
    for (const [mid, source] of this.#emitted) {
      if (seen.has(mid)) continue;
      this.#emitted.delete(mid);
      this.emit('remoteTrackRemoved', { source });
    }
  }

  // ------------------------------------------------------------------------------------------- candidates

  #onLocalCandidate(c: RTCIceCandidate | null): void {
    if (c === null || c.candidate === '' || this.#closed) return; // end of gathering: LJM sends nothing
    this.#localCandidates.push(c);
    if (this.#candidateTimer === undefined) {
      this.#candidateTimer = window.setTimeout(() => {
        this.#candidateTimer = undefined;
        this.#flushCandidates();
      }, CANDIDATE_BATCH_MS);
    }
  }

  /** Sends the batched local candidates in one transport-info (LJM `_sendIceCandidates`), once signalled. */
  #flushCandidates(): void {
    if (!this.#signalled || this.#candidateTimer !== undefined || this.#localCandidates.length === 0 || this.#closed) return;
    const batch = this.#localCandidates.splice(0);
    const local = this.#localContents;
    const byMid = new Map<string, RTCIceCandidate[]>();
    for (const c of batch) {
      const mid = c.sdpMid ?? local[c.sdpMLineIndex ?? 0]?.name ?? '0';
      byMid.set(mid, [...(byMid.get(mid) ?? []), c]);
    }
    const contents: Content[] = [];
    for (const [mid, cands] of byMid) {
      const t = local.find((x) => x.name === mid)?.transport ?? local[0]?.transport;
      const candidates = cands.map((c) => candidateFromLine(c.candidate)).filter((c) => c !== undefined);
      if (candidates.length === 0) continue;
      const fp = t?.fingerprints[0];
      contents.push({
        name: mid,
        creator: this.initiator ? 'initiator' : 'responder',
        transport: {
          ...(t?.ufrag !== undefined ? { ufrag: t.ufrag } : {}),
          ...(t?.pwd !== undefined ? { pwd: t.pwd } : {}),
          // LJM: the fingerprint with required="true" and no setup.
          fingerprints: fp === undefined ? [] : [{ hash: fp.hash, value: fp.value, required: true }],
          candidates,
          rtcpMux: false,
          webSockets: [],
        },
      });
    }
    if (contents.length === 0) return;
    this.#sendJingle({ action: 'transport-info', sid: this.sid, initiator: this.#initiatorJid(), contents }).catch(() => undefined);
  }

  #onRemoteCandidates(j: Jingle): void {
    const inits: RTCIceCandidateInit[] = [];
    for (const c of j.contents) {
      for (const cand of c.transport?.candidates ?? []) {
        // LJM adds every candidate to the first m-line (everything is bundled).
        inits.push({ candidate: candidateAttribute(cand), sdpMLineIndex: 0 });
      }
    }
    if (inits.length === 0) return;
    void this.#enqueue(async () => {
      this.#pendingRemoteCandidates.push(...inits);
      if (this.pc.remoteDescription !== null) await this.#applyRemoteCandidates();
    });
  }

  async #applyRemoteCandidates(): Promise<void> {
    for (const c of this.#pendingRemoteCandidates.splice(0)) {
      try {
        await this.pc.addIceCandidate(c);
      } catch (err) {
        console.warn('P2P: remote candidate refused', c.candidate, err);
      }
    }
  }

  // -------------------------------------------------------------------------------------- content-modify

  /** LJM `_sendContentModify`: our video `senders` and the max height we want of each of the peer's sources. */
  #sendContentModify(): void {
    if (this.#closed) return;
    const heights = Object.entries(this.#constraints).filter(([name]) => name.startsWith(`${this.peerId}-`));
    const key = JSON.stringify(heights);
    if (key === this.#sentConstraints) return;
    this.#sentConstraints = key;
    this.#lastConstraintsAt = Date.now();
    const jingle = xml(
      'jingle',
      { xmlns: 'urn:xmpp:jingle:1', action: 'content-modify', initiator: this.#initiatorJid(), sid: this.sid },
      xml(
        'content',
        { name: 'video', senders: 'both' },
        ...heights.map(([sourceName, maxHeight]) => xml('source-frame-height', { xmlns: NS_JITMEET_VIDEO, maxHeight, sourceName })),
      ),
    );
    this.#conn.iq(xml('iq', { type: 'set', to: this.peerJid }, jingle), JINGLE_IQ_TIMEOUT_MS).catch(() => undefined);
  }

  /** The peer's content-modify (LJM `modifyContents`): whether it wants our video, and at what height. */
  #onContentModify(iq: Element): void {
    const content = iq.getChild('jingle')?.getChildren('content').find((c) => c.attrs.name === 'video');
    if (content === undefined) return;
    const senders = content.attrs.senders as string | undefined;
    this.#peerWantsVideo = senders === undefined || senders === 'both' || senders === (this.initiator ? 'initiator' : 'responder');
    const ours = content
      .getChildren('source-frame-height', NS_JITMEET_VIDEO)
      .find((e) => e.attrs.sourceName === `${this.#endpointId}-v0`);
    const h = Number(ours?.attrs.maxHeight);
    this.#peerMaxHeight = ours !== undefined && Number.isFinite(h) && h >= 0 ? h : undefined;
    void this.#enqueue(() => this.#applyVideoConstraints());
  }

  /** Scales the camera to the height the peer asked for (0 or video not wanted: stop sending it). */
  async #applyVideoConstraints(): Promise<void> {
    const sender = this.#transceiverOf('video')?.sender;
    if (sender === undefined) return;
    const params = sender.getParameters();
    const encoding = params.encodings[0];
    if (encoding === undefined) return;
    const max = this.#peerMaxHeight;
    const height = sender.track?.getSettings().height ?? 0;
    const active = this.#peerWantsVideo && max !== 0;
    const scale = max !== undefined && max > 0 && height > max ? height / max : 1;
    if (encoding.active === active && (encoding.scaleResolutionDownBy ?? 1) === scale) return;
    encoding.active = active;
    encoding.scaleResolutionDownBy = scale;
    await sender.setParameters(params);
  }

  async #sendJingle(j: Jingle): Promise<Element> {
    return this.#conn.iq(xml('iq', { type: 'set', to: this.peerJid }, serializeJingle(j)), JINGLE_IQ_TIMEOUT_MS);
  }
}
