/**
 * FocusManager (Jicofo's `FocusManager` + `ConferenceIqHandler`): answers the conference IQ on the focus domain
 * (`focus.<domain>`), creates one {@link Conference} per room and gives the conferences their XMPP link: one
 * in-process client session bound as `focus@<authDomain>/focus`, which joins rooms like any client. Nothing here
 * reaches into the MUC's internals, so an out-of-process focus would behave the same.
 *
 * Stanzas delivered to the focus session are processed one at a time, after the call that produced them has
 * returned (no re-entrancy between routing and conference state).
 *
 * References: PROTOCOL.md §3.1 (conference IQ: answer only once the focus is in the room, always answer), §3.5,
 * §9b b1/b2; Jicofo `ConferenceIqHandler.kt`, `FocusManager.kt`.
 */
import {
  type Element,
  errorReply,
  Jid,
  NS_CLIENT,
  type Session,
  StanzaError,
  type StanzaEvent,
  type XmppServer,
  xml,
} from '@jitsi-one/xmpp';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FocusAuthority } from './authority.js';
import type { ColibriApi } from './colibri.js';
import { Conference, type FocusLink, toStanzaError } from './conference.js';
import { type FocusConfig, type FocusConfigInput, focusConfigSchema } from './config.js';
import { NS_JITSI_FOCUS } from './jingle/ns.js';

/** The focus's resource (and MUC nick). */
export const FOCUS_RESOURCE = 'focus';

/** `focus@<authDomain>` for a server's domains. */
export function focusBareJid(authDomain: string): string {
  return `focus@${authDomain}`;
}

export interface FocusManagerOptions {
  xmpp: XmppServer;
  /** The bridge (in process: `BridgeService.bridge`). Without one, conferences get no media sessions. */
  colibri: ColibriApi | undefined;
  config?: FocusConfigInput;
  log?: Logger;
  /** Disco#info timings (tests): see `DISCO_TIMEOUT_MS` and `DISCO_INVITE_WAIT_MS` in conference.ts. */
  timing?: { discoTimeoutMs?: number; discoInviteWaitMs?: number };
}

interface PendingRequest {
  resolve: (el: Element) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** Bare room JID when sent to an occupant (dropped when that conference ends). */
  room: string | undefined;
}

export class FocusManager {
  readonly xmpp: XmppServer;
  readonly config: FocusConfig;
  readonly log: Logger;
  /** `focus@<authDomain>/focus`. */
  readonly jid: Jid;
  /** Live conferences by bare room JID. */
  readonly conferences = new Map<string, Conference>();
  /** Room creation and moderator rights in the secure auth modes (see authority.ts). */
  readonly authority: FocusAuthority;
  readonly #colibri: ColibriApi | undefined;
  readonly #pending = new Map<string, PendingRequest>();
  readonly #starting = new Map<string, Promise<Conference>>();
  readonly #inbox: Element[] = [];
  #draining = false;
  #session: Session | undefined;
  #unregister: (() => void) | undefined;
  #counter = 0;
  #stopped = false;
  readonly #link: FocusLink;
  readonly #timing: { discoTimeoutMs?: number; discoInviteWaitMs?: number };

