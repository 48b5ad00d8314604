/**
 * Jingle ⇄ SDP for the P2P session (client/src/conference/p2p-sdp.ts), against lib-jitsi-meet's P2P wire format
 * (PROTOCOL §8; LJM `SDP.toJingle` / `fromJingle` / `updateRemoteSources` with isP2P, `SDPUtil.candidateToJingle`).
 */
import * as sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { type Content, type Jingle, parseJingle, serializeJingle } from '@jitsi-one/focus';
import { xml } from '@jitsi-one/xmpp';
import {
  P2pRemoteDescription,
  candidateAttribute,
  candidateFromLine,
  diffP2pSources,
  directionOf,
  localP2pContents,
  sendersOf,
} from '../../client/src/conference/p2p-sdp.js';

/** What Chrome's createOffer gives for an audio and a video transceiver (sendrecv, RTX), trimmed. */
const CHROME_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS stream1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 network-id 1',
  'a=ice-ufrag:Ab12',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 AA:BB:CC:DD',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendrecv',
  'a=msid:stream1 track-a',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=ssrc:1001 cname:abc',
  'a=ssrc:1001 msid:stream1 track-a',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Ab12',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 AA:BB:CC:DD',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=sendrecv',
  'a=msid:stream1 track-v',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:96 ccm fir',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=ssrc-group:FID 2001 2002',
  'a=ssrc:2001 cname:abc',
  'a=ssrc:2001 msid:stream1 track-v',
  'a=ssrc:2002 cname:abc',
  'a=ssrc:2002 msid:stream1 track-v',
  '',
].join('\r\n');

const NAMES = new Map([
  ['0', { name: 'aaaa1111-a0' }],
  ['1', { name: 'aaaa1111-v0', videoType: 'camera' }],
]);

function initiate(contents: Content[]): Jingle {
  return { action: 'session-initiate', sid: 'p2psid', initiator: 'room@conference.d/aaaa1111', contents, group: { semantics: 'BUNDLE', contents: contents.map((c) => c.name) } };
}

