/**
 * Media transport on real loopback UDP against werift's full WebRTC stack playing the browser: it
 * gets an offer built from the transport (bridge ufrag/pwd/fingerprint/candidates, setup actpass),
 * answers, and signals no candidates back (as lib-jitsi-meet towards the bridge). Everything runs on
 * one UdpMux port.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection, type MediaStreamTrack, type RtpPacket } from 'werift';
import { createBridgeCertificate, type BridgeCertificate } from '../src/transport/certificate.js';
import { EndpointTransport, type EndpointTransportOptions, type EndpointTransportState } from '../src/transport/endpoint-transport.js';
import { SrtpProfile } from '../src/transport/srtp.js';
import { StunMessageBuilder, StunType, parseStunMessage } from '../src/transport/stun.js';
import { UdpMux } from '../src/transport/udp-mux.js';
import { BRIDGE_VIDEO_SSRC, VP8_PT, buildOffer, buildVideoAnswer, makeRtcpRr, makeRtp, parseAnswer, waitFor } from './transport-helpers.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Small timings so failure paths finish in well under a second. */
const FAST_ICE = { consentIntervalMs: 100, consentTimeoutMs: 700, connectTimeoutMs: 8000 };

/** A werift peer acting as the browser, plus what it received. */
interface Peer {
  pc: RTCPeerConnection;
  /** RTP packets that reached a track (the bridge's video SSRC). */
  received: RtpPacket[];
  /** The peer's local host ports (to compare with what the bridge learned). */
  localPorts: () => number[];
}

let certificate: BridgeCertificate;
let mux: UdpMux;
const peers: RTCPeerConnection[] = [];
const transports: EndpointTransport[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  certificate = await createBridgeCertificate();
});

beforeEach(async () => {
  mux = await UdpMux.create({ port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'], log });
});

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  await Promise.all(peers.splice(0).map((pc) => pc.close().catch(() => {})));
  for (const s of sockets.splice(0)) s.close();
  expect(mux.registrationCount).toBe(0);
  await mux.close();
});

function createTransport(extra: Partial<EndpointTransportOptions> = {}): EndpointTransport {
  const t = new EndpointTransport({ mux, certificate, log, iceTiming: FAST_ICE, ...extra });
  transports.push(t);
  return t;
}

function offerFor(t: EndpointTransport): string {
  return buildOffer({ ufrag: t.localUfrag, pwd: t.localPwd, fingerprint: t.localFingerprint, candidates: t.localCandidates() });
}

/** werift answering the bridge's offer; loopback only, no STUN servers, no candidates signalled back. */
async function createPeer(offer: string): Promise<{ peer: Peer; answer: ReturnType<typeof parseAnswer> }> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
  });
  peers.push(pc);
  const received: RtpPacket[] = [];
  pc.onTrack.subscribe((track: MediaStreamTrack) => {
    track.onReceiveRtp.subscribe((rtp) => received.push(rtp));
  });
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  const sdp = pc.localDescription?.sdp ?? answer.sdp;
  const localPorts = (): number[] =>
    [...(pc.localDescription?.sdp ?? '').matchAll(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/gm)].map((m) => Number(m[1]));
  return { peer: { pc, received, localPorts }, answer: parseAnswer(sdp) };
}

/** Connects a transport to a fresh werift peer; resolves when both sides are connected. */
async function connectPair(extra: Partial<EndpointTransportOptions> = {}): Promise<{ t: EndpointTransport; peer: Peer; states: EndpointTransportState[] }> {
  const t = createTransport(extra);
  const states: EndpointTransportState[] = [];
  t.onStateChange = (s) => states.push(s);
  const { peer, answer } = await createPeer(offerFor(t));
  t.setRemote(answer);
  await waitFor(() => (t.state === 'connected' ? undefined : `transport ${t.state}`));
  await waitFor(() => (peer.pc.connectionState === 'connected' ? undefined : `peer ${peer.pc.connectionState}`));
  return { t, peer, states };
}

function videoSender(pc: RTCPeerConnection) {
  const tr = pc.getTransceivers().find((x) => x.kind === 'video');
  if (tr === undefined) throw new Error('no video transceiver');
  return tr.sender;
}

