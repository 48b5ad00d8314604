/**
 * XEP-0114 (Jabber Component Protocol, "accept" side): lets a focus or bridge run as a separate process.
 *
 * Every configured component domain is a Host of kind 'component' from construction on, so routing always knows
 * it. While its component is connected, `host.external` hands it every stanza addressed to the domain; while it is
 * not, low-priority handlers on the host's bus answer `service-unavailable` (type wait, as Prosody's
 * mod_component does).
 *
 * Connection: the component opens `<stream:stream xmlns='jabber:component:accept' to='comp.domain'>`, we answer
 * with a header carrying a fresh stream id, the component proves the shared secret with
 * `<handshake>hex(sha1(id + secret))</handshake>` and gets `<handshake/>` (or `not-authorized`). Unknown domain:
 * `host-unknown`. A second connection for a domain that is already connected is refused with `conflict` (the
 * running one is kept: a stray or misconfigured second process cannot take over a working bridge; a dead one is
 * detected by the socket closing or by the liveness ping below, after which the domain is free again).
 *
 * Stanzas from the component: `from` must be the component domain or a JID at it (else `invalid-from`; a missing
 * `from` is stamped with the domain), `to` is required (else a `bad-request` error reply). They are routed as
 * jabber:client stanzas; stanzas to the component are written without a namespace (they inherit
 * jabber:component:accept from the stream).
 *
 * Liveness: a component silent for `pingIntervalSeconds` gets an XEP-0199 ping from the main domain; with no data
 * for `pingTimeoutSeconds` after it, the connection is closed. A connection that has not completed the handshake
 * within one interval is closed. After the handshake a component is not byte-rate limited (it is part of the
 * deployment; Prosody's mod_limits likewise covers only c2s and s2s); before it, the c2s limit applies.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0114.html
 * - https://www.rfc-editor.org/rfc/rfc6120#section-4.9 (stream errors)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Host, StanzaEvent } from '../host.js';
import type { XmppServer } from '../server.js';
import type { Origin } from '../session.js';
import { StanzaError, StreamError, errorReply } from '../stanza/errors.js';
import { Jid } from '../stanza/jid.js';
import { NS_CLIENT, NS_COMPONENT, NS_PING } from '../stanza/ns.js';
import { Element, serialize, text, xml } from '../stanza/xml.js';
import { XmlStreamParser } from '../stream/parser.js';
import { StreamSocket, checkStreamHeader, streamHeader } from './c2s-tcp.js';

const STREAM_CLOSE = '</stream:stream>';

export interface ComponentEntry {
  readonly domain: string;
  readonly secret: string;
  readonly host: Host;
  connection: ComponentConnection | undefined;
}

/** The configured components, their hosts and live connections. */
export class ComponentService {
  readonly #server: XmppServer;
  readonly #entries = new Map<string, ComponentEntry>();
  readonly #connections = new Set<ComponentConnection>();
  #timer: NodeJS.Timeout | undefined;