describe('P2P Jingle from the local description (LJM SDP.toJingle, isP2P)', () => {
  it('one content per m-line named by mid, with creator, literal senders, sources, FID group, transport and BUNDLE group', () => {
    const { contents, group } = localP2pContents(CHROME_OFFER, 'initiator', NAMES);
    expect(contents.map((c) => [c.name, c.creator, c.senders, c.description?.media])).toEqual([
      ['0', 'initiator', 'both', 'audio'],
      ['1', 'initiator', 'both', 'video'],
    ]);
    expect(group).toEqual({ semantics: 'BUNDLE', contents: ['0', '1'] });
    const [audio, video] = contents as [Content, Content];
    expect(audio.description?.sources).toEqual([{ ssrc: 1001, name: 'aaaa1111-a0', msid: 'stream1 track-a', parameters: [] }]);
    expect(video.description?.sources.map((s) => [s.ssrc, s.name, s.videoType, s.msid])).toEqual([
      [2001, 'aaaa1111-v0', 'camera', 'stream1 track-v'],
      [2002, 'aaaa1111-v0', 'camera', 'stream1 track-v'],
    ]);
    expect(video.description?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [2001, 2002] }]);
    expect(video.description?.payloadTypes.map((p) => [p.id, p.name])).toEqual([[96, 'VP8'], [97, 'rtx']]);
    expect(video.description?.payloadTypes[0]?.rtcpFbs).toContainEqual({ type: 'nack', subtype: 'pli' });
    expect(audio.description?.rtpHdrExts).toEqual([{ id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }]);
    expect(audio.description?.rtcpMux).toBe(true);
    expect(audio.transport).toMatchObject({ ufrag: 'Ab12', pwd: 'abcdefghijklmnopqrstuvwx', fingerprints: [{ hash: 'sha-256', value: 'AA:BB:CC:DD', setup: 'actpass' }] });
    expect(audio.transport?.candidates).toEqual([expect.objectContaining({ ip: '127.0.0.1', port: 54321, type: 'host', protocol: 'udp', generation: 0 })]);
  });

  it('carries the SDP direction literally in senders, as LJM maps it both ways; a port-0 m-line is rejected', () => {
    expect((['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const).map(sendersOf)).toEqual(['both', 'initiator', 'responder', 'none']);
    expect((['both', 'initiator', 'responder', 'none', 'rejected', undefined] as const).map(directionOf)).toEqual(['sendrecv', 'sendonly', 'recvonly', 'inactive', undefined, undefined]);
    const sdp = CHROME_OFFER.replace('a=mid:1\r\na=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\na=sendrecv', 'a=mid:1\r\na=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\na=recvonly').replace('m=audio 9 ', 'm=audio 0 ');
    const { contents } = localP2pContents(sdp, 'responder', NAMES);
    expect(contents.map((c) => [c.creator, c.senders])).toEqual([['responder', 'rejected'], ['responder', 'responder']]);
  });

  it('serializes as LJM reads it: content 0 first, named sources with an msid parameter, grouping and transport namespaces', () => {
    const el = serializeJingle(initiate(localP2pContents(CHROME_OFFER, 'initiator', NAMES).contents));
    const contents = el.getChildren('content');
    expect(contents.map((c) => c.attrs.name)).toEqual(['0', '1']);
    const source = contents[1]?.getChild('description', 'urn:xmpp:jingle:apps:rtp:1')?.getChildren('source', 'urn:xmpp:jingle:apps:rtp:ssma:0')[0];
    expect(source?.attrs).toMatchObject({ ssrc: '2001', name: 'aaaa1111-v0', videoType: 'camera' });
    expect(source?.getChild('parameter')?.attrs).toEqual({ name: 'msid', value: 'stream1 track-v' });
    expect(source?.getChild('ssrc-info')).toBeUndefined(); // P2P: the owner is the sender (the IQ's from)
    expect(el.getChild('group', 'urn:xmpp:jingle:apps:grouping:0')?.getChildren('content').map((c) => c.attrs.name)).toEqual(['0', '1']);
    const transport = contents[0]?.getChild('transport', 'urn:xmpp:jingle:transports:ice-udp:1');
    expect(transport?.getChild('fingerprint', 'urn:xmpp:jingle:apps:dtls:0')?.attrs.setup).toBe('actpass');
  });
});

describe('the peer\'s description (LJM SDP.fromJingle, isP2P)', () => {
  /** The peer's offer as it arrives: our own serialisation read back by the shared codec. */
  function peerOffer(): Jingle {
    return parseJingle(xml('iq', { type: 'set' }, serializeJingle(initiate(localP2pContents(CHROME_OFFER, 'initiator', NAMES).contents))));
  }

  it('rebuilds one m-line per content with the peer\'s mids, directions, codecs, transport and SSRCs', () => {
    const remote = new P2pRemoteDescription(peerOffer().contents, peerOffer().group, 'aaaa1111', '42');
    const sdp = sdpTransform.parse(remote.toSdp());
    expect(sdp.groups).toEqual([{ type: 'BUNDLE', mids: '0 1' }]);
    expect(sdp.media.map((m) => [m.type, String(m.mid), m.direction, m.port])).toEqual([
      ['audio', '0', 'sendrecv', 9],
      ['video', '1', 'sendrecv', 9],
    ]);
    const video = sdp.media[1];
    expect(video?.rtp.map((r) => r.codec)).toEqual(['VP8', 'rtx']);
    expect(video?.fmtp).toEqual([{ payload: 97, config: 'apt=96' }]);
    expect(video?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: '2001 2002' }]);
    expect(video?.ssrcs).toContainEqual({ id: 2001, attribute: 'msid', value: 'stream1 track-v' });
    expect(video?.rtcpMux).toBe('rtcp-mux');
    expect(sdp.media[0]?.iceUfrag).toBe('Ab12');
    expect(sdp.media[0]?.setup).toBe('actpass');
    expect(sdp.media[0]?.candidates?.[0]).toMatchObject({ ip: '127.0.0.1', port: 54321, type: 'host' });
    // Every remote source belongs to the peer; the name comes from the <source name>.
    expect(remote.sourceOfMid('1')).toEqual({ media: 'video', name: 'aaaa1111-v0', owner: 'aaaa1111', ssrcs: [2001, 2002], groups: [{ semantics: 'FID', ssrcs: [2001, 2002] }], msid: 'stream1 track-v', videoType: 'camera' });
    expect([...remote.sources.keys()]).toEqual(['0', '1']);
  });

  it('rejects contents without ICE credentials or fingerprint, and offers without media', () => {
    const offer = peerOffer();
    const broken = offer.contents.map((c) => ({ ...c, transport: { ...(c.transport as NonNullable<Content['transport']>), fingerprints: [] } }));
    expect(() => new P2pRemoteDescription(broken, offer.group, 'p')).toThrow(/fingerprint/);
    expect(() => new P2pRemoteDescription([], undefined, 'p')).toThrow(/no audio or video/);
  });

  it('source-add fills the named m-line that sends nothing, else appends one (sendonly); directions follow LJM', () => {
    const offer = peerOffer();
    // The peer joined with its camera off: its video m-line (mid 1) sends nothing and is recvonly.
    const contents = offer.contents.map((c) =>
      c.name === '1' ? { ...c, senders: 'responder' as const, description: { ...(c.description as NonNullable<Content['description']>), sources: [], ssrcGroups: [] } } : c,
    );
    const remote = new P2pRemoteDescription(contents, offer.group, 'aaaa1111');
    expect(remote.sourceOfMid('1')).toBeUndefined();
    const camera: Content = {
      name: '1',
      description: { media: 'video', payloadTypes: [], rtcpFbs: [], rtpHdrExts: [], extmapAllowMixed: false, rtcpMux: false, sources: [{ ssrc: 3001, name: 'aaaa1111-v0', videoType: 'camera', msid: 's t', parameters: [] }], ssrcGroups: [] },
    };
    expect(remote.addSources([camera], () => true)).toEqual(['1']);
    let sdp = sdpTransform.parse(remote.toSdp());
    expect(sdp.media.map((m) => [String(m.mid), m.direction])).toEqual([['0', 'sendrecv'], ['1', 'sendrecv']]);
    expect(remote.sourceOfMid('1')?.ssrcs).toEqual([3001]);
    // A screen share: no free video m-line, so a new one (mid 2) that only the peer sends on.
    const desktop: Content = { name: '2', description: { ...camera.description!, sources: [{ ssrc: 4001, name: 'aaaa1111-v1', videoType: 'desktop', msid: 's2 t2', parameters: [] }] } };
    expect(remote.addSources([desktop], () => true)).toEqual(['2']);
    sdp = sdpTransform.parse(remote.toSdp());
    expect(sdp.media.map((m) => [String(m.mid), m.type, m.direction])).toEqual([['0', 'audio', 'sendrecv'], ['1', 'video', 'sendrecv'], ['2', 'video', 'sendonly']]);
    expect(sdp.groups?.[0]?.mids).toBe('0 1 2');
    expect(sdp.media[2]?.rtp.map((r) => r.codec)).toEqual(['VP8', 'rtx']); // codecs copied from the video m-line
    // Adding what is already there changes nothing.
    expect(remote.addSources([desktop], () => true)).toEqual([]);
    // source-remove: the m-line stays, recvonly when we send that media, else inactive.
    expect(remote.removeSources([desktop], () => false).map((s) => s.name)).toEqual(['aaaa1111-v1']);
    expect(remote.removeSources([camera], () => true).map((s) => s.name)).toEqual(['aaaa1111-v0']);
    sdp = sdpTransform.parse(remote.toSdp());
    expect(sdp.media.map((m) => [String(m.mid), m.direction, m.ssrcs?.length ?? 0])).toEqual([['0', 'sendrecv', 1], ['1', 'recvonly', 0], ['2', 'inactive', 0]]);
  });

  it('an m-line for a new local source (our screen share) is appended recvonly and bundled', () => {
    const offer = peerOffer();
    const remote = new P2pRemoteDescription(offer.contents, offer.group, 'aaaa1111');
    const before = remote.toSdp();
    expect(remote.addLocalMline('video')).toBe('2');
    const sdp = sdpTransform.parse(remote.toSdp());
    expect(sdp.media.map((m) => [String(m.mid), m.direction, m.ssrcs?.length ?? 0])).toEqual([['0', 'sendrecv', 1], ['1', 'sendrecv', 2], ['2', 'recvonly', 0]]);
    expect(sdp.groups?.[0]?.mids).toBe('0 1 2');
    // The o= version goes up with every change.
    expect(Number(sdp.origin?.sessionVersion)).toBeGreaterThan(Number(sdpTransform.parse(before).origin?.sessionVersion));
  });
});

