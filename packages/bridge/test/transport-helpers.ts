/**
 * Helpers for the transport integration tests: waiting on conditions, building the SDP offer a
 * browser would get from the focus (PROTOCOL.md §4.3: the bridge's ufrag/pwd/fingerprint/candidates
 * with `setup:actpass`), reading the browser's answer back, and building RTP packets.
 */
import type { Candidate } from '../src/transport/candidates.js';
import type { RemoteTransportParams } from '../src/transport/endpoint-transport.js';

/**
 * Polls `check` until it returns undefined (done) or the timeout passes; then fails with the last
 * reason `check` gave. Never a fixed sleep.
 */
export async function waitFor(check: () => string | undefined, { timeoutMs = 10_000, intervalMs = 10 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason = check();
  while (reason !== undefined) {
    if (Date.now() > deadline) throw new Error(`waitFor timed out: ${reason}`);
    await new Promise((r) => setTimeout(r, intervalMs));
    reason = check();
  }
}

/** The bridge side of an offer. */
export interface OfferTransport {
  ufrag: string;
  pwd: string;
  fingerprint: { hash: string; value: string };
  candidates: readonly Candidate[];
}

/** SSRCs the bridge announces in the offer (so the peer routes packets the bridge sends). */
export const BRIDGE_AUDIO_SSRC = 0x1111_1111;
export const BRIDGE_VIDEO_SSRC = 0x2222_2222;
/** Payload types in the offer. */
export const OPUS_PT = 111;
export const VP8_PT = 96;

/** Builds a BUNDLEd audio+video offer (what lib-jitsi-meet derives from the Jingle offer). */
export function buildOffer(
  t: OfferTransport,
  { candidates = true, setup = 'actpass' }: { candidates?: boolean; setup?: 'actpass' | 'active' | 'passive' } = {},
): string {
  const transport = [
    `a=ice-ufrag:${t.ufrag}`,
    `a=ice-pwd:${t.pwd}`,
    `a=fingerprint:${t.fingerprint.hash} ${t.fingerprint.value}`,
    `a=setup:${setup}`,
    'a=rtcp-mux',
    ...(candidates
      ? t.candidates.map(
          (c) =>
            `a=candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type}` +
            (c.relAddr !== undefined ? ` raddr ${c.relAddr} rport ${c.relPort ?? 0}` : '') +
            ` generation ${c.generation}`,
        )
      : []),
    'a=end-of-candidates',
  ];
  return [
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=msid-semantic: WMS bridge',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${OPUS_PT}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    ...transport,
    'a=mid:0',
    'a=sendrecv',
    `a=rtpmap:${OPUS_PT} opus/48000/2`,
    `a=ssrc:${BRIDGE_AUDIO_SSRC} cname:bridge`,
    `a=ssrc:${BRIDGE_AUDIO_SSRC} msid:bridge audio0`,
    `m=video 9 UDP/TLS/RTP/SAVPF ${VP8_PT}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    ...transport,
    'a=mid:1',
    'a=sendrecv',
    `a=rtpmap:${VP8_PT} VP8/90000`,
    `a=rtcp-fb:${VP8_PT} nack`,
    `a=rtcp-fb:${VP8_PT} nack pli`,
    `a=ssrc:${BRIDGE_VIDEO_SSRC} cname:bridge`,
    `a=ssrc:${BRIDGE_VIDEO_SSRC} msid:bridge video0`,
    '',
  ].join('\r\n');
}

/**
 * Builds the bridge's *answer* to a peer's offer with one video m-line (to test the roles the
 * bridge never takes with Jitsi clients: DTLS client after `setup:actpass` from the peer, and an
 * ICE role conflict because the offerer is controlling too).
 */
export function buildVideoAnswer(offer: string, t: OfferTransport, setup: 'active' | 'passive'): string {
  const mid = /^a=mid:(\S+)$/m.exec(offer)?.[1] ?? '0';
  const pt = Number(/^a=rtpmap:(\d+) VP8\/90000$/m.exec(offer)?.[1] ?? VP8_PT);
  return [
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mid}`,
    'a=msid-semantic: WMS bridge',
    `m=video 9 UDP/TLS/RTP/SAVPF ${pt}`,
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${t.ufrag}`,
    `a=ice-pwd:${t.pwd}`,
    `a=fingerprint:${t.fingerprint.hash} ${t.fingerprint.value}`,
    `a=setup:${setup}`,
    'a=rtcp-mux',
    ...t.candidates.map((c) => `a=candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type} generation ${c.generation}`),
    'a=end-of-candidates',
    `a=mid:${mid}`,
    'a=sendrecv',
    `a=rtpmap:${pt} VP8/90000`,
    `a=ssrc:${BRIDGE_VIDEO_SSRC} cname:bridge`,
    `a=ssrc:${BRIDGE_VIDEO_SSRC} msid:bridge video0`,
    '',
  ].join('\r\n');
}

/**
 * Reads ufrag, pwd, fingerprint and setup from an answer. Candidates are deliberately dropped: like
 * lib-jitsi-meet towards the bridge, the peer signals none.
 */
export function parseAnswer(sdp: string): RemoteTransportParams {
  const get = (name: string): string => {
    const m = new RegExp(`^a=${name}:(.+)$`, 'm').exec(sdp);
    if (m === null || m[1] === undefined) throw new Error(`answer has no a=${name}`);
    return m[1].trim();
  };
  const [hash, value] = get('fingerprint').split(' ');
  const setup = get('setup');
  if (hash === undefined || value === undefined) throw new Error('bad a=fingerprint');
  if (setup !== 'active' && setup !== 'passive' && setup !== 'actpass') throw new Error(`bad a=setup ${setup}`);
  return { ufrag: get('ice-ufrag'), pwd: get('ice-pwd'), fingerprints: [{ hash, value, setup }] };
}

/** A plain RTP packet: 12-byte header and `payload`. */
export function makeRtp({ pt, seq, ts, ssrc, payload, marker = false }: { pt: number; seq: number; ts: number; ssrc: number; payload: Buffer; marker?: boolean }): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(b, 12);
  return b;
}

/** A minimal RTCP receiver report (no blocks) from `ssrc`. */
export function makeRtcpRr(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x80;
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  return b;
}
