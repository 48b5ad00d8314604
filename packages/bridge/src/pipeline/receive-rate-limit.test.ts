import { describe, expect, it } from 'vitest';
import { ReceiveRateLimiter } from './receive-rate-limit.js';

describe('ReceiveRateLimiter', () => {
  it('passes a burst up to the bucket, then the sustained rate, and counts the drops', () => {
    // 8 Mbit/s = 1000 bytes/ms; 10 ms burst = 10,000 bytes.
    const l = new ReceiveRateLimiter(8_000_000, 10, 0);
    let passed = 0;
    for (let i = 0; i < 20; i++) if (l.allow(1000, 0)) passed++;
    expect(passed).toBe(10);
    expect(l.droppedPackets).toBe(10);
    expect(l.droppedBytes).toBe(10_000);
    // 50 Mbit/s offered for one simulated second in 1 ms steps: about 8 Mbit/s gets through.
    let bytes = 0;
    for (let t = 1; t <= 1000; t++) for (let k = 0; k < 6; k++) if (l.allow(1042, t)) bytes += 1042;
    expect(bytes * 8).toBeGreaterThan(7_500_000);
    expect(bytes * 8).toBeLessThanOrEqual(8_000_000 + 10_000 * 8);
  });

  it('never drops below the rate and refills to at most the burst after a pause', () => {
    const l = new ReceiveRateLimiter(1_000_000, 100, 0); // 125 bytes/ms, bucket 12,500 bytes
    for (let t = 0; t < 1000; t += 10) expect(l.allow(1200, t)).toBe(true); // 960 kbit/s
    expect(l.droppedPackets).toBe(0);
    let passed = 0;
    for (let i = 0; i < 100; i++) if (l.allow(1250, 60_000)) passed++;
    expect(passed).toBe(10);
  });

  it('is off with a rate of 0', () => {
    const l = new ReceiveRateLimiter(0, 500, 0);
    expect(l.enabled).toBe(false);
    for (let i = 0; i < 10_000; i++) expect(l.allow(1500, 0)).toBe(true);
    expect(l.droppedPackets).toBe(0);
  });
});
