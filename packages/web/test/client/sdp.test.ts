/** Jingle ⇄ SDP for the bridge session (client/src/conference/sdp.ts), against PROTOCOL §4.4–§4.7, §4.11, §7.1. */
import * as sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import type { Content, Jingle, RtpDescription, Source } from '@jitsi-one/focus';
import {
  RemoteDescription,
  addSimulcast,
  answerToContents,
  diffLocalSources,
  remoteSourcesOf,
} from '../../client/src/conference/sdp.js';

const transport = {
  ufrag: 'bridgeufrag',
  pwd: 'bridgepwd0123456789abcdef',
  fingerprints: [{ hash: 'sha-256', value: 'AA:BB:CC', setup: 'actpass' as const }],
  candidates: [{ foundation: '1', component: 1, protocol: 'udp', priority: 2130706431, ip: '127.0.0.1', port: 10000, type: 'host', generation: 0 }],
  rtcpMux: true,
  webSockets: [{ url: 'ws://127.0.0.1:1/colibri-ws/default-id/c/ep?pwd=x' }],
};

function src(ssrc: number, name: string, owner: string, msid: string, videoType?: string): Source {
  return { ssrc, name, owner, msid, parameters: [], ...(videoType !== undefined ? { videoType } : {}) };
}

function description(media: 'audio' | 'video', sources: Source[], ssrcGroups: RtpDescription['ssrcGroups'] = []): RtpDescription {
  return {
    media,
    payloadTypes:
      media === 'audio'
        ? [{ id: 111, name: 'opus', clockrate: 48000, channels: 2, parameters: [{ name: 'minptime', value: '10' }, { name: 'useinbandfec', value: '1' }], rtcpFbs: [] }]
        : [
            { id: 100, name: 'VP8', clockrate: 90000, parameters: [], rtcpFbs: [{ type: 'nack' }, { type: 'nack', subtype: 'pli' }, { type: 'ccm', subtype: 'fir' }] },
            { id: 96, name: 'rtx', clockrate: 90000, parameters: [{ name: 'apt', value: '100' }], rtcpFbs: [] },
          ],
    rtcpFbs: [],
    rtpHdrExts: media === 'audio' ? [{ id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }] : [],
    extmapAllowMixed: true,
    rtcpMux: true,
    sources,
    ssrcGroups,
  };
}

/** A session-initiate like the §4.5 example: bridge placeholders plus participant `aaaa1111` (mic + camera with RTX). */
function offer(): Jingle {
  return {
    action: 'session-initiate',
    sid: 's1',
    contents: [
      {
        name: 'audio',
        creator: 'initiator',
        senders: 'both',
        description: description('audio', [src(11, 'jvb-a0', 'jvb', 'mixedmslabel mixedlabelaudio0'), src(21, 'aaaa1111-a0', 'aaaa1111', 'sa ta')]),
        transport,
      },
      {
        name: 'video',
        creator: 'initiator',
        senders: 'both',
        description: description(
          'video',
          [src(12, 'jvb-v0', 'jvb', 'mixedmslabel mixedlabelvideo0'), src(22, 'aaaa1111-v0', 'aaaa1111', 'sv tv', 'camera'), src(23, 'aaaa1111-v0', 'aaaa1111', 'sv tv', 'camera')],
          [{ semantics: 'FID', ssrcs: [22, 23] }],
        ),
        transport,
      },
    ],
    group: { semantics: 'BUNDLE', contents: ['audio', 'video'] },
  };
}

const parse = (sdp: string): sdpTransform.SessionDescription => sdpTransform.parse(sdp);

