/**
 * The focus's part of the secure auth modes (Jicofo's `AuthenticationAuthority` with `XMPPDomainAuthAuthority`, and
 * `AuthenticationRoleManager`): who may make the focus create a room, and who is made moderator.
 *
 * - Room creation: in `secure-domain` and `jwt` mode a conference request for a room that does not exist yet is
 *   answered `not-authorized` ("not authorized user domain", lib-jitsi-meet: AUTHENTICATION_REQUIRED, the app waits
 *   for the host or asks for a login) unless the requester is authenticated: an account login (SASL PLAIN), a token
 *   holder, or a guest whose request carries the `session-id` of an authenticated login. Rooms that exist are open
 *   to guests. A token holder must also match the token's `room` claim (`not-allowed`), whether or not the room
 *   exists.
 * - Login sessions (`secure-domain` only), as Jicofo: the conference request of an account login gets a
 *   `session-id` (random, 128 bits) and `identity` (its bare JID). lib-jitsi-meet's "log in" from a guest
 *   connection (`authenticateAndUpgradeRole`) makes that request from a second, logged-in connection, then repeats
 *   the request from the guest connection with the session id: the guest JID is then authenticated (may create the
 *   room, is made moderator). An unknown session id is answered `not-acceptable` + `<session-invalid/>` (the client
 *   forgets it and retries); a different `machine-uid` `not-acceptable`. Sessions live in memory only, and are
 *   dropped when every conference they were used for has ended (Jicofo with `enable-auto-login = false`), on
 *   `<logout/>`, and at the latest after {@link AUTH_SESSION_LIFETIME_MS}.
 * - Moderators: with moderator policy `first`, an authenticated participant is made owner on join and guests are
 *   not (Jicofo's AuthenticationRoleManager); a token's `context.user.moderator` (true or false) decides for its
 *   holder.
 *
 * References: PROTOCOL-FEATURES.md §3.3, §9; PROTOCOL.md §3.1; Jicofo `ConferenceIqHandler.processExtensions`,
 * `AbstractAuthAuthority`, `XMPPDomainAuthAuthority`, `ErrorFactory`, `AuthenticationIqHandler`; lib-jitsi-meet
 * `moderator.js`, `JitsiConference.authenticateAndUpgradeRole`.
 */
import { randomBytes } from 'node:crypto';
import { type Element, type Jid, StanzaError, type XmppServer, xml } from '@jitsi-one/xmpp';
import type { Logger } from 'pino';
import { NS_JITSI_FOCUS } from './jingle/ns.js';

/** Longest life of a login session (Jicofo's default `authentication-lifetime`). */
export const AUTH_SESSION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Most login sessions kept; the oldest goes first. */
export const MAX_AUTH_SESSIONS = 10_000;

/** What the focus knows about a participant for the moderator election. */
export interface ParticipantIdentity {
  /** An account login, a token holder, or a guest authenticated through a login session. */
  authenticated: boolean;
  /** A token's `context.user.moderator`, when present. */
  moderator?: boolean;
}

/** Attributes the conference result gets from authentication. */
export interface ConferenceAuthResult {
  sessionId?: string;
  identity?: string;
}

interface LoginSession {
  readonly id: string;
  readonly machineUid: string;
  /** Bare JID of the account that logged in. */
  readonly identity: string;
  readonly createdMs: number;
  /** Full JIDs authenticated with this session. */
  readonly jids: Set<string>;
  /** Rooms (bare JIDs) it was used for; the session ends with the last of their conferences. */
  readonly rooms: Set<string>;
}

/** `<error><not-acceptable/><text>invalid session</text><session-invalid xmlns=focus/></error>` (Jicofo). */
function sessionInvalid(): StanzaError {
  return new StanzaError('not-acceptable', { text: 'invalid session', app: xml('session-invalid', { xmlns: NS_JITSI_FOCUS }) });
}

export class FocusAuthority {
  readonly #xmpp: XmppServer;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #sessions = new Map<string, LoginSession>();
  /** Full JID → login session id. */
  readonly #byJid = new Map<string, string>();

  constructor(xmpp: XmppServer, log: Logger, now: () => number = Date.now) {
    this.#xmpp = xmpp;
    this.#log = log;
    this.#now = now;
  }

