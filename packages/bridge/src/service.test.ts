/**
 * createBridgeService without media: config, the endpoint ↔ channel wiring over real colibri WebSockets, state on
 * (re)connect, relay rules, and what close() frees. The media path end to end is in test/e2e-conference.test.ts.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startHarness, openChannel, waitFor, type Harness, type ChannelClient } from '../test/e2e-helpers.js';
import { createEndpoint, sourcesOf, ssrcPlan } from '../test/model-fakes.js';
import type { Conference } from './conference.js';
import type { TransportDesc } from './colibri/types.js';
import { createBridgeService, parseBridgeServiceConfig } from './service.js';
import { EndpointTransport } from './transport/endpoint-transport.js';

const MEETING = '5e7b1ce0-0000-4000-8000-000000000001';

let h: Harness | undefined;
const clients: ChannelClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await h?.close();
  h = undefined;
});

/** A harness with a conference of `ids` (each with audio + simulcast video unless listed in `noSources`). */
async function conference(ids: string[], opts: { visitors?: string[]; noSources?: string[] } = {}) {
  h = await startHarness();
  const reply = h.svc.bridge.conferenceModify({
    meetingId: MEETING,
    create: true,
    endpoints: ids.map((id, i) =>
      createEndpoint(id, {
        sources: opts.noSources?.includes(id) === true ? [] : sourcesOf(id, ssrcPlan(i)),
        ...(opts.visitors?.includes(id) === true ? { mucRole: 'visitor' } : {}),
      }),
    ),
  });
  const conf = h.svc.bridge.getConferenceByMeetingId(MEETING) as Conference;
  const urls = new Map(reply.endpoints.map((e) => [e.id, (e.transport as TransportDesc).webSocketUrl as string]));
  const open = async (id: string): Promise<ChannelClient> => {
    const c = await openChannel(urls.get(id) as string);
    clients.push(c);
    return c;
  };
  return { svc: h.svc, conf, reply, urls, open };
}

describe('bridge service config', () => {
  it('fills the defaults of the bridge section, transport included', () => {
    const c = parseBridgeServiceConfig();
    expect(c).toMatchObject({ enabled: true, id: 'jvb1', expireEmptyConferences: true });
    expect(c.webSocketBaseUrl).toBeUndefined();
    expect(c.transport).toMatchObject({ port: 10000, bindAddress: '0.0.0.0', srtpProfiles: [1, 7], replayWindowSize: 1024 });
    expect(c.transport.ice.consentTimeoutMs).toBe(30_000);
  });

  it('rejects bad values naming the key', () => {
    expect(() => parseBridgeServiceConfig({ transport: { port: 70000 } })).toThrow(/transport\.port/);
    expect(() => parseBridgeServiceConfig({ webSocketBaseUrl: 'not a url' })).toThrow(/webSocketBaseUrl/);
    expect(() => parseBridgeServiceConfig({ transport: { natMappings: [{ local: '10.0.0.1', public: 'x' }] } })).toThrow(/natMappings/);
  });
});

