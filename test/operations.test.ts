/**
 * Issue 7, operations: `/metrics` and the drain, with real participants (test/participant.ts: XMPP over WebSocket,
 * Jingle, werift ICE/DTLS/SRTP, synthetic audio and VP8) against the whole server started in process, the metrics
 * listener on a loopback port. No fixed sleeps: every step waits on a condition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../packages/server/src/index.js';
import { Participant, type ParticipantSsrcs } from './participant.js';
import { startLoopbackServer } from './loopback-server.js';

let server: RunningServer;
const people: Participant[] = [];
let ops: string;

function ssrcs(n: number): ParticipantSsrcs {
  const base = 0x4000_0000 + n * 0x100;
  return { audio: base + 1, video: base + 0x10, rtx: base + 0x20 };
}

async function join(room: string, nick: string, n: number): Promise<Participant> {
  const p = await Participant.join({ wsUrl: server.wsUrl, domain: server.domain, focusDomain: server.focusDomain, room: `${room}@${server.mucDomain}`, nick, ssrcs: ssrcs(n) });
  people.push(p);
  return p;
}

async function leave(...ps: Participant[]): Promise<void> {
  await Promise.all(ps.map((p) => p.leave()));
}

async function scrape(): Promise<string> {
  const res = await fetch(`${ops}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, e.g. `metric(text, 'jitsi_one_bridge_rtp_packets_total', { direction: 'sent' })`. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/i.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

/** Polls an async check until it returns undefined; fails with its last reason. */
async function eventually(check: () => Promise<string | undefined> | string | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason = await check();
  while (reason !== undefined) {
    if (Date.now() > deadline) throw new Error(`timed out: ${reason}`);
    await new Promise((r) => setTimeout(r, 50));
    reason = await check();
  }
}

/** Waits until `to` received at least `min` packets of `from`'s audio over the bridge. */
async function mediaFlows(from: Participant, fromIndex: number, to: Participant, min = 20): Promise<void> {
  const ssrc = ssrcs(fromIndex).audio;
  const start = to.count(ssrc);
  await eventually(() => (to.count(ssrc) - start >= min ? undefined : `${to.endpointId} got ${to.count(ssrc) - start} packets of ${from.endpointId}`));
}

beforeAll(async () => {
  server = await startLoopbackServer({ metrics: { enabled: true, port: 0 } });
  ops = `http://127.0.0.1:${server.metricsPort}`;
});

afterAll(async () => {
  await Promise.all(people.map((p) => p.leave().catch(() => undefined)));
  await server?.stop();
});

describe('operations: /metrics with a real conference', () => {
  it('reports conferences, participants, endpoints, media, stanzas and sessions by transport, naming nobody', async () => {
    const [a, b] = [await join('opsroom1', 'aaaa0001', 1), await join('opsroom1', 'bbbb0002', 2)];
    await eventually(() => (a.connected() && b.connected() ? undefined : 'ICE/DTLS not up'));
    await mediaFlows(a, 1, b);
    await mediaFlows(b, 2, a);

    const text = await scrape();
    expect(metric(text, 'jitsi_one_conferences')).toBe(1);
    expect(metric(text, 'jitsi_one_participants')).toBe(2);
    expect(metric(text, 'jitsi_one_muc_rooms')).toBe(1);
    expect(metric(text, 'jitsi_one_muc_occupants')).toBe(3); // the focus too
    expect(metric(text, 'jitsi_one_bridge_conferences')).toBe(1);
    expect(metric(text, 'jitsi_one_bridge_endpoints')).toBe(2);
    expect(metric(text, 'jitsi_one_bridge_transports', { state: 'connected' })).toBe(2);
    expect(metric(text, 'jitsi_one_bridge_websockets')).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'jitsi_one_xmpp_sessions', { transport: 'websocket' })).toBe(2);
    expect(metric(text, 'jitsi_one_xmpp_sessions', { transport: 'local' })).toBe(1); // the focus
    expect(metric(text, 'jitsi_one_xmpp_stanzas_total', { direction: 'in' })).toBeGreaterThan(10);
    expect(metric(text, 'jitsi_one_xmpp_stanzas_total', { direction: 'out' })).toBeGreaterThan(10);
    for (const direction of ['received', 'sent']) {
      expect(metric(text, 'jitsi_one_bridge_rtp_packets_total', { direction }), direction).toBeGreaterThan(40);
      expect(metric(text, 'jitsi_one_bridge_rtp_bytes_total', { direction }), direction).toBeGreaterThan(1000);
    }
    expect(metric(text, 'jitsi_one_bridge_udp_datagrams_total', { direction: 'in' })).toBeGreaterThan(40);
    expect(metric(text, 'jitsi_one_bridge_udp_bytes_total', { direction: 'out' })).toBeGreaterThan(1000);
    expect(metric(text, 'jitsi_one_bridge_udp_dropped_total', { reason: 'unknownAddress' })).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'jitsi_one_bridge_loss_ratio', { direction: 'incoming' })).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'jitsi_one_bridge_nack_retransmissions_total')).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'jitsi_one_healthy')).toBe(1);
    expect(metric(text, 'jitsi_one_draining')).toBe(0);
    expect(metric(text, 'jitsi_one_event_loop_lag_max_seconds')).toBeGreaterThanOrEqual(0);
    // prom-client's process metrics: memory and event-loop delay.
    expect(metric(text, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(metric(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \S+$/m);

    // Nothing personal or identifying: no room, nick, endpoint, meeting id or address.
    const meetingId = server.focus?.getConference(`opsroom1@${server.mucDomain}`)?.meetingId as string;
    for (const s of ['opsroom1', 'aaaa0001', 'bbbb0002', meetingId, '127.0.0.1', 'stats-']) expect(text, s).not.toContain(s);
  });

  it('keeps counters monotonic when endpoints leave, and the gauges fall back to 0', async () => {
    const before = await scrape();
    const sent = metric(before, 'jitsi_one_bridge_rtp_packets_total', { direction: 'sent' }) ?? 0;
    const received = metric(before, 'jitsi_one_bridge_rtp_bytes_total', { direction: 'received' }) ?? 0;
    await leave(...people.splice(0));
    let after = '';
    await eventually(async () => {
      after = await scrape();
      const left = ['jitsi_one_conferences', 'jitsi_one_participants', 'jitsi_one_bridge_endpoints', 'jitsi_one_bridge_conferences'].filter((n) => metric(after, n) !== 0);
      return left.length > 0 ? `not yet 0: ${left.join(', ')}` : undefined;
    });
    expect(metric(after, 'jitsi_one_bridge_rtp_packets_total', { direction: 'sent' })).toBeGreaterThanOrEqual(sent);
    expect(metric(after, 'jitsi_one_bridge_rtp_bytes_total', { direction: 'received' })).toBeGreaterThanOrEqual(received);
    expect(metric(after, 'jitsi_one_xmpp_sessions', { transport: 'websocket' })).toBe(0);
  });
});

