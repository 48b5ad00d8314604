/**
 * Reliability of the media plane in process (fake transports, fake time): loss between a sender and the bridge is
 * requested back from the sender with generic NACK and repaired by its RTX before receivers miss anything; one
 * endpoint's flood is capped at `bridge.limits.maxReceiveBitrateBps` on arrival while the others' media still flows.
 */
import { describe, expect, it } from 'vitest';
import { forEachNackedSeq, RtcpIterator, RtcpPacketType, RtpfbFormat } from '../src/rtp/rtcp.js';
import { RtpHeader } from '../src/rtp/rtp-packet.js';
import { AudioSender, Harness, receivedVideo, rtp, Vp8SimulcastSender } from './model-fakes.js';

const FRAME_MS = 33;

/** Sequence numbers NACKed to `mediaSsrc` in `rtcp`, in order. */
function nacked(rtcp: readonly Buffer[], mediaSsrc: number): number[] {
  const out: number[] = [];
  const it = new RtcpIterator();
  for (const b of rtcp) {
    for (it.reset(b, b.length); it.next(); ) {
      if (it.packetType === RtcpPacketType.RTPFB && it.count === RtpfbFormat.Nack && it.mediaSsrc === mediaSsrc) {
        forEachNackedSeq(b, it.offset, it.contentLength, (s) => out.push(s));
      }
    }
  }
  return out;
}

/** One frame from `sender` into the bridge as endpoint `id`, after answering the key frame requests it got. */
function deliverFrame(h: Harness, id: string, sender: Vp8SimulcastSender, frame = sender.frame(), rtcpLog: Buffer[] = []): void {
  const t = h.transport(id);
  const rtcp = t.rtcp.splice(0);
  rtcpLog.push(...rtcp);
  sender.handleRtcp(rtcp);
  for (const p of frame) t.deliverRtp(p);
}

function seqOf(buf: Buffer): number {
  const h = new RtpHeader();
  expect(h.parse(buf)).toBe(0);
  return h.sequenceNumber;
}

describe('retransmission requests to senders', () => {
  it('a packet lost on the way from the sender is NACKed at once, repeated until its RTX arrives, and reaches the receiver', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    const sender = new Vp8SimulcastSender(h.plan('A'));
    const s0 = h.plan('A').video[0] as number;
    const rtcp: Buffer[] = [];
    const collect = (): Buffer[] => {
      rtcp.push(...h.transport('A').rtcp.splice(0));
      return rtcp;
    };
    for (let f = 0; f < 10; f++) {
      deliverFrame(h, 'A', sender, sender.frame(), rtcp);
      h.time.advance(FRAME_MS);
    }
    expect(receivedVideo(h.transport('B').rtp).length).toBeGreaterThan(0);
    // Encoding 0 has one packet per frame: lose the next one of its frames.
    const frame = sender.frame();
    const lost = frame.shift() as Buffer;
    const lostSeq = seqOf(lost);
    deliverFrame(h, 'A', sender, frame, rtcp);
    expect(nacked(collect(), s0)).toEqual([]);
    h.time.advance(FRAME_MS);
    deliverFrame(h, 'A', sender, sender.frame(), rtcp); // the next packet shows the gap
    expect(nacked(collect(), s0)).toEqual([lostSeq]);
    // Not answered: asked again on the conference timer (about one RTT later; 100 ms before an RTT is known).
    h.time.advance(250);
    const asked = nacked(collect(), s0).length;
    expect(asked).toBeGreaterThanOrEqual(2);
    const before = receivedVideo(h.transport('B').rtp).length;
    h.transport('A').deliverRtp(sender.rtx(0, lostSeq, 1));
    const after = receivedVideo(h.transport('B').rtp);
    expect(after.length).toBe(before + 1);
    h.time.advance(500);
    expect(nacked(collect(), s0).length).toBe(asked);
    const stats = h.conference().endpoints.get('A')?.stats().retransmissionRequests;
    expect(stats).toEqual({ missing: 1, recovered: 1, requests: asked });
  });

  it('padding-only packets on the media SSRC (probes of a sender without RTX) are not taken for loss', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    const sender = new Vp8SimulcastSender(h.plan('A'));
    const s0 = h.plan('A').video[0] as number;
    const e0 = sender.enc[0];
    if (e0 === undefined) throw new Error('no encoding 0');
    const rtcp: Buffer[] = [];
    for (let f = 0; f < 5; f++) {
      deliverFrame(h, 'A', sender, sender.frame(), rtcp);
      // Two padding-only probes between frames, numbered in the media stream.
      for (let k = 0; k < 2; k++) {
        h.transport('A').deliverRtp(rtp({ pt: 100, seq: e0.seq, ts: e0.ts, ssrc: s0, payload: [], padding: 200 }));
        e0.seq = (e0.seq + 1) & 0xffff;
      }
      h.time.advance(FRAME_MS);
    }
    deliverFrame(h, 'A', sender, sender.frame(), rtcp);
    h.time.advance(300);
    rtcp.push(...h.transport('A').rtcp.splice(0));
    expect(nacked(rtcp, s0)).toEqual([]);
    expect(h.conference().endpoints.get('A')?.stats().retransmissionRequests.missing).toBe(0);
  });

  it('a sender that does not answer is asked at most 10 times per packet, within a second', () => {
    const h = new Harness();
    h.join(['A', 'B']);
    const sender = new Vp8SimulcastSender(h.plan('A'));
    const s0 = h.plan('A').video[0] as number;
    for (let f = 0; f < 3; f++) {
      for (const p of sender.frame()) h.transport('A').deliverRtp(p);
      h.time.advance(FRAME_MS);
    }
    const frame = sender.frame();
    frame.shift();
    for (const p of frame) h.transport('A').deliverRtp(p);
    for (let f = 0; f < 60; f++) {
      for (const p of sender.frame()) h.transport('A').deliverRtp(p);
      h.time.advance(FRAME_MS);
    }
    const n = nacked(h.transport('A').rtcp, s0).length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(10);
  });
});

