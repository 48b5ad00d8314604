/**
 * The Colibri2-shaped API of the bridge, in process: create/modify/expire, the reply, and every typed error.
 */
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ColibriError,
  ConferenceAlreadyExistsError,
  ConferenceNotFoundError,
  ConflictError,
  FeatureNotImplementedError,
  GracefulShutdownError,
  UnknownEndpointError,
} from '../src/errors.js';
import type { ConferenceModify } from '../src/colibri/types.js';
import { createEndpoint, Harness, medias, sourcesOf } from './model-fakes.js';

const MEETING = 'b4d1c0de-0000-4000-8000-000000000001';

function expectColibriError(fn: () => unknown, cls: new (...a: never[]) => ColibriError, code: string, condition: string): ColibriError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  const e = caught as ColibriError;
  expect(e.code).toBe(code);
  expect(e.condition).toBe(condition);
  return e;
}

describe('conferenceModify()', () => {
  it('creates a conference with an endpoint and answers with the bridge transport and feedback sources', () => {
    const h = new Harness({ webSocketBaseUrl: 'wss://meet.example.com/colibri-ws' });
    const res = h.bridge.conferenceModify({
      meetingId: MEETING,
      name: 'room1@conference.meet.jitsi',
      create: true,
      endpoints: [createEndpoint('3f2a9c1e', { statsId: 'Kenna-R4x' })],
    });
    const conf = h.conference();
    expect(h.bridge.getConference(conf.id)).toBe(conf);
    expect(conf.name).toBe('room1@conference.meet.jitsi');
    expect(res.meetingId).toBe(MEETING);
    expect(res.endpoints).toHaveLength(1);
    const ep = res.endpoints[0];
    expect(ep?.id).toBe('3f2a9c1e');
    expect(ep?.transport).toMatchObject({
      ufrag: 'uf3f2a9c1e',
      pwd: 'bridgepwd0123456789abcdef',
      fingerprints: [{ hash: 'sha-256', value: 'AA:BB:CC', setup: 'actpass' }],
      rtcpMux: true,
    });
    expect(ep?.transport?.candidates).toHaveLength(1);
    const endpoint = conf.endpoints.get('3f2a9c1e');
    expect(endpoint?.statsId).toBe('Kenna-R4x');
    expect(ep?.transport?.webSocketUrl).toBe(
      `wss://meet.example.com/colibri-ws/jvb1/${conf.id}/3f2a9c1e?pwd=${endpoint?.wsPassword ?? ''}`,
    );
    expect(endpoint?.verifyWebSocketPassword(endpoint.wsPassword)).toBe(true);
    expect(endpoint?.verifyWebSocketPassword('nope')).toBe(false);
    expect(res.sources?.map((s) => [s.type, s.id, s.sources[0]?.ssrc])).toEqual([
      ['audio', 'jvb-a0', conf.feedbackSsrcs.audio],
      ['video', 'jvb-v0', conf.feedbackSsrcs.video],
    ]);
  });

  it('updates an endpoint: remote transport, sources, force-mute; no transport and no feedback sources in the reply', () => {
    const h = new Harness();
    h.bridge.conferenceModify({ meetingId: MEETING, create: true, endpoints: [createEndpoint('a')] });
    const res = h.bridge.conferenceModify({
      meetingId: MEETING,
      endpoints: [
        {
          id: 'a',
          transport: {
            iceUdp: { ufrag: 'Yq3m', pwd: 'Rz0b2oY8vI0mN5dJ7qK1pL4c', fingerprints: [{ hash: 'sha-256', value: '3C:7A', setup: 'active' }] },
          },
          sources: sourcesOf('a', h.plan('a')),
          forceMute: { audio: true },
        },
      ],
    });
    expect(res).toEqual({ meetingId: MEETING, endpoints: [] });
    expect(h.transport('a').remote).toEqual({
      ufrag: 'Yq3m',
      pwd: 'Rz0b2oY8vI0mN5dJ7qK1pL4c',
      fingerprints: [{ hash: 'sha-256', value: '3C:7A', setup: 'active' }],
    });
    const conf = h.conference();
    const ep = conf.endpoints.get('a');
    expect(ep?.forceMute).toEqual({ audio: true, video: false });
    expect(ep?.sources.map((s) => s.name)).toEqual(['a-a0', 'a-v0']);
    const plan = h.plan('a');
    for (const ssrc of [plan.audio, ...plan.video, ...plan.rtx]) expect(conf.endpointsBySsrc.get(ssrc)).toBe(ep);
    expect([...conf.sourcesByName.keys()]).toEqual(['a-a0', 'a-v0']);
  });

  it('sources are the complete set: a later request without the video source removes it', () => {
    const h = new Harness();
    h.join(['a', 'b']);
    const conf = h.conference();
    h.bridge.conferenceModify({ meetingId: MEETING, endpoints: [{ id: 'a', sources: sourcesOf('a', h.plan('a'), { video: false }) }] });
    expect([...conf.sourcesByName.keys()].sort()).toEqual(['a-a0', 'b-a0', 'b-v0']);
    for (const ssrc of h.plan('a').video) expect(conf.endpointsBySsrc.has(ssrc)).toBe(false);
  });

  it('expire of an endpoint removes it; of an unknown endpoint is a no-op; the last one expires the conference', () => {
    const h = new Harness();
    h.join(['a', 'b']);
    const conf = h.conference();
    const expired: string[] = [];
    conf.on('endpointExpired', (id) => expired.push(id));
    h.bridge.conferenceModify({ meetingId: MEETING, endpoints: [{ id: 'a', expire: true }, { id: 'zz', expire: true }] });
    expect([...conf.endpoints.keys()]).toEqual(['b']);
    expect(expired).toEqual(['a']);
    expect(h.transport('a').closed).toBe(true);
    h.bridge.conferenceModify({ meetingId: MEETING, endpoints: [{ id: 'b', expire: true }] });
    expect(conf.expired).toBe(true);
    expect(h.bridge.conferences.size).toBe(0);
    expect(h.time.activeTimers).toBe(0);
  });

  it('expire of the conference cascades to every endpoint and its transport', () => {
    const h = new Harness();
    h.join(['a', 'b', 'c']);
    const conf = h.conference();
    const events: string[] = [];
    h.bridge.on('conferenceExpired', (id) => events.push(`bridge:${id === conf.id}`));
    conf.endpoints.get('b')?.on('expired', () => events.push('b'));
    expect(h.bridge.conferenceModify({ meetingId: MEETING, expire: true })).toEqual({ meetingId: MEETING, endpoints: [] });
    expect(events).toEqual(['b', 'bridge:true']);
    for (const id of ['a', 'b', 'c']) expect(h.transport(id).closed).toBe(true);
    expect(conf.debugState()).toMatchObject({ endpoints: 0, endpointsBySsrc: 0, sources: 0, timers: 0 });
    expect(h.bridge.getConferenceByMeetingId(MEETING)).toBeUndefined();
    expect(h.time.activeTimers).toBe(0);
    // close() and expire() are idempotent.
    conf.expire();
    h.bridge.close();
    h.bridge.close();
  });

  it('an endpoint created later subscribes to the existing audio sources', () => {
    const h = new Harness();
    h.join(['a']);
    h.join(['b']);
    expect(h.conference().endpoints.get('b')?.debugState().subscriptionsBySource).toBe(1);
    expect(h.conference().endpoints.get('a')?.debugState().subscriptionsBySource).toBe(1);
  });
});

