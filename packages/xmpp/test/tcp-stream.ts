/**
 * A raw XML-stream client over TCP for c2s and XEP-0114 tests: it writes whatever the test says and reads the
 * server's stream with our own XmlStreamParser in 'stream' mode (one element per stanza, stream headers and the
 * stream close recorded separately). Waits are event/poll based, never fixed sleeps.
 */
import { createHash } from 'node:crypto';
import { type Socket, connect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type Element, XmlStreamParser } from '../src/index.js';
import { waitFor } from './helpers.js';

export type Matcher = (el: Element) => boolean;

export class RawStream {
  socket: Socket | TLSSocket;
  /** Every stream header the server sent (attributes), in order. */
  readonly headers: Record<string, string>[] = [];
  /** Every element the server sent, in order. */
  readonly received: Element[] = [];
  /** All bytes received as text (per TLS layer: reset on startTls). */
  raw = '';
  /** The server closed its stream (`</stream:stream>`). */
  streamClosed = false;
  /** The socket is closed. */
  closed = false;
  parseError: Error | undefined;
  jid = '';
  #parser: XmlStreamParser;
  #consumed = new Set<Element>();

  private constructor(socket: Socket) {
    this.socket = socket;
    this.#parser = this.#newParser();
    this.#attach(socket);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(port: number): Promise<RawStream> {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawStream(socket);
  }

  #newParser(): XmlStreamParser {
    return new XmlStreamParser(
      'stream',
      {
        streamOpen: (_name, attrs) => void this.headers.push(attrs),
        element: (el) => void this.received.push(el),
        streamClose: () => {
          this.streamClosed = true;
        },
        error: (err) => {
          this.parseError = err;
        },
      },
      { maxStanzaSize: 10_000_000, maxDepth: 1000 },
    );
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.raw += d;
      this.#parser.write(d);
    });
  }

  /** Forget the server's current stream (before sending a new header: after <success/> or TLS). */
  restart(): void {
    this.#parser.reset();
  }

  send(data: string): void {
    this.socket.write(data);
  }

  /** Send a c2s stream header to `domain` (the parser is reset first: a new server stream follows). */
  open(domain: string, extra = ''): void {
    this.restart();
    this.send(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0' xml:lang='en'${extra}>`,
    );
  }

  /** Wait for the next not-yet-consumed element matching. */
  async expect(match: Matcher, timeoutMs = 5000): Promise<Element> {
    let found: Element | undefined;
    await waitFor(() => {
      found = this.received.find((el) => !this.#consumed.has(el) && match(el));
      if (found) return undefined;
      return `no match; received: ${this.received.slice(-3).map((e) => e.toString()).join(' | ')}; closed=${this.closed}`;
    }, timeoutMs);
    this.#consumed.add(found as Element);
    return found as Element;
  }

  features(): Promise<Element> {
    return this.expect((el) => el.name === 'stream:features');
  }

  async waitHeaders(n: number): Promise<Record<string, string>> {
    await waitFor(() => (this.headers.length >= n ? undefined : `${this.headers.length} headers`));
    return this.headers[n - 1] as Record<string, string>;
  }

  /** Wait for a stream error and return its condition. */
  async streamError(): Promise<string> {
    const err = await this.expect((el) => el.name === 'stream:error');
    const cond = err.children.find((c) => typeof c !== 'string' && (c as Element).name !== 'text') as Element | undefined;
    return cond?.name ?? '';
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return waitFor(() => (this.closed ? undefined : 'socket still open'), timeoutMs);
  }

  /** `<starttls/>` was answered `<proceed/>`: switch to TLS (certificate not verified unless `ca` given). */
  async startTls(opts: { ca?: string; servername?: string } = {}): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: opts.ca !== undefined, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.servername ? { servername: opts.servername } : {}) });
    secure.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.raw = '';
    this.#parser = this.#newParser();
    this.#attach(secure);
    secure.on('close', () => {
      this.closed = true;
    });
  }

  /** Full c2s login: [STARTTLS] → SASL → restart → bind. */
  async login(domain: string, opts: { tls?: boolean; mechanism?: 'ANONYMOUS' | 'PLAIN'; user?: string; password?: string } = {}): Promise<void> {
    this.open(domain);
    const f = await this.features();
    if (opts.tls ?? f.getChild('starttls') !== undefined) {
      this.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
      await this.expect((el) => el.name === 'proceed');
      await this.startTls();
      this.open(domain);
      await this.features();
    }
    const mech = opts.mechanism ?? 'ANONYMOUS';
    const payload = mech === 'PLAIN' ? Buffer.from(`\0${opts.user ?? ''}\0${opts.password ?? ''}`).toString('base64') : '';
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mech}'>${payload}</auth>`);
    const r = await this.expect((el) => el.name === 'success' || el.name === 'failure');
    if (r.name !== 'success') throw new Error(`auth failed: ${r.toString()}`);
    this.open(domain);
    await this.features();
    this.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
    const b = await this.expect((el) => el.name === 'iq' && el.attrs.id === 'bind1');
    this.jid = b.getChild('bind')?.getChildText('jid') ?? '';
  }

  /** XEP-0114: open a component stream to `domain` and (with a secret) do the handshake. */
  async component(domain: string, secret?: string): Promise<Record<string, string>> {
    this.restart();
    this.send(`<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`);
    const header = await this.waitHeaders(1);
    if (secret !== undefined) {
      const digest = createHash('sha1').update(`${header.id ?? ''}${secret}`).digest('hex');
      this.send(`<handshake>${digest}</handshake>`);
    }
    return header;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

let certPromise: Promise<{ key: string; cert: string }> | undefined;

/** A self-signed certificate for meet.jitsi and 127.0.0.1, made in memory once per test file. */
export function testCert(): Promise<{ key: string; cert: string }> {
  certPromise ??= import('selfsigned').then(async ({ generate }) => {
    const pems = await generate([{ name: 'commonName', value: 'meet.jitsi' }], {
      notAfterDate: new Date(Date.now() + 2 * 86_400_000),
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'meet.jitsi' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    return { key: pems.private, cert: pems.cert };
  });
  return certPromise;
}
