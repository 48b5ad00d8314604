import { type Element, elements, serialize } from '@jitsi-one/xmpp';
import { describe, expect, it } from 'vitest';
import { JingleParseError } from './errors.js';
import { jingleOf, loadFixture, normalize, parseXml } from './fixtures/load.js';
import {
  NS_JINGLE,
  NS_JINGLE_DTLS,
  NS_JINGLE_ICE_UDP,
  NS_JINGLE_RTP,
  NS_JINGLE_RTP_HDREXT,
  NS_JINGLE_RTP_RTCP_FB,
  NS_JINGLE_RTP_SSMA,
  NS_JITSI_COLIBRI,
  NS_JITSI_FOCUS,
  NS_JITSI_MEET,
} from './ns.js';
import type { Jingle } from './types.js';
import { expandJsonSources, parseJingle, parseJsonMessage, serializeJingle, serializeJsonSources } from './xml.js';

/** Serialize to text and parse again: what the client receives. */
function wire(j: Jingle): Element {
  return parseXml(serialize(serializeJingle(j)));
}

/** Every element that changes namespace declares it itself; no prefixes anywhere (PROTOCOL "Global rule"). */
function expectExplicitNamespaces(el: Element, parentNs: string | undefined = undefined): void {
  expect(el.name).not.toContain(':');
  for (const k of Object.keys(el.attrs)) expect(k.startsWith('xmlns:')).toBe(false);
  const ns = (el.attrs.xmlns as string | undefined) ?? parentNs;
  for (const c of elements(el)) expectExplicitNamespaces(c, ns);
}

function jingleXml(inner: string, attrs = 'action="session-info" sid="s1"'): Element {
  return parseXml(`<iq type="set" id="1"><jingle xmlns="urn:xmpp:jingle:1" ${attrs}>${inner}</jingle></iq>`);
}

function parseError(el: Element): JingleParseError {
  try {
    parseJingle(el);
  } catch (err) {
    if (err instanceof JingleParseError) return err;
    throw err;
  }
  throw new Error('parseJingle() did not throw');
}

