/**
 * TCP listeners: client-to-server streams (RFC 6120 with STARTTLS, c2s-tcp.ts) on `c2s.port` and XEP-0114
 * component connections (component.ts) on `componentPort`. Either is off when its port is null; 0 picks a free port.
 *
 * STARTTLS uses the server's TLS material (`tls` passed to createXmppServer). Without it STARTTLS is not offered;
 * a c2s listener with `c2s.requireTls` (the default) then refuses to start, because no client could ever log in
 * (and a silent downgrade to plaintext is not something to discover in production). With `requireTls: false`
 * and no certificate, c2s runs in plaintext and SASL PLAIN is not offered (the Session only offers it on secure
 * transports).
 *
 * Component domains are registered as hosts when the server is constructed, whether or not the port is open.
 */
import { type Server, type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { type SecureContext, createSecureContext } from 'node:tls';
import type { XmppServer } from '../server.js';
import { type StreamSocket, acceptTcpClient } from './c2s-tcp.js';
import { ComponentService } from './component.js';

export class TcpListeners {
  readonly #server: XmppServer;
  readonly components: ComponentService;
  readonly #sockets = new Set<StreamSocket>();
  #c2s: Server | undefined;
  #component: Server | undefined;
  #c2sPort: number | undefined;
  #componentPort: number | undefined;

  constructor(server: XmppServer) {
    this.#server = server;
    this.components = new ComponentService(server);
  }

  get c2sPort(): number | undefined {
    return this.#c2sPort;
  }

  get componentPort(): number | undefined {
    return this.#componentPort;
  }

  async start(): Promise<void> {
    const cfg = this.#server.config;
    let tls: SecureContext | undefined;
    if (cfg.c2s.port !== null) {
      if (this.#server.tls) {
        try {
          tls = createSecureContext({ key: this.#server.tls.key, cert: this.#server.tls.cert, minVersion: 'TLSv1.2' });
        } catch (err) {
          throw new Error(`xmpp c2s: the TLS key/certificate cannot be used: ${(err as Error).message}`);
        }
      } else if (cfg.c2s.requireTls) {
        throw new Error(
          'xmpp c2s: c2s.requireTls is true but the server has no TLS certificate, so no client could log in; ' +
            'pass tls to createXmppServer, set xmpp.c2s.requireTls to false, or turn the listener off (xmpp.c2s.port: null)',
        );
      }
    }
    try {
      if (cfg.c2s.port !== null) {
        const ctx = tls;
        this.#c2s = await this.#listen('c2s', cfg.c2s.port, cfg.c2s.host, (socket) => acceptTcpClient(this.#server, socket, ctx));
        this.#c2sPort = (this.#c2s.address() as AddressInfo).port;
      }
      if (cfg.componentPort !== null) {
        this.#component = await this.#listen('component', cfg.componentPort, cfg.componentHost, (socket) => this.components.accept(socket));
        this.#componentPort = (this.#component.address() as AddressInfo).port;
        this.components.startLiveness();
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  #listen(what: string, port: number, host: string, accept: (socket: Socket) => StreamSocket): Promise<Server> {
    const server = createServer({ noDelay: true, keepAlive: true }, (socket) => {
      // A socket error before our handlers are attached must not crash the process.
      socket.on('error', () => socket.destroy());
      if (!socket.remoteAddress) {
        socket.destroy(); // already gone
        return;
      }
      const io = accept(socket);
      this.#sockets.add(io);
      socket.once('close', () => this.#sockets.delete(io));
    });
    return new Promise<Server>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`xmpp ${what}: cannot listen on ${host}:${port}: ${err.message}`)));
      server.listen(port, host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.#server.log.error({ err }, `${what} listener error`));
        this.#server.log.info({ port: (server.address() as AddressInfo).port, host }, `xmpp ${what} listening`);
        resolve(server);
      });
    });
  }

  async stop(): Promise<void> {
    this.components.stop();
    const servers = [this.#c2s, this.#component].filter((s): s is Server => s !== undefined);
    this.#c2s = undefined;
    this.#component = undefined;
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    // Sessions were closed (system-shutdown) by the server; flush what they wrote and drop the sockets.
    for (const io of this.#sockets) io.destroySoon();
    await Promise.all(closed);
    this.#sockets.clear();
  }
}
