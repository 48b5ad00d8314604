/**
 * One meeting, joined as lib-jitsi-meet joins it (PROTOCOL Appendix A, steps 1–3 and 5):
 *
 * 1. XMPP over WebSocket (BOSH when the WebSocket cannot be opened), anonymous login ({@link XmppConnection}) on
 *    `hosts.anonymousdomain` when there is one, or on the main domain with the JWT as `?token=`;
 * 2. the conference IQ to `focus.<domain>` until it answers `ready="true"` (§3.1), which names the focus's JID; on
 *    `not-authorized` (secure domain, a guest, the room does not exist) it asks again every few seconds while the UI
 *    may log in ({@link AuthPrompt}: a `session-id` from a second, PLAIN-authenticated connection);
 * 3. the MUC join presence with LJM's payload, done when our own presence (status 110) comes back (§3.3.1);
 * 4. answering the focus: disco#info with our features (§3.4.2), Jingle from `room/focus` — session-initiate starts a
 *    {@link JvbSession} and the bridge channel, source-add/-remove update it, session-terminate ends it (§4);
 * 5. occupants' presences keep the participant list, names and mute state; a leaver's sources are dropped (§3.3.3).
 *
 * The UI only sees this class: participants, their tracks, and methods to mute, set receiver constraints and leave.
 *
 * Meeting features (issue 6): chat (group and private MUC messages, chat.ts), moderator actions (mute through the
 * focus, kick and grant moderator through muc#admin, moderation.ts), raise hand (presence property), screen share
 * (a second video source `<ep>-v1`), device switching, and on-stage sources in the receiver constraints.
 *
 * P2P for two (p2p.ts, p2p-session.ts; §8): with exactly one other participant a direct session is negotiated
 * through the MUC; once it connects, that participant's tracks come from it and our bridge media is suspended; a
 * third participant moves everyone back to the bridge, and two return to P2P after `backToP2PDelay`.
 *
 * Reconnect: when the XMPP connection drops after we joined, everything media is closed, a `connection` event
 * tells the UI, and the conference reconnects with backoff (1, 2, 4 … 30 s; at once when the browser comes back
 * online), asks the focus again and rejoins the room under a new endpoint id (a new session from the focus, as
 * Jitsi Meet does without stream resumption). Participants who left meanwhile are dropped after the rejoin.
 *
 * References: /work/shared/PROTOCOL.md §3 (conference IQ, MUC, presence), §4 (Jingle), §6 (bridge channel)
 */
import { type Jingle, JingleParseError, NS_JINGLE, parseJingle } from '@jitsi-one/focus';
import { type Element, NS_DISCO_INFO, xml } from '@jitsi-one/xmpp';
import { loginDomain, serviceUrl } from '../auth.js';
import { Emitter } from '../events.js';
import { XmppConnection } from '../xmpp/connection.js';
import { BridgeChannel, type BridgeMessage } from './bridge-channel.js';
import { type ChatMessage, buildGroupMessage, buildPrivateMessage, cleanChatText, messageId, parseChatMessage } from './chat.js';
import { JvbSession } from './jvb-session.js';
import { P2P, type P2POptions } from './p2p.js';
import type { LocalMedia } from './local-media.js';
import {
  CLIENT_FEATURES,
  type LocalPresence,
  type OccupantPresence,
  buildPresence,
  capsString,
  isSharingScreen,
  isSourceOff,
  parseOccupantPresence,
} from './presence.js';
import { type MuteMedia, buildGrantOwnerIq, buildKickIq, buildMuteIq, moderationErrorText, muteMediaOf } from './moderation.js';
import { IqError } from '../xmpp/connection.js';
import type { MediaKind, RemoteSource } from './sdp.js';

const NS_FOCUS = 'http://jitsi.org/protocol/focus';
/** The focus's nick in every room (PROTOCOL §1.1). */
const FOCUS_NICK = 'focus';
/** How long to wait for the MUC join and for our own unavailable presence on leave (LJM: 5 s). */
const JOIN_TIMEOUT_MS = 15_000;
const LEAVE_TIMEOUT_MS = 5_000;
/** Longest wait between two reconnect attempts. */
const RECONNECT_MAX_DELAY_MS = 30_000;

export interface ConferenceOptions {
  /** XMPP WebSocket URL. */
  websocketUrl: string;
  /** `anonymousdomain`: guests (and everyone without a token) log in there (secure domain / JWT with guests). */
  hosts: { domain: string; muc: string; focus?: string; anonymousdomain?: string };
  /** Room name (already normalised: lower case, legal). */
  room: string;
  displayName: string;
  /** Stable random id of this browser (`machine-uid`). */
  machineUid: string;
  media: LocalMedia;
  /** BOSH URL (`config.bosh`), used when the WebSocket cannot be opened. */
  boshUrl?: string | undefined;
  /** `config.p2p`; P2P is off without it. */
  p2p?: P2POptions | undefined;
  /** `config.channelLastN`: videos the bridge forwards to us (most recent speakers first); -1 or absent = all. */
  lastN?: number | undefined;
  /** JWT (from the page's `?jwt=`): sent as `?token=` on the service URL, login on the main domain. Memory only. */
  token?: string | undefined;
  /**
   * Called once when the focus refuses to create the room for us (`not-authorized`: secure domain, we are a guest).
   * The conference keeps asking every {@link AUTH_POLL_MS} (the room may be created by someone else) until it is
   * let in; the UI may meanwhile log in with {@link AuthPrompt.login}. Without it the join fails.
   */
  onAuthRequired?: ((prompt: AuthPrompt) => void) | undefined;
}

