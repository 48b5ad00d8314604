/**
 * WebSocket upgrades for XMPP (RFC 7395) on `/xmpp-websocket`, attached to the node http/https server. An
 * `extraUpgrade` hook (the bridge's `/colibri-ws/…` handler) gets every upgrade first; every path nobody handles is
 * answered 404. The query string (`?room=...&token=...`) is allowed and ignored here.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7395#section-3.1 (subprotocol `xmpp`)
 * - /work/shared/PROTOCOL.md §1.2, §2.1
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { XmppServer } from '@jitsi-one/xmpp';
import { isSecureConnection } from './app.js';

export const XMPP_WEBSOCKET_PATH = '/xmpp-websocket';

export interface XmppWebSocketOptions {
  /** The http or https server to listen for `upgrade` on. */
  server: HttpServer;
  xmpp: Pick<XmppServer, 'handleWebSocket'>;
  /** See `WebAppConfig.http.insecureHttp`: connections then count as secure (TLS at the proxy). */
  insecureHttp: boolean;
  /** Largest WebSocket message accepted before the socket is closed (1009). The XMPP server applies its own stanza limit. */
  maxPayloadBytes: number;
  log: Logger;
  /**
   * Offered every upgrade before the XMPP path check (one `upgrade` listener, so the 404 for unknown paths cannot
   * race it). Returns true when it answered the request (it then owns the socket), false to leave it alone. The
   * server mounts the bridge's colibri-ws handler here.
   */
  extraUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

export interface XmppWebSocketMount {
  /** Refuse new upgrades, terminate every open socket. Idempotent. */
  close(): Promise<void>;
}

/**
 * Chooses the RFC 7395 subprotocol. A client offering protocols without `xmpp` gets none, which browsers treat as
 * a failed handshake.
 */
export function chooseSubprotocol(protocols: Set<string>): string | false {
  return protocols.has('xmpp') ? 'xmpp' : false;
}

function refuse(socket: Duplex, status: 404 | 503, reason: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachXmppWebSocket(opts: XmppWebSocketOptions): XmppWebSocketMount {
  const { server, xmpp, insecureHttp, log } = opts;
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: chooseSubprotocol,
    maxPayload: opts.maxPayloadBytes,
    perMessageDeflate: false,
  });
  let closing = false;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A reset during the handshake must not become an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    if (opts.extraUpgrade !== undefined && !closing) {
      try {
        if (opts.extraUpgrade(req, socket, head)) return;
      } catch (err) {
        log.error({ err }, 'upgrade handler failed');
        socket.destroy();
        return;
      }
    }
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      path = '';
    }
    if (path !== XMPP_WEBSOCKET_PATH) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    if (closing) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closing) {
        ws.terminate();
        return;
      }
      try {
        xmpp.handleWebSocket(ws, req, {
          secure: isSecureConnection(req.socket, insecureHttp),
          remoteAddress: req.socket.remoteAddress,
        });
      } catch (err) {
        log.error({ err }, 'xmpp websocket handler failed');
        ws.terminate();
      }
    });
  };
  server.on('upgrade', onUpgrade);

  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      });
      return closed;
    },
  };
}
