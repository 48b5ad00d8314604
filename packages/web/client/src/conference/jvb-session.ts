/**
 * The Jingle session with the focus that carries media through the bridge (the "JVB session"), driven as
 * lib-jitsi-meet's `JingleSessionPC` drives it:
 *
 * 1. session-initiate arrives (already acked): the offer becomes a {@link RemoteDescription}; the local tracks go
 *    on the first (sendrecv) audio and video m-lines; the browser answers; the camera m-line is munged to three VP8
 *    simulcast layers; `session-accept` carries the answer (PROTOCOL §4.6). Until the focus answers it, further
 *    changes wait in the queue (§4.6 step 6), and an error or 10 s without answer fails the session.
 * 2. source-add / source-remove from the focus, and participants leaving the room, change the remote description;
 *    each change is a local offer/answer cycle (§4.7).
 * 3. Local source changes (a camera turned on for the first time) are signalled with source-add / source-remove
 *    from the difference of two answers.
 *
 * All modifications run one at a time in {@link #queue}, so SDP cycles never interleave.
 *
 * While a P2P session carries the media ({@link setMediaTransferActive}), every encoding of every sender is inactive:
 * the bridge simply stops receiving from us, nothing is signalled (PROTOCOL §8, LJM `setMediaTransferActive`).
 *
 * References:
 * - /work/shared/PROTOCOL.md §4.1 (addressing, acks), §4.6, §4.7, §4.9 (session-terminate), §7.1 (simulcast)
 * - https://xmpp.org/extensions/xep-0166.html (Jingle), https://www.w3.org/TR/webrtc/ (RTCPeerConnection)
 */
import { type Content, type Jingle, serializeJingle } from '@jitsi-one/focus';
import { type Element, xml } from '@jitsi-one/xmpp';
import { Emitter } from '../events.js';
import type { XmppConnection } from '../xmpp/connection.js';
import {
  type LocalSourceName,
  type MediaKind,
  type RemoteSource,
  RemoteDescription,
  type SimulcastSsrcs,
  addSimulcast,
  answerToContents,
  diffLocalSources,
  remoteSourcesOf,
} from './sdp.js';

/** LJM's timeout for Jingle IQs it sends (Appendix B). */
const JINGLE_IQ_TIMEOUT_MS = 10_000;