  /** A secure mode is on: the conference request is checked and moderators follow authentication. */
  get enabled(): boolean {
    return this.#xmpp.auth.secure;
  }

  /** Login sessions and `property authentication=true` (secure-domain; Jicofo has no authority for JWT). */
  get usesSessions(): boolean {
    return this.#xmpp.auth.mode === 'secure-domain';
  }

  /** Live login sessions (tests, introspection). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * The authentication step of a conference request from `from` for `room` (Jicofo `processExtensions`).
   * @throws StanzaError not-authorized (may not create), not-allowed (token room), not-acceptable (session).
   */
  authorize(from: Jid, request: Element, room: Jid, roomExists: boolean): ConferenceAuthResult {
    if (!this.enabled) return {};
    this.#xmpp.auth.checkRoomAccess(from, room);
    let result: ConferenceAuthResult = {};
    if (this.usesSessions) {
      this.#sweep();
      const sid = request.attrs['session-id'];
      const machineUid = request.attrs['machine-uid'];
      let session: LoginSession | undefined;
      if (typeof sid === 'string' && sid !== '') {
        session = this.#sessions.get(sid);
        if (!session) throw sessionInvalid();
        if (session.machineUid !== machineUid) throw new StanzaError('not-acceptable', { text: 'machine UID mismatch or empty' });
      }
      if (!session && this.#xmpp.auth.identity(from.full)?.kind === 'account' && typeof machineUid === 'string' && machineUid !== '') {
        session = this.#create(machineUid, from.bare);
      }
      if (session) {
        session.jids.add(from.full);
        session.rooms.add(room.bare);
        this.#byJid.set(from.full, session.id);
        result = { sessionId: session.id, identity: session.identity };
      }
    }
    if (!roomExists && !this.isAuthenticated(from.full)) {
      throw new StanzaError('not-authorized', { text: 'not authorized user domain' });
    }
    return result;
  }

  /** Whether a real full JID is authenticated (login, token, or a login session). */
  isAuthenticated(fullJid: string): boolean {
    if (this.#xmpp.auth.identity(fullJid)?.authenticated === true) return true;
    const sid = this.#byJid.get(fullJid);
    return sid !== undefined && this.#sessions.has(sid);
  }

  /** The identity for the moderator election; undefined when no secure mode is on (the plain policy applies). */
  identify(realJid: string): ParticipantIdentity | undefined {
    if (!this.enabled) return undefined;
    const id = this.#xmpp.auth.identity(realJid);
    return { authenticated: this.isAuthenticated(realJid), ...(id?.moderator !== undefined ? { moderator: id.moderator } : {}) };
  }

  /** `<logout session-id/>` (Jicofo `processLogoutIq`). @throws StanzaError session-invalid */
  logout(sessionId: string | undefined): void {
    const session = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
    if (!session) throw sessionInvalid();
    this.#drop(session);
  }

  /** A conference ended: login sessions used only for ended conferences go. */
  conferenceEnded(room: string): void {
    for (const s of [...this.#sessions.values()]) {
      if (!s.rooms.delete(room)) continue;
      if (s.rooms.size === 0) this.#drop(s);
    }
  }

  /** Forget every login session (focus stop). */
  clear(): void {
    this.#sessions.clear();
    this.#byJid.clear();
  }

  #create(machineUid: string, identity: string): LoginSession {
    while (this.#sessions.size >= MAX_AUTH_SESSIONS) {
      const oldest = this.#sessions.values().next().value;
      if (!oldest) break;
      this.#drop(oldest);
    }
    const session: LoginSession = {
      id: randomBytes(16).toString('base64url'),
      machineUid,
      identity,
      createdMs: this.#now(),
      jids: new Set(),
      rooms: new Set(),
    };
    this.#sessions.set(session.id, session);
    this.#log.debug('login session created');
    return session;
  }

  #drop(session: LoginSession): void {
    this.#sessions.delete(session.id);
    for (const jid of session.jids) if (this.#byJid.get(jid) === session.id) this.#byJid.delete(jid);
  }

  /** Drop sessions past their lifetime (insertion order = age). */
  #sweep(): void {
    const cutoff = this.#now() - AUTH_SESSION_LIFETIME_MS;
    for (const s of this.#sessions.values()) {
      if (s.createdMs > cutoff) break;
      this.#drop(s);
    }
  }
}
