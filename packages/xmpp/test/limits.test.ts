/**
 * Abuse and protocol-violation tests over a real WebSocket: every bad client gets the right stream error, is
 * disconnected, leaves nothing behind, and never disturbs a well-behaved client on the same server.
 */
import { randomBytes } from 'node:crypto';
import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Element, NS_FRAMING, NS_STANZAS, NS_STREAM_ERRORS, XmlStreamParser, type XmppConfigInput } from '../src/index.js';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';

let srv: TestServer | undefined;
/** A well-behaved client connected for the whole test. */
let bystander: TestClient;

async function start(config: XmppConfigInput = {}): Promise<TestServer> {
  srv = await startTestServer(config);
  bystander = await TestClient.connect(srv);
  return srv;
}

afterEach(async () => {
  await srv?.stop();
  srv = undefined;
});

const PING = 'urn:xmpp:ping';
const open = (domain: string) => `<open xmlns="${NS_FRAMING}" to="${domain}" version="1.0"/>`;

/** The client got `<stream:error>` with `condition`, then `<close/>` as the last frame, then the socket closed. */
async function expectStreamError(c: TestClient, condition: string): Promise<void> {
  const err = await c.expect((s) => s.name === 'stream:error');
  const cond = err.getChild(condition);
  expect(cond, `expected ${condition}, got ${err.toString()}`).toBeDefined();
  expect(cond?.attrs.xmlns).toBe(NS_STREAM_ERRORS);
  await c.expect((s) => s.name === 'close' && s.attrs.xmlns === NS_FRAMING);
  await c.waitClosed();
  const i = c.received.indexOf(err);
  expect(c.received.slice(i).map((e) => e.name)).toEqual(['stream:error', 'close']);
}

/** Nothing leaked, the bystander still works and a new client can still log in. */
async function expectHealthy(s: TestServer): Promise<void> {
  const x = s.xmpp;
  await waitFor(() =>
    x.allSessions.size === 1 && x.sessions.size === 1 && x.sessionsByBare.size === 1
      ? undefined
      : `sessions left: all=${x.allSessions.size} bound=${x.sessions.size} byBare=${x.sessionsByBare.size}`,
  );
  expect(x.sessions.has(bystander.jid)).toBe(true);
  expect(bystander.closed).toBe(false);
  expect(bystander.all((e) => e.name === 'stream:error' || e.name === 'close')).toEqual([]);
  const id = bystander.nextId();
  const pong = await bystander.iq(`<iq type="get" id="${id}" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
  expect(pong.attrs.type).toBe('result');
  const fresh = await TestClient.connect(s);
  const pong2 = await fresh.iq(`<iq type="get" id="f1" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
  expect(pong2.attrs.type).toBe('result');
  fresh.close();
  await fresh.waitClosed();
  await waitFor(() => (x.allSessions.size === 1 && x.sessions.size === 1 ? undefined : `fresh client left a session: ${x.allSessions.size}`));
}

function errorCondition(stanza: Element): string | undefined {
  const err = stanza.getChild('error');
  if (!err) return undefined;
  for (const c of err.children) {
    if (typeof c !== 'string' && (c as Element).attrs.xmlns === NS_STANZAS && (c as Element).name !== 'text') return (c as Element).name;
  }
  return undefined;
}

/**
 * A WebSocket whose listeners are attached before the handshake completes. (TestClient.open attaches its
 * listener after `await`ing 'open', so frames the server sends immediately, as on a refused connection, can
 * arrive together with the 101 response and be emitted before it listens.)
 */
function earlyListeningSocket(url: string): { received: Element[]; closed: Promise<number> } {
  const ws = new WebSocket(url, 'xmpp');
  const received: Element[] = [];
  const parser = new XmlStreamParser('framed', {
    element: (el) => void received.push(el),
    error: (err) => {
      throw err;
    },
  });
  ws.on('message', (d) => parser.write(d.toString()));
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return { received, closed };
}

/** A refused connection: a stream header, the policy-violation stream error, <close/>, and the socket closes. */
async function expectRefused(url: string): Promise<void> {
  const c = earlyListeningSocket(url);
  expect(await c.closed).toBe(1000);
  expect(c.received.map((e) => e.name)).toEqual(['open', 'stream:error', 'close']);
  expect(c.received[1]?.getChild('policy-violation')?.attrs.xmlns).toBe(NS_STREAM_ERRORS);
}

/** A raw TCP connection that completes the WebSocket upgrade (so the test can send bytes no ws client would). */
async function rawWebSocket(port: number): Promise<{ socket: Socket; data: () => string }> {
  const socket = connect(port, '127.0.0.1');
  let buf = '';
  socket.on('data', (d) => (buf += d.toString('latin1')));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    'GET /xmpp-websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n`,
  );
  await waitFor(() => (buf.includes('\r\n\r\n') ? undefined : 'no upgrade response'));
  expect(buf).toMatch(/^HTTP\/1\.1 101 /);
  return { socket, data: () => buf };
}

