/** The focus is wired into the one process: conference IQ over the real WebSocket, rooms owned by the focus. */
import { NS_MUC } from '@jitsi-one/xmpp';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from '../../xmpp/test/client.js';
import { type AppConfigInput, type RunningServer, startServer } from '../src/index.js';
import { waitFor } from './helpers.js';

const base: AppConfigInput = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: { c2s: { port: null } },
  log: { level: 'silent' },
  bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
  stun: { port: 0, host: '127.0.0.1' },
};

let server: RunningServer | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

async function client(s: RunningServer): Promise<TestClient> {
  const c = await TestClient.connect({ wsUrl: s.wsUrl, domain: s.domain });
  clients.push(c);
  return c;
}

describe('focus wiring', () => {
  it('answers the conference IQ, owns the room, and sends session-initiate with the bridge URL', async () => {
    server = await startServer({ config: base });
    expect(server.focus?.jid.full).toBe('focus@auth.meet.jitsi/focus');
    expect(server.xmpp.muc.isAdmin('focus@auth.meet.jitsi')).toBe(true);
    const room = `r1@${server.mucDomain}`;
    const [a, b] = [await client(server), await client(server)];
    for (const [c, nick] of [[a, 'aaaa1111'], [b, 'bbbb2222']] as const) {
      const res = await c.iq(
        `<iq type="set" id="c1" to="${server.focusDomain}"><conference xmlns="http://jitsi.org/protocol/focus" room="${room}"/></iq>`,
      );
      expect(res.getChild('conference')?.attrs).toMatchObject({ ready: 'true', focusjid: 'focus@auth.meet.jitsi' });
      c.send(`<presence to="${room}/${nick}"><x xmlns="${NS_MUC}"/></presence>`);
    }
    const si = await a.expect((s) => s.name === 'iq' && s.getChild('jingle')?.attrs.action === 'session-initiate');
    expect(si.attrs.from).toBe(`${room}/focus`);
    const ws = si.getChild('jingle')?.getChild('content')?.getChild('transport')?.getChild('web-socket')?.attrs.url;
    expect(ws).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${server.httpPort}/colibri-ws/`));
    a.close();
    b.close();
    await waitFor(() => (server?.xmpp.muc.rooms.has(room) ? 'room still exists' : undefined));
    expect(server.bridge?.bridge.conferences.size).toBe(0);
  });

  it('can be turned off', async () => {
    server = await startServer({ config: { ...base, focus: { enabled: false } } });
    expect(server.focus).toBeUndefined();
    expect(server.xmpp.muc.isAdmin('focus@auth.meet.jitsi')).toBe(false);
  });
});