describe('RemoteDescription', () => {
  it('toSdp() puts the placeholders on sendrecv m-lines and each remote source on its own sendonly m-line, all BUNDLEd (§4.11)', () => {
    const sdp = parse(new RemoteDescription(offer(), '42').toSdp());
    expect(sdp.groups).toEqual([{ type: 'BUNDLE', mids: '0 1 2 3' }]);
    expect(sdp.media.map((m) => [String(m.mid), m.type, m.direction, m.port])).toEqual([
      ['0', 'audio', 'sendrecv', 9],
      ['1', 'video', 'sendrecv', 9],
      ['2', 'audio', 'sendonly', 9],
      ['3', 'video', 'sendonly', 9],
    ]);
    for (const m of sdp.media) {
      expect(m.iceUfrag).toBe('bridgeufrag');
      expect(m.fingerprint).toEqual({ type: 'sha-256', hash: 'AA:BB:CC' });
      expect(m.setup).toBe('actpass');
      expect(m.rtcpMux).toBe('rtcp-mux');
      expect(m.candidates?.[0]).toMatchObject({ ip: '127.0.0.1', port: 10000, type: 'host', transport: 'udp' });
    }
    const [a0, v0, a1, v1] = sdp.media;
    expect(a0?.rtp).toEqual([{ payload: 111, codec: 'opus', rate: 48000, encoding: 2 }]);
    expect(a0?.fmtp).toEqual([{ payload: 111, config: 'minptime=10;useinbandfec=1' }]);
    expect(a0?.ext).toEqual([{ value: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }]);
    expect(a0?.ssrcs?.filter((s) => s.attribute === 'msid')).toEqual([{ id: 11, attribute: 'msid', value: 'mixedmslabel mixedlabelaudio0' }]);
    expect(v0?.rtcpFb?.filter((f) => f.payload === 100).map((f) => `${f.type} ${f.subtype ?? ''}`.trim())).toEqual(['nack', 'nack pli', 'ccm fir']);
    expect(a1?.ssrcs?.find((s) => s.attribute === 'msid')?.value).toBe('sa ta');
    expect(v1?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: '22 23' }]);
    expect(v1?.msid).toEqual([{ id: 'sv', appdata: 'tv' }]);
  });

  it('sourceOfMid() maps m-lines to remote sources; the placeholders map to none', () => {
    const r = new RemoteDescription(offer());
    expect(r.mainMid('audio')).toBe('0');
    expect(r.mainMid('video')).toBe('1');
    expect(r.sourceOfMid('0')).toBeUndefined();
    expect(r.sourceOfMid('3')).toMatchObject({ owner: 'aaaa1111', name: 'aaaa1111-v0', media: 'video', ssrcs: [22, 23] });
  });

  it('add() appends new m-lines and keeps the existing mids; a known source is ignored', () => {
    const r = new RemoteDescription(offer());
    const before = r.toSdp();
    expect(r.add(remoteSourcesOf(offer()))).toEqual([]);
    expect(r.toSdp()).toBe(before);
    const added = r.add([{ media: 'audio', name: 'bbbb2222-a0', owner: 'bbbb2222', ssrcs: [31], groups: [], msid: 'sb tb' }]);
    expect(added).toHaveLength(1);
    const sdp = parse(r.toSdp());
    expect(sdp.media.map((m) => String(m.mid))).toEqual(['0', '1', '2', '3', '4']);
    expect(sdp.groups?.[0]?.mids).toBe('0 1 2 3 4');
    expect(sdp.origin.sessionVersion).toBe(2);
  });

  it('remove() rejects the m-line (port 0, inactive, out of BUNDLE) and never reuses it; removeOwner() drops all of an endpoint', () => {
    const r = new RemoteDescription(offer());
    expect(r.remove([{ media: 'video', name: 'aaaa1111-v0', owner: 'aaaa1111', ssrcs: [], groups: [] }]).map((s) => s.name)).toEqual(['aaaa1111-v0']);
    let sdp = parse(r.toSdp());
    expect(sdp.media[3]).toMatchObject({ mid: 3, port: 0, direction: 'inactive' });
    expect(sdp.media[3]?.ssrcs).toBeUndefined();
    expect(sdp.groups?.[0]?.mids).toBe('0 1 2');
    expect(r.removeOwner('aaaa1111').map((s) => s.name)).toEqual(['aaaa1111-a0']);
    r.add([{ media: 'video', name: 'aaaa1111-v0', owner: 'aaaa1111', ssrcs: [22, 23], groups: [{ semantics: 'FID', ssrcs: [22, 23] }], msid: 'sv tv' }]);
    sdp = parse(r.toSdp());
    expect(sdp.media.map((m) => [String(m.mid), m.port])).toEqual([['0', 9], ['1', 9], ['2', 0], ['3', 0], ['4', 9]]);
    expect(r.sources.map((s) => s.name)).toEqual(['aaaa1111-v0']);
  });

  it('addLocalMid() adds a recvonly m-line for a local screen share (LJM addMlineForNewSource); removeLocalMid() rejects it', () => {
    const r = new RemoteDescription(offer());
    const mid = r.addLocalMid('video');
    expect(mid).toBe('4');
    let sdp = parse(r.toSdp());
    expect(sdp.media[4]).toMatchObject({ type: 'video', mid: 4, port: 9, direction: 'recvonly' });
    expect(sdp.media[4]?.ssrcs).toBeUndefined();
    expect(sdp.groups?.[0]?.mids).toBe('0 1 2 3 4');
    expect(r.sourceOfMid(mid)).toBeUndefined();
    expect(r.sources.map((s) => s.name)).toEqual(['aaaa1111-a0', 'aaaa1111-v0']);
    r.removeLocalMid(mid);
    sdp = parse(r.toSdp());
    expect(sdp.media[4]).toMatchObject({ port: 0, direction: 'inactive' });
    expect(r.addLocalMid('video')).toBe('5');
  });

  it('a source whose SSRCs changed replaces the old one on a new m-line', () => {
    const r = new RemoteDescription(offer());
    r.add([{ media: 'audio', name: 'aaaa1111-a0', owner: 'aaaa1111', ssrcs: [99], groups: [], msid: 'sa ta' }]);
    const sdp = parse(r.toSdp());
    expect(sdp.media.map((m) => m.port)).toEqual([9, 9, 0, 9, 9]);
    expect(r.sources.map((s) => s.ssrcs)).toEqual([[22, 23], [99]]);
  });

  it('refuses an offer without ICE credentials or fingerprint', () => {
    const o = offer();
    for (const c of o.contents) if (c.transport) c.transport = { ...c.transport, fingerprints: [] };
    expect(() => new RemoteDescription(o)).toThrow(/fingerprint/);
  });
});

