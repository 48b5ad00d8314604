/**
 * TCP c2s (RFC 6120) over real loopback sockets: stream header format, STARTTLS, SASL, bind, routing to a
 * WebSocket client, stream close; requireTls on and off; hostile input; limits; liveness.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NS_STREAMS } from '../src/index.js';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';
import { RawStream, testCert } from './tcp-stream.js';

const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
const SASL_NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const ACCOUNT = { jid: 'alice@meet.jitsi', password: 'wonderland' };
const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');
const mechanisms = (f: Element) => f.getChild('mechanisms')?.getChildren('mechanism').map((m) => m.getText()) ?? [];
type Element = import('../src/index.js').Element;

let tls: { key: string; cert: string };
let srv: TestServer | undefined;
const streams: RawStream[] = [];

beforeAll(async () => {
  tls = await testCert();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.destroy();
  await srv?.stop();
  srv = undefined;
});

async function start(overrides: Parameters<typeof startTestServer>[0] = {}, withTls = true): Promise<TestServer> {
  srv = await startTestServer({ c2s: { port: 0, host: '127.0.0.1' }, accounts: [ACCOUNT], ...overrides }, withTls ? { tls } : {});
  return srv;
}

async function raw(s: TestServer): Promise<RawStream> {
  const c = await RawStream.connect(s.xmpp.c2sPort as number);
  streams.push(c);
  return c;
}

const noSessionsLeft = (s: TestServer) => () => (s.xmpp.allSessions.size === 0 ? undefined : `${s.xmpp.allSessions.size} sessions left`);

describe('c2s over TCP with STARTTLS required (the default)', () => {
  it('header → starttls → TLS → ANONYMOUS → bind → ping → message with a WebSocket client → close', async () => {
    const s = await start();
    expect(s.xmpp.c2sPort).toBeGreaterThan(0);
    const c = await raw(s);
    c.open(s.domain);
    const f1 = await c.features();
    // The exact header a desktop client sees.
    expect(c.raw).toMatch(
      new RegExp(
        `^<\\?xml version='1.0'\\?><stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' id='[^']+' from='meet.jitsi' version='1.0' xml:lang='en'>`,
      ),
    );
    expect(f1.getChild('starttls', TLS_NS)?.getChild('required')).toBeDefined();
    expect(f1.getChild('mechanisms')).toBeUndefined();

    c.send(`<starttls xmlns='${TLS_NS}'/>`);
    await c.expect((el) => el.name === 'proceed' && el.attrs.xmlns === TLS_NS);
    await c.startTls({ ca: tls.cert, servername: 'meet.jitsi' }); // the certificate verifies for the domain
    c.open(s.domain);
    const f2 = await c.features();
    expect(f2.getChild('starttls')).toBeUndefined();
    expect(mechanisms(f2)).toEqual(['ANONYMOUS', 'PLAIN']);
    expect((await c.waitHeaders(1)).from).toBe('meet.jitsi'); // the new stream's header (parser reset on TLS)

    c.send(`<auth xmlns='${SASL_NS}' mechanism='ANONYMOUS'/>`);
    await c.expect((el) => el.name === 'success');
    c.open(s.domain);
    const f3 = await c.features();
    expect(f3.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')).toBeDefined();
    c.send(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>desk</resource></bind></iq>`);
    const bound = await c.expect((el) => el.name === 'iq' && el.attrs.id === 'b1');
    const jid = bound.getChild('bind')?.getChildText('jid') ?? '';
    expect(jid).toMatch(/^[0-9a-f-]{36}@meet\.jitsi\/desk$/);

    c.send(`<iq type='get' id='p1' to='${s.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const pong = await c.expect((el) => el.name === 'iq' && el.attrs.id === 'p1');
    expect(pong.attrs.type).toBe('result');

    const ws = await TestClient.connect(s);
    c.send(`<message type='chat' to='${ws.jid}' id='m1'><body>hello from TCP</body></message>`);
    const got = await ws.expect((el) => el.name === 'message' && el.attrs.id === 'm1');
    expect(got.attrs.from).toBe(jid);
    expect(got.getChildText('body')).toBe('hello from TCP');
    ws.send(`<message type="chat" to="${jid}" id="m2"><body>hello from WebSocket</body></message>`);
    const back = await c.expect((el) => el.name === 'message' && el.attrs.id === 'm2');
    expect(back.attrs.from).toBe(ws.jid);
    expect(back.getChildText('body')).toBe('hello from WebSocket');

    expect(s.xmpp.allSessions.size).toBe(2);
    c.send('</stream:stream>');
    await waitFor(() => (c.streamClosed ? undefined : 'no </stream:stream> from the server'));
    await c.waitClosed();
    await waitFor(() => (s.xmpp.allSessions.size === 1 ? undefined : `${s.xmpp.allSessions.size} sessions`));
    expect(s.xmpp.sessions.has(jid)).toBe(false);
    ws.close();
  });

  it('SASL PLAIN with an account works; wrong passwords get not-authorized and the third closes the stream', async () => {
    const s = await start();
    const ok = await raw(s);
    await ok.login(s.domain, { mechanism: 'PLAIN', user: 'alice', password: 'wonderland' });
    expect(ok.jid).toMatch(/^alice@meet\.jitsi\/.+/);

    const bad = await raw(s);
    bad.open(s.domain);
    await bad.features();
    bad.send(`<starttls xmlns='${TLS_NS}'/>`);
    await bad.expect((el) => el.name === 'proceed');
    await bad.startTls();
    bad.open(s.domain);
    await bad.features();
    for (let i = 1; i <= 3; i++) {
      bad.send(`<auth xmlns='${SASL_NS}' mechanism='PLAIN'>${plain('alice', `nope${i}`)}</auth>`);
      const f = await bad.expect((el) => el.name === 'failure');
      expect(f.attrs.xmlns).toBe(SASL_NS);
      expect(f.getChild('not-authorized')).toBeDefined();
    }
    expect(await bad.streamError()).toBe('policy-violation');
    await bad.waitClosed();
    // The password never shows up in the logs.
    expect(JSON.stringify(s.logs)).not.toContain('nope1');
  });

  it('refuses authentication before TLS with a stream error', async () => {
    const s = await start();
    const c = await raw(s);
    c.open(s.domain);
    await c.features();
    c.send(`<auth xmlns='${SASL_NS}' mechanism='ANONYMOUS'/>`);
    expect(await c.streamError()).toBe('policy-violation');
    await c.waitClosed();
    await waitFor(noSessionsLeft(s));
  });

  it('ignores plaintext sent after <starttls/> in the same packet (no injection into the TLS stream)', async () => {
    const s = await start();
    const c = await raw(s);
    c.open(s.domain);
    await c.features();
    c.send(`<starttls xmlns='${TLS_NS}'/><auth xmlns='${SASL_NS}' mechanism='ANONYMOUS'/>`);
    await c.expect((el) => el.name === 'proceed');
    await c.startTls();
    c.open(s.domain);
    const f = await c.features();
    // Still unauthenticated: the injected <auth/> was not processed.
    expect(mechanisms(f)).toContain('ANONYMOUS');
    expect(c.received.some((el) => el.name === 'success')).toBe(false);
  });

  it('a TLS handshake that fails closes the connection without hurting the server', async () => {
    const s = await start();
    const c = await raw(s);
    c.open(s.domain);
    await c.features();
    c.send(`<starttls xmlns='${TLS_NS}'/>`);
    await c.expect((el) => el.name === 'proceed');
    c.send('this is not a TLS ClientHello\r\n\r\n');
    await c.waitClosed();
    await waitFor(noSessionsLeft(s));
    const d = await raw(s);
    await d.login(s.domain);
    expect(d.jid).toContain('@meet.jitsi/');
  });

  it('offers STARTTLS without <required/> and SASL before TLS when requireTls is false', async () => {
    const s = await start({ c2s: { port: 0, host: '127.0.0.1', requireTls: false } });
    const c = await raw(s);
    c.open(s.domain);
    const f = await c.features();
    expect(f.getChild('starttls', TLS_NS)).toBeDefined();
    expect(f.getChild('starttls', TLS_NS)?.getChild('required')).toBeUndefined();
    expect(mechanisms(f)).toEqual(['ANONYMOUS']);
  });
});

describe('c2s over TCP without TLS', () => {
  it('refuses to start when requireTls is true and there is no certificate', async () => {
    await expect(start({}, false)).rejects.toThrow(/requireTls is true but the server has no TLS certificate/);
    srv = undefined;
  });

  it('with requireTls false works in plaintext: ANONYMOUS offered, PLAIN not', async () => {
    const s = await start({ c2s: { port: 0, host: '127.0.0.1', requireTls: false } }, false);
    const c = await raw(s);
    c.open(s.domain);
    const f = await c.features();
    expect(f.getChild('starttls')).toBeUndefined();
    expect(mechanisms(f)).toEqual(['ANONYMOUS']);
    c.send(`<auth xmlns='${SASL_NS}' mechanism='PLAIN'>${plain('alice', 'wonderland')}</auth>`);
    const failure = await c.expect((el) => el.name === 'failure');
    expect(failure.getChild('encryption-required')).toBeDefined();
    c.send(`<auth xmlns='${SASL_NS}' mechanism='ANONYMOUS'/>`);
    await c.expect((el) => el.name === 'success');
    c.open(s.domain);
    await c.features();
    c.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
    const b = await c.expect((el) => el.name === 'iq' && el.attrs.id === 'b');
    expect(b.attrs.type).toBe('result');
    c.send(`<iq type='get' id='p' to='${s.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect((await c.expect((el) => el.attrs.id === 'p')).attrs.type).toBe('result');
  });
});

describe('hostile input on TCP', () => {
  const deep = `<message to='x@meet.jitsi'>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</message>`;
  const cases: { name: string; header?: string; send: string; condition: string }[] = [
    { name: 'garbage bytes', send: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', condition: 'not-well-formed' },
    { name: 'invalid UTF-8', header: 'ok', send: `<message>\u0000</message>`, condition: 'not-well-formed' },
    {
      name: 'a billion-laughs DOCTYPE',
      send: `<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;">]><stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='meet.jitsi'>&lol1;`,
      condition: 'restricted-xml',
    },
    { name: 'an oversized stanza', header: 'ok', send: `<message><body>${'x'.repeat(40_000)}</body></message>`, condition: 'policy-violation' },
    { name: 'too-deep XML', header: 'ok', send: deep, condition: 'policy-violation' },
    {
      name: 'a wrong stream namespace',
      send: `<stream:stream xmlns='jabber:client' xmlns:stream='urn:example:not-streams' to='meet.jitsi' version='1.0'>`,
      condition: 'invalid-namespace',
    },
    {
      name: 'a wrong content namespace',
      send: `<stream:stream xmlns='jabber:server' xmlns:stream='${NS_STREAMS}' to='meet.jitsi' version='1.0'>`,
      condition: 'invalid-namespace',
    },
    {
      name: 'an unknown host',
      send: `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='elsewhere.example' version='1.0'>`,
      condition: 'host-unknown',
    },
  ];
  for (const tc of cases) {
    it(`${tc.name} → ${tc.condition}, stream closed, and the server still serves others`, async () => {
      const s = await start({ c2s: { port: 0, host: '127.0.0.1', requireTls: false }, limits: { maxStanzaSize: 16_384 } }, false);
      const c = await raw(s);
      if (tc.header) {
        c.open(s.domain);
        await c.features();
      }
      if (tc.name === 'invalid UTF-8') c.socket.write(Buffer.from([0x3c, 0x6d, 0xff, 0xfe, 0x3e]));
      else c.send(tc.send);
      expect(await c.streamError()).toBe(tc.condition);
      // The error comes inside a stream (a header first when the client never sent one) and the stream is closed.
      expect(c.headers.length).toBeGreaterThanOrEqual(1);
      await waitFor(() => (c.streamClosed ? undefined : 'no </stream:stream>'));
      await c.waitClosed();
      await waitFor(noSessionsLeft(s));
      const d = await raw(s);
      await d.login(s.domain, { tls: false });
      expect(d.jid).toContain('@meet.jitsi/');
      d.send('</stream:stream>');
      await d.waitClosed();
      await waitFor(noSessionsLeft(s));
    });
  }

  it('a client that resets its connection mid-stanza does not hurt the server', async () => {
    const s = await start({ c2s: { port: 0, host: '127.0.0.1', requireTls: false } }, false);
    const c = await raw(s);
    await c.login(s.domain);
    c.send(`<message to='${c.jid}'><body>half`);
    c.socket.resetAndDestroy();
    await waitFor(noSessionsLeft(s));
    expect(s.xmpp.sessions.size).toBe(0);
    const d = await raw(s);
    await d.login(s.domain);
  });
});

describe('TCP limits and liveness', () => {
  it('closes a connection that never sends anything (liveness check)', async () => {
    const s = await start({ pingIntervalSeconds: 1, pingTimeoutSeconds: 1 });
    const c = await raw(s);
    await waitFor(() => (s.xmpp.allSessions.size === 1 ? undefined : 'no session yet'));
    expect(await c.streamError()).toBe('connection-timeout');
    await c.waitClosed();
    await waitFor(noSessionsLeft(s));
  });

  it('refuses connections over the per-address limit and accepts again once one closes', async () => {
    const s = await start({ limits: { maxConnectionsPerAddress: 2 } });
    const a = await raw(s);
    const b = await raw(s);
    await waitFor(() => (s.xmpp.allSessions.size === 2 ? undefined : `${s.xmpp.allSessions.size} sessions`));
    const c = await raw(s);
    expect(await c.streamError()).toBe('policy-violation');
    await c.waitClosed();
    expect(s.xmpp.stats().counters.connectionsRefused).toBe(1);
    a.destroy();
    await waitFor(() => (s.xmpp.allSessions.size === 1 ? undefined : `${s.xmpp.allSessions.size} sessions`));
    const d = await raw(s);
    d.open(s.domain);
    await d.features();
    b.destroy();
  });

  it('throttles a fast sender (pauses reading) instead of cutting it', async () => {
    const s = await start({ c2s: { port: 0, host: '127.0.0.1', requireTls: false }, limits: { bytesPerSecond: 1024, burstBytes: 1024 } }, false);
    const c = await raw(s);
    await c.login(s.domain);
    const t0 = Date.now();
    c.send(' '.repeat(3000));
    c.send(`<iq type='get' id='p1' to='${s.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await c.expect((el) => el.attrs.id === 'p1', 8000);
    c.send(`<iq type='get' id='p2' to='${s.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const p2 = await c.expect((el) => el.attrs.id === 'p2', 8000);
    expect(p2.attrs.type).toBe('result');
    // ~3 KB over a 1 KB burst at 1 KB/s: at least ~2 s of pausing before the second ping is read.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(c.closed).toBe(false);
  });

  it('whitespace keepalives from a bound client count as activity', async () => {
    const s = await start({ c2s: { port: 0, host: '127.0.0.1', requireTls: false }, pingIntervalSeconds: 1, pingTimeoutSeconds: 1 }, false);
    const c = await raw(s);
    await c.login(s.domain);
    const session = s.xmpp.sessions.get(c.jid);
    const before = session?.lastActivity ?? 0;
    await waitFor(() => (Date.now() > before + 20 ? undefined : 'clock'));
    c.send(' ');
    await waitFor(() => ((session?.lastActivity ?? 0) > before ? undefined : 'no activity recorded'));
    // The server's XEP-0199 ping reaches TCP clients too; answering keeps the session.
    const ping = await c.expect((el) => el.name === 'iq' && el.attrs.type === 'get' && el.getChild('ping') !== undefined, 5000);
    c.send(`<iq type='result' id='${ping.attrs.id}' to='${ping.attrs.from}'/>`);
    expect(c.closed).toBe(false);
  });
});

describe('TCP sessions and the rest of the server', () => {
  it('XEP-0198: a TCP session dropped without a close is resumed on a new TCP connection', async () => {
    const SM = 'urn:xmpp:sm:3';
    const s = await start({ streamManagement: true, smResumeTimeoutSeconds: 5 });
    const a = await raw(s);
    await a.login(s.domain, { mechanism: 'PLAIN', user: 'alice', password: 'wonderland' });
    a.send(`<enable xmlns='${SM}' resume='true'/>`);
    const id = (await a.expect((el) => el.name === 'enabled')).attrs.id as string;
    const jid = a.jid;
    a.destroy();
    await waitFor(() => (s.xmpp.sessions.get(jid)?.detached ? undefined : 'not detached'));
    const ws = await TestClient.connect(s);
    ws.send(`<message type="chat" to="${jid}" id="w1"><body>while away</body></message>`);
    await waitFor(() => ((s.xmpp.sessions.get(jid)?.sm?.unacked.length ?? 0) > 0 ? undefined : 'not queued'));

    const b = await raw(s);
    b.open(s.domain);
    await b.features();
    b.send(`<starttls xmlns='${TLS_NS}'/>`);
    await b.expect((el) => el.name === 'proceed');
    await b.startTls();
    b.open(s.domain);
    await b.features();
    b.send(`<auth xmlns='${SASL_NS}' mechanism='PLAIN'>${plain('alice', 'wonderland')}</auth>`);
    await b.expect((el) => el.name === 'success');
    b.open(s.domain);
    const f = await b.features();
    expect(f.getChild('sm', SM)).toBeDefined();
    b.send(`<resume xmlns='${SM}' previd='${id}' h='0'/>`);
    expect((await b.expect((el) => el.name === 'resumed' || el.name === 'failed')).name).toBe('resumed');
    await b.expect((el) => el.name === 'message' && el.attrs.id === 'w1');
    // The resumed session keeps working over the new connection, both ways.
    b.send(`<message type='chat' to='${ws.jid}' id='w2'><body>back</body></message>`);
    expect((await ws.expect((el) => el.attrs.id === 'w2')).attrs.from).toBe(jid);
    b.send(`<iq type='get' id='p' to='${s.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect((await b.expect((el) => el.attrs.id === 'p')).attrs.type).toBe('result');
    expect(s.xmpp.allSessions.size).toBe(2);
    b.send('</stream:stream>');
    await b.waitClosed();
    await waitFor(() => (s.xmpp.allSessions.size === 1 ? undefined : `${s.xmpp.allSessions.size} sessions`));
    ws.close();
  });

  it('server.stop() ends live TCP streams with system-shutdown and returns promptly', async () => {
    const s = await start({ componentPort: 0, components: [{ domain: 'comp.meet.jitsi', secret: 'x' }] });
    const a = await raw(s);
    await a.login(s.domain);
    const b = await raw(s); // connected, never said anything
    await waitFor(() => (s.xmpp.allSessions.size === 2 ? undefined : 'sessions'));
    const t0 = Date.now();
    await s.stop();
    srv = undefined;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await a.streamError()).toBe('system-shutdown');
    await a.waitClosed();
    await b.waitClosed();
    expect(s.xmpp.allSessions.size).toBe(0);
  });
});

describe('@xmpp/client over TCP', () => {
  it('connects with STARTTLS (certificate verified against the test CA) and SASL PLAIN to an account', async () => {
    const s = await start();
    // @xmpp/starttls calls tls.connect({ socket, host: domain }) with no way to pass a CA: add ours for this test.
    const { createRequire } = await import('node:module');
    const nodeTls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
    const original = nodeTls.connect;
    (nodeTls as { connect: unknown }).connect = (opts: import('node:tls').ConnectionOptions, ...rest: unknown[]) =>
      (original as (...a: unknown[]) => unknown)({ ...opts, ca: tls.cert }, ...rest);
    try {
      const { client, xml } = await import('@xmpp/client');
      const c = client({ service: `xmpp://127.0.0.1:${s.xmpp.c2sPort}`, domain: s.domain, username: 'alice', password: 'wonderland', resource: 'xmppjs' });
      c.on('error', () => {});
      const online = new Promise<string>((resolve) => c.on('online', (jid: unknown) => resolve(String(jid))));
      await c.start();
      expect(await online).toBe('alice@meet.jitsi/xmppjs');
      const session = s.xmpp.sessions.get('alice@meet.jitsi/xmppjs');
      expect(session?.transport.kind).toBe('tcp');
      expect(session?.transport.secure).toBe(true);
      const pong = await c.iqCaller.request(xml('iq', { type: 'get', to: s.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      expect(pong.attrs.type).toBe('result');
      await c.stop();
      await waitFor(noSessionsLeft(s));
    } finally {
      (nodeTls as { connect: unknown }).connect = original;
    }
  });
});
