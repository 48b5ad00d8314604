import { describe, expect, it } from 'vitest';
import { BandwidthEstimator } from '../cc/estimator.js';
import { TccStatus, TransportCcFeedback } from '../rtp/rtcp.js';
import { TccRecorder, TccSendHistory } from './tcc.js';

describe('TccRecorder', () => {
  it('turns recorded arrivals into feedback (lost packets marked), then continues where it stopped', () => {
    const r = new TccRecorder(64);
    const fb = new TransportCcFeedback();
    expect(r.buildFeedback(fb, 1, 2)).toBe(false);
    for (const seq of [65534, 65535, 1, 2]) r.record(seq, 1_000_000 + ((seq + 2) & 0xffff) * 1000);
    expect(r.buildFeedback(fb, 1, 2)).toBe(true);
    expect(fb.baseSeq).toBe(65534);
    expect(fb.statusCount).toBe(5);
    expect([...fb.status.subarray(0, 5)]).toEqual([1, 1, TccStatus.NotReceived, 1, 1]);
    // Round trip through the wire format.
    const out = Buffer.alloc(fb.serializedSize());
    fb.write(out, 0);
    const parsed = new TransportCcFeedback();
    expect(parsed.parse(out, 0, out.length)).toBe(true);
    expect(parsed.statusCount).toBe(5);
    expect(r.pending).toBe(false);
    r.record(3, 1_006_000);
    expect(r.buildFeedback(fb, 1, 2)).toBe(true);
    expect(fb.baseSeq).toBe(3);
    expect(fb.statusCount).toBe(1);
  });
});

describe('TccSendHistory', () => {
  it('numbers packets and feeds the receiver feedback into the estimator', () => {
    const h = new TccSendHistory(64);
    const est = new BandwidthEstimator({ startBitrateBps: 500_000 });
    for (let i = 0; i < 40; i++) expect(h.onSent(i * 5, 1000)).toBe(i);
    const fb = new TransportCcFeedback();
    fb.reset(9, 9, 0, 0, 0);
    for (let i = 0; i < 40; i++) fb.addReceived(i * 5000 + 20_000);
    const estimate = h.applyFeedback(fb, est, 200);
    expect(estimate).toBeGreaterThan(0);
    expect(h.feedbacks).toBe(1);
    expect(h.nextSeq).toBe(40);
  });
});
