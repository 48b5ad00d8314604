/**
 * The colibri WebSocket endpoint: `GET /colibri-ws/<bridgeId>/<conferenceId>/<endpointId>?pwd=<password>` upgraded to
 * a plain WebSocket (no subprotocol, text frames, one JSON message per frame) and attached to the endpoint's
 * {@link BridgeChannel}. Mounted by the server on its one HTTP(S) port next to `/xmpp-websocket`.
 *
 * - Unknown bridge id, conference or endpoint → HTTP 404 before the upgrade; missing `pwd` → 401; wrong `pwd` → 403
 *   (compared in constant time). JVB answers 403 "authentication failed" for unknown conference/endpoint too; the
 *   client treats every failure the same (it retries with backoff), so the distinct statuses only help operators.
 * - A second connection for the same endpoint replaces the first, which is closed with 1000 "replaced" (JVB).
 * - `ServerHello` is sent on every accepted socket, then the channel's queued messages.
 * - Keepalive as JVB: a WebSocket ping every `keepaliveMs` (15 s); a socket with no frame and no pong for
 *   `idleTimeoutMs` (60 s) is terminated (the client then reconnects with backoff).
 * - Logs carry the endpoint id and a truncated conference id only: no addresses, never the URL (it holds `pwd`).
 *
 * References:
 * - PROTOCOL.md §1.2 (URL), §6.1 (transport), Appendix B (15 s / 60 s).
 * - JVB `ColibriWebSocketService.kt`, `ColibriWebSocketServlet` (path checks), `ColibriWebSocket`;
 *   `doc/web-sockets.md`.
 * - https://www.rfc-editor.org/rfc/rfc6455#section-5.5.2 (ping), #section-7.4.1 (close codes).
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { BridgeChannel, ChannelTransport } from './bridge-channel.js';

/** Path prefix of the colibri WebSocket (JVB `COLIBRI_WS_PATH`). */
export const COLIBRI_WS_PATH = '/colibri-ws/';

/** Default ping interval (JVB: 15 s, PROTOCOL.md Appendix B). */
export const DEFAULT_KEEPALIVE_MS = 15_000;
/** Default idle timeout (JVB/Jetty: 60 s, PROTOCOL.md Appendix B). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Default hard frame limit enforced by `ws` (larger frames close the socket with 1009). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/** What `lookup` returns for a known endpoint. */
export interface ColibriWsTarget {
  /** The endpoint's colibri-ws password (the `pwd` advertised in Jingle `<web-socket url>`). */
  readonly password: string;
  /** The endpoint's channel. */
  readonly channel: BridgeChannel;
}

/** Options of {@link createColibriWsHandler}. */
export interface ColibriWsOptions {
  /** The bridge's server id, the first path segment (JVB default `default-id`). */
  bridgeId: string;
  /** Finds an endpoint; undefined if the conference or endpoint does not exist (or expired). */
  lookup(conferenceId: string, endpointId: string): ColibriWsTarget | undefined;
  /** Logger; the handler adds `{ component: 'colibri-ws' }`. */
  log: Logger;
  /** Ping interval. Default 15 000. */
  keepaliveMs?: number;
  /** Terminate a socket after this long without any frame or pong. Default 60 000. */
  idleTimeoutMs?: number;
  /**
   * Frames larger than this close the socket (1009, enforced by `ws`). Frames between the channel's
   * `maxMessageBytes` (64 KiB) and this are dropped and counted by the channel, the socket stays open. Default 1 MiB.
   */
  maxFrameBytes?: number;
}

/** The mounted handler. */
export interface ColibriWsHandler {
  /**
   * Handles an HTTP `upgrade` whose path starts with `/colibri-ws/`: answers it (101 or an HTTP error) and returns
   * true. Returns false without touching the socket for any other path.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Number of open colibri WebSockets. */
  readonly connectionCount: number;
  /** Refuses new upgrades (503), terminates every socket, stops the timer. Resolves when all sockets closed. Idempotent. */
  close(): Promise<void>;
}

