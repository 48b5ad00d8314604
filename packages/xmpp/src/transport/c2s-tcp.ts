/**
 * XMPP client-to-server streams over TCP (RFC 6120), with STARTTLS. Only framing lives here: bytes in, the stream
 * header, one element per stanza and the stream close out. The Session does features, SASL and binding.
 *
 * The byte layer (`StreamSocket`) is shared with XEP-0114 component connections (component.ts): UTF-8 decoding
 * (invalid bytes are `not-well-formed`), the per-connection byte rate limit (the socket is paused, not cut), a cap
 * on unsent output (a peer that stops reading is dropped) and the TLS upgrade.
 *
 * Stream restarts (RFC 6120 §4.3.3): after STARTTLS the parser is replaced and whatever followed `<starttls/>` in
 * the same read is discarded (no plaintext may leak into the encrypted stream); after SASL success the parser is
 * reset in place.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc6120#section-4 (streams), §4.9 (stream errors), §5 (STARTTLS)
 * - https://www.rfc-editor.org/rfc/rfc6120#section-11.6 (UTF-8)
 */
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { XmppConfig } from '../config.js';
import type { XmppServer } from '../server.js';
import { Session, type Transport } from '../session.js';
import { StreamError } from '../stanza/errors.js';
import { NS_CLIENT, NS_STREAMS } from '../stanza/ns.js';
import { escapeXML, serialize } from '../stanza/xml.js';
import { XmlStreamParser } from '../stream/parser.js';
import { ByteRateLimiter } from './throttle.js';

/** Unsent output beyond this means the peer stopped reading; the connection is dropped. */
export const MAX_SEND_BUFFER = 16 * 1024 * 1024;
/** After we send our stream close, how long we wait for the peer to close before destroying the socket. */
const CLOSE_GRACE_MS = 3000;

export interface StreamSocketEvents {
  /** Decoded text, in order. */
  text(chunk: string): void;
  /** The bytes are not UTF-8. Reading stops. */
  error(err: StreamError): void;
  /** The connection is gone (once). */
  closed(): void;
}

