/**
 * A scripted XMPP-over-WebSocket client for conversation tests (Prosody scansion style):
 *   const romeo = await TestClient.connect(srv);
 *   romeo.send(`<presence to="room@${srv.muc}/romeo"><x xmlns="${NS_MUC}"/></presence>`);
 *   const p = await romeo.expect((s) => s.name === 'presence' && s.attrs.from === `room@${srv.muc}/romeo`);
 * It speaks RFC 7395 framing exactly as strophe.js does and parses what it receives with our parser.
 */
import WebSocket from 'ws';
import { type Element, XmlStreamParser } from '../src/index.js';
import type { TestServer } from './helpers.js';

export type Matcher = (stanza: Element) => boolean;

export class TestClient {
  readonly ws: WebSocket;
  /** Everything received, in order (framing <open/> and features included). */
  readonly received: Element[] = [];
  jid = '';
  #waiters: { match: Matcher; resolve: (el: Element) => void; from: number }[] = [];
  #consumed = new Set<Element>();
  closed = false;
  /** Set if the server sent something our parser rejected (tests assert it stays undefined). */
  parseError: Error | undefined;
  #closeWaiters: (() => void)[] = [];
  #id = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    const parser = new XmlStreamParser('framed', {
      element: (el) => {
        this.received.push(el);
        for (const w of [...this.#waiters]) {
          if (!this.#consumed.has(el) && w.match(el)) {
            this.#consumed.add(el);
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(el);
          }
        }
      },
      error: (err) => {
        this.parseError = err;
      },
    }, { maxStanzaSize: 10_000_000 });
    ws.on('message', (d) => parser.write(d.toString()));
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.#closeWaiters) w();
    });
  }

  /** Open a WebSocket (no XMPP yet). */
  static async open(url: string): Promise<TestClient> {
    const ws = new WebSocket(url, 'xmpp');
    // Listeners first: a server that speaks first (a refused connection) may send frames along with the 101.
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Connect, authenticate anonymously and bind: ready to send stanzas. */
  static async connect(srv: Pick<TestServer, 'wsUrl' | 'domain'>, opts: { url?: string } = {}): Promise<TestClient> {
    const c = await TestClient.open(opts.url ?? srv.wsUrl);
    await c.login(srv.domain);
    return c;
  }

  async login(domain: string, mechanism = 'ANONYMOUS', payload?: string): Promise<void> {
    this.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${domain}" version="1.0"/>`);
    await this.expect((s) => s.name === 'stream:features');
    this.sendRaw(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="${mechanism}">${payload ?? ''}</auth>`);
    const r = await this.expect((s) => s.name === 'success' || s.name === 'failure');
    if (r.name !== 'success') throw new Error(`auth failed: ${r.toString()}`);
    this.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${domain}" version="1.0"/>`);
    await this.expect((s) => s.name === 'stream:features');
    this.sendRaw(`<iq type="set" id="bind1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`);
    const b = await this.expect((s) => s.name === 'iq' && s.attrs.id === 'bind1');
    this.jid = b.getChild('bind')?.getChildText('jid') ?? '';
  }

  sendRaw(data: string): void {
    this.ws.send(data);
  }

  /** Send a stanza (string XML); adds xmlns="jabber:client" if missing. */
  send(stanza: string): void {
    this.ws.send(stanza.includes('xmlns="jabber:client"') ? stanza : stanza.replace(/^<(iq|message|presence)\b/, '<$1 xmlns="jabber:client"'));
  }

  nextId(): string {
    return `t${++this.#id}`;
  }

  /** Send an IQ and wait for its result or error. */
  async iq(stanza: string): Promise<Element> {
    const id = /\bid="([^"]+)"/.exec(stanza)?.[1];
    if (!id) throw new Error('iq needs an id');
    this.send(stanza);
    return this.expect((s) => s.name === 'iq' && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'));
  }

  /** Wait for the next not-yet-consumed stanza matching `match` (including ones already received). */
  expect(match: Matcher, timeoutMs = 5000): Promise<Element> {
    for (const el of this.received) {
      if (!this.#consumed.has(el) && match(el)) {
        this.#consumed.add(el);
        return Promise.resolve(el);
      }
    }
    return new Promise<Element>((resolve, reject) => {
      const waiter = { match, resolve: (el: Element) => { clearTimeout(timer); resolve(el); }, from: this.received.length };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`expect timed out; last received: ${this.received.slice(-3).map((e) => e.toString()).join('\n')}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** All received stanzas matching, consumed or not. */
  all(match: Matcher): Element[] {
    return this.received.filter(match);
  }

  /** Resolve when the server closes the socket. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket not closed')), timeoutMs);
      this.#closeWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  close(): void {
    if (this.closed) return;
    try {
      this.sendRaw('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    } catch {
      // already closed
    }
    this.ws.close();
  }
}