describe('receive rate limit (bridge.limits.maxReceiveBitrateBps)', () => {
  it("an endpoint sending 50 Mbit/s gets at most the limit forwarded; another endpoint's audio is untouched", () => {
    const limitBps = 4_000_000;
    const h = new Harness({ limits: { maxReceiveBitrateBps: limitBps, receiveBurstMs: 100 } });
    h.join(['A', 'B', 'C']);
    h.conference().endpoints.get('B')?.setReceiverConstraints({ defaultConstraints: { maxHeight: 180 } });
    const s0 = h.plan('A').video[0] as number;
    const c = new AudioSender(h.plan('C').audio);
    // Ordinary video first, so that encoding 0 is forwarded to B.
    const sender = new Vp8SimulcastSender(h.plan('A'));
    for (let f = 0; f < 10; f++) {
      deliverFrame(h, 'A', sender);
      h.time.advance(FRAME_MS);
    }
    expect(receivedVideo(h.transport('B').rtp).length).toBeGreaterThan(0);
    const base = h.transport('B').rtp.length;
    // 2 s of 50 Mbit/s on encoding 0: a 26-packet VP8 frame of 1200-byte packets every 5 ms (continuing its
    // sequence numbers and picture ids), and C's audio every 20 ms.
    const e0 = sender.enc[0];
    if (e0 === undefined) throw new Error('no encoding 0');
    let offeredBytes = 0;
    let cAudio = 0;
    for (let ms = 0; ms < 2000; ms += 5) {
      e0.pic = (e0.pic + 1) & 0x7fff;
      e0.tl0 = (e0.tl0 + 1) & 0xff;
      e0.ts = (e0.ts + 450) >>> 0;
      for (let k = 0; k < 26; k++) {
        const payload = new Array<number>(1176).fill(0x55);
        const desc = [0x80 | (k === 0 ? 0x10 : 0), 0xe0, 0x80 | ((e0.pic >> 8) & 0x7f), e0.pic & 0xff, e0.tl0, 0x00];
        desc.forEach((b, i) => (payload[i] = b));
        if (k === 0) [0x11, 0x02, 0x00].forEach((b, i) => (payload[desc.length + i] = b));
        const p = rtp({ pt: 100, seq: e0.seq, ts: e0.ts, ssrc: s0, marker: k === 25, payload });
        e0.seq = (e0.seq + 1) & 0xffff;
        offeredBytes += p.length;
        h.transport('A').deliverRtp(p);
      }
      if (ms % 20 === 0) {
        h.transport('C').deliverRtp(c.packet(40));
        cAudio++;
      }
      h.time.advance(5);
    }
    expect((offeredBytes * 8) / 2).toBeGreaterThan(45_000_000);
    const fromA = h.transport('B').rtp.slice(base).filter((b) => b.readUInt32BE(8) === s0);
    const forwardedBits = fromA.reduce((n, b) => n + b.length * 8, 0);
    // At most the limit plus the burst (header extensions stripped make forwarded packets no larger).
    expect(forwardedBits).toBeLessThanOrEqual(limitBps * 2 + (limitBps / 1000) * 100);
    expect(forwardedBits).toBeGreaterThan(limitBps * 2 * 0.8);
    const limited = h.conference().endpoints.get('A')?.stats().receiveRateLimited;
    expect(limited?.packets).toBeGreaterThan(0);
    const fromC = h.transport('B').rtp.slice(base).filter((b) => b.readUInt32BE(8) === h.plan('C').audio);
    expect(fromC.length).toBe(cAudio);
    expect(h.conference().endpoints.get('C')?.stats().receiveRateLimited.packets).toBe(0);
  });
});
