/**
 * When to be peer to peer, as lib-jitsi-meet decides it (`JitsiConference._maybeStartOrStopP2P`,
 * `_onIncomingCallP2P`, `_onIceConnectionEstablished`, `_stopP2PSession`; PROTOCOL §8):
 *
 * - P2P is wanted while P2P is enabled (`config.p2p.enabled`, default on) and exactly one other participant is in
 *   the room. It is re-evaluated on every join and leave ({@link P2P.update}).
 * - The participant whose endpoint id is smaller (string `<`) starts the session; the other waits for its
 *   `session-initiate`. After someone left, the start waits `p2p.backToP2PDelay` (LJM: 5 s) so a quick rejoin does
 *   not bounce the call.
 * - An incoming offer is declined when P2P is off or its first content is not named `0`/`1` (`decline`, "P2P
 *   disabled"), when a session exists (`busy`, "P2P already in progress"), or when P2P is not wanted now
 *   (`decline`, "P2P requirements not met").
 * - When the session's ICE/DTLS connects, media switches to it: the Conference shows the peer's P2P tracks and
 *   suspends its bridge media (`active` event). The bridge session stays up.
 * - When P2P is no longer wanted (a third joined) the session ends with `success` "Turning off P2P session"; when
 *   ICE fails with `connectivity-error` "ICE FAILED"; media moves back to the bridge first. No session-terminate is
 *   sent to a peer that already left or that ended the session itself.
 *
 * References: /work/shared/PROTOCOL.md §8; LJM `JitsiConference.ts`, `modules/xmpp/strophe.jingle.js`
 */
import { type Jingle, type ReasonCondition, serializeJingle } from '@jitsi-one/focus';
import { type Element, xml } from '@jitsi-one/xmpp';
import { Emitter } from '../events.js';
import type { XmppConnection } from '../xmpp/connection.js';
import type { RemoteTrackEvent } from './jvb-session.js';
import { P2PSession } from './p2p-session.js';
import type { MediaKind, RemoteSource } from './sdp.js';

/** `config.p2p` as the client uses it. */
export interface P2POptions {
  enabled: boolean;
  iceServers: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Delay before going back to P2P after a participant left (LJM `backToP2PDelay`, seconds there). */
  backToP2PDelayMs: number;
  /**
   * LJM's `config.testing.forceInitiator` / `forceResponder`: start the session (or wait for the peer's)
   * whatever the endpoint ids say. For interoperability tests.
   */
  force?: 'initiator' | 'responder';
}

/** What the controller needs of the conference. */
export interface P2PHost {
  /** The current XMPP connection (a reconnect replaces it). */
  connection(): XmppConnection;
  /** Our occupant JID and endpoint id (change on reconnect). */
  occupantJid(): string;
  endpointId(): string;
  readonly roomJid: string;
  /** True while we are in the room. */
  joined(): boolean;
  /** Endpoint ids of the other participants (not the focus). */
  participantIds(): string[];
  localTracks(): { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; desktop: MediaStreamTrack | null };
}

interface P2PEvents {
  remoteTrack: RemoteTrackEvent;
  remoteTrackRemoved: { source: RemoteSource };
  /** Media moved to (true) or away from (false) the P2P connection. */
  active: boolean;
  /** State of the P2P connection while a session exists. */
  connectionState: RTCPeerConnectionState;
}

