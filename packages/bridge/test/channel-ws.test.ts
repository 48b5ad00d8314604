/**
 * colibri-ws on a real loopback HTTP server with real `ws` clients. A small fake conference wires the channels the
 * way the bridge model will: relay endpoint messages with `from` = the sender, merge ReceiverVideoConstraints with
 * cc/constraints.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { applyReceiverVideoConstraints, createAllocationSettings, type AllocationSettings } from '../src/cc/constraints.js';
import { BridgeChannel, broadcast } from '../src/channel/bridge-channel.js';
import {
  buildColibriWsUrl,
  createColibriWsHandler,
  createColibriWsPassword,
  type ColibriWsHandler,
  type ColibriWsOptions,
} from '../src/channel/colibri-ws.js';
import { buildDominantSpeakerChange, buildForwardedSources, buildRelayedEndpointMessage, serializeMessage } from '../src/channel/messages.js';

const BRIDGE_ID = 'jvb-test';
const CONF_ID = 'f3a1c9d2e4b5a6c7d8e9';

async function waitFor(check: () => string | undefined | false, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  let reason: string | undefined | false = 'not checked';
  while (Date.now() - start < timeoutMs) {
    reason = check();
    if (!reason) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`waitFor timed out: ${reason}`);
}

interface FakeEndpoint {
  id: string;
  password: string;
  channel: BridgeChannel;
  settings: AllocationSettings;
  rvcCount: number;
}

/** The minimum of what the model does with channels. */
class FakeConference {
  readonly endpoints = new Map<string, FakeEndpoint>();
  constructor(private readonly log: pino.Logger) {}

  add(id: string, password = createColibriWsPassword()): FakeEndpoint {
    const channel = new BridgeChannel({ endpointId: id, log: this.log, maxMessageBytes: 64 * 1024 });
    const ep: FakeEndpoint = { id, password, channel, settings: createAllocationSettings(), rvcCount: 0 };
    channel.bind({
      onEndpointMessage: (to, message) => {
        const relayed = serializeMessage(buildRelayedEndpointMessage(message, id));
        if (to === '') broadcast([...this.endpoints.values()].map((e) => e.channel), relayed, channel);
        else this.endpoints.get(to)?.channel.sendSerialized(relayed);
      },
      onReceiverVideoConstraints: (c) => {
        ep.settings = applyReceiverVideoConstraints(ep.settings, c);
        ep.rvcCount++;
      },
    });
    this.endpoints.set(id, ep);
    return ep;
  }
}

interface Client {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  pings: number;
  close: { code: number; reason: string } | undefined;
}

let http: Server;
let port: number;
let handler: ColibriWsHandler;
let conference: FakeConference;
let logs: string[];
let clients: WebSocket[];

