import { describe, expect, it } from 'vitest';
import { ByteRateLimiter } from './throttle.js';

/** A manual clock in ms. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

describe('ByteRateLimiter', () => {
  it('lets a full burst through at once, then throttles', () => {
    const c = clock();
    const l = new ByteRateLimiter(1000, 5000, c.now);
    expect(l.consume(2000)).toBe(0);
    expect(l.consume(3000)).toBe(0); // exactly the burst
    expect(l.throttled).toBe(0);
    expect(l.consume(500)).toBe(500); // 500 bytes of debt at 1000 B/s
    expect(l.throttled).toBe(1);
  });

  it('the pause is the time to pay back the debt at the sustained rate', () => {
    const c = clock();
    const l = new ByteRateLimiter(2048, 1024, c.now);
    expect(l.consume(1024 + 4096)).toBe(2000);
    // after exactly that long the bucket is back at zero: one more byte costs the time of one byte
    c.advance(2000);
    expect(l.consume(0)).toBe(0);
    expect(l.consume(1)).toBe(1); // ceil(1000/2048)
  });

  it('refills at the configured rate', () => {
    const c = clock();
    const l = new ByteRateLimiter(1000, 1000, c.now);
    expect(l.consume(1000)).toBe(0);
    c.advance(250);
    expect(l.consume(250)).toBe(0); // 250 ms earned 250 bytes
    expect(l.consume(1)).toBe(1);
    c.advance(501); // pays the 1-byte debt, then earns 500
    expect(l.consume(500)).toBe(0);
    expect(l.consume(1)).toBeGreaterThan(0);
  });

  it('never accumulates more than the burst, however long the connection was idle', () => {
    const c = clock();
    const l = new ByteRateLimiter(1000, 2000, c.now);
    c.advance(3_600_000);
    expect(l.consume(2000)).toBe(0);
    expect(l.consume(1000)).toBe(1000);
  });

  it('debt accumulates: each further read while in debt asks for a longer pause', () => {
    const c = clock();
    const l = new ByteRateLimiter(1000, 1000, c.now);
    expect(l.consume(1000)).toBe(0);
    const w1 = l.consume(1000);
    const w2 = l.consume(1000);
    const w3 = l.consume(1000);
    expect([w1, w2, w3]).toEqual([1000, 2000, 3000]);
    expect(l.throttled).toBe(3);
  });

  it('a sender that obeys the pauses gets the sustained rate (plus the burst) over time', () => {
    const c = clock();
    const rate = 4096;
    const burst = 8192;
    const l = new ByteRateLimiter(rate, burst, c.now);
    const start = c.now();
    let sent = 0;
    while (c.now() - start < 10_000) {
      const wait = l.consume(1500);
      sent += 1500;
      if (wait > 0) c.advance(wait);
    }
    const elapsed = (c.now() - start) / 1000;
    expect(sent).toBeLessThanOrEqual(burst + rate * elapsed + 1500);
    expect(sent).toBeGreaterThanOrEqual(burst + rate * (elapsed - 1));
  });

  it('a well-behaved sender below the rate is never throttled', () => {
    const c = clock();
    const l = new ByteRateLimiter(1000, 1000, c.now);
    for (let i = 0; i < 1000; i++) {
      expect(l.consume(90)).toBe(0);
      c.advance(100); // 900 B/s
    }
    expect(l.throttled).toBe(0);
  });

  it('a clock stepping backwards does not drain the bucket', () => {
    const c = clock();
    const l = new ByteRateLimiter(1000, 1000, c.now);
    c.set(1_000_000 - 60_000);
    expect(l.consume(1000)).toBe(0);
  });

  it('the wait is rounded up to whole milliseconds', () => {
    const c = clock();
    const l = new ByteRateLimiter(3000, 1000, c.now);
    expect(l.consume(1001)).toBe(1); // 1/3 ms → 1
    expect(Number.isInteger(l.consume(1))).toBe(true);
  });

  it('uses a real monotonic clock by default', () => {
    const l = new ByteRateLimiter(1024, 1024);
    expect(l.consume(1024)).toBe(0);
    const w = l.consume(1024);
    expect(w).toBeGreaterThan(0);
    expect(w).toBeLessThanOrEqual(1000);
  });
});
