/**
 * The composed server on real loopback sockets: HTTP routes, the XMPP WebSocket upgrade, BOSH routing, HTTPS with
 * the generated certificate, clean shutdown.
 */
import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { type AppConfigInput, ConfigError, type RunningServer, startServer } from '../src/index.js';
import { httpsGet, waitFor } from './helpers.js';

const silent = { write: () => {} };

/** The bridge on a free UDP port, advertising loopback only (tests run in parallel; 10000 may be taken). */
const testBridge = { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } };

const insecure: AppConfigInput = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: { c2s: { port: null } },
  log: { level: 'silent' },
  bridge: testBridge,
  // Port 3478 may be taken (tests run in parallel): any free port, loopback only.
  stun: { port: 0, host: '127.0.0.1' },
};

function openWs(url: string, protocols: string | string[] = 'xmpp', ca?: string | Buffer) {
  const ws = new WebSocket(url, protocols, ca ? { ca } : {});
  const frames: string[] = [];
  let upgradeHeaders: Record<string, unknown> | undefined;
  let unexpectedStatus: number | undefined;
  let closed = false;
  ws.on('upgrade', (res) => (upgradeHeaders = res.headers));
  ws.on('message', (data) => frames.push(String(data)));
  ws.on('unexpected-response', (_req, res) => {
    unexpectedStatus = res.statusCode;
    res.resume();
    ws.terminate();
  });
  ws.on('error', () => {});
  ws.on('close', () => (closed = true));
  return {
    ws,
    frames,
    get upgradeHeaders() {
      return upgradeHeaders;
    },
    get unexpectedStatus() {
      return unexpectedStatus;
    },
    get closed() {
      return closed;
    },
    opened: () => new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
  };
}

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="meet.jitsi" version="1.0"/>';