  constructor(server: XmppServer) {
    this.#server = server;
    for (const c of server.config.components) {
      const domain = c.domain.toLowerCase();
      if (server.hosts.has(domain)) throw new Error(`xmpp.components: ${domain} is already a host of this server`);
      const host = server.addHost(domain, 'component');
      this.#entries.set(domain, { domain, secret: c.secret, host, connection: undefined });
      installUnavailable(host);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether a component is connected (handshake done) for `domain`. */
  connected(domain: string): boolean {
    return this.#entries.get(domain.toLowerCase())?.connection !== undefined;
  }

  entry(domain: string): ComponentEntry | undefined {
    return this.#entries.get(domain.toLowerCase());
  }

  accept(socket: Socket): StreamSocket {
    const conn = new ComponentConnection(this.#server, this, socket);
    this.#connections.add(conn);
    return conn.io;
  }

  /** The connection finished its handshake: it serves the domain unless another one already does. */
  claim(conn: ComponentConnection, entry: ComponentEntry): boolean {
    if (entry.connection && entry.connection !== conn) return false;
    entry.connection = conn;
    entry.host.external = (stanza) => conn.deliver(stanza);
    return true;
  }

  /** The connection is gone. */
  release(conn: ComponentConnection): void {
    this.#connections.delete(conn);
    const entry = conn.entry;
    if (entry && entry.connection === conn) {
      entry.connection = undefined;
      entry.host.external = undefined;
    }
  }

  startLiveness(): void {
    const cfg = this.#server.config;
    const intervalMs = Math.max(250, Math.min(cfg.pingIntervalSeconds * 1000, 30_000) / 2);
    this.#timer = setInterval(() => {
      for (const c of [...this.#connections]) c.checkLiveness();
    }, intervalMs);
    this.#timer.unref();
  }

  /** Close every component stream (system-shutdown) and flush. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const c of [...this.#connections]) c.close(new StreamError('system-shutdown'));
  }
}

/** While no component is connected, stanzas to its domain bounce (Prosody mod_component: wait/service-unavailable). */
function installUnavailable(host: Host): void {
  const bounce = (e: StanzaEvent): unknown => {
    if (host.external) return undefined;
    const type = e.stanza.attrs.type;
    if (type === 'error' || type === 'result') return true;
    if (e.stanza.name === 'presence' && type === 'unavailable') return true;
    throw new StanzaError('service-unavailable', { type: 'wait', text: 'component not connected' });
  };
  for (const kind of ['iq', 'message', 'presence']) {
    for (const target of ['host', 'bare', 'full']) host.bus.on(`${kind}/${target}`, bounce, -1000);
  }
}

type ComponentState = 'opening' | 'handshake' | 'ready' | 'closed';

export class ComponentConnection implements Origin {
  readonly type = 'component' as const;
  readonly io: StreamSocket;
  entry: ComponentEntry | undefined;
  state: ComponentState = 'opening';
  readonly #server: XmppServer;
  readonly #service: ComponentService;
  readonly #parser: XmlStreamParser;
  readonly #streamId = randomBytes(12).toString('hex');
  #log: Logger;
  #headerSent = false;
  readonly #openedAt: number;
  #lastActivity: number;
  #pingSentAt = 0;
  #pingId: string | undefined;

  constructor(server: XmppServer, service: ComponentService, socket: Socket) {
    this.#server = server;
    this.#service = service;
    this.#log = server.log.child({ transport: 'component' });
    this.#lastActivity = server.now();
    this.#openedAt = this.#lastActivity;
    const limits = server.config.limits;
    this.#parser = new XmlStreamParser(
      'stream',
      {
        streamOpen: (name, attrs) => this.#streamOpen(name, attrs),
        element: (el) => this.#element(el),
        streamClose: () => this.close(),
        error: (err) => this.close(err),
      },
      { maxStanzaSize: limits.maxStanzaSize, maxDepth: limits.maxXmlDepth, maxAttributes: limits.maxAttributes },
    );
    this.io = new StreamSocket(socket, limits, {
      text: (chunk) => {
        this.#activity();
        this.#parser.write(chunk);
      },
      error: (err) => this.close(err),
      closed: () => this.#closed(),
    });
  }

  get domain(): string | undefined {
    return this.entry?.domain;
  }

  #activity(): void {
    this.#lastActivity = this.#server.now();
    this.#pingSentAt = 0;
  }

  #sendHeader(from: string): void {
    if (this.#headerSent) return;
    this.#headerSent = true;
    this.io.write(streamHeader(NS_COMPONENT, { id: this.#streamId, from }));
  }

  #streamOpen(name: string, attrs: Record<string, string>): void {
    const to = attrs.to ? Jid.tryParse(attrs.to) : undefined;
    const entry = to && !to.local && !to.resource ? this.#service.entry(to.domain) : undefined;
    this.#sendHeader(entry?.domain ?? to?.domain ?? this.#server.domains.domain);
    const bad = checkStreamHeader(name, attrs, NS_COMPONENT);
    if (bad) return this.close(bad);
    if (!attrs.to) return this.close(new StreamError('improper-addressing', 'the stream header needs a to'));
    if (!entry) return this.close(new StreamError('host-unknown', 'no such component'));
    this.entry = entry;
    this.#log = this.#server.log.child({ transport: 'component', component: entry.domain });
    this.state = 'handshake';
  }

  #element(el: Element): void {
    if (this.state === 'closed') return;
    try {
      if (el.name === 'stream:error') return this.close();
      if (this.state === 'handshake') return this.#handshake(el);
      if (this.state !== 'ready') throw new StreamError('not-authorized');
      this.#stanza(el);
    } catch (err) {
      if (err instanceof StreamError) return this.close(err);
      this.#log.error({ err }, 'unexpected error handling component element');
      this.close(new StreamError('internal-server-error'));
    }
  }

  #handshake(el: Element): void {
    const entry = this.entry as ComponentEntry;
    if (el.name !== 'handshake' || (el.attrs.xmlns !== undefined && el.attrs.xmlns !== NS_COMPONENT)) {
      throw new StreamError('not-authorized', 'handshake first');
    }
    const expected = createHash('sha1').update(this.#streamId + entry.secret, 'utf8').digest();
    const got = text(el).trim().toLowerCase();
    const ok = /^[0-9a-f]{40}$/.test(got) && timingSafeEqual(Buffer.from(got, 'hex'), expected);
    if (!ok) {
      this.#log.info('component handshake failed');
      throw new StreamError('not-authorized', 'bad handshake');
    }
    if (!this.#service.claim(this, entry)) {
      this.#log.info('component already connected; refusing the new connection');
      throw new StreamError('conflict', 'component already connected');
    }
    this.state = 'ready';
    // Part of the deployment from now on: no byte rate limit (Prosody's mod_limits covers c2s/s2s, not components).
    this.io.throttle = false;
    this.io.write(serialize(xml('handshake')));
    this.#log.info('component connected');
  }

  #stanza(el: Element): void {
    const entry = this.entry as ComponentEntry;
    const name = el.name;
    if (name !== 'iq' && name !== 'message' && name !== 'presence') throw new StreamError('unsupported-stanza-type');
    if (el.attrs.xmlns !== undefined && el.attrs.xmlns !== NS_COMPONENT && el.attrs.xmlns !== NS_CLIENT) {
      throw new StreamError('invalid-namespace', 'stanzas must be in jabber:component:accept');
    }
    let from: Jid;
    if (el.attrs.from === undefined) from = new Jid('', entry.domain);
    else {
      const parsed = Jid.tryParse(el.attrs.from);
      if (!parsed || parsed.domain !== entry.domain) throw new StreamError('invalid-from', `from must be at ${entry.domain}`);
      from = parsed;
    }
    el.attrs.from = from.full;
    el.attrs.xmlns = NS_CLIENT;
    const type = el.attrs.type;
    if (name === 'iq' && this.#pingId !== undefined && el.attrs.id === this.#pingId && (type === 'result' || type === 'error')) {
      this.#pingId = undefined;
      return;
    }
    if (el.attrs.to === undefined || el.attrs.to === '') {
      if (type !== 'error') this.deliver(errorReply(el, new StanzaError('bad-request', { text: 'components must address their stanzas (to)' })));
      return;
    }
    this.#server.route(this, el, from);
  }

  /** Send a stanza to the component (stanza namespace: the stream's jabber:component:accept). */
  deliver(stanza: Element): void {
    if (this.state !== 'ready') return;
    const { xmlns: _ns, ...attrs } = stanza.attrs;
    // A shallow copy: the same element may be on its way to other recipients.
    const copy = new Element(stanza.name, attrs);
    copy.children = stanza.children;
    this.io.write(serialize(copy));
  }

  checkLiveness(): void {
    if (this.state === 'closed') return;
    const now = this.#server.now();
    const cfg = this.#server.config;
    if (this.#pingSentAt) {
      if (now - this.#pingSentAt >= cfg.pingTimeoutSeconds * 1000) {
        this.#log.info('component ping timeout');
        this.close(new StreamError('connection-timeout'));
      }
      return;
    }
    if (this.state !== 'ready') {
      // The handshake must be done within one interval, however much whitespace trickles in.
      if (now - this.#openedAt >= cfg.pingIntervalSeconds * 1000) this.close(new StreamError('connection-timeout'));
      return;
    }
    if (now - this.#lastActivity < cfg.pingIntervalSeconds * 1000) return;
    this.#pingSentAt = now;
    this.#pingId = `cping-${randomBytes(6).toString('hex')}`;
    const domain = (this.entry as ComponentEntry).domain;
    this.deliver(xml('iq', { type: 'get', id: this.#pingId, from: this.#server.domains.domain, to: domain }, xml('ping', { xmlns: NS_PING })));
  }

  /** End the stream, optionally with a stream error first. Idempotent. */
  close(err?: StreamError): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    if (!this.#headerSent) this.#sendHeader(this.entry?.domain ?? this.#server.domains.domain);
    if (err) {
      this.#log.debug({ condition: err.condition }, 'component stream error');
      this.io.write(serialize(err.toElement()));
    }
    this.io.end(STREAM_CLOSE);
    this.#service.release(this);
    if (wasReady) this.#log.info('component disconnected');
  }

  #closed(): void {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.#service.release(this);
    if (wasReady) this.#log.info('component disconnected');
  }
}
