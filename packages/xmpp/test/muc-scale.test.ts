/**
 * Scale of the MUC hot paths with 1000 occupants in one room, through the real router and Session but with a
 * transport that only counts (the socket cost is the bench's business): joins must stay O(n) each with cached
 * presences, and a groupchat must serialize once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, Jid, NS_MUC, Session, type Transport, xml } from '../src/index.js';
import { type TestServer, startTestServer } from './helpers.js';

class CountingTransport implements Transport {
  readonly kind = 'local' as const;
  readonly secure = true;
  readonly remoteAddress = undefined;
  stanzas = 0;
  bytes = 0;
  last = '';
  sendOpen(): void {}
  send(data: string): void {
    this.stanzas++;
    this.bytes += data.length;
    this.last = data;
  }
  close(): void {}
}

let srv: TestServer;
beforeEach(async () => {
  srv = await startTestServer({ limits: { maxOccupantsPerRoom: 5000 } });
});
afterEach(async () => {
  await srv.stop();
});

function session(i: number): { s: Session; t: CountingTransport } {
  const t = new CountingTransport();
  const s = new Session(srv.xmpp, t);
  srv.xmpp.registerSession(s);
  s.host = srv.xmpp.hosts.get(srv.domain);
  s.jid = Jid.parse(`user${i}@${srv.domain}/res${i}`);
  s.state = 'bound';
  srv.xmpp.bindSession(s);
  return { s, t };
}

function presence(to: string, i: number): Element {
  return xml(
    'presence',
    { to },
    xml('x', { xmlns: NS_MUC }),
    xml('stats-id', null, `stats-${i}`),
    xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: 'https://jitsi.org/jitsi-meet', ver: 'Yk8u=' }),
    xml('jitsi_participant_codecList', null, 'av1,vp9,vp8,h264'),
    xml('SourceInfo', null, `{"${i}-a0":{"muted":false},"${i}-v0":{"muted":false,"videoType":"camera"}}`),
    xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, `User ${i}`),
  );
}

describe('MUC at 1000 occupants', () => {
  it('1000 joins, a groupchat fan-out and 1000 leaves deliver exactly n² presences, n per message, and leave nothing behind', async () => {
    const n = 1000;
    const room = `big@${srv.muc}`;
    const sessions = Array.from({ length: n }, (_, i) => session(i));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sessions[i]?.s.receive(presence(`${room}/${i.toString(16).padStart(8, '0')}`, i));
    const joinMs = performance.now() - t0;
    expect(srv.xmpp.muc.getRoom(room)?.size).toBe(n);
    // Joiner i got i presences + self; and each later join once: n(n+1)/2 + n(n-1)/2 = n².
    const total = sessions.reduce((acc, x) => acc + x.t.stanzas, 0);
    expect(total).toBe(n * n);

    const before = sessions.map((x) => x.t.stanzas);
    const t1 = performance.now();
    const rounds = 20;
    for (let r = 0; r < rounds; r++) {
      sessions[0]?.s.receive(
        xml('message', { to: room, type: 'groupchat', id: `m${r}` }, xml('json-message', { xmlns: 'http://jitsi.org/jitmeet' }, '{"type":"x"}')),
      );
    }
    const msgMs = (performance.now() - t1) / rounds;
    sessions.forEach((x, i) => expect(x.t.stanzas - (before[i] as number)).toBe(rounds));
    expect(sessions[5]?.t.last).toMatch(new RegExp(`^<message to="user5@${srv.domain.replace(/\./g, '\\.')}/res5" `));

    const t2 = performance.now();
    for (const x of sessions) x.s.receive(xml('presence', { to: `${room}/${'x'}`, type: 'unavailable' }));
    const leaveMs = performance.now() - t2;
    expect(srv.xmpp.muc.rooms.size).toBe(0);
    // Timings are reported, never asserted (speed targets live in `npm run bench -- muc`).
    // eslint-disable-next-line no-console
    console.log(`muc scale: ${n} joins ${joinMs.toFixed(0)} ms, groupchat fan-out ${msgMs.toFixed(2)} ms, ${n} leaves ${leaveMs.toFixed(0)} ms`);
  });
});