/** The byte layer under a TCP XML stream: decoding, throttling, output, TLS upgrade, closing. */
export class StreamSocket {
  readonly remoteAddress: string | undefined;
  #socket: Socket;
  readonly #raw: Socket;
  readonly #events: StreamSocketEvents;
  readonly #limiter: ByteRateLimiter;
  #decoder = new TextDecoder('utf-8', { fatal: true });
  #paused = false;
  /** Apply the byte rate limit (turned off for authenticated components, as Prosody's mod_limits does). */
  throttle = true;
  #reading = true;
  #ending = false;
  #closed = false;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, limits: XmppConfig['limits'], events: StreamSocketEvents) {
    this.#socket = socket;
    this.#raw = socket;
    this.#events = events;
    this.remoteAddress = socket.remoteAddress;
    this.#limiter = new ByteRateLimiter(limits.bytesPerSecond, limits.burstBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.#attach(socket);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get secure(): boolean {
    return this.#socket instanceof TLSSocket;
  }

  /** How many times reading had to be paused by the byte rate limit. */
  get throttled(): number {
    return this.#limiter.throttled;
  }

  readonly #onData = (buf: Buffer): void => {
    if (!this.#reading || this.#closed) return;
    let text: string;
    try {
      text = this.#decoder.decode(buf, { stream: true });
    } catch {
      this.#reading = false;
      this.#events.error(new StreamError('not-well-formed', 'invalid UTF-8'));
      return;
    }
    const wait = this.throttle ? this.#limiter.consume(buf.length) : 0;
    if (text.length > 0) this.#events.text(text);
    if (wait > 0 && !this.#paused && !this.#closed) {
      this.#paused = true;
      this.#socket.pause();
      setTimeout(() => {
        this.#paused = false;
        if (!this.#closed) this.#socket.resume();
      }, wait).unref();
    }
  };

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#events.closed();
  };

  readonly #onError = (): void => {
    // ECONNRESET, EPIPE, TLS handshake failures: never fatal; 'close' follows destroy().
    this.#socket.destroy();
    if (this.#socket !== this.#raw) this.#raw.destroy();
  };

  #attach(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
  }

  write(data: string): void {
    if (this.#closed || this.#ending || this.#socket.destroyed) return;
    if (this.#socket.writableLength > MAX_SEND_BUFFER) {
      this.destroy();
      return;
    }
    this.#socket.write(data);
  }

  /**
   * Switch to TLS (server side) after `<proceed/>`. Whatever the plaintext socket still delivers is not read by us
   * any more; the decoder starts fresh.
   */
  startTls(context: SecureContext): void {
    const raw = this.#socket;
    raw.removeListener('data', this.#onData);
    if (this.#paused) raw.resume();
    const tlsSocket = new TLSSocket(raw, { isServer: true, secureContext: context, requestCert: false, rejectUnauthorized: false });
    this.#socket = tlsSocket;
    this.#decoder = new TextDecoder('utf-8', { fatal: true });
    this.#attach(tlsSocket);
  }

  /** Send the last bytes, half-close, and destroy the socket if the peer does not close within a grace period. */
  end(last?: string): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    this.#reading = false;
    if (this.#socket.destroyed) return;
    if (last !== undefined) this.#socket.end(last);
    else this.#socket.end();
    this.#graceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    this.#graceTimer.unref();
  }

  /** Shutdown: flush what was written, then destroy. */
  destroySoon(): void {
    if (this.#closed) return;
    this.#reading = false;
    if (this.#socket.writableLength === 0 || this.#socket.destroyed) return this.destroy();
    if (!this.#ending) {
      this.#ending = true;
      this.#socket.end();
    }
    this.#socket.once('finish', () => this.destroy());
    const t = setTimeout(() => this.destroy(), 1000);
    t.unref();
  }

  destroy(): void {
    this.#socket.destroy();
    if (this.#socket !== this.#raw) this.#raw.destroy();
  }
}

/** Validate a stream header's root element: `<prefix:stream xmlns:prefix=NS_STREAMS xmlns=contentNs>`. */
export function checkStreamHeader(name: string, attrs: Record<string, string>, contentNs: string): StreamError | undefined {
  const colon = name.indexOf(':');
  const prefix = colon === -1 ? '' : name.slice(0, colon);
  const local = colon === -1 ? name : name.slice(colon + 1);
  const streamNs = prefix ? attrs[`xmlns:${prefix}`] : attrs.xmlns;
  if (local !== 'stream' || streamNs !== NS_STREAMS) return new StreamError('invalid-namespace', `the stream namespace must be ${NS_STREAMS}`);
  if (attrs.xmlns !== contentNs) return new StreamError('invalid-namespace', `the default namespace must be ${contentNs}`);
  return undefined;
}

/** `<?xml?><stream:stream …>` with our attributes, single-quoted as in RFC 6120's examples. */
export function streamHeader(contentNs: string, attrs: Record<string, string>): string {
  let s = `<?xml version='1.0'?><stream:stream xmlns='${contentNs}' xmlns:stream='${NS_STREAMS}'`;
  for (const k in attrs) s += ` ${k}='${escapeXML(attrs[k] as string)}'`;
  return `${s}>`;
}

const STREAM_CLOSE = '</stream:stream>';

class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress: string | undefined;
  /** The session on this stream; XEP-0198 resumption replaces it (server.resumeSession sets it). */
  session: Session | undefined;
  readonly #io: StreamSocket;
  readonly #server: XmppServer;
  readonly #tls: SecureContext | undefined;
  /** Called after the switch to TLS: the stream restarts with a fresh parser. */
  onTls: (() => void) | undefined;
  #headerSent = false;
  #closed = false;

  constructor(server: XmppServer, io: StreamSocket, tls: SecureContext | undefined) {
    this.#server = server;
    this.#io = io;
    this.#tls = tls;
    this.remoteAddress = io.remoteAddress;
  }

  get secure(): boolean {
    return this.#io.secure;
  }

  get canStartTls(): boolean {
    return this.#tls !== undefined && !this.#io.secure;
  }

  get closed(): boolean {
    return this.#closed;
  }

  sendOpen(attrs: Record<string, string>): void {
    if (this.#closed) return;
    this.#headerSent = true;
    this.#io.write(streamHeader(NS_CLIENT, attrs));
  }

  /** An error before the client's header still needs our header first (RFC 6120 §4.9.1.1). */
  #ensureHeader(): void {
    if (!this.#headerSent) this.sendOpen({ id: 'none', from: this.#server.domains.domain, version: '1.0', 'xml:lang': 'en' });
  }

  send(data: string): void {
    if (this.#closed) return;
    this.#ensureHeader();
    this.#io.write(data);
  }

  startTls(): void {
    if (!this.#tls || this.#closed || this.#io.secure) return;
    this.#io.startTls(this.#tls);
    this.#headerSent = false;
    this.onTls?.();
  }

  /** Whitespace keepalive (RFC 6120 §4.6.1): a dead peer shows up as a write error. */
  probe(): void {
    if (!this.#closed && this.#headerSent) this.#io.write(' ');
  }

  close(): void {
    if (this.#closed) return;
    this.#ensureHeader();
    this.#closed = true;
    this.#io.end(STREAM_CLOSE);
  }

  /** A stream restart (after SASL success): the client sends a new header, we answer with one. */
  restarted(): void {
    this.#headerSent = false;
  }

  /** Set by the connection: SASL succeeded, so the stream restarts with a fresh parser (RFC 6120 §6.4.6). */
  onAuthenticated: (() => void) | undefined;

  /** Transport hook called by the session right after `<success/>` (immediately, or after an async password check). */
  authenticated(): void {
    this.restarted();
    this.onAuthenticated?.();
  }

  markClosed(): void {
    this.#closed = true;
  }
}

/** Take over an accepted TCP socket as a c2s stream. `tls` is present when STARTTLS can be offered. */
export function acceptTcpClient(server: XmppServer, socket: Socket, tls: SecureContext | undefined): StreamSocket {
  const limits = server.config.limits;
  let transport: TcpTransport | undefined;
  let parser: XmlStreamParser | undefined;
  const current = (): Session | undefined => transport?.session;
  const io = new StreamSocket(socket, limits, {
    text: (chunk) => {
      const s = current();
      // Whitespace keepalives count as activity only on a bound stream (an unbound one must finish its login).
      if (s?.bound) s.activity();
      parser?.write(chunk);
    },
    error: (err) => current()?.close(err),
    closed: () => {
      if (!transport) return;
      transport.markClosed();
      server.connectionClosed(io.remoteAddress);
      current()?.transportClosed();
    },
  });
  if (!server.connectionOpened(io.remoteAddress)) {
    io.write(streamHeader(NS_CLIENT, { id: 'none', from: server.domains.domain, version: '1.0' }));
    io.write(serialize(new StreamError('policy-violation', 'too many connections from your address').toElement()));
    io.end(STREAM_CLOSE);
    return io;
  }
  const t = new TcpTransport(server, io, tls);
  transport = t;
  const session = new Session(server, t);
  t.session = session;
  server.registerSession(session);

  const newParser = (): XmlStreamParser => {
    const p: XmlStreamParser = new XmlStreamParser(
      'stream',
      {
        streamOpen: (name, attrs) => {
          if (p !== parser) return;
          const s = current();
          if (!s) return;
          const bad = checkStreamHeader(name, attrs, NS_CLIENT);
          if (bad) return s.close(bad);
          s.streamOpened(attrs);
        },
        element: (el) => {
          if (p !== parser) return;
          const s = current();
          if (!s) return;
          if (el.name === 'stream:error') return s.close();
          s.receive(el);
        },
        streamClose: () => {
          if (p === parser) current()?.close();
        },
        error: (err) => {
          if (p === parser) current()?.close(err);
        },
      },
      { maxStanzaSize: limits.maxStanzaSize, maxDepth: limits.maxXmlDepth, maxAttributes: limits.maxAttributes },
    );
    return p;
  };
  parser = newParser();
  // After STARTTLS: a fresh parser; the old one may still be inside write() for the plaintext chunk that carried
  // <starttls/>, and everything it still sees is ignored.
  t.onTls = () => {
    parser = newParser();
  };
  // SASL success (possibly after an async password check): both sides restart the stream (RFC 6120 §6.4.6).
  t.onAuthenticated = () => {
    parser?.reset();
  };
  return io;
}
