/**
 * The bridge's media plane in process: fake transports back-to-back with test peers, fake time. Audio fan-out,
 * simulcast layer selection by receiver constraints with continuous rewriting across a switch, NACK → RTX, PLI
 * forwarding with rate limit, dominant speaker, expiry freeing everything, SSRC-rewriting slots.
 */
import { describe, expect, it } from 'vitest';
import { findHeaderExtension } from '../src/rtp/header-ext.js';
import { PsfbFormat, RtcpPacketType, RtpfbFormat, TransportCcFeedback, writeRemb } from '../src/rtp/rtcp.js';
import { RtpHeader } from '../src/rtp/rtp-packet.js';
import type { VideoSourceMapping, AudioSourceMapping } from '../src/types.js';
import {
  AudioSender,
  EXT_AUDIO_LEVEL,
  EXT_MID,
  EXT_TCC,
  EXT_VIDEO_ORIENTATION,
  Harness,
  nack,
  OPUS_PT,
  pli,
  receivedVideo,
  rtcpOfType,
  RTX_PT,
  rtp,
  Vp8SimulcastSender,
  type ReceivedVideo,
} from './model-fakes.js';

const FRAME_MS = 33;

function header(buf: Buffer): RtpHeader {
  const h = new RtpHeader();
  expect(h.parse(buf)).toBe(0);
  return h;
}

/** Runs `frames` video frames from `sender` into the bridge as endpoint `id`, answering key frame requests. */
const rtcpSeen = new WeakMap<object, number>();

/** Lets the sender react to RTCP it has not seen yet (the transport keeps everything for assertions). */
function pollRtcp(h: Harness, id: string, sender: Vp8SimulcastSender): void {
  const t = h.transport(id);
  const from = rtcpSeen.get(t) ?? 0;
  sender.handleRtcp(t.rtcp.slice(from));
  rtcpSeen.set(t, t.rtcp.length);
}

function sendVideo(h: Harness, id: string, sender: Vp8SimulcastSender, frames: number): void {
  const t = h.transport(id);
  for (let f = 0; f < frames; f++) {
    pollRtcp(h, id, sender);
    for (const p of sender.frame()) t.deliverRtp(p);
    h.time.advance(FRAME_MS);
  }
}

function expectContinuous(v: readonly ReceivedVideo[]): void {
  for (let i = 1; i < v.length; i++) {
    const a = v[i - 1] as ReceivedVideo;
    const b = v[i] as ReceivedVideo;
    expect((b.seq - a.seq + 0x10000) & 0xffff, `seq step at ${i}`).toBe(1);
    if (b.startOfFrame) expect((b.pictureId - a.pictureId + 0x8000) & 0x7fff, `picture id step at ${i}`).toBe(1);
    else expect(b.pictureId).toBe(a.pictureId);
  }
}