describe('remoteSourcesOf()', () => {
  it('reads standard and compact JSON sources, grouped by name, primary before RTX', () => {
    const j: Jingle = {
      action: 'source-add',
      sid: 's1',
      contents: [],
      jsonSources: new Map([
        ['cccc3333', { video: [{ ssrc: 41, name: 'cccc3333-v0', msid: 'a b' }, { ssrc: 42, name: 'cccc3333-v0', msid: 'a b' }], videoGroups: [{ semantics: 'FID', ssrcs: [41, 42] }], audio: [{ ssrc: 43, name: 'cccc3333-a0' }], audioGroups: [] }],
      ]),
    };
    expect(remoteSourcesOf(j)).toEqual([
      { media: 'audio', name: 'cccc3333-a0', owner: 'cccc3333', ssrcs: [43], groups: [] },
      { media: 'video', name: 'cccc3333-v0', owner: 'cccc3333', ssrcs: [41, 42], groups: [{ semantics: 'FID', ssrcs: [41, 42] }], msid: 'a b', videoType: 'camera' },
    ]);
  });

  it('keeps only the first layer and its RTX should a SIM group arrive (§4.4.2)', () => {
    const v = [1, 2, 3, 4, 5, 6].map((s) => src(s, 'dddd4444-v0', 'dddd4444', 'x y', 'camera'));
    const j: Jingle = {
      action: 'source-add',
      sid: 's1',
      contents: [{ name: 'video', description: description('video', v, [{ semantics: 'SIM', ssrcs: [1, 2, 3] }, { semantics: 'FID', ssrcs: [1, 4] }, { semantics: 'FID', ssrcs: [2, 5] }, { semantics: 'FID', ssrcs: [3, 6] }]) }],
    };
    expect(remoteSourcesOf(j).map((s) => [s.ssrcs, s.groups])).toEqual([[[1, 4], [{ semantics: 'FID', ssrcs: [1, 4] }]]]);
  });
});

