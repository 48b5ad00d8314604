/**
 * Media transport against a second, independent stack: libdatachannel (libjuice ICE, OpenSSL DTLS,
 * libsrtp) through node-datachannel's prebuilt binary. The peer answers the bridge's offer, signals
 * no candidates (the bridge learns its address from its checks), and exchanges RTP on a track.
 */
import { randomBytes } from 'node:crypto';
import { PeerConnection, cleanup, type Track } from 'node-datachannel';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBridgeCertificate, type BridgeCertificate } from '../src/transport/certificate.js';
import { EndpointTransport, type EndpointTransportOptions } from '../src/transport/endpoint-transport.js';
import { SrtpProfile } from '../src/transport/srtp.js';
import { UdpMux } from '../src/transport/udp-mux.js';
import { BRIDGE_VIDEO_SSRC, VP8_PT, buildOffer, makeRtp, parseAnswer, waitFor } from './transport-helpers.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let certificate: BridgeCertificate;
let mux: UdpMux;
const pcs: PeerConnection[] = [];
const transports: EndpointTransport[] = [];

beforeAll(async () => {
  certificate = await createBridgeCertificate();
});

beforeEach(async () => {
  mux = await UdpMux.create({ port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'], log });
});

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  for (const pc of pcs.splice(0)) pc.close();
  expect(mux.registrationCount).toBe(0);
  await mux.close();
});

afterAll(() => {
  cleanup(); // stops libdatachannel's threads so the worker can exit
});

async function connect(extra: Partial<EndpointTransportOptions> = {}): Promise<{ t: EndpointTransport; pc: PeerConnection; video: Track; received: Buffer[] }> {
  const t = new EndpointTransport({ mux, certificate, log, iceTiming: { connectTimeoutMs: 8000 }, ...extra });
  transports.push(t);
  const pc = new PeerConnection('peer', { iceServers: [], bindAddress: '127.0.0.1' });
  pcs.push(pc);
  let answer = '';
  const tracks: Track[] = [];
  const received: Buffer[] = [];
  pc.onLocalDescription((sdp) => {
    answer = sdp;
  });
  pc.onTrack((track) => {
    tracks.push(track);
    track.onMessage((msg) => received.push(Buffer.from(msg)));
  });
  pc.setRemoteDescription(buildOffer({ ufrag: t.localUfrag, pwd: t.localPwd, fingerprint: t.localFingerprint, candidates: t.localCandidates() }), 'Offer' as never);
  await waitFor(() => (answer !== '' ? undefined : 'no answer from libdatachannel'));
  expect(answer).not.toMatch(/^a=candidate/m);
  t.setRemote(parseAnswer(answer));
  await waitFor(() => (t.state === 'connected' ? undefined : `transport ${t.state}`));
  const video = tracks.find((x) => x.type() === 'video');
  if (video === undefined) throw new Error('no video track');
  await waitFor(() => (video.isOpen() ? undefined : 'video track not open'));
  return { t, pc, video, received };
}

async function exchange(t: EndpointTransport, video: Track, received: Buffer[]): Promise<void> {
  const toBridge = randomBytes(64);
  const got: Buffer[] = [];
  t.onRtp = (buf, len) => got.push(Buffer.from(buf.subarray(0, len)));
  let seq = 1;
  await waitFor(() => {
    if (got.some((b) => b.subarray(12).equals(toBridge))) return undefined;
    video.sendMessageBinary(makeRtp({ pt: VP8_PT, seq: seq++, ts: 1, ssrc: 0x5151, payload: toBridge }));
    return 'no RTP at the bridge';
  });
  const toPeer = randomBytes(64);
  await waitFor(() => {
    if (received.some((b) => b.length === 12 + toPeer.length && b.subarray(12).equals(toPeer))) return undefined;
    const rtp = makeRtp({ pt: VP8_PT, seq: seq++, ts: 1, ssrc: BRIDGE_VIDEO_SSRC, payload: toPeer });
    t.sendRtp(rtp, rtp.length);
    return 'no RTP at libdatachannel';
  });
}

describe('EndpointTransport against libdatachannel (node-datachannel)', () => {
  it('connects peer-reflexively, completes DTLS and carries SRTP both ways', async () => {
    const { t, video, received } = await connect();
    const st = t.stats();
    expect(st.selectedPair?.origin).toBe('prflx');
    expect(st.dtlsRole).toBe('server');
    expect(st.srtpProfile).toBeDefined();
    await exchange(t, video, received);
    expect(t.stats().dropped.rtpAuthFailed).toBe(0);
  });

  it('works with SRTP_AES128_CM_HMAC_SHA1_80', async () => {
    const { t, video, received } = await connect({ srtpProfiles: [SrtpProfile.AES128_CM_HMAC_SHA1_80] });
    expect(t.stats().srtpProfile).toBe('SRTP_AES128_CM_HMAC_SHA1_80');
    await exchange(t, video, received);
  });
});
