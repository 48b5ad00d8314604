import { serialize } from '@jitsi-one/xmpp';
import { describe, expect, it } from 'vitest';
import { ConferenceSourceMap, type EndpointSourceSet, type SourceDesc } from '../sources.js';
import { jingleOf, loadFixture, normalize, parseXml } from './fixtures/load.js';
import {
  type BridgeTransport,
  DEFAULT_FEATURES,
  FALLBACK_FEATURES,
  FEATURE_URIS,
  JICOFO_OFFER_CONFIG,
  type OfferConfig,
  type OfferOptions,
  type ParticipantFeatures,
  buildOffer,
  buildSourceUpdate,
  featuresFromDisco,
  sourcesToJingleAdd,
} from './offer.js';
import type { Content, Jingle, PayloadType } from './types.js';
import { parseJingle, serializeJingle } from './xml.js';
import { LJM_FEATURES } from './fixtures/ljm-features.js';

// ---------------------------------------------------------------------------------------------------------------
// The conference of PROTOCOL §4.5: 3f2a9c1e (camera with 3 simulcast layers + RTX, mic) and 9c1d0e2f (mic only);
// 5b7e1a44 is joining.

const CAM_MSID = '7a3e0c61-video-1-1 4f7bb1e2-2f44-4b7e-8d65-5c1f0b2a9e10-1';
const cam = (ssrc: number): SourceDesc => ({
  ssrc,
  name: '3f2a9c1e-v0',
  mediaType: 'video',
  videoType: 'camera',
  msid: CAM_MSID,
});

function conference(): ConferenceSourceMap {
  const map = new ConferenceSourceMap();
  map.add('3f2a9c1e', {
    sources: [
      {
        ssrc: 1130921544,
        name: '3f2a9c1e-a0',
        mediaType: 'audio',
        msid: 'd2c4f0a1-audio-1-1 0c6d2b1e-9a7f-4f8e-8a31-2f9d5e7c6b40-1',
      },
      cam(2005163093),
      cam(2005163094),
      cam(2005163095),
      cam(1787655310),
      cam(1787655311),
      cam(1787655312),
    ],
    groups: [
      { semantics: 'SIM', ssrcs: [2005163093, 2005163094, 2005163095], mediaType: 'video' },
      { semantics: 'FID', ssrcs: [2005163093, 1787655310], mediaType: 'video' },
      { semantics: 'FID', ssrcs: [2005163094, 1787655311], mediaType: 'video' },
      { semantics: 'FID', ssrcs: [2005163095, 1787655312], mediaType: 'video' },
    ],
  });
  map.add('9c1d0e2f', {
    sources: [
      {
        ssrc: 884312559,
        name: '9c1d0e2f-a0',
        mediaType: 'audio',
        msid: '51b0e7aa-audio-1-1 93e2c4d1-0b7e-4c2a-9d6f-7a1e3b5c9d02-1',
      },
    ],
    groups: [],
  });
  map.add('5b7e1a44', { sources: [{ ssrc: 412883192, name: '5b7e1a44-a0', mediaType: 'audio', msid: 'x y' }], groups: [] });
  return map;
}

const bridgeTransport: BridgeTransport = {
  ufrag: '26ant1ioqu7qnr',
  pwd: '9q8uj7tg6j4rc4i6ulc1pmsq9',
  fingerprints: [
    {
      hash: 'sha-256',
      value: 'F1:05:72:F8:F3:F4:B4:65:5B:9A:FC:81:24:11:23:78:D5:42:54:B1:F2:66:2F:82:CC:2B:01:1C:DB:98:BE:C0',
    },
  ],
  candidates: [
    {
      foundation: '1',
      component: 1,
      protocol: 'udp',
      priority: 2130706431,
      ip: '192.0.2.10',
      port: 10000,
      type: 'host',
      network: 0,
      id: 'c1',
    },
  ],
  webSocketUrl: 'wss://meet.jitsi/colibri-ws/default-id/7e441eda3701676e/5b7e1a44?pwd=hT3kQ9zLm2Rx8VbN4cWp7sYd',
};

function offerOptions(overrides: Partial<OfferOptions> = {}): OfferOptions {
  return {
    sid: '9rk4s0ggv7sm',
    initiator: 'focus@auth.meet.jitsi/focus',
    bridgeTransport,
    bridgeSessionId: 'a4b1c9d2-6f0e-4e51-9b2a-3c7d8e9f0a1b',
    feedbackSources: { audio: 3191927963, video: 1863439907 },
    remoteSources: conference().toMap({ exclude: ['5b7e1a44'] }),
    ...overrides,
  };
}

