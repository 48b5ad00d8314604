import { describe, expect, it } from 'vitest';
import { RtpMunger } from '../cc/munger.js';
import { createVp8PayloadDescriptor, parseVp8PayloadDescriptor } from '../codecs/vp8.js';
import { PacketInfo } from '../rtp/packet-info.js';
import { writeRtpHeader } from '../rtp/rtp-packet.js';
import { SourcePacketCache } from './packet-cache.js';
import { SentPacketLog } from './sent-packet-log.js';

const OUT_SSRC = 0x0a0b0c0d;
const SSRCS = [0x1111, 0x2222, 0x3333];

/** A VP8 packet (RFC 7741 §4.2 descriptor with 15-bit PictureID, TL0PICIDX and TID) with a recognizable payload. */
function vp8Packet(enc: number, seq: number, ts: number, pic: number, tl0: number, tid: number, start: boolean, marker: boolean): Buffer {
  const b = Buffer.alloc(12 + 6 + 20);
  writeRtpHeader(b, { payloadType: 100, sequenceNumber: seq, timestamp: ts, ssrc: SSRCS[enc] as number, marker });
  b[12] = 0x80 | (start ? 0x10 : 0);
  b[13] = 0x80 | 0x40 | 0x20;
  b[14] = 0x80 | ((pic >> 8) & 0x7f);
  b[15] = pic & 0xff;
  b[16] = tl0 & 0xff;
  b[17] = (tid & 3) << 6;
  for (let i = 18; i < b.length; i++) b[i] = (enc * 50 + seq + i) & 0xff;
  return b;
}

function cache(): SourcePacketCache {
  return new SourcePacketCache({ maxBytes: 1 << 20, maxAgeMs: 1000 });
}

