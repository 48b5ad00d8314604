/** `/about/health` reports what its probe says: 200 for ok and draining, 503 with reasons for unhealthy. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp, type Health, webConfigSchema } from '../src/index.js';

let server: Server;
let base: string;
let current: Health = { status: 'ok' };

beforeAll(async () => {
  const app = createWebApp({
    config: { web: webConfigSchema.parse({}), http: { insecureHttp: true } },
    xmpp: {
      domains: { domain: 'meet.example', authDomain: 'auth.meet.example', mucDomain: 'conference.meet.example', focusDomain: 'focus.meet.example' },
      handleBosh: () => undefined,
    } as never,
    log: pino({ level: 'silent' }),
    clientBundle: Promise.resolve(new Map()),
    health: () => current,
  });
  server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('GET /about/health with a probe', () => {
  it('answers 200 for ok and for draining, never cached', async () => {
    for (const h of [{ status: 'ok' }, { status: 'draining' }] as const) {
      current = h;
      const res = await fetch(`${base}/about/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual(h);
    }
  });

  it('answers 503 with the reasons when the probe says unhealthy', async () => {
    current = { status: 'unhealthy', reasons: ['the media UDP port is not bound'] };
    const res = await fetch(`${base}/about/health`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(current);
  });
});