describe('parseJingle() on the PROTOCOL §4.5 session-initiate', () => {
  const j = parseJingle(loadFixture('session-initiate.xml'));

  it('reads the jingle attributes, BUNDLE group and bridge-session', () => {
    expect(j.action).toBe('session-initiate');
    expect(j.sid).toBe('9rk4s0ggv7sm');
    expect(j.initiator).toBe('focus@auth.meet.jitsi/focus');
    expect(j.responder).toBeUndefined();
    expect(j.group).toEqual({ semantics: 'BUNDLE', contents: ['audio', 'video'] });
    expect(j.bridgeSession).toEqual({ id: 'a4b1c9d2-6f0e-4e51-9b2a-3c7d8e9f0a1b' });
    expect(j.extensions).toBeUndefined();
    expect(j.contents.map((c) => [c.name, c.creator, c.senders])).toEqual([
      ['audio', 'initiator', 'both'],
      ['video', 'initiator', 'both'],
    ]);
  });

  it('reads the audio description: codecs, header extensions, sources with owner and msid', () => {
    const d = j.contents[0]?.description;
    expect(d?.media).toBe('audio');
    expect(d?.maxptime).toBe(60);
    expect(d?.rtcpMux).toBe(true);
    expect(d?.extmapAllowMixed).toBe(true);
    expect(d?.payloadTypes).toEqual([
      {
        id: 111,
        name: 'opus',
        clockrate: 48000,
        channels: 2,
        parameters: [
          { name: 'minptime', value: '10' },
          { name: 'useinbandfec', value: '1' },
        ],
        rtcpFbs: [],
      },
      { id: 126, name: 'telephone-event', clockrate: 8000, parameters: [], rtcpFbs: [] },
    ]);
    expect(d?.rtpHdrExts).toEqual([{ id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }]);
    expect(d?.sources).toEqual([
      { ssrc: 3191927963, name: 'jvb-a0', owner: 'jvb', msid: 'mixedmslabel mixedlabelaudio0', parameters: [] },
      {
        ssrc: 1130921544,
        name: '3f2a9c1e-a0',
        owner: '3f2a9c1e',
        msid: 'd2c4f0a1-audio-1-1 0c6d2b1e-9a7f-4f8e-8a31-2f9d5e7c6b40-1',
        parameters: [],
      },
      {
        ssrc: 884312559,
        name: '9c1d0e2f-a0',
        owner: '9c1d0e2f',
        msid: '51b0e7aa-audio-1-1 93e2c4d1-0b7e-4c2a-9d6f-7a1e3b5c9d02-1',
        parameters: [],
      },
    ]);
    expect(d?.ssrcGroups).toEqual([]);
  });

  it('reads the video description: rtcp-fb per payload type, RTX apt, videoType and the FID group', () => {
    const d = j.contents[1]?.description;
    expect(d?.media).toBe('video');
    expect(d?.maxptime).toBeUndefined();
    expect(d?.payloadTypes.map((p) => [p.id, p.name, p.rtcpFbs.length])).toEqual([
      [100, 'VP8', 4],
      [96, 'rtx', 3],
    ]);
    expect(d?.payloadTypes[0]?.rtcpFbs).toEqual([
      { type: 'ccm', subtype: 'fir' },
      { type: 'nack' },
      { type: 'nack', subtype: 'pli' },
      { type: 'goog-remb' },
    ]);
    expect(d?.payloadTypes[1]?.parameters).toEqual([{ name: 'apt', value: '100' }]);
    expect(d?.rtpHdrExts).toEqual([]);
    expect(d?.sources.map((s) => [s.ssrc, s.name, s.videoType, s.owner])).toEqual([
      [1863439907, 'jvb-v0', undefined, 'jvb'],
      [2005163093, '3f2a9c1e-v0', 'camera', '3f2a9c1e'],
      [1787655310, '3f2a9c1e-v0', 'camera', '3f2a9c1e'],
    ]);
    expect(d?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [2005163093, 1787655310] }]);
  });

  it('reads the bridge transport: ufrag/pwd, rtcp-mux, fingerprint, candidate, web-socket', () => {
    for (const c of j.contents) {
      expect(c.transport).toEqual({
        ufrag: '26ant1ioqu7qnr',
        pwd: '9q8uj7tg6j4rc4i6ulc1pmsq9',
        rtcpMux: true,
        fingerprints: [
          {
            hash: 'sha-256',
            setup: 'actpass',
            value:
              'F1:05:72:F8:F3:F4:B4:65:5B:9A:FC:81:24:11:23:78:D5:42:54:B1:F2:66:2F:82:CC:2B:01:1C:DB:98:BE:C0',
          },
        ],
        candidates: [
          {
            component: 1,
            foundation: '1',
            generation: 0,
            id: 'c1',
            network: 0,
            protocol: 'udp',
            ip: '192.0.2.10',
            port: 10000,
            priority: 2130706431,
            type: 'host',
          },
        ],
        webSockets: [
          {
            url: 'wss://meet.jitsi/colibri-ws/default-id/7e441eda3701676e/5b7e1a44?pwd=hT3kQ9zLm2Rx8VbN4cWp7sYd',
          },
        ],
      });
    }
  });

  it('parse → serialize → parse gives the same model', () => {
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('serializeJingle() reproduces the §4.5 XML structurally (elements, order, attributes, namespaces, text)', () => {
    const expected = jingleOf(loadFixture('session-initiate.xml'));
    expect(normalize(wire(j))).toEqual(normalize(expected));
  });

  it('serializeJingle() declares every namespace change on the element itself and uses no prefixes', () => {
    const el = wire(j);
    expectExplicitNamespaces(el);
    expect(el.attrs.xmlns).toBe(NS_JINGLE);
    const desc = elements(elements(el)[0] as Element).find((c) => c.name === 'description') as Element;
    expect(desc.attrs.xmlns).toBe(NS_JINGLE_RTP);
    const byName = (root: Element, name: string): Element[] => {
      const out: Element[] = [];
      const walk = (e: Element): void => {
        if (e.name === name) out.push(e);
        elements(e).forEach(walk);
      };
      walk(root);
      return out;
    };
    const expectNs = (name: string, ns: string): void => {
      const found = byName(el, name).filter((e) => !(name === 'source' && e.parent?.name === 'ssrc-group'));
      expect(found.length).toBeGreaterThan(0);
      for (const e of found) expect(e.attrs.xmlns).toBe(ns);
    };
    expectNs('transport', NS_JINGLE_ICE_UDP);
    expectNs('fingerprint', NS_JINGLE_DTLS);
    expectNs('source', NS_JINGLE_RTP_SSMA);
    expectNs('ssrc-group', NS_JINGLE_RTP_SSMA);
    expectNs('ssrc-info', NS_JITSI_MEET);
    expectNs('rtcp-fb', NS_JINGLE_RTP_RTCP_FB);
    expectNs('rtp-hdrext', NS_JINGLE_RTP_HDREXT);
    expectNs('extmap-allow-mixed', NS_JINGLE_RTP_HDREXT);
    expectNs('web-socket', NS_JITSI_COLIBRI);
    expectNs('bridge-session', NS_JITSI_FOCUS);
  });
});

