import { describe, expect, it } from 'vitest';
import { createReportBlock } from '../rtp/rtcp.js';
import { ntpMiddle, ReceiveStreamStats } from './receive-stats.js';

describe('ReceiveStreamStats (RFC 3550 A.3, A.8)', () => {
  it('computes extended highest seq, cumulative and interval loss', () => {
    const s = new ReceiveStreamStats(90_000);
    const rb = createReportBlock();
    expect(s.fillReportBlock(1, rb, 0)).toBe(false);
    for (const seq of [65530, 65531, 65533, 65535, 0, 1]) s.update(seq, 0, 0, 100);
    expect(s.fillReportBlock(1, rb, 0)).toBe(true);
    expect(rb.extendedHighestSeq).toBe(0x10001);
    expect(rb.cumulativeLost).toBe(2);
    expect(rb.fractionLost).toBe(Math.floor((2 * 256) / 8));
    // Next interval: no loss.
    for (const seq of [2, 3, 4, 5]) s.update(seq, 0, 0, 100);
    s.fillReportBlock(1, rb, 0);
    expect(rb.fractionLost).toBe(0);
    expect(rb.cumulativeLost).toBe(2);
    expect(s.lossFraction).toBe(0);
  });

  it('jitter stays 0 for perfectly paced packets and grows with arrival noise', () => {
    const s = new ReceiveStreamStats(90_000);
    for (let i = 0; i < 50; i++) s.update(i, i * 3000, i * 33.3333333, 100);
    expect(s.jitter).toBeLessThan(1);
    const n = new ReceiveStreamStats(90_000);
    for (let i = 0; i < 50; i++) n.update(i, i * 3000, i * 33.333 + (i % 2 === 0 ? 10 : 0), 100);
    expect(n.jitter).toBeGreaterThan(300);
  });

  it('reports LSR and DLSR of the last sender report', () => {
    const s = new ReceiveStreamStats(48_000);
    s.update(1, 0, 0, 10);
    s.onSenderReport({ ntpMsw: 0x00012345, ntpLsw: 0x67890000, rtpTimestamp: 5, packetCount: 1, octetCount: 1 }, 1000);
    const rb = createReportBlock();
    s.fillReportBlock(9, rb, 1500);
    expect(rb.lastSr).toBe(ntpMiddle(0x00012345, 0x67890000));
    expect(rb.lastSr).toBe(0x23456789);
    expect(rb.delaySinceLastSr).toBe(32768);
    expect(s.lastSr.rtpTimestamp).toBe(5);
  });
});
