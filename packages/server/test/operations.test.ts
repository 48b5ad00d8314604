/**
 * Operations through `startServer`: `/about/health` (stalled event loop, closed media socket, drain), the loopback
 * ops listener (`/metrics`, `/admin/drain`), the drain's answer to the conference IQ over a real WebSocket client,
 * file logging, and SIGUSR2 in the real process (`npm start`). The system test with media is test/operations.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NS_MUC } from '@jitsi-one/xmpp';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from '../../xmpp/test/client.js';
import { type AppConfigInput, ConfigError, isLoopbackAddress, type RunningServer, startServer, utcDay } from '../src/index.js';
import { waitFor } from './helpers.js';

const base: AppConfigInput = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: { c2s: { port: null } },
  log: { level: 'silent' },
  bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
  stun: { enabled: false },
};
const NS_FOCUS = 'http://jitsi.org/protocol/focus';

let server: RunningServer | undefined;
const clients: TestClient[] = [];
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jitsi-one-ops-'));
  dirs.push(d);
  return d;
}

async function health(s: RunningServer): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${s.url}about/health`);
  return { status: res.status, body: await res.json() };
}

async function client(s: RunningServer): Promise<TestClient> {
  const c = await TestClient.connect({ wsUrl: s.wsUrl, domain: s.domain });
  clients.push(c);
  return c;
}

function conferenceIq(s: RunningServer, room: string, id: string): string {
  return `<iq type="set" id="${id}" to="${s.focusDomain}"><conference xmlns="${NS_FOCUS}" room="${room}@${s.mucDomain}"/></iq>`;
}

describe('/about/health through startServer', () => {
  it('is 200 ok, then 503 while the event loop is stalled (injected probe), and 200 again after', async () => {
    let lagMs = 2;
    server = await startServer({ config: { ...base, health: { maxEventLoopLagMs: 500 } }, healthProbes: { eventLoopLagMs: () => lagMs } });
    expect(await health(server)).toEqual({ status: 200, body: { status: 'ok' } });
    lagMs = 2500;
    expect(await health(server)).toEqual({ status: 503, body: { status: 'unhealthy', reasons: ['event loop stalled: lag 2500 ms exceeds 500 ms'] } });
    lagMs = 20;
    expect((await health(server)).status).toBe(200);
  });

  it('is 503 once the media UDP socket is closed (the real socket, no probe)', async () => {
    server = await startServer({ config: base });
    expect((await health(server)).status).toBe(200);
    await server.bridge?.mux.close();
    expect(await health(server)).toEqual({ status: 503, body: { status: 'unhealthy', reasons: ['media UDP port not bound'] } });
  });

  it('does not check a media port when the bridge is off', async () => {
    server = await startServer({ config: { ...base, bridge: { enabled: false } } });
    expect(await health(server)).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

describe('the ops listener (metrics.*)', () => {
  it('is off by default', async () => {
    server = await startServer({ config: base });
    expect(server.metricsPort).toBeUndefined();
    expect(server.metrics).toBeUndefined();
  });

  it('serves /metrics and /admin/drain on loopback; other paths 404, wrong methods 405', async () => {
    server = await startServer({ config: { ...base, metrics: { enabled: true, port: 0 } } });
    const ops = `http://127.0.0.1:${server.metricsPort}`;
    const m = await fetch(`${ops}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/^jitsi_one_conferences 0$/m);
    expect((await fetch(`${ops}/`)).status).toBe(404);
    expect((await fetch(`${ops}/about/health`)).status).toBe(404);
    expect((await fetch(`${ops}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${ops}/admin/drain`, { method: 'PUT' })).status).toBe(405);
    expect(await (await fetch(`${ops}/admin/drain`)).json()).toEqual({ draining: false, conferences: 0, drained: false });
    // Never on the public port (there `/metrics` is just a meeting named "metrics": the client page).
    const pub = await fetch(`${server.url}metrics`);
    expect(pub.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await pub.text()).not.toContain('jitsi_one_');
    expect((await fetch(`${server.url}admin/drain`, { method: 'POST' })).status).toBe(404);
    expect(server.drain.draining).toBe(false);
  });

  it('admin calls are for loopback clients only', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:192.0.2.1', '2001:db8::1', '1127.0.0.1', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
  });

  it('a port in use is a ConfigError naming metrics.port, and nothing is left running', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startServer({ config: { ...base, metrics: { enabled: true, port } } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(`config error: metrics.port: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('drain through startServer and a real XMPP client', () => {
  it('answers the conference IQ for a new room with service-unavailable + graceful-shutdown, for a running one as usual', async () => {
    server = await startServer({ config: base });
    const [a, b, late, other] = [await client(server), await client(server), await client(server), await client(server)];
    for (const [c, nick] of [[a, 'aaaa1111'], [b, 'bbbb2222']] as const) {
      const res = await c.iq(conferenceIq(server, 'running', `c-${nick}`));
      expect(res.attrs.type).toBe('result');
      c.send(`<presence to="running@${server.mucDomain}/${nick}"><x xmlns="${NS_MUC}"/></presence>`);
    }
    await a.expect((s) => s.name === 'iq' && s.getChild('jingle')?.attrs.action === 'session-initiate');

    expect(server.drain.start('api')).toBe(true);
    expect(server.drain.status()).toEqual({ draining: true, conferences: 1, drained: false });
    expect(await health(server)).toEqual({ status: 200, body: { status: 'draining' } });

    const refused = await other.iq(conferenceIq(server, 'fresh', 'n1'));
    expect(refused.attrs.type).toBe('error');
    const error = refused.getChild('error');
    expect(error?.attrs.type).toBe('wait');
    expect(error?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBeDefined();
    expect(error?.getChild('graceful-shutdown', NS_FOCUS)).toBeDefined();
    expect(error?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toMatch(/no new conferences/);
    expect(server.focus?.getConference(`fresh@${server.mucDomain}`)).toBeUndefined();

    // A bad request still gets the focus's own answer.
    const bad = await other.iq(`<iq type="set" id="n2" to="${server.focusDomain}"><conference xmlns="${NS_FOCUS}" room="nodomain"/></iq>`);
    expect(bad.getChild('error')?.getChild('bad-request', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBeDefined();

    const joined = await late.iq(conferenceIq(server, 'running', 'l1'));
    expect(joined.getChild('conference', NS_FOCUS)?.attrs.ready).toBe('true');

    for (const c of [a, b, late, other]) c.close();
    await waitFor(() => (server?.drain.status().drained ? undefined : `not drained: ${JSON.stringify(server?.drain.status())}`));
    expect(await health(server)).toEqual({ status: 200, body: { status: 'draining' } });
    expect(server.drain.resume()).toBe(true);
    expect(await health(server)).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

describe('file logging through startServer', () => {
  it('writes log lines to the day file instead of stdout', async () => {
    const dir = tempDir();
    server = await startServer({ config: { ...base, log: { level: 'info', file: { path: join(dir, 'jitsi-one.log') } } } });
    const today = join(dir, `jitsi-one.${utcDay(Date.now())}.log`);
    expect(readdirSync(dir)).toEqual([`jitsi-one.${utcDay(Date.now())}.log`]);
    expect(readFileSync(today, 'utf8')).toMatch(/"msg":"http server listening"/);
    await server.stop();
    server = undefined;
    expect(readFileSync(today, 'utf8')).toMatch(/"msg":"stopped"}\n$/);
  });

  it('an unusable log.file.path is a ConfigError naming the key', async () => {
    const err = await startServer({ config: { ...base, log: { file: { path: join(tempDir(), 'nope', 'x.log') } } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^config error: log\.file\.path: cannot open a log file at .*: its directory does not exist$/);
  });
});

describe('SIGUSR2 in the real process (npm start)', () => {
  it('starts draining; the admin call shows it; SIGTERM still stops cleanly', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ metrics: { enabled: true, port: 0 }, stun: { enabled: false } }));
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', main, '--config', configFile, '--insecure-http', '--host', '127.0.0.1', '--port', '0', '--c2s-port', 'off', '--udp-port', '0'],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    // Log lines (pino) and the "open" line (process.stdout) may arrive in either order.
    await waitFor(
      () => (!stdout.includes('jitsi-one: open ') || !stdout.includes('metrics and admin listener up') ? `stdout: ${stdout} stderr: ${stderr}` : undefined),
      20_000,
    );
    const url = /jitsi-one: open (\S+)/.exec(stdout)?.[1] as string;
    const opsLine = stdout.split('\n').find((l) => l.includes('metrics and admin listener up')) as string;
    const ops = `http://127.0.0.1:${(JSON.parse(opsLine) as { port: number }).port}`;
    expect(await (await fetch(`${ops}/admin/drain`)).json()).toMatchObject({ draining: false });

    child.kill('SIGUSR2');
    await waitFor(() => (!stdout.includes('"msg":"draining: new conferences are refused, running ones continue"') ? `stdout: ${stdout}` : undefined));
    expect(stdout).toMatch(/"cause":"signal"/);
    expect(await (await fetch(`${ops}/admin/drain`)).json()).toEqual({ draining: true, conferences: 0, drained: true });
    expect(await (await fetch(new URL('/about/health', url))).json()).toEqual({ status: 'draining' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });
});
