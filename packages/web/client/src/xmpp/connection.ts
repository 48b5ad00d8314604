/**
 * A small XMPP client, speaking exactly what strophe.js (and so lib-jitsi-meet) puts on the wire: SASL ANONYMOUS
 * without initial response (or PLAIN with it, to log in on a secure domain; RFC 4616), resource binding without a requested resource, no session IQ, no stream management.
 * IQ responses are matched by `id` only, as Strophe does.
 *
 * The stream runs over a WebSocket (RFC 7395); when the WebSocket cannot be opened at all, over BOSH (XEP-0124/0206)
 * at `boshUrl` instead (transport.ts, websocket.ts, bosh.ts).
 *
 * Incoming stanzas other than IQ responses go to the registered handlers in order; an IQ get/set that no handler
 * takes is answered `service-unavailable` (RFC 6120 §8.4). XEP-0199 pings from the server are answered here, and
 * the client pings the server as LJM does (every 10 s; two unanswered in a row count as a lost connection, so a
 * dead network is noticed even when no socket error arrives).
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7395 (XMPP over WebSocket), XEP-0124 / XEP-0206 (BOSH)
 * - https://www.rfc-editor.org/rfc/rfc6120#section-6 (SASL), §7 (resource binding), §8.2.3 (IQ semantics)
 * - https://www.rfc-editor.org/rfc/rfc4505 (ANONYMOUS mechanism)
 * - https://xmpp.org/extensions/xep-0199.html (ping)
 * - /work/shared/PROTOCOL.md §2.1–§2.4, §2.7, Appendix B (ping interval, timeout, threshold)
 */
import { type Element, NS_BIND, NS_CLIENT, NS_PING, NS_SASL, NS_STANZAS, NS_STREAMS, xml } from '@jitsi-one/xmpp';
import { plainAuthPayload } from '../auth.js';
import { Emitter } from '../events.js';
import { BoshTransport } from './bosh.js';
import type { Transport } from './transport.js';
import { WebSocketTransport } from './websocket.js';

/** An IQ answered with `type="error"` (or not answered in time: condition `remote-server-timeout`). */
export class IqError extends Error {
  override readonly name = 'IqError';
  /** The RFC 6120 defined condition, e.g. `item-not-found`. */
  readonly condition: string;
  /** The error stanza, when there was one. */
  readonly stanza: Element | undefined;

  constructor(condition: string, stanza?: Element) {
    super(`IQ failed: ${condition}`);
    this.condition = condition;
    this.stanza = stanza;
  }
}

/** The server refused the SASL login (`<failure>`): `condition` (e.g. `not-authorized`) and its `<text>`. */
export class LoginError extends Error {
  override readonly name = 'LoginError';
  readonly condition: string;
  readonly text: string | undefined;

  constructor(condition: string, text?: string) {
    super(`login refused: ${text ?? condition}`);
    this.condition = condition;
    this.text = text;
  }
}

/** Handles an incoming stanza; returns true when it took it (stops the other handlers). */
export type StanzaHandler = (stanza: Element) => boolean;

export interface XmppConnectionOptions {
  /** `ws:`/`wss:` URL of the XMPP WebSocket endpoint (`config.websocket`); omit to use BOSH only. */
  url?: string | undefined;
  /** BOSH URL (`config.bosh`, may be relative): used when the WebSocket cannot be opened. */
  boshUrl?: string | undefined;
  /** The XMPP domain (`config.hosts.domain`, or `hosts.anonymousdomain` for guests). */
  domain: string;
  /** Log in with SASL PLAIN (secure domain); anonymously without. */
  credentials?: { username: string; password: string } | undefined;
  /** How long to wait for each step of the login (and for the WebSocket to open). Default 10 s. */
  timeoutMs?: number;
  /** Client pings to the server (LJM: every 10 s, 5 s timeout, 2 failures); 0 turns them off. */
  pingIntervalMs?: number;
}

interface ConnectionEvents {
  /** The connection is gone; `error` is set unless we closed it ourselves. */
  closed: { error?: Error };
}

const DEFAULT_TIMEOUT_MS = 10_000;
const PING_INTERVAL_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;
const PING_FAILURES = 2;

export class XmppConnection extends Emitter<ConnectionEvents> {
  readonly #transport: Transport;
  readonly #domain: string;
  readonly #timeoutMs: number;
  readonly #credentials: { username: string; password: string } | undefined;
  readonly #handlers: StanzaHandler[] = [];
  readonly #pending = new Map<string, { resolve: (el: Element) => void; reject: (err: Error) => void; timer: number }>();
  /** Elements received during login, consumed in order by {@link #nextFrame}. */
  readonly #frames: Element[] = [];
  #frameWaiter: ((el: Element | undefined) => void) | undefined;
  #bound = false;
  #closed = false;
  #closedEmitted = false;
  #nextId = 0;
  #pingTimer: number | undefined;
  #pingFailures = 0;
  readonly #idPrefix = Math.random().toString(36).slice(2, 8);
  /** The full JID the server bound. */
  jid = '';

