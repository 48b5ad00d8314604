/**
 * One meeting, joined as lib-jitsi-meet joins it (PROTOCOL Appendix A, steps 1–3 and 5):
 *
 * 1. XMPP over WebSocket, anonymous login ({@link XmppConnection});
 * 2. the conference IQ to `focus.<domain>` until it answers `ready="true"` (§3.1), which names the focus's JID;
 * 3. the MUC join presence with LJM's payload, done when our own presence (status 110) comes back (§3.3.1);
 * 4. answering the focus: disco#info with our features (§3.4.2), Jingle from `room/focus` — session-initiate starts a
 *    {@link JvbSession} and the bridge channel, source-add/-remove update it, session-terminate ends it (§4);
 * 5. occupants' presences keep the participant list, names and mute state; a leaver's sources are dropped (§3.3.3).
 *
 * The UI only sees this class: participants, their tracks, and methods to mute, set receiver constraints and leave.
 *
 * TODO(#6): chat (groupchat messages), moderation (mute/kick/grant IQs), raise hand (presence property), P2P for two,
 * reconnect after a dropped connection.
 *
 * References: /work/shared/PROTOCOL.md §3 (conference IQ, MUC, presence), §4 (Jingle), §6 (bridge channel)
 */
import { type Jingle, JingleParseError, NS_JINGLE, parseJingle, serializeJingle } from '@jitsi-one/focus';
import { type Element, NS_DISCO_INFO, xml } from '@jitsi-one/xmpp';
import { Emitter } from '../events.js';
import { XmppConnection } from '../xmpp/connection.js';
import { BridgeChannel, type BridgeMessage } from './bridge-channel.js';
import { JvbSession } from './jvb-session.js';
import type { LocalMedia } from './local-media.js';
import {
  CLIENT_FEATURES,
  type LocalPresence,
  type OccupantPresence,
  buildPresence,
  capsString,
  isSourceOff,
  parseOccupantPresence,
} from './presence.js';
import type { MediaKind, RemoteSource } from './sdp.js';

const NS_FOCUS = 'http://jitsi.org/protocol/focus';
const NS_MUTE_AUDIO = 'http://jitsi.org/jitmeet/audio';
const NS_MUTE_VIDEO = 'http://jitsi.org/jitmeet/video';
/** The focus's nick in every room (PROTOCOL §1.1). */
const FOCUS_NICK = 'focus';
/** How long to wait for the MUC join and for our own unavailable presence on leave (LJM: 5 s). */
const JOIN_TIMEOUT_MS = 15_000;
const LEAVE_TIMEOUT_MS = 5_000;

export interface ConferenceOptions {
  /** XMPP WebSocket URL. */
  websocketUrl: string;
  hosts: { domain: string; muc: string; focus?: string };
  /** Room name (already normalised: lower case, legal). */
  room: string;
  displayName: string;
  /** Stable random id of this browser (`machine-uid`). */
  machineUid: string;
  media: LocalMedia;
}

/** A remote participant as the UI shows it. */
export interface Participant {
  /** Endpoint id (MUC nick). */
  id: string;
  displayName: string;
  audioMuted: boolean;
  videoMuted: boolean;
  role: string | undefined;
  tracks: { audio?: MediaStreamTrack; video?: MediaStreamTrack };
}

interface ConferenceEvents {
  participantJoined: Participant;
  participantUpdated: Participant;
  participantLeft: { id: string };
  /** A participant's audio or video track arrived or went away (see `participant.tracks`). */
  tracksChanged: Participant;
  /** State of the media connection to the bridge. */
  mediaState: RTCPeerConnectionState | 'none';
  bridgeMessage: BridgeMessage;
  /** The conference is over for us: connection lost, removed from the room. */
  ended: { reason: string };
}

/** Per-source receive statistics for tests and the (future) connection indicator. */
export interface InboundStats {
  participantId: string;
  sourceName: string;
  kind: MediaKind;
  bytesReceived: number;
  packetsReceived: number;
  framesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
}

/** Send statistics of one simulcast encoding. */
export interface OutboundVideoStats {
  ssrc: number;
  framesEncoded: number;
  frameHeight: number;
  bytesSent: number;
}