describe('audio', () => {
  it('audio from A reaches B and C (not A), unchanged apart from stripped header extensions', () => {
    const h = new Harness();
    h.join(['A', 'B', 'C']);
    const a = new AudioSender(h.plan('A').audio);
    for (let i = 0; i < 10; i++) {
      h.transport('A').deliverRtp(a.packet(30));
      h.time.advance(20);
    }
    expect(h.transport('A').rtp).toHaveLength(0);
    for (const id of ['B', 'C']) {
      const got = h.transport(id).rtp;
      expect(got).toHaveLength(10);
      got.forEach((buf, i) => {
        const hd = header(buf);
        expect(hd.ssrc).toBe(h.plan('A').audio);
        expect(hd.payloadType).toBe(OPUS_PT);
        expect(hd.sequenceNumber).toBe(1000 + i);
        expect(findHeaderExtension(hd, EXT_AUDIO_LEVEL)).toBeGreaterThan(0);
        expect(findHeaderExtension(hd, EXT_MID)).toBe(-1);
        expect([...buf.subarray(hd.payloadOffset)]).toEqual([0xfc, 0xff, 0xfe, 30]);
      });
    }
    // Copy avoidance: one copy for B, the original for C; nothing leaks from the pool.
    const pool = h.bridge.poolStats();
    expect(pool.created).toBeLessThanOrEqual(4);
  });

  it('ReceiverAudioSubscription: exclude / include-only select which audio a receiver gets', () => {
    const h = new Harness();
    h.join(['A', 'B', 'C']);
    const c = h.conference().endpoints.get('C');
    const a = new AudioSender(h.plan('A').audio);
    const b = new AudioSender(h.plan('B').audio);
    const from = (): number[] => h.transport('C').rtp.map((buf) => header(buf).ssrc);
    c?.setReceiverAudioSubscription({ all: true, exclude: ['A-a0'] });
    h.transport('A').deliverRtp(a.packet(20));
    h.transport('B').deliverRtp(b.packet(20));
    expect(from()).toEqual([h.plan('B').audio]);
    c?.setReceiverAudioSubscription({ all: false, include: ['A-a0'] });
    h.transport('A').deliverRtp(a.packet(20));
    h.transport('B').deliverRtp(b.packet(20));
    expect(from()).toEqual([h.plan('B').audio, h.plan('A').audio]);
    expect(h.transport('B').rtp).toHaveLength(2);
  });

  it('silence (level 127) is dropped and counted; force-muted audio is dropped', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    const a = new AudioSender(h.plan('A').audio);
    h.transport('A').deliverRtp(a.packet(127));
    h.transport('A').deliverRtp(a.packet(40));
    expect(h.transport('B').rtp).toHaveLength(1);
    h.bridge.conferenceModify({ meetingId: h.meetingId, endpoints: [{ id: 'A', forceMute: { audio: true } }] });
    h.transport('A').deliverRtp(a.packet(40));
    expect(h.transport('B').rtp).toHaveLength(1);
    const audio = h.conference().endpoints.get('A')?.stats().pipelines.receive.children?.find((c) => c.name === 'ssrc-lookup');
    expect(audio).toBeDefined();
    const json = JSON.stringify(h.conference().endpoints.get('A')?.stats().pipelines.receive);
    expect(json).toContain('"silence":1');
    expect(json).toContain('"force-muted":1');
  });

  it('unknown SSRCs and garbage are dropped and counted, never thrown', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    const t = h.transport('A');
    t.deliverRtp(rtp({ pt: OPUS_PT, seq: 1, ts: 1, ssrc: 0xdeadbeef, payload: [1, 2, 3] }));
    t.deliverRtp(Buffer.from([0x80, 0x6f, 0, 1]));
    t.deliverRtp(Buffer.from([0x40, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9]));
    t.deliverRtcp(Buffer.from([0x81, 0xc9, 0x00, 0x09, 1, 2, 3]));
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.alloc(1 + (i % 200));
      for (let k = 0; k < junk.length; k++) junk[k] = (i * 131 + k * 17) & 0xff;
      if (junk.length > 1) junk[0] = 0x80 | (junk[0] as number & 0x3f);
      t.deliverRtp(junk);
      t.deliverRtcp(junk);
    }
    expect(h.transport('B').rtp.length).toBeLessThanOrEqual(2000);
    const stats = JSON.stringify(h.conference().endpoints.get('A')?.stats().pipelines.receive);
    expect(stats).toContain('unknown-ssrc');
    expect(stats).toContain('malformed');
  });
});