async function sendUntil(send: () => void, done: () => string | undefined, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => {
    const r = done();
    if (r !== undefined) send();
    return r;
  }, { timeoutMs, intervalMs: 20 });
}

/** werift sends `payload` as RTP until the bridge's onRtp saw it. */
async function expectPeerToBridge(t: EndpointTransport, peer: Peer, payload: Buffer): Promise<Buffer[]> {
  const got: Buffer[] = [];
  t.onRtp = (buf, len) => got.push(Buffer.from(buf.subarray(0, len)));
  let seq = 1;
  await sendUntil(
    () => void videoSender(peer.pc).sendRtp(makeRtp({ pt: VP8_PT, seq: seq++, ts: 1, ssrc: 1, payload })),
    () => (got.some((b) => b.subarray(12).equals(payload)) ? undefined : 'no RTP at the bridge'),
  );
  return got;
}

/** The bridge sends `payload` as RTP until werift's track saw it. */
async function expectBridgeToPeer(t: EndpointTransport, peer: Peer, payload: Buffer, pt = VP8_PT): Promise<void> {
  let seq = 1000;
  await sendUntil(
    () => {
      const rtp = makeRtp({ pt, seq: seq++, ts: 9000, ssrc: BRIDGE_VIDEO_SSRC, payload });
      t.sendRtp(rtp, rtp.length);
    },
    () => (peer.received.some((p) => p.payload.equals(payload)) ? undefined : 'no RTP at werift'),
  );
}

/** A plain UDP socket on loopback (for raw STUN and garbage). */
async function rawSocket(): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const received: Buffer[] = [];
  socket.on('message', (b) => received.push(b));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, received };
}

function bindingRequest(t: EndpointTransport, key: string, txId: Buffer): Buffer {
  return new StunMessageBuilder(StunType.BindingRequest, txId)
    .addUsername(`${t.localUfrag}:rawc`)
    .addPriority(1853824767)
    .addIceControlled(1n)
    .build({ integrityKey: Buffer.from(key), fingerprint: true });
}

