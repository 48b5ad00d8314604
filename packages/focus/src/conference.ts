/**
 * One conference (one MUC room) as the focus runs it (Jicofo `JitsiMeetConferenceImpl`):
 *
 * - joins the room as occupant `focus` over the focus's XMPP session and publishes the focus presence (§3.5);
 * - watches occupants through its own MUC presence stream (as an out-of-process focus would) and applies the
 *   moderator policy with muc#admin IQs (§3.1 auto-owner); sends each joiner a disco#info (§3.4.2) whose answer
 *   shapes its offer;
 * - once `minParticipants` participants are in, allocates a bridge endpoint per participant and sends it a
 *   Jingle `session-initiate` from `room/focus` (§4.3–4.5);
 * - handles session-accept, source-add/-remove, transport-info, session-info and session-terminate (restart)
 *   (§4.6–4.9), forwarding sources to the others (simulcast stripped, owner added) and keeping the bridge in sync;
 * - on leave expires the endpoint, forgets its sources and tells the others with source-remove (config
 *   `sourceRemoveOnLeave`; Jicofo tells only SSRC-rewriting receivers);
 *   when the room empties, expires the bridge conference and leaves;
 * - ends the session of a participant left alone after `singleParticipantTimeoutMs` (§3.1);
 * - handles moderators' mute IQs (§3.5): the target is told, audio/video is force-muted at the bridge.
 *
 * Every client request is answered: a result, or a typed stanza error (PROTOCOL §9f: silence hangs clients).
 * All state changes for a room happen synchronously on one stanza at a time (the focus serialises delivery), and
 * the in-process bridge answers synchronously, so Jingle and Colibri steps never interleave.
 *
 * References: PROTOCOL.md §3.1, §3.3, §3.5, §4, Appendix A; Jicofo `JitsiMeetConferenceImpl.java`, `Participant.kt`,
 * `ParticipantInviteRunnable.java`, `ChatRoomRoleManager.kt`.
 */
import { randomUUID } from 'node:crypto';
import type { ConferenceModify, EndpointModify } from '@jitsi-one/bridge';
import {
  type Affiliation,
  type Element,
  errorReply,
  Jid,
  NS_DISCO_INFO,
  NS_MUC,
  NS_MUC_ADMIN,
  NS_MUC_USER,
  type Role,
  StanzaError,
  xml,
} from '@jitsi-one/xmpp';
import type { Logger } from 'pino';
import type { ParticipantIdentity } from './authority.js';
import { type ColibriApi, clientTransport, feedbackFrom, mediasFromOffer, toMediaSources } from './colibri.js';
import type { FocusConfig } from './config.js';
import { JingleParseError } from './jingle/errors.js';
import { NS_JINGLE, NS_JITSI_FOCUS, NS_JITSI_MEET } from './jingle/ns.js';
import { buildOffer, buildSourceUpdate, type FeedbackSources, FEATURE_URIS, featuresFromDisco } from './jingle/offer.js';
import { JingleSession, type QueuedSourceUpdate, unknownSession } from './jingle/session.js';
import type { Jingle, Reason } from './jingle/types.js';
import { expandJsonSources, parseJingle, serializeJingle } from './jingle/xml.js';
import { Participant } from './participant.js';
import { ConferenceSourceMap, type EndpointSourceSet, SourceError, sourceSetFromJingle } from './sources.js';

/** The focus's occupant nick in every room. */
export const FOCUS_NICK = 'focus';

/** How long the focus waits for a client's ack of a Jingle IQ it sent (LJM acks synchronously). */
export const JINGLE_ACK_TIMEOUT_MS = 15_000;

/** How long the focus waits for a participant's answer to its disco#info query (Jicofo: 5 s). */
export const DISCO_TIMEOUT_MS = 5_000;

/**
 * How long an invite waits for a still unanswered disco#info before offering with what LJM always advertises
 * (PROTOCOL §3.4.2). Kept short so an unanswering client does not hold up its media; a later answer is used for
 * later offers (restart, re-invite).
 */
export const DISCO_INVITE_WAIT_MS = 1_000;

/** The `<mute>` namespaces of PROTOCOL §3.5 and the media each mutes. */
export const MUTE_NAMESPACES: Readonly<Record<string, 'audio' | 'video' | 'desktop'>> = {
  'http://jitsi.org/jitmeet/audio': 'audio',
  'http://jitsi.org/jitmeet/video': 'video',
  'http://jitsi.org/jitmeet/desktop': 'desktop',
};

/** Reason of the session-terminate sent when the single-participant timeout fires (Jicofo's text). */
export const SINGLE_PARTICIPANT_REASON: Reason = { condition: 'expired', text: 'Idle session timeout' };