describe('stream errors for abusive input', () => {
  it('an oversized stanza (in one frame) gets policy-violation, then <close/>, then the socket closes', async () => {
    const s = await start({ limits: { maxStanzaSize: 1024 } });
    const bad = await TestClient.connect(s);
    bad.send(`<message to="${bystander.jid}" type="chat"><body>${'x'.repeat(1500)}</body></message>`);
    await expectStreamError(bad, 'policy-violation');
    // The oversized message was never delivered.
    expect(bystander.all((e) => e.name === 'message')).toEqual([]);
    await expectHealthy(s);
    expect(s.xmpp.counters.streamErrors).toBeGreaterThanOrEqual(1);
  });

  it('a frame far over the limit is refused before parsing', async () => {
    const s = await start({ limits: { maxStanzaSize: 1024 } });
    const bad = await TestClient.connect(s);
    bad.send(`<message to="${bystander.jid}"><body>${'y'.repeat(100_000)}</body></message>`);
    await expectStreamError(bad, 'policy-violation');
    await expectHealthy(s);
  });

  it('an oversized stanza spread over many small frames (a never-ending attribute) gets policy-violation', async () => {
    const s = await start({ limits: { maxStanzaSize: 1024 } });
    const bad = await TestClient.connect(s);
    bad.sendRaw('<message to="');
    for (let i = 0; i < 30; i++) bad.sendRaw('a'.repeat(100));
    await expectStreamError(bad, 'policy-violation');
    await expectHealthy(s);
  });

  it('a never-ending text over many frames gets policy-violation', async () => {
    const s = await start({ limits: { maxStanzaSize: 1024 } });
    const bad = await TestClient.connect(s);
    bad.sendRaw(`<message to="${bystander.jid}"><body>`);
    for (let i = 0; i < 30; i++) bad.sendRaw('b'.repeat(100));
    await expectStreamError(bad, 'policy-violation');
    expect(bystander.all((e) => e.name === 'message')).toEqual([]);
    await expectHealthy(s);
  });

  it('XML nested deeper than maxXmlDepth gets policy-violation', async () => {
    const s = await start({ limits: { maxXmlDepth: 8 } });
    const ok = await TestClient.connect(s);
    // depth 8 (message + 7) is fine
    ok.send(`<message to="${bystander.jid}" type="chat" id="deep-ok">${'<x>'.repeat(7)}${'</x>'.repeat(7)}</message>`);
    await bystander.expect((e) => e.name === 'message' && e.attrs.id === 'deep-ok');
    ok.close();
    await ok.waitClosed();
    const bad = await TestClient.connect(s);
    bad.send(`<message to="${bystander.jid}">${'<x>'.repeat(8)}${'</x>'.repeat(8)}</message>`);
    await expectStreamError(bad, 'policy-violation');
    await expectHealthy(s);
  });

  it('too many attributes get policy-violation', async () => {
    const s = await start({ limits: { maxAttributes: 8 } });
    const bad = await TestClient.connect(s);
    const attrs = Array.from({ length: 9 }, (_, i) => ` a${i}="v"`).join('');
    bad.send(`<message to="${bystander.jid}"><x${attrs}/></message>`);
    await expectStreamError(bad, 'policy-violation');
    await expectHealthy(s);
  });

  it('a billion-laughs document gets restricted-xml', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    const lol =
      `<!DOCTYPE lolz [<!ENTITY lol "lol">` +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
      `]><message to="${bystander.jid}"><body>&lol9;</body></message>`;
    bad.sendRaw(lol);
    await expectStreamError(bad, 'restricted-xml');
    await expectHealthy(s);
  });

  it('an undefined entity reference (without a DTD) gets restricted-xml', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.send(`<message to="${bystander.jid}"><body>&lol9;</body></message>`);
    await expectStreamError(bad, 'restricted-xml');
    expect(bystander.all((e) => e.name === 'message')).toEqual([]);
    await expectHealthy(s);
  });

  it('a comment gets restricted-xml', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.sendRaw('<!-- hello -->');
    await expectStreamError(bad, 'restricted-xml');
    await expectHealthy(s);
  });

  it('garbage before the stream is opened gets not-well-formed', async () => {
    const s = await start();
    const bad = await TestClient.open(s.wsUrl);
    bad.sendRaw('\u0000\u0001GET / HTTP/1.0 }{ garbage <<>>');
    await expectStreamError(bad, 'not-well-formed');
    await expectHealthy(s);
  });

  it('garbage after login gets not-well-formed', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.sendRaw('<message to="x"></presence>');
    await expectStreamError(bad, 'not-well-formed');
    const bad2 = await TestClient.connect(s);
    bad2.sendRaw('%PDF-1.4 \u00ff\u00fe');
    await expectStreamError(bad2, 'not-well-formed');
    await expectHealthy(s);
  });

  it('a raw control character (which would break other clients\' parsers when relayed) gets not-well-formed', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.send(`<message to="${bystander.jid}" type="chat"><body>\u0001\u001b[2J</body></message>`);
    await expectStreamError(bad, 'not-well-formed');
    expect(bystander.all((e) => e.name === 'message')).toEqual([]);
    await expectHealthy(s);
  });

  it('a binary frame gets a stream error and the socket is closed', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.ws.send(Buffer.from('<message/>'), { binary: true });
    await expectStreamError(bad, 'unsupported-encoding');
    await expectHealthy(s);
  });

  it('a text frame with invalid UTF-8 is closed by the WebSocket layer and cleaned up', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    const code = new Promise<number>((resolve) => bad.ws.once('close', (c) => resolve(c)));
    bad.ws.send(Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), { binary: false });
    expect(await code).toBe(1007);
    await expectHealthy(s);
  });

  it('a client that vanishes mid-stanza (socket destroyed) leaves nothing behind', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.sendRaw(`<message to="${bystander.jid}"><body>half`);
    await waitFor(() => (s.xmpp.allSessions.size === 2 ? undefined : 'bad client not registered'));
    bad.ws.terminate();
    await expectHealthy(s);
    expect(bystander.all((e) => e.name === 'message')).toEqual([]);
  });
});