  private constructor(transport: Transport, domain: string, timeoutMs: number, credentials?: { username: string; password: string }) {
    super();
    this.#transport = transport;
    this.#domain = domain;
    this.#timeoutMs = timeoutMs;
    this.#credentials = credentials;
    transport.onElement = (el) => this.#onElement(el);
    transport.onClose = (error) => this.#onClosed(error);
  }

  /**
   * Opens the WebSocket (or, when it cannot be opened and `boshUrl` is given, a BOSH session), authenticates
   * (anonymously, or with SASL PLAIN when `credentials` are given) and binds a resource. A refused login rejects
   * with {@link LoginError}.
   */
  static async connect(opts: XmppConnectionOptions): Promise<XmppConnection> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let transport: Transport | undefined;
    let wsError: unknown;
    if (opts.url !== undefined) {
      try {
        transport = await WebSocketTransport.open(opts.url, opts.domain, timeoutMs);
      } catch (err) {
        wsError = err;
        if (opts.boshUrl === undefined) throw err;
        console.warn('XMPP WebSocket unavailable, falling back to BOSH', err);
      }
    }
    if (transport === undefined) {
      if (opts.boshUrl === undefined) throw wsError instanceof Error ? wsError : new Error('no XMPP service URL');
      transport = new BoshTransport(opts.boshUrl, opts.domain);
    }
    const conn = new XmppConnection(transport, opts.domain, timeoutMs, opts.credentials);
    try {
      await conn.#login();
      conn.#startPings(opts.pingIntervalMs ?? PING_INTERVAL_MS);
      return conn;
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** `websocket` or `bosh`. */
  get transport(): 'websocket' | 'bosh' {
    return this.#transport.kind;
  }

  /** False once closed (by either side). */
  get connected(): boolean {
    return !this.#closed;
  }

  /** A fresh stanza id. */
  nextId(): string {
    return `${this.#idPrefix}:${++this.#nextId}`;
  }

  /** Registers a handler for incoming stanzas (presence, message, IQ get/set); returns the unregister function. */
  addHandler(handler: StanzaHandler): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  /** Sends a stanza (`xmlns="jabber:client"` is added when missing). */
  send(stanza: Element): void {
    if (this.#closed) return;
    if (stanza.attrs.xmlns === undefined) stanza.attrs.xmlns = NS_CLIENT;
    this.#transport.send(stanza.toString());
  }

  /**
   * Sends an IQ get/set (an `id` is added when missing) and resolves with the `result`; rejects with {@link IqError}
   * on `error` or after `timeoutMs`.
   */
  iq(stanza: Element, timeoutMs = this.#timeoutMs): Promise<Element> {
    const id = (stanza.attrs.id as string | undefined) ?? this.nextId();
    stanza.attrs.id = id;
    return new Promise<Element>((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('not connected'));
        return;
      }
      const timer = window.setTimeout(() => {
        this.#pending.delete(id);
        reject(new IqError('remote-server-timeout'));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.send(stanza);
    });
  }

  /** Answers an IQ get/set with an empty result, or with `payload` in it. */
  reply(request: Element, payload?: Element): void {
    this.send(xml('iq', { type: 'result', id: request.attrs.id as string, to: request.attrs.from as string | undefined }, payload));
  }

  /** Answers an IQ get/set with an error (RFC 6120 §8.3). */
  replyError(request: Element, condition: string, type = 'cancel'): void {
    this.send(
      xml(
        'iq',
        { type: 'error', id: request.attrs.id as string, to: request.attrs.from as string | undefined },
        xml('error', { type }, xml(condition, { xmlns: NS_STANZAS })),
      ),
    );
  }

  /** Closes the stream (RFC 7395 §3.6 / BOSH terminate) and the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
    this.#onClosed(undefined);
  }

  /** Drops the connection as a network failure would: no stream close; `closed` reports an error (tests). */
  drop(): void {
    this.#transport.abort();
  }

  async #login(): Promise<void> {
    // RFC 7395 §3.4 / XEP-0206 §4 (PROTOCOL §2.1–2.2): the features after the stream opens.
    let features = await this.#openStream();
    const mechanisms = features.getChild('mechanisms', NS_SASL)?.getChildren('mechanism').map((m) => m.getText()) ?? [];
    const creds = this.#credentials;
    if (creds !== undefined) {
      if (!mechanisms.includes('PLAIN')) throw new LoginError('invalid-mechanism', 'the server does not offer password login');
      // RFC 4616: PLAIN with the initial response (strophe sends it with the <auth/>).
      this.#transport.send(`<auth xmlns="${NS_SASL}" mechanism="PLAIN">${plainAuthPayload(creds.username, creds.password)}</auth>`);
    } else {
      if (!mechanisms.includes('ANONYMOUS')) throw new LoginError('invalid-mechanism', 'the server does not offer anonymous login');
      // RFC 4505: ANONYMOUS with no initial response (strophe sends none).
      this.#transport.send(`<auth xmlns="${NS_SASL}" mechanism="ANONYMOUS"/>`);
    }
    const outcome = await this.#nextFrame();
    if (outcome.name !== 'success') {
      // RFC 6120 §6.5: <failure><condition/><text>…</text></failure>.
      const condition = outcome.children.find((c) => typeof c !== 'string' && c.name !== 'text') as Element | undefined;
      const text = outcome.getChildText('text') ?? undefined;
      throw new LoginError(outcome.name === 'failure' ? (condition?.name ?? 'undefined-condition') : 'undefined-condition', text === '' ? undefined : text);
    }
    features = await this.#openStream();
    if (features.getChild('bind', NS_BIND) === undefined) throw new Error('the server offers no resource binding');
    // RFC 6120 §7.6: no <resource/>, the server picks one.
    const id = this.nextId();
    this.#transport.send(xml('iq', { xmlns: NS_CLIENT, type: 'set', id }, xml('bind', { xmlns: NS_BIND })).toString());
    const bound = await this.#nextFrame();
    const jid = bound.getChild('bind', NS_BIND)?.getChildText('jid');
    if (bound.name !== 'iq' || bound.attrs.id !== id || bound.attrs.type !== 'result' || !jid?.includes('/')) {
      throw new Error('resource binding failed');
    }
    this.jid = jid;
    this.#bound = true;
    for (const f of this.#frames.splice(0)) this.#dispatch(f);
  }

  async #openStream(): Promise<Element> {
    this.#transport.openStream();
    const features = await this.#nextFrame();
    if (features.name !== 'stream:features' && !(features.name === 'features' && features.attrs.xmlns === NS_STREAMS)) {
      throw new Error('no stream features');
    }
    return features;
  }

  #nextFrame(): Promise<Element> {
    const queued = this.#frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(new Error('connection closed during login'));
    return new Promise<Element>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.#frameWaiter = undefined;
        reject(new Error('the XMPP server did not answer'));
      }, this.#timeoutMs);
      this.#frameWaiter = (el) => {
        window.clearTimeout(timer);
        this.#frameWaiter = undefined;
        if (el === undefined) reject(new Error('connection closed during login'));
        else resolve(el);
      };
    });
  }

  /** XEP-0199 pings to the server (LJM `strophe.ping.ts`): two failures in a row end the connection. */
  #startPings(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.#pingTimer = window.setInterval(() => {
      this.iq(xml('iq', { type: 'get', to: this.#domain }, xml('ping', { xmlns: NS_PING })), PING_TIMEOUT_MS).then(
        () => {
          this.#pingFailures = 0;
        },
        (err: unknown) => {
          // An error answer still proves the server is there; only silence counts.
          if (err instanceof IqError && err.condition !== 'remote-server-timeout') this.#pingFailures = 0;
          else if (++this.#pingFailures >= PING_FAILURES && !this.#closed) this.#onClosed(new Error('the server stopped answering'));
        },
      );
    }, intervalMs);
  }

  #onElement(el: Element): void {
    if (!this.#bound) {
      if (this.#frameWaiter !== undefined) this.#frameWaiter(el);
      else this.#frames.push(el);
      return;
    }
    this.#dispatch(el);
  }

  #dispatch(el: Element): void {
    const type = el.attrs.type as string | undefined;
    if (el.name === 'iq' && (type === 'result' || type === 'error')) {
      const id = el.attrs.id as string | undefined;
      const p = id === undefined ? undefined : this.#pending.get(id);
      if (p === undefined || id === undefined) return;
      this.#pending.delete(id);
      window.clearTimeout(p.timer);
      if (type === 'result') p.resolve(el);
      else {
        const cond = (el.getChild('error')?.children.find((c) => typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS) as Element | undefined)?.name;
        p.reject(new IqError(cond ?? 'undefined-condition', el));
      }
      return;
    }
    for (const h of [...this.#handlers]) {
      try {
        if (h(el)) return;
      } catch (err) {
        console.error('stanza handler failed', err);
      }
    }
    if (el.name === 'iq' && (type === 'get' || type === 'set')) {
      if (type === 'get' && el.getChild('ping', NS_PING) !== undefined) this.reply(el);
      else this.replyError(el, 'service-unavailable');
    }
  }

  #onClosed(error: Error | undefined): void {
    const wasClosed = this.#closed;
    this.#closed = true;
    window.clearInterval(this.#pingTimer);
    this.#frameWaiter?.(undefined);
    for (const [id, p] of this.#pending) {
      window.clearTimeout(p.timer);
      p.reject(new Error('connection closed'));
      this.#pending.delete(id);
    }
    // Dropped by the other side (or gone silent): make sure the transport is shut too.
    if (!wasClosed && error !== undefined) this.#transport.abort();
    if (this.#closedEmitted) return;
    this.#closedEmitted = true;
    this.emit('closed', error === undefined ? {} : { error });
  }
}
