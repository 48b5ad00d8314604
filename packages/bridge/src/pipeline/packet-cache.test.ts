import { describe, expect, it } from 'vitest';
import { PacketInfo } from '../rtp/packet-info.js';
import { writeRtpHeader } from '../rtp/rtp-packet.js';
import { PacketCache } from './packet-cache.js';

function pkt(seq: number): PacketInfo {
  const p = new PacketInfo(Buffer.alloc(32));
  p.length = writeRtpHeader(p.buffer, { payloadType: 100, sequenceNumber: seq, timestamp: 1, ssrc: 7 }) + 4;
  p.parseRtp();
  return p;
}

describe('PacketCache', () => {
  it('keeps the last N packets by sequence number and releases what it evicts', () => {
    const released: number[] = [];
    const c = new PacketCache(4, (p) => released.push(p.rtp.sequenceNumber));
    expect(c.capacity).toBe(4);
    for (const s of [65534, 65535, 0, 1]) c.insert(pkt(s), s);
    expect(c.size).toBe(4);
    expect(c.get(65535)?.rtp.sequenceNumber).toBe(65535);
    c.insert(pkt(2), 10);
    expect(released).toEqual([65534]);
    expect(c.get(65534)).toBeUndefined();
    expect(c.get(2)?.rtp.sequenceNumber).toBe(2);
    expect(c.sentAt(2)).toBe(10);
    expect(c.get(6)).toBeUndefined();
  });

  it('rate-limits retransmissions of one packet and releases everything on clear()', () => {
    const released: number[] = [];
    const c = new PacketCache(8, (p) => released.push(p.rtp.sequenceNumber));
    c.insert(pkt(5), 0);
    expect(c.markRetransmitted(5, 100, 10)).toBe(true);
    expect(c.markRetransmitted(5, 105, 10)).toBe(false);
    expect(c.markRetransmitted(5, 111, 10)).toBe(true);
    expect(c.markRetransmitted(6, 111, 10)).toBe(false);
    c.insert(pkt(6), 0);
    c.clear();
    expect(released.sort()).toEqual([5, 6]);
    expect(c.size).toBe(0);
    expect(c.get(5)).toBeUndefined();
  });
});
