/**
 * The XMPP connection of a test participant, over the two transports lib-jitsi-meet uses:
 *
 * - WebSocket (RFC 7395) with @xmpp/client;
 * - BOSH (XEP-0124/0206) with strophe.js, the XMPP library inside lib-jitsi-meet (strophe in Node needs the
 *   XMLHttpRequest shim of packages/xmpp/test/strophe.ts, loaded only when BOSH is used).
 *
 * Both log in with SASL ANONYMOUS and bind a resource. Stanzas come out as our Element type (re-parsed from the
 * library's serialization, so the participant code does not depend on either library's element classes), and are
 * sent as XML strings. IQ get/set addressed to the participant are answered through one responder function, which
 * is how each library wants it (@xmpp/client answers unhandled requests with service-unavailable by itself).
 */
import WebSocket from 'ws';
import parseXmppJsXml from '@xmpp/xml/lib/parse.js';
import { type Element, XmlStreamParser } from '@jitsi-one/xmpp';

export type XmppTransportKind = 'websocket' | 'bosh';

/** Returns the XML of the result's payload for an IQ get/set ('' for an empty result). */
export type IqResponder = (iq: Element) => string;

export interface XmppLink {
  readonly kind: XmppTransportKind;
  /** Full JID after bind. */
  readonly jid: string;
  /** True once closed or broken. */
  readonly closed: boolean;
  /** Every stanza received (requests too, after they were answered), in order. */
  onStanza(cb: (el: Element) => void): void;
  /** Answers IQ get/set sent to us; replaces the previous responder. */
  respond(fn: IqResponder): void;
  /** Sends one stanza given as XML. */
  send(xml: string): void;
  /** Sends an IQ (XML with an `id`) and resolves with the matching result or error stanza. */
  iq(xml: string, timeoutMs?: number): Promise<Element>;
  nextId(): string;
  /**
   * Stops reading and answering without a goodbye (no unavailable presence, no close): WebSocket reads pause (so
   * neither WebSocket pings nor XMPP pings are answered), BOSH stops polling. `terminate` also destroys the socket.
   */
  stall(opts?: { terminate?: boolean }): void;
  /** Ends the stream cleanly (or tears down a stalled one). */
  close(): Promise<void>;
}

/** One parser per link: turns a serialized stanza back into our Element, synchronously. */
function reparser(): (xml: string) => Element {
  let out: Element | undefined;
  let failure: Error | undefined;
  const parser = new XmlStreamParser(
    'framed',
    {
      element: (el) => {
        out = el;
      },
      error: (err) => {
        failure = err;
      },
    },
    { maxStanzaSize: 10_000_000 },
  );
  return (xml) => {
    out = undefined;
    failure = undefined;
    parser.write(xml);
    if (failure !== undefined) throw failure;
    if (out === undefined) throw new Error(`not one complete stanza: ${xml.slice(0, 200)}`);
    return out;
  };
}

/** Pending IQs by id, resolved from the stanza stream. */
class IqWaiters {
  readonly #pending = new Map<string, { resolve: (el: Element) => void; timer: NodeJS.Timeout }>();

  wait(id: string, timeoutMs: number, label: string): Promise<Element> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`IQ ${id} timed out after ${timeoutMs} ms: ${label}`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, timer });
    });
  }

  /** Resolves the waiter for a result/error IQ; true when one was waiting. */
  settle(el: Element): boolean {
    if (el.name !== 'iq' || (el.attrs.type !== 'result' && el.attrs.type !== 'error')) return false;
    const w = this.#pending.get(String(el.attrs.id));
    if (w === undefined) return false;
    this.#pending.delete(String(el.attrs.id));
    clearTimeout(w.timer);
    w.resolve(el);
    return true;
  }

  clear(): void {
    for (const w of this.#pending.values()) clearTimeout(w.timer);
    this.#pending.clear();
  }
}

