/**
 * The operations listener (`metrics.*`): a plain HTTP server of its own, bound to loopback by default, apart from
 * the public HTTPS port so that neither metrics nor the admin call are reachable from the internet.
 *
 * - `GET /metrics`: Prometheus text format (metrics.ts).
 * - `GET /admin/drain`: the drain state, `{ draining, conferences, drained }`.
 * - `POST /admin/drain`: start draining (see drain.ts); answers the state and `changed`.
 * - `DELETE /admin/drain`: stop draining.
 *
 * `/admin/*` answers only requests from a loopback address (403 otherwise), even when `metrics.host` is opened up
 * for a remote Prometheus. Nothing here logs requests or addresses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Drain } from './drain.js';
import { ConfigError } from './errors.js';
import type { Metrics } from './metrics.js';

export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  drain: Drain;
  log: Logger;
}

/** The running listener. */
export interface OpsServer {
  /** The TCP port bound. */
  readonly port: number;
  /** Closes the listener and its connections. Idempotent. */
  close(): Promise<void>;
}

/** Whether a socket's remote address is loopback (127.0.0.0/8, ::1, or IPv4-mapped 127.x). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** Starts the listener; rejects with a ConfigError naming `metrics.port`/`metrics.host` when it cannot bind. */
export async function startOpsServer({ host, port, metrics, drain, log }: OpsServerOptions): Promise<OpsServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
      const body = await metrics.scrape();
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (path === '/admin/drain') {
      if (!isLoopbackAddress(req.socket.remoteAddress)) return text(res, 403, 'Forbidden: admin calls only from loopback\n');
      if (req.method === 'GET') return json(res, 200, drain.status());
      if (req.method === 'POST') {
        const changed = drain.start('admin');
        return json(res, 200, { ...drain.status(), changed });
      }
      if (req.method === 'DELETE') {
        const changed = drain.resume();
        return json(res, 200, { ...drain.status(), changed });
      }
      return text(res, 405, 'Method Not Allowed\n', { Allow: 'GET, POST, DELETE' });
    }
    text(res, 404, 'Not Found\n');
  };

  const server: Server = createServer((req, res) => {
    // The body (if any) is not read: drain the stream so the connection can be reused.
    req.resume();
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'ops request failed');
      if (!res.headersSent) text(res, 500, 'Internal Server Error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const messages: Record<string, [string, string]> = {
        EADDRINUSE: ['metrics.port', `port ${port} on ${host} is already in use`],
        EACCES: ['metrics.port', `not allowed to listen on port ${port} (ports below 1024 need privileges)`],
        EADDRNOTAVAIL: ['metrics.host', `${host} is not an address of this machine`],
        ENOTFOUND: ['metrics.host', `${host} is not an address of this machine`],
      };
      const known = err.code ? messages[err.code] : undefined;
      reject(known ? new ConfigError([{ path: known[0], message: known[1] }], { cause: err }) : err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'ops listener error'));
  const bound = (server.address() as AddressInfo).port;
  log.info({ port: bound }, 'metrics and admin listener up');

  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
