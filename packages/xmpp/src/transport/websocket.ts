/**
 * XMPP over WebSocket (RFC 7395): one XML element per message, `<open/>`/`<close/>` framing elements in the
 * urn:ietf:params:xml:ns:xmpp-framing namespace. Only framing lives here; the session does the rest.
 *
 * Strophe (lib-jitsi-meet) specifics honoured (PROTOCOL.md §2.1): the `<open/>` is alone in its frame and never
 * preceded by an XML declaration; features come in their own frame with the stream prefix declared; a
 * server-initiated close is exactly `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" />`.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7395#section-3.3 (framing), §3.6 (closing)
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { tokenFromUrl } from '../auth/jwt.js';
import type { ConnectionInfo, XmppServer } from '../server.js';
import { Session, type Transport } from '../session.js';
import { StreamError } from '../stanza/errors.js';
import { NS_FRAMING } from '../stanza/ns.js';
import { escapeXML, serialize } from '../stanza/xml.js';
import { XmlStreamParser } from '../stream/parser.js';
import { ByteRateLimiter } from './throttle.js';

const CLOSE_FRAME = `<close xmlns="${NS_FRAMING}" />`;

class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly secure: boolean;
  readonly remoteAddress: string | undefined;
  /** Set by XEP-0198 resumption when an older session takes over this connection. */
  session: Session | undefined;
  /** Inbound byte-rate limit of this connection (read by stats and tests). */
  readonly limiter: ByteRateLimiter;
  /** True while reading is paused because the client sent faster than the limit. */
  paused = false;
  readonly #ws: WebSocket;
  #closed = false;
  #out: string[] = [];

  constructor(ws: WebSocket, info: ConnectionInfo, limiter: ByteRateLimiter) {
    this.#ws = ws;
    this.secure = info.secure;
    this.remoteAddress = info.remoteAddress;
    this.limiter = limiter;
  }

  sendOpen(attrs: Record<string, string>): void {
    let s = `<open xmlns="${NS_FRAMING}"`;
    for (const k in attrs) s += ` ${k}="${escapeXML(attrs[k] as string)}"`;
    this.send(`${s}/>`);
  }

  send(data: string): void {
    if (this.#closed || this.#ws.readyState !== 1) return;
    // Frames are queued and written once per event-loop turn: a MUC join storm sends a socket hundreds of
    // presences at once, and one writev per frame (ws corks only header+payload) cost 74 % of the server's CPU.
    this.#out.push(data);
    if (this.#out.length === 1) setImmediate(this.#flush);
  }

  readonly #flush = (): void => this.flush();

  /**
   * Write the queued frames in one socket write. Without extensions (we never negotiate permessage-deflate) a
   * server frame is just a header and the UTF-8 payload (RFC 6455 §5.2, unmasked), so all frames are encoded into
   * one buffer; otherwise they go through ws with the socket corked.
   */
  flush(): void {
    const out = this.#out;
    if (out.length === 0) return;
    this.#out = [];
    if (this.#closed || this.#ws.readyState !== 1) return;
    // `_socket` is ws's (long-stable) handle on the net.Socket; without it we fall back to plain sends.
    const sock = (this.#ws as unknown as { _socket?: Socket })._socket;
    if (sock && this.#ws.extensions === '' && out.length > 1) {
      sock.write(encodeTextFrames(out));
      return;
    }
    sock?.cork();
    for (const frame of out) this.#ws.send(frame);
    sock?.uncork();
  }

  probe(): void {
    if (!this.#closed && this.#ws.readyState === 1) this.#ws.ping();
  }

  close(): void {
    if (this.#closed) return;
    this.send(CLOSE_FRAME);
    this.flush();
    this.#closed = true;
    this.#ws.close(1000);
  }

  get closed(): boolean {
    return this.#closed;
  }

  markClosed(): void {
    this.#closed = true;
  }
}

/** Encode text messages as consecutive unmasked, final WebSocket frames (RFC 6455 §5.2) in one buffer. */
export function encodeTextFrames(messages: readonly string[]): Buffer {
  let total = 0;
  const lengths = new Array<number>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const n = Buffer.byteLength(messages[i] as string, 'utf8');
    lengths[i] = n;
    total += n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
  }
  const buf = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = 0; i < messages.length; i++) {
    const n = lengths[i] as number;
    buf[o++] = 0x81; // FIN + text
    if (n < 126) buf[o++] = n;
    else if (n < 65536) {
      buf[o++] = 126;
      buf.writeUInt16BE(n, o);
      o += 2;
    } else {
      buf[o++] = 127;
      buf.writeUInt32BE(Math.floor(n / 2 ** 32), o);
      buf.writeUInt32BE(n >>> 0, o + 4);
      o += 8;
    }
    o += buf.write(messages[i] as string, o, 'utf8');
  }
  return buf;
}

export function acceptWebSocket(server: XmppServer, ws: WebSocket, req: IncomingMessage, info: ConnectionInfo): void {
  const limits = server.config.limits;
  const limiter = new ByteRateLimiter(limits.bytesPerSecond, limits.burstBytes);
  const transport = new WebSocketTransport(ws, info, limiter);
  if (!server.connectionOpened(info.remoteAddress)) {
    // ws emits 'error' for a protocol violation during the closing handshake; unhandled, it would crash the process.
    ws.on('error', () => {});
    transport.sendOpen({ from: server.domains.domain, version: '1.0' });
    transport.send(serialize(new StreamError('policy-violation', 'too many connections from your address').toElement()));
    transport.close();
    return;
  }
  const session = new Session(server, transport);
  session.previd = new URL(req.url ?? '/', 'http://x').searchParams.get('previd') ?? undefined;
  // JWT auth: `?token=` of the upgrade URL is what SASL ANONYMOUS is checked against (PROTOCOL-FEATURES §9.1).
  if (server.auth.wantsToken) session.token = info.token ?? tokenFromUrl(req.url);
  server.registerSession(session);
  const current = (): Session => transport.session ?? session;
  const parser = new XmlStreamParser(
    'framed',
    {
      element: (el) => {
        if (el.attrs.xmlns === NS_FRAMING) {
          if (el.name === 'open') return current().streamOpened(el.attrs as Record<string, string>);
          if (el.name === 'close') return current().close();
        }
        current().receive(el);
      },
      error: (err) => current().close(err),
    },
    { maxStanzaSize: limits.maxStanzaSize, maxDepth: limits.maxXmlDepth, maxAttributes: limits.maxAttributes },
  );
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    if (transport.closed) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) return current().close(new StreamError('unsupported-encoding', 'binary frames are not XMPP'));
    if (buf.length > limits.maxStanzaSize + 1024) return current().close(new StreamError('policy-violation', 'stanza too large'));
    parser.write(buf.toString('utf8'));
    const wait = limiter.consume(buf.length);
    if (wait > 0 && !transport.paused && !transport.closed) {
      transport.paused = true;
      ws.pause();
      setTimeout(() => {
        transport.paused = false;
        if (!transport.closed) ws.resume();
      }, wait).unref();
    }
  });
  ws.on('pong', () => current().activity());
  ws.on('close', () => {
    transport.markClosed();
    server.connectionClosed(info.remoteAddress);
    current().transportClosed();
  });
  ws.on('error', () => {
    transport.markClosed();
  });
}