/** The "waiting for the host / log in" state of a join (see {@link ConferenceOptions.onAuthRequired}). */
export interface AuthPrompt {
  /**
   * Logs in with SASL PLAIN on the main domain on a second connection, asks the focus there for the room to get a
   * login session id, closes it, and repeats our request with that id (lib-jitsi-meet `authenticateAndUpgradeRole`).
   * Resolves once the focus accepted it; rejects with {@link LoginError} (wrong password …) or another error.
   */
  login(username: string, password: string): Promise<void>;
}

/** How often a guest waiting for the host asks the focus again. */
export const AUTH_POLL_MS = 3000;

/** The XMPP connection as the UI shows it. */
export interface ConnectionStatus {
  /** `reconnecting` from the drop until we are back in the room. */
  state: 'connected' | 'reconnecting';
  /** Failed attempts so far while reconnecting. */
  attempt: number;
  /** When the next attempt starts (ms since epoch), while waiting for it. */
  retryAt?: number;
  /** What the connection runs over (when connected). */
  transport?: 'websocket' | 'bosh';
}

/** A remote participant as the UI shows it. */
export interface Participant {
  /** Endpoint id (MUC nick). */
  id: string;
  displayName: string;
  audioMuted: boolean;
  videoMuted: boolean;
  role: string | undefined;
  affiliation: string | undefined;
  /** The occupant's real JID (needed to grant moderator). */
  realJid: string | undefined;
  /** When the hand was raised (ms since epoch), 0 when it is down. */
  raisedHand: number;
  /** A screen share is announced (SourceInfo `-v1`, desktop, not muted). */
  screenSharing: boolean;
  /** `desktop`: the screen share (source `<id>-v1`). */
  tracks: { audio?: MediaStreamTrack; video?: MediaStreamTrack; desktop?: MediaStreamTrack };
}

/** Which of a participant's tracks a remote source is: the camera (`-v0`), the screen share (desktop), audio. */
export type TrackSlot = keyof Participant['tracks'];

interface ConferenceEvents {
  participantJoined: Participant;
  participantUpdated: Participant;
  participantLeft: { id: string };
  /** A participant's audio or video track arrived or went away (see `participant.tracks`). */
  tracksChanged: Participant;
  /** State of the media connection to the bridge. */
  mediaState: RTCPeerConnectionState | 'none';
  bridgeMessage: BridgeMessage;
  /** The conference is over for us: removed from the room, or left. */
  ended: { reason: string };
  /** The XMPP connection dropped (we reconnect) or is back (we rejoined the room). */
  connection: ConnectionStatus;
  /** Media moved to (true) or away from (false) the direct P2P connection. */
  p2p: { active: boolean };
  /** A chat line: group or private, ours (group: the room's reflection; private: when sent) or someone else's. */
  chatMessage: ChatMessage;
  /** A message bounced (e.g. a private message to someone who left). */
  chatError: { to: string | undefined; text: string };
  /** Our MUC role changed (moderator granted or revoked). */
  roleChanged: { role: string | undefined };
  /** A moderator muted our microphone, camera or screen share through the focus (§3.5). */
  mutedByModerator: { media: MuteMedia; actor: string | undefined };
  /** Our raised hand or screen share changed (for the controls). */
  localChanged: undefined;
}