describe('operations: graceful drain with real participants', () => {
  it('refuses new conferences, serves the running one (late joiner included) until it ends, then stays up', async () => {
    const [c, d] = [await join('drainroom', 'cccc0003', 3), await join('drainroom', 'dddd0004', 4)];
    await mediaFlows(c, 3, d);

    const started = await fetch(`${ops}/admin/drain`, { method: 'POST' });
    expect(started.status).toBe(200);
    expect(await started.json()).toEqual({ draining: true, conferences: 1, drained: false, changed: true });
    expect(await (await fetch(`${ops}/admin/drain`, { method: 'POST' })).json()).toMatchObject({ changed: false });
    expect(await (await fetch(`${server.url}about/health`)).json()).toEqual({ status: 'draining' });
    expect(metric(await scrape(), 'jitsi_one_draining')).toBe(1);

    // A new room: the conference IQ is refused with a typed error lib-jitsi-meet understands.
    const refused = await join('newroom', 'eeee0005', 5).then(
      () => 'joined',
      (err: unknown) => String(err),
    );
    expect(refused).toMatch(/conference IQ refused/);
    expect(refused).toMatch(/<service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
    expect(refused).toMatch(/<graceful-shutdown xmlns="http:\/\/jitsi.org\/protocol\/focus"\/>/);
    expect(refused).toMatch(/type="wait"/);
    expect(server.xmpp.muc.rooms.has(`newroom@${server.mucDomain}`)).toBe(false);

    // The running conference goes on: a late joiner gets in and gets media both ways.
    const late = await join('drainroom', 'ffff0006', 6);
    await mediaFlows(c, 3, late);
    await mediaFlows(late, 6, d);
    await mediaFlows(d, 4, c);

    // When it ends the server is drained and stays up, still refusing new conferences.
    await leave(c, d, late);
    await eventually(() => (server.drain.status().drained ? undefined : `status ${JSON.stringify(server.drain.status())}`));
    expect(await (await fetch(`${ops}/admin/drain`)).json()).toEqual({ draining: true, conferences: 0, drained: true });
    const health = await fetch(`${server.url}about/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'draining' });
    await expect(join('drainroom', 'gggg0007', 7)).rejects.toThrow(/graceful-shutdown/);

    // Resumed: new conferences again.
    expect(await (await fetch(`${ops}/admin/drain`, { method: 'DELETE' })).json()).toEqual({ draining: false, conferences: 0, drained: false, changed: true });
    const [g, h] = [await join('newroom', 'hhhh0008', 8), await join('newroom', 'iiii0009', 9)];
    await mediaFlows(g, 8, h);
    expect(await (await fetch(`${server.url}about/health`)).json()).toEqual({ status: 'ok' });
    await leave(g, h);
  });
});