export class Conference extends Emitter<ConferenceEvents> {
  readonly roomJid: string;
  readonly endpointId: string;
  readonly #conn: XmppConnection;
  readonly #media: LocalMedia;
  readonly #occupantJid: string;
  readonly #participants = new Map<string, Participant>();
  /** Remote tracks by track id (a track may arrive before its owner's presence). */
  readonly #remoteTracks = new Map<string, { source: RemoteSource; track: MediaStreamTrack }>();
  readonly #statsId = `${Math.random().toString(36).slice(2, 8)}`;
  #displayName: string;
  #capsVer: string | undefined;
  #focusJid = '';
  #session: JvbSession | undefined;
  #channel: BridgeChannel | undefined;
  #constraints: Record<string, number> = {};
  #role: string | undefined;
  #joined = false;
  #left = false;
  #joinWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #leaveWaiter: (() => void) | undefined;

  private constructor(conn: XmppConnection, opts: ConferenceOptions) {
    super();
    this.#conn = conn;
    this.#media = opts.media;
    this.#displayName = opts.displayName;
    this.roomJid = `${opts.room}@${opts.hosts.muc.toLowerCase()}`;
    this.endpointId = endpointIdOf(conn.jid);
    this.#occupantJid = `${this.roomJid}/${this.endpointId}`;
    conn.addHandler((s) => this.#onStanza(s));
    conn.on('closed', ({ error }) => {
      if (!this.#left) this.#end(error !== undefined ? 'The connection to the server was lost.' : 'Disconnected.');
    });
  }

  /** Connects, asks the focus for the room, and joins it. */
  static async join(opts: ConferenceOptions): Promise<Conference> {
    const query = `?room=${encodeURIComponent(opts.room)}`;
    const conn = await XmppConnection.connect({ url: `${opts.websocketUrl}${query}`, domain: opts.hosts.domain });
    const conference = new Conference(conn, opts);
    try {
      conference.#capsVer = await sha1Base64(capsString());
      await conference.#requestConference(opts);
      await conference.#joinRoom();
      return conference;
    } catch (err) {
      conference.#left = true;
      conn.close();
      throw err;
    }
  }

  get participants(): ReadonlyMap<string, Participant> {
    return this.#participants;
  }

  /** Our MUC role (`moderator` / `participant`). */
  get role(): string | undefined {
    return this.#role;
  }

  get mediaState(): RTCPeerConnectionState | 'none' {
    return this.#session?.pc.connectionState ?? 'none';
  }

  /** Mutes or unmutes the microphone and tells everyone (SourceInfo). */
  setAudioMuted(muted: boolean): void {
    this.#media.setAudioMuted(muted);
    this.#sendPresence();
  }

  /** Stops or restarts the camera, updates what the session sends, and tells everyone. */
  async setVideoMuted(muted: boolean): Promise<void> {
    if (muted) {
      // Announce first so others show the camera as off before the last frame freezes.
      await this.#media.setVideoMuted(true);
      this.#sendPresence();
      await this.#session?.setTrack('video', null);
      return;
    }
    const track = await this.#media.setVideoMuted(false);
    await this.#session?.setTrack('video', track);
    this.#sendPresence();
  }

  /** Sets the display name and tells everyone. */
  setDisplayName(name: string): void {
    this.#displayName = name;
    this.#sendPresence();
  }

  /**
   * The height each remote video source should be received at (by source name); sources not listed get 180 px.
   * Sent to the bridge as ReceiverVideoConstraints (§6.2).
   */
  setReceiverConstraints(heights: Record<string, number>): void {
    this.#constraints = heights;
    this.#sendConstraints();
  }

  /** The source name of a remote participant's video (`<id>-v0`). */
  static videoSourceName(participantId: string): string {
    return `${participantId}-v0`;
  }

  /** Receive statistics per remote source (from the bridge session's getStats). */
  async inboundStats(): Promise<InboundStats[]> {
    const pc = this.#session?.pc;
    if (pc === undefined) return [];
    const report = await pc.getStats();
    const out: InboundStats[] = [];
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp') return;
      const source = this.#remoteTracks.get(String(s.trackIdentifier ?? ''))?.source;
      if (source === undefined) return;
      const entry: InboundStats = {
        participantId: source.owner,
        sourceName: source.name,
        kind: source.media,
        bytesReceived: Number(s.bytesReceived ?? 0),
        packetsReceived: Number(s.packetsReceived ?? 0),
      };
      if (typeof s.framesDecoded === 'number') entry.framesDecoded = s.framesDecoded;
      if (typeof s.frameWidth === 'number') entry.frameWidth = s.frameWidth;
      if (typeof s.frameHeight === 'number') entry.frameHeight = s.frameHeight;
      out.push(entry);
    });
    return out;
  }