describe('parseJingle() on the PROTOCOL §4.6 session-accept (as LJM sends it)', () => {
  const j = parseJingle(loadFixture('session-accept.xml'));
  const audio = j.contents.find((c) => c.name === 'audio');
  const video = j.contents.find((c) => c.name === 'video');

  it('reads responder, creator=responder and the BUNDLE group listing data without a data content', () => {
    expect(j.action).toBe('session-accept');
    expect(j.sid).toBe('9rk4s0ggv7sm');
    expect(j.initiator).toBe('room1@conference.meet.jitsi/focus');
    expect(j.responder).toBe('5b7e1a44-7c2d-4a8f-b1e0-3d9f2c6a1b77@meet.jitsi/M3tQx8ZB');
    expect(j.group).toEqual({ semantics: 'BUNDLE', contents: ['audio', 'video', 'data'] });
    expect(j.contents.map((c) => [c.name, c.creator, c.senders])).toEqual([
      ['audio', 'responder', 'both'],
      ['video', 'responder', 'both'],
    ]);
    expect(j.bridgeSession).toBeUndefined();
  });

  it('reads the client sources without owner, with msid and videoType', () => {
    expect(audio?.description?.sources).toEqual([
      { ssrc: 412883192, name: '5b7e1a44-a0', msid: 'a9f1c3e0-audio-1-1 27c0…-1', parameters: [] },
    ]);
    const vs = video?.description?.sources ?? [];
    expect(vs.map((s) => s.ssrc)).toEqual([1600000001, 1600000002, 1600000003, 1700000001, 1700000002, 1700000003]);
    for (const s of vs) {
      expect(s).toMatchObject({ name: '5b7e1a44-v0', videoType: 'camera', msid: 'a9f1c3e0-video-1-1 0f4e…-1' });
      expect(s.owner).toBeUndefined();
    }
  });

  it('reads SIM and FID groups (group members carry no xmlns of their own)', () => {
    expect(video?.description?.ssrcGroups).toEqual([
      { semantics: 'SIM', ssrcs: [1600000001, 1600000002, 1600000003] },
      { semantics: 'FID', ssrcs: [1600000001, 1700000001] },
      { semantics: 'FID', ssrcs: [1600000002, 1700000002] },
      { semantics: 'FID', ssrcs: [1600000003, 1700000003] },
    ]);
  });

  it('reads rtcp-fb, RTX apt, header extensions, extmap-allow-mixed and rtcp-mux after the sources', () => {
    const [vp8, rtx] = video?.description?.payloadTypes ?? [];
    expect(vp8?.rtcpFbs.map((f) => `${f.type}${f.subtype ? ` ${f.subtype}` : ''}`)).toEqual([
      'ccm fir',
      'nack',
      'nack pli',
      'goog-remb',
    ]);
    expect(rtx).toMatchObject({ id: 96, name: 'rtx', parameters: [{ name: 'apt', value: '100' }] });
    expect(audio?.description?.rtpHdrExts).toEqual([{ id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }]);
    expect(audio?.description?.extmapAllowMixed).toBe(true);
    expect(audio?.description?.rtcpMux).toBe(true);
    expect(video?.description?.rtcpMux).toBe(true);
    expect(video?.description?.extmapAllowMixed).toBe(false);
  });

  it('reads the client transport: ufrag/pwd, fingerprint setup=active, no candidates', () => {
    for (const c of [audio, video]) {
      expect(c?.transport).toEqual({
        ufrag: 'Yq3m',
        pwd: 'Rz0b2oY8vI0mN5dJ7qK1pL4c',
        fingerprints: [{ hash: 'sha-256', setup: 'active', value: '3C:7A:…:9E' }],
        candidates: [],
        rtcpMux: false,
        webSockets: [],
      });
    }
  });

  it('round-trips', () => {
    expect(parseJingle(wire(j))).toEqual(j);
  });
});

