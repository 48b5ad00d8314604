/**
 * The client stream state machine shared by every transport (WebSocket, BOSH, TCP, in-process):
 * connected → authenticated (SASL) → bound (resource binding) → closed.
 *
 * Transports only turn bytes into elements and back; they call `streamOpened`, `receive` and `transportClosed`,
 * and the session calls the transport's `sendOpen`, `send` and `close`.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc6120#section-4 (streams), §6 (SASL), §7 (resource binding)
 * - https://www.rfc-editor.org/rfc/rfc3921#section-3 (legacy session establishment; answered, never advertised)
 * - https://www.rfc-editor.org/rfc/rfc4505 (SASL ANONYMOUS), https://www.rfc-editor.org/rfc/rfc4616 (SASL PLAIN)
 * - https://xmpp.org/extensions/xep-0198.html (stream management)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { TokenError } from './auth/jwt.js';
import type { SessionAuth } from './auth/service.js';
import type { Host } from './host.js';
import type { XmppServer } from './server.js';
import { StanzaError, StreamError, errorReply } from './stanza/errors.js';
import { Jid } from './stanza/jid.js';
import { NS_BIND, NS_CLIENT, NS_SASL, NS_SESSION, NS_SM, NS_STREAMS, NS_TLS } from './stanza/ns.js';
import { type Element, child, serialize, text, xml } from './stanza/xml.js';
import { StreamManagement } from './stream/sm.js';

/** What a session needs from the transport below it. */
export interface Transport {
  readonly kind: 'websocket' | 'bosh' | 'tcp' | 'local';
  /** The session on this stream, for transports that XEP-0198 resumption can hand to an older session. */
  session?: Session | undefined;
  /** True once the bytes are protected by TLS (https/wss, STARTTLS) or never leave the process. */
  readonly secure: boolean;
  /** Client address, kept in memory for per-address limits; never logged at the default level. */
  readonly remoteAddress: string | undefined;
  /** Send the stream header with these attributes (framing-specific). */
  sendOpen(attrs: Record<string, string>): void;
  /** Send one serialized top-level element. */
  send(data: string): void;
  /** Close the stream and the connection. Idempotent. */
  close(): void;
  /** TCP only: start TLS on the socket after <proceed/>; calls back when the stream may restart. */
  startTls?(): void;
  /** Whether STARTTLS can be offered on this transport now. */
  readonly canStartTls?: boolean;
  /** Transport-level liveness probe (WebSocket ping frame); its answer must call `session.activity()`. */
  probe?(): void;
  /** Called right after `<success/>` was sent (TCP restarts its parser there). */
  authenticated?(): void;
}

/** Anything that can originate stanzas into the router: client sessions and component connections. */
export interface Origin {
  readonly type: 'c2s' | 'component';
  /** Deliver a stanza to this origin. */
  deliver(stanza: Element): void;
}

export type SessionState = 'connected' | 'authenticated' | 'bound' | 'closed';

const MAX_SASL_FAILURES = 3;
/** Elements a client may send while its password is being checked before it is cut off. */
const MAX_HELD_DURING_AUTH = 16;

export class Session implements Origin {
  readonly type = 'c2s' as const;
  readonly id: string;
  transport: Transport;
  readonly server: XmppServer;
  readonly log: Logger;
  state: SessionState = 'connected';
  host: Host | undefined;
  /** Bare JID after SASL, full JID after bind. */
  jid: Jid | undefined;
  /** Last broadcast (undirected) presence; undefined while unavailable. */
  presence: Element | undefined;
  priority = 0;
  /** Full JIDs this session sent directed available presence to (MUC rooms); they get unavailable on close. */
  readonly directedPresence = new Set<string>();
  /** Last time anything arrived from the client (ms, server clock). */
  lastActivity: number;
  /** When the connection was opened (ms, server clock). */
  readonly createdAt: number;
  /** Outstanding liveness ping (sent at, ms) or 0. */
  pingSentAt = 0;
  sm: StreamManagement | undefined;
  /** XEP-0198 resumption id the client reconnected with (`?previd=` on the WebSocket URL). */
  previd: string | undefined;
  /** True while a stream-managed session has lost its transport and waits for resumption. */
  detached = false;
  /**
   * `?token=` of the connection URL (jwt auth mode), kept only until SASL has run; never logged.
   */
  token: string | undefined;
  /** How this session authenticated (undefined before SASL and for in-process sessions). */
  auth: SessionAuth | undefined;
  /** A password check (scrypt, async) is running: input is held until it has answered. */
  #authPending = false;
  readonly #held: (() => void)[] = [];
  #saslFailures = 0;
  #streamOpened = false;
  #closing = false;

