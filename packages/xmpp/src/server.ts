/**
 * XmppServer: the hosts, the session registry and the stanza router.
 *
 * Routing follows Prosody's core/stanza_router: validate, then fire `<kind>/<host|bare|full>` on the recipient
 * host's bus (IQ get/set first as `iq-<type>/<target>/<ns>:<name>`). Unhandled IQ get/set is answered
 * `service-unavailable`; stanzas for unknown domains get `remote-server-not-found` (there is no s2s).
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc6120#section-8 (stanza semantics, error replies)
 * - https://www.rfc-editor.org/rfc/rfc6121#section-8.5 (server rules for delivery to bare and full JIDs)
 */
import { timingSafeEqual, createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { type AuthConfig, authConfigSchema, resolveGuestDomain } from './auth/config.js';
import { burnPasswordCheck, verifyPassword } from './auth/password.js';
import { AuthService } from './auth/service.js';
import { type XmppConfig, type XmppDomains, resolveDomains } from './config.js';
import { Host, type StanzaEvent } from './host.js';
import { loadCoreModules } from './modules/index.js';
import { loadMuc, type MucService } from './muc/index.js';
import { type Origin, Session, type Transport } from './session.js';
import { StanzaError, StreamError, errorReply } from './stanza/errors.js';
import { Jid } from './stanza/jid.js';
import { NS_CLIENT, NS_SM } from './stanza/ns.js';
import { type Element, elements, serialize, xml } from './stanza/xml.js';
import { BoshManager } from './transport/bosh.js';
import { LocalTransport } from './transport/local.js';
import { acceptWebSocket } from './transport/websocket.js';
import { TcpListeners } from './transport/tcp.js';

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface XmppServerOptions {
  config: XmppConfig;
  log: Logger;
  tls?: TlsMaterial;
  /** Authentication mode (the app config's `auth` section, parsed). Default: anonymous, as before. */
  auth?: AuthConfig;
  /** Clock in ms (injected for tests). */
  now?: () => number;
}

export interface ConnectionInfo {
  /** True for https/wss (or TLS terminated by a trusted proxy). */
  secure: boolean;
  remoteAddress: string | undefined;
  /**
   * `?token=` of the request URL (a JWT, PROTOCOL-FEATURES §9.1). The WebSocket and BOSH transports fill it in from
   * the request when the auth mode uses tokens; callers need not set it. Never logged.
   */
  token?: string | undefined;
}

/**
 * Accounts for SASL PLAIN: plain-text passwords of `xmpp.accounts` (compared in constant time via SHA-256 digests)
 * and scrypt hashes of `auth.users`.
 */
export class Accounts {
  readonly #digests = new Map<string, Buffer>();
  readonly #hashes = new Map<string, string>();
  readonly #domains = new Set<string>();

  add(bareJid: string, password: string): void {
    const jid = Jid.parse(bareJid);
    this.#digests.set(jid.bare, digest(password));
    this.#hashes.delete(jid.bare);
    this.#domains.add(jid.domain);
  }

  /** An account whose password is only known as a `$scrypt$…` hash (see auth/password.ts). */
  addHash(bareJid: string, passwordHash: string): void {
    const jid = Jid.parse(bareJid);
    this.#hashes.set(jid.bare, passwordHash);
    this.#digests.delete(jid.bare);
    this.#domains.add(jid.domain);
  }

  hasDomain(domain: string): boolean {
    return this.#domains.has(domain);
  }

  /** Plain-text accounts only (synchronous); false for hashed ones. */
  check(bareJid: string, password: string): boolean {
    const expected = this.#digests.get(bareJid);
    const got = digest(password);
    // Compare even for unknown users, so timing does not reveal which accounts exist.
    return timingSafeEqual(expected ?? digest(randomBytes(16).toString('hex')), got) && expected !== undefined;
  }

  /**
   * Any account. Hashed ones cost one scrypt run off the event loop; an unknown user on a domain with hashed accounts
   * costs the same, so the answer's timing does not reveal which accounts exist.
   */
  async verify(bareJid: string, password: string): Promise<boolean> {
    const hash = this.#hashes.get(bareJid);
    if (hash !== undefined) return verifyPassword(password, hash);
    if (this.#digests.has(bareJid)) return this.check(bareJid, password);
    if (this.#hashes.size > 0) await burnPasswordCheck(password);
    return this.check(bareJid, password);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

interface PendingIq {
  resolve: (el: Element) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  to: string;
}

export class XmppServer {
  readonly config: XmppConfig;
  readonly log: Logger;
  readonly domains: XmppDomains;
  readonly hosts = new Map<string, Host>();
  readonly accounts = new Accounts();
  /** Bound sessions by full JID. */
  readonly sessions = new Map<string, Session>();
  /** Bound sessions by bare JID. */
  readonly sessionsByBare = new Map<string, Set<Session>>();
  /** Every live session (bound or not), for liveness pings and shutdown. */
  readonly allSessions = new Set<Session>();
  readonly tls: TlsMaterial | undefined;
  readonly muc: MucService;
  /** The authentication mode: hosts' mechanisms, session identities, room checks. */
  readonly auth: AuthService;
  readonly now: () => number;
  readonly bosh: BoshManager;
  readonly #tcp: TcpListeners;
  readonly #connectionsByAddress = new Map<string, number>();
  readonly #pendingIqs = new Map<string, PendingIq>();
  readonly #resumable = new Map<string, { session: Session; timer: NodeJS.Timeout | undefined }>();
  #pingTimer: NodeJS.Timeout | undefined;
  #iqCounter = 0;
  #stopped = false;
  readonly counters = { stanzasIn: 0, stanzasOut: 0, streamErrors: 0, connectionsRefused: 0 };

  constructor(opts: XmppServerOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.tls = opts.tls;
    this.now = opts.now ?? Date.now;
    const authConfig = opts.auth ?? authConfigSchema.parse({});
    const domains = resolveDomains(opts.config);
    const guestDomain = resolveGuestDomain(authConfig, domains.domain);
    this.domains = guestDomain !== undefined ? { ...domains, guestDomain } : domains;
    const main = this.addHost(this.domains.domain, 'user');
    main.anonymous = opts.config.anonymous;
    this.addHost(this.domains.authDomain, 'user');
    for (const h of opts.config.hosts) {
      const host = this.hosts.get(h.domain) ?? this.addHost(h.domain, 'user');
      host.anonymous = h.anonymous;
    }
    for (const a of opts.config.accounts) {
      const jid = Jid.parse(a.jid);
      if (!this.hosts.has(jid.domain)) throw new Error(`xmpp.accounts: ${a.jid}: domain is not a host of this server`);
      this.accounts.add(a.jid, a.password);
    }
    this.auth = new AuthService(this, authConfig);
    this.auth.configureHosts(main);
    for (const host of this.hosts.values()) loadCoreModules(this, host);
    this.muc = loadMuc(this, this.addHost(this.domains.mucDomain, 'service'));
    this.bosh = new BoshManager(this);
    this.#tcp = new TcpListeners(this);
  }

  addHost(domain: string, kind: Host['kind']): Host {
    const d = domain.toLowerCase();
    if (this.hosts.has(d)) throw new Error(`host ${d} already exists`);
    const host = new Host(d, kind);
    this.hosts.set(d, host);
    return host;
  }

  /** Get or create a service host (e.g. the focus component domain) for in-process modules. */
  serviceHost(domain: string): Host {
    return this.hosts.get(domain.toLowerCase()) ?? this.addHost(domain, 'service');
  }

  async start(): Promise<void> {
    await this.#tcp.start();
    const shortest = Math.min(this.config.pingIntervalSeconds, this.config.authTimeoutSeconds) * 1000;
    const intervalMs = Math.max(250, Math.min(shortest, 30_000) / 2);
    this.#pingTimer = setInterval(() => this.#checkLiveness(), intervalMs);
    this.#pingTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    for (const { session, timer } of this.#resumable.values()) {
      if (timer) clearTimeout(timer);
      session.destroy();
    }
    this.#resumable.clear();
    for (const s of [...this.allSessions]) s.close(new StreamError('system-shutdown'));
    this.bosh.stop();
    await this.#tcp.stop();
    for (const p of this.#pendingIqs.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('server stopped'));
    }
    this.#pendingIqs.clear();
  }

  /** Client addresses with an open connection, counted for `limits.maxConnectionsPerAddress` (introspection). */
  get trackedAddressCount(): number {
    return this.#connectionsByAddress.size;
  }

  /** IQs sent by server entities ({@link request}) still waiting for their answer (introspection). */
  get pendingIqCount(): number {
    return this.#pendingIqs.size;
  }

  /** Sessions registered for XEP-0198 resumption, attached or detached (introspection). */
  get resumableCount(): number {
    return this.#resumable.size;
  }

  get c2sPort(): number | undefined {
    return this.#tcp.c2sPort;
  }

  get componentPort(): number | undefined {
    return this.#tcp.componentPort;
  }

  // ---------------------------------------------------------------- transports

  /** RFC 7395: a WebSocket whose upgrade negotiated the `xmpp` subprotocol. */
  handleWebSocket(ws: WebSocket, req: IncomingMessage, info: ConnectionInfo): void {
    acceptWebSocket(this, ws, req, info);
  }

  /** XEP-0124/0206 request on /http-bind (POST, OPTIONS; GET answers a short notice). */
  handleBosh(req: IncomingMessage, res: ServerResponse, info: ConnectionInfo): void {
    this.bosh.handle(req, res, info);
  }

  /** An in-process client session bound to `jid` (for the focus and tests); no socket, no SASL. */
  createLocalSession(jid: string, onStanza: (stanza: Element) => void): Session {
    const full = Jid.parse(jid);
    const host = this.hosts.get(full.domain);
    if (!host || host.kind !== 'user') throw new Error(`createLocalSession: ${full.domain} is not a user host`);
    const transport = new LocalTransport(onStanza);
    const session = new Session(this, transport);
    transport.session = session;
    this.allSessions.add(session);
    session.host = host;
    const resource = full.resource || randomBytes(6).toString('base64url');
    if (this.sessions.has(full.withResource(resource).full)) throw new Error(`createLocalSession: ${jid} is already bound`);
    session.jid = full.withResource(resource);
    session.state = 'bound';
    this.bindSession(session);
    return session;
  }

  /** Count a new connection from an address; false if it is over the per-address limit. Memory only. */
  connectionOpened(address: string | undefined): boolean {
    if (!address) return true;
    const n = this.#connectionsByAddress.get(address) ?? 0;
    if (n >= this.config.limits.maxConnectionsPerAddress) {
      this.counters.connectionsRefused++;
      return false;
    }
    this.#connectionsByAddress.set(address, n + 1);
    return true;
  }

  connectionClosed(address: string | undefined): void {
    if (!address) return;
    const n = (this.#connectionsByAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.#connectionsByAddress.delete(address);
    else this.#connectionsByAddress.set(address, n);
  }

  // ---------------------------------------------------------------- session registry

  registerSession(session: Session): void {
    this.allSessions.add(session);
  }

  bindSession(session: Session): void {
    const jid = session.jid as Jid;
    this.sessions.set(jid.full, session);
    let set = this.sessionsByBare.get(jid.bare);
    if (!set) this.sessionsByBare.set(jid.bare, (set = new Set()));
    set.add(session);
  }

  unbindSession(session: Session): void {
    const jid = session.jid as Jid;
    if (this.sessions.get(jid.full) === session) this.sessions.delete(jid.full);
    const set = this.sessionsByBare.get(jid.bare);
    if (set) {
      set.delete(session);
      if (set.size === 0) this.sessionsByBare.delete(jid.bare);
    }
    // RFC 6121 §4.6: when a session ends, the server sends unavailable presence on its behalf: to its other
    // resources if it was available, and to every JID it sent directed presence to (MUC rooms, so the occupant
    // leaves).
    const unavailable = (to?: string): Element => xml('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: jid.full, to });
    if (session.presence) {
      session.presence = undefined;
      for (const other of set ?? []) if (other.bound) other.deliver(unavailable(other.jid?.full));
    }
    for (const to of [...session.directedPresence]) {
      session.directedPresence.delete(to);
      this.route(undefined, unavailable(to), jid);
    }
  }

  sessionClosed(session: Session): void {
    this.allSessions.delete(session);
    if (session.sm?.resumptionId) this.#resumable.delete(session.sm.resumptionId);
  }

  // ---------------------------------------------------------------- XEP-0198 resumption

  registerResumable(session: Session): void {
    const id = session.sm?.resumptionId;
    if (id) this.#resumable.set(id, { session, timer: undefined });
  }

  /** The transport of a resumable session died: keep the session for a while. */
  detachResumable(session: Session): boolean {
    const id = session.sm?.resumptionId;
    const entry = id ? this.#resumable.get(id) : undefined;
    if (!id || !entry || this.#stopped) return false;
    session.detached = true;
    entry.timer = setTimeout(() => {
      this.#resumable.delete(id);
      session.destroy();
    }, this.config.smResumeTimeoutSeconds * 1000);
    entry.timer.unref();
    session.log.debug('session detached, waiting for resumption');
    return true;
  }

  /** Anonymous re-login with ?previd=: reuse the detached session's node so resumption can be authorized. */
  resumableNode(previd: string | undefined, domain: string): string | undefined {
    if (!previd) return undefined;
    const entry = this.#resumable.get(previd);
    if (!entry || entry.session.jid?.domain !== domain) return undefined;
    return entry.session.jid.local;
  }

  /** `<resume previd h/>` on a freshly authenticated stream. */
  resumeSession(fresh: Session, el: Element): void {
    const failed = (condition: string) => {
      fresh.transport.send(serialize(xml('failed', { xmlns: NS_SM }, xml(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
    };
    const id = el.attrs.previd ?? '';
    const entry = this.#resumable.get(id);
    const old = entry?.session;
    const h = Number(el.attrs.h);
    if (!entry || !old || !old.sm || old.state !== 'bound') return failed('item-not-found');
    if (old.jid?.bare !== fresh.jid?.bare) return failed('not-authorized');
    if (!Number.isInteger(h) || !old.sm.acknowledge(h) || old.sm.overflowed) return failed('unexpected-request');
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    // The old transport (if still open) is replaced; the fresh session object is discarded.
    const oldTransport = old.transport;
    old.adoptTransport(fresh.transport);
    old.detached = false;
    if (oldTransport !== fresh.transport) oldTransport.close();
    fresh.state = 'closed';
    this.allSessions.delete(fresh);
    this.allSessions.add(old);
    fresh.transport.session = old;
    old.activity();
    old.transport.send(serialize(xml('resumed', { xmlns: NS_SM, previd: id, h: String(old.sm.handledInbound) })));
    for (const data of old.sm.unacked) old.transport.send(data);
    old.log.debug('session resumed');
  }

  // ---------------------------------------------------------------- routing

  /** Broadcast presence (no `to`): RFC 6121 §4.2.2 / §4.5.2. Sent to all of the user's available resources. */
  broadcastPresence(session: Session, presence: Element): void {
    this.counters.stanzasIn++;
    const jid = session.jid as Jid;
    if (presence.attrs.type === 'unavailable') {
      const wasAvailable = session.presence !== undefined;
      session.presence = undefined;
      const set = this.sessionsByBare.get(jid.bare);
      if (wasAvailable) for (const s of set ?? []) s.deliver(xml('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: jid.full, to: s.jid?.full }));
      // Leaving every room the session joined (LJM sends this before closing, PROTOCOL.md §2.11).
      for (const to of [...session.directedPresence]) {
        session.directedPresence.delete(to);
        this.route(undefined, xml('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: jid.full, to }), jid);
      }
      return;
    }
    session.presence = presence;
    const prio = Number(presence.getChildText('priority') ?? 0);
    session.priority = Number.isFinite(prio) ? Math.max(-128, Math.min(127, prio)) : 0;
    for (const s of this.sessionsByBare.get(jid.bare) ?? []) {
      const copy = xml('presence', { ...presence.attrs, to: s.jid?.full }, ...elements(presence));
      s.deliver(copy);
    }
  }

  /**
   * Route a stanza from `origin` (undefined: the server itself) whose `from` has been validated.
   * Never throws; problems become error replies to the sender.
   */
  route(origin: Origin | undefined, stanza: Element, from: Jid): void {
    this.counters.stanzasIn++;
    const name = stanza.name;
    const type = stanza.attrs.type as string | undefined;
    try {
      if (name === 'iq') {
        if (type !== 'get' && type !== 'set' && type !== 'result' && type !== 'error') throw new StanzaError('bad-request', { text: 'bad iq type' });
        if (!stanza.attrs.id) throw new StanzaError('bad-request', { text: 'iq without id' });
        if ((type === 'get' || type === 'set') && elements(stanza).length !== 1) throw new StanzaError('bad-request', { text: 'iq get/set needs exactly one child' });
      }
      let to: Jid;
      if (stanza.attrs.to === undefined || stanza.attrs.to === '') {
        to = from.toBare();
        delete stanza.attrs.to;
      } else {
        const parsed = Jid.tryParse(stanza.attrs.to);
        if (!parsed) throw new StanzaError('jid-malformed');
        to = parsed;
      }
      if (name === 'presence' && origin?.type === 'c2s' && to.resource && (type === undefined || type === 'unavailable')) {
        // Directed presence (RFC 6121 §4.6): remembered so the server can send unavailable when the session ends.
        const sess = origin as Session;
        if (type === undefined) sess.directedPresence.add(to.full);
        else sess.directedPresence.delete(to.full);
      }
      const host = this.hosts.get(to.domain);
      if (!host) throw new StanzaError('remote-server-not-found');
      if (host.external) {
        host.external(stanza);
        this.counters.stanzasOut++;
        return;
      }
      const target = to.local ? (to.resource ? 'full' : 'bare') : 'host';
      const event: StanzaEvent = { origin, stanza, from, to, host };
      if (name === 'iq') return this.#routeIq(event, target, type as string);
      const handled = host.bus.fire(`${name}/${target}`, event);
      if (handled === undefined && name === 'message' && type !== 'error' && type !== 'groupchat' && type !== 'headline' && target !== 'host') {
        throw new StanzaError('service-unavailable');
      }
    } catch (err) {
      this.#failed(origin, stanza, err);
    }
  }

  #routeIq(event: StanzaEvent, target: string, type: string): void {
    const { stanza, host } = event;
    if (type === 'result' || type === 'error') {
      if (target === 'host' || (target === 'bare' && event.to.bare === event.from.bare)) {
        const pending = this.#pendingIqs.get(stanza.attrs.id as string);
        if (pending && pending.to === event.from.full) return this.#settle(stanza);
      }
      host.bus.fire(`iq/${target}`, event);
      return;
    }
    const payload = elements(stanza)[0] as Element;
    const specific = `iq-${type}/${target}/${payload.attrs.xmlns ?? ''}:${payload.name}`;
    if (host.bus.has(specific)) {
      let result: unknown;
      try {
        result = host.bus.fire(specific, event);
      } catch (err) {
        return this.#failed(event.origin, stanza, err);
      }
      if (result !== undefined) return this.#iqResult(event, result);
    }
    const handled = host.bus.fire(`iq/${target}`, event);
    if (handled === undefined) throw new StanzaError('service-unavailable');
  }

  /** Turn an IQ handler's return value (element, true, promise of either, or throw) into the reply. */
  #iqResult(event: StanzaEvent, result: unknown): void {
    const reply = (payload: unknown) => {
      if (payload === false || payload === null) return; // the handler replied itself
      const res = xml('iq', { xmlns: NS_CLIENT, type: 'result', id: event.stanza.attrs.id, to: event.from.full, from: event.stanza.attrs.to ?? undefined });
      if (payload && typeof payload === 'object' && 'name' in payload) res.cnode(payload as Element);
      this.sendFrom(event.to, res);
    };
    if (result instanceof Promise) {
      result.then(reply, (err: unknown) => this.#failed(event.origin, event.stanza, err));
    } else reply(result);
  }

  #failed(origin: Origin | undefined, stanza: Element, err: unknown): void {
    let se: StanzaError;
    if (err instanceof StanzaError) se = err;
    else {
      this.log.error({ err, id: stanza.attrs.id, name: stanza.name }, 'stanza handler failed');
      se = new StanzaError('internal-server-error');
    }
    if (stanza.attrs.type === 'error' || !origin) return;
    origin.deliver(errorReply(stanza, se));
  }

  /** Send a stanza originated by a server entity (host, room, occupant): routed like any other. */
  sendFrom(from: Jid, stanza: Element): void {
    stanza.attrs.from = stanza.attrs.from ?? from.full;
    this.route(undefined, stanza, Jid.tryParse(stanza.attrs.from) ?? from);
  }

  /** Deliver directly to a bound session by full JID (no routing); false if there is none. */
  deliverToSession(fullJid: string, stanza: Element): boolean {
    const s = this.sessions.get(fullJid);
    if (!s) return false;
    this.counters.stanzasOut++;
    s.deliver(stanza);
    return true;
  }

  /** Send an IQ get/set from a server entity and wait for the answer (result element; rejects on error/timeout). */
  request(iq: Element, timeoutMs = 10_000): Promise<Element> {
    const id = iq.attrs.id ?? `srv${++this.#iqCounter}-${randomBytes(4).toString('hex')}`;
    iq.attrs.id = id;
    const to = iq.attrs.to as string;
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pendingIqs.delete(id);
        reject(new StanzaError('remote-server-timeout'));
      }, timeoutMs);
      timer.unref();
      this.#pendingIqs.set(id, { resolve, reject, timer, to });
      this.sendFrom(Jid.parse(iq.attrs.from as string), iq);
    });
  }

  #settle(stanza: Element): void {
    const id = stanza.attrs.id as string;
    const p = this.#pendingIqs.get(id);
    if (!p) return;
    this.#pendingIqs.delete(id);
    clearTimeout(p.timer);
    if (stanza.attrs.type === 'result') p.resolve(stanza);
    else p.reject(StanzaError.fromElement(stanza) ?? new StanzaError('undefined-condition'));
  }

  // ---------------------------------------------------------------- liveness

  /** XEP-0199 server→client pings for idle sessions; silent ones are dropped. */
  #checkLiveness(): void {
    const now = this.now();
    const idleMs = this.config.pingIntervalSeconds * 1000;
    const timeoutMs = this.config.pingTimeoutSeconds * 1000;
    const authTimeoutMs = this.config.authTimeoutSeconds * 1000;
    for (const s of this.allSessions) {
      // BOSH has its own inactivity timer; detached sessions wait for XEP-0198 resumption instead.
      if (s.transport.kind === 'local' || s.transport.kind === 'bosh' || s.detached) continue;
      if (!s.bound && now - s.createdAt >= authTimeoutMs) {
        // Connected but not authenticated and bound in time: frees the per-address slot of half-open clients.
        s.close(new StreamError('connection-timeout', 'authentication timeout'));
        continue;
      }
      if (s.pingSentAt) {
        if (now - s.pingSentAt >= timeoutMs) {
          s.log.debug('ping timeout');
          s.close(new StreamError('connection-timeout'));
        }
        continue;
      }
      if (now - s.lastActivity < idleMs) continue;
      s.pingSentAt = now;
      s.transport.probe?.();
      if (s.bound && s.jid && s.host) {
        const id = `ping-${randomBytes(6).toString('hex')}`;
        s.deliver(xml('iq', { xmlns: NS_CLIENT, type: 'get', id, from: s.host.domain, to: s.jid.full }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      } else if (!s.bound) {
        // Not even bound after a full idle interval: a half-open connection.
        s.close(new StreamError('connection-timeout'));
      }
    }
  }

  /** A snapshot for tests, metrics and the bench. */
  stats(): { sessions: number; bound: number; rooms: number; occupants: number; counters: XmppServer['counters'] } {
    return { sessions: this.allSessions.size, bound: this.sessions.size, rooms: this.muc.rooms.size, occupants: this.muc.occupantCount(), counters: { ...this.counters } };
  }
}

export function createXmppServer(opts: XmppServerOptions): XmppServer {
  return new XmppServer(opts);
}

