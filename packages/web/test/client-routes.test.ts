/**
 * The web client as the koa app serves it: the client page at `/` and `/<room>`, and the in-memory esbuild bundle
 * under `/static/` with content types and ETags. (The client itself runs in test/web-client.test.ts.)
 */
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClientBundle, createWebApp, webConfigSchema } from '../src/index.js';

let server: Server;
let base: string;

beforeAll(async () => {
  const app = createWebApp({
    config: { web: webConfigSchema.parse({}), http: { insecureHttp: true } },
    xmpp: {
      domains: { domain: 'meet.example', authDomain: 'auth.meet.example', mucDomain: 'conference.meet.example', focusDomain: 'focus.meet.example' },
      handleBosh: () => undefined,
    } as never,
    log: pino({ level: 'silent' }),
    maxRoomNameLength: 64,
  });
  server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('web client routes', () => {
  it('/ and any single path segment (a meeting) are the client page: config, bundle, styles, footer links, limits', async () => {
    for (const path of ['/', '/my-room', '/caf%C3%A9', '/a%20b']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      const html = await res.text();
      expect(html).toContain('<script src="/config.js" defer></script>\n<script src="/static/app.js" defer></script>');
      expect(html).toContain('<link rel="stylesheet" href="/static/app.css">');
      expect(html).toContain('<meta name="jitsi-one:max-room-name-length" content="64">');
      expect(html).toContain('<main id="app">');
      expect(html).toContain('href="/privacy"');
      expect(html).toContain('href="/imprint"');
      expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/[^/])|<style|style="|(src|href)="(https?:)?\/\//);
    }
    expect((await fetch(`${base}/a/b`)).status).toBe(404);
    expect((await fetch(`${base}/privacy`)).status).toBe(200);
  });

  it('serves the bundle with content types and ETags, 304 when unchanged, 404 for unknown assets', async () => {
    const js = await fetch(`${base}/static/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    const etag = js.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const body = await js.text();
    expect(body.length).toBeGreaterThan(10_000);
    expect(body).toContain('__jitsiOne');
    // node:http, not fetch: fetch adds `Cache-Control: no-cache` to conditional requests, which must (and does) get a 200.
    const again = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      get(`${base}/static/app.js`, { headers: { 'if-none-match': etag ?? '' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    expect(again).toEqual({ status: 304, body: '' });
    const css = await fetch(`${base}/static/app.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).not.toMatch(/url\(|@import/);
    expect((await fetch(`${base}/static/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/static/app.js`, { method: 'POST' })).status).toBe(405);
  });

  it('buildClientBundle() is deterministic: the same source gives the same ETags', async () => {
    const [a, b] = await Promise.all([buildClientBundle(), buildClientBundle()]);
    expect([...a.values()].map((x) => [x.path, x.etag])).toEqual([...b.values()].map((x) => [x.path, x.etag]));
    expect([...a.keys()].sort()).toEqual(['/static/app.css', '/static/app.js']);
  });
});