  constructor(server: XmppServer, transport: Transport) {
    this.server = server;
    this.transport = transport;
    this.id = randomBytes(9).toString('base64url');
    this.log = server.log.child({ session: this.id, transport: transport.kind });
    this.lastActivity = server.now();
    this.createdAt = this.lastActivity;
  }

  get bound(): boolean {
    return this.state === 'bound';
  }

  /** Any inbound data or transport pong. */
  activity(): void {
    this.lastActivity = this.server.now();
    this.pingSentAt = 0;
  }

  /**
   * The client opened (or restarted) its stream. For WebSocket `<open/>`, TCP `<stream:stream>`, BOSH session
   * creation and `xmpp:restart`.
   */
  streamOpened(attrs: Record<string, string>): void {
    if (this.state === 'closed') return;
    if (this.#authPending) return this.#hold(() => this.streamOpened(attrs));
    this.activity();
    const to = attrs.to ? Jid.tryParse(attrs.to) : undefined;
    const host = to ? this.server.hosts.get(to.domain) : undefined;
    const first = !this.#streamOpened;
    this.#streamOpened = true;
    const fromDomain = host?.domain ?? this.host?.domain ?? this.server.domains.domain;
    this.transport.sendOpen({ id: this.id, from: fromDomain, version: '1.0', 'xml:lang': 'en' });
    if (!host || host.kind !== 'user') return this.close(new StreamError('host-unknown'));
    if (this.host && this.host !== host) return this.close(new StreamError('host-unknown', 'stream restarted to another host'));
    if (attrs.version !== undefined && !attrs.version.startsWith('1.')) return this.close(new StreamError('unsupported-version'));
    if (first) this.log.debug('stream opened');
    this.host = host;
    this.sendFeatures();
  }

  /** The features for the current state (RFC 6120 §4.3.2). */
  features(): Element {
    const f = xml('stream:features', { 'xmlns:stream': NS_STREAMS });
    const host = this.host;
    if (!host) return f;
    if (this.state === 'connected') {
      if (this.transport.canStartTls && !this.transport.secure) {
        f.cnode(xml('starttls', { xmlns: NS_TLS }, this.server.config.c2s.requireTls ? xml('required') : undefined));
        if (this.server.config.c2s.requireTls) return f;
      }
      const mechs = xml('mechanisms', { xmlns: NS_SASL });
      if (host.anonymous) mechs.cnode(xml('mechanism', null, 'ANONYMOUS'));
      if (this.transport.secure && this.server.accounts.hasDomain(host.domain)) mechs.cnode(xml('mechanism', null, 'PLAIN'));
      f.cnode(mechs);
    } else if (this.state === 'authenticated') {
      f.cnode(xml('bind', { xmlns: NS_BIND }));
      // Not advertised on purpose: strophe sends the session IQ whenever it sees <session/> (PROTOCOL.md §2.4).
      if (this.server.config.streamManagement && this.transport.kind !== 'bosh') f.cnode(xml('sm', { xmlns: NS_SM }));
    }
    return f;
  }

  sendFeatures(): void {
    this.transport.send(serialize(this.features()));
  }

  /** One top-level element from the client. Never throws: bad input becomes a stanza or stream error. */
  receive(el: Element): void {
    if (this.state === 'closed') return;
    if (this.#authPending) return this.#hold(() => this.receive(el));
    this.activity();
    try {
      this.#receive(el);
    } catch (err) {
      if (err instanceof StreamError) return this.close(err);
      this.log.error({ err }, 'unexpected error handling client element');
      this.close(new StreamError('internal-server-error'));
    }
  }

  #receive(el: Element): void {
    const name = el.name;
    if (el.attrs.xmlns === NS_SM) return this.#streamManagement(el);
    switch (this.state) {
      case 'connected':
        if (name === 'starttls' && el.attrs.xmlns === NS_TLS) return this.#startTls();
        if (this.transport.canStartTls && !this.transport.secure && this.server.config.c2s.requireTls) {
          throw new StreamError('policy-violation', 'STARTTLS required');
        }
        if (el.attrs.xmlns === NS_SASL && this.host) return this.#sasl(el);
        throw new StreamError('not-authorized');
      case 'authenticated':
        if (name === 'iq' && el.attrs.type === 'set') {
          const bind = child(el, 'bind', NS_BIND);
          if (bind) return this.#bind(el, bind);
        }
        throw new StreamError('not-authorized', 'bind a resource first');
      case 'bound':
        if (name === 'iq' || name === 'message' || name === 'presence') {
          this.sm?.inbound();
          return this.#stanza(el);
        }
        throw new StreamError('unsupported-stanza-type');
    }
  }

  /** Keep input that arrived while a password check runs (RFC 6120 §6.4: the client should wait for the outcome). */
  #hold(replay: () => void): void {
    this.activity();
    if (this.#held.length >= MAX_HELD_DURING_AUTH) return this.close(new StreamError('policy-violation', 'too much data during authentication'));
    this.#held.push(replay);
  }

  #startTls(): void {
    if (!this.transport.canStartTls || this.transport.secure || !this.transport.startTls) {
      this.transport.send(serialize(xml('failure', { xmlns: NS_TLS })));
      return this.close();
    }
    this.transport.send(serialize(xml('proceed', { xmlns: NS_TLS })));
    this.transport.startTls();
  }

