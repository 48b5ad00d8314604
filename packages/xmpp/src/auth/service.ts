/**
 * The server side of the `auth` modes (see config.ts): which hosts offer which SASL mechanisms, what a login proves
 * about a session, and the room checks Prosody's token verification does.
 *
 * - Hosts: in `secure-domain` mode the main domain offers only PLAIN (accounts of `auth.users`, scrypt hashes); in
 *   `jwt` mode it offers ANONYMOUS, accepted only with a valid token from the connection URL (mod_auth_token).
 *   With `guests`, the guest domain offers ANONYMOUS to everyone.
 * - Identity: each client session records how it logged in (`Session.auth`); `identity(fullJid)` tells the focus
 *   and the MUC whether a JID is authenticated (an account or a token holder), its token's `context.user` and
 *   moderator flag.
 * - Rooms: in the secure modes only service admins (the focus) create MUC rooms directly (Prosody
 *   `restrict_room_creation`); the focus creates them for authenticated users only. A token holder may only enter
 *   the room its `room` claim names (or any, with `*`): `not-allowed` otherwise (mod_token_verification).
 *
 * The raw token is kept on the session only until SASL has run, and is never logged.
 *
 * References: PROTOCOL-FEATURES.md §9; jitsi-meet `mod_auth_token.lua`, `mod_token_verification.lua`.
 */
import type { XmppServer } from '../server.js';
import { StanzaError } from '../stanza/errors.js';
import type { Jid } from '../stanza/jid.js';
import type { Host } from '../host.js';
import { type AuthConfig, type AuthMode, authConfigSchema, resolveGuestDomain } from './config.js';
import { type TokenUser, type VerifiedToken, tokenAllowsRoom, verifyToken } from './jwt.js';

/** How a client session authenticated (set by SASL; undefined for in-process sessions). */
export interface SessionAuth {
  /** `anonymous`: SASL ANONYMOUS without a token; `password`: SASL PLAIN; `token`: ANONYMOUS with a valid JWT. */
  method: 'anonymous' | 'password' | 'token';
  /** Logged in on the guest domain. */
  guest: boolean;
  /** The verified token (method `token`): claims only, never the token text. */
  token?: VerifiedToken;
}

/** What the focus and the MUC learn about the user behind a real JID. */
export interface AuthIdentity {
  /** `account`: a PLAIN login; `token`: a JWT holder; `guest`: anonymous on the guest domain; `anonymous`: open server. */
  kind: 'account' | 'token' | 'guest' | 'anonymous';
  /** An account or a token holder: may make the focus create rooms in the secure modes. */
  authenticated: boolean;
  /** `context.user` of the token. */
  user?: TokenUser;
  /** `context.user.moderator` of the token, when present. */
  moderator?: boolean;
  /** The token's `room` claim (`*` = any), when it has one. */
  room?: string;
}

export class AuthService {
  readonly config: AuthConfig;
  readonly mode: AuthMode;
  /** The guest domain (`hosts.anonymousdomain`), when guests are on in a secure mode. */
  readonly guestDomain: string | undefined;
  readonly #server: XmppServer;

  constructor(server: XmppServer, config: AuthConfig = authConfigSchema.parse({})) {
    this.#server = server;
    this.config = config;
    this.mode = config.mode;
    this.guestDomain = resolveGuestDomain(config, server.domains.domain);
  }

  /** True in `secure-domain` and `jwt` mode. */
  get secure(): boolean {
    return this.mode !== 'anonymous';
  }

  /** Called once by the server after its hosts exist: mechanisms of the main domain, the guest host, the accounts. */
  configureHosts(main: Host): void {
    if (this.mode === 'secure-domain') main.anonymous = false;
    if (this.mode === 'jwt') main.anonymous = true; // with a valid token only (anonymousLogin)
    if (this.guestDomain !== undefined) {
      if (this.#server.hosts.has(this.guestDomain)) {
        throw new Error(`auth.guestDomain: ${this.guestDomain} is already a domain of this server; guests need their own`);
      }
      this.#server.addHost(this.guestDomain, 'user').anonymous = true;
    }
    for (const u of this.config.users) {
      this.#server.accounts.addHash(`${u.username.toLowerCase()}@${main.domain}`, u.passwordHash);
    }
  }

  /**
   * SASL ANONYMOUS on `host` with the token from the connection URL. In `jwt` mode on the main domain the token
   * must be valid. @throws TokenError
   */
  anonymousLogin(host: Host, token: string | undefined): SessionAuth {
    if (this.mode === 'jwt' && host.domain === this.#server.domains.domain) {
      const jwt = this.config.jwt;
      if (!jwt) throw new Error('auth.jwt missing'); // the schema makes this impossible
      return { method: 'token', guest: false, token: verifyToken(token, jwt, this.#server.now()) };
    }
    return { method: 'anonymous', guest: host.domain === this.guestDomain };
  }

  /** Whether the transports should keep `?token=` of the connection URL for SASL. */
  get wantsToken(): boolean {
    return this.mode === 'jwt';
  }

  /** The identity of a bound client session (undefined: no such session, or an in-process one). */
  identity(fullJid: string): AuthIdentity | undefined {
    const auth = this.#server.sessions.get(fullJid)?.auth;
    if (!auth) return undefined;
    if (auth.method === 'password') return { kind: 'account', authenticated: true };
    if (auth.method === 'token' && auth.token) {
      const t = auth.token;
      return {
        kind: 'token',
        authenticated: true,
        ...(t.user ? { user: t.user } : {}),
        ...(t.user?.moderator !== undefined ? { moderator: t.user.moderator } : {}),
        ...(t.room !== undefined ? { room: t.room } : {}),
      };
    }
    return { kind: auth.guest ? 'guest' : 'anonymous', authenticated: false };
  }

  /**
   * May `realJid` enter (or, through the focus, create) `room`? A token holder only the room of its `room` claim.
   * Service admins always. @throws StanzaError `not-allowed` (cancel), as mod_token_verification answers.
   */
  checkRoomAccess(realJid: Jid, room: Jid): void {
    if (!this.secure || this.#server.muc.isAdmin(realJid.bare)) return;
    const auth = this.#server.sessions.get(realJid.full)?.auth;
    if (auth?.method === 'token' && auth.token && !tokenAllowsRoom(auth.token, room.local)) {
      throw new StanzaError('not-allowed', { type: 'cancel', text: 'room not allowed by the token' });
    }
  }
}