describe('EndpointTransport against werift', () => {
  it('connects with the peer-reflexive address, completes DTLS and carries SRTP both ways', async () => {
    const { t, peer, states } = await connectPair();
    const st = t.stats();
    expect(states).toEqual(['checking', 'connected']);
    expect(st.selectedPair?.origin).toBe('prflx');
    expect(st.selectedPair?.ip).toBe('127.0.0.1');
    expect(peer.localPorts()).toContain(st.selectedPair?.port);
    expect(st.dtlsRole).toBe('server');
    expect(st.iceRole).toBe('controlling');
    expect(st.srtpProfile).toBe('SRTP_AES128_CM_HMAC_SHA1_80'); // our preference: the faster profile with node:crypto
    expect(st.rttMs).toBeGreaterThanOrEqual(0);

    await expectPeerToBridge(t, peer, randomBytes(100));
    await expectBridgeToPeer(t, peer, randomBytes(80));
    const rr = makeRtcpRr(BRIDGE_VIDEO_SSRC);
    t.sendRtcp(rr, rr.length);
    expect(t.stats().rtpOut).toBeGreaterThan(0);
    expect(t.stats().rtcpOut).toBe(1);
    expect(t.stats().dropped.rtpAuthFailed).toBe(0);
  });

  it('receives SRTCP from the peer in onRtcp', async () => {
    const { t, peer } = await connectPair();
    let rtcp = 0;
    t.onRtcp = (buf, len) => {
      if (len >= 8 && buf[0] !== undefined && buf[0] >> 6 === 2) rtcp++;
    };
    // werift sends receiver reports for what it receives; keep feeding it.
    await sendUntil(
      () => {
        const rtp = makeRtp({ pt: VP8_PT, seq: Math.floor(Math.random() * 60000), ts: 1, ssrc: BRIDGE_VIDEO_SSRC, payload: Buffer.alloc(20) });
        t.sendRtp(rtp, rtp.length);
      },
      () => (rtcp > 0 ? undefined : 'no RTCP from werift'),
      15_000,
    );
    expect(t.stats().rtcpIn).toBeGreaterThan(0);
  });

  it('negotiates SRTP_AES128_CM_HMAC_SHA1_80 when only that is offered', async () => {
    const { t, peer } = await connectPair({ srtpProfiles: [SrtpProfile.AES128_CM_HMAC_SHA1_80] });
    expect(t.stats().srtpProfile).toBe('SRTP_AES128_CM_HMAC_SHA1_80');
    await expectPeerToBridge(t, peer, randomBytes(60));
    await expectBridgeToPeer(t, peer, randomBytes(60));
  });

  it('acts as DTLS client and resolves the ICE role conflict when the peer is the offerer', async () => {
    // Not the Jitsi flow (the bridge always offers), but the roles the transport must support: the
    // peer offers setup:actpass → the bridge takes DTLS client; the offerer is ICE-controlling too.
    const t = createTransport();
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
    });
    peers.push(pc);
    const received: RtpPacket[] = [];
    pc.onTrack.subscribe((track: MediaStreamTrack) => track.onReceiveRtp.subscribe((rtp) => received.push(rtp)));
    pc.addTransceiver('video', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription?.sdp ?? '';
    const remote = parseAnswer(offer);
    expect(remote.fingerprints[0]?.setup).toBe('actpass');
    t.setRemote(remote);
    await pc.setRemoteDescription({
      type: 'answer',
      sdp: buildVideoAnswer(offer, { ufrag: t.localUfrag, pwd: t.localPwd, fingerprint: t.localFingerprint, candidates: t.localCandidates() }, 'active'),
    });
    await waitFor(() => (t.state === 'connected' ? undefined : `transport ${t.state}`));
    const st = t.stats();
    expect(st.dtlsRole).toBe('client');
    // Exactly one side switched: either the bridge (→ controlled) or werift after our 487.
    expect(st.iceRole === 'controlled' ? st.ice.counters.roleSwitches : st.ice.counters.roleConflictsSent).toBeGreaterThan(0);
    const peer: Peer = { pc, received, localPorts: () => [] };
    await waitFor(() => (pc.connectionState === 'connected' ? undefined : `peer ${pc.connectionState}`));
    await expectPeerToBridge(t, peer, randomBytes(40));
    await expectBridgeToPeer(t, peer, randomBytes(40), Number(/^a=rtpmap:(\d+) VP8\/90000/m.exec(offer)?.[1]));
  });

  it('answers checks that arrive before setRemote() and connects once it is called', async () => {
    const t = createTransport();
    const { peer, answer } = await createPeer(offerFor(t));
    await waitFor(() => (t.state === 'checking' ? undefined : `transport ${t.state}`));
    expect(t.stats().ice.counters.requestsIn).toBeGreaterThan(0);
    expect(t.stats().ice.counters.requestsOut).toBe(0); // no client pwd yet: no checks of our own
    t.setRemote(answer);
    await waitFor(() => (t.state === 'connected' ? undefined : `transport ${t.state}`));
    await expectPeerToBridge(t, peer, randomBytes(30));
  });

  it('fails on a wrong remote fingerprint and passes no media', async () => {
    const t = createTransport();
    const states: EndpointTransportState[] = [];
    t.onStateChange = (s) => states.push(s);
    let rtpIn = 0;
    t.onRtp = () => rtpIn++;
    const { peer, answer } = await createPeer(offerFor(t));
    const fp = answer.fingerprints[0];
    if (fp === undefined) throw new Error('no fingerprint');
    const wrong = fp.value.startsWith('00') ? `11${fp.value.slice(2)}` : `00${fp.value.slice(2)}`;
    t.setRemote({ ...answer, fingerprints: [{ ...fp, value: wrong }] });
    await waitFor(() => (t.state === 'failed' ? undefined : `transport ${t.state}`));
    expect(t.failureReason).toBe('fingerprint-mismatch');
    expect(states).toEqual(['checking', 'failed']);
    const rtp = makeRtp({ pt: VP8_PT, seq: 1, ts: 1, ssrc: BRIDGE_VIDEO_SSRC, payload: Buffer.alloc(10) });
    t.sendRtp(rtp, rtp.length);
    expect(t.stats().dropped.sendNotConnected).toBe(1);
    // Whatever werift sends now is dropped at the mux: the failed transport has no routes left.
    const before = mux.counters.dropped.unknownAddress;
    await sendUntil(
      () => void videoSender(peer.pc).sendRtp(makeRtp({ pt: VP8_PT, seq: 2, ts: 1, ssrc: 1, payload: Buffer.alloc(10) })),
      () => (mux.counters.dropped.unknownAddress > before || peer.pc.connectionState !== 'connected' ? undefined : 'nothing dropped yet'),
    );
    expect(rtpIn).toBe(0);
    expect(mux.registrationCount).toBe(0);
  });

  it('ignores (and counts) STUN with a wrong password, answers the right one', async () => {
    const t = createTransport();
    const { socket, received } = await rawSocket();
    const badTx = randomBytes(12);
    const goodTx = randomBytes(12);
    const bad = bindingRequest(t, 'this-is-not-the-password', badTx);
    socket.send(bad, mux.port, '127.0.0.1');
    await waitFor(() => (t.stats().ice.counters.badIntegrity === 1 ? undefined : 'bad request not seen'));
    const good = bindingRequest(t, t.localPwd, goodTx);
    socket.send(good, mux.port, '127.0.0.1');
    await waitFor(() => (received.length > 0 ? undefined : 'no response'));
    const msgs = received.map((b) => parseStunMessage(b));
    expect(msgs).toHaveLength(1);
    expect(msgs[0]?.type).toBe(StunType.BindingSuccess);
    expect(msgs[0]?.transactionId.equals(goodTx)).toBe(true);
    expect(msgs[0]?.xorMappedAddress).toEqual({ address: '127.0.0.1', port: socket.address().port, family: 4 });
    expect(t.state).toBe('checking');
  });

  it('drops garbage at the port, counts it, and still connects', async () => {
    const { socket } = await rawSocket();
    const junk: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([0x00, 0x01, 0x02]), // STUN range, too short
      randomBytes(64).fill(0x01, 0, 1), // STUN range, no cookie
      Buffer.concat([Buffer.from([0x16, 0xfe, 0xfd]), randomBytes(40)]), // DTLS-looking
      Buffer.concat([Buffer.from([0x80, 0x60]), randomBytes(100)]), // RTP-looking
      Buffer.concat([Buffer.from([0xff]), randomBytes(10)]),
      new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).addUsername('nobody:x').build({ fingerprint: true }),
      new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build({ fingerprint: true }),
      new StunMessageBuilder(StunType.BindingSuccess, randomBytes(12)).build({ fingerprint: true }),
    ];
    for (let i = 0; i < 200; i++) junk.push(randomBytes(1 + Math.floor(Math.random() * 300)));
    for (const j of junk) socket.send(j, mux.port, '127.0.0.1');
    await waitFor(() => (mux.counters.datagramsIn >= junk.length ? undefined : `${mux.counters.datagramsIn}/${junk.length} datagrams`));
    const d = mux.counters.dropped;
    expect(d.empty).toBe(1);
    expect(d.stunUnknownUfrag).toBe(1);
    expect(d.stunNoUsername).toBe(1);
    expect(d.stunUnknownAddress).toBeGreaterThanOrEqual(1);
    expect(d.stunMalformed).toBeGreaterThanOrEqual(2);
    expect(d.unknownAddress).toBeGreaterThanOrEqual(3);
    expect(d.handlerError).toBe(0);
    const total = d.empty + d.stunMalformed + d.stunNoUsername + d.stunUnknownUfrag + d.stunUnknownAddress + d.unknownAddress;
    expect(total).toBe(junk.length);

    const { t, peer } = await connectPair();
    // Garbage from the verified address itself: SRTP that doesn't authenticate, fake DTLS, bad STUN.
    const ice = peer.pc.iceTransports[0]?.connection;
    if (ice === undefined) throw new Error('no werift ICE connection');
    const fakeRtp = Buffer.concat([Buffer.from([0x80, VP8_PT]), randomBytes(60)]);
    const fakeRtcp = Buffer.concat([Buffer.from([0x80, 200, 0x00, 0x06]), randomBytes(40)]);
    await ice.send(fakeRtp);
    await ice.send(fakeRtcp);
    await ice.send(Buffer.from([0x00, 0x01, 0x00, 0x00]));
    // DTLS that would trip werift-dtls: short record, unknown content type, spoofed alerts
    // (plaintext close_notify, and an epoch-1 alert that doesn't authenticate), app data.
    const record = (type: number, epoch: number, body: Buffer): Buffer => {
      const h = Buffer.alloc(13);
      h[0] = type;
      h.writeUInt16BE(0xfefd, 1);
      h.writeUInt16BE(epoch, 3);
      h.writeUInt16BE(body.length, 11);
      return Buffer.concat([h, body]);
    };
    await ice.send(Buffer.from([0x16, 0xfe, 0xfd, 0x00]));
    await ice.send(record(0x30, 0, randomBytes(10)));
    await ice.send(record(21, 0, Buffer.from([1, 0])));
    await ice.send(record(21, 1, Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 0, 0, 9]), randomBytes(18)])));
    await ice.send(record(23, 1, randomBytes(40)));
    await ice.send(record(22, 0, randomBytes(40))); // epoch-0 handshake after the handshake
    await waitFor(() => {
      const d = t.stats().dropped;
      return d.rtpAuthFailed >= 1 && d.rtcpAuthFailed >= 1 && d.dtlsRejected >= 6 ? undefined : `not all dropped yet: ${JSON.stringify(d)}`;
    });
    expect(t.state).toBe('connected');
    expect(mux.counters.dropped.handlerError).toBe(0);
    await expectPeerToBridge(t, peer, randomBytes(50));
  });

  it('demultiplexes two endpoints on the same port', async () => {
    const a = await connectPair();
    const b = await connectPair();
    expect(a.t.stats().selectedPair?.port).not.toBe(b.t.stats().selectedPair?.port);
    const pa = randomBytes(70);
    const pb = randomBytes(70);
    const gotA = await expectPeerToBridge(a.t, a.peer, pa);
    const gotB = await expectPeerToBridge(b.t, b.peer, pb);
    expect(gotA.some((x) => x.subarray(12).equals(pb))).toBe(false);
    expect(gotB.some((x) => x.subarray(12).equals(pa))).toBe(false);
    const qa = randomBytes(50);
    const qb = randomBytes(50);
    await expectBridgeToPeer(a.t, a.peer, qa);
    await expectBridgeToPeer(b.t, b.peer, qb);
    expect(a.peer.received.some((p) => p.payload.equals(qb))).toBe(false);
    expect(b.peer.received.some((p) => p.payload.equals(qa))).toBe(false);
    expect(mux.registrationCount).toBe(4); // 2 ufrags + 2 learned addresses
  });

  it('fails with consent-expired when the peer goes away silently', async () => {
    const { t, peer, states } = await connectPair();
    await peer.pc.close(); // werift closes its sockets without a DTLS alert
    await waitFor(() => (t.state === 'failed' ? undefined : `transport ${t.state}`), { timeoutMs: 5000 });
    expect(t.failureReason).toBe('consent-expired');
    expect(states).toEqual(['checking', 'connected', 'failed']);
    expect(t.hasTimer).toBe(false);
    expect(mux.registrationCount).toBe(0);
  });

  it('close() frees the timer and every mux registration, and is idempotent', async () => {
    const { t, peer, states } = await connectPair();
    expect(mux.registrationCount).toBeGreaterThan(0);
    expect(t.hasTimer).toBe(true); // consent
    t.close();
    t.close();
    expect(t.state).toBe('closed');
    expect(states).toEqual(['checking', 'connected']);
    expect(t.hasTimer).toBe(false);
    expect(mux.registrationCount).toBe(0);
    const rtp = makeRtp({ pt: VP8_PT, seq: 1, ts: 1, ssrc: BRIDGE_VIDEO_SSRC, payload: Buffer.alloc(10) });
    t.sendRtp(rtp, rtp.length);
    expect(t.stats().dropped.sendNotConnected).toBe(1);
    // The peer keeps sending; the mux drops it as unknown.
    const before = mux.counters.dropped.unknownAddress + mux.counters.dropped.stunUnknownUfrag;
    await sendUntil(
      () => void videoSender(peer.pc).sendRtp(makeRtp({ pt: VP8_PT, seq: 3, ts: 1, ssrc: 1, payload: Buffer.alloc(10) })),
      () => (mux.counters.dropped.unknownAddress + mux.counters.dropped.stunUnknownUfrag > before ? undefined : 'nothing dropped'),
    );
  });

  it('connects two transports to each other (both start controlling: one yields), both DTLS roles', async () => {
    const muxB = await UdpMux.create({ port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'], log });
    try {
      const a = createTransport();
      const b = new EndpointTransport({ mux: muxB, certificate: await createBridgeCertificate(), log, iceTiming: FAST_ICE });
      transports.push(b);
      a.setRemote({ ufrag: b.localUfrag, pwd: b.localPwd, fingerprints: [{ ...b.localFingerprint, setup: 'active' }], candidates: b.localCandidates() });
      b.setRemote({ ufrag: a.localUfrag, pwd: a.localPwd, fingerprints: [{ ...a.localFingerprint, setup: 'passive' }], candidates: a.localCandidates() });
      await waitFor(() => (a.state === 'connected' && b.state === 'connected' ? undefined : `a ${a.state}, b ${b.state}`));
      expect([a.stats().dtlsRole, b.stats().dtlsRole]).toEqual(['server', 'client']);
      expect(new Set([a.stats().iceRole, b.stats().iceRole])).toEqual(new Set(['controlling', 'controlled']));
      expect(a.stats().selectedPair?.origin).toBe('signalled');
      const got: Buffer[] = [];
      b.onRtp = (buf, len) => got.push(Buffer.from(buf.subarray(0, len)));
      const rtp = makeRtp({ pt: VP8_PT, seq: 7, ts: 7, ssrc: 7, payload: randomBytes(33) });
      a.sendRtp(rtp, rtp.length);
      await waitFor(() => (got.length === 1 ? undefined : 'nothing at b'));
      expect(got[0]?.equals(rtp)).toBe(true);
      b.close();
      expect(muxB.registrationCount).toBe(0);
    } finally {
      await muxB.close();
    }
  });

  it('fails with ice-timeout when no check ever arrives, and with dtls-timeout when ICE connects but DTLS never starts', async () => {
    const lonely = createTransport({ iceTiming: { ...FAST_ICE, connectTimeoutMs: 300 } });
    lonely.setRemote({ ufrag: 'nobody', pwd: 'n'.repeat(24), fingerprints: [{ hash: 'sha-256', value: certificate.fingerprint.value, setup: 'active' }] });
    await waitFor(() => (lonely.state === 'failed' ? undefined : `transport ${lonely.state}`));
    expect(lonely.failureReason).toBe('ice-timeout');

    // A client that does ICE (checks us, answers our checks) but never sends a ClientHello.
    const t = createTransport({ iceTiming: { ...FAST_ICE, connectTimeoutMs: 400 } });
    const { socket } = await rawSocket();
    const clientPwd = 'rawclientpasswordrawclient';
    socket.on('message', (buf) => {
      const msg = parseStunMessage(buf);
      if (msg?.type !== StunType.BindingRequest) return;
      socket.send(new StunMessageBuilder(StunType.BindingSuccess, msg.transactionId).addXorMappedAddress('127.0.0.1', mux.port).build({ integrityKey: Buffer.from(clientPwd), fingerprint: true }), mux.port, '127.0.0.1');
    });
    socket.send(bindingRequest(t, t.localPwd, randomBytes(12)), mux.port, '127.0.0.1');
    t.setRemote({ ufrag: 'rawc', pwd: clientPwd, fingerprints: [{ hash: 'sha-256', value: certificate.fingerprint.value, setup: 'active' }] });
    await waitFor(() => (t.stats().ice.state === 'connected' ? undefined : `ice ${t.stats().ice.state}`));
    expect(t.state).toBe('checking'); // ICE nominated, DTLS not done
    await waitFor(() => (t.state === 'failed' ? undefined : `transport ${t.state}`));
    expect(t.failureReason).toBe('dtls-timeout');
  });

  it('leaves no timers behind after many transports are created and closed', async () => {
    const baseline = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const ts: EndpointTransport[] = [];
    for (let i = 0; i < 50; i++) {
      const t = createTransport();
      t.setRemote({ ufrag: `peer${i}`, pwd: 'p'.repeat(24), fingerprints: [{ hash: 'sha-256', value: certificate.fingerprint.value, setup: 'active' }] });
      ts.push(t);
    }
    expect(ts.every((t) => t.hasTimer)).toBe(true);
    expect(mux.registrationCount).toBe(50);
    for (const t of ts) t.close();
    expect(ts.some((t) => t.hasTimer)).toBe(false);
    expect(mux.registrationCount).toBe(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(baseline);
  });
});