describe('conferenceModify() errors (nothing is changed by a failing request)', () => {
  it('unknown meeting id without create → ConferenceNotFoundError (item-not-found, reason conference_not_found)', () => {
    const h = new Harness();
    const e = expectColibriError(
      () => h.bridge.conferenceModify({ meetingId: MEETING, endpoints: [] }),
      ConferenceNotFoundError,
      'conference_not_found',
      'item-not-found',
    );
    expect(e.reason).toBe('conference_not_found');
    expectColibriError(() => h.bridge.conferenceModify({ meetingId: MEETING, expire: true }), ConferenceNotFoundError, 'conference_not_found', 'item-not-found');
  });

  it('create of an existing meeting id → ConferenceAlreadyExistsError (conflict)', () => {
    const h = new Harness();
    h.join(['a']);
    expectColibriError(
      () => h.bridge.conferenceModify({ meetingId: MEETING, create: true, endpoints: [] }),
      ConferenceAlreadyExistsError,
      'conference_already_exists',
      'conflict',
    );
  });

  it('modification of an unknown endpoint → UnknownEndpointError naming it', () => {
    const h = new Harness();
    h.join(['a']);
    const e = expectColibriError(
      () => h.bridge.conferenceModify({ meetingId: MEETING, endpoints: [{ id: 'ghost', forceMute: { audio: true } }] }),
      UnknownEndpointError,
      'unknown_endpoint',
      'item-not-found',
    );
    expect(e.endpointId).toBe('ghost');
  });

  it('create of an existing endpoint → ConflictError without a colibri2 reason', () => {
    const h = new Harness();
    h.join(['a']);
    const e = expectColibriError(
      () => h.bridge.conferenceModify({ meetingId: MEETING, endpoints: [createEndpoint('a')] }),
      ConflictError,
      'conflict',
      'conflict',
    );
    expect(e.reason).toBeUndefined();
  });

  it("an endpoint announcing another endpoint's SSRC → ConflictError; the request changes nothing", () => {
    const h = new Harness();
    h.join(['a', 'b']);
    const conf = h.conference();
    const stolen = sourcesOf('c', { audio: h.plan('a').audio, video: [900, 901, 902], rtx: [910, 911, 912] });
    expectColibriError(
      () =>
        h.bridge.conferenceModify({
          meetingId: MEETING,
          endpoints: [createEndpoint('c', { sources: stolen }), { id: 'b', forceMute: { video: true } }],
        }),
      ConflictError,
      'conflict',
      'conflict',
    );
    expect(conf.endpoints.has('c')).toBe(false);
    expect(h.transports.has('c')).toBe(false);
    expect(conf.endpoints.get('b')?.forceMute.video).toBe(false);
    expect(conf.endpointsBySsrc.get(h.plan('a').audio)?.id).toBe('a');
  });

  it("an endpoint announcing another endpoint's source name → ConflictError", () => {
    const h = new Harness();
    h.join(['a']);
    expectColibriError(
      () =>
        h.bridge.conferenceModify({
          meetingId: MEETING,
          endpoints: [createEndpoint('c', { sources: [{ type: 'audio', id: 'a-a0', sources: [{ ssrc: 4242 }] }] })],
        }),
      ConflictError,
      'conflict',
      'conflict',
    );
  });

  it('SSRCs freed by an endpoint expiring in the same request may be reused', () => {
    const h = new Harness();
    h.join(['a']);
    const reuse = sourcesOf('c', h.plan('a'));
    h.bridge.conferenceModify({ meetingId: MEETING, endpoints: [{ id: 'a', expire: true }, createEndpoint('c', { sources: reuse })] });
    expect(h.conference().endpointsBySsrc.get(h.plan('a').audio)?.id).toBe('c');
  });

  const badRequests: Array<[string, ConferenceModify]> = [
    ['missing meeting id', { meetingId: '', endpoints: [] }],
    ['endpoint without id', { meetingId: MEETING, create: true, endpoints: [{ id: '' }] }],
    ['endpoint twice', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a'), createEndpoint('a')] }],
    ['bad media type', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { medias: [{ type: 'text' as 'audio', payloadTypes: [], rtpHdrExts: [] }] })] }],
    ['bad payload type id', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { medias: [{ type: 'audio', payloadTypes: [{ id: 300, name: 'opus', clockrate: 48000 }], rtpHdrExts: [] }] })] }],
    ['ice without pwd', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { transport: { iceUdp: { ufrag: 'x', pwd: '', fingerprints: [] } } })] }],
    ['bad DTLS setup', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { transport: { iceUdp: { ufrag: 'x', pwd: 'y', fingerprints: [{ hash: 'sha-256', value: 'AA', setup: 'both' as 'active' }] } } })] }],
    ['force-mute not boolean', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { forceMute: { audio: 'yes' as unknown as boolean } })] }],
    ['source without name', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { sources: [{ type: 'audio', id: '', sources: [{ ssrc: 1 }] }] })] }],
    ['SSRC out of range', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { sources: [{ type: 'audio', id: 'a-a0', sources: [{ ssrc: 2 ** 32 }] }] })] }],
    ['SSRC twice in one endpoint', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { sources: [{ type: 'audio', id: 'a-a0', sources: [{ ssrc: 7 }] }, { type: 'video', id: 'a-v0', sources: [{ ssrc: 7 }] }] })] }],
    ['SIM group naming a foreign SSRC', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { sources: [{ type: 'video', id: 'a-v0', sources: [{ ssrc: 7 }], ssrcGroups: [{ semantics: 'SIM', ssrcs: [7, 8] }] }] })] }],
    ['FID group of three', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { sources: [{ type: 'video', id: 'a-v0', sources: [{ ssrc: 7 }, { ssrc: 8 }, { ssrc: 9 }], ssrcGroups: [{ semantics: 'FID', ssrcs: [7, 8, 9] }] }] })] }],
    ['foreign owner', { meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { sources: [{ type: 'audio', id: 'x-a0', owner: 'x', sources: [{ ssrc: 7 }] }] })] }],
    ['create and expire', { meetingId: MEETING, create: true, expire: true }],
  ];
  for (const [what, req] of badRequests) {
    it(`bad request (${what}) → BadRequestError (bad-request); no conference is created`, () => {
      const h = new Harness();
      expectColibriError(() => h.bridge.conferenceModify(req), BadRequestError, 'bad_request', 'bad-request');
      expect(h.bridge.conferences.size).toBe(0);
      expect(h.transports.size).toBe(0);
    });
  }

  it('relays → FeatureNotImplementedError', () => {
    const h = new Harness();
    expectColibriError(
      () => h.bridge.conferenceModify({ meetingId: MEETING, create: true, relays: [{ id: 'r1' }] }),
      FeatureNotImplementedError,
      'feature_not_implemented',
      'feature-not-implemented',
    );
  });

  it('after close() → GracefulShutdownError (service-unavailable)', () => {
    const h = new Harness();
    h.join(['a']);
    h.bridge.close();
    expect(h.transport('a').closed).toBe(true);
    expectColibriError(
      () => h.bridge.conferenceModify({ meetingId: MEETING, create: true, endpoints: [createEndpoint('a')] }),
      GracefulShutdownError,
      'graceful_shutdown',
      'service-unavailable',
    );
  });

  it('a transport factory failure leaves no half-created conference behind', () => {
    const h = new Harness();
    let calls = 0;
    const bridge = new (h.bridge.constructor as typeof import('../src/bridge.js').Bridge)({
      transportFactory: () => {
        calls++;
        throw new Error('no ports left');
      },
    });
    expect(() => bridge.conferenceModify({ meetingId: MEETING, create: true, endpoints: [createEndpoint('a', { medias: medias() })] })).toThrow(
      'no ports left',
    );
    expect(calls).toBe(1);
    expect(bridge.conferences.size).toBe(0);
    bridge.close();
  });
});