/** Per-source receive statistics for tests and the (future) connection indicator. */
export interface InboundStats {
  participantId: string;
  sourceName: string;
  kind: MediaKind;
  /** The connection it arrives on: the bridge or the direct P2P connection. */
  path: 'jvb' | 'p2p';
  bytesReceived: number;
  packetsReceived: number;
  /** Packets lost (RTP sequence gaps, as getStats counts them). */
  packetsLost: number;
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

/** The P2P connection as {@link Conference.p2pInfo} reports it. */
export interface P2PInfo {
  /** It carries the media. */
  active: boolean;
  state: RTCPeerConnectionState | 'none';
  peer?: string;
  initiator?: boolean;
  /** The selected ICE candidate pair (addresses as getStats reports them). */
  pair?: { local: { address: string; port: number; type: string }; remote: { address: string; port: number; type: string } };
}

/** What we send, for the local connection indicator (see {@link Conference.outboundStats}). */
export interface OutboundStats {
  path: 'jvb' | 'p2p';
  bytesSent: number;
  packetsSent: number;
  /** Packets the receiver reported lost. */
  packetsLost: number;
  frameWidth: number;
  frameHeight: number;
}

export class Conference extends Emitter<ConferenceEvents> {
  readonly roomJid: string;
  #endpointId: string;
  #conn: XmppConnection;
  readonly #media: LocalMedia;
  #occupantJid: string;
  readonly #options: ConferenceOptions;
  readonly #p2p: P2P;
  /** Our endpoint ids before reconnects: a ghost of ourselves in the room is not a participant. */
  readonly #formerIds = new Set<string>();
  /** While rejoining: the occupants seen, so those gone meanwhile can be dropped afterwards. */
  #seenOnRejoin: Set<string> | undefined;
  #reconnecting = false;
  readonly #participants = new Map<string, Participant>();
  /**
   * Remote tracks by track id (a track may arrive before its owner's presence), with the connection they come
   * from: the P2P peer's tracks are shown from the P2P connection while it is active, all others from the bridge.
   */
  readonly #remoteTracks = new Map<string, { source: RemoteSource; track: MediaStreamTrack; via: 'jvb' | 'p2p' }>();
  readonly #statsId = `${Math.random().toString(36).slice(2, 8)}`;
  #displayName: string;
  #capsVer: string | undefined;
  #focusJid = '';
  #session: JvbSession | undefined;
  #channel: BridgeChannel | undefined;
  #constraints: Record<string, number> = {};
  #role: string | undefined;
  /** Our raised hand (ms since epoch, 0 lowered, undefined never raised). */
  #raisedHand: number | undefined;
  #onStage: string[] = [];
  #joined = false;
  #left = false;
  #joinWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #leaveWaiter: (() => void) | undefined;
  /** The focus's login session id (secure domain, after a log in): sent with every conference request. */
  #sessionId: string | undefined;
  /** While waiting for the host: wakes the wait at once (a login got a session id). */
  #authWake: (() => void) | undefined;
  /** A login's wait for the focus's answer to the repeated request. */
  #authResult: { resolve: () => void; reject: (err: Error) => void } | undefined;

  private constructor(conn: XmppConnection, opts: ConferenceOptions) {
    super();
    this.#options = opts;
    this.#conn = conn;
    this.#media = opts.media;
    this.#displayName = opts.displayName;
    this.roomJid = `${opts.room}@${opts.hosts.muc.toLowerCase()}`;
    this.#endpointId = endpointIdOf(conn.jid);
    this.#occupantJid = `${this.roomJid}/${this.#endpointId}`;
    this.#p2p = this.#createP2P(opts.p2p);
    this.#attach(conn);
  }