describe('SentPacketLog', () => {
  it('maps sent sequence numbers back to the cached original and rebuilds the packet as sent', () => {
    const c = cache();
    const log = new SentPacketLog(256, 1000);
    const orig = vp8Packet(0, 500, 9000, 1234, 17, 0, true, true);
    const id = c.insert(orig, orig.length, 0);
    log.record(7, c, id, 0xdeadbeef, 40, 200, 0);
    expect(log.size).toBe(1);
    const slot = log.find(7);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(log.sentAt(slot)).toBe(0);
    const p = new PacketInfo(Buffer.alloc(1600));
    expect(log.restore(slot, OUT_SSRC, p)).toBe(true);
    expect(p.rtp.sequenceNumber).toBe(7);
    expect(p.rtp.timestamp).toBe(0xdeadbeef);
    expect(p.rtp.ssrc).toBe(OUT_SSRC);
    expect(p.buffer.readUInt16BE(2)).toBe(7);
    expect(p.buffer.readUInt32BE(4)).toBe(0xdeadbeef);
    expect(p.buffer.readUInt32BE(8)).toBe(OUT_SSRC);
    const d = createVp8PayloadDescriptor();
    expect(parseVp8PayloadDescriptor(p.buffer, p.rtp.payloadOffset, p.rtp.payloadLength, d)).toBe('ok');
    expect(d.pictureId).toBe(40);
    expect(d.tl0PicIdx).toBe(200);
    expect(p.buffer.subarray(18, orig.length)).toEqual(orig.subarray(18));
    // Misses: a number never sent, and one whose original the source no longer holds.
    expect(log.find(8)).toBe(-1);
    c.clear();
    expect(log.restore(slot, OUT_SSRC, p)).toBe(false);
  });

  it('keeps numbers across the 65535 → 0 wrap, and rate-limits retransmissions of one number', () => {
    const c = cache();
    const log = new SentPacketLog(256, 1000);
    const ids = new Map<number, number>();
    for (let i = 0; i < 20; i++) {
      const seq = (65530 + i) & 0xffff;
      const b = vp8Packet(0, seq, i * 3000, i, 0, 0, true, true);
      ids.set(seq, c.insert(b, b.length, i));
      log.record(seq, c, ids.get(seq) as number, i * 3000, i, 0, i);
    }
    const p = new PacketInfo(Buffer.alloc(1600));
    for (const seq of [65530, 65535, 0, 1, 13]) {
      const slot = log.find(seq);
      expect(slot, `seq ${seq}`).toBeGreaterThanOrEqual(0);
      expect(log.restore(slot, OUT_SSRC, p)).toBe(true);
      expect(p.rtp.sequenceNumber).toBe(seq);
    }
    expect(log.find(14)).toBe(-1);
    expect(log.find(65529)).toBe(-1);
    const slot = log.find(0);
    expect(log.markRetransmitted(slot, 100, 10)).toBe(true);
    expect(log.markRetransmitted(slot, 105, 10)).toBe(false);
    expect(log.markRetransmitted(slot, 111, 10)).toBe(true);
  });

  it('grows while it would overwrite numbers younger than the max age, up to maxSize; old ones are overwritten', () => {
    const c = cache();
    const id = c.insert(vp8Packet(0, 1, 1, 1, 1, 0, true, true), 38, 0);
    // 300 packets within 300 ms: 64 → 128 → 256 → 512 (maxSize 512 holds all).
    const log = new SentPacketLog(512, 1000);
    expect(log.capacity).toBe(64);
    for (let s = 0; s < 300; s++) log.record(s, c, id, s, -1, -1, s);
    expect(log.capacity).toBe(512);
    expect(log.size).toBe(300);
    for (let s = 0; s < 300; s++) expect(log.find(s), `seq ${s}`).toBeGreaterThanOrEqual(0);
    // At maxSize: the oldest numbers are overwritten.
    const small = new SentPacketLog(128, 1000);
    for (let s = 0; s < 300; s++) small.record(s, c, id, s, -1, -1, s);
    expect(small.capacity).toBe(128);
    expect(small.find(0)).toBe(-1);
    expect(small.find(299)).toBeGreaterThanOrEqual(0);
    // A slow stream (30 packets/s) stays small: what it overwrites is older than 1 s.
    const slow = new SentPacketLog(512, 1000);
    for (let s = 0; s < 300; s++) slow.record(s, c, id, s, -1, -1, s * 33.3);
    expect(slow.capacity).toBe(64);
    // clear() forgets and shrinks back.
    log.clear();
    expect(log.size).toBe(0);
    expect(log.capacity).toBe(64);
    expect(log.find(5)).toBe(-1);
  });

  it('rebuilds every packet exactly as the munger sent it, across layer switches, dropped temporal layers, loss and late packets', () => {
    const c = new SourcePacketCache({ maxBytes: 1 << 20, maxAgeMs: 1e9 });
    const log = new SentPacketLog(1024, 1e9);
    const munger = new RtpMunger({ ssrc: OUT_SSRC, encodingCount: 3 });
    const d = createVp8PayloadDescriptor();
    const sent = new Map<number, Buffer>();
    // Per encoding: next sequence number (each starts close to the wrap), timestamp, PictureID, TL0PICIDX.
    const seq = [65500, 65000, 100];
    const ts = [1000, 50_000, 900_000];
    const pic = [32700, 5, 100];
    const tl0 = [250, 0, 9];
    const held: { enc: number; buf: Buffer; now: number }[] = [];
    let now = 0;
    let forwarding = 0;
    let dropTid2 = false;
    let sentCount = 0;

    const deliver = (enc: number, b: Buffer, t: number): void => {
      const copy = Buffer.from(b);
      expect(parseVp8PayloadDescriptor(copy, 12, copy.length - 12, d)).toBe('ok');
      if (enc !== forwarding || (dropTid2 && d.tid === 2)) {
        munger.drop(copy, 0, copy.length, enc, d, t);
        return;
      }
      // The conference caches the packet as received, once, before any receiver rewrites its copy.
      const id = c.insert(b, b.length, t);
      if (munger.munge(copy, 0, copy.length, enc, d, t) !== 'forward') return;
      const outSeq = copy.readUInt16BE(2);
      log.record(outSeq, c, id, copy.readUInt32BE(4), d.pictureIdOffset >= 0 ? d.pictureId : -1, d.tl0PicIdxOffset >= 0 ? d.tl0PicIdx : -1, t);
      sent.set(outSeq, copy);
      sentCount++;
    };

    for (let frame = 0; frame < 400; frame++) {
      now += 33;
      // Switches: 0 → 2 at frame 60, 2 → 1 at 150, 1 → 2 at 220, 2 → 0 at 300; temporal layer 2 dropped in 100–200.
      if (frame === 60) forwarding = 2;
      if (frame === 150) forwarding = 1;
      if (frame === 220) forwarding = 2;
      if (frame === 300) forwarding = 0;
      dropTid2 = frame >= 100 && frame < 200;
      const tid = [0, 2, 1, 2][frame % 4] as number;
      for (let enc = 0; enc < 3; enc++) {
        if (tid === 0) tl0[enc] = ((tl0[enc] as number) + 1) & 0xff;
        pic[enc] = ((pic[enc] as number) + 1) & 0x7fff;
        ts[enc] = ((ts[enc] as number) + 3000) >>> 0;
        for (let k = 0; k < 3; k++) {
          const s = seq[enc] as number;
          seq[enc] = (s + 1) & 0xffff;
          const b = vp8Packet(enc, s, ts[enc] as number, pic[enc] as number, tl0[enc] as number, tid, k === 0, k === 2);
          // Loss: every 37th packet of the forwarded encoding arrives two frames late (as a retransmission would).
          if (enc === forwarding && s % 37 === 0) held.push({ enc, buf: b, now });
          else deliver(enc, b, now);
        }
      }
      while (held.length > 0 && (held[0] as { now: number }).now <= now - 66) {
        const h = held.shift() as { enc: number; buf: Buffer };
        deliver(h.enc, h.buf, now);
      }
    }
    expect(sentCount).toBeGreaterThan(700);
    expect(munger.state().sequenceNumber).toBeLessThan(sentCount); // the output wrapped past 65535

    const p = new PacketInfo(Buffer.alloc(1600));
    let checked = 0;
    for (const [outSeq, bytes] of sent) {
      const slot = log.find(outSeq);
      if (slot < 0) continue; // overwritten by a later number (the log holds the last 1024)
      expect(log.restore(slot, OUT_SSRC, p), `seq ${outSeq}`).toBe(true);
      expect(p.buffer.subarray(0, p.length).equals(bytes), `seq ${outSeq}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(700);
    // Numbers the receiver never got (the one-frame gap at each switch mid-frame) are not in the log.
    let unknown = 0;
    const last = munger.state().sequenceNumber;
    for (let back = 0; back < 700; back++) {
      const s = (last - back) & 0xffff;
      if (!sent.has(s)) {
        unknown++;
        expect(log.find(s)).toBe(-1);
      }
    }
    expect(unknown).toBeLessThan(20);
  });
});