  constructor(options: FocusManagerOptions) {
    this.xmpp = options.xmpp;
    this.config = focusConfigSchema.parse(options.config ?? {});
    this.log = (options.log ?? pino({ level: 'silent' })).child({ component: 'focus' });
    this.#colibri = options.colibri;
    this.#timing = options.timing ?? {};
    this.jid = Jid.parse(`${focusBareJid(this.xmpp.domains.authDomain)}/${FOCUS_RESOURCE}`);
    this.authority = new FocusAuthority(this.xmpp, this.log);
    this.#link = {
      jid: this.jid,
      send: (stanza) => this.#send(stanza),
      request: (iq, timeoutMs) => this.#request(iq, timeoutMs),
    };
  }

  /** Bind the focus session and register the conference IQ handler. The focus JID must be a MUC admin. */
  start(): void {
    if (this.#session) return;
    if (!this.xmpp.muc.isAdmin(this.jid.bare)) {
      this.log.warn({ jid: this.jid.bare }, 'the focus is not in xmpp.muc.admins: it will not be owner of the rooms');
    }
    this.#session = this.xmpp.createLocalSession(this.jid.full, (el) => this.#deliver(el));
    const host = this.xmpp.serviceHost(this.xmpp.domains.focusDomain);
    host.features.add(NS_JITSI_FOCUS);
    const offConference = host.iq('set', 'host', NS_JITSI_FOCUS, 'conference', (e) => this.#conferenceIq(e));
    const offLogout = host.iq('set', 'host', NS_JITSI_FOCUS, 'logout', (e) => this.#logoutIq(e));
    this.#unregister = () => {
      offConference();
      offLogout();
    };
  }

  /** End every conference (session-terminate to participants, bridge expired, rooms left) and unbind. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unregister?.();
    for (const c of [...this.conferences.values()]) c.stop();
    // Let the terminate/leave stanzas go out before the session closes.
    await new Promise((r) => setImmediate(r));
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new StanzaError('remote-server-timeout', { text: 'focus stopped' }));
    }
    this.#pending.clear();
    this.#session?.close();
    this.#session = undefined;
    this.authority.clear();
  }

  /** IQs the focus sent that still wait for their answer, over all conferences (introspection). */
  get pendingRequestCount(): number {
    return this.#pending.size;
  }

  /** Conferences being started (the focus joining the room) (introspection). */
  get startingCount(): number {
    return this.#starting.size;
  }

  /** The live conference of a room. */
  getConference(room: string): Conference | undefined {
    return this.conferences.get(room);
  }

  // ------------------------------------------------------------------------------------------------ conference IQ

  async #conferenceIq(e: StanzaEvent): Promise<Element> {
    try {
      const req = e.stanza.getChild('conference', NS_JITSI_FOCUS);
      const roomAttr = req?.attrs.room;
      if (typeof roomAttr !== 'string' || roomAttr === '') {
        throw new StanzaError('bad-request', { text: 'conference without room' });
      }
      const room = Jid.tryParse(roomAttr);
      if (!room || !room.local || room.resource || room.domain !== this.xmpp.domains.mucDomain) {
        throw new StanzaError('bad-request', { text: `room must be a room JID on ${this.xmpp.domains.mucDomain}` });
      }
      if (this.#stopped || !this.#session) throw new StanzaError('service-unavailable', { text: 'focus stopped' });
      // Secure modes: only authenticated users make the focus create a room (Jicofo `processExtensions`).
      const existing = this.conferences.get(room.bare);
      const auth = this.authority.authorize(e.from, req as Element, room, existing !== undefined && !existing.ended);
      const conference = await this.#conferenceFor(room);
      // A participant that just authenticated through a login session may now be owed moderator rights.
      if (this.authority.enabled) conference.refreshModerators();
      const usesSessions = this.authority.usesSessions;
      return xml(
        'conference',
        {
          xmlns: NS_JITSI_FOCUS,
          room: roomAttr,
          focusjid: this.jid.bare,
          ready: 'true',
          'session-id': auth.sessionId,
          identity: auth.identity,
        },
        xml('property', { name: 'authentication', value: usesSessions ? 'true' : 'false' }),
        usesSessions ? xml('property', { name: 'externalAuth', value: 'false' }) : undefined,
      );
    } catch (err) {
      throw toStanzaError(err, this.log);
    }
  }

  /** `<logout xmlns=focus session-id/>`: end a login session (Jicofo `AuthenticationIqHandler`). */
  #logoutIq(e: StanzaEvent): Element {
    const req = e.stanza.getChild('logout', NS_JITSI_FOCUS);
    this.authority.logout(req?.attrs['session-id']);
    return xml('logout', { xmlns: NS_JITSI_FOCUS });
  }

  /** The running conference of a room, created (focus joins) if needed. Concurrent requests share the join. */
  #conferenceFor(room: Jid): Promise<Conference> {
    const existing = this.conferences.get(room.bare);
    if (existing && !existing.ended && existing.state === 'running') return Promise.resolve(existing);
    const starting = this.#starting.get(room.bare);
    if (starting) return starting;
    const conference = new Conference({
      room,
      link: this.#link,
      colibri: this.#colibri,
      config: this.config,
      log: this.log,
      ...this.#timing,
      ...(this.authority.enabled ? { identify: (realJid: string) => this.authority.identify(realJid) } : {}),
      onEnded: (c) => {
        const current = this.conferences.get(c.room);
        if (current === c) this.conferences.delete(c.room);
        // Not when a new conference of the same room already runs: those IQs may be its own.
        if (current === undefined || current === c) this.#dropPending(c.room);
        this.authority.conferenceEnded(c.room);
      },
    });
    this.conferences.set(room.bare, conference);
    const p = conference.start().then(
      () => conference,
      (err: unknown) => {
        if (this.conferences.get(room.bare) === conference) this.conferences.delete(room.bare);
        throw err;
      },
    );
    this.#starting.set(room.bare, p);
    const clear = (): void => {
      if (this.#starting.get(room.bare) === p) this.#starting.delete(room.bare);
    };
    p.then(clear, clear);
    return p;
  }

  // ------------------------------------------------------------------------------------------------ XMPP link


  #send(stanza: Element): void {
    const session = this.#session;
    if (!session) return;
    stanza.attrs.xmlns = NS_CLIENT;
    session.receive(stanza);
  }

  #request(iq: Element, timeoutMs = 10_000): Promise<Element> {
    const id = `focus${++this.#counter}`;
    iq.attrs.id = id;
    return new Promise<Element>((resolve, reject) => {
      if (!this.#session) {
        reject(new StanzaError('remote-server-timeout', { text: 'focus stopped' }));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new StanzaError('remote-server-timeout', { text: `no answer to ${id}` }));
      }, timeoutMs);
      timer.unref();
      const to = Jid.tryParse(iq.attrs.to);
      const room = to?.domain === this.xmpp.domains.mucDomain ? to.bare : undefined;
      this.#pending.set(id, { resolve, reject, timer, room });
      this.#send(iq);
    });
  }

  /**
   * A conference ended: its IQs still waiting for an answer (e.g. a source-remove to a participant that left with
   * it) are failed now rather than kept, with the occupant JIDs they name, until their timeout.
   */
  #dropPending(room: string): void {
    for (const [id, p] of this.#pending) {
      if (p.room !== room) continue;
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new StanzaError('recipient-unavailable', { text: 'conference ended' }));
    }
  }

  /** Everything the focus session receives; processed in order, never re-entrantly. */
  #deliver(el: Element): void {
    this.#inbox.push(el);
    if (this.#draining) return;
    this.#draining = true;
    queueMicrotask(() => {
      try {
        for (let next = this.#inbox.shift(); next; next = this.#inbox.shift()) this.#dispatch(next);
      } finally {
        this.#draining = false;
      }
    });
  }

  #dispatch(el: Element): void {
    try {
      if (el.name === 'iq') return this.#onIq(el);
      if (el.name === 'presence') {
        const from = Jid.tryParse(el.attrs.from);
        if (from) this.conferences.get(from.bare)?.handlePresence(el);
      }
    } catch (err) {
      this.log.error({ err }, 'focus failed to handle a stanza');
    }
  }

  #onIq(el: Element): void {
    const type = el.attrs.type;
    if (type === 'result' || type === 'error') {
      const id = el.attrs.id as string | undefined;
      const p = id === undefined ? undefined : this.#pending.get(id);
      if (!p || id === undefined) return;
      this.#pending.delete(id);
      clearTimeout(p.timer);
      if (type === 'result') p.resolve(el);
      else p.reject(StanzaError.fromElement(el) ?? new StanzaError('undefined-condition'));
      return;
    }
    if (type !== 'get' && type !== 'set') return;
    const from = Jid.tryParse(el.attrs.from);
    const conference = from && from.domain === this.xmpp.domains.mucDomain && from.resource ? this.conferences.get(from.bare) : undefined;
    if (!conference) {
      if (el.getChild('ping', 'urn:xmpp:ping')) {
        this.#send(xml('iq', { type: 'result', id: el.attrs.id, to: el.attrs.from }));
        return;
      }
      // Not from an occupant of a conference we run: refused, never silent.
      const err = new StanzaError('not-acceptable', { text: 'Only conference participants may talk to the focus' });
      this.#send(errorReply(el, err));
      return;
    }
    conference.handleIq(el);
  }
}