describe('source-add / source-remove', () => {
  it('parses the §4.7 focus → client source-add: no creator, no initiator, owners, FID only', () => {
    const j = parseJingle(loadFixture('source-add-to-client.xml'));
    expect(j.action).toBe('source-add');
    expect(j.initiator).toBeUndefined();
    expect(j.contents.map((c) => [c.name, c.creator])).toEqual([
      ['audio', undefined],
      ['video', undefined],
    ]);
    const v = j.contents[1]?.description;
    expect(v?.sources.map((s) => [s.ssrc, s.owner])).toEqual([
      [1600000001, '5b7e1a44'],
      [1700000001, '5b7e1a44'],
    ]);
    expect(v?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [1600000001, 1700000001] }]);
    expect(normalize(wire(j))).toEqual(normalize(jingleOf(loadFixture('source-add-to-client.xml'))));
  });

  it('parses the §4.7 client → focus source-add (desktop source with RTX)', () => {
    const j = parseJingle(loadFixture('source-add-from-client.xml'));
    expect(j.action).toBe('source-add');
    expect(j.initiator).toBe('room1@conference.meet.jitsi/focus');
    expect(j.contents).toHaveLength(1);
    expect(j.contents[0]?.description?.sources.map((s) => [s.ssrc, s.name, s.videoType])).toEqual([
      [1800000001, '5b7e1a44-v1', 'desktop'],
      [1900000001, '5b7e1a44-v1', 'desktop'],
    ]);
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('parses a source-remove listing name and SSRCs without groups', () => {
    const j = parseJingle(
      jingleXml(
        `<content name="video"><description xmlns="${NS_JINGLE_RTP}" media="video">` +
          `<source xmlns="${NS_JINGLE_RTP_SSMA}" ssrc="1800000001" name="5b7e1a44-v1"/>` +
          `<source xmlns="${NS_JINGLE_RTP_SSMA}" ssrc="1900000001" name="5b7e1a44-v1"/>` +
          `</description></content>`,
        'action="source-remove" sid="s1"',
      ),
    );
    expect(j.action).toBe('source-remove');
    expect(j.contents[0]?.description?.sources).toEqual([
      { ssrc: 1800000001, name: '5b7e1a44-v1', parameters: [] },
      { ssrc: 1900000001, name: '5b7e1a44-v1', parameters: [] },
    ]);
    expect(j.contents[0]?.description?.payloadTypes).toEqual([]);
    expect(parseJingle(wire(j))).toEqual(j);
  });
});