describe('video', () => {
  it('receiver constraints pick the layer; a switch happens at a key frame with continuous sequence numbers', () => {
    const h = new Harness();
    h.join(['A', 'B', 'C']);
    const conf = h.conference();
    const b = conf.endpoints.get('B');
    const c = conf.endpoints.get('C');
    const forwarded: string[][] = [];
    b?.on('forwardedSourcesChanged', (s) => forwarded.push([...s]));
    b?.setReceiverConstraints({ colibriClass: 'ReceiverVideoConstraints', lastN: -1, defaultConstraints: { maxHeight: 720 } });
    c?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    const sender = new Vp8SimulcastSender(h.plan('A'), 60);
    sendVideo(h, 'A', sender, 60);

    const s0 = h.plan('A').video[0];
    const atB = receivedVideo(h.transport('B').rtp);
    const atC = receivedVideo(h.transport('C').rtp);
    expect(atB.length).toBeGreaterThan(50);
    // Plain forwarding: every packet of the source carries the primary SSRC s0 (PROTOCOL.md §7.2).
    expect(new Set(atB.map((p) => p.ssrc))).toEqual(new Set([s0]));
    expect(new Set(atC.map((p) => p.ssrc))).toEqual(new Set([s0]));
    // B settles on 720p, C on 180p.
    expect(atB.slice(-10).map((p) => p.encoding)).toEqual(new Array(10).fill(2));
    expect(new Set(atC.map((p) => p.encoding))).toEqual(new Set([0]));
    expect(forwarded.at(-1)).toEqual(['A-v0']);
    expectContinuous(atB);
    expectContinuous(atC);
    // The header extensions left are video-orientation only (mid stripped).
    const hd = header(atB[0]?.raw ?? Buffer.alloc(0));
    expect(findHeaderExtension(hd, EXT_VIDEO_ORIENTATION)).toBeGreaterThan(0);
    expect(findHeaderExtension(hd, EXT_MID)).toBe(-1);
    expect(b?.stats().layers).toEqual([expect.objectContaining({ source: 'A-v0', encoding: 2, height: 720 })]);

    // B asks for 360p: the bridge keeps sending 720p until a key frame of 360p, which it requests.
    const before = h.transport('B').rtp.length;
    const rtcpBefore = h.transport('A').rtcp.length;
    b?.setReceiverConstraints({ defaultConstraints: { maxHeight: 360 } });
    sendVideo(h, 'A', sender, 30);
    const after = receivedVideo(h.transport('B').rtp.slice(before));
    const firstLow = after.findIndex((p) => p.encoding === 1);
    expect(firstLow).toBeGreaterThan(0);
    expect(after[firstLow]?.keyframe).toBe(true);
    expect(after[firstLow]?.startOfFrame).toBe(true);
    expect(after.slice(firstLow).every((p) => p.encoding === 1)).toBe(true);
    expect(after.slice(0, firstLow).every((p) => p.encoding === 2)).toBe(true);
    expectContinuous(receivedVideo(h.transport('B').rtp));
    // The switch was prompted by a PLI for the 360p SSRC (the sender's own key frame interval is 60 frames).
    const plis = rtcpOfType(h.transport('A').rtcp.slice(rtcpBefore), RtcpPacketType.PSFB, PsfbFormat.Pli);
    expect(plis.map((p) => p.buf.readUInt32BE(p.offset + 8))).toContain(h.plan('A').video[1]);
    expect(firstLow).toBeLessThan(after.length / 2);
  });

  it('maxHeight 0 or lastN 0 stops the video; SenderSourceConstraints tell the sender the most anyone wants', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    const conf = h.conference();
    const a = conf.endpoints.get('A');
    const b = conf.endpoints.get('B');
    const told: Array<[string, number]> = [];
    a?.on('senderSourceConstraints', (c) => told.push([c.sourceName, c.maxHeight]));
    b?.setReceiverConstraints({ defaultConstraints: { maxHeight: 360 } });
    const sender = new Vp8SimulcastSender(h.plan('A'));
    sendVideo(h, 'A', sender, 20);
    expect(told.at(-1)).toEqual(['A-v0', 360]);
    expect(a?.senderSourceConstraints()).toEqual([{ sourceName: 'A-v0', maxHeight: 360 }]);
    b?.setReceiverConstraints({ lastN: 0 });
    h.time.flush();
    const n = h.transport('B').rtp.length;
    sendVideo(h, 'A', sender, 10);
    expect(h.transport('B').rtp.length).toBe(n);
    expect(b?.forwardedSources).toEqual([]);
    expect(told.at(-1)).toEqual(['A-v0', 0]);
  });

  it('a low-fps screen share that only sends its top layer is still forwarded to a 180p receiver', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    h.conference().endpoints.get('A')?.setSourceVideoType('A-v0', 'desktop');
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    const sender = new Vp8SimulcastSender(h.plan('A'));
    sender.active = [false, false, true];
    sendVideo(h, 'A', sender, 30);
    const got = receivedVideo(h.transport('B').rtp);
    expect(got.length).toBeGreaterThan(20);
    expect(new Set(got.map((p) => p.encoding))).toEqual(new Set([2]));
  });

  it('a NACK from a receiver yields an RTX retransmission of the munged packet', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 720 } });
    sendVideo(h, 'A', new Vp8SimulcastSender(h.plan('A')), 20);
    const got = receivedVideo(h.transport('B').rtp);
    const lost = got[got.length - 5] as ReceivedVideo;
    const s0 = h.plan('A').video[0] as number;
    const r0 = h.plan('A').rtx[0] as number;
    const n = h.transport('B').rtp.length;
    h.transport('B').deliverRtcp(nack(0xb0b, s0, [lost.seq]));
    const sent = h.transport('B').rtp.slice(n);
    expect(sent).toHaveLength(1);
    const rtx = header(sent[0] as Buffer);
    expect(rtx.ssrc).toBe(r0);
    expect(rtx.payloadType).toBe(RTX_PT);
    const payload = (sent[0] as Buffer).subarray(rtx.payloadOffset);
    expect(payload.readUInt16BE(0)).toBe(lost.seq);
    const orig = header(lost.raw);
    expect(payload.subarray(2)).toEqual(lost.raw.subarray(orig.payloadOffset));
    expect(rtx.timestamp).toBe(lost.ts);
    // A second NACK right away is not answered twice; an unknown sequence number is ignored.
    h.transport('B').deliverRtcp(nack(0xb0b, s0, [lost.seq, (lost.seq + 1000) & 0xffff]));
    expect(h.transport('B').rtp.length).toBe(n + 1);
    expect(h.conference().endpoints.get('B')?.stats().nackRetransmissions).toBe(1);
  });

  it('NACKs from several receivers are answered from one copy per source packet, across a layer switch', () => {
    const h = new Harness();
    h.join(['A', 'B', 'C']);
    const conf = h.conference();
    conf.endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    conf.endpoints.get('C')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 720 } });
    const sender = new Vp8SimulcastSender(h.plan('A'));
    sendVideo(h, 'A', sender, 8);
    // B switches up (at the key frame the bridge asks for): its numbers now map to another encoding, offset anew.
    conf.endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 720 } });
    sendVideo(h, 'A', sender, 8);
    const src = conf.sourcesByName.get('A-v0');
    if (src?.kind !== 'video') throw new Error('no video source');
    // Every forwarded packet is cached once however many receivers got it: after B's switch, B and C get the same
    // encoding-2 packets, held once.
    const atB = receivedVideo(h.transport('B').rtp);
    const atC = receivedVideo(h.transport('C').rtp);
    const sharedAfterSwitch = atB.filter((p) => p.encoding === 2).length;
    expect(sharedAfterSwitch).toBeGreaterThan(5);
    expect(src.packetCache.size).toBeLessThanOrEqual(atB.length + atC.length - sharedAfterSwitch);
    expect(src.packetCache.size).toBeGreaterThanOrEqual(Math.max(atB.length, atC.length));
    const s0 = h.plan('A').video[0] as number;
    const r0 = h.plan('A').rtx[0] as number;
    for (const id of ['B', 'C']) {
      const got = receivedVideo(h.transport(id).rtp);
      if (id === 'B') expect(new Set(got.map((p) => p.encoding))).toEqual(new Set([0, 2]));
      // The first packet, the last before the switch, the first after it, the last.
      const switchAt = got.findIndex((p) => p.encoding === 2);
      const picks = id === 'B' ? [got[0], got[switchAt - 1], got[switchAt], got.at(-1)] : [got[0], got.at(-1)];
      for (const lost of picks as ReceivedVideo[]) {
        const n = h.transport(id).rtp.length;
        h.transport(id).deliverRtcp(nack(0xb0b, s0, [lost.seq]));
        const sent = h.transport(id).rtp.slice(n);
        expect(sent, `${id} seq ${lost.seq}`).toHaveLength(1);
        const rtx = header(sent[0] as Buffer);
        expect(rtx.ssrc).toBe(r0);
        expect(rtx.timestamp).toBe(lost.ts);
        const payload = (sent[0] as Buffer).subarray(rtx.payloadOffset);
        expect(payload.readUInt16BE(0)).toBe(lost.seq);
        expect(payload.subarray(2)).toEqual(lost.raw.subarray(header(lost.raw).payloadOffset));
      }
    }
    // Older than nackMaxAgeMs: not answered.
    h.time.advance(1100);
    const n = h.transport('C').rtp.length;
    h.transport('C').deliverRtcp(nack(0xb0b, s0, [(receivedVideo(h.transport('C').rtp).at(-1) as ReceivedVideo).seq]));
    expect(h.transport('C').rtp.length).toBe(n);
  });

  it("the sender's RTX retransmission is unwrapped; a probe copy of a packet already received is dropped", () => {
    const h = new Harness();
    h.join(['A', 'B']);
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    const sender = new Vp8SimulcastSender(h.plan('A'));
    sendVideo(h, 'A', sender, 10);
    const n = h.transport('B').rtp.length;
    const e0 = sender.enc[0];
    if (e0 === undefined) throw new Error('no encoding');
    // Padding-only probe, then an RTX copy of a packet B already got.
    h.transport('A').deliverRtp(rtp({ pt: 100, seq: e0.seq, ts: e0.ts, ssrc: h.plan('A').video[0] as number, payload: [], padding: 200 }));
    h.transport('A').deliverRtp(sender.rtx(0, (e0.seq - 2) & 0xffff, 1));
    expect(h.transport('B').rtp.length).toBe(n);
    const drops = JSON.stringify(h.conference().endpoints.get('A')?.stats().pipelines.receive);
    expect(drops).toContain('"padding-only":1');
    expect(drops).toContain('"duplicate":1');
    // A lost packet that arrives later as RTX is forwarded with the number the munger reserved for it.
    const frame = sender.frame(); // e0's single packet first
    const lostPacket = frame.shift() as Buffer;
    const lostSeq = header(lostPacket).sequenceNumber;
    for (const p of frame) h.transport('A').deliverRtp(p);
    sendVideo(h, 'A', sender, 2);
    const beforeRtx = receivedVideo(h.transport('B').rtp);
    const gapAt = beforeRtx.findIndex((p, i) => i > 0 && ((p.seq - (beforeRtx[i - 1] as ReceivedVideo).seq) & 0xffff) === 2);
    expect(gapAt).toBeGreaterThan(0);
    const reserved = ((beforeRtx[gapAt - 1] as ReceivedVideo).seq + 1) & 0xffff;
    h.transport('A').deliverRtp(sender.rtx(0, lostSeq, 2));
    const filled = receivedVideo(h.transport('B').rtp).at(-1) as ReceivedVideo;
    expect(filled.seq).toBe(reserved);
    expect(filled.ssrc).toBe(h.plan('A').video[0]);
    expect(filled.pt).toBe(100);
  });

  it("a receiver's REMB becomes its bandwidth estimate and caps the layer it gets", () => {
    const h = new Harness({ bwe: { minBitrateBps: 10_000 } });
    h.join(['A', 'B']);
    const conf = h.conference();
    const b = conf.endpoints.get('B');
    b?.setReceiverConstraints({ defaultConstraints: { maxHeight: 720 } });
    const sender = new Vp8SimulcastSender(h.plan('A'));
    sendVideo(h, 'A', sender, 40);
    expect(b?.stats().layers[0]?.encoding).toBe(2);
    expect(b?.stats().bandwidthEstimateBps).toBe(-1);
    const src = conf.sourcesByName.get('A-v0');
    if (src?.kind !== 'video') throw new Error('no video source');
    const low = src.layers.encodings[0]?.bitrateBps(0, h.time.now) ?? 0;
    const mid = src.layers.encodings[1]?.bitrateBps(0, h.time.now) ?? 0;
    expect(low).toBeGreaterThan(0);
    const remb = Buffer.alloc(64);
    const len = writeRemb(remb, 0, 0xb0b, Math.floor((low + mid) / 1.5), [h.plan('A').video[0] as number]);
    h.transport('B').deliverRtcp(remb.subarray(0, len));
    expect(b?.stats().bandwidthEstimateBps).toBeGreaterThan(0);
    sendVideo(h, 'A', sender, 40);
    expect(b?.allocation?.sources[0]?.target?.encoding).toBe(0);
    expect(receivedVideo(h.transport('B').rtp).slice(-3).map((p) => p.encoding)).toEqual([0, 0, 0]);
  });

  it('transport-cc: forwarded packets carry our own per-receiver sequence; its feedback drives the estimate', () => {
    const h = new Harness();
    h.join(['A', 'B'], { transportCc: true });
    const a = new AudioSender(h.plan('A').audio, { transportCc: true });
    a.tcc = 5000;
    for (let i = 0; i < 30; i++) {
      h.transport('A').deliverRtp(a.packet(20));
      h.time.advance(20);
    }
    const seqs = h.transport('B').rtp.map((buf) => {
      const hd = header(buf);
      return hd.buffer.readUInt16BE(findHeaderExtension(hd, EXT_TCC));
    });
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const fb = new TransportCcFeedback();
    fb.reset(0xb0b, h.plan('A').audio, 0, 64_000, 0);
    for (let i = 0; i < 30; i++) fb.addReceived(64_000 + i * 20_000);
    const out = Buffer.alloc(fb.serializedSize());
    fb.write(out, 0);
    h.transport('B').deliverRtcp(out);
    expect(h.conference().endpoints.get('B')?.stats().bandwidthEstimateBps).toBeGreaterThan(0);
  });

  it('PLI from a receiver → PLI to the sender for the forwarded encoding, at most once per 200 ms', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 360 } });
    const sender = new Vp8SimulcastSender(h.plan('A'));
    sendVideo(h, 'A', sender, 30);
    const s0 = h.plan('A').video[0] as number;
    const s1 = h.plan('A').video[1] as number;
    const toA = h.transport('A');
    toA.rtcp.length = 0;
    const plis = (): number[] => rtcpOfType(toA.rtcp, RtcpPacketType.PSFB, PsfbFormat.Pli).map((p) => p.buf.readUInt32BE(p.offset + 8));
    h.transport('B').deliverRtcp(pli(0xb0b, s0));
    expect(plis()).toEqual([s1]);
    h.time.advance(50);
    h.transport('B').deliverRtcp(pli(0xb0b, s0));
    h.transport('B').deliverRtcp(pli(0xb0b, s0));
    expect(plis()).toEqual([s1]);
    h.time.advance(200);
    h.transport('B').deliverRtcp(pli(0xb0b, s0));
    expect(plis()).toEqual([s1, s1]);
    // The bridge names itself with its jvb-v0 SSRC.
    const first = rtcpOfType(toA.rtcp, RtcpPacketType.PSFB, PsfbFormat.Pli)[0];
    expect(first?.buf.readUInt32BE((first?.offset ?? 0) + 4)).toBe(h.conference().feedbackSsrcs.video);
  });

  it('a sender that offers only FIR gets FIR (with an incrementing command sequence number) instead of PLI', () => {
    const h = new Harness();
    h.join(['A'], { firOnly: true });
    h.join(['B']);
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    const sender = new Vp8SimulcastSender(h.plan('A'), 1000);
    sendVideo(h, 'A', sender, 20);
    h.transport('B').deliverRtcp(pli(0xb0b, h.plan('A').video[0] as number));
    const firs = rtcpOfType(h.transport('A').rtcp, RtcpPacketType.PSFB, PsfbFormat.Fir);
    expect(firs.length).toBeGreaterThanOrEqual(2);
    expect(rtcpOfType(h.transport('A').rtcp, RtcpPacketType.PSFB, PsfbFormat.Pli)).toHaveLength(0);
    const last = firs.at(-1);
    expect(last?.buf.readUInt32BE((last?.offset ?? 0) + 12)).toBe(h.plan('A').video[0]);
    const seqs = firs.map((f) => f.buf[f.offset + 16]);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('nothing is sent to a receiver before its transport is connected; connecting starts its video', () => {
    const h = new Harness();
    h.join(['A']);
    h.join(['B']);
    h.transport('B').state = 'checking';
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    const sender = new Vp8SimulcastSender(h.plan('A'), 1000);
    sendVideo(h, 'A', sender, 10);
    h.transport('A').deliverRtp(new AudioSender(h.plan('A').audio).packet(10));
    expect(h.transport('B').rtp).toHaveLength(0);
    const states: string[] = [];
    h.conference().endpoints.get('B')?.on('transportStateChanged', (s) => states.push(s));
    h.transport('B').setState('connected');
    sendVideo(h, 'A', sender, 10);
    expect(states).toEqual(['connected']);
    expect(receivedVideo(h.transport('B').rtp).length).toBeGreaterThan(0);
    expect(receivedVideo(h.transport('B').rtp)[0]?.keyframe).toBe(true);
  });

  it('RTCP towards senders: receiver reports and REMB (or transport-cc feedback when negotiated); SR towards receivers', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    sendVideo(h, 'A', new Vp8SimulcastSender(h.plan('A')), 40);
    const toA = h.transport('A').rtcp;
    const rr = rtcpOfType(toA, RtcpPacketType.RR);
    expect(rr.length).toBeGreaterThan(0);
    expect(rr[0]?.count).toBe(3);
    expect(rtcpOfType(toA, RtcpPacketType.PSFB, PsfbFormat.Afb).length).toBeGreaterThan(0);
    const sr = rtcpOfType(h.transport('B').rtcp, RtcpPacketType.SR);
    expect(sr.length).toBeGreaterThan(0);
    expect(sr[0]?.buf.readUInt32BE((sr[0]?.offset ?? 0) + 4)).toBe(h.plan('A').video[0]);

    const t = new Harness();
    t.join(['A', 'B'], { transportCc: true });
    const audio = new AudioSender(t.plan('A').audio, { transportCc: true });
    for (let i = 0; i < 20; i++) {
      t.transport('A').deliverRtp(audio.packet(20));
      t.time.advance(20);
    }
    expect(rtcpOfType(t.transport('A').rtcp, RtcpPacketType.RTPFB, RtpfbFormat.TransportCc).length).toBeGreaterThan(0);
    expect(rtcpOfType(t.transport('A').rtcp, RtcpPacketType.PSFB, PsfbFormat.Afb)).toHaveLength(0);
  });
});