/** What Chrome answers to the offer above (abridged to what matters). */
const CHROME_ANSWER = [
  'v=0',
  'o=- 123 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2 3',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS stream1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:myufrag',
  'a=ice-pwd:mypassword0123456789abcd',
  'a=fingerprint:sha-256 11:22:33',
  'a=setup:active',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendrecv',
  'a=msid:stream1 audiotrack',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=ssrc:1001 cname:abc',
  'a=ssrc:1001 msid:stream1 audiotrack',
  'm=video 9 UDP/TLS/RTP/SAVPF 100 96',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:myufrag',
  'a=ice-pwd:mypassword0123456789abcd',
  'a=fingerprint:sha-256 11:22:33',
  'a=setup:active',
  'a=mid:1',
  'a=sendrecv',
  'a=msid:stream1 videotrack',
  'a=rtcp-mux',
  'a=rtpmap:100 VP8/90000',
  'a=rtcp-fb:100 nack',
  'a=rtcp-fb:100 nack pli',
  'a=rtpmap:96 rtx/90000',
  'a=fmtp:96 apt=100',
  'a=ssrc-group:FID 2001 2002',
  'a=ssrc:2001 cname:abc',
  'a=ssrc:2001 msid:stream1 videotrack',
  'a=ssrc:2002 cname:abc',
  'a=ssrc:2002 msid:stream1 videotrack',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=mid:2',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 100 96',
  'c=IN IP4 0.0.0.0',
  'a=mid:3',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:100 VP8/90000',
  'a=rtpmap:96 rtx/90000',
  'a=fmtp:96 apt=100',
  '',
].join('\r\n');

const NAMES = new Map([
  ['0', { name: 'eeee5555-a0' }],
  ['1', { name: 'eeee5555-v0', videoType: 'camera' }],
]);

describe('answerToContents()', () => {
  it('builds the session-accept contents: codecs, header extensions, transport (setup active, no candidates), named sources (§4.6)', () => {
    const [audio, video] = answerToContents(CHROME_ANSWER, NAMES);
    expect(audio?.name).toBe('audio');
    expect(audio?.description?.payloadTypes).toEqual([
      { id: 111, name: 'opus', clockrate: 48000, channels: 2, parameters: [{ name: 'minptime', value: '10' }, { name: 'useinbandfec', value: '1' }], rtcpFbs: [] },
    ]);
    expect(audio?.description?.rtpHdrExts).toEqual([{ id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }]);
    expect(audio?.description?.sources).toEqual([{ ssrc: 1001, name: 'eeee5555-a0', msid: 'stream1 audiotrack', parameters: [] }]);
    expect(audio?.transport).toMatchObject({ ufrag: 'myufrag', pwd: 'mypassword0123456789abcd', fingerprints: [{ hash: 'sha-256', value: '11:22:33', setup: 'active' }], candidates: [] });
    expect(video?.description?.payloadTypes.map((p) => [p.id, p.name, p.parameters, p.rtcpFbs])).toEqual([
      [100, 'VP8', [], [{ type: 'nack' }, { type: 'nack', subtype: 'pli' }]],
      [96, 'rtx', [{ name: 'apt', value: '100' }], []],
    ]);
    expect(video?.description?.sources.map((s) => [s.ssrc, s.name, s.videoType, s.msid])).toEqual([
      [2001, 'eeee5555-v0', 'camera', 'stream1 videotrack'],
      [2002, 'eeee5555-v0', 'camera', 'stream1 videotrack'],
    ]);
    expect(video?.description?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [2001, 2002] }]);
    expect(video?.description?.extmapAllowMixed).toBe(true);
  });
});