describe('transport-info, session-info, session-terminate', () => {
  it('parses an ICE-restart transport-info with ice-generation and srflx/relay/tcp candidates', () => {
    const j = parseJingle(
      jingleXml(
        `<content name="audio" creator="initiator">` +
          `<transport xmlns="${NS_JINGLE_ICE_UDP}" ufrag="u2" pwd="p2" ice-generation="1">` +
          `<candidate component="1" foundation="2" generation="1" id="x" network="1" protocol="udp" ip="198.51.100.7" ` +
          `port="50000" priority="1686052607" type="srflx" rel-addr="10.0.0.2" rel-port="50000"/>` +
          `<candidate component="1" foundation="3" protocol="tcp" ip="10.0.0.2" port="9" priority="1518280447" ` +
          `type="host" tcptype="active"/>` +
          `</transport></content>`,
        'action="transport-info" sid="s1"',
      ),
    );
    expect(j.contents[0]?.transport).toEqual({
      ufrag: 'u2',
      pwd: 'p2',
      iceGeneration: 1,
      fingerprints: [],
      rtcpMux: false,
      webSockets: [],
      candidates: [
        {
          component: 1,
          foundation: '2',
          generation: 1,
          id: 'x',
          network: 1,
          protocol: 'udp',
          ip: '198.51.100.7',
          port: 50000,
          priority: 1686052607,
          type: 'srflx',
          relAddr: '10.0.0.2',
          relPort: 50000,
        },
        {
          component: 1,
          foundation: '3',
          protocol: 'tcp',
          ip: '10.0.0.2',
          port: 9,
          priority: 1518280447,
          type: 'host',
          tcptype: 'active',
        },
      ],
    });
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it("parses the client's ICE-failure session-terminate: reason, text and bridge-session restart", () => {
    const j = parseJingle(
      jingleXml(
        `<reason><connectivity-error/><text>ICE FAILED</text></reason>` +
          `<bridge-session xmlns="${NS_JITSI_FOCUS}" id="a4b1" restart="true"/>`,
        'action="session-terminate" sid="s1"',
      ),
    );
    expect(j.reason).toEqual({ condition: 'connectivity-error', text: 'ICE FAILED' });
    expect(j.bridgeSession).toEqual({ id: 'a4b1', restart: true });
    expect(j.contents).toEqual([]);
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('serializes a focus → client session-terminate as <reason><expired/><text>…</text></reason>', () => {
    const el = serializeJingle({
      action: 'session-terminate',
      sid: 's1',
      contents: [],
      reason: { condition: 'expired', text: 'Idle session timeout' },
    });
    expect(normalize(el)).toEqual(
      normalize(
        parseXml(
          `<jingle xmlns="${NS_JINGLE}" action="session-terminate" sid="s1">` +
            '<reason><expired/><text>Idle session timeout</text></reason></jingle>',
        ),
      ),
    );
  });

  it('round-trips alternative-session with its sid', () => {
    const j = parseJingle(
      jingleXml('<reason><alternative-session><sid>b494debe</sid></alternative-session></reason>'),
    );
    expect(j.reason).toEqual({ condition: 'alternative-session', alternativeSid: 'b494debe' });
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('parses the in-place ICE restart session-info (bridge-session ice-restart)', () => {
    const j = parseJingle(jingleXml(`<bridge-session xmlns="${NS_JITSI_FOCUS}" ice-restart="true" id="a4b1"/>`));
    expect(j.action).toBe('session-info');
    expect(j.bridgeSession).toEqual({ id: 'a4b1', iceRestart: true });
  });

  it('keeps session-info payloads it does not model in extensions, and writes them back', () => {
    const j = parseJingle(jingleXml('<ice-state xmlns="http://jitsi.org/protocol/focus#ice">failed</ice-state>'));
    expect(j.extensions?.map((e) => [e.name, e.attrs.xmlns])).toEqual([['ice-state', 'http://jitsi.org/protocol/focus#ice']]);
    const again = wire(j);
    expect(elements(again).map((e) => e.name)).toEqual(['ice-state']);
  });
});

describe('compact JSON sources (<json-message>, PROTOCOL §4.4.3)', () => {
  const body =
    '{"sources":{' +
    '"jvb":[[{"s":1863439907,"n":"jvb-v0","m":"mixedmslabel mixedlabelvideo0"}],[],' +
    '[{"s":3191927963,"n":"jvb-a0","m":"mixedmslabel mixedlabelaudio0"}]],' +
    '"3f2a9c1e":[[{"s":2005163093,"n":"3f2a9c1e-v0","m":"7a3e0c61-video-1-1 4f7b-1"},' +
    '{"s":1787655310,"n":"3f2a9c1e-v0","m":"7a3e0c61-video-1-1 4f7b-1"}],' +
    '[["f",2005163093,1787655310]],' +
    '[{"s":1130921544,"n":"3f2a9c1e-a0","m":"d2c4f0a1-audio-1-1 a1b2-1"}]],' +
    '"12345678":[[{"s":7,"n":"12345678-v1","v":"d"}],[],[]]' +
    '}}';

  it('parses owners (numeric-looking ids first, as JSON.parse and LJM order them), sources, groups and desktop', () => {
    const j = parseJingle(jingleXml(`<json-message xmlns="${NS_JITSI_MEET}">${body}</json-message>`, 'action="source-add" sid="s"'));
    const js = j.jsonSources;
    expect([...(js?.keys() ?? [])]).toEqual(['12345678', 'jvb', '3f2a9c1e']);
    expect(js?.get('3f2a9c1e')).toEqual({
      video: [
        { ssrc: 2005163093, name: '3f2a9c1e-v0', msid: '7a3e0c61-video-1-1 4f7b-1' },
        { ssrc: 1787655310, name: '3f2a9c1e-v0', msid: '7a3e0c61-video-1-1 4f7b-1' },
      ],
      videoGroups: [{ semantics: 'FID', ssrcs: [2005163093, 1787655310] }],
      audio: [{ ssrc: 1130921544, name: '3f2a9c1e-a0', msid: 'd2c4f0a1-audio-1-1 a1b2-1' }],
      audioGroups: [],
    });
    expect(js?.get('12345678')?.video).toEqual([{ ssrc: 7, name: '12345678-v1', desktop: true }]);
  });

  it('serializes as Jicofo does (owners in Map order, no empty 4th array) and round-trips', () => {
    const parsed = parseJsonMessage(body);
    expect(parsed).toBeDefined();
    if (!parsed) return;
    const reordered = new Map([...parsed].sort(([a], [b]) => (a === '12345678' ? 1 : b === '12345678' ? -1 : 0)));
    expect(serializeJsonSources(reordered)).toBe(body);
    const j: Jingle = { action: 'source-add', sid: 's', contents: [], jsonSources: parsed };
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('expands to standard contents as LJM does (owner set, video defaults to camera)', () => {
    const parsed = parseJsonMessage(body);
    const contents = parsed ? expandJsonSources(parsed) : [];
    expect(contents.map((c) => c.name)).toEqual(['audio', 'video']);
    const video = contents[1]?.description;
    expect(video?.sources.map((s) => [s.ssrc, s.owner, s.videoType])).toEqual([
      [7, '12345678', 'desktop'],
      [1863439907, 'jvb', 'camera'],
      [2005163093, '3f2a9c1e', 'camera'],
      [1787655310, '3f2a9c1e', 'camera'],
    ]);
    expect(video?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [2005163093, 1787655310] }]);
  });

  it('keeps a json-message without sources as an extension (another message type)', () => {
    const j = parseJingle(jingleXml(`<json-message xmlns="${NS_JITSI_MEET}">{"type":"other"}</json-message>`));
    expect(j.jsonSources).toBeUndefined();
    expect(j.extensions?.map((e) => e.name)).toEqual(['json-message']);
  });
});

describe('leniency where LJM is sloppy', () => {
  it('accepts inherited namespaces, a transport without xmlns and rtcp-mux by name', () => {
    const j = parseJingle(
      jingleXml(
        `<content name="video"><description xmlns="${NS_JINGLE_RTP}" media="video">` +
          '<payload-type id="100" name="VP8" clockrate="90000"><parameter name="x-google-start-bitrate" value="800"/></payload-type>' +
          '<rtcp-mux/></description>' +
          `<transport ufrag="u" pwd="p"><fingerprint xmlns="${NS_JINGLE_DTLS}" hash="sha-256">AA:BB</fingerprint></transport>` +
          '</content>',
        'action="session-accept" sid="s"',
      ),
    );
    expect(j.contents[0]?.description?.rtcpMux).toBe(true);
    expect(j.contents[0]?.transport?.ufrag).toBe('u');
    expect(j.contents[0]?.transport?.fingerprints).toEqual([{ hash: 'sha-256', value: 'AA:BB' }]);
  });

  it('keeps value-only parameters (RED 111/111), description-level rtcp-fb and trr-int, hdrext senders', () => {
    const j = parseJingle(
      jingleXml(
        `<content name="audio"><description xmlns="${NS_JINGLE_RTP}" media="audio">` +
          '<payload-type id="112" name="red" clockrate="48000" channels="2"><parameter value="111/111"/></payload-type>' +
          `<rtcp-fb xmlns="${NS_JINGLE_RTP_RTCP_FB}" type="nack"/>` +
          `<rtcp-fb-trr-int xmlns="${NS_JINGLE_RTP_RTCP_FB}" value="100"/>` +
          `<rtp-hdrext xmlns="${NS_JINGLE_RTP_HDREXT}" id="5" uri="urn:x" senders="initiator"/>` +
          '</description></content>',
        'action="session-accept" sid="s"',
      ),
    );
    const d = j.contents[0]?.description;
    expect(d?.payloadTypes[0]?.parameters).toEqual([{ value: '111/111' }]);
    expect(d?.rtcpFbs).toEqual([{ type: 'nack' }]);
    expect(d?.rtcpFbTrrInt).toBe(100);
    expect(d?.rtpHdrExts).toEqual([{ id: 5, uri: 'urn:x', senders: 'initiator' }]);
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('skips rid-only sources and elements in unknown namespaces; takes media from the content name', () => {
    const j = parseJingle(
      jingleXml(
        `<content name="video"><description xmlns="${NS_JINGLE_RTP}">` +
          `<source xmlns="${NS_JINGLE_RTP_SSMA}" rid="1"/>` +
          '<source xmlns="urn:example" ssrc="5"/>' +
          `<source xmlns="${NS_JINGLE_RTP_SSMA}" ssrc="6" name="a-v0"><parameter name="cname" value="c"/>` +
          '<ssrc-info xmlns="urn:example" owner="nope"/></source>' +
          '</description><unknown xmlns="urn:example"/></content>',
        'action="source-add" sid="s"',
      ),
    );
    expect(j.contents[0]?.description?.media).toBe('video');
    expect(j.contents[0]?.description?.sources).toEqual([
      { ssrc: 6, name: 'a-v0', parameters: [{ name: 'cname', value: 'c' }] },
    ]);
  });

  it('accepts P2P contents named by SDP mid (PROTOCOL §8) and takes their media from the description', () => {
    const j = parseJingle(
      jingleXml(
        `<content name="0" creator="initiator"><description xmlns="${NS_JINGLE_RTP}" media="audio"/></content>` +
          `<content name="1" creator="initiator"><description xmlns="${NS_JINGLE_RTP}" media="video"/></content>`,
        'action="session-initiate" sid="p2p1"',
      ),
    );
    expect(j.contents.map((c) => [c.name, c.description?.media])).toEqual([['0', 'audio'], ['1', 'video']]);
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('accepts the <jingle> element itself, and a data content with sctpmap', () => {
    const el = parseXml(
      `<jingle xmlns="${NS_JINGLE}" action="session-initiate" sid="s"><content name="data" creator="initiator">` +
        `<description xmlns="${NS_JINGLE_RTP}" media="application"/>` +
        `<transport xmlns="${NS_JINGLE_ICE_UDP}" ufrag="u" pwd="p">` +
        '<sctpmap xmlns="urn:xmpp:jingle:transports:dtls-sctp:1" number="5000" protocol="webrtc-datachannel" streams="1024"/>' +
        '</transport></content></jingle>',
    );
    const j = parseJingle(el);
    expect(j.contents[0]?.description?.media).toBe('application');
    expect(j.contents[0]?.transport?.sctpmap).toEqual({ number: 5000, protocol: 'webrtc-datachannel', streams: 1024 });
    expect(parseJingle(wire(j))).toEqual(j);
  });

  it('reads initial-last-n inside a content', () => {
    const j = parseJingle(
      jingleXml('<content name="video"><initial-last-n xmlns="jitsi:colibri2" value="5"/></content>', 'action="session-accept" sid="s"'),
    );
    expect(j.contents[0]?.initialLastN).toBe(5);
    expect(parseJingle(wire(j))).toEqual(j);
  });
});

describe('parseJingle() on malformed input throws JingleParseError', () => {
  const src = (inner: string): string =>
    `<content name="video"><description xmlns="${NS_JINGLE_RTP}" media="video">${inner}</description></content>`;
  const tr = (inner: string): string => `<content name="audio"><transport xmlns="${NS_JINGLE_ICE_UDP}">${inner}</transport></content>`;
  const cand = (attrs: string): string =>
    tr(`<candidate component="1" foundation="1" protocol="udp" priority="1" ip="192.0.2.1" type="host" ${attrs}/>`);
  const cases: [string, Element, 'bad-request' | 'feature-not-implemented'][] = [
    ['no jingle child', parseXml('<iq type="set" id="1"><query xmlns="urn:example"/></iq>'), 'bad-request'],
    ['jingle in another namespace', parseXml('<iq type="set" id="1"><jingle xmlns="urn:xmpp:jingle:0" action="session-info" sid="s"/></iq>'), 'bad-request'],
    ['missing action', jingleXml('', 'sid="s1"'), 'bad-request'],
    ['empty action', jingleXml('', 'action="" sid="s1"'), 'bad-request'],
    ['missing sid', jingleXml('', 'action="session-info"'), 'bad-request'],
    ['unknown action', jingleXml('', 'action="session-explode" sid="s1"'), 'bad-request'],
    ['legacy addsource', jingleXml('', 'action="addsource" sid="s1"'), 'bad-request'],
    ['content-add', jingleXml('', 'action="content-add" sid="s1"'), 'feature-not-implemented'],
    ['description-info', jingleXml('', 'action="description-info" sid="s1"'), 'feature-not-implemented'],
    ['security-info', jingleXml('', 'action="security-info" sid="s1"'), 'feature-not-implemented'],
    ['content without name', jingleXml('<content creator="initiator"/>'), 'bad-request'],
    ['bad creator', jingleXml('<content name="audio" creator="nobody"/>'), 'bad-request'],
    ['bad senders', jingleXml('<content name="audio" senders="all"/>'), 'bad-request'],
    ['bad description media', jingleXml(`<content name="audio"><description xmlns="${NS_JINGLE_RTP}" media="text"/></content>`), 'bad-request'],
    ['ssrc not a number', jingleXml(src(`<source xmlns="${NS_JINGLE_RTP_SSMA}" ssrc="abc"/>`)), 'bad-request'],
    ['negative ssrc', jingleXml(src(`<source xmlns="${NS_JINGLE_RTP_SSMA}" ssrc="-1"/>`)), 'bad-request'],
    ['ssrc ≥ 2^32', jingleXml(src(`<source xmlns="${NS_JINGLE_RTP_SSMA}" ssrc="4294967296"/>`)), 'bad-request'],
    ['fractional ssrc', jingleXml(src(`<source xmlns="${NS_JINGLE_RTP_SSMA}" ssrc="1.5"/>`)), 'bad-request'],
    ['source without ssrc', jingleXml(src(`<source xmlns="${NS_JINGLE_RTP_SSMA}" name="x"/>`)), 'bad-request'],
    ['group member ssrc hex', jingleXml(src(`<ssrc-group xmlns="${NS_JINGLE_RTP_SSMA}" semantics="FID"><source ssrc="0x10"/></ssrc-group>`)), 'bad-request'],
    ['group without semantics', jingleXml(src(`<ssrc-group xmlns="${NS_JINGLE_RTP_SSMA}"><source ssrc="1"/></ssrc-group>`)), 'bad-request'],
    ['payload type id 128', jingleXml(src('<payload-type id="128" name="x" clockrate="90000"/>')), 'bad-request'],
    ['payload type without name', jingleXml(src('<payload-type id="100" clockrate="90000"/>')), 'bad-request'],
    ['payload type channels 0', jingleXml(src('<payload-type id="100" name="x" channels="0"/>')), 'bad-request'],
    ['rtcp-fb without type', jingleXml(src(`<payload-type id="100" name="x"><rtcp-fb xmlns="${NS_JINGLE_RTP_RTCP_FB}"/></payload-type>`)), 'bad-request'],
    ['hdrext id 0', jingleXml(src(`<rtp-hdrext xmlns="${NS_JINGLE_RTP_HDREXT}" id="0" uri="urn:x"/>`)), 'bad-request'],
    ['hdrext without uri', jingleXml(src(`<rtp-hdrext xmlns="${NS_JINGLE_RTP_HDREXT}" id="1"/>`)), 'bad-request'],
    ['maxptime blank', jingleXml(`<content name="audio"><description xmlns="${NS_JINGLE_RTP}" media="audio" maxptime=" "/></content>`), 'bad-request'],
    ['fingerprint without hash', jingleXml(tr(`<fingerprint xmlns="${NS_JINGLE_DTLS}" setup="active">AA</fingerprint>`)), 'bad-request'],
    ['fingerprint without value', jingleXml(tr(`<fingerprint xmlns="${NS_JINGLE_DTLS}" hash="sha-256"> </fingerprint>`)), 'bad-request'],
    ['fingerprint bad setup', jingleXml(tr(`<fingerprint xmlns="${NS_JINGLE_DTLS}" hash="sha-256" setup="server">AA</fingerprint>`)), 'bad-request'],
    ['candidate without port', jingleXml(cand('')), 'bad-request'],
    ['candidate port 70000', jingleXml(cand('port="70000"')), 'bad-request'],
    ['candidate component 0', jingleXml(cand('port="1"').replace('component="1"', 'component="0"')), 'bad-request'],
    ['candidate bad type', jingleXml(cand('port="1"').replace('type="host"', 'type="lan"')), 'bad-request'],
    ['candidate bad rel-port', jingleXml(cand('port="1" rel-port="x"')), 'bad-request'],
    ['ice-generation not a number', jingleXml(`<content name="audio"><transport xmlns="${NS_JINGLE_ICE_UDP}" ice-generation="one"/></content>`), 'bad-request'],
    ['web-socket without url', jingleXml(tr(`<web-socket xmlns="${NS_JITSI_COLIBRI}"/>`)), 'bad-request'],
    ['initial-last-n not a number', jingleXml('<content name="video"><initial-last-n xmlns="jitsi:colibri2" value="-1"/></content>'), 'bad-request'],
    ['bridge-session without id', jingleXml(`<bridge-session xmlns="${NS_JITSI_FOCUS}" restart="true"/>`), 'bad-request'],
    ['bridge-session bad boolean', jingleXml(`<bridge-session xmlns="${NS_JITSI_FOCUS}" id="x" restart="yes"/>`), 'bad-request'],
    ['group without semantics (BUNDLE)', jingleXml('<group xmlns="urn:xmpp:jingle:apps:grouping:0"><content name="audio"/></group>'), 'bad-request'],
    ['reason without condition', jingleXml('<reason><text>why</text></reason>'), 'bad-request'],
    ['content name with spaces', jingleXml('<content name="a b"/>'), 'bad-request'],
    ['P2P content (mid name) whose description has no media', jingleXml(`<content name="0"><description xmlns="${NS_JINGLE_RTP}"/></content>`), 'bad-request'],
    ['reason with unknown condition', jingleXml('<reason><exploded/></reason>'), 'bad-request'],
    ['json-message not JSON', jingleXml(`<json-message xmlns="${NS_JITSI_MEET}">{sources:</json-message>`), 'bad-request'],
    ['json sources not an object', jingleXml(`<json-message xmlns="${NS_JITSI_MEET}">{"sources":[1]}</json-message>`), 'bad-request'],
    ['json source ssrc invalid', jingleXml(`<json-message xmlns="${NS_JITSI_MEET}">{"sources":{"a":[[{"s":-4}]]}}</json-message>`), 'bad-request'],
    ['json group semantics unknown', jingleXml(`<json-message xmlns="${NS_JITSI_MEET}">{"sources":{"a":[[],[["x",1,2]]]}}</json-message>`), 'bad-request'],
    ['json entry too long', jingleXml(`<json-message xmlns="${NS_JITSI_MEET}">{"sources":{"a":[[],[],[],[],[]]}}</json-message>`), 'bad-request'],
  ];

  it.each(cases)('%s → %s', (_name, el, condition) => {
    const err = parseError(el);
    expect(err).toBeInstanceOf(JingleParseError);
    expect(err.code).toBe('jingle-parse');
    expect(err.condition).toBe(condition);
  });

  it('toStanzaError() gives the stanza condition, its default type and the text', () => {
    const err = parseError(jingleXml('', 'action="session-explode" sid="s1"'));
    const se = err.toStanzaError();
    expect(se.condition).toBe('bad-request');
    expect(se.type).toBe('modify');
    expect(se.text).toContain('session-explode');
    const fni = parseError(jingleXml('', 'action="content-add" sid="s1"')).toStanzaError();
    expect(fni.condition).toBe('feature-not-implemented');
    expect(fni.type).toBe('cancel');
  });

  it('toStanzaError() adds a Jingle-specific condition when there is one', () => {
    const err = new JingleParseError('feature-not-implemented', 'unknown info', { jingleCondition: 'unsupported-info' });
    const el = err.toStanzaError().toElement();
    const app = elements(el).find((e) => e.name === 'unsupported-info');
    expect(app?.attrs.xmlns).toBe('urn:xmpp:jingle:errors:1');
  });
});