  /** Send statistics of the camera's simulcast encodings (one entry per SSRC Chrome sends). */
  async outboundVideoStats(): Promise<OutboundVideoStats[]> {
    const pc = this.#session?.pc;
    if (pc === undefined) return [];
    const out: OutboundVideoStats[] = [];
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type !== 'outbound-rtp' || s.kind !== 'video') return;
      out.push({
        ssrc: Number(s.ssrc),
        framesEncoded: Number(s.framesEncoded ?? 0),
        frameHeight: Number(s.frameHeight ?? 0),
        bytesSent: Number(s.bytesSent ?? 0),
      });
    });
    return out.sort((a, b) => a.frameHeight - b.frameHeight);
  }

  /** Leaves the room (unavailable presence, §3.3.3) and closes everything. Idempotent. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.#closeSession();
    if (this.#conn.connected) {
      const gone = new Promise<void>((resolve) => {
        this.#leaveWaiter = resolve;
        window.setTimeout(resolve, LEAVE_TIMEOUT_MS);
      });
      this.#conn.send(xml('presence', { to: this.#occupantJid, type: 'unavailable' }));
      await gone;
    }
    this.#conn.close();
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------------------------------------- join

  async #requestConference(opts: ConferenceOptions): Promise<void> {
    const focus = opts.hosts.focus ?? `focus.${opts.hosts.domain}`;
    // §3.1: retried after 1, 2, 4 … s (capped at 120 s) while the focus answers ready="false".
    for (let delayMs = 1000; ; delayMs = Math.min(delayMs * 2, 120_000)) {
      const res = await this.#conn.iq(
        xml(
          'iq',
          { type: 'set', to: focus },
          xml(
            'conference',
            { xmlns: NS_FOCUS, room: this.roomJid, 'machine-uid': opts.machineUid },
            xml('property', { name: 'rtcstatsEnabled', value: 'false' }),
          ),
        ),
      );
      const c = res.getChild('conference', NS_FOCUS);
      if (c?.attrs.ready === 'true') {
        this.#focusJid = String(c.attrs.focusjid ?? '');
        return;
      }
      await new Promise((r) => window.setTimeout(r, delayMs));
      if (!this.#conn.connected) throw new Error('connection closed');
    }
  }

  #joinRoom(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = window.setTimeout(() => reject(new Error('the room did not answer')), JOIN_TIMEOUT_MS);
      this.#joinWaiter = {
        resolve: () => {
          window.clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          window.clearTimeout(timer);
          reject(err);
        },
      };
      this.#conn.send(buildPresence(this.#occupantJid, this.#localPresence(), true));
    });
  }

  #localPresence(): LocalPresence {
    const m = this.#media;
    return {
      endpointId: this.endpointId,
      displayName: this.#displayName,
      statsId: this.#statsId,
      ...(this.#capsVer !== undefined ? { capsVer: this.#capsVer } : {}),
      ...(m.hasMicrophone ? { audio: { muted: m.audioMuted } } : {}),
      ...(m.hasCamera ? { video: { muted: m.videoMuted } } : {}),
    };
  }

  #sendPresence(): void {
    if (this.#joined && !this.#left) this.#conn.send(buildPresence(this.#occupantJid, this.#localPresence(), false));
  }

  // ------------------------------------------------------------------------------------------- stanzas

  #onStanza(s: Element): boolean {
    if (s.name === 'presence') return this.#onPresence(s);
    if (s.name !== 'iq') return false;
    const type = s.attrs.type;
    if (type !== 'get' && type !== 'set') return false;
    const disco = s.getChild('query', NS_DISCO_INFO);
    if (type === 'get' && disco !== undefined) {
      const node = disco.attrs.node as string | undefined;
      this.#conn.reply(s, xml('query', { xmlns: NS_DISCO_INFO, node }, ...CLIENT_FEATURES.map((f) => xml('feature', { var: f }))));
      return true;
    }
    if (type === 'set' && s.getChild('jingle', NS_JINGLE) !== undefined) {
      this.#onJingle(s);
      return true;
    }
    const mute = s.getChild('mute', NS_MUTE_AUDIO) ?? s.getChild('mute', NS_MUTE_VIDEO);
    if (type === 'set' && mute !== undefined && s.attrs.from === `${this.roomJid}/${FOCUS_NICK}`) {
      // §3.5: a moderator muted us through the focus; only `true` is honoured.
      this.#conn.reply(s);
      if (mute.getText() === 'true') {
        if (mute.attrs.xmlns === NS_MUTE_AUDIO) this.setAudioMuted(true);
        else void this.setVideoMuted(true).catch(() => undefined);
      }
      return true;
    }
    return false;
  }

  #onPresence(s: Element): boolean {
    const from = String(s.attrs.from ?? '');
    if (!from.startsWith(`${this.roomJid}/`)) return false;
    if (s.attrs.type === 'error') {
      if (from === this.#occupantJid && this.#joinWaiter !== undefined) {
        const cond = s.getChild('error')?.children.find((c) => typeof c !== 'string') as Element | undefined;
        this.#joinWaiter.reject(new Error(`could not join the room (${cond?.name ?? 'error'})`));
        this.#joinWaiter = undefined;
      }
      return true;
    }
    const p = parseOccupantPresence(s, this.roomJid);
    if (p === undefined) return true;
    if (p.self || p.nick === this.endpointId) {
      this.#onSelfPresence(p);
      return true;
    }
    if (this.#isFocus(p)) return true;
    if (p.unavailable) {
      if (this.#participants.delete(p.nick)) {
        this.#session?.removeEndpoint(p.nick);
        this.emit('participantLeft', { id: p.nick });
      }
      return true;
    }
    const existing = this.#participants.get(p.nick);
    const next: Participant = {
      id: p.nick,
      displayName: p.displayName ?? '',
      audioMuted: isSourceOff(p, 'audio'),
      videoMuted: isSourceOff(p, 'video'),
      role: p.role,
      tracks: existing?.tracks ?? this.#tracksOf(p.nick),
    };
    this.#participants.set(p.nick, next);
    this.emit(existing === undefined ? 'participantJoined' : 'participantUpdated', next);
    return true;
  }

  #onSelfPresence(p: OccupantPresence): void {
    this.#role = p.role;
    if (p.unavailable) {
      this.#leaveWaiter?.();
      if (!this.#left) this.#end('You were removed from the meeting.');
      return;
    }
    if (!this.#joined) {
      this.#joined = true;
      this.#joinWaiter?.resolve();
      this.#joinWaiter = undefined;
    }
  }

  /** The focus: nick `focus` with a real JID under the `focusjid` of the conference IQ result (§3.1, §4.1). */
  #isFocus(p: OccupantPresence): boolean {
    return p.nick === FOCUS_NICK && (this.#focusJid === '' || (p.realJid ?? '').startsWith(`${this.#focusJid}/`));
  }

  #onJingle(iq: Element): void {
    const from = String(iq.attrs.from ?? '');
    let j: Jingle;
    try {
      j = parseJingle(iq);
    } catch (err) {
      this.#conn.replyError(iq, err instanceof JingleParseError ? err.condition : 'bad-request', 'modify');
      return;
    }
    if (from !== `${this.roomJid}/${FOCUS_NICK}`) {
      // A P2P offer from another participant (LJM with p2p enabled, §8). Not supported yet: decline, as LJM does
      // when P2P is disabled, so the peer stays on the bridge. TODO(#6): P2P for two.
      this.#conn.reply(iq);
      if (j.action === 'session-initiate') {
        const terminate: Jingle = { action: 'session-terminate', sid: j.sid, contents: [], reason: { condition: 'decline', text: 'P2P disabled' } };
        this.#conn.iq(xml('iq', { type: 'set', to: from }, serializeJingle(terminate))).catch(() => undefined);
      }
      return;
    }
    const session = this.#session;
    if (j.action !== 'session-initiate' && (session === undefined || session.sid !== j.sid)) {
      // §4.1: unknown sid.
      this.#conn.send(
        xml(
          'iq',
          { type: 'error', id: iq.attrs.id as string, to: from },
          xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }), xml('unknown-session', { xmlns: 'urn:xmpp:jingle:errors:1' })),
        ),
      );
      return;
    }
    // §4.1: ack first, then act.
    this.#conn.reply(iq);
    switch (j.action) {
      case 'session-initiate':
        this.#startSession(j);
        break;
      case 'source-add':
      case 'source-remove':
        session?.onSourceUpdate(j);
        break;
      case 'session-terminate':
        this.#closeSession();
        break;
      default:
        // transport-info without ice-generation is ignored on JVB sessions (§4.8); the rest is not used.
        break;
    }
  }

  // ------------------------------------------------------------------------------------------- media

  #startSession(offer: Jingle): void {
    this.#closeSession();
    let session: JvbSession;
    try {
      session = new JvbSession({
        connection: this.#conn,
        focus: `${this.roomJid}/${FOCUS_NICK}`,
        offer,
        endpointId: this.endpointId,
        tracks: { audio: this.#media.audioTrack ?? undefined, video: this.#media.videoTrack ?? undefined },
      });
    } catch (err) {
      console.error('unusable session-initiate', err);
      return;
    }
    this.#session = session;
    session.on('remoteTrack', ({ source, track }) => {
      this.#remoteTracks.set(track.id, { source, track });
      const p = this.#participants.get(source.owner);
      if (p === undefined) return;
      p.tracks[source.media] = track;
      this.emit('tracksChanged', p);
    });
    session.on('remoteTrackRemoved', ({ source }) => this.#dropTrack(source));
    session.on('connectionState', (state) => this.emit('mediaState', state));
    session.on('failed', ({ error }) => {
      console.error('media session failed', error);
      this.emit('mediaState', 'failed');
    });
    const url = session.bridgeChannelUrl;
    if (url !== undefined) {
      // §4.6 step 3: the channel opens as soon as the offer is processed.
      this.#channel = new BridgeChannel(url);
      this.#channel.on('message', (m) => this.emit('bridgeMessage', m));
      this.#sendConstraints();
    }
    session.accept();
  }

  #tracksOf(owner: string): Participant['tracks'] {
    const tracks: Participant['tracks'] = {};
    for (const { source, track } of this.#remoteTracks.values()) if (source.owner === owner) tracks[source.media] = track;
    return tracks;
  }

  #dropTrack(source: RemoteSource): void {
    for (const [id, t] of this.#remoteTracks) if (t.source === source) this.#remoteTracks.delete(id);
    const p = this.#participants.get(source.owner);
    if (p === undefined || p.tracks[source.media] === undefined) return;
    delete p.tracks[source.media];
    this.emit('tracksChanged', p);
  }

  #closeSession(): void {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    for (const s of session.remoteSources) this.#dropTrack(s);
    session.close();
    this.#channel?.close();
    this.#channel = undefined;
    this.emit('mediaState', 'none');
  }

  #sendConstraints(): void {
    const constraints: Record<string, { maxHeight: number }> = {};
    for (const [name, maxHeight] of Object.entries(this.#constraints)) constraints[name] = { maxHeight };
    this.#channel?.setReceiverConstraints({ lastN: -1, defaultConstraints: { maxHeight: 180 }, constraints });
  }

  #end(reason: string): void {
    this.#joinWaiter?.reject(new Error(reason));
    this.#joinWaiter = undefined;
    if (this.#left) return;
    this.#left = true;
    this.#closeSession();
    this.#conn.close();
    this.emit('ended', { reason });
    this.removeAllListeners();
  }
}

/**
 * The endpoint id (MUC nick) LJM derives from the bound JID: the first 8 characters of its node when they are
 * lower-case hex, else 8 random hex digits (`JitsiConference.resourceCreator`, PROTOCOL §1.1).
 */
export function endpointIdOf(jid: string): string {
  const node = jid.split('@')[0] ?? '';
  if (/^[0-9a-f]{8}/.test(node)) return node.slice(0, 8);
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha1Base64(s: string): Promise<string | undefined> {
  if (crypto.subtle === undefined) return undefined;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(s)));
  return btoa(String.fromCharCode(...digest));
}