/** How the conference talks XMPP: the focus's session (see focus.ts). */
export interface FocusLink {
  /** The focus's real full JID (`focus@auth.<domain>/focus`). */
  readonly jid: Jid;
  /** Send a stanza from the focus session. */
  send(stanza: Element): void;
  /** Send an IQ get/set and wait for its result (rejects with a StanzaError on error or timeout). */
  request(iq: Element, timeoutMs?: number): Promise<Element>;
}

export interface ConferenceOptions {
  /** Bare room JID, exactly as the client sent it. */
  room: Jid;
  link: FocusLink;
  colibri: ColibriApi | undefined;
  config: FocusConfig;
  log: Logger;
  /** Version published in the focus presence. */
  version?: string;
  /** Called once when the conference has ended (room empty, focus removed, or stopped). */
  onEnded: (conference: Conference) => void;
  /**
   * Secure auth modes: who a participant (real JID) is. With it, moderator policy `first` makes every authenticated
   * participant owner and no guest (Jicofo's AuthenticationRoleManager); a token's moderator flag decides for its
   * holder. See authority.ts.
   */
  identify?: ((realJid: string) => ParticipantIdentity | undefined) | undefined;
  /** Override {@link DISCO_TIMEOUT_MS} (tests). */
  discoTimeoutMs?: number;
  /** Override {@link DISCO_INVITE_WAIT_MS} (tests). */
  discoInviteWaitMs?: number;
}

type ConferenceState = 'joining' | 'running' | 'ended';

export class Conference {
  /** Bare room JID. */
  readonly room: string;
  /** `room@muc/focus`. */
  readonly focusOccupantJid: string;
  readonly log: Logger;
  /** Participants (the focus excluded) by nick, in join order. */
  readonly participants = new Map<string, Participant>();
  /** Every participant's validated sources. */
  readonly sources = new ConferenceSourceMap();
  /** Colibri2 meeting id (the room's `muc#roominfo_meetingId`), known once joined. */
  meetingId: string | undefined;
  readonly createdMs = Date.now();
  readonly #link: FocusLink;
  readonly #colibri: ColibriApi | undefined;
  readonly #config: FocusConfig;
  readonly #version: string;
  readonly #onEnded: (conference: Conference) => void;
  readonly #identify: ((realJid: string) => ParticipantIdentity | undefined) | undefined;
  #state: ConferenceState = 'joining';
  #joinWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #bridgeConference = false;
  #feedback: FeedbackSources | undefined;
  #joinCounter = 0;
  /** Nicks an owner grant is outstanding for. */
  readonly #granting = new Set<string>();
  readonly #discoTimeoutMs: number;
  readonly #discoInviteWaitMs: number;
  /** The single-participant timer (§3.1), running while one participant with a session is alone. */
  #singleTimer: NodeJS.Timeout | undefined;

  constructor(options: ConferenceOptions) {
    this.room = options.room.bare;
    this.focusOccupantJid = `${this.room}/${FOCUS_NICK}`;
    this.#link = options.link;
    this.#colibri = options.colibri;
    this.#config = options.config;
    this.#version = options.version ?? '0.1.0';
    this.#onEnded = options.onEnded;
    this.#identify = options.identify;
    this.#discoTimeoutMs = options.discoTimeoutMs ?? DISCO_TIMEOUT_MS;
    this.#discoInviteWaitMs = options.discoInviteWaitMs ?? DISCO_INVITE_WAIT_MS;
    this.log = options.log.child({ room: this.room });
  }

  get state(): ConferenceState {
    return this.#state;
  }

  get ended(): boolean {
    return this.#state === 'ended';
  }