describe('startServer() with insecureHttp (plain HTTP behind a proxy)', () => {
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    server = await startServer({ config: insecure });
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(() => server.stop());
  afterEach(() => vi.restoreAllMocks());

  it('reports the real port and the URLs', () => {
    expect(server.httpPort).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.httpPort}/`);
    expect(server.wsUrl).toBe(`ws://127.0.0.1:${server.httpPort}/xmpp-websocket`);
    expect(server.boshUrl).toBe(`http://127.0.0.1:${server.httpPort}/http-bind`);
    expect([server.domain, server.mucDomain, server.focusDomain]).toEqual([
      'meet.jitsi',
      'conference.meet.jitsi',
      'focus.meet.jitsi',
    ]);
    expect(server.tls).toBeUndefined();
  });

  it('GET /config.js defines hosts, websocket from the Host header, bosh, and no third-party URLs', async () => {
    const res = await fetch(`${base}/config.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const js = await res.text();
    expect(js.startsWith('var config = {')).toBe(true);
    const config = new Function(`${js}; return config;`)() as Record<string, unknown>;
    expect(config).toMatchObject({
      hosts: { domain: 'meet.jitsi', muc: 'conference.meet.jitsi', focus: 'focus.meet.jitsi' },
      websocket: `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`,
      bosh: '/http-bind',
      // Our embedded STUN server, never a third party's.
      p2p: { enabled: true, stunServers: [{ urls: `stun:127.0.0.1:${server.stun?.port}` }] },
      bridgeChannel: { preferSctp: false },
      // The codecs the focus offers the bridge connection; lib-jitsi-meet misconfigures its sender without this.
      videoQuality: { codecPreferenceOrder: ['VP8'], mobileCodecPreferenceOrder: ['VP8'] },
    });
    // Only our own host appears in any URL.
    const urls = js.match(/[a-z]+:\/\/[^'"\s]+/g) ?? [];
    expect(urls.every((u) => u.includes(`127.0.0.1:${server.httpPort}`))).toBe(true);
    expect(js).not.toMatch(/google|jitsi\.net|8x8|gravatar\.com/);
  });

  it('GET /config.js behind a proxy follows X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const res = await fetch(`${base}/config.js`, {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'meet.example.org' },
    });
    expect(await res.text()).toContain('"websocket": "wss://meet.example.org/xmpp-websocket"');
  });

  it('GET /config.js with a Host header that is not a host name is refused', async () => {
    const res = await fetch(`${base}/config.js`, { headers: { 'x-forwarded-host': "evil';alert(1)//" } });
    expect(res.status).toBe(400);
  });

  it('GET /about/health answers 200 JSON', async () => {
    const res = await fetch(`${base}/about/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('plain GET /xmpp-websocket (LJM keep-alive) answers 200 without x-jitsi-shard', async () => {
    const res = await fetch(`${base}/xmpp-websocket?room=some%20room`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-jitsi-shard')).toBeNull();
  });

  it('GET / is the web client page linking to /privacy and /imprint, with security headers', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<script src="/static/app.js" defer></script>');
    expect(html).toContain('href="/privacy"');
    expect(html).toContain('href="/imprint"');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('pages load no external resources', async () => {
    for (const path of ['/', '/privacy', '/imprint']) {
      const html = await (await fetch(`${base}${path}`)).text();
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      // Nothing inline either (the CSP would block it): scripts only by src from this server.
      expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/[^/])|<style|style="/);
    }
    const css = await fetch(`${base}/style.css`);
    expect(css.status).toBe(200);
    expect(await css.text()).not.toMatch(/url\(|@import/);
  });

  it('GET /privacy shows the default privacy notice', async () => {
    const res = await fetch(`${base}/privacy`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('No access logs');
    expect(html).toContain('No IP addresses are stored');
    expect(html).toContain('gone when the conference ends');
  });

  it('GET /imprint shows the default note', async () => {
    const html = await (await fetch(`${base}/imprint`)).text();
    expect(html).toContain('has not provided an imprint');
  });

  it('unknown paths are 404, wrong methods 405', async () => {
    expect((await fetch(`${base}/nope/deeper`)).status).toBe(404); // one segment is a meeting: /<room>
    expect((await fetch(`${base}/about/health/x`)).status).toBe(404);
    const post = await fetch(`${base}/config.js`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${base}/config.js`, { method: 'HEAD' })).status).toBe(200);
  });

  it('/http-bind is handed to the XMPP server with secure=true and the client address', async () => {
    const spy = vi.spyOn(server.xmpp, 'handleBosh');
    const res = await fetch(`${base}/http-bind?room=x`, { method: 'OPTIONS' });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]?.[2]).toEqual({ secure: true, remoteAddress: '127.0.0.1' });
    // Whatever the XMPP server answered, koa did not add its own headers.
    expect(res.headers.get('content-security-policy')).toBeNull();
    await res.arrayBuffer();
  });

  it('WebSocket upgrade on /xmpp-websocket negotiates subprotocol xmpp and reaches the XMPP server', async () => {
    const spy = vi.spyOn(server.xmpp, 'handleWebSocket');
    const c = openWs(`${server.wsUrl}?room=myroom&token=abc`);
    await c.opened();
    expect(c.upgradeHeaders?.['sec-websocket-protocol']).toBe('xmpp');
    expect(c.ws.protocol).toBe('xmpp');
    expect(c.upgradeHeaders?.['x-jitsi-shard']).toBeUndefined();
    expect(spy.mock.calls[0]?.[2]).toEqual({ secure: true, remoteAddress: '127.0.0.1' });
    c.ws.send(OPEN);
    await waitFor(() => (c.frames.some((f) => f.startsWith('<open ')) ? undefined : `frames: ${c.frames.join(' | ')}`));
    c.ws.close();
    await waitFor(() => !c.closed && 'socket not closed');
  });

  it('WebSocket upgrade on any other path is refused with 404', async () => {
    for (const path of ['/colibri-ws/x/y/z', '/elsewhere']) {
      const c = openWs(`ws://127.0.0.1:${server.httpPort}${path}`);
      await waitFor(() => c.unexpectedStatus === undefined && 'no response');
      expect(c.unexpectedStatus).toBe(404);
    }
  });
});

describe('startServer() with the bridge', () => {
  const MEETING = 'a1b2c3d4-0000-4000-8000-000000000001';

  it('starts the bridge on its UDP port and serves colibri-ws on the HTTP port, at the URL it hands out', async () => {
    const server = await startServer({ config: insecure });
    try {
      const bridge = server.bridge;
      if (bridge === undefined) throw new Error('no bridge');
      expect(bridge.mux.port).toBeGreaterThan(0);
      expect(bridge.config.webSocketBaseUrl).toBe(`ws://127.0.0.1:${server.httpPort}/colibri-ws`);
      const reply = bridge.bridge.conferenceModify({ meetingId: MEETING, create: true, endpoints: [{ id: 'ep1', create: true }] });
      const t = reply.endpoints[0]?.transport;
      expect(t?.candidates).toEqual([expect.objectContaining({ ip: '127.0.0.1', port: bridge.mux.port })]);
      const url = t?.webSocketUrl as string;
      expect(url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${server.httpPort}/colibri-ws/jvb1/[0-9a-f]+/ep1\\?pwd=`));
      const c = openWs(url, []);
      await c.opened();
      await waitFor(() => (c.frames.length > 0 ? undefined : 'no ServerHello'));
      expect(JSON.parse(c.frames[0] as string)).toEqual({ colibriClass: 'ServerHello' });
      const wrong = openWs(url.replace(/pwd=.*/, 'pwd=wrong'), []);
      await waitFor(() => wrong.unexpectedStatus === undefined && 'no response');
      expect(wrong.unexpectedStatus).toBe(403);
      await server.stop();
      expect(bridge.mux.closed).toBe(true);
      expect(bridge.bridge.closed).toBe(true);
      await waitFor(() => !c.closed && 'colibri socket still open');
    } finally {
      await server.stop();
    }
  });

  it('keeps a configured bridge.webSocketBaseUrl', async () => {
    const server = await startServer({ config: { ...insecure, bridge: { ...testBridge, webSocketBaseUrl: 'wss://meet.example.org/colibri-ws' } } });
    try {
      const reply = server.bridge?.bridge.conferenceModify({ meetingId: MEETING, create: true, endpoints: [{ id: 'ep1', create: true }] });
      expect(reply?.endpoints[0]?.transport?.webSocketUrl).toMatch(/^wss:\/\/meet\.example\.org\/colibri-ws\/jvb1\//);
    } finally {
      await server.stop();
    }
  });

  it('bridge.enabled false: no bridge, no UDP port, colibri-ws is 404', async () => {
    const server = await startServer({ config: { ...insecure, bridge: { enabled: false } } });
    try {
      expect(server.bridge).toBeUndefined();
      const c = openWs(`ws://127.0.0.1:${server.httpPort}/colibri-ws/jvb1/x/y?pwd=z`);
      await waitFor(() => c.unexpectedStatus === undefined && 'no response');
      expect(c.unexpectedStatus).toBe(404);
    } finally {
      await server.stop();
    }
  });

  it('a UDP port in use is a ConfigError naming bridge.transport.port, and nothing is left running', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', () => resolve()));
    const udpPort = taken.address().port;
    // A free TCP port, to show it is free again afterwards.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const httpPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    try {
      const err = await startServer({
        config: { ...insecure, http: { ...insecure.http, port: httpPort }, bridge: { transport: { ...testBridge.transport, port: udpPort } } },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(`config error: bridge.transport.port: UDP port ${udpPort} on 127.0.0.1 is already in use`);
      const again = await startServer({ config: { ...insecure, http: { ...insecure.http, port: httpPort } } });
      await again.stop();
    } finally {
      taken.close();
    }
  });
});

describe('startServer() lifecycle', () => {
  it('stop() closes open WebSockets and is idempotent', async () => {
    const server = await startServer({ config: insecure });
    const c = openWs(server.wsUrl);
    await c.opened();
    c.ws.send(OPEN);
    await waitFor(() => c.frames.length === 0 && 'no frames');
    await Promise.all([server.stop(), server.stop()]);
    await waitFor(() => !c.closed && 'socket still open');
    await expect(fetch(`http://127.0.0.1:${server.httpPort}/about/health`)).rejects.toThrow();
  });

  it('uses web.privacyNotice and web.imprint as text (never as HTML)', async () => {
    const server = await startServer({
      config: { ...insecure, web: { privacyNotice: 'We keep <nothing>.\n\n- item one', imprint: 'ACME Ltd, Example Street 1' } },
    });
    try {
      const base = `http://127.0.0.1:${server.httpPort}`;
      const privacy = await (await fetch(`${base}/privacy`)).text();
      expect(privacy).toContain('We keep &lt;nothing&gt;.');
      expect(privacy).toContain('<li>item one</li>');
      expect(privacy).not.toContain('No access logs');
      expect(await (await fetch(`${base}/imprint`)).text()).toContain('ACME Ltd, Example Street 1');
    } finally {
      await server.stop();
    }
  });

  it('writes no access log, even at trace level', async () => {
    const lines: string[] = [];
    const server = await startServer({
      config: { ...insecure, log: { level: 'trace', redact: true } },
      logDestination: { write: (s: string) => void lines.push(s) },
    });
    try {
      const base = `http://127.0.0.1:${server.httpPort}`;
      for (const path of ['/', '/config.js', '/about/health', '/privacy', '/nope']) {
        await (await fetch(`${base}${path}?secret-query=1`, { headers: { 'user-agent': 'TestAgent/1.0' } })).text();
      }
    } finally {
      await server.stop();
    }
    const out = lines.join('');
    expect(out).toContain('http server listening'); // the destination did receive logs
    for (const s of ['/config.js', '/about/health', '/nope', 'secret-query', 'TestAgent', '127.0.0.1']) {
      expect(out).not.toContain(s);
    }
  });

  it('a port in use is a ConfigError naming http.port, and nothing is left running', async () => {
    const first = await startServer({ config: insecure });
    try {
      const err = await startServer({ config: { ...insecure, http: { ...insecure.http, port: first.httpPort } } }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(
        `config error: http.port: port ${first.httpPort} on 127.0.0.1 is already in use`,
      );
    } finally {
      await first.stop();
    }
  });

  it('a bad config value rejects with ConfigError before anything starts', async () => {
    await expect(startServer({ config: { http: { port: 70000 } } })).rejects.toThrow(
      'config error: http.port: expected number ≤ 65535, got 70000',
    );
  });
});

describe('startServer() with HTTPS and a generated self-signed certificate', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({
      config: { http: { port: 0, host: '127.0.0.1' }, xmpp: { c2s: { port: null } }, log: { level: 'info' }, bridge: testBridge, stun: insecure.stun },
      logDestination: silent,
    });
  });
  afterAll(() => server.stop());

  it('reports https/wss URLs and a self-signed certificate', () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.httpPort}/`);
    expect(server.wsUrl).toBe(`wss://127.0.0.1:${server.httpPort}/xmpp-websocket`);
    expect(server.tls?.selfSigned).toBe(true);
    expect(server.tls?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('serves HTTPS with a certificate valid for 127.0.0.1 and localhost', async () => {
    const ca = server.tls?.cert as string;
    const health = await httpsGet(`https://127.0.0.1:${server.httpPort}/about/health`, ca);
    expect(health.status).toBe(200);
    const viaName = await httpsGet(`https://localhost:${server.httpPort}/config.js`, ca);
    expect(viaName.body).toContain(`"websocket": "wss://localhost:${server.httpPort}/xmpp-websocket"`);
  });

  it('refuses clients that do not trust the certificate', async () => {
    await expect(fetch(`https://127.0.0.1:${server.httpPort}/about/health`)).rejects.toThrow();
  });

  it('accepts wss:// with subprotocol xmpp', async () => {
    const c = openWs(server.wsUrl, 'xmpp', server.tls?.cert);
    await c.opened();
    expect(c.ws.protocol).toBe('xmpp');
    c.ws.send(OPEN);
    await waitFor(() => (c.frames.some((f) => f.startsWith('<open ')) ? undefined : 'no <open/>'));
    c.ws.close();
    await waitFor(() => !c.closed && 'socket not closed');
  });
});