describe('createBridgeService()', () => {
  it('gives every endpoint an EndpointTransport on the one port, and a colibri-ws URL with its password', async () => {
    const { svc, conf, reply } = await conference(['A', 'B']);
    expect(svc.mux.port).toBeGreaterThan(0);
    for (const e of reply.endpoints) {
      const t = e.transport as TransportDesc;
      expect(t.candidates).toEqual([expect.objectContaining({ ip: '127.0.0.1', port: svc.mux.port, type: 'host', protocol: 'udp' })]);
      expect(t.fingerprints).toEqual([{ hash: 'sha-256', value: svc.certificate.fingerprint.value, setup: 'actpass' }]);
      const ep = conf.endpoints.get(e.id);
      expect(ep?.transport).toBeInstanceOf(EndpointTransport);
      expect(t.webSocketUrl).toBe(`ws://127.0.0.1:${h?.httpPort}/colibri-ws/jvb1/${conf.id}/${e.id}?pwd=${encodeURIComponent(ep?.wsPassword ?? '')}`);
    }
    expect(svc.mux.registrationCount).toBe(2); // two ufrags, no address learned yet
    expect(svc.stats()).toMatchObject({ port: svc.mux.port, channels: { count: 2, open: 0, webSockets: 0 }, transports: { new: 2 } });
  });

  it('creates a channel per endpoint and closes it when the endpoint expires', async () => {
    const { svc, conf, open } = await conference(['A', 'B']);
    const a = await open('A');
    expect(a.messages[0]).toEqual({ colibriClass: 'ServerHello' });
    expect(svc.channel(conf.id, 'A')?.isOpen).toBe(true);
    svc.bridge.conferenceModify({ meetingId: MEETING, endpoints: [{ id: 'A', expire: true }] });
    expect(svc.channel(conf.id, 'A')).toBeUndefined();
    await waitFor(() => (a.close !== undefined ? undefined : 'socket open'));
    expect(a.close).toEqual({ code: 1001, reason: 'endpoint expired' });
    expect(svc.stats().channels.count).toBe(1);
  });

  it('maps inbound messages to the endpoint', async () => {
    const { conf, open } = await conference(['A', 'B']);
    const a = await open('A');
    const ep = conf.endpoints.get('A');
    if (ep === undefined) throw new Error('no A');
    const audio = vi.spyOn(ep, 'setReceiverAudioSubscription');
    a.send({ colibriClass: 'ReceiverVideoConstraints', lastN: 3, onStageSources: ['B-v0'], defaultConstraints: { maxHeight: 360 } });
    await waitFor(() => (ep.allocationSettings.lastN === 3 ? undefined : 'constraints not applied'));
    expect(ep.allocationSettings).toMatchObject({ configured: true, onStageSources: ['B-v0'], defaultConstraints: { maxHeight: 360 } });
    a.send({ colibriClass: 'LastNChangedEvent', lastN: 1 });
    await waitFor(() => (ep.allocationSettings.lastN === 1 ? undefined : 'lastN not applied'));
    const video = conf.sourcesByName.get('A-v0');
    a.send({ colibriClass: 'SourceVideoTypeMessage', sourceName: 'A-v0', videoType: 'desktop' });
    await waitFor(() => (video?.kind === 'video' && video.videoType === 'desktop' ? undefined : 'video type not applied'));
    a.send({ colibriClass: 'VideoTypeMessage', videoType: 'camera' });
    await waitFor(() => (video?.kind === 'video' && video.videoType === 'camera' ? undefined : 'legacy video type not applied'));
    a.send({ colibriClass: 'ReceiverAudioSubscription', mode: 'Exclude', list: ['B-a0'] });
    await waitFor(() => (audio.mock.calls.length > 0 ? undefined : 'audio subscription not applied'));
    expect(audio.mock.calls[0]?.[0]).toEqual({ all: true, include: [], exclude: ['B-a0'] });
  });

  it('relays endpoint messages: targeted, broadcast, never to the sender, never from a visitor', async () => {
    const { open } = await conference(['A', 'B', 'V'], { visitors: ['V'], noSources: ['V'] });
    const [a, b, v] = [await open('A'), await open('B'), await open('V')];
    v.send({ colibriClass: 'EndpointMessage', to: '', msgPayload: { from: 'visitor' } });
    a.send({ colibriClass: 'EndpointMessage', to: 'A', msgPayload: { self: true } });
    a.send({ colibriClass: 'EndpointMessage', to: 'nobody', msgPayload: { lost: true } });
    a.send({ colibriClass: 'EndpointMessage', to: 'B', msgPayload: { n: 1 } });
    b.send({ colibriClass: 'EndpointMessage', to: '', msgPayload: { n: 2 } });
    await waitFor(() => (b.of('EndpointMessage').length > 0 && a.of('EndpointMessage').length > 0 && v.of('EndpointMessage').length > 0 ? undefined : 'not relayed'));
    expect(b.of('EndpointMessage')).toEqual([{ colibriClass: 'EndpointMessage', to: 'B', from: 'A', msgPayload: { n: 1 } }]);
    expect(a.of('EndpointMessage')).toEqual([{ colibriClass: 'EndpointMessage', to: '', from: 'B', msgPayload: { n: 2 } }]);
    expect(v.of('EndpointMessage')).toEqual([{ colibriClass: 'EndpointMessage', to: '', from: 'B', msgPayload: { n: 2 } }]);
  });

  it('sends queued state on the first connection and the full state again when a socket replaces another', async () => {
    const { svc, conf, open } = await conference(['A', 'B']);
    // Before anyone connects: B asks for A's camera, so A gets a SenderSourceConstraints (queued).
    conf.endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 360 } });
    await waitFor(() => (conf.endpoints.get('A')?.senderSourceConstraints().length ? undefined : 'no allocation yet'));
    const first = await open('A');
    await waitFor(() => (first.of('SenderSourceConstraints').length > 0 ? undefined : `got ${JSON.stringify(first.messages)}`));
    expect(first.messages.map((m) => m.colibriClass)).toEqual(['ServerHello', 'SenderSourceConstraints']);
    expect(first.of('SenderSourceConstraints')).toEqual([{ colibriClass: 'SenderSourceConstraints', sourceName: 'A-v0', maxHeight: 360 }]);
    const second = await open('A');
    await waitFor(() => (first.close !== undefined ? undefined : 'first socket still open'));
    expect(first.close).toEqual({ code: 1000, reason: 'replaced' });
    await waitFor(() => (second.of('SenderSourceConstraints').length > 0 ? undefined : `got ${JSON.stringify(second.messages)}`));
    expect(second.messages.map((m) => m.colibriClass)).toEqual(['ServerHello', 'ForwardedSources', 'SenderSourceConstraints']);
    expect(svc.stats().channels).toEqual({ count: 2, open: 1, webSockets: 1 });
  });

  it('close() expires everything, closes the sockets and frees the UDP port; it is idempotent', async () => {
    const { svc, conf, open } = await conference(['A', 'B']);
    const a = await open('A');
    const port = svc.mux.port;
    await Promise.all([svc.close(), svc.close()]);
    expect(conf.expired).toBe(true);
    expect(svc.mux.closed).toBe(true);
    expect(svc.stats().channels).toEqual({ count: 0, open: 0, webSockets: 0 });
    await waitFor(() => (a.close !== undefined ? undefined : 'socket open'));
    // The port is free again.
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve());
    });
    s.close();
  });

  it('a client transport without a fingerprint is a bad_request that changes nothing (the real transport would throw)', async () => {
    const { svc, conf } = await conference(['A']);
    const ep = conf.endpoints.get('A');
    let err: unknown;
    try {
      svc.bridge.conferenceModify({
        meetingId: MEETING,
        endpoints: [{ id: 'A', forceMute: { audio: true }, transport: { iceUdp: { ufrag: 'abcd', pwd: 'p'.repeat(24), fingerprints: [] } } }],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'bad_request' });
    expect(ep?.forceMute.audio).toBe(false);
    expect(ep?.transport.state).toBe('new');
  });

  it('rejects with the socket error when the UDP port is taken', async () => {
    h = await startHarness();
    await expect(createBridgeService({ config: { transport: { port: h.svc.mux.port, bindAddress: '127.0.0.1' } } })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
