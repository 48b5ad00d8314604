/** The upgrade mount on a real loopback server: the `extraUpgrade` hook gets first pick, XMPP and the 404 still work. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { attachXmppWebSocket, type XmppWebSocketMount } from '../src/index.js';

const log = pino({ level: 'silent' });

let server: Server | undefined;
let mount: XmppWebSocketMount | undefined;

afterEach(async () => {
  await mount?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  mount = undefined;
});

async function start(extraUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean): Promise<{ port: number; xmppSockets: number[] }> {
  server = createServer((_req, res) => res.end());
  const xmppSockets: number[] = [];
  mount = attachXmppWebSocket({
    server,
    xmpp: {
      handleWebSocket: (ws) => {
        xmppSockets.push(1);
        ws.send('<open/>');
      },
    },
    insecureHttp: true,
    maxPayloadBytes: 1024,
    log,
    ...(extraUpgrade !== undefined ? { extraUpgrade } : {}),
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, xmppSockets };
}

/** Resolves with 'open' and the first message, or the HTTP status of a refused upgrade. */
function attempt(url: string, protocol?: string): Promise<{ status: number; first?: string }> {
  const ws = new WebSocket(url, protocol);
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('message', (data) => {
      resolve({ status: 101, first: String(data) });
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

describe('attachXmppWebSocket() extraUpgrade', () => {
  it('lets the hook answer its paths; /xmpp-websocket and the 404 for the rest are unchanged', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const seen: string[] = [];
    const { port, xmppSockets } = await start((req, socket, head) => {
      seen.push(req.url ?? '');
      if (!(req.url ?? '').startsWith('/colibri-ws/')) return false;
      wss.handleUpgrade(req, socket, head, (ws) => ws.send('colibri'));
      return true;
    });
    expect(await attempt(`ws://127.0.0.1:${port}/colibri-ws/jvb1/c/e?pwd=x`)).toEqual({ status: 101, first: 'colibri' });
    expect(await attempt(`ws://127.0.0.1:${port}/xmpp-websocket`, 'xmpp')).toEqual({ status: 101, first: '<open/>' });
    expect(await attempt(`ws://127.0.0.1:${port}/elsewhere`)).toEqual({ status: 404 });
    expect(seen).toEqual(['/colibri-ws/jvb1/c/e?pwd=x', '/xmpp-websocket', '/elsewhere']);
    expect(xmppSockets).toHaveLength(1);
    wss.close();
  });

  it('a hook that throws costs only that request', async () => {
    const { port } = await start((req) => {
      if (req.url === '/boom') throw new Error('boom');
      return false;
    });
    const refused = new WebSocket(`ws://127.0.0.1:${port}/boom`);
    await new Promise<void>((resolve) => {
      refused.on('error', () => resolve());
      refused.on('unexpected-response', () => resolve());
    });
    expect(await attempt(`ws://127.0.0.1:${port}/xmpp-websocket`, 'xmpp')).toEqual({ status: 101, first: '<open/>' });
  });
});