describe('per-address connection limit', () => {
  it('refuses the connection over the limit with policy-violation, and accepts again after one closes', async () => {
    const s = await start({ limits: { maxConnectionsPerAddress: 2 } }); // the bystander is connection 1
    const second = await TestClient.connect(s);
    await expectRefused(s.wsUrl); // a stream header first, so clients can read the error
    expect(s.xmpp.counters.connectionsRefused).toBe(1);
    expect(s.xmpp.allSessions.size).toBe(2); // the refused connection never got a session
    // Still refused while two are open.
    await expectRefused(s.wsUrl);
    expect(s.xmpp.counters.connectionsRefused).toBe(2);
    // One closes: a new connection is accepted again.
    second.close();
    await second.waitClosed();
    await waitFor(() => (s.xmpp.allSessions.size === 1 ? undefined : `${s.xmpp.allSessions.size} sessions`));
    const again = await TestClient.connect(s);
    const pong = await again.iq(`<iq type="get" id="p" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    expect(pong.attrs.type).toBe('result');
    expect(s.xmpp.counters.connectionsRefused).toBe(2);
    again.close();
    await again.waitClosed();
    await expectHealthy(s);
  });

  it('a refused connection that then violates the WebSocket protocol does not crash the server', async () => {
    const s = await start({ limits: { maxConnectionsPerAddress: 1 } }); // the bystander uses the only slot
    const raw = await rawWebSocket(s.port);
    // An unmasked client frame is a protocol error: ws emits 'error' on the server-side socket.
    raw.socket.write(Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
    await waitFor(() => (raw.socket.destroyed || raw.socket.readableEnded ? undefined : 'raw socket still open'));
    expect(raw.data()).toContain('policy-violation');
    expect(s.xmpp.counters.connectionsRefused).toBe(1);
    const pong = await bystander.iq(`<iq type="get" id="${bystander.nextId()}" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    expect(pong.attrs.type).toBe('result');
  });

  it('an accepted connection that violates the WebSocket protocol is cleaned up and frees its slot', async () => {
    const s = await start({ limits: { maxConnectionsPerAddress: 2 } });
    const raw = await rawWebSocket(s.port);
    await waitFor(() => (s.xmpp.allSessions.size === 2 ? undefined : 'raw session not registered'));
    raw.socket.write(Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
    await waitFor(() => (raw.socket.destroyed || raw.socket.readableEnded ? undefined : 'raw socket still open'));
    await expectHealthy(s); // includes a fresh connection, which needs the freed slot
  });
});

describe('byte-rate throttling', () => {
  it('pauses a flooding client (not cut) while a concurrent well-behaved client is served first', async () => {
    const s = await start({ limits: { bytesPerSecond: 1024, burstBytes: 1024 } });
    const flooder = await TestClient.connect(s);
    const session = s.xmpp.sessions.get(flooder.jid);
    expect(session).toBeDefined();
    const transport = session?.transport as unknown as { limiter: { throttled: number }; paused: boolean };
    expect(transport.limiter.throttled).toBe(0);
    expect(transport.paused).toBe(false);
    // ~3 KiB at once: three times the burst.
    for (let i = 0; i < 3; i++) flooder.send(`<iq type="get" id="flood${i}" to="${s.domain}"><ping xmlns="${PING}" pad="${'p'.repeat(900)}"/></iq>`);
    await waitFor(() => (transport.paused ? undefined : 'flooder not paused'));
    expect(transport.limiter.throttled).toBeGreaterThanOrEqual(1);

    // While the flooder is paused, both clients send a ping.
    const order: string[] = [];
    flooder.send(`<iq type="get" id="late" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    const late = flooder.expect((e) => e.name === 'iq' && e.attrs.id === 'late', 15_000).then((r) => {
      order.push('flooder');
      return r;
    });
    const early = bystander.iq(`<iq type="get" id="early" to="${s.domain}"><ping xmlns="${PING}"/></iq>`).then((r) => {
      order.push('bystander');
      return r;
    });
    expect((await early).attrs.type).toBe('result');
    expect(order).toEqual(['bystander']);
    // The flooder is throttled, not disconnected: its stanza is processed once the pause is over.
    expect((await late).attrs.type).toBe('result');
    expect(order).toEqual(['bystander', 'flooder']);
    expect(flooder.closed).toBe(false);
    expect(flooder.all((e) => e.name === 'stream:error')).toEqual([]);
    // Every flood stanza was answered too (throttling loses nothing).
    for (let i = 0; i < 3; i++) await flooder.expect((e) => e.name === 'iq' && e.attrs.id === `flood${i}`);
    await waitFor(() => (transport.paused ? 'still paused' : undefined), 10_000);
    flooder.close();
    await flooder.waitClosed();
    await expectHealthy(s);
  });

  it('a client below the rate is never paused', async () => {
    const s = await start({ limits: { bytesPerSecond: 1024 * 1024, burstBytes: 1024 * 1024 } });
    const c = await TestClient.connect(s);
    const transport = s.xmpp.sessions.get(c.jid)?.transport as unknown as { limiter: { throttled: number } };
    for (let i = 0; i < 20; i++) {
      const r = await c.iq(`<iq type="get" id="n${i}" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
      expect(r.attrs.type).toBe('result');
    }
    expect(transport.limiter.throttled).toBe(0);
    c.close();
  });
});

describe('stanza-level errors (the stream stays up)', () => {
  it('IQ to nowhere: unknown full JID, unknown bare JID, unknown domain', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    const r1 = await c.iq(`<iq type="get" id="n1" to="nobody@${s.domain}/x"><ping xmlns="${PING}"/></iq>`);
    expect(r1.attrs.type).toBe('error');
    expect(errorCondition(r1)).toBe('service-unavailable');
    expect(r1.attrs.from).toBe(`nobody@${s.domain}/x`);
    expect(r1.attrs.to).toBe(c.jid);
    const r2 = await c.iq(`<iq type="get" id="n2" to="nobody@${s.domain}"><query xmlns="urn:example:x"/></iq>`);
    expect(errorCondition(r2)).toBe('service-unavailable');
    const r3 = await c.iq(`<iq type="set" id="n3" to="nowhere.example"><query xmlns="urn:example:x"/></iq>`);
    expect(errorCondition(r3)).toBe('remote-server-not-found');
    const r4 = await c.iq(`<iq type="get" id="n4" to="@bad@jid"><ping xmlns="${PING}"/></iq>`);
    expect(errorCondition(r4)).toBe('jid-malformed');
    expect(c.closed).toBe(false);
    c.close();
    await expectHealthy(s);
  });

  it('IQ without id gets bad-request', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    c.send(`<iq type="get" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    const r = await c.expect((e) => e.name === 'iq' && e.attrs.type === 'error');
    expect(r.attrs.id).toBeUndefined();
    expect(errorCondition(r)).toBe('bad-request');
    c.close();
    await expectHealthy(s);
  });

  it('IQ get with two children, or none, gets bad-request; so does a bad IQ type', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    const two = await c.iq(`<iq type="get" id="two" to="${s.domain}"><ping xmlns="${PING}"/><ping xmlns="${PING}"/></iq>`);
    expect(errorCondition(two)).toBe('bad-request');
    expect(two.getChild('error')?.attrs.type).toBe('modify');
    const none = await c.iq(`<iq type="set" id="none" to="${s.domain}"/>`);
    expect(errorCondition(none)).toBe('bad-request');
    c.send(`<iq type="bogus" id="bogus" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    const bogus = await c.expect((e) => e.name === 'iq' && e.attrs.id === 'bogus');
    expect(errorCondition(bogus)).toBe('bad-request');
    c.close();
    await expectHealthy(s);
  });

  it('message to an unknown bare JID gets service-unavailable (with the original payload)', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    c.send(`<message to="nobody@${s.domain}" id="m1" type="chat"><body>anyone?</body></message>`);
    const r = await c.expect((e) => e.name === 'message' && e.attrs.id === 'm1');
    expect(r.attrs.type).toBe('error');
    expect(errorCondition(r)).toBe('service-unavailable');
    expect(r.attrs.from).toBe(`nobody@${s.domain}`);
    expect(r.getChildText('body')).toBe('anyone?');
    c.close();
    await expectHealthy(s);
  });

  it('errors and results to nowhere are dropped silently (never an error about an error)', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    c.send(`<message to="nobody@${s.domain}" id="e1" type="error"><error type="cancel"><gone xmlns="${NS_STANZAS}"/></error></message>`);
    c.send(`<iq type="result" id="e2" to="nobody@${s.domain}/r"/>`);
    c.send(`<iq type="error" id="e3" to="nowhere.example"/>`);
    c.send(`<message to="nobody@${s.domain}" id="e4" type="headline"><body>x</body></message>`);
    // Stanzas are processed in order: once this answer is here, any reply to the above would be too.
    const r = await c.iq(`<iq type="get" id="after" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    expect(r.attrs.type).toBe('result');
    expect(c.all((e) => ['e1', 'e2', 'e3', 'e4'].includes(e.attrs.id as string))).toEqual([]);
    c.close();
    await expectHealthy(s);
  });

  it('a `from` of the own bare or full JID (any case of the domain) is accepted', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    const bare = c.jid.split('/')[0] as string;
    const r1 = await c.iq(`<iq type="get" id="f1" from="${bare}" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    expect(r1.attrs.type).toBe('result');
    const r2 = await c.iq(`<iq type="get" id="f2" from="${c.jid.replace(s.domain, s.domain.toUpperCase())}" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    expect(r2.attrs.type).toBe('result');
    c.close();
    await expectHealthy(s);
  });
});

describe('stream-level protocol errors', () => {
  it('a spoofed `from` gets invalid-from and nothing is delivered', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.send(`<message to="${bystander.jid}" from="admin@${s.domain}/x" type="chat"><body>trust me</body></message>`);
    await expectStreamError(bad, 'invalid-from');
    const bad2 = await TestClient.connect(s);
    bad2.send(`<message to="${bystander.jid}" from="not a jid@@" type="chat"><body>x</body></message>`);
    await expectStreamError(bad2, 'invalid-from');
    expect(bystander.all((e) => e.name === 'message')).toEqual([]);
    await expectHealthy(s);
  });

  it('a stanza before authentication gets not-authorized', async () => {
    const s = await start();
    const bad = await TestClient.open(s.wsUrl);
    bad.sendRaw(open(s.domain));
    await bad.expect((e) => e.name === 'stream:features');
    bad.send(`<message to="${bystander.jid}" type="chat"><body>hi</body></message>`);
    await expectStreamError(bad, 'not-authorized');
    expect(bystander.all((e) => e.name === 'message')).toEqual([]);
    await expectHealthy(s);
  });

  it('a stanza before the stream is opened gets not-authorized', async () => {
    const s = await start();
    const bad = await TestClient.open(s.wsUrl);
    bad.send(`<iq type="get" id="x" to="${s.domain}"><ping xmlns="${PING}"/></iq>`);
    await expectStreamError(bad, 'not-authorized');
    await expectHealthy(s);
  });

  it('SASL before the stream is opened gets a stream error (not an internal error)', async () => {
    const s = await start();
    const bad = await TestClient.open(s.wsUrl);
    bad.sendRaw(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>`);
    await expectStreamError(bad, 'not-authorized');
    expect(s.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
    await expectHealthy(s);
  });

  it('a stanza after SASL but before resource binding gets not-authorized', async () => {
    const s = await start();
    const bad = await TestClient.open(s.wsUrl);
    bad.sendRaw(open(s.domain));
    await bad.expect((e) => e.name === 'stream:features');
    bad.sendRaw(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>`);
    await bad.expect((e) => e.name === 'success');
    bad.sendRaw(open(s.domain));
    await bad.expect((e) => e.name === 'stream:features');
    bad.send(`<message to="${bystander.jid}" type="chat"><body>hi</body></message>`);
    await expectStreamError(bad, 'not-authorized');
    await expectHealthy(s);
  });

  it('an unknown top-level element after binding gets unsupported-stanza-type', async () => {
    const s = await start();
    const bad = await TestClient.connect(s);
    bad.sendRaw(`<foo xmlns="jabber:client"/>`);
    await expectStreamError(bad, 'unsupported-stanza-type');
    await expectHealthy(s);
  });

  it('<open/> to an unknown host gets host-unknown', async () => {
    const s = await start();
    const bad = await TestClient.open(s.wsUrl);
    bad.sendRaw(open('unknown.example'));
    await expectStreamError(bad, 'host-unknown');
    const bad2 = await TestClient.open(s.wsUrl);
    bad2.sendRaw(open(s.muc)); // a service host, not a user host
    await expectStreamError(bad2, 'host-unknown');
    await expectHealthy(s);
  });

  it('many abusive clients in a row leave no sessions behind', async () => {
    const s = await start({ limits: { maxStanzaSize: 1024 } });
    const abuses = [
      '<!DOCTYPE x>',
      '<a></b>',
      `<message><body>${'z'.repeat(2000)}</body></message>`,
      '<!-- c -->',
      `<iq type="get" id="q" from="evil@${s.domain}/x" to="${s.domain}"><ping xmlns="${PING}"/></iq>`,
    ];
    for (let round = 0; round < 3; round++) {
      const clients = await Promise.all(abuses.map(() => TestClient.connect(s)));
      clients.forEach((c, i) => c.sendRaw(abuses[i] as string));
      await Promise.all(clients.map((c) => c.waitClosed()));
    }
    await expectHealthy(s);
  });
});