describe('speech activity', () => {
  it('the loud endpoint becomes dominant speaker; the event reaches the conference and every endpoint', () => {
    const h = new Harness();
    h.join(['A', 'B', 'C']);
    const conf = h.conference();
    const seen: string[] = [];
    conf.on('dominantSpeakerChanged', (c) => seen.push(`conf:${c.dominantSpeaker}`));
    conf.endpoints.get('B')?.on('dominantSpeakerChanged', (c) => seen.push(`B:${c.dominantSpeaker}:${c.previousSpeakers.join(',')}`));
    const senders = { A: new AudioSender(h.plan('A').audio), B: new AudioSender(h.plan('B').audio), C: new AudioSender(h.plan('C').audio) };
    const levels = { A: 80, B: 15, C: 70 };
    for (let i = 0; i < 60; i++) {
      for (const id of ['A', 'B', 'C'] as const) h.transport(id).deliverRtp(senders[id].packet(levels[id]));
      h.time.advance(20);
    }
    expect(conf.dominantSpeaker).toBe('B');
    expect(conf.speakerOrder()[0]).toBe('B');
    expect(seen).toContain('conf:B');
    expect(seen.some((s) => s.startsWith('B:B:'))).toBe(true);
  });
});

describe('expiry', () => {
  it('expiring an endpoint frees its state everywhere; expiring the conference leaves no timers', () => {
    const h = new Harness();
    h.join(['A', 'B', 'C']);
    const conf = h.conference();
    for (const id of ['B', 'C']) conf.endpoints.get(id)?.setReceiverConstraints({ defaultConstraints: { maxHeight: 720 } });
    const senderA = new Vp8SimulcastSender(h.plan('A'));
    sendVideo(h, 'A', senderA, 20);
    const b = conf.endpoints.get('B');
    const a = conf.endpoints.get('A');
    expect(b?.debugState().cachedPackets).toBeGreaterThan(0);
    const poolBefore = h.bridge.poolStats();
    b?.expire();
    b?.expire();
    expect(b?.expired).toBe(true);
    expect(b?.debugState()).toEqual({
      sources: 0,
      incoming: 0,
      subscriptionsBySsrc: 0,
      subscriptionsBySource: 0,
      outStreams: 0,
      videoSlots: 0,
      audioSlots: 0,
      cachedPackets: 0,
      senderConstraints: 0,
    });
    expect(b?.listenerCount('forwardedSourcesChanged')).toBe(0);
    // Forwarded packets went back to the pool at once (none is held per receiver); A's video is cached once, for
    // every receiver's NACKs, in its source.
    expect(h.bridge.poolStats().pooled).toBeGreaterThanOrEqual(poolBefore.pooled);
    const aVideo = conf.sourcesByName.get('A-v0');
    if (aVideo?.kind !== 'video') throw new Error('no video source');
    expect(aVideo.packetCache.size).toBeGreaterThan(0);
    expect(h.transport('B').closed).toBe(true);
    for (const ssrc of [h.plan('B').audio, ...h.plan('B').video]) expect(conf.endpointsBySsrc.has(ssrc)).toBe(false);
    expect(conf.sourcesByName.has('B-v0')).toBe(false);
    expect(a?.debugState().subscriptionsBySource).toBe(1); // C's audio only
    expect(conf.speakerOrder()).not.toContain('B');
    // Media keeps flowing to C.
    const n = h.transport('C').rtp.length;
    sendVideo(h, 'A', senderA, 5);
    expect(h.transport('C').rtp.length).toBeGreaterThan(n);

    expect(h.time.activeTimers).toBeGreaterThan(0);
    conf.expire();
    expect(h.time.activeTimers).toBe(0);
    expect(aVideo.packetCache.capacityBytes).toBe(0);
    expect(conf.debugState()).toEqual({
      endpoints: 0,
      receivers: 0,
      endpointsBySsrc: 0,
      sources: 0,
      videoSources: 0,
      speakers: 2,
      timers: 0,
      allocations: expect.any(Number),
      fanOutErrors: 0,
    });
    // Packets arriving after expiry go nowhere.
    h.transport('A').deliverRtp(new AudioSender(h.plan('A').audio).packet(10));
    expect(h.bridge.stats().conferences).toBe(0);
  });
});