/** LJM's VP8 simulcast encodings for a camera: low, standard, high (PROTOCOL §7.1). */
const SIMULCAST_ENCODINGS = [
  { scaleResolutionDownBy: 4, maxBitrate: 200_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export interface JvbSessionOptions {
  connection: XmppConnection;
  /** The focus occupant JID (`room@muc/focus`): the peer of the session. */
  focus: string;
  /** The session-initiate. */
  offer: Jingle;
  /** Our endpoint id (MUC nick): source names are `<id>-a0` and `<id>-v0`. */
  endpointId: string;
  /** Local tracks to send from the start (a missing kind is not sent until {@link JvbSession.setTrack}). */
  tracks: { audio?: MediaStreamTrack | undefined; video?: MediaStreamTrack | undefined };
}

/** A remote source's track became available or went away. */
export interface RemoteTrackEvent {
  source: RemoteSource;
  track: MediaStreamTrack;
}

interface JvbSessionEvents {
  remoteTrack: RemoteTrackEvent;
  remoteTrackRemoved: { source: RemoteSource };
  /** ICE/DTLS state of the peer connection (`connected`, `failed`, …). */
  connectionState: RTCPeerConnectionState;
  /** The session cannot continue (offer unusable, session-accept refused, …). */
  failed: { error: Error };
}

export class JvbSession extends Emitter<JvbSessionEvents> {
  readonly sid: string;
  readonly pc: RTCPeerConnection;
  readonly #conn: XmppConnection;
  readonly #focus: string;
  readonly #endpointId: string;
  readonly #remote: RemoteDescription;
  readonly #offer: Jingle;
  readonly #stream = new MediaStream();
  readonly #tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null } = { audio: null, video: null };
  /** A screen share: its track and the extra video m-line it goes out on as source `<ep>-v1` (§4.7). */
  #desktop: { track: MediaStreamTrack; mid: string } | undefined;
  readonly #desktopStream = new MediaStream();
  /** Whether we send (have SSRCs for) each kind; stays true once a track was attached, even while muted. */
  readonly #sending = { audio: false, video: false };
  #queue: Promise<void> = Promise.resolve();
  #localContents: Content[] = [];
  #simulcast: SimulcastSsrcs | undefined;
  /** False once the browser refused the simulcast SDP (then one layer is sent). */
  #simulcastAllowed = true;
  /** False while media is suspended (P2P active). */
  #mediaActive = true;
  #closed = false;

  constructor(opts: JvbSessionOptions) {
    super();
    this.sid = opts.offer.sid;
    this.#conn = opts.connection;
    this.#focus = opts.focus;
    this.#endpointId = opts.endpointId;
    this.#offer = opts.offer;
    this.#remote = new RemoteDescription(opts.offer);
    this.#tracks.audio = opts.tracks.audio ?? null;
    this.#tracks.video = opts.tracks.video ?? null;
    this.#sending.audio = this.#tracks.audio !== null;
    this.#sending.video = this.#tracks.video !== null;
    // PROTOCOL §4.6 step 2: max-bundle; the bridge has public candidates, so no STUN (TURN-over-TCP would go here).
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: [] });
    this.pc.addEventListener('track', (ev) => {
      const mid = ev.transceiver.mid;
      const source = mid === null ? undefined : this.#remote.sourceOfMid(mid);
      if (source !== undefined) this.emit('remoteTrack', { source, track: ev.track });
    });
    this.pc.addEventListener('connectionstatechange', () => this.emit('connectionState', this.pc.connectionState));
  }

  /** The colibri-ws URL of the bridge channel from the offer (PROTOCOL §4.3.3), if any. */
  get bridgeChannelUrl(): string | undefined {
    for (const c of this.#offer.contents) {
      const url = c.transport?.webSockets[0]?.url;
      if (url !== undefined) return url;
    }
    return undefined;
  }

  /** The remote participant sources currently received. */
  get remoteSources(): RemoteSource[] {
    return this.#remote.sources;
  }

  /** Answers the offer with session-accept (PROTOCOL §4.6). Failures are reported with the `failed` event. */
  accept(): void {
    void this.#enqueue(async () => {
      const contents = await this.#negotiate();
      const accept: Jingle = {
        action: 'session-accept',
        sid: this.sid,
        ...(this.#offer.initiator !== undefined ? { initiator: this.#offer.initiator } : {}),
        responder: this.#conn.jid,
        // LJM lists all three names for JVB sessions, even without a data m-line (§4.6 notes).
        group: { semantics: 'BUNDLE', contents: ['audio', 'video', 'data'] },
        contents,
      };
      await this.#sendJingle(accept);
      this.#localContents = contents;
      await this.#applyEncodings();
    }, true);
  }

  /** A source-add or source-remove from the focus (already acked). */
  onSourceUpdate(j: Jingle): void {
    const sources = remoteSourcesOf(j).filter((s) => s.owner !== this.#endpointId);
    void this.#enqueue(async () => {
      if (j.action === 'source-add') {
        if (this.#remote.add(sources).length > 0) await this.#renegotiate();
      } else {
        const removed = this.#remote.remove(sources);
        if (removed.length > 0) {
          await this.#renegotiate();
          for (const source of removed) this.emit('remoteTrackRemoved', { source });
        }
      }
    });
  }

  /** Drops every source of an endpoint that left the room (LJM does this itself; the focus sends nothing, §3.3.3). */
  removeEndpoint(endpointId: string): void {
    void this.#enqueue(async () => {
      const removed = this.#remote.removeOwner(endpointId);
      if (removed.length === 0) return;
      await this.#renegotiate();
      for (const source of removed) this.emit('remoteTrackRemoved', { source });
    });
  }

  /**
   * Sets (or clears, for a muted camera) the local track of one kind. Replacing a track keeps the SSRCs; the first
   * track of a kind not sent so far adds a source, announced with source-add.
   */
  setTrack(kind: MediaKind, track: MediaStreamTrack | null): Promise<void> {
    return this.#enqueue(async () => {
      this.#tracks[kind] = track;
      if (track !== null && !this.#sending[kind]) {
        this.#sending[kind] = true;
        await this.#renegotiate();
        await this.#applyEncodings();
      } else {
        await this.#transceiver(kind)?.sender.replaceTrack(track);
      }
    });
  }

  /**
   * Starts (a track) or stops (null) sending a screen share as a second video source `<ep>-v1`, videoType desktop,
   * as LJM does: a new m-line is added to the remote description (recvonly on the bridge's side), the browser's
   * answer sends on it, and the difference is signalled with source-add; stopping rejects that m-line and sends
   * source-remove (PROTOCOL §4.7). A changed track on a running share is replaced in place.
   */
  setDesktopTrack(track: MediaStreamTrack | null): Promise<void> {
    return this.#enqueue(async () => {
      const current = this.#desktop;
      if (track !== null && current !== undefined) {
        current.track = track;
        await this.pc.getTransceivers().find((t) => t.mid === current.mid)?.sender.replaceTrack(track);
        return;
      }
      if (track !== null) {
        this.#desktop = { track, mid: this.#remote.addLocalMid('video') };
      } else {
        if (current === undefined) return;
        this.#desktop = undefined;
        this.#remote.removeLocalMid(current.mid);
      }
      await this.#renegotiate();
    });
  }

  /**
   * Suspends (false) or resumes (true) everything we send to the bridge by switching every sender encoding off or
   * on (LJM `TraceablePeerConnection.setMediaTransferActive`); nothing is signalled. Survives renegotiations.
   */
  setMediaTransferActive(active: boolean): Promise<void> {
    this.#mediaActive = active;
    return this.#enqueue(() => this.#applyEncodings());
  }

  /** False while media to the bridge is suspended. */
  get mediaTransferActive(): boolean {
    return this.#mediaActive;
  }

  /** Ends the session locally (after session-terminate from the focus, or when leaving). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pc.close();
    this.removeAllListeners();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `job` after every earlier modification. The returned promise settles with the job (callers may ignore it:
   * failures are also logged here, and a `fatal` one ends the session with `failed`).
   */
  #enqueue(job: () => Promise<void>, fatal = false): Promise<void> {
    const run = this.#queue.then(async () => {
      if (!this.#closed) await job();
    });
    this.#queue = run.catch((err: unknown) => {
      if (this.#closed) return;
      console.error('Jingle session modification failed', err);
      if (fatal) this.emit('failed', { error: err instanceof Error ? err : new Error(String(err)) });
    });
    return run;
  }

  #transceiver(kind: MediaKind): RTCRtpTransceiver | undefined {
    const mid = this.#remote.mainMid(kind);
    return this.pc.getTransceivers().find((t) => t.mid === mid);
  }

  #sourceNames(): Map<string, LocalSourceName> {
    const names = new Map<string, LocalSourceName>();
    const a = this.#remote.mainMid('audio');
    const v = this.#remote.mainMid('video');
    if (a !== undefined) names.set(a, { name: `${this.#endpointId}-a0` });
    if (v !== undefined) names.set(v, { name: `${this.#endpointId}-v0`, videoType: 'camera' });
    if (this.#desktop !== undefined) names.set(this.#desktop.mid, { name: `${this.#endpointId}-v1`, videoType: 'desktop' });
    return names;
  }

  /** One offer/answer cycle with the current remote description; returns the local contents. */
  async #negotiate(): Promise<Content[]> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: this.#remote.toSdp() });
    for (const kind of ['audio', 'video'] as const) {
      const t = this.#transceiver(kind);
      if (t === undefined) continue;
      t.direction = this.#sending[kind] ? 'sendrecv' : 'recvonly';
      if (t.sender.track !== this.#tracks[kind]) await t.sender.replaceTrack(this.#tracks[kind]);
      // The msid's stream id must be a real one: LJM ignores remote streams named `default` or `-`.
      t.sender.setStreams(this.#stream);
    }
    const desktop = this.#desktop;
    const dt = desktop === undefined ? undefined : this.pc.getTransceivers().find((t) => t.mid === desktop.mid);
    if (desktop !== undefined && dt !== undefined) {
      dt.direction = 'sendonly';
      if (dt.sender.track !== desktop.track) await dt.sender.replaceTrack(desktop.track);
      dt.sender.setStreams(this.#desktopStream);
    }
    const answer = await this.pc.createAnswer();
    const plain = answer.sdp ?? '';
    let sdp = plain;
    const videoMid = this.#remote.mainMid('video');
    if (videoMid !== undefined && this.#sending.video && this.#simulcastAllowed) {
      const munged = addSimulcast(plain, videoMid, this.#simulcast);
      sdp = munged.sdp;
      this.#simulcast = munged.simulcast ?? this.#simulcast;
    }
    try {
      await this.pc.setLocalDescription({ type: 'answer', sdp });
    } catch (err) {
      if (sdp === plain) throw err;
      // A browser that refuses SSRC simulcast (anything but Chromium) sends one layer; the bridge copes (§7.3).
      console.warn('SSRC simulcast refused by the browser; sending a single layer', err);
      this.#simulcastAllowed = false;
      this.#simulcast = undefined;
      sdp = plain;
      await this.pc.setLocalDescription({ type: 'answer', sdp });
    }
    return answerToContents(this.pc.localDescription?.sdp ?? sdp, this.#sourceNames());
  }

  /** A local re-negotiation; local source changes are signalled to the focus (§4.7, client → focus). */
  async #renegotiate(): Promise<void> {
    const contents = await this.#negotiate();
    if (!this.#mediaActive) await this.#applyEncodings();
    const diff = diffLocalSources(this.#localContents, contents);
    this.#localContents = contents;
    if (diff.removed.length > 0) await this.#sendJingle({ action: 'source-remove', sid: this.sid, contents: diff.removed });
    if (diff.added.length > 0) await this.#sendJingle({ action: 'source-add', sid: this.sid, contents: diff.added });
  }

  /**
   * Per-layer resolution and bitrate of the camera's simulcast encodings (LJM `TPCUtils`), and every encoding of
   * both senders on or off as {@link setMediaTransferActive} wants.
   */
  async #applyEncodings(): Promise<void> {
    const desktop = this.#desktop;
    const senders: Array<[MediaKind | 'desktop', RTCRtpSender | undefined]> = [
      ['audio', this.#transceiver('audio')?.sender],
      ['video', this.#transceiver('video')?.sender],
      ['desktop', desktop === undefined ? undefined : this.pc.getTransceivers().find((t) => t.mid === desktop.mid)?.sender],
    ];
    for (const [kind, sender] of senders) {
      if (sender === undefined) continue;
      const params = sender.getParameters();
      if (params.encodings.length === 0) continue;
      let changed = false;
      params.encodings.forEach((e, i) => {
        const layer = kind === 'video' && params.encodings.length === SIMULCAST_ENCODINGS.length ? SIMULCAST_ENCODINGS[i] : undefined;
        if (layer !== undefined && (e.scaleResolutionDownBy !== layer.scaleResolutionDownBy || e.maxBitrate !== layer.maxBitrate)) {
          Object.assign(e, layer);
          changed = true;
        }
        if (e.active !== this.#mediaActive) {
          e.active = this.#mediaActive;
          changed = true;
        }
      });
      if (changed) await sender.setParameters(params);
    }
  }

  async #sendJingle(j: Jingle): Promise<Element> {
    const iq = xml('iq', { type: 'set', to: this.#focus }, serializeJingle(j));
    return this.#conn.iq(iq, JINGLE_IQ_TIMEOUT_MS);
  }
}
