/** The embedded STUN server in the one process: started, announced with XEP-0215, stopped. */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { parseStunMessage, StunMessageBuilder, StunType } from '@jitsi-one/bridge';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from '../../xmpp/test/client.js';
import { type AppConfigInput, ConfigError, type RunningServer, startServer, stunAdvertisedHost, loadConfig } from '../src/index.js';
import { clientStunServers } from '../src/server.js';

const base: AppConfigInput = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: { c2s: { port: null } },
  log: { level: 'silent' },
  bridge: { enabled: false },
  focus: { enabled: false },
  stun: { port: 0, host: '127.0.0.1' },
};

let server: RunningServer | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

async function extdisco(s: RunningServer, ns = 'urn:xmpp:extdisco:2'): Promise<Record<string, unknown>[]> {
  const c = await TestClient.connect({ wsUrl: s.wsUrl, domain: s.domain });
  clients.push(c);
  const res = await c.iq(`<iq type="get" id="ed1" to="${s.domain}"><services xmlns="${ns}"/></iq>`);
  expect(res.attrs.type).toBe('result');
  return (res.getChild('services')?.getChildren('service') ?? []).map((e) => ({ ...e.attrs }));
}

function bindingRequest(port: number): Promise<Buffer> {
  const socket = createSocket('udp4');
  return new Promise<Buffer>((resolve, reject) => {
    socket.once('message', (m) => {
      socket.close();
      resolve(m);
    });
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.send(new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build(), port, '127.0.0.1');
    });
  });
}

describe('embedded STUN server', () => {
  it('is started, answers Binding requests, and is announced with XEP-0215 when externalServices is empty', async () => {
    server = await startServer({ config: base });
    const port = server.stun?.port as number;
    expect(port).toBeGreaterThan(0);
    const res = parseStunMessage(await bindingRequest(port));
    expect(res?.type).toBe(StunType.BindingSuccess);
    expect(res?.xorMappedAddress?.address).toBe('127.0.0.1');
    expect(await extdisco(server)).toEqual([{ type: 'stun', host: '127.0.0.1', port: String(port) }]);
    expect(await extdisco(server, 'urn:xmpp:extdisco:1')).toEqual([{ type: 'stun', host: '127.0.0.1', port: String(port) }]);
    const s = server;
    server = undefined;
    await s.stop();
    expect(s.stun?.port).toBe(0);
  });

  it('announces stun.advertisedHost', async () => {
    server = await startServer({ config: { ...base, stun: { ...base.stun, advertisedHost: 'stun.example.org' } } });
    expect(await extdisco(server)).toEqual([{ type: 'stun', host: 'stun.example.org', port: String(server.stun?.port) }]);
  });

  it('leaves operator-listed externalServices alone', async () => {
    const mine = { type: 'turn' as const, host: 'turn.example.org', port: 3478, transport: 'udp' as const };
    server = await startServer({ config: { ...base, xmpp: { ...base.xmpp, externalServices: [mine] } } });
    expect(server.stun).toBeDefined();
    expect(await extdisco(server)).toEqual([{ type: 'turn', host: 'turn.example.org', port: '3478', transport: 'udp' }]);
  });

  it('is neither started nor listed when disabled', async () => {
    server = await startServer({ config: { ...base, stun: { enabled: false } } });
    expect(server.stun).toBeUndefined();
    expect(await extdisco(server)).toEqual([]);
  });

  it('a UDP port in use is a ConfigError naming stun.port, and nothing is left running', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', () => resolve()));
    const port = taken.address().port;
    try {
      const err = await startServer({ config: { ...base, stun: { port, host: '127.0.0.1' } } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(`config error: stun.port: UDP port ${port} on 127.0.0.1 is already in use`);
    } finally {
      taken.close();
    }
  });

  it('derives the advertised host: advertisedHost, bridge public address, stun.host, http.host, localhost', () => {
    const host = (c: AppConfigInput) => stunAdvertisedHost(loadConfig({ overrides: c }));
    expect(host({})).toBe('localhost');
    expect(host({ http: { host: 'meet.example.org' } })).toBe('meet.example.org');
    expect(host({ http: { host: 'meet.example.org' }, stun: { host: '192.0.2.7' } })).toBe('192.0.2.7');
    expect(host({ stun: { host: '192.0.2.7' }, bridge: { transport: { publicAddress: '198.51.100.1' } } })).toBe('198.51.100.1');
    expect(host({ stun: { advertisedHost: 'stun.example.org' }, bridge: { transport: { publicAddress: '198.51.100.1' } } })).toBe(
      'stun.example.org',
    );
  });

  it('--stun-port and STUN_PORT set stun.port', () => {
    expect(loadConfig({ argv: ['--stun-port', '0'] }).stun.port).toBe(0);
    expect(loadConfig({ env: { STUN_PORT: '3479' } }).stun.port).toBe(3479);
    expect(loadConfig().stun).toEqual({ enabled: true, port: 3478, host: '0.0.0.0', maxRequestsPerSecondPerAddress: 20 });
  });

  describe('/config.js p2p.stunServers', () => {
    async function clientConfig(s: RunningServer): Promise<Record<string, unknown>> {
      const js = await (await fetch(new URL('/config.js', s.url))).text();
      return new Function(`${js}; return config;`)() as Record<string, unknown>;
    }

    it('names the embedded STUN server, P2P on by default', async () => {
      server = await startServer({ config: base });
      expect(await clientConfig(server)).toMatchObject({
        p2p: { enabled: true, stunServers: [{ urls: `stun:127.0.0.1:${server.stun?.port}` }] },
      });
    });

    it("names the operator's STUN servers (not TURN) when externalServices is set; web.p2p.enabled turns P2P off", async () => {
      const services = [
        { type: 'stun' as const, host: 'stun.example.org', port: 3479 },
        { type: 'turn' as const, host: 'turn.example.org', port: 3478 },
        { type: 'stuns' as const, host: 'stuns.example.org' },
      ];
      server = await startServer({
        config: { ...base, web: { p2p: { enabled: false } }, xmpp: { ...base.xmpp, externalServices: services, streamManagement: true } },
      });
      expect(await clientConfig(server)).toMatchObject({
        p2p: { enabled: false, stunServers: [{ urls: 'stun:stun.example.org:3479' }, { urls: 'stuns:stuns.example.org' }] },
        enableWebsocketResume: true,
      });
    });

    it('is empty when STUN is disabled and nothing is configured: never a third-party default', async () => {
      server = await startServer({ config: { ...base, stun: { enabled: false } } });
      expect(await clientConfig(server)).toMatchObject({ p2p: { enabled: true, stunServers: [] } });
    });

    it('brackets IPv6 addresses', () => {
      expect(clientStunServers([{ type: 'stun', host: '2001:db8::1', port: 3478 }])).toEqual([{ urls: 'stun:[2001:db8::1]:3478' }]);
    });
  });
});