  #saslFailure(condition: string, textMsg?: string): void {
    this.#saslFailures++;
    this.transport.send(
      serialize(xml('failure', { xmlns: NS_SASL }, xml(condition), textMsg ? xml('text', null, textMsg) : undefined)),
    );
    if (this.#saslFailures >= MAX_SASL_FAILURES) this.close(new StreamError('policy-violation', 'too many failed authentications'));
  }

  #sasl(el: Element): void {
    const host = this.host as Host;
    if (el.name === 'abort') return this.#saslFailure('aborted');
    if (el.name !== 'auth') return this.#saslFailure('malformed-request');
    const mech = el.attrs.mechanism;
    if (mech === 'ANONYMOUS') {
      if (!host.anonymous) return this.#saslFailure('invalid-mechanism');
      // jwt mode, main domain: only with a valid token from the connection URL (PROTOCOL-FEATURES §9.1).
      let auth: SessionAuth;
      try {
        auth = this.server.auth.anonymousLogin(host, this.token);
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        // The reason only, never the token. LJM shows the <text> when the frame is exactly
        // <failure><not-allowed/><text>…</text></failure> (PROTOCOL.md §2.3).
        this.log.info({ reason: err.code }, 'token authentication failed');
        return this.#saslFailure('not-allowed', err.message);
      }
      // A UUID node: LJM derives its endpoint id from the first 8 hex characters (PROTOCOL.md §1.1).
      // With ?previd= of a detached session, the same node is reused so that <resume/> can be authorized
      // (as Jitsi's mod_auth_jitsi-anonymous does).
      const node = this.server.resumableNode(this.previd, host.domain) ?? randomUUID();
      return this.#authenticated(new Jid(node, host.domain), auth);
    }
    if (mech === 'PLAIN') {
      if (!this.server.accounts.hasDomain(host.domain)) return this.#saslFailure('invalid-mechanism');
      if (!this.transport.secure) return this.#saslFailure('encryption-required');
      const payload = text(el).trim();
      if (payload === '' || payload === '=') return this.#saslFailure('malformed-request');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(payload)) return this.#saslFailure('incorrect-encoding');
      const parts = Buffer.from(payload, 'base64').toString('utf8').split('\0');
      if (parts.length !== 3) return this.#saslFailure('malformed-request');
      const [authzid, authcid, password] = parts as [string, string, string];
      const user = Jid.tryParse(`${authcid}@${host.domain}`);
      if (!user || !user.local || user.resource || authcid.includes('@')) return this.#saslFailure('not-authorized');
      if (authzid !== '' && authzid !== user.bare) return this.#saslFailure('invalid-authzid');
      this.#authPending = true;
      void this.server.accounts.verify(user.bare, password).then(
        (ok) => this.#passwordChecked(user, ok),
        (err: unknown) => {
          this.log.error({ err }, 'password check failed');
          this.#passwordChecked(user, false);
        },
      );
      return;
    }
    return this.#saslFailure('invalid-mechanism');
  }

  /** The outcome of an async PLAIN check; then replay what the client sent meanwhile. */
  #passwordChecked(user: Jid, ok: boolean): void {
    this.#authPending = false;
    if (this.state === 'closed') return;
    if (ok) this.#authenticated(user, { method: 'password', guest: false });
    else {
      this.log.info('authentication failed');
      this.#saslFailure('not-authorized');
    }
    // A replay may close the session or start another check (state changes behind TypeScript's narrowing).
    const open = (): boolean => (this.state as SessionState) !== 'closed';
    while (this.#held.length > 0 && open() && !this.#authPending) (this.#held.shift() as () => void)();
    if (!open()) this.#held.length = 0;
  }

  #authenticated(jid: Jid, auth: SessionAuth): void {
    this.jid = jid;
    this.auth = auth;
    this.token = undefined;
    this.state = 'authenticated';
    this.transport.send(serialize(xml('success', { xmlns: NS_SASL })));
    this.transport.authenticated?.();
    this.log.debug('authenticated');
    // The client restarts the stream next (<open/>, <stream:stream>, or BOSH xmpp:restart).
  }

  #bind(iq: Element, bind: Element): void {
    const user = this.jid as Jid;
    let resource = text(child(bind, 'resource')).trim();
    if (resource && (resource.length > 1023 || /[\u0000-\u001f]/.test(resource))) resource = '';
    if (!resource || this.server.sessions.has(user.withResource(resource).full)) {
      resource = (resource ? `${resource.slice(0, 64)}-` : '') + randomBytes(6).toString('base64url');
    }
    this.jid = user.withResource(resource);
    this.state = 'bound';
    this.server.bindSession(this);
    this.deliver(
      xml('iq', { xmlns: NS_CLIENT, type: 'result', id: iq.attrs.id }, xml('bind', { xmlns: NS_BIND }, xml('jid', null, this.jid.full))),
    );
    this.log.debug('resource bound');
  }

  #streamManagement(el: Element): void {
    if (!this.server.config.streamManagement || this.transport.kind === 'bosh') {
      if (el.name === 'enable' || el.name === 'resume') {
        this.transport.send(serialize(xml('failed', { xmlns: NS_SM }, xml('unexpected-request', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
      }
      return;
    }
    if (el.name === 'resume') {
      if (this.state !== 'authenticated') throw new StreamError('unsupported-stanza-type');
      return this.server.resumeSession(this, el);
    }
    if (this.state !== 'bound') {
      this.transport.send(serialize(xml('failed', { xmlns: NS_SM }, xml('unexpected-request', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
      return;
    }
    if (el.name === 'enable') {
      if (this.sm) {
        this.transport.send(serialize(xml('failed', { xmlns: NS_SM }, xml('unexpected-request', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
        return;
      }
      const resume = el.attrs.resume === 'true' || el.attrs.resume === '1';
      this.sm = new StreamManagement(resume ? randomBytes(18).toString('base64url') : undefined);
      if (resume) this.server.registerResumable(this);
      this.transport.send(
        serialize(
          xml('enabled', {
            xmlns: NS_SM,
            id: this.sm.resumptionId,
            resume: resume ? 'true' : undefined,
            max: resume ? String(this.server.config.smResumeTimeoutSeconds) : undefined,
          }),
        ),
      );
      return;
    }
    const sm = this.sm;
    if (!sm) return;
    if (el.name === 'r') {
      this.transport.send(serialize(xml('a', { xmlns: NS_SM, h: String(sm.handledInbound) })));
    } else if (el.name === 'a') {
      const h = Number(el.attrs.h);
      if (!Number.isInteger(h) || !sm.acknowledge(h)) throw new StreamError('undefined-condition', 'bad ack');
    }
  }

  #stanza(el: Element): void {
    const jid = this.jid as Jid;
    // RFC 6120 §8.1.2.1: the server stamps (and validates) `from`.
    const claimed = el.attrs.from;
    if (claimed !== undefined && claimed !== jid.full && claimed !== jid.bare) {
      const parsed = Jid.tryParse(claimed);
      if (!parsed || (parsed.full !== jid.full && parsed.full !== jid.bare)) throw new StreamError('invalid-from');
    }
    el.attrs.from = jid.full;
    el.attrs.xmlns = NS_CLIENT;
    if (el.name === 'presence' && (el.attrs.type === undefined || el.attrs.type === 'unavailable') && el.attrs.to === undefined) {
      return this.server.broadcastPresence(this, el);
    }
    if (el.name === 'iq' && el.attrs.type === 'set' && !el.attrs.to) {
      const sess = child(el, 'session', NS_SESSION);
      if (sess) return this.deliver(xml('iq', { xmlns: NS_CLIENT, type: 'result', id: el.attrs.id, to: jid.full }));
    }
    this.server.route(this, el, jid);
  }

  /** Send a stanza to the client. */
  deliver(stanza: Element): void {
    if (this.state === 'closed') return;
    if (stanza.attrs.xmlns === undefined) stanza.attrs.xmlns = NS_CLIENT;
    this.deliverSerialized(serialize(stanza));
  }

  /** Send an already serialized stanza (fan-out: serialize once, send to many). */
  deliverSerialized(data: string): void {
    if (this.state === 'closed') return;
    this.sm?.outbound(data);
    this.transport.send(data);
  }

  /** Answer `stanza` with an error (never answers an error). */
  replyError(stanza: Element, err: StanzaError): void {
    if (stanza.attrs.type === 'error') return;
    const reply = errorReply(stanza, err);
    if (!reply.attrs.to) reply.attrs.to = this.jid?.full;
    this.deliver(reply);
  }

  /** End the session, optionally with a stream error first. Idempotent. */
  close(err?: StreamError): void {
    if (this.#closing) return;
    this.#closing = true;
    if (err) {
      this.server.counters.streamErrors++;
      this.log.debug({ condition: err.condition }, 'stream error');
      try {
        this.transport.send(serialize(err.toElement()));
      } catch {
        // The connection may already be gone.
      }
    }
    this.transport.close();
    this.transportClosed();
  }

  /** The connection went away (by us or by the peer). Idempotent. */
  transportClosed(): void {
    if (this.state === 'closed') return;
    if (this.sm?.resumptionId && this.state === 'bound' && !this.#closing && this.server.detachResumable(this)) {
      // Kept for XEP-0198 resumption; the server ends it later if nobody resumes.
      return;
    }
    this.destroy();
  }

  /** Final teardown: unregister, unavailable presence to rooms. */
  destroy(): void {
    if (this.state === 'closed') return;
    const wasBound = this.state === 'bound';
    this.state = 'closed';
    this.#closing = true;
    if (wasBound) this.server.unbindSession(this);
    this.server.sessionClosed(this);
    this.log.debug('session closed');
  }

  /** Used by XEP-0198 resumption: a new transport takes over this session. */
  adoptTransport(transport: Transport): Session {
    this.transport = transport;
    this.#closing = false;
    return this;
  }

  /** Report a client-caused stanza problem as an error reply. */
  stanzaError(stanza: Element, condition: string, textMsg?: string): void {
    this.replyError(stanza, new StanzaError(condition, textMsg ? { text: textMsg } : {}));
  }
}