describe('addSimulcast()', () => {
  const counter = (): (() => number) => {
    let n = 5000;
    return () => ++n;
  };

  it('turns the camera m-line into three SIM layers (browser SSRC lowest), each with an RTX partner, same cname and msid (§7.1)', () => {
    const { sdp, simulcast } = addSimulcast(CHROME_ANSWER, '1', undefined, counter());
    expect(simulcast).toEqual({ primaries: [2001, 5001, 5003], rtx: [2002, 5002, 5004] });
    const video = parse(sdp).media[1];
    expect(video?.ssrcGroups).toEqual([
      { semantics: 'SIM', ssrcs: '2001 5001 5003' },
      { semantics: 'FID', ssrcs: '2001 2002' },
      { semantics: 'FID', ssrcs: '5001 5002' },
      { semantics: 'FID', ssrcs: '5003 5004' },
    ]);
    for (const ssrc of [2001, 2002, 5001, 5002, 5003, 5004]) {
      expect(video?.ssrcs?.filter((s) => s.id === ssrc).map((s) => `${s.attribute}:${s.value ?? ''}`)).toEqual(['cname:abc', 'msid:stream1 videotrack']);
    }
    // The audio m-line is untouched.
    expect(parse(sdp).media[0]).toEqual(parse(CHROME_ANSWER).media[0]);
    // And the session-accept reads all six SSRCs with the groups.
    const contents = answerToContents(sdp, NAMES);
    expect(contents[1]?.description?.sources).toHaveLength(6);
    expect(contents[1]?.description?.ssrcGroups.map((g) => g.semantics)).toEqual(['SIM', 'FID', 'FID', 'FID']);
  });

  it('keeps the same layer SSRCs on renegotiation and leaves an m-line that already has SIM, or sends nothing, alone', () => {
    const first = addSimulcast(CHROME_ANSWER, '1', undefined, counter());
    const again = addSimulcast(CHROME_ANSWER, '1', first.simulcast, () => 1);
    expect(again.simulcast).toEqual(first.simulcast);
    expect(again.sdp).toBe(first.sdp);
    const munged = addSimulcast(first.sdp, '1', undefined, () => 1);
    expect(munged.sdp).toBe(first.sdp);
    expect(munged.simulcast).toEqual(first.simulcast);
    expect(addSimulcast(CHROME_ANSWER, '3', undefined)).toEqual({ sdp: CHROME_ANSWER, simulcast: undefined });
  });
});

describe('diffLocalSources()', () => {
  const names = NAMES;
  it('a camera turned on for the first time is a source-add of its sources and groups; nothing else changes', () => {
    const noVideo = CHROME_ANSWER.replace(/a=ssrc(-group)?:(FID 2001 2002|200[12] [^\r]*)\r\n/g, '');
    const before = answerToContents(noVideo, names);
    const after = answerToContents(addSimulcast(CHROME_ANSWER, '1', undefined).sdp, names);
    const diff = diffLocalSources(before, after);
    expect(diff.removed).toEqual([]);
    expect(diff.added.map((c: Content) => c.name)).toEqual(['video']);
    expect(diff.added[0]?.description?.sources).toHaveLength(6);
    expect(diff.added[0]?.description?.ssrcGroups.map((g) => g.semantics)).toEqual(['SIM', 'FID', 'FID', 'FID']);
    expect(diffLocalSources(after, after)).toEqual({ added: [], removed: [] });
    expect(diffLocalSources(after, before).removed.map((c) => c.name)).toEqual(['video']);
  });
});