const content = (j: Jingle, name: string): Content | undefined => j.contents.find((c) => c.name === name);
const ptSummary = (pts: PayloadType[] | undefined): string[] =>
  (pts ?? []).map((p) => `${p.id} ${p.name}/${p.clockrate ?? ''}${p.channels ? `/${p.channels}` : ''}`);
const fbSummary = (p: PayloadType | undefined): string[] =>
  (p?.rtcpFbs ?? []).map((f) => (f.subtype ? `${f.type} ${f.subtype}` : f.type));
const withFeatures = (f: Partial<ParticipantFeatures>): ParticipantFeatures => ({ ...DEFAULT_FEATURES, ...f });

// ---------------------------------------------------------------------------------------------------------------

describe('buildOffer()', () => {
  it('reproduces the PROTOCOL §4.5 session-initiate exactly (default config, LJM default features)', () => {
    const offer = buildOffer(offerOptions());
    const wire = parseXml(serialize(serializeJingle(offer)));
    expect(normalize(wire)).toEqual(normalize(jingleOf(loadFixture('session-initiate.xml'))));
  });

  it('never sends SIM groups: one primary SSRC plus its RTX in one FID group per remote source', () => {
    const offer = buildOffer(offerOptions());
    const video = content(offer, 'video')?.description;
    expect(video?.ssrcGroups.some((g) => g.semantics === 'SIM')).toBe(false);
    const bySource = new Map<string, number[]>();
    for (const s of video?.sources ?? []) bySource.set(s.name ?? '', [...(bySource.get(s.name ?? '') ?? []), s.ssrc]);
    expect([...bySource]).toEqual([
      ['jvb-v0', [1863439907]],
      ['3f2a9c1e-v0', [2005163093, 1787655310]],
    ]);
    expect(video?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [2005163093, 1787655310] }]);
    for (const s of video?.sources ?? []) {
      expect(s.owner).toBeDefined();
      expect(s.msid).toBeDefined();
    }
  });

  it('puts the jvb placeholders first in each description and never the receiver’s own sources', () => {
    const offer = buildOffer(offerOptions());
    expect(content(offer, 'audio')?.description?.sources.map((s) => s.owner)).toEqual(['jvb', '3f2a9c1e', '9c1d0e2f']);
    expect(content(offer, 'audio')?.description?.sources[0]).toEqual({
      ssrc: 3191927963,
      name: 'jvb-a0',
      owner: 'jvb',
      msid: 'mixedmslabel mixedlabelaudio0',
      parameters: [],
    });
    const all = offer.contents.flatMap((c) => c.description?.sources ?? []);
    expect(all.some((s) => s.ssrc === 412883192)).toBe(false);
  });

  it('has rtcp-mux in every description, an identical transport in every content and a BUNDLE group', () => {
    const offer = buildOffer(offerOptions());
    expect(offer.contents.map((c) => c.description?.rtcpMux)).toEqual([true, true]);
    expect(offer.contents[0]?.transport).toEqual(offer.contents[1]?.transport);
    expect(offer.contents[0]?.transport?.fingerprints[0]?.setup).toBe('actpass');
    expect(offer.contents[0]?.transport?.candidates[0]?.generation).toBe(0);
    expect(offer.group).toEqual({ semantics: 'BUNDLE', contents: ['audio', 'video'] });
    expect(offer.bridgeSession).toEqual({ id: 'a4b1c9d2-6f0e-4e51-9b2a-3c7d8e9f0a1b' });
  });

  it('keeps a fingerprint setup given by the bridge, adds the region, omits web-socket without URL', () => {
    const offer = buildOffer(
      offerOptions({
        bridgeTransport: {
          ...bridgeTransport,
          fingerprints: [{ hash: 'sha-256', value: 'AA', setup: 'passive' }],
          webSocketUrl: undefined,
        },
        region: 'eu-1',
      }),
    );
    expect(offer.contents[0]?.transport?.fingerprints).toEqual([{ hash: 'sha-256', value: 'AA', setup: 'passive' }]);
    expect(offer.contents[0]?.transport?.webSockets).toEqual([]);
    expect(offer.bridgeSession?.region).toBe('eu-1');
  });

  it("offers Jicofo's full profile: AV1/VP8/H264/VP9 + RTX, transport-cc and TCC hdrext when the client has TCC", () => {
    const offer = buildOffer(offerOptions({ config: JICOFO_OFFER_CONFIG }));
    const audio = content(offer, 'audio')?.description;
    const video = content(offer, 'video')?.description;
    expect(ptSummary(audio?.payloadTypes)).toEqual(['111 opus/48000/2', '126 telephone-event/8000']);
    expect(fbSummary(audio?.payloadTypes[0])).toEqual(['transport-cc']);
    expect(audio?.rtpHdrExts.map((e) => e.id)).toEqual([1, 10, 5]);
    expect(ptSummary(video?.payloadTypes)).toEqual([
      '41 AV1/90000',
      '100 VP8/90000',
      '107 H264/90000',
      '101 VP9/90000',
      '42 rtx/90000',
      '96 rtx/90000',
      '97 rtx/90000',
      '99 rtx/90000',
    ]);
    for (const p of video?.payloadTypes.slice(0, 4) ?? []) {
      expect(fbSummary(p)).toEqual(['ccm fir', 'nack', 'nack pli', 'transport-cc']);
    }
    expect(video?.payloadTypes.slice(4).map((p) => [p.parameters, fbSummary(p)])).toEqual([
      [[{ name: 'apt', value: '41' }], ['ccm fir', 'nack', 'nack pli']],
      [[{ name: 'apt', value: '100' }], ['ccm fir', 'nack', 'nack pli']],
      [[{ name: 'apt', value: '101' }], ['ccm fir', 'nack', 'nack pli']],
      [[{ name: 'apt', value: '107' }], []],
    ]);
    expect(video?.payloadTypes[2]?.parameters).toEqual([
      { name: 'profile-level-id', value: '42e01f;level-asymmetry-allowed=1;packetization-mode=1;' },
    ]);
    expect(video?.rtpHdrExts.map((e) => [e.id, e.uri])).toEqual([
      [11, 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension'],
      [10, 'urn:ietf:params:rtp-hdrext:sdes:mid'],
      [3, 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'],
      [5, 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'],
    ]);
  });

  const remb: [string, OfferConfig, Partial<ParticipantFeatures>, boolean, boolean][] = [
    ['TCC config + TCC client → transport-cc only', JICOFO_OFFER_CONFIG, { tcc: true, remb: true }, false, true],
    ['TCC config, client without TCC → goog-remb', JICOFO_OFFER_CONFIG, { tcc: false, remb: true }, true, false],
    ['TCC config, client with neither → nothing', JICOFO_OFFER_CONFIG, { tcc: false, remb: false }, false, false],
    ['no TCC config, TCC client → goog-remb', { ...JICOFO_OFFER_CONFIG, tcc: false }, { tcc: true, remb: true }, true, false],
    ['REMB disabled in config → nothing', { ...JICOFO_OFFER_CONFIG, tcc: false, remb: false }, { remb: true }, false, false],
  ];

  it.each(remb)('%s', (_what, config, features, hasRemb, hasTcc) => {
    const offer = buildOffer(offerOptions({ config, features: withFeatures(features) }));
    const vp8 = content(offer, 'video')?.description?.payloadTypes.find((p) => p.name === 'VP8');
    expect(fbSummary(vp8).includes('goog-remb')).toBe(hasRemb);
    expect(fbSummary(vp8).includes('transport-cc')).toBe(hasTcc);
    const tccExt = (c: string): boolean =>
      content(offer, c)?.description?.rtpHdrExts.some((e) => e.uri.includes('transport-wide-cc')) ?? false;
    expect(tccExt('audio')).toBe(hasTcc);
    expect(tccExt('video')).toBe(hasTcc);
  });

  it('offers no RTX payload types to a client without RTX', () => {
    const offer = buildOffer(offerOptions({ config: JICOFO_OFFER_CONFIG, features: withFeatures({ rtx: false }) }));
    expect(content(offer, 'video')?.description?.payloadTypes.some((p) => p.name === 'rtx')).toBe(false);
  });

  it('offers RED before Opus (value-only 111/111, no in-band FEC) only to clients with opus-red', () => {
    const config: OfferConfig = {
      ...JICOFO_OFFER_CONFIG,
      audio: { ...JICOFO_OFFER_CONFIG.audio, opus: { pt: 111, minptime: 10, useInbandFec: true, red: { pt: 112 } } },
    };
    const red = buildOffer(offerOptions({ config, features: withFeatures({ opusRed: true }) }));
    const pts = content(red, 'audio')?.description?.payloadTypes;
    expect(ptSummary(pts)).toEqual(['112 red/48000/2', '111 opus/48000/2', '126 telephone-event/8000']);
    expect(pts?.[0]?.parameters).toEqual([{ value: '111/111' }]);
    expect(pts?.[1]?.parameters).toEqual([{ name: 'minptime', value: '10' }]);
    const noRed = buildOffer(offerOptions({ config, features: withFeatures({ opusRed: false }) }));
    const pts2 = content(noRed, 'audio')?.description?.payloadTypes;
    expect(ptSummary(pts2)).toEqual(['111 opus/48000/2', '126 telephone-event/8000']);
    expect(pts2?.[0]?.parameters).toContainEqual({ name: 'useinbandfec', value: '1' });
  });

  it('omits media the client does not support, and lists only offered contents in BUNDLE', () => {
    const offer = buildOffer(offerOptions({ features: withFeatures({ video: false }) }));
    expect(offer.contents.map((c) => c.name)).toEqual(['audio']);
    expect(offer.group?.contents).toEqual(['audio']);
  });

  it('offers no data content unless sctp is requested and supported; then with sctpmap', () => {
    expect(buildOffer(offerOptions()).contents.map((c) => c.name)).toEqual(['audio', 'video']);
    expect(buildOffer(offerOptions({ sctp: true, features: withFeatures({ sctp: false }) })).contents).toHaveLength(2);
    const offer = buildOffer(offerOptions({ sctp: true }));
    const data = content(offer, 'data');
    expect(data?.description?.media).toBe('application');
    expect(data?.transport?.sctpmap).toEqual({ number: 5000, protocol: 'webrtc-datachannel', streams: 1024 });
    expect(offer.group?.contents).toEqual(['audio', 'video', 'data']);
  });

  it('uses the compact JSON encoding when asked and supported: no <source> elements, jvb first', () => {
    const offer = buildOffer(offerOptions({ jsonSources: true }));
    for (const c of offer.contents) {
      expect(c.description?.sources).toEqual([]);
      expect(c.description?.ssrcGroups).toEqual([]);
    }
    const el = serializeJingle(offer);
    const json = el.getChild('json-message', 'http://jitsi.org/jitmeet')?.getText();
    expect(json).toBe(
      '{"sources":{' +
        '"jvb":[[{"s":1863439907,"n":"jvb-v0","m":"mixedmslabel mixedlabelvideo0"}],[],' +
        '[{"s":3191927963,"n":"jvb-a0","m":"mixedmslabel mixedlabelaudio0"}]],' +
        `"3f2a9c1e":[[{"s":2005163093,"n":"3f2a9c1e-v0","m":"${CAM_MSID}"},` +
        `{"s":1787655310,"n":"3f2a9c1e-v0","m":"${CAM_MSID}"}],[["f",2005163093,1787655310]],` +
        '[{"s":1130921544,"n":"3f2a9c1e-a0","m":"d2c4f0a1-audio-1-1 0c6d2b1e-9a7f-4f8e-8a31-2f9d5e7c6b40-1"}]],' +
        '"9c1d0e2f":[[],[],[{"s":884312559,"n":"9c1d0e2f-a0","m":"51b0e7aa-audio-1-1 93e2c4d1-0b7e-4c2a-9d6f-7a1e3b5c9d02-1"}]]' +
        '}}',
    );
    // Parsed back, the JSON is what LJM expands.
    expect(parseJingle(el).jsonSources?.get('3f2a9c1e')?.videoGroups).toEqual([
      { semantics: 'FID', ssrcs: [2005163093, 1787655310] },
    ]);
    // Without the client feature: standard encoding.
    const std = buildOffer(offerOptions({ jsonSources: true, features: withFeatures({ jsonSources: false }) }));
    expect(std.jsonSources).toBeUndefined();
  });

  it('in SSRC-rewriting mode (chosen and supported) sends only the placeholders', () => {
    const offer = buildOffer(offerOptions({ ssrcRewriting: true, features: withFeatures({ ssrcRewriting: true }) }));
    expect(offer.contents.flatMap((c) => c.description?.sources.map((s) => s.name) ?? [])).toEqual(['jvb-a0', 'jvb-v0']);
    const normal = buildOffer(offerOptions({ ssrcRewriting: false, features: withFeatures({ ssrcRewriting: true }) }));
    expect(normal.contents.flatMap((c) => c.description?.sources ?? [])).toHaveLength(6);
  });

  it('works for the first participant (no remote sources, no feedback sources)', () => {
    const offer = buildOffer(offerOptions({ remoteSources: undefined, feedbackSources: undefined }));
    expect(offer.contents.flatMap((c) => c.description?.sources ?? [])).toEqual([]);
    expect(parseJingle(serializeJingle(offer))).toEqual(offer);
  });

  it('round-trips through the codec', () => {
    for (const options of [offerOptions(), offerOptions({ config: JICOFO_OFFER_CONFIG, sctp: true, jsonSources: true })]) {
      const offer = buildOffer(options);
      expect(parseJingle(parseXml(serialize(serializeJingle(offer))))).toEqual(offer);
    }
  });
});

describe('source-add / source-remove builders', () => {
  const joiner = (): EndpointSourceSet => {
    const v = (ssrc: number): SourceDesc => ({
      ssrc,
      name: '5b7e1a44-v0',
      mediaType: 'video',
      videoType: 'camera',
      msid: 'a9f1c3e0-video-1-1 0f4e…-1',
    });
    return {
      sources: [
        { ssrc: 412883192, name: '5b7e1a44-a0', mediaType: 'audio', msid: 'a9f1c3e0-audio-1-1 27c0…-1' },
        v(1600000001),
        v(1600000002),
        v(1600000003),
        v(1700000001),
        v(1700000002),
        v(1700000003),
      ],
      groups: [
        { semantics: 'SIM', ssrcs: [1600000001, 1600000002, 1600000003], mediaType: 'video' },
        { semantics: 'FID', ssrcs: [1600000001, 1700000001], mediaType: 'video' },
        { semantics: 'FID', ssrcs: [1600000002, 1700000002], mediaType: 'video' },
        { semantics: 'FID', ssrcs: [1600000003, 1700000003], mediaType: 'video' },
      ],
    };
  };

  it('buildSourceUpdate("source-add") of the §4.6 session-accept sources is the §4.7 source-add (simulcast stripped)', () => {
    const j = buildSourceUpdate('source-add', '9rk4s0ggv7sm', new Map([['5b7e1a44', joiner()]]));
    const wire = parseXml(serialize(serializeJingle(j)));
    expect(normalize(wire)).toEqual(normalize(jingleOf(loadFixture('source-add-to-client.xml'))));
  });

  it('source-remove lists the same stripped SSRCs the receiver was told about', () => {
    const j = buildSourceUpdate('source-remove', 's', new Map([['5b7e1a44', joiner()]]));
    expect(j.action).toBe('source-remove');
    expect(j.initiator).toBeUndefined();
    expect(j.contents.flatMap((c) => c.description?.sources.map((s) => s.ssrc) ?? [])).toEqual([
      412883192, 1600000001, 1700000001,
    ]);
    expect(j.contents.flatMap((c) => c.description?.ssrcGroups ?? [])).toEqual([
      { semantics: 'FID', ssrcs: [1600000001, 1700000001] },
    ]);
  });

  it('sourcesToJingleAdd() in JSON form strips simulcast too', () => {
    const payload = sourcesToJingleAdd(new Map([['5b7e1a44', joiner()]]), { jsonSources: true });
    expect(payload.contents).toEqual([]);
    const e = payload.jsonSources?.get('5b7e1a44');
    expect(e?.video.map((s) => s.ssrc)).toEqual([1600000001, 1700000001]);
    expect(e?.videoGroups).toEqual([{ semantics: 'FID', ssrcs: [1600000001, 1700000001] }]);
    expect(e?.audio.map((s) => s.ssrc)).toEqual([412883192]);
  });
});

describe('featuresFromDisco()', () => {
  it('maps the disco#info features LJM advertises (PROTOCOL §3.4.2)', () => {
    const ljm = [...LJM_FEATURES];
    expect(featuresFromDisco(ljm)).toEqual(DEFAULT_FEATURES);
    expect(featuresFromDisco([...ljm, FEATURE_URIS.ssrcRewriting, FEATURE_URIS.opusRed])).toEqual({
      ...DEFAULT_FEATURES,
      ssrcRewriting: true,
      opusRed: true,
    });
    expect(featuresFromDisco([])).toEqual({ ...FALLBACK_FEATURES, audio: false, video: false, sctp: false });
  });
});