async function start(opts: Partial<ColibriWsOptions> = {}): Promise<void> {
  logs = [];
  clients = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void logs.push(l) });
  conference = new FakeConference(log);
  handler = createColibriWsHandler({
    bridgeId: BRIDGE_ID,
    lookup: (confId, epId) => (confId === CONF_ID ? conference.endpoints.get(epId) : undefined),
    log,
    ...opts,
  });
  http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  // What the server package does: colibri-ws first, then the catch-all (here: destroy).
  http.on('upgrade', (req, socket, head) => {
    if (!handler.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
}

function url(epId: string, pwd: string | null, bridgeId = BRIDGE_ID, confId = CONF_ID): string {
  const q = pwd === null ? '' : `?pwd=${encodeURIComponent(pwd)}`;
  return `ws://127.0.0.1:${port}/colibri-ws/${bridgeId}/${confId}/${epId}${q}`;
}

async function connect(epId: string, pwd?: string, opts: { autoPong?: boolean } = {}): Promise<Client> {
  const ep = conference.endpoints.get(epId);
  const target = buildColibriWsUrl(`ws://127.0.0.1:${port}/`, BRIDGE_ID, CONF_ID, epId, pwd ?? ep?.password ?? 'x');
  const ws = new WebSocket(target, { autoPong: opts.autoPong ?? true });
  clients.push(ws);
  const c: Client = { ws, messages: [], pings: 0, close: undefined };
  ws.on('message', (data) => c.messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.on('ping', () => c.pings++);
  ws.on('close', (code, reason) => (c.close = { code, reason: reason.toString() }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return c;
}

/** Attempts an upgrade that must fail; resolves with the HTTP status. */
async function rejectedStatus(target: string): Promise<number> {
  const ws = new WebSocket(target);
  clients.push(ws);
  return new Promise<number>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('upgrade unexpectedly accepted')));
    ws.on('error', () => undefined);
  });
}

function classes(c: Client): unknown[] {
  return c.messages.map((m) => m.colibriClass);
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  for (const ws of clients) ws.terminate();
  await handler.close();
  expect(handler.connectionCount).toBe(0);
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

describe('colibri-ws', () => {
  it('sends ServerHello on connect', async () => {
    const ep = conference.add('a');
    expect(ep.password).toMatch(/^[A-Za-z0-9]{24}$/);
    const a = await connect('a');
    await waitFor(() => (a.messages.length >= 1 ? undefined : 'no message'));
    expect(a.messages[0]).toEqual({ colibriClass: 'ServerHello' });
    expect(handler.connectionCount).toBe(1);
    expect(a.ws.protocol).toBe('');
  });

  it('delivers messages sent before the client connected after ServerHello', async () => {
    const a = conference.add('a');
    a.channel.send(buildForwardedSources(['b-v0']));
    a.channel.send(buildDominantSpeakerChange('b', [], false));
    const c = await connect('a');
    await waitFor(() => (c.messages.length >= 3 ? undefined : `${c.messages.length} messages`));
    expect(classes(c)).toEqual(['ServerHello', 'ForwardedSources', 'DominantSpeakerEndpointChangeEvent']);
  });

  it('rejects a wrong password with 403 before the upgrade', async () => {
    conference.add('a');
    expect(await rejectedStatus(url('a', 'wrong'))).toBe(403);
    expect(handler.connectionCount).toBe(0);
  });

  it('rejects a missing or empty password with 401 before the upgrade', async () => {
    conference.add('a');
    expect(await rejectedStatus(url('a', null))).toBe(401);
    expect(await rejectedStatus(url('a', ''))).toBe(401);
  });

  it('rejects an unknown endpoint, conference or bridge id, or a malformed path, with 404', async () => {
    const a = conference.add('a');
    expect(await rejectedStatus(url('nobody', a.password))).toBe(404);
    expect(await rejectedStatus(url('a', a.password, BRIDGE_ID, 'other-conference'))).toBe(404);
    expect(await rejectedStatus(url('a', a.password, 'other-bridge'))).toBe(404);
    expect(await rejectedStatus(`ws://127.0.0.1:${port}/colibri-ws/${BRIDGE_ID}/${CONF_ID}?pwd=x`)).toBe(404);
    expect(await rejectedStatus(`ws://127.0.0.1:${port}/colibri-ws/${BRIDGE_ID}/${CONF_ID}/a/extra?pwd=${a.password}`)).toBe(404);
    expect(await rejectedStatus(`ws://127.0.0.1:${port}/colibri-ws/${BRIDGE_ID}/%E0%A4%A/a?pwd=x`)).toBe(404);
  });

  it('rejects an expired endpoint with 404 and closes its open socket with 1001', async () => {
    const a = conference.add('a');
    const c = await connect('a');
    a.channel.close();
    await waitFor(() => (c.close ? undefined : 'still open'));
    expect(c.close).toEqual({ code: 1001, reason: 'endpoint expired' });
    expect(await rejectedStatus(url('a', a.password))).toBe(404);
  });

  it('answers 500 when lookup throws, without crashing', async () => {
    await handler.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await start({
      lookup: () => {
        throw new Error('model bug');
      },
    });
    expect(await rejectedStatus(url('a', 'x'))).toBe(500);
    expect(logs.some((l) => l.includes('colibri websocket lookup failed'))).toBe(true);
  });

  it('leaves other paths to the next handler', () => {
    const req = { url: '/xmpp-websocket?room=x' } as never;
    expect(handler.handleUpgrade(req, {} as never, Buffer.alloc(0))).toBe(false);
    expect(handler.handleUpgrade({ url: '/colibri-relay-ws/x/y/z' } as never, {} as never, Buffer.alloc(0))).toBe(false);
  });

  it('relays an EndpointMessage from A to B with from = A (ids needing URL encoding)', async () => {
    conference.add('a');
    conference.add('b/ü b');
    const a = await connect('a');
    const b = await connect('b/ü b');
    a.ws.send(JSON.stringify({ colibriClass: 'EndpointMessage', to: 'b/ü b', from: 'mallory', msgPayload: { name: 'e2e-ping', id: 7 } }));
    await waitFor(() => (b.messages.some((m) => m.colibriClass === 'EndpointMessage') ? undefined : 'not relayed'));
    expect(b.messages.find((m) => m.colibriClass === 'EndpointMessage')).toEqual({
      colibriClass: 'EndpointMessage',
      to: 'b/ü b',
      from: 'a',
      msgPayload: { name: 'e2e-ping', id: 7 },
    });
  });

  it('broadcasts an EndpointMessage with to "" to every endpoint except the sender', async () => {
    conference.add('a');
    conference.add('b');
    conference.add('c');
    const [a, b, c] = await Promise.all([connect('a'), connect('b'), connect('c')]);
    if (!a || !b || !c) throw new Error('connect failed');
    const payload = { name: 'reaction', reaction: 'clap', timestamp: 1724142400000 };
    a.ws.send(JSON.stringify({ colibriClass: 'EndpointMessage', to: '', msgPayload: payload }));
    // A marker from C to A proves A would have seen the broadcast by now (messages from one socket stay ordered).
    await waitFor(() => (b.messages.length >= 2 && c.messages.length >= 2 ? undefined : 'not relayed'));
    c.ws.send(JSON.stringify({ colibriClass: 'EndpointMessage', to: 'a', msgPayload: { marker: true } }));
    await waitFor(() => (a.messages.length >= 2 ? undefined : 'no marker'));
    for (const r of [b, c]) expect(r.messages[1]).toEqual({ colibriClass: 'EndpointMessage', to: '', from: 'a', msgPayload: payload });
    expect(a.messages.slice(1)).toEqual([{ colibriClass: 'EndpointMessage', to: 'a', from: 'c', msgPayload: { marker: true } }]);
  });

  it('delivers ReceiverVideoConstraints to the callback; partial updates merge via cc/constraints.ts', async () => {
    const ep = conference.add('a');
    const a = await connect('a');
    a.ws.send('{"colibriClass":"ReceiverVideoConstraints","assumedBandwidthBps":-1,"lastN":-1}');
    a.ws.send(
      '{"colibriClass":"ReceiverVideoConstraints","lastN":2,"onStageSources":["b-v0"],"constraints":{"b-v0":{"maxHeight":720}}}',
    );
    a.ws.send('{"colibriClass":"ReceiverVideoConstraints","defaultConstraints":{"maxHeight":360}}');
    await waitFor(() => (ep.rvcCount === 3 ? undefined : `${ep.rvcCount} delivered`));
    expect(ep.settings.lastN).toBe(2);
    expect(ep.settings.onStageSources).toEqual(['b-v0']);
    expect(ep.settings.constraints.get('b-v0')).toEqual({ maxHeight: 720 });
    expect(ep.settings.defaultConstraints).toEqual({ maxHeight: 360 });
  });

  it('drops and counts invalid JSON, unknown classes, binary and oversized frames; the socket stays open', async () => {
    const ep = conference.add('a');
    const a = await connect('a');
    a.ws.send('{not json');
    a.ws.send('{"colibriClass":"SelectedEndpointsChangedEvent","selectedEndpoints":[]}');
    a.ws.send(Buffer.from('{"colibriClass":"ClientHello"}'), { binary: true });
    a.ws.send(JSON.stringify({ colibriClass: 'EndpointMessage', to: '', msgPayload: { pad: 'x'.repeat(70 * 1024) } }));
    a.ws.send('{"colibriClass":"ReceiverVideoConstraints","lastN":1}');
    await waitFor(() => (ep.rvcCount === 1 ? undefined : 'valid message after garbage not delivered'));
    expect(ep.channel.stats().inboundDropped).toMatchObject({ invalidJson: 1, unknownClass: 1, binary: 1, tooLarge: 1 });
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    expect(a.close).toBeUndefined();
  });

  it('closes with 1009 a frame above maxFrameBytes', async () => {
    await handler.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await start({ maxFrameBytes: 100 * 1024 });
    conference.add('a');
    const a = await connect('a');
    a.ws.send(JSON.stringify({ colibriClass: 'EndpointMessage', to: '', msgPayload: { pad: 'x'.repeat(200 * 1024) } }));
    await waitFor(() => (a.close ? undefined : 'still open'));
    expect(a.close?.code).toBe(1009);
    await waitFor(() => (handler.connectionCount === 0 ? undefined : 'connection still tracked'));
  });

  it('a reconnect of the same endpoint replaces the old socket', async () => {
    const ep = conference.add('a');
    conference.add('b');
    const first = await connect('a');
    const second = await connect('a');
    await waitFor(() => (first.close ? undefined : 'old socket still open'));
    expect(first.close).toEqual({ code: 1000, reason: 'replaced' });
    await waitFor(() => (handler.connectionCount === 1 ? undefined : `${handler.connectionCount} connections`));
    expect(ep.channel.isOpen).toBe(true);
    const b = await connect('b');
    b.ws.send(JSON.stringify({ colibriClass: 'EndpointMessage', to: 'a', msgPayload: { n: 1 } }));
    await waitFor(() => (second.messages.length >= 2 ? undefined : 'not delivered to the new socket'));
    expect(classes(second)).toEqual(['ServerHello', 'EndpointMessage']);
    expect(classes(first)).toEqual(['ServerHello']);
    expect(ep.channel.stats().connects).toBe(2);
  });

  it('pings and terminates a socket that does not answer within the idle timeout', async () => {
    await handler.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await start({ keepaliveMs: 20, idleTimeoutMs: 150 });
    const ep = conference.add('a');
    const a = await connect('a', undefined, { autoPong: false });
    await waitFor(() => (a.close ? undefined : 'not closed'));
    expect(a.pings).toBeGreaterThan(0);
    expect(a.close?.code).toBe(1006); // terminated, no close frame: LJM reconnects
    await waitFor(() => (handler.connectionCount === 0 ? undefined : 'connection still tracked'));
    expect(ep.channel.isOpen).toBe(false);
  });

  it('keeps a socket that answers pings open past the idle timeout', async () => {
    await handler.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    // Generous margins: under load a pong may be late, but never by the whole idle timeout.
    await start({ keepaliveMs: 20, idleTimeoutMs: 400 });
    conference.add('a');
    const a = await connect('a');
    const t0 = Date.now();
    await waitFor(() => (a.pings >= 10 && Date.now() - t0 > 800 ? undefined : `${a.pings} pings`));
    expect(a.close).toBeUndefined();
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('close() terminates every socket and refuses new upgrades with 503', async () => {
    const ep = conference.add('a');
    conference.add('b');
    const a = await connect('a');
    const b = await connect('b');
    await handler.close();
    expect(handler.connectionCount).toBe(0);
    await waitFor(() => (a.close && b.close ? undefined : 'client still open'));
    expect(ep.channel.isOpen).toBe(false);
    expect(await rejectedStatus(url('a', ep.password))).toBe(503);
  });

  it('logs no address, no password and only a truncated conference id', async () => {
    const ep = conference.add('a');
    await connect('a');
    expect(await rejectedStatus(url('a', 'wrong-secret'))).toBe(403);
    const all = logs.join('\n');
    expect(all).toContain('colibri websocket accepted');
    expect(all).toContain('"epId":"a"');
    expect(all).toContain(CONF_ID.slice(0, 8));
    expect(all).not.toContain(CONF_ID);
    expect(all).not.toContain('127.0.0.1');
    expect(all).not.toContain(ep.password);
    expect(all).not.toContain('wrong-secret');
  });
});
