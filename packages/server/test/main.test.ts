/** The CLI entry point (`npm start`), run as a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NS_MUC } from '@jitsi-one/xmpp';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from '../../xmpp/test/client.js';
import { waitFor } from './helpers.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const children: ChildProcess[] = [];

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      out.code = code;
      resolve(code);
    }),
  );
  return { child, out, exited };
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('main (npm start)', () => {
  it('--check-config prints "config ok" and exits 0', async () => {
    const { out, exited } = run(['--check-config', '--port', '9000']);
    expect(await exited).toBe(0);
    expect(out.stdout).toBe('config ok\n');
  });

  it('a bad value exits non-zero with a one-line message and no stack trace', async () => {
    const { out, exited } = run(['--check-config'], { PORT: '70000' });
    expect(await exited).toBe(2);
    expect(out.stderr).toBe('config error: http.port: expected number ≤ 65535, got 70000 (from env PORT)\n');
  });

  it('--check-config reports an unreadable certificate file by its key', async () => {
    const { out, exited } = run(['--check-config'], { TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: '/nonexistent/key.pem' });
    expect(await exited).toBe(2);
    expect(out.stderr).toBe('config error: http.tls.certFile: cannot read /nonexistent/cert.pem: no such file\n');
  });

  it('prints the URL to open, serves, and stops cleanly on SIGTERM', async () => {
    const { child, out, exited } = run(['--insecure-http', '--host', '127.0.0.1', '--port', '0', '--c2s-port', 'off', '--udp-port', '0', '--stun-port', '0']);
    await waitFor(() => !out.stdout.includes('jitsi-one: open ') && `stdout: ${out.stdout} stderr: ${out.stderr}`, 20_000);
    const url = /jitsi-one: open (\S+)/.exec(out.stdout)?.[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await fetch(new URL('/about/health', url))).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.stderr).toBe('');
  });

  it('SIGTERM ends conferences with session-terminate, closes XMPP streams and exits 0 within a few seconds', async () => {
    const { child, out, exited } = run(['--insecure-http', '--host', '127.0.0.1', '--port', '0', '--c2s-port', 'off', '--udp-port', '0', '--stun-port', '0']);
    await waitFor(() => !out.stdout.includes('jitsi-one: open ') && `stdout: ${out.stdout} stderr: ${out.stderr}`, 20_000);
    const url = /jitsi-one: open (\S+)/.exec(out.stdout)?.[1] as string;
    const srv = { wsUrl: `${url.replace(/^http/, 'ws')}xmpp-websocket`, domain: 'meet.jitsi' };

    // /config.js names our own STUN server (never a third party) and the P2P/bridge-channel settings.
    const js = await (await fetch(new URL('/config.js', url))).text();
    const config = new Function(`${js}; return config;`)() as Record<string, unknown>;
    expect(config).toMatchObject({
      hosts: { domain: 'meet.jitsi', muc: 'conference.meet.jitsi', focus: 'focus.meet.jitsi' },
      p2p: { enabled: true },
      bridgeChannel: { preferSctp: false },
      flags: { ssrcRewritingEnabled: false },
      enableWebsocketResume: false,
    });
    expect((config.p2p as { stunServers: unknown[] }).stunServers).toEqual([{ urls: expect.stringMatching(/^stun:127\.0\.0\.1:\d+$/) as unknown }]);

    const room = 'shutdown@conference.meet.jitsi';
    const clients = [await TestClient.connect(srv), await TestClient.connect(srv)];
    try {
      for (const [i, c] of clients.entries()) {
        const res = await c.iq(`<iq type="set" id="c${i}" to="focus.meet.jitsi"><conference xmlns="http://jitsi.org/protocol/focus" room="${room}"/></iq>`);
        expect(res.getChild('conference')?.attrs.ready).toBe('true');
        c.send(`<presence to="${room}/nick${i}"><x xmlns="${NS_MUC}"/></presence>`);
      }
      for (const c of clients) {
        await c.expect((s) => s.name === 'iq' && s.getChild('jingle')?.attrs.action === 'session-initiate', 10_000);
      }

      const t0 = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      for (const c of clients) {
        const terminate = await c.expect((s) => s.name === 'iq' && s.getChild('jingle')?.attrs.action === 'session-terminate', 1000);
        expect(terminate.attrs.from).toBe(`${room}/focus`);
        await c.waitClosed(1000);
        expect(c.received.some((s) => s.name === 'close')).toBe(true);
        expect(c.parseError).toBeUndefined();
      }
      expect(out.stderr).toBe('');
    } finally {
      for (const c of clients) c.close();
    }
  }, 30_000);
});