function idOf(xml: string): string {
  const m = /^<iq\b[^>]*\bid=(["'])(.*?)\1/.exec(xml);
  if (m?.[2] === undefined) throw new Error(`IQ without id: ${xml.slice(0, 120)}`);
  return m[2];
}

let linkCounter = 0;

// ------------------------------------------------------------------------------------------------- @xmpp/client

/** What we use of @xmpp/client (it ships no types; see packages/xmpp/test/xmpp-client.d.ts). */
interface XmppJsClient {
  on(event: 'online', cb: (jid: { toString(): string }) => void): void;
  on(event: 'stanza', cb: (el: { toString(): string }) => void): void;
  on(event: 'error' | 'offline', cb: (arg: unknown) => void): void;
  start(): Promise<unknown>;
  stop(): Promise<void>;
  write(s: string): Promise<void>;
  middleware: { use(fn: (ctx: { stanza: { toString(): string; attrs: Record<string, string> } }, next: () => unknown) => unknown): void };
  socket?: { socket?: WebSocket };
  reconnect?: { stop(): void };
}

class XmppJsLink implements XmppLink {
  readonly kind = 'websocket' as const;
  jid = '';
  closed = false;
  readonly #c: XmppJsClient;
  readonly #parse = reparser();
  readonly #waiters = new IqWaiters();
  readonly #listeners: Array<(el: Element) => void> = [];
  #responder: IqResponder = () => '';
  #ids = 0;
  readonly #prefix = `x${++linkCounter}-`;

  constructor(c: XmppJsClient) {
    this.#c = c;
    // Runs after @xmpp/client's own IQ routes (ping): the value returned is the reply (true = empty result).
    c.middleware.use((ctx, next) => {
      const st = ctx.stanza;
      if (st.attrs.type !== 'get' && st.attrs.type !== 'set') return next();
      const payload = this.#responder(this.#parse(st.toString()));
      if (payload === '') return true;
      // The reply must be @xmpp/xml's own Element class (the library checks instanceof).
      return parseXmppJsXml(payload);
    });
    c.on('stanza', (raw) => {
      const el = this.#parse(raw.toString());
      if (this.#waiters.settle(el)) return;
      for (const l of this.#listeners) l(el);
    });
    c.on('offline', () => {
      this.closed = true;
    });
  }

  static async connect(service: string, domain: string): Promise<XmppJsLink> {
    // Node 20 has no global WebSocket; @xmpp/websocket expects one (browsers and Node 22 have it).
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
    const { client } = (await import('@xmpp/client')) as unknown as { client(o: Record<string, unknown>): XmppJsClient };
    const c = client({ service, domain });
    c.on('error', () => undefined);
    const link = new XmppJsLink(c);
    const online = new Promise<string>((resolve) => c.on('online', (jid) => resolve(jid.toString())));
    await c.start();
    link.jid = await online;
    c.reconnect?.stop();
    return link;
  }

  onStanza(cb: (el: Element) => void): void {
    this.#listeners.push(cb);
  }

  respond(fn: IqResponder): void {
    this.#responder = fn;
  }

  send(xml: string): void {
    if (this.closed) return;
    this.#c.write(xml).catch(() => undefined);
  }

  iq(xml: string, timeoutMs = 10_000): Promise<Element> {
    const p = this.#waiters.wait(idOf(xml), timeoutMs, xml.slice(0, 160));
    this.send(xml);
    return p;
  }

  nextId(): string {
    return `${this.#prefix}${++this.#ids}`;
  }

  get #ws(): WebSocket | undefined {
    return this.#c.socket?.socket;
  }

  stall(opts: { terminate?: boolean } = {}): void {
    this.#c.reconnect?.stop();
    this.#ws?.pause();
    if (opts.terminate === true) this.#ws?.terminate();
  }

  async close(): Promise<void> {
    this.#waiters.clear();
    if (this.closed) return;
    this.closed = true;
    const ws = this.#ws;
    if (ws !== undefined && ws.isPaused) {
      ws.terminate();
      return;
    }
    await Promise.race([this.#c.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    this.#ws?.terminate();
  }
}

// ------------------------------------------------------------------------------------------------------ strophe.js

interface StropheLike {
  jid: string;
  send(el: unknown): void;
  addHandler(handler: (el: unknown) => boolean, ns?: string | null, name?: string | null): unknown;
  disconnect(reason?: string): void;
  pause(): void;
  reset?(): void;
  _proto?: { _abortAllRequests?: () => void };
}

class StropheLink implements XmppLink {
  readonly kind = 'bosh' as const;
  readonly jid: string;
  closed = false;
  readonly #c: StropheLike;
  readonly #parse = reparser();
  readonly #waiters = new IqWaiters();
  readonly #listeners: Array<(el: Element) => void> = [];
  readonly #toDom: (xml: string) => unknown;
  #responder: IqResponder = () => '';
  #ids = 0;
  readonly #prefix = `s${++linkCounter}-`;

  constructor(c: StropheLike, serialize: (el: unknown) => string, toDom: (xml: string) => unknown) {
    this.#c = c;
    this.jid = c.jid;
    this.#toDom = toDom;
    c.addHandler((dom) => {
      const el = this.#parse(serialize(dom));
      if (el.name === 'iq' && (el.attrs.type === 'get' || el.attrs.type === 'set')) {
        const payload = this.#responder(el);
        this.send(`<iq type="result" id="${String(el.attrs.id)}" to="${String(el.attrs.from ?? '')}">${payload}</iq>`);
      } else if (this.#waiters.settle(el)) {
        return true;
      }
      for (const l of this.#listeners) l(el);
      return true; // keep the handler
    });
  }

  static async connect(service: string, domain: string): Promise<StropheLink> {
    const { connectStrophe } = await import('../packages/xmpp/test/strophe.js');
    const conn = (await connectStrophe(service, domain)) as unknown as StropheLike;
    // strophe's Node entry installed DOMParser and XMLSerializer as globals.
    const g = globalThis as unknown as {
      XMLSerializer: new () => { serializeToString(n: unknown): string };
      DOMParser: new () => { parseFromString(s: string, type: string): { documentElement: unknown } };
    };
    const ser = new g.XMLSerializer();
    const dp = new g.DOMParser();
    return new StropheLink(
      conn,
      (el) => ser.serializeToString(el),
      (xml) => dp.parseFromString(xml, 'text/xml').documentElement,
    );
  }

  onStanza(cb: (el: Element) => void): void {
    this.#listeners.push(cb);
  }

  respond(fn: IqResponder): void {
    this.#responder = fn;
  }

  send(xml: string): void {
    if (this.closed) return;
    this.#c.send(this.#toDom(xml));
  }

  iq(xml: string, timeoutMs = 10_000): Promise<Element> {
    const p = this.#waiters.wait(idOf(xml), timeoutMs, xml.slice(0, 160));
    this.send(xml);
    return p;
  }

  nextId(): string {
    return `${this.#prefix}${++this.#ids}`;
  }

  stall(opts: { terminate?: boolean } = {}): void {
    this.#c.pause();
    if (opts.terminate === true) this.#c._proto?._abortAllRequests?.();
  }

  async close(): Promise<void> {
    this.#waiters.clear();
    if (this.closed) return;
    this.closed = true;
    this.#c.disconnect();
  }
}

/** Connects and logs in anonymously over the given transport; `service` is the ws(s) or http(s) BOSH URL. */
export function connectXmpp(kind: XmppTransportKind, service: string, domain: string): Promise<XmppLink> {
  return kind === 'websocket' ? XmppJsLink.connect(service, domain) : StropheLink.connect(service, domain);
}