  /** Connects, asks the focus for the room, and joins it. */
  static async join(opts: ConferenceOptions): Promise<Conference> {
    const conn = await Conference.#connect(opts);
    const conference = new Conference(conn, opts);
    try {
      conference.#capsVer = await sha1Base64(capsString());
      await conference.#requestConference(opts);
      await conference.#joinRoom();
      conference.#p2p.update();
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

  /** Whether we are a moderator (may mute others, kick, grant moderator). */
  get isModerator(): boolean {
    return this.#role === 'moderator';
  }

  /** Our display name as sent in presence. */
  get displayName(): string {
    return this.#displayName;
  }

  /** Whether our hand is raised. */
  get handRaised(): boolean {
    return (this.#raisedHand ?? 0) > 0;
  }

  /** Whether we are sharing a screen. */
  get screenSharing(): boolean {
    return this.#media.screenTrack !== null;
  }

  /** Our endpoint id (MUC nick); a new one after a reconnect. */
  get endpointId(): string {
    return this.#endpointId;
  }

  /** State of the media connection in use: the P2P one while it carries the media, else the bridge's. */
  get mediaState(): RTCPeerConnectionState | 'none' {
    if (this.#p2p.active) return this.#p2p.session?.pc.connectionState ?? 'none';
    return this.#session?.pc.connectionState ?? 'none';
  }

  /** Whether media currently flows over the direct P2P connection. */
  get p2pActive(): boolean {
    return this.#p2p.active;
  }

  /** What the XMPP connection runs over. */
  get transport(): 'websocket' | 'bosh' {
    return this.#conn.transport;
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
      await Promise.all([this.#session?.setTrack('video', null), this.#p2p.setTrack('video', null)]);
      return;
    }
    const track = await this.#media.setVideoMuted(false);
    await Promise.all([this.#session?.setTrack('video', track), this.#p2p.setTrack('video', track)]);
    this.#sendPresence();
  }

  /** Raises or lowers our hand (presence `jitsi_participant_raisedHand`, a timestamp as Jitsi Meet sends). */
  setRaisedHand(raised: boolean): void {
    if (raised === this.handRaised) return;
    this.#raisedHand = raised ? Date.now() : 0;
    this.#sendPresence();
    this.emit('localChanged', undefined);
  }

  /** Sends a group chat message; it is shown when the room reflects it (`chatMessage` with `self`). */
  sendChatMessage(text: string): void {
    const body = cleanChatText(text);
    if (body === '' || !this.#conn.connected) return;
    this.#conn.send(buildGroupMessage(this.roomJid, body, this.#displayName));
  }

  /** Sends a private message to one participant; it is not reflected, so `chatMessage` is emitted here. */
  sendPrivateMessage(to: string, text: string): void {
    const body = cleanChatText(text);
    if (body === '' || !this.#conn.connected) return;
    const id = messageId();
    this.#conn.send(buildPrivateMessage(this.roomJid, to, body, this.#displayName, id));
    this.emit('chatMessage', { id, from: this.endpointId, nick: this.#displayName || undefined, text: body, private: true, to, self: true, timestamp: Date.now() });
  }

  /** Asks the focus to mute a participant's microphone, camera or screen share (moderators only; §3.5). */
  async muteParticipant(id: string, media: MuteMedia): Promise<void> {
    const what = media === 'audio' ? 'mute the microphone' : media === 'video' ? 'turn off the camera' : 'stop the screen share';
    await this.#moderate(what, buildMuteIq(`${this.roomJid}/${FOCUS_NICK}`, this.roomJid, id, media));
  }

  /** Removes a participant from the meeting (muc#admin role none; moderators only). */
  async kickParticipant(id: string): Promise<void> {
    await this.#moderate('remove the participant', buildKickIq(this.roomJid, id));
  }

  /** Makes a participant a moderator (muc#admin affiliation owner for its real JID, as Jitsi Meet does). */
  async grantModerator(id: string): Promise<void> {
    const jid = this.#participants.get(id)?.realJid;
    if (jid === undefined) throw new Error('Could not make them a moderator: their address is not known.');
    await this.#moderate('make them a moderator', buildGrantOwnerIq(this.roomJid, jid));
  }

  /** Switches microphone or camera; the bridge session keeps its SSRCs (replaceTrack). */
  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void> {
    const track = await this.#media.switchDevice(kind, deviceId);
    if (track !== null) {
      const media = kind === 'audioinput' ? 'audio' : 'video';
      await Promise.all([this.#session?.setTrack(media, track), this.#p2p.setTrack(media, track)]);
    }
  }

  /**
   * Shares a screen: `getDisplayMedia`, then a second video source `<ep>-v1` (videoType desktop) with source-add to
   * the focus, SourceInfo in presence and a SourceVideoTypeMessage to the bridge (§4.7, §3.4.1, §6.2).
   */
  async startScreenShare(): Promise<void> {
    const track = await this.#media.startScreenShare();
    this.#sendPresence();
    this.emit('localChanged', undefined);
    await Promise.all([this.#session?.setDesktopTrack(track), this.#p2p.setDesktopTrack(track)]);
    this.#channel?.send({ colibriClass: 'SourceVideoTypeMessage', sourceName: Conference.desktopSourceName(this.endpointId), videoType: 'desktop' });
  }

  /** Stops the screen share: source-remove and SourceInfo without it. */
  async stopScreenShare(): Promise<void> {
    if (this.#media.screenTrack !== null) this.#media.stopScreenShare();
    this.#sendPresence();
    this.emit('localChanged', undefined);
    await Promise.all([this.#session?.setDesktopTrack(null), this.#p2p.setDesktopTrack(null)]);
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
  setReceiverConstraints(heights: Record<string, number>, onStage: string[] = []): void {
    this.#constraints = heights;
    this.#onStage = onStage;
    this.#sendConstraints();
    this.#p2p.setReceiverConstraints(heights);
  }

  /** What {@link setReceiverConstraints} last set (for tests and the console). */
  get receiverConstraints(): { heights: Record<string, number>; onStage: string[] } {
    return { heights: { ...this.#constraints }, onStage: [...this.#onStage] };
  }

  /** The source name of a remote participant's video (`<id>-v0`). */
  static videoSourceName(participantId: string): string {
    return `${participantId}-v0`;
  }

  /** The source name of a participant's screen share (`<id>-v1`). */
  static desktopSourceName(participantId: string): string {
    return `${participantId}-v1`;
  }

  /** Which track of its owner a remote source is. */
  static trackSlotOf(source: Pick<RemoteSource, 'media' | 'name' | 'owner' | 'videoType'>): TrackSlot {
    if (source.media === 'audio') return 'audio';
    return source.videoType === 'desktop' || (source.name !== `${source.owner}-v0` && source.name.startsWith(`${source.owner}-v`)) ? 'desktop' : 'video';
  }

  /**
   * Receive statistics per remote source, each from the connection its track is shown from (the bridge, or the
   * P2P connection for the peer while P2P is active).
   */
  async inboundStats(): Promise<InboundStats[]> {
    const out: InboundStats[] = [];
    for (const [path, pc] of [['jvb', this.#session?.pc], ['p2p', this.#p2p.session?.pc]] as const) {
      if (pc === undefined || pc.connectionState === 'closed') continue;
      let report: RTCStatsReport;
      try {
        report = await pc.getStats();
      } catch {
        continue; // closed meanwhile
      }
      report.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        const t = this.#remoteTracks.get(String(s.trackIdentifier ?? ''));
        if (t === undefined || t.via !== path || this.#pathOf(t.source.owner) !== path) return;
        const entry: InboundStats = {
          participantId: t.source.owner,
          sourceName: t.source.name,
          kind: t.source.media,
          path,
          bytesReceived: Number(s.bytesReceived ?? 0),
          packetsReceived: Number(s.packetsReceived ?? 0),
          packetsLost: Math.max(0, Number(s.packetsLost ?? 0)),
        };
        if (typeof s.framesDecoded === 'number') entry.framesDecoded = s.framesDecoded;
        if (typeof s.frameWidth === 'number') entry.frameWidth = s.frameWidth;
        if (typeof s.frameHeight === 'number') entry.frameHeight = s.frameHeight;
        out.push(entry);
      });
    }
    return out;
  }

  /**
   * What we send on the connection in use (the P2P one while active, else the bridge's): bytes and packets, the
   * packets the receiver reported lost (RTCP receiver reports), and the largest video frame being encoded.
   */
  async outboundStats(): Promise<OutboundStats | undefined> {
    const path = this.#p2p.active ? 'p2p' : 'jvb';
    const pc = path === 'p2p' ? this.#p2p.session?.pc : this.#session?.pc;
    if (pc === undefined || pc.connectionState === 'closed') return undefined;
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return undefined;
    }
    const stats: OutboundStats = { path, bytesSent: 0, packetsSent: 0, packetsLost: 0, frameWidth: 0, frameHeight: 0 };
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'outbound-rtp') {
        stats.bytesSent += Number(s.bytesSent ?? 0);
        stats.packetsSent += Number(s.packetsSent ?? 0);
        const h = Number(s.frameHeight ?? 0);
        if (s.kind === 'video' && s.active !== false && h > stats.frameHeight) {
          stats.frameHeight = h;
          stats.frameWidth = Number(s.frameWidth ?? 0);
        }
      } else if (s.type === 'remote-inbound-rtp') {
        stats.packetsLost += Math.max(0, Number(s.packetsLost ?? 0));
      }
    });
    return stats;
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
    this.#p2p.close();
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

  /** The conference IQ until the focus is ready; `mayPrompt`: wait for the host / a login on `not-authorized`. */
  async #requestConference(opts: ConferenceOptions, mayPrompt = true): Promise<void> {
    const focus = opts.hosts.focus ?? `focus.${opts.hosts.domain}`;
    let prompted = false;
    // §3.1: retried after 1, 2, 4 … s (capped at 120 s) while the focus answers ready="false".
    for (let delayMs = 1000; ; delayMs = Math.min(delayMs * 2, 120_000)) {
      const sessionId = this.#sessionId;
      let res: Element;
      try {
        res = await this.#conn.iq(conferenceRequest(focus, this.roomJid, opts.machineUid, sessionId));
      } catch (err) {
        if (!(err instanceof IqError)) throw err;
        const authWaiter = sessionId !== undefined ? this.#takeAuthResult() : undefined;
        if (err.condition === 'not-acceptable' && sessionId !== undefined) {
          // session-invalid (expired, logged out) or another machine: forget it and ask as a guest.
          this.#sessionId = undefined;
          authWaiter?.reject(new Error('The login session was not accepted; please log in again.'));
          continue;
        }
        if (err.condition !== 'not-authorized' || opts.onAuthRequired === undefined || !mayPrompt || !this.#conn.connected) {
          authWaiter?.reject(err);
          throw err;
        }
        // Secure domain, a guest, the room does not exist: wait for the host, or for a login (Jitsi Meet polls).
        authWaiter?.reject(new Error('The login was not accepted for this meeting.'));
        if (!prompted) {
          prompted = true;
          opts.onAuthRequired({ login: (u, p) => this.#login(u, p) });
        }
        // A login got its session id while this request was under way: repeat it at once.
        if (this.#sessionId !== undefined && this.#sessionId !== sessionId) continue;
        await new Promise<void>((resolve) => {
          const timer = window.setTimeout(done, AUTH_POLL_MS);
          function done(): void {
            window.clearTimeout(timer);
            resolve();
          }
          this.#authWake = done;
        });
        this.#authWake = undefined;
        if (!this.#conn.connected) throw new Error('connection closed');
        delayMs = 1000;
        continue;
      }
      if (sessionId !== undefined) this.#takeAuthResult()?.resolve();
      const c = res.getChild('conference', NS_FOCUS);
      if (c?.attrs.ready === 'true') {
        this.#focusJid = String(c.attrs.focusjid ?? '');
        return;
      }
      await new Promise((r) => window.setTimeout(r, delayMs));
      if (!this.#conn.connected) throw new Error('connection closed');
    }
  }

  #takeAuthResult(): { resolve: () => void; reject: (err: Error) => void } | undefined {
    const w = this.#authResult;
    this.#authResult = undefined;
    return w;
  }

  /** {@link AuthPrompt.login}: a session id from a logged-in second connection, then our request repeated with it. */
  async #login(username: string, password: string): Promise<void> {
    const opts = this.#options;
    const focus = opts.hosts.focus ?? `focus.${opts.hosts.domain}`;
    const conn = await XmppConnection.connect({
      url: serviceUrl(opts.websocketUrl, opts.room),
      boshUrl: opts.boshUrl === undefined ? undefined : serviceUrl(opts.boshUrl, opts.room),
      domain: opts.hosts.domain,
      credentials: { username, password },
      pingIntervalMs: 0,
    });
    let sessionId: string | undefined;
    try {
      const res = await conn.iq(conferenceRequest(focus, this.roomJid, opts.machineUid, undefined));
      const id = res.getChild('conference', NS_FOCUS)?.attrs['session-id'];
      sessionId = typeof id === 'string' && id !== '' ? id : undefined;
    } finally {
      conn.close();
    }
    if (sessionId === undefined) throw new Error('The server gave no login session for this meeting.');
    this.#sessionId = sessionId;
    const accepted = new Promise<void>((resolve, reject) => {
      this.#takeAuthResult()?.reject(new Error('superseded by another login'));
      this.#authResult = { resolve, reject };
    });
    this.#authWake?.();
    await accepted;
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
      ...(m.screenTrack !== null ? { desktop: { muted: false } } : {}),
      ...(this.#raisedHand !== undefined ? { raisedHand: this.#raisedHand } : {}),
    };
  }

  #sendPresence(): void {
    if (this.#joined && !this.#left) this.#conn.send(buildPresence(this.#occupantJid, this.#localPresence(), false));
  }

  // ------------------------------------------------------------------------------------------- stanzas

  #onStanza(s: Element): boolean {
    if (s.name === 'presence') return this.#onPresence(s);
    if (s.name === 'message') return this.#onMessage(s);
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
    const mute = s.getChildElements().find((c) => muteMediaOf(c) !== undefined);
    const muteMedia = mute === undefined ? undefined : muteMediaOf(mute);
    if (type === 'set' && mute !== undefined && muteMedia !== undefined && s.attrs.from === `${this.roomJid}/${FOCUS_NICK}`) {
      // §3.5: a moderator muted us through the focus; only `true` is honoured.
      this.#conn.reply(s);
      if (mute.getText().trim() === 'true') {
        if (muteMedia === 'audio') this.setAudioMuted(true);
        else if (muteMedia === 'video') void this.setVideoMuted(true).catch(() => undefined);
        else void this.stopScreenShare().catch(() => undefined);
        const actor = String(mute.attrs.actor ?? '');
        const actorNick = actor.startsWith(`${this.roomJid}/`) ? actor.slice(this.roomJid.length + 1) : undefined;
        this.emit('mutedByModerator', { media: muteMedia, actor: actorNick });
      }
      return true;
    }
    return false;
  }

  #onMessage(s: Element): boolean {
    const chat = parseChatMessage(s, this.roomJid, this.endpointId);
    if (chat === undefined) return false;
    if (chat.kind === 'error') this.emit('chatError', { to: chat.to, text: chat.text });
    else if (!chat.message.private || !chat.message.self) this.emit('chatMessage', chat.message);
    return true;
  }

  /** A moderator action: the IQ, with a refusal turned into a readable error. */
  async #moderate(action: string, iq: Element): Promise<void> {
    try {
      await this.#conn.iq(iq);
    } catch (err) {
      if (err instanceof IqError) {
        const text = err.stanza?.getChild('error')?.getChildText('text') ?? undefined;
        throw new Error(moderationErrorText(action, err.condition, text ?? undefined));
      }
      throw err;
    }
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
    if (this.#isFocus(p) || this.#formerIds.has(p.nick)) return true;
    if (p.unavailable) {
      if (this.#participants.delete(p.nick)) {
        this.#session?.removeEndpoint(p.nick);
        this.emit('participantLeft', { id: p.nick });
        this.#p2p.update(true);
      }
      return true;
    }
    this.#seenOnRejoin?.add(p.nick);
    const existing = this.#participants.get(p.nick);
    const next: Participant = {
      id: p.nick,
      displayName: p.displayName ?? '',
      audioMuted: isSourceOff(p, 'audio'),
      videoMuted: isSourceOff(p, 'video'),
      role: p.role,
      affiliation: p.affiliation,
      realJid: p.realJid,
      raisedHand: p.raisedHand,
      screenSharing: isSharingScreen(p),
      tracks: existing?.tracks ?? this.#tracksOf(p.nick),
    };
    this.#participants.set(p.nick, next);
    this.emit(existing === undefined ? 'participantJoined' : 'participantUpdated', next);
    if (existing === undefined) this.#p2p.update();
    return true;
  }

  #onSelfPresence(p: OccupantPresence): void {
    const roleChanged = this.#joined && p.role !== this.#role && !p.unavailable;
    this.#role = p.role;
    if (roleChanged) this.emit('roleChanged', { role: p.role });
    if (p.unavailable) {
      this.#leaveWaiter?.();
      if (!this.#left) {
        const actor = p.actorNick === undefined ? undefined : this.#participants.get(p.actorNick)?.displayName;
        this.#end(p.statusCodes.includes('307') ? `You were removed from the meeting${actor ? ` by ${actor}` : ''}.` : 'You were removed from the meeting.');
      }
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
      // Another participant: the P2P session (§8), accepted, declined or answered there.
      if (from.startsWith(`${this.roomJid}/`)) this.#p2p.onJingle(iq, j);
      else this.#conn.replyError(iq, 'not-acceptable');
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
      this.#remoteTracks.set(track.id, { source, track, via: 'jvb' });
      this.#refreshTracks(source.owner);
    });
    session.on('remoteTrackRemoved', ({ source }) => this.#dropTrack(source));
    session.on('connectionState', (state) => {
      if (!this.#p2p.active) this.emit('mediaState', state);
    });
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
    // P2P already carries the media (the bridge session came late, or was restarted): send nothing to the bridge.
    if (this.#p2p.active) void session.setMediaTransferActive(false).catch(() => undefined);
    // A screen share running across a new session (restart) is announced again on it.
    if (this.#media.screenTrack !== null) void session.setDesktopTrack(this.#media.screenTrack).catch(() => undefined);
  }

  /** The tracks of `owner` from the connection its media is shown from ({@link #pathOf}). */
  #tracksOf(owner: string): Participant['tracks'] {
    const tracks: Participant['tracks'] = {};
    const via = this.#pathOf(owner);
    for (const { source, track, via: v } of this.#remoteTracks.values()) {
      if (source.owner === owner && v === via) tracks[Conference.trackSlotOf(source)] = track;
    }
    return tracks;
  }

  /** Where `owner`'s media is shown from: the P2P connection for the peer while P2P is active, else the bridge. */
  #pathOf(owner: string): 'jvb' | 'p2p' {
    return this.#p2p.active && this.#p2p.session?.peerId === owner ? 'p2p' : 'jvb';
  }

  /** Recomputes a participant's tracks; emits `tracksChanged` when they differ. */
  #refreshTracks(owner: string): void {
    const p = this.#participants.get(owner);
    if (p === undefined) return;
    const next = this.#tracksOf(owner);
    const slots = new Set([...Object.keys(p.tracks), ...Object.keys(next)] as TrackSlot[]);
    if ([...slots].every((k) => p.tracks[k] === next[k])) return;
    p.tracks = next;
    this.emit('tracksChanged', p);
  }

  #dropTrack(source: RemoteSource, via: 'jvb' | 'p2p' = 'jvb'): void {
    for (const [id, t] of this.#remoteTracks) {
      if (t.via === via && t.source.owner === source.owner && t.source.name === source.name) this.#remoteTracks.delete(id);
    }
    this.#refreshTracks(source.owner);
  }

  #closeSession(): void {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    for (const s of session.remoteSources) this.#dropTrack(s, 'jvb');
    session.close();
    this.#channel?.close();
    this.#channel = undefined;
    this.emit('mediaState', 'none');
  }

  #sendConstraints(): void {
    const constraints: Record<string, { maxHeight: number }> = {};
    for (const [name, maxHeight] of Object.entries(this.#constraints)) constraints[name] = { maxHeight };
    this.#channel?.setReceiverConstraints({ lastN: this.#options.lastN ?? -1, onStageSources: this.#onStage, defaultConstraints: { maxHeight: 180 }, constraints });
  }

  #end(reason: string): void {
    this.#joinWaiter?.reject(new Error(reason));
    this.#joinWaiter = undefined;
    if (this.#left) return;
    this.#left = true;
    this.#p2p.close();
    this.#closeSession();
    this.#conn.close();
    this.emit('ended', { reason });
    this.removeAllListeners();
  }

  // ------------------------------------------------------------------------------- connection and P2P

  /** The P2P connection for tests and the console: who, its state, and the selected ICE candidate pair. */
  async p2pInfo(): Promise<P2PInfo> {
    const session = this.#p2p.session;
    const info: P2PInfo = { active: this.#p2p.active, state: session?.pc.connectionState ?? 'none' };
    if (session === undefined) return info;
    info.peer = session.peerId;
    info.initiator = session.initiator;
    let report: RTCStatsReport;
    try {
      report = await session.pc.getStats();
    } catch {
      return info;
    }
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
    let pair: Record<string, unknown> | undefined;
    for (const s of byId.values()) {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = byId.get(s.selectedCandidatePairId);
    }
    pair ??= [...byId.values()].find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
    const local = pair === undefined ? undefined : byId.get(String(pair.localCandidateId));
    const remote = pair === undefined ? undefined : byId.get(String(pair.remoteCandidateId));
    if (local !== undefined && remote !== undefined) {
      info.pair = {
        local: { address: String(local.address ?? local.ip ?? ''), port: Number(local.port), type: String(local.candidateType) },
        remote: { address: String(remote.address ?? remote.ip ?? ''), port: Number(remote.port), type: String(remote.candidateType) },
      };
    }
    return info;
  }

  /** Bytes sent on the bridge connection so far (flat while P2P suspends the bridge media). */
  async bridgeBytesSent(): Promise<number> {
    const pc = this.#session?.pc;
    if (pc === undefined || pc.connectionState === 'closed') return 0;
    let sent = 0;
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'outbound-rtp') sent += Number(s.bytesSent ?? 0);
    });
    return sent;
  }

  /** Drops the XMPP connection as a network failure would (to test the reconnect). */
  dropConnection(): void {
    this.#conn.drop();
  }

  /** XMPP over WebSocket, else over BOSH when the WebSocket cannot be opened (`?room=` as Jitsi Meet adds it). */
  static #connect(opts: ConferenceOptions): Promise<XmppConnection> {
    // With a token: `&token=` and the main domain; else the guest domain when there is one (Jitsi Meet).
    return XmppConnection.connect({
      url: serviceUrl(opts.websocketUrl, opts.room, opts.token),
      boshUrl: opts.boshUrl === undefined ? undefined : serviceUrl(opts.boshUrl, opts.room, opts.token),
      domain: loginDomain(opts.hosts, opts.token),
    });
  }

  /** Takes a (new) connection: our endpoint id and occupant JID come from its JID. */
  #attach(conn: XmppConnection): void {
    this.#conn = conn;
    this.#endpointId = endpointIdOf(conn.jid);
    this.#occupantJid = `${this.roomJid}/${this.#endpointId}`;
    conn.addHandler((s) => this.#onStanza(s));
    conn.on('closed', ({ error }) => {
      if (this.#conn !== conn || this.#left) return;
      if (this.#reconnecting) {
        // A rejoin attempt lost its connection: let the attempt fail now rather than time out.
        this.#joinWaiter?.reject(new Error('connection closed'));
        this.#joinWaiter = undefined;
      } else if (this.#joined && error !== undefined) {
        this.#onConnectionLost(error);
      } else {
        this.#end(error !== undefined ? 'The connection to the server was lost.' : 'Disconnected.');
      }
    });
  }

  #createP2P(options: P2POptions | undefined): P2P {
    const p2p = new P2P(
      {
        connection: () => this.#conn,
        occupantJid: () => this.#occupantJid,
        endpointId: () => this.#endpointId,
        roomJid: this.roomJid,
        joined: () => this.#joined && !this.#left && !this.#reconnecting,
        participantIds: () => [...this.#participants.keys()],
        localTracks: () => ({ audio: this.#media.audioTrack, video: this.#media.videoTrack, desktop: this.#media.screenTrack }),
      },
      options ?? { enabled: false, iceServers: [], backToP2PDelayMs: 5000 },
    );
    p2p.on('remoteTrack', ({ source, track }) => {
      this.#remoteTracks.set(track.id, { source, track, via: 'p2p' });
      this.#refreshTracks(source.owner);
    });
    p2p.on('remoteTrackRemoved', ({ source }) => this.#dropTrack(source, 'p2p'));
    p2p.on('active', (active) => {
      // LJM `_onIceConnectionEstablished` / `_stopP2PSession`: swap the peer's tracks, suspend or resume the bridge.
      void this.#session?.setMediaTransferActive(!active).catch((err: unknown) => console.warn('bridge media suspend/resume failed', err));
      for (const id of this.#participants.keys()) this.#refreshTracks(id);
      this.emit('p2p', { active });
      this.emit('mediaState', this.mediaState);
    });
    p2p.on('connectionState', () => {
      if (p2p.active) this.emit('mediaState', this.mediaState);
    });
    return p2p;
  }

  /** The connection dropped after we joined: close the media, tell the UI, and get back in. */
  #onConnectionLost(error: Error): void {
    console.warn('XMPP connection lost; reconnecting', error);
    this.#reconnecting = true;
    this.#joined = false;
    this.#formerIds.add(this.#endpointId);
    this.#p2p.close();
    this.#closeSession();
    this.emit('connection', { state: 'reconnecting', attempt: 0 });
    void this.#reconnect();
  }

  /** Reconnect attempts with backoff (1, 2, 4 … 30 s; at once when the browser says it is online again). */
  async #reconnect(): Promise<void> {
    for (let attempt = 1, delayMs = 1000; !this.#left; attempt++, delayMs = Math.min(delayMs * 2, RECONNECT_MAX_DELAY_MS)) {
      try {
        const conn = await Conference.#connect(this.#options);
        if (this.#left) {
          conn.close();
          return;
        }
        this.#attach(conn);
        await this.#requestConference(this.#options, false);
        this.#seenOnRejoin = new Set();
        await this.#joinRoom();
        // Whoever was not in the room when we came back has left meanwhile.
        for (const id of [...this.#participants.keys()]) {
          if (this.#seenOnRejoin.has(id)) continue;
          this.#participants.delete(id);
          this.emit('participantLeft', { id });
        }
        this.#seenOnRejoin = undefined;
        this.#reconnecting = false;
        this.emit('connection', { state: 'connected', attempt, transport: conn.transport });
        this.#p2p.update();
        return;
      } catch (err) {
        this.#seenOnRejoin = undefined;
        this.#joined = false;
        if (this.#left) return;
        console.warn(`reconnect attempt ${attempt} failed`, err);
        this.#conn.close();
        this.emit('connection', { state: 'reconnecting', attempt, retryAt: Date.now() + delayMs });
        await new Promise<void>((resolve) => {
          const done = (): void => {
            window.clearTimeout(timer);
            window.removeEventListener('online', done);
            resolve();
          };
          const timer = window.setTimeout(done, delayMs);
          window.addEventListener('online', done);
        });
      }
    }
  }
}

/** The conference IQ (§3.1), with the login session id when we have one (secure domain). */
function conferenceRequest(focus: string, roomJid: string, machineUid: string, sessionId: string | undefined): Element {
  return xml(
    'iq',
    { type: 'set', to: focus },
    xml(
      'conference',
      { xmlns: NS_FOCUS, room: roomJid, 'machine-uid': machineUid, ...(sessionId !== undefined ? { 'session-id': sessionId } : {}) },
      xml('property', { name: 'rtcstatsEnabled', value: 'false' }),
    ),
  );
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