const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh per-endpoint colibri-ws password: 24 random alphanumerics, as current JVB (PROTOCOL.md §1.2). */
export function createColibriWsPassword(length = 24): string {
  let out = '';
  for (let i = 0; i < length; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}

/**
 * The URL advertised in Jingle `<web-socket url>` (the client opens it verbatim, PROTOCOL.md §1.2):
 * `<origin>/colibri-ws/<bridgeId>/<conferenceId>/<endpointId>?pwd=<password>`. `origin` is e.g.
 * `wss://meet.example.com` or `wss://meet.example.com:8443` (no trailing slash needed).
 */
export function buildColibriWsUrl(origin: string, bridgeId: string, conferenceId: string, endpointId: string, password: string): string {
  const base = origin.endsWith('/') ? origin.slice(0, -1) : origin;
  const seg = (s: string): string => encodeURIComponent(s);
  return `${base}${COLIBRI_WS_PATH}${seg(bridgeId)}/${seg(conferenceId)}/${seg(endpointId)}?pwd=${seg(password)}`;
}

/** Shortens a conference id for logs, as JVB logs meeting ids (first 8 characters). */
export function truncateConferenceId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** Constant-time string comparison (hashing first makes lengths equal). */
function passwordMatches(expected: string, got: string): boolean {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(got, 'utf8').digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function refuse(socket: Duplex, status: number, extraHeaders = ''): void {
  const text = STATUS_TEXT[status] ?? 'Error';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n${extraHeaders}` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

interface ParsedPath {
  bridgeId: string;
  conferenceId: string;
  endpointId: string;
  pwd: string | null;
}

/** Parses `/colibri-ws/<bridge>/<conference>/<endpoint>?pwd=…`; undefined if malformed. */
function parseUrl(url: string): ParsedPath | undefined {
  let u: URL;
  try {
    u = new URL(url, 'http://localhost');
  } catch {
    return undefined;
  }
  const rest = u.pathname.slice(COLIBRI_WS_PATH.length).split('/');
  if (rest.length !== 3) return undefined;
  try {
    const [bridgeId, conferenceId, endpointId] = rest.map((s) => decodeURIComponent(s));
    if (!bridgeId || !conferenceId || !endpointId) return undefined;
    return { bridgeId, conferenceId, endpointId, pwd: u.searchParams.get('pwd') };
  } catch {
    return undefined;
  }
}

interface Connection {
  readonly confId: string;
  readonly epId: string;
  readonly ws: WebSocket;
  readonly transport: ChannelTransport;
  lastSeen: number;
  lastPing: number;
}

/**
 * Creates the colibri WebSocket handler. The caller mounts `handleUpgrade` on its HTTP server's `upgrade` event
 * (before any catch-all that answers 404) and calls `close()` on shutdown.
 */
export function createColibriWsHandler(options: ColibriWsOptions): ColibriWsHandler {
  const log = options.log.child({ component: 'colibri-ws' });
  const keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (!(keepaliveMs > 0) || !(idleTimeoutMs > 0)) throw new TypeError('keepaliveMs and idleTimeoutMs must be positive');
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    perMessageDeflate: false, // JVB default (`enable-compression` false).
    clientTracking: false,
  });
  const connections = new Set<Connection>();
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;

  // One timer for all sockets. It ticks often enough to notice idleness within a quarter of the idle timeout.
  const tickMs = Math.max(1, Math.min(keepaliveMs, Math.floor(idleTimeoutMs / 4)));
  const tick = (): void => {
    const now = Date.now();
    for (const c of connections) {
      if (now - c.lastSeen >= idleTimeoutMs) {
        log.info({ confId: c.confId, epId: c.epId }, 'colibri websocket idle, terminating');
        c.ws.terminate();
      } else if (now - c.lastPing >= keepaliveMs && c.ws.readyState === WebSocket.OPEN) {
        c.lastPing = now;
        c.ws.ping();
      }
    }
  };

  const startTimer = (): void => {
    if (timer !== undefined) return;
    timer = setInterval(tick, tickMs);
    timer.unref();
  };
  const stopTimerIfIdle = (): void => {
    if (connections.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  /** Calls `options.lookup`, turning a throw (a model bug) into 'error' instead of an uncaught exception. */
  const lookup = (conferenceId: string, endpointId: string): ColibriWsTarget | undefined | 'error' => {
    try {
      return options.lookup(conferenceId, endpointId);
    } catch (err) {
      log.error({ err }, 'colibri websocket lookup failed');
      return 'error';
    }
  };

  const accept = (ws: WebSocket, channel: BridgeChannel, confId: string, epId: string): void => {
    const now = Date.now();
    const transport: ChannelTransport = {
      kind: 'websocket',
      isOpen: () => ws.readyState === WebSocket.OPEN,
      send: (text) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      },
      bufferedAmount: () => ws.bufferedAmount,
      close: (code, reason) => ws.close(code, reason),
    };
    const conn: Connection = { confId, epId, ws, transport, lastSeen: now, lastPing: now };
    connections.add(conn);
    startTimer();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      conn.lastSeen = Date.now();
      // binaryType 'nodebuffer' (the default) delivers a Buffer.
      channel.onMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary);
    });
    ws.on('pong', () => {
      conn.lastSeen = Date.now();
    });
    ws.on('ping', () => {
      conn.lastSeen = Date.now();
    });
    ws.on('error', (err) => {
      // Protocol errors (e.g. a frame over maxFrameBytes → 1009) are the peer's; no address in the log.
      log.debug({ confId, epId, err: { message: err.message } }, 'colibri websocket error');
    });
    ws.on('close', (code) => {
      connections.delete(conn);
      stopTimerIfIdle();
      channel.detach(transport);
      log.debug({ confId, epId, code }, 'colibri websocket closed');
    });
    if (!channel.attach(transport, { serverHello: true })) ws.terminate();
  };

  return {
    handleUpgrade(req, socket, head) {
      const url = req.url ?? '/';
      const path = url.split('?', 1)[0] ?? '';
      if (!path.startsWith(COLIBRI_WS_PATH)) return false;
      // A reset during the handshake must not become an uncaught 'error'.
      socket.on('error', () => socket.destroy());
      if (closing) {
        refuse(socket, 503);
        return true;
      }
      const parsed = parseUrl(url);
      if (parsed === undefined || parsed.bridgeId !== options.bridgeId) {
        log.debug('colibri websocket request for an unknown path');
        refuse(socket, 404);
        return true;
      }
      const confId = truncateConferenceId(parsed.conferenceId);
      const epId = parsed.endpointId.slice(0, 64);
      const target = lookup(parsed.conferenceId, parsed.endpointId);
      if (target === 'error') {
        refuse(socket, 500);
        return true;
      }
      if (target === undefined || target.channel.closed) {
        log.info({ confId, epId }, 'colibri websocket for an unknown endpoint');
        refuse(socket, 404);
        return true;
      }
      if (parsed.pwd === null || parsed.pwd === '') {
        log.info({ confId, epId }, 'colibri websocket without password');
        refuse(socket, 401, 'WWW-Authenticate: colibri-ws-pwd\r\n');
        return true;
      }
      if (!passwordMatches(target.password, parsed.pwd)) {
        log.warn({ confId, epId }, 'colibri websocket with a wrong password');
        refuse(socket, 403);
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        // The endpoint may have expired, or the handler closed, while the handshake completed.
        const now = lookup(parsed.conferenceId, parsed.endpointId);
        if (closing || now === undefined || now === 'error' || now.channel !== target.channel || now.channel.closed) {
          ws.terminate();
          return;
        }
        log.info({ confId, epId }, 'colibri websocket accepted');
        accept(ws, target.channel, confId, epId);
      });
      return true;
    },
    get connectionCount() {
      return connections.size;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        if (timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
        const pending = [...connections].map(
          (c) =>
            new Promise<void>((r) => {
              if (c.ws.readyState === WebSocket.CLOSED) return r();
              c.ws.once('close', () => r());
              c.ws.terminate();
            }),
        );
        void Promise.all(pending).then(() => wss.close(() => resolve()));
      });
      return closed;
    },
  };
}