const NS_JINGLE_ERRORS = 'urn:xmpp:jingle:errors:1';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export class P2P extends Emitter<P2PEvents> {
  readonly #host: P2PHost;
  readonly #options: P2POptions;
  #session: P2PSession | undefined;
  #active = false;
  #deferredStart: number | undefined;
  #constraints: Record<string, number> = {};

  constructor(host: P2PHost, options: P2POptions) {
    super();
    this.#host = host;
    this.#options = options;
  }

  /** True while media flows over the P2P connection. */
  get active(): boolean {
    return this.#active;
  }

  /** The current session (connecting or connected). */
  get session(): P2PSession | undefined {
    return this.#session;
  }

  /** Starts or stops P2P as the participant count requires (call on every join and leave). */
  update(userLeft = false): void {
    if (!this.#options.enabled || !this.#host.joined()) return;
    const peers = this.#host.participantIds();
    const wanted = this.#wanted();
    if (!wanted) this.#clearDeferredStart();
    if (this.#session === undefined && wanted) {
      const peer = peers[0] as string;
      const me = this.#host.endpointId();
      const force = this.#options.force;
      // The smaller id starts (equal ids cannot happen: both come from the server), unless testing forces a role.
      if (force === 'responder' || (force === undefined && me >= peer)) return;
      if (userLeft) {
        if (this.#deferredStart !== undefined) return;
        this.#deferredStart = window.setTimeout(() => {
          this.#deferredStart = undefined;
          if (this.#session === undefined && this.#wanted()) this.#start(this.#host.participantIds()[0] as string);
        }, this.#options.backToP2PDelayMs);
      } else {
        this.#start(peer);
      }
    } else if (this.#session !== undefined && !wanted) {
      this.stop();
    }
  }

  /**
   * A Jingle IQ from another participant (not the focus), parsed. Answers it (ack, or `item-not-found` with
   * `unknown-session`, as LJM's `strophe.jingle.js` does) and acts on it.
   */
  onJingle(iq: Element, j: Jingle): void {
    const conn = this.#host.connection();
    const from = String(iq.attrs.from ?? '');
    if (j.action === 'session-initiate') {
      conn.reply(iq);
      this.#onOffer(from, j);
      return;
    }
    const session = this.#session;
    if (session === undefined || session.sid !== j.sid || session.peerJid !== from) {
      conn.send(
        xml(
          'iq',
          { type: 'error', id: iq.attrs.id as string, to: from },
          xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS_STANZAS }), xml('unknown-session', { xmlns: NS_JINGLE_ERRORS })),
        ),
      );
      return;
    }
    conn.reply(iq);
    if (j.action === 'session-terminate') this.stop({ send: false });
    else session.onJingle(j, iq);
  }

  /** Sets what we send of one kind on the P2P connection (camera turned off: null). */
  async setTrack(kind: MediaKind, track: MediaStreamTrack | null): Promise<void> {
    await this.#session?.setTrack(kind, track);
  }

  /** Starts or stops our screen share on the P2P connection. */
  async setDesktopTrack(track: MediaStreamTrack | null): Promise<void> {
    await this.#session?.setDesktopTrack(track);
  }

  /** Heights wanted for the peer's video sources (by source name), sent to the peer as content-modify. */
  setReceiverConstraints(heights: Record<string, number>): void {
    this.#constraints = heights;
    this.#session?.setReceiverConstraints(heights);
  }

  /**
   * Ends the session (LJM `_stopP2PSession`): media back to the bridge first, then session-terminate (unless
   * `send` is false or the peer is gone) and close.
   */
  stop(opts: { condition?: ReasonCondition; text?: string; send?: boolean } = {}): void {
    this.#clearDeferredStart();
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    if (this.#active) {
      this.#active = false;
      this.emit('active', false);
    }
    for (const source of session.remoteSources) this.emit('remoteTrackRemoved', { source });
    const peerPresent = this.#host.participantIds().includes(session.peerId);
    session.terminate(
      { condition: opts.condition ?? 'success', text: opts.text ?? 'Turning off P2P session' },
      (opts.send ?? true) && peerPresent && this.#host.connection().connected,
    );
  }

  /** Closes everything without signalling (leaving the room, connection lost). */
  close(): void {
    this.#clearDeferredStart();
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined) return;
    if (this.#active) {
      this.#active = false;
      this.emit('active', false);
    }
    for (const source of session.remoteSources) this.emit('remoteTrackRemoved', { source });
    session.close();
  }

  // ---------------------------------------------------------------------------------------------- internals

  /** LJM `_shouldBeInP2PMode`: exactly one other participant. */
  #wanted(): boolean {
    return this.#options.enabled && this.#host.joined() && this.#host.participantIds().length === 1;
  }

  #clearDeferredStart(): void {
    window.clearTimeout(this.#deferredStart);
    this.#deferredStart = undefined;
  }

  #start(peerId: string): void {
    this.#clearDeferredStart();
    const session = this.#newSession(randomHex(12), peerId, true);
    session.invite();
  }

  #onOffer(from: string, offer: Jingle): void {
    const peerId = from.slice(from.indexOf('/') + 1);
    const first = offer.contents[0]?.name;
    let reject: { condition: ReasonCondition; text: string } | undefined;
    if (first !== '0' && first !== '1') reject = { condition: 'decline', text: 'P2P disabled' };
    else if (!this.#options.enabled) reject = { condition: 'decline', text: 'P2P disabled' };
    else if (this.#session !== undefined) reject = { condition: 'busy', text: 'P2P already in progress' };
    else if (!this.#wanted() || this.#host.participantIds()[0] !== peerId) reject = { condition: 'decline', text: 'P2P requirements not met' };
    if (reject !== undefined) {
      const terminate: Jingle = { action: 'session-terminate', sid: offer.sid, ...(offer.initiator ? { initiator: offer.initiator } : {}), contents: [], reason: reject };
      this.#host.connection().iq(xml('iq', { type: 'set', to: from }, serializeJingle(terminate))).catch(() => undefined);
      return;
    }
    this.#clearDeferredStart();
    this.#newSession(offer.sid, peerId, false).accept(offer);
  }

  #newSession(sid: string, peerId: string, initiator: boolean): P2PSession {
    const session = new P2PSession({
      connection: this.#host.connection(),
      sid,
      initiator,
      localJid: this.#host.occupantJid(),
      peerJid: `${this.#host.roomJid}/${peerId}`,
      endpointId: this.#host.endpointId(),
      peerId,
      iceServers: this.#options.iceServers,
      ...(this.#options.iceTransportPolicy !== undefined ? { iceTransportPolicy: this.#options.iceTransportPolicy } : {}),
      tracks: this.#host.localTracks(),
    });
    this.#session = session;
    const desktop = this.#host.localTracks().desktop;
    if (desktop !== null) void session.setDesktopTrack(desktop).catch(() => undefined);
    session.setReceiverConstraints(this.#constraints);
    session.on('remoteTrack', (e) => this.emit('remoteTrack', e));
    session.on('remoteTrackRemoved', (e) => this.emit('remoteTrackRemoved', e));
    session.on('connectionState', (s) => this.emit('connectionState', s));
    session.on('established', () => {
      if (this.#session !== session || this.#active) return;
      this.#active = true;
      this.emit('active', true);
    });
    session.on('failed', ({ error }) => {
      if (this.#session !== session) return;
      console.warn('P2P failed, staying on the bridge', error);
      const ice = error.message === 'ICE failed';
      this.stop(ice ? { condition: 'connectivity-error', text: 'ICE FAILED' } : { condition: 'general-error', text: error.message });
    });
    return session;
  }
}

function randomHex(chars: number): string {
  const bytes = new Uint8Array(Math.ceil(chars / 2));
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, chars);
}