  /** Whether the bridge conference has been created (and not expired). */
  get hasBridgeConference(): boolean {
    return this.#bridgeConference;
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /**
   * Join the room as `focus` (creating it), publish the focus presence and learn the meeting id. Resolves once the
   * focus is an occupant. @throws StanzaError when the MUC refuses the join (or times out).
   */
  async start(timeoutMs = 10_000): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StanzaError('remote-server-timeout', { text: 'room join timed out' })), timeoutMs);
      timer.unref();
      this.#joinWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
    this.#link.send(this.#focusPresence(true));
    try {
      await joined;
    } catch (err) {
      this.#finish();
      throw err;
    }
    this.meetingId = (await this.#queryMeetingId()) ?? randomUUID();
    if (this.#state === 'joining') this.#state = 'running';
    // Participants that joined while we were learning the meeting id.
    this.#maybeInvite();
  }

  /**
   * End the conference: tell every participant with a session (`session-terminate`), expire the bridge conference
   * and leave the room. Idempotent.
   */
  stop(reason: Reason = { condition: 'success', text: 'Conference ended' }): void {
    if (this.#state === 'ended') return;
    for (const p of this.participants.values()) {
      const s = p.session;
      if (!s || s.ended) continue;
      this.#sendJingle(p, { action: 'session-terminate', sid: s.sid, contents: [], reason });
      s.end();
    }
    this.#endConference();
  }

  // ------------------------------------------------------------------------------------------------ presence

  /** A presence from this room (delivered to the focus session). */
  handlePresence(stanza: Element): void {
    const from = Jid.tryParse(stanza.attrs.from);
    if (!from || from.bare !== this.room || this.#state === 'ended') return;
    const nick = from.resource;
    const type = stanza.attrs.type as string | undefined;
    if (nick === FOCUS_NICK) return this.#ownPresence(stanza, type);
    if (type === 'unavailable') return this.#participantLeft(nick);
    if (type !== undefined) return;
    const item = stanza.getChildren('x').find((x) => x.attrs.xmlns === NS_MUC_USER)?.getChild('item');
    let p = this.participants.get(nick);
    const isNew = !p;
    if (!p) {
      p = new Participant(nick, from.full, this.#joinCounter++);
      this.participants.set(nick, p);
    }
    if (item) {
      if (typeof item.attrs.jid === 'string') p.realJid = item.attrs.jid;
      if (typeof item.attrs.role === 'string') p.role = item.attrs.role as Role;
      if (typeof item.attrs.affiliation === 'string') p.affiliation = item.attrs.affiliation as Affiliation;
    }
    if (p.affiliation === 'owner') this.#granting.delete(nick);
    const statsId = stanza.getChildText('stats-id');
    if (statsId) p.statsId = statsId;
    const sourceInfo = stanza.getChild('SourceInfo');
    if (sourceInfo) {
      p.updateSourceInfo(sourceInfo.text());
      this.#followMuteState(p);
    }
    if (isNew) {
      this.log.debug({ nick }, 'participant joined');
      this.#queryFeatures(p);
      this.#electModerators();
      this.#maybeInvite();
      this.#checkSingleParticipant();
    }
  }

  /**
   * disco#info to the occupant (routed through the MUC, §3.1/§3.4.2). The answer shapes its offers; on error or
   * timeout it keeps what LJM always advertises (not Jicofo's audio+video+SCTP-only fallback: every client of this
   * server speaks LJM's protocol, and a merely slow answer should not cost RTX/TCC). Never blocks the conference.
   */
  #queryFeatures(p: Participant): void {
    p.disco = 'pending';
    const iq = xml('iq', { type: 'get', to: p.occupantJid }, xml('query', { xmlns: NS_DISCO_INFO }));
    p.discoSettled = this.#link.request(iq, this.#discoTimeoutMs).then(
      (res) => {
        const vars = (res.getChild('query', NS_DISCO_INFO)?.getChildren('feature') ?? [])
          .map((f) => f.attrs.var)
          .filter((v): v is string => typeof v === 'string');
        if (!vars.includes(FEATURE_URIS.audio) && !vars.includes(FEATURE_URIS.video)) {
          p.disco = 'failed';
          this.log.debug({ nick: p.nick }, 'disco#info without audio or video: keeping the LJM feature set');
          return;
        }
        p.features = featuresFromDisco(vars);
        p.disco = 'done';
      },
      (err: unknown) => {
        p.disco = 'failed';
        this.log.debug({ err, nick: p.nick }, 'disco#info failed: keeping the LJM feature set');
      },
    );
  }

  #ownPresence(stanza: Element, type: string | undefined): void {
    if (type === 'error') {
      const err = StanzaError.fromElement(stanza) ?? new StanzaError('undefined-condition');
      if (this.#joinWaiter) this.#joinWaiter.reject(err);
      this.#joinWaiter = undefined;
      return;
    }
    if (type === 'unavailable') {
      // Kicked, or the room was destroyed under us: nothing left to do in it.
      this.log.info('focus removed from the room');
      this.#joinWaiter?.reject(new StanzaError('service-unavailable', { text: 'focus removed from the room' }));
      this.#joinWaiter = undefined;
      this.#expireEverything();
      this.#finish();
      return;
    }
    const codes = (stanza.getChildren('x').find((x) => x.attrs.xmlns === NS_MUC_USER)?.getChildren('status') ?? []).map(
      (s) => s.attrs.code,
    );
    if (codes.includes('110') && this.#joinWaiter) {
      this.#joinWaiter.resolve();
      this.#joinWaiter = undefined;
    }
  }

  #participantLeft(nick: string): void {
    const p = this.participants.get(nick);
    if (!p) return;
    this.participants.delete(nick);
    this.#granting.delete(nick);
    this.log.debug({ nick }, 'participant left');
    this.#endSession(p, { signalRemove: this.#config.sourceRemoveOnLeave });
    if (this.participants.size === 0) {
      this.#endConference();
      return;
    }
    this.#electModerators();
    this.#checkSingleParticipant();
  }

  // ------------------------------------------------------------------------------------------------ single participant

  /** The single participant with a live session, if it is alone in the room. */
  #loneSessionHolder(): Participant | undefined {
    if (this.participants.size !== 1 || this.#state !== 'running') return undefined;
    const [p] = this.participants.values();
    return p?.session && !p.session.ended ? p : undefined;
  }

  /** Start the single-participant timer when one participant with a session is alone; stop it otherwise. */
  #checkSingleParticipant(): void {
    const alone = this.#loneSessionHolder();
    const timeoutMs = this.#config.singleParticipantTimeoutMs;
    if (!alone || timeoutMs === 0) {
      if (this.#singleTimer) clearTimeout(this.#singleTimer);
      this.#singleTimer = undefined;
      return;
    }
    if (this.#singleTimer) return;
    this.#singleTimer = setTimeout(() => {
      this.#singleTimer = undefined;
      this.#onSingleParticipantTimeout();
    }, timeoutMs);
    this.#singleTimer.unref();
  }

  /** Jicofo's single-participant timeout: terminate the lone session and expire the bridge conference. */
  #onSingleParticipantTimeout(): void {
    const p = this.#loneSessionHolder();
    const s = p?.session;
    if (!p || !s) return;
    this.log.info({ nick: p.nick }, 'single participant timeout: ending its session');
    this.#sendJingle(p, { action: 'session-terminate', sid: s.sid, contents: [], reason: { ...SINGLE_PARTICIPANT_REASON } });
    this.#endSession(p, { signalRemove: false });
    this.#expireBridgeConference();
  }

  // ------------------------------------------------------------------------------------------------ mute

  /**
   * A mute request (§3.5): moderators may mute anyone, anyone may mute or unmute itself, nobody unmutes another.
   * The target is told (from room/focus, routed through the MUC to its real JID) after the requester's result.
   * Bridge: audio/video mutes also force-mute that media on the target's endpoint until the target's SourceInfo
   * shows it muted and then unmuted again (it unmuted itself), or it unmutes itself by IQ. Desktop mutes only tell
   * the client (Colibri2 force-mute is per media type: force-muting video would also stop its camera).
   */
  #onMute(actor: Participant, stanza: Element, mute: Element, media: 'audio' | 'video' | 'desktop'): undefined {
    if (stanza.attrs.type !== 'set') throw new StanzaError('bad-request', { text: 'mute must be an IQ set' });
    const jidAttr = mute.attrs.jid;
    if (typeof jidAttr !== 'string' || jidAttr === '') throw new StanzaError('bad-request', { text: 'mute without jid' });
    const value = mute.text().trim();
    if (value !== 'true' && value !== 'false') throw new StanzaError('bad-request', { text: 'mute must be true or false' });
    const target = Jid.tryParse(jidAttr);
    if (!target || target.bare !== this.room || !target.resource) {
      throw new StanzaError('bad-request', { text: 'mute jid must be an occupant JID of this room' });
    }
    const doMute = value === 'true';
    const self = target.resource === actor.nick;
    if (!self && !doMute) throw new StanzaError('not-allowed', { text: 'only the participant itself may unmute' });
    if (!self && !actor.isModerator) throw new StanzaError('not-allowed', { text: 'only moderators may mute others' });
    const t = this.participants.get(target.resource);
    if (!t) throw new StanzaError('item-not-found', { text: 'no such participant' });
    this.log.info({ actor: actor.nick, target: t.nick, media, mute: doMute }, 'mute request');
    if (media !== 'desktop') {
      if (doMute) {
        t.forceMute[media] = t.mediaMuted[media] === true ? 'muted' : 'pending';
        this.#applyForceMute(t, media, true);
      } else if (t.forceMute[media]) {
        delete t.forceMute[media];
        this.#applyForceMute(t, media, false);
      }
    }
    if (doMute) {
      // After the result (handleIq sends it when we return).
      queueMicrotask(() => {
        if (this.participants.get(t.nick) !== t || this.ended) return;
        this.#link.send(
          xml(
            'iq',
            { type: 'set', to: t.occupantJid, id: `mute-${randomUUID()}` },
            xml('mute', { xmlns: mute.attrs.xmlns as string, actor: `${this.room}/${actor.nick}` }, 'true'),
          ),
        );
      });
    }
    return undefined;
  }

  /** Follow a participant's SourceInfo to lift a moderator's force-mute once it unmutes itself. */
  #followMuteState(p: Participant): void {
    for (const media of ['audio', 'video'] as const) {
      const st = p.forceMute[media];
      if (st === 'pending' && p.mediaMuted[media] === true) p.forceMute[media] = 'muted';
      else if (st === 'muted' && p.mediaMuted[media] === false) {
        delete p.forceMute[media];
        this.log.debug({ nick: p.nick, media }, 'participant unmuted itself: lifting the bridge force-mute');
        this.#applyForceMute(p, media, false);
      }
    }
  }

  #applyForceMute(p: Participant, media: 'audio' | 'video', on: boolean): void {
    const colibri = this.#colibri;
    if (!colibri || this.meetingId === undefined || !p.hasEndpoint) return; // applied when its endpoint is created
    try {
      colibri.conferenceModify({ meetingId: this.meetingId, endpoints: [{ id: p.nick, forceMute: { [media]: on } }] });
    } catch (err) {
      this.log.warn({ err, nick: p.nick, media }, 'bridge force-mute failed');
    }
  }

  // ------------------------------------------------------------------------------------------------ moderators

  /** Re-apply the moderator policy (a participant may have authenticated since it joined). */
  refreshModerators(): void {
    if (this.#state === 'running') this.#electModerators();
  }

  /** Apply the moderator policy (PROTOCOL §3.1 auto-owner; with `identify`, PROTOCOL-FEATURES §3.3). */
  #electModerators(): void {
    const policy = this.#config.moderatorPolicy;
    if (policy === 'nobody') return;
    const candidates = [...this.participants.values()].filter((p) => p.realJid !== undefined);
    const identify = this.#identify;
    if (identify && policy === 'first') {
      // Jicofo's AuthenticationRoleManager: authenticated participants are owners, guests are not.
      for (const p of candidates) {
        if (p.affiliation === 'owner' || this.#granting.has(p.nick)) continue;
        const id = identify(p.realJid as string);
        if (id && (id.moderator ?? id.authenticated)) this.#grantOwner(p);
      }
      return;
    }
    if (policy === 'everybody') {
      for (const p of candidates) if (p.affiliation !== 'owner' && !this.#granting.has(p.nick)) this.#grantOwner(p);
      return;
    }
    const hasOwner = candidates.some((p) => p.affiliation === 'owner' || this.#granting.has(p.nick));
    if (hasOwner) return;
    const first = candidates.sort((a, b) => a.joinIndex - b.joinIndex)[0];
    if (first) this.#grantOwner(first);
  }

  #grantOwner(p: Participant): void {
    const real = p.realJid === undefined ? undefined : Jid.tryParse(p.realJid);
    if (!real) return;
    this.#granting.add(p.nick);
    const iq = xml(
      'iq',
      { type: 'set', to: this.room },
      xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { affiliation: 'owner', jid: real.bare })),
    );
    this.#link.request(iq).then(
      () => undefined,
      (err: unknown) => {
        this.#granting.delete(p.nick);
        this.log.warn({ err, nick: p.nick }, 'granting owner failed');
      },
    );
  }

  // ------------------------------------------------------------------------------------------------ invites

  /** Invite every participant without a session, once there are enough of them (Jicofo min-participants). */
  #maybeInvite(): void {
    if (this.#state !== 'running' || !this.#colibri) return;
    if (this.participants.size < this.#config.minParticipants) return;
    for (const p of this.participants.values()) if (!p.session || p.session.ended) this.#inviteWhenReady(p);
  }

  /** Invite once the participant's disco#info has answered (or after {@link DISCO_INVITE_WAIT_MS}). */
  #inviteWhenReady(p: Participant): void {
    if (p.disco !== 'pending') {
      this.#invite(p);
      return;
    }
    if (p.inviting) return;
    p.inviting = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#discoInviteWaitMs);
      timer.unref();
    });
    void Promise.race([p.discoSettled, grace]).then(() => {
      clearTimeout(timer);
      p.inviting = false;
      if (this.participants.get(p.nick) !== p || this.#state !== 'running') return;
      if (p.session && !p.session.ended) return;
      if (this.participants.size < this.#config.minParticipants) return;
      this.#invite(p);
    });
  }

  /** Allocate the participant's bridge endpoint and send it a session-initiate. */
  #invite(p: Participant): void {
    const colibri = this.#colibri;
    const meetingId = this.meetingId;
    if (!colibri || meetingId === undefined) return;
    const session = new JingleSession();
    // The codecs and header extensions the offer will contain are what the bridge endpoint negotiates.
    const skeleton = buildOffer({
      sid: session.sid,
      bridgeTransport: { ufrag: '', pwd: '', fingerprints: [], candidates: [] },
      bridgeSessionId: session.bridgeSessionId,
      features: p.features,
    });
    const endpoint: EndpointModify = {
      id: p.nick,
      create: true,
      medias: mediasFromOffer(skeleton),
      transport: { iceControlling: true },
      capabilities: ['source-names'],
      ...(p.statsId !== undefined ? { statsId: p.statsId } : {}),
      ...(p.forceMute.audio || p.forceMute.video
        ? { forceMute: { audio: p.forceMute.audio !== undefined, video: p.forceMute.video !== undefined } }
        : {}),
    };
    const req: ConferenceModify = { meetingId, name: this.room, endpoints: [endpoint] };
    if (!this.#bridgeConference) req.create = true;
    let transport;
    try {
      if (p.hasEndpoint) colibri.conferenceModify({ meetingId, endpoints: [{ id: p.nick, expire: true }] });
      const reply = colibri.conferenceModify(req);
      this.#bridgeConference = true;
      p.hasEndpoint = true;
      this.#feedback = feedbackFrom(reply.sources) ?? this.#feedback;
      transport = reply.endpoints.find((e) => e.id === p.nick)?.transport;
    } catch (err) {
      this.log.error({ err, nick: p.nick }, 'bridge allocation failed');
      return;
    }
    if (!transport) {
      this.log.error({ nick: p.nick }, 'bridge reply without transport');
      return;
    }
    const offer = buildOffer({
      sid: session.sid,
      initiator: this.#link.jid.full,
      bridgeTransport: {
        ufrag: transport.ufrag,
        pwd: transport.pwd,
        fingerprints: transport.fingerprints,
        candidates: transport.candidates,
        ...(transport.webSocketUrl !== undefined ? { webSocketUrl: transport.webSocketUrl } : {}),
      },
      bridgeSessionId: session.bridgeSessionId,
      ...(this.#feedback ? { feedbackSources: this.#feedback } : {}),
      remoteSources: this.sources.toMap({ exclude: [p.nick] }),
      features: p.features,
    });
    p.session = session;
    this.#checkSingleParticipant();
    this.log.debug({ nick: p.nick, sid: session.sid }, 'sending session-initiate');
    this.#link.request(this.#jingleIq(p, offer), JINGLE_ACK_TIMEOUT_MS).then(
      () => undefined,
      (err: unknown) => {
        // The client refused the offer (or never acked it): drop the session and its endpoint.
        if (p.session !== session || session.ended || this.participants.get(p.nick) !== p) return;
        this.log.warn({ err, nick: p.nick }, 'session-initiate not acknowledged');
        this.#endSession(p, { signalRemove: true });
      },
    );
  }

  // ------------------------------------------------------------------------------------------------ Jingle in

  /**
   * An IQ get/set from an occupant of this room to the focus (routed through the MUC: `from` = room/nick).
   * Always answered (result or typed error).
   */
  handleIq(stanza: Element): void {
    try {
      const result = this.#handleIq(stanza);
      this.#link.send(
        xml('iq', { type: 'result', id: stanza.attrs.id, to: stanza.attrs.from }, ...(result ? [result] : [])),
      );
    } catch (err) {
      this.#link.send(errorReply(stanza, toStanzaError(err, this.log)));
    }
  }

  #handleIq(stanza: Element): Element | undefined {
    const from = Jid.tryParse(stanza.attrs.from);
    const p = from?.resource ? this.participants.get(from.resource) : undefined;
    if (!p || this.#state === 'ended') {
      throw new StanzaError('not-acceptable', { text: 'Only participants of the conference may talk to the focus' });
    }
    const jingleEl = stanza.getChild('jingle', NS_JINGLE);
    const mute = jingleEl ? undefined : stanza.getChildren('mute').find((m) => MUTE_NAMESPACES[m.attrs.xmlns as string]);
    const muteMedia = mute ? MUTE_NAMESPACES[mute.attrs.xmlns as string] : undefined;
    if (mute && muteMedia) return this.#onMute(p, stanza, mute, muteMedia);
    if (!jingleEl) {
      if (stanza.attrs.type === 'get' && stanza.getChild('query', NS_DISCO_INFO)) return this.#discoInfo();
      throw new StanzaError('feature-not-implemented');
    }
    if (stanza.attrs.type !== 'set') throw new StanzaError('bad-request', { text: 'Jingle must be an IQ set' });
    const j = parseJingle(stanza);
    const session = p.session;
    if (!session) throw unknownSession('no Jingle session with this participant');
    session.check(j);
    switch (j.action) {
      case 'session-accept':
        this.#onSessionAccept(p, session, j);
        return undefined;
      case 'source-add':
        this.#onSourceAdd(p, session, j);
        return undefined;
      case 'source-remove':
        this.#onSourceRemove(p, session, j);
        return undefined;
      case 'transport-info':
        // Bridge candidates were all in the offer; the client never trickles to the focus (§4.8).
        return undefined;
      case 'session-info':
        if (j.bridgeSession?.iceRestart === true) {
          throw new StanzaError('feature-not-implemented', { text: 'in-place ICE restart is not supported' });
        }
        return undefined;
      case 'session-terminate':
        this.#onSessionTerminate(p, session, j);
        return undefined;
      default:
        throw new StanzaError('feature-not-implemented', { text: `Jingle action '${j.action}' is not handled by the focus` });
    }
  }

  #discoInfo(): Element {
    return xml(
      'query',
      { xmlns: NS_DISCO_INFO },
      xml('identity', { category: 'client', type: 'focus', name: 'Jitsi focus' }),
      xml('feature', { var: NS_DISCO_INFO }),
      xml('feature', { var: 'urn:xmpp:jingle:1' }),
      xml('feature', { var: 'http://jitsi.org/protocol/focus' }),
    );
  }

  /** The sources a client announced in a session-accept, source-add or source-remove. */
  #announced(j: Jingle): EndpointSourceSet {
    const contents = j.jsonSources ? [...j.contents, ...expandJsonSources(j.jsonSources)] : j.contents;
    return sourceSetFromJingle(contents);
  }

  #onSessionAccept(p: Participant, session: JingleSession, j: Jingle): void {
    if (session.state !== 'pending') session.accept(); // not pending: throws unexpected-request/out-of-order
    const transport = clientTransport(j.contents);
    if (!transport) {
      throw new StanzaError('bad-request', { text: 'session-accept without ICE ufrag/pwd and DTLS fingerprint' });
    }
    const announced = this.#announced(j);
    const accepted = this.sources.add(p.nick, announced);
    try {
      this.#bridgeUpdate(p, { transport: { iceUdp: transport } });
    } catch (err) {
      this.sources.remove(p.nick, accepted);
      throw err;
    }
    const queued = session.accept();
    this.log.debug({ nick: p.nick, sources: accepted.sources.length }, 'session accepted');
    // The result goes out first (handleIq sends it after we return); defer the signalling behind it.
    queueMicrotask(() => {
      this.#signal('source-add', p.nick, accepted);
      for (const q of queued) this.#sendUpdate(p, q);
    });
  }

  #onSourceAdd(p: Participant, session: JingleSession, j: Jingle): void {
    if (!session.active) throw new StanzaError('unexpected-request', { text: 'source-add before session-accept' });
    const accepted = this.sources.add(p.nick, this.#announced(j));
    try {
      this.#bridgeUpdate(p, {});
    } catch (err) {
      this.sources.remove(p.nick, accepted);
      throw err;
    }
    queueMicrotask(() => this.#signal('source-add', p.nick, accepted));
  }

  #onSourceRemove(p: Participant, session: JingleSession, j: Jingle): void {
    if (!session.active) throw new StanzaError('unexpected-request', { text: 'source-remove before session-accept' });
    const removed = this.sources.remove(p.nick, this.#announced(j));
    try {
      this.#bridgeUpdate(p, {});
    } catch (err) {
      this.sources.add(p.nick, removed);
      throw err;
    }
    queueMicrotask(() => this.#signal('source-remove', p.nick, removed));
  }

  #onSessionTerminate(p: Participant, session: JingleSession, j: Jingle): void {
    const restart = j.bridgeSession?.restart === true;
    if (restart && j.bridgeSession?.id !== session.bridgeSessionId) {
      throw new StanzaError('item-not-found', { text: 'unknown bridge session' });
    }
    this.log.info({ nick: p.nick, restart, reason: j.reason?.condition }, 'session terminated by the participant');
    this.#endSession(p, { signalRemove: true });
    // Re-invite after the result has gone out (§4.8: new sid, new bridge allocation).
    if (restart) queueMicrotask(() => {
      if (this.participants.get(p.nick) === p && !this.ended) this.#invite(p);
    });
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** Give the bridge the participant's complete source set (and optionally its transport). */
  #bridgeUpdate(p: Participant, extra: Pick<EndpointModify, 'transport'>): void {
    const colibri = this.#colibri;
    const meetingId = this.meetingId;
    if (!colibri || meetingId === undefined || !p.hasEndpoint) {
      throw new StanzaError('unexpected-request', { text: 'no bridge endpoint for this participant' });
    }
    const set = this.sources.get(p.nick) ?? { sources: [], groups: [] };
    colibri.conferenceModify({
      meetingId,
      endpoints: [{ id: p.nick, ...extra, sources: toMediaSources(p.nick, set) }],
    });
  }

  /** Send a source change of `owner` to every other participant with a session (queued while theirs is pending). */
  #signal(action: 'source-add' | 'source-remove', owner: string, sources: EndpointSourceSet): void {
    if (sources.sources.length === 0 || this.ended) return;
    for (const q of this.participants.values()) {
      if (q.nick === owner) continue;
      const s = q.session;
      if (!s || s.ended) continue;
      const update: QueuedSourceUpdate = { action, owner, sources };
      if (s.active) this.#sendUpdate(q, update);
      else s.enqueue(update);
    }
  }

  #sendUpdate(to: Participant, update: QueuedSourceUpdate): void {
    const s = to.session;
    if (!s || !s.active) return;
    const j = buildSourceUpdate(update.action, s.sid, new Map([[update.owner, update.sources]]));
    this.#sendJingle(to, j);
  }

  #jingleIq(to: Participant, j: Jingle): Element {
    return xml('iq', { type: 'set', to: to.occupantJid }, serializeJingle(j));
  }

  /** Fire-and-log a Jingle IQ to a participant. */
  #sendJingle(to: Participant, j: Jingle): void {
    this.#link.request(this.#jingleIq(to, j), JINGLE_ACK_TIMEOUT_MS).then(
      () => undefined,
      (err: unknown) => this.log.debug({ err, nick: to.nick, action: j.action }, 'Jingle IQ not acknowledged'),
    );
  }

  /**
   * End a participant's session: expire its endpoint and drop its sources. `signalRemove`: tell the others with
   * source-remove (session restart/terminate, and leave unless `sourceRemoveOnLeave` is off); otherwise only
   * SSRC-rewriting receivers are told (§3.1, §4.7).
   */
  #endSession(p: Participant, { signalRemove }: { signalRemove: boolean }): void {
    p.session?.end();
    p.session = undefined;
    if (p.hasEndpoint && this.#colibri && this.meetingId !== undefined && this.#bridgeConference) {
      try {
        this.#colibri.conferenceModify({ meetingId: this.meetingId, endpoints: [{ id: p.nick, expire: true }] });
      } catch (err) {
        this.log.warn({ err, nick: p.nick }, 'expiring the endpoint failed');
      }
    }
    p.hasEndpoint = false;
    const removed = this.sources.removeEndpoint(p.nick);
    for (const q of this.participants.values()) q.session?.forgetOwner(p.nick);
    if (!removed || removed.sources.length === 0) return;
    for (const q of this.participants.values()) {
      if (q === p || !q.session?.active) continue;
      if (signalRemove || q.features.ssrcRewriting) this.#sendUpdate(q, { action: 'source-remove', owner: p.nick, sources: removed });
    }
  }

  #expireEverything(): void {
    for (const p of this.participants.values()) {
      p.session?.end();
      p.session = undefined;
      p.hasEndpoint = false;
    }
    this.#expireBridgeConference();
  }

  #expireBridgeConference(): void {
    if (this.#bridgeConference && this.#colibri && this.meetingId !== undefined) {
      try {
        this.#colibri.conferenceModify({ meetingId: this.meetingId, expire: true });
      } catch (err) {
        // The bridge drops a conference by itself when its last endpoint expires: already gone is success.
        if ((err as { code?: unknown }).code !== 'conference_not_found') this.log.warn({ err }, 'expiring the bridge conference failed');
      }
    }
    this.#bridgeConference = false;
  }

  /** Room empty (or stop): expire the bridge conference, leave the room, forget everything. */
  #endConference(): void {
    if (this.#state === 'ended') return;
    this.#expireEverything();
    this.#link.send(xml('presence', { to: this.focusOccupantJid, type: 'unavailable' }));
    this.#finish();
  }

  #finish(): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    if (this.#singleTimer) clearTimeout(this.#singleTimer);
    this.#singleTimer = undefined;
    this.participants.clear();
    this.log.info('conference ended');
    this.#onEnded(this);
  }

  /** The focus presence (§3.5): owner item comes from the MUC; we add versions and conference-properties. */
  #focusPresence(join: boolean): Element {
    return xml(
      'presence',
      { to: this.focusOccupantJid },
      join ? xml('x', { xmlns: NS_MUC }) : undefined,
      xml('versions', { xmlns: NS_JITSI_MEET }, xml('component', { name: 'focus' }, this.#version)),
      xml(
        'conference-properties',
        { xmlns: NS_JITSI_FOCUS },
        xml('property', { key: 'support-terminate-restart', value: 'true' }),
        xml('property', { key: 'created-ms', value: String(this.createdMs) }),
      ),
    );
  }

  /** `muc#roominfo_meetingId` from the room's disco#info (§3.3.8), as Jicofo reads it. */
  async #queryMeetingId(): Promise<string | undefined> {
    try {
      const res = await this.#link.request(xml('iq', { type: 'get', to: this.room }, xml('query', { xmlns: NS_DISCO_INFO })));
      const form = res.getChild('query', NS_DISCO_INFO)?.getChild('x', 'jabber:x:data');
      const field = form?.getChildren('field').find((f) => f.attrs.var === 'muc#roominfo_meetingId');
      const value = field?.getChildText('value');
      return value ? value : undefined;
    } catch (err) {
      this.log.warn({ err }, 'room disco#info failed; using a fresh meeting id');
      return undefined;
    }
  }
}

/** Any failure → the stanza error to answer with (STYLE §3.7: translated at the IQ boundary). */
export function toStanzaError(err: unknown, log: Logger): StanzaError {
  if (err instanceof StanzaError) return err;
  if (err instanceof JingleParseError || err instanceof SourceError) return err.toStanzaError();
  const condition = (err as { condition?: unknown }).condition;
  if (typeof condition === 'string' && err instanceof Error) {
    // Colibri errors carry a stanza condition (bad-request, conflict, item-not-found, …).
    return new StanzaError(condition as 'bad-request', { text: err.message });
  }
  log.error({ err }, 'focus request failed');
  return new StanzaError('internal-server-error');
}
