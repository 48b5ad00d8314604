/**
 * Test harness for the xmpp package: a real XmppServer behind a real HTTP server on 127.0.0.1 (port 0) with the
 * WebSocket (/xmpp-websocket) and BOSH (/http-bind) endpoints mounted as the server package mounts them.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { type AuthConfigInput, type XmppConfigInput, type XmppServer, authConfigSchema, createXmppServer, xmppConfigSchema } from '../src/index.js';

export interface TestServer {
  xmpp: XmppServer;
  http: Server;
  port: number;
  wsUrl: string;
  boshUrl: string;
  domain: string;
  muc: string;
  /** Log lines written during the test (JSON objects). */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Deep-merge plain objects (arrays replaced). */
function merge<T>(base: T, over: unknown): T {
  if (!over || typeof over !== 'object' || Array.isArray(over)) return (over ?? base) as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
  return out as T;
}

export async function startTestServer(
  overrides: XmppConfigInput = {},
  opts: { tls?: { key: string; cert: string }; logLevel?: string; auth?: AuthConfigInput } = {},
): Promise<TestServer> {
  const base: XmppConfigInput = { c2s: { port: null }, componentPort: null, limits: { maxConnectionsPerAddress: 1000 } };
  const config = xmppConfigSchema.parse(merge(base, overrides));
  const logs: Record<string, unknown>[] = [];
  const log: Logger = pino(
    { level: opts.logLevel ?? 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const xmpp = createXmppServer({ config, log, auth: authConfigSchema.parse(opts.auth ?? {}), ...(opts.tls ? { tls: opts.tls } : {}) });
  await xmpp.start();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  const http = createServer((req, res) => {
    if (req.url?.startsWith('/http-bind')) return xmpp.handleBosh(req, res, { secure: true, remoteAddress: req.socket.remoteAddress });
    res.statusCode = 404;
    res.end();
  });
  http.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/xmpp-websocket')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => xmpp.handleWebSocket(ws, req, { secure: true, remoteAddress: req.socket.remoteAddress }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    xmpp,
    http,
    port,
    wsUrl: `ws://127.0.0.1:${port}/xmpp-websocket`,
    boshUrl: `http://127.0.0.1:${port}/http-bind`,
    domain: xmpp.domains.domain,
    muc: xmpp.domains.mucDomain,
    logs,
    async stop() {
      await xmpp.stop();
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Wait until `check` returns undefined (condition met) or fail with its last reason. Never a fixed sleep. */
export async function waitFor(check: () => string | undefined | false, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  let reason: string | undefined | false = 'not checked';
  while (Date.now() - start < timeoutMs) {
    reason = check();
    if (!reason) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`waitFor timed out: ${reason}`);
}