describe('local source changes (LJM notifyMySSRCUpdate with SDPDiffer, isP2P)', () => {
  it('names contents by mid and lists only the SSRCs that came or went, with their groups', () => {
    const before = localP2pContents(CHROME_OFFER, 'initiator', NAMES).contents;
    const after = localP2pContents(CHROME_OFFER.replace(/2001/g, '2101').replace(/2002/g, '2102'), 'initiator', NAMES).contents;
    const diff = diffP2pSources(before, after);
    expect(diff.added.map((c) => [c.name, c.description?.sources.map((s) => s.ssrc), c.description?.ssrcGroups])).toEqual([['1', [2101, 2102], [{ semantics: 'FID', ssrcs: [2101, 2102] }]]]);
    expect(diff.removed.map((c) => [c.name, c.description?.sources.map((s) => s.ssrc)])).toEqual([['1', [2001, 2002]]]);
    expect(diffP2pSources(before, before)).toEqual({ added: [], removed: [] });
  });
});

describe('ICE candidates (LJM SDPUtil.candidateToJingle / candidateFromJingle)', () => {
  it('reads host, srflx and TCP candidates from the browser, with network 1 and an id', () => {
    expect(candidateFromLine('candidate:1467250027 1 udp 2122260223 192.168.1.2 54321 typ host generation 0 ufrag Ab12 network-id 1', () => 0.5)).toEqual({
      foundation: '1467250027',
      component: 1,
      protocol: 'udp',
      priority: 2122260223,
      ip: '192.168.1.2',
      port: 54321,
      type: 'host',
      generation: 0,
      network: 1,
      id: (0.5).toString(36).slice(2, 12),
    });
    expect(candidateFromLine('a=candidate:842163049 1 UDP 1686052607 203.0.113.5 61000 typ srflx raddr 192.168.1.2 rport 54321 generation 1')).toMatchObject({
      protocol: 'udp',
      type: 'srflx',
      relAddr: '192.168.1.2',
      relPort: 54321,
      generation: 1,
    });
    expect(candidateFromLine('candidate:3 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active generation 0')).toMatchObject({ protocol: 'tcp', tcptype: 'active', port: 9 });
    expect(candidateFromLine('candidate:1 1 udp 1 1.2.3.4 5 host')).toBeUndefined();
    expect(candidateFromLine('a=ice-ufrag:x')).toBeUndefined();
  });

  it('writes the attribute addIceCandidate takes, and survives the Jingle codec', () => {
    const c = candidateFromLine('candidate:842163049 1 udp 1686052607 203.0.113.5 61000 typ srflx raddr 192.168.1.2 rport 54321 generation 0');
    expect(c).toBeDefined();
    expect(candidateAttribute(c!)).toBe('candidate:842163049 1 udp 1686052607 203.0.113.5 61000 typ srflx raddr 192.168.1.2 rport 54321 generation 0');
    const info: Jingle = { action: 'transport-info', sid: 's', contents: [{ name: '0', creator: 'initiator', transport: { ufrag: 'u', pwd: 'p', fingerprints: [{ hash: 'sha-256', value: 'AA', required: true }], candidates: [c!], rtcpMux: false, webSockets: [] } }] };
    const back = parseJingle(xml('iq', { type: 'set' }, serializeJingle(info)));
    expect(back.contents[0]?.transport?.candidates[0]).toEqual(c);
  });
});