describe('SSRC rewriting (ssrc-rewriting-1)', () => {
  it('assigns slots, announces them in VideoSourcesMap/AudioSourcesMap, and sends with slot SSRCs', () => {
    const h = new Harness();
    h.join(['A', 'D']);
    h.join(['R'], { capabilities: ['ssrc-rewriting-1'] });
    const r = h.conference().endpoints.get('R');
    expect(r?.ssrcRewriting).toBe(true);
    // The sources were bound when R joined (default constraints 180 are non-zero): the complete map.
    const mapped = r?.videoSourcesMap() ?? [];
    const videoMaps: VideoSourceMapping[][] = [];
    const audioMaps: AudioSourceMapping[][] = [];
    r?.on('videoSourcesMap', (m) => videoMaps.push([...m]));
    r?.on('audioSourcesMap', (m) => audioMaps.push([...m]));
    r?.setReceiverConstraints({ defaultConstraints: { maxHeight: 360 } });
    const senderA = new Vp8SimulcastSender(h.plan('A'));
    const senderD = new Vp8SimulcastSender(h.plan('D'));
    for (let f = 0; f < 30; f++) {
      for (const [id, s] of [['A', senderA], ['D', senderD]] as const) {
        pollRtcp(h, id, s);
        for (const p of s.frame()) h.transport(id).deliverRtp(p);
      }
      h.time.advance(FRAME_MS);
    }
    expect(videoMaps).toEqual([]); // no re-binding while the slots suffice
    expect(mapped.map((m) => m.source).sort()).toEqual(['A-v0', 'D-v0']);
    for (const m of mapped) {
      expect(m.videoType).toBe('CAMERA');
      expect(m.rtx).toBeGreaterThan(0);
      expect(h.conference().endpointsBySsrc.has(m.ssrc)).toBe(false);
    }
    const slotOf = new Map(mapped.map((m) => [m.ssrc, m.source]));
    const got = receivedVideo(h.transport('R').rtp);
    expect(new Set(got.map((p) => p.ssrc))).toEqual(new Set(slotOf.keys()));
    for (const ssrc of slotOf.keys()) {
      const stream = got.filter((p) => p.ssrc === ssrc);
      expect(stream.length).toBeGreaterThan(20);
      expectContinuous(stream);
      expect(new Set(stream.slice(-5).map((p) => p.encoding))).toEqual(new Set([1]));
    }

    // Audio: bound on its first forwarded packet.
    h.transport('A').deliverRtp(new AudioSender(h.plan('A').audio).packet(30));
    expect(audioMaps.flat()).toEqual([{ source: 'A-a0', owner: 'A', ssrc: expect.any(Number) }]);
    const audioSlot = audioMaps.flat()[0]?.ssrc;
    const last = h.transport('R').rtp.at(-1) as Buffer;
    expect(header(last).ssrc).toBe(audioSlot);
    expect(r?.audioSourcesMap()).toEqual(audioMaps.flat());

    // D leaves, E joins: E's video takes the freed slot and keeps its stream continuous.
    const dSlot = mapped.find((m) => m.source === 'D-v0')?.ssrc;
    h.bridge.conferenceModify({ meetingId: h.meetingId, endpoints: [{ id: 'D', expire: true }] });
    h.join(['E']);
    const senderE = new Vp8SimulcastSender(h.plan('E'));
    const before = h.transport('R').rtp.length;
    for (let f = 0; f < 20; f++) {
      pollRtcp(h, 'E', senderE);
      for (const p of senderE.frame()) h.transport('E').deliverRtp(p);
      h.time.advance(FRAME_MS);
    }
    const rebound = videoMaps.flat().filter((m) => m.source === 'E-v0');
    expect(rebound).toHaveLength(1);
    expect(rebound[0]?.ssrc).toBe(dSlot);
    const slotStream = receivedVideo(h.transport('R').rtp).filter((p) => p.ssrc === dSlot);
    expectContinuous(slotStream);
    expect(receivedVideo(h.transport('R').rtp.slice(before)).some((p) => p.ssrc === dSlot)).toBe(true);

    // A NACK for the slot is answered from E's source cache, as RTX on the slot's RTX SSRC.
    const lost = slotStream.at(-2) as ReceivedVideo;
    const n = h.transport('R').rtp.length;
    h.transport('R').deliverRtcp(nack(0xb0b, dSlot as number, [lost.seq]));
    const sent = h.transport('R').rtp.slice(n);
    expect(sent).toHaveLength(1);
    const rtx = header(sent[0] as Buffer);
    expect(rtx.ssrc).toBe(rebound[0]?.rtx);
    expect(rtx.timestamp).toBe(lost.ts);
    const payload = (sent[0] as Buffer).subarray(rtx.payloadOffset);
    expect(payload.readUInt16BE(0)).toBe(lost.seq);
    expect(payload.subarray(2)).toEqual(lost.raw.subarray(header(lost.raw).payloadOffset));
  });
});
