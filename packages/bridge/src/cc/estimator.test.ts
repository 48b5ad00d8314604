import { describe, expect, it } from 'vitest';
import { BandwidthEstimator } from './estimator.js';

interface SimOptions {
  /** Bottleneck capacity at time t (ms). */
  capacityBps: (t: number) => number;
  seconds: number;
  est: BandwidthEstimator;
  /** Every n-th packet is lost after the bottleneck. */
  lossEvery?: number;
  propagationMs?: number;
  /** Sender rate; default: follows the estimate (closed loop). */
  sendRateBps?: (t: number) => number;
  feedbackMs?: number;
}

interface Sample {
  t: number;
  est: number;
  queueMs: number;
}

/**
 * A paced sender of 1200-byte packets through one FIFO bottleneck, with transport-cc-style feedback every 100 ms
 * for every packet that has arrived (lost packets are reported once they are surely late).
 */
function simulate(o: SimOptions): Sample[] {
  const prop = o.propagationMs ?? 20;
  const fb = o.feedbackMs ?? 100;
  let linkFree = 0;
  let nextSend = 0;
  let seq = 0;
  let queueMs = 0;
  const pending: Array<{ send: number; arrival: number; size: number }> = [];
  const samples: Sample[] = [];
  for (let now = 0; now < o.seconds * 1000; now++) {
    while (nextSend <= now) {
      const rate = o.sendRateBps ? o.sendRateBps(nextSend) : o.est.estimateBps;
      const size = 1200;
      const depart = Math.max(nextSend, linkFree) + (size * 8 * 1000) / o.capacityBps(nextSend);
      linkFree = depart;
      queueMs = depart - nextSend;
      seq++;
      const lost = o.lossEvery !== undefined && seq % o.lossEvery === 0;
      pending.push({ send: nextSend, arrival: lost ? -1 : depart + prop, size });
      nextSend += (size * 8 * 1000) / rate;
    }
    if (now > 0 && now % fb === 0) {
      let i = 0;
      for (; i < pending.length; i++) {
        const p = pending[i];
        if (p === undefined) break;
        const ready = p.arrival >= 0 ? p.arrival <= now : p.send + 2 * prop <= now;
        if (!ready) break;
        o.est.onPacketResult(p.send, p.arrival, p.size);
      }
      pending.splice(0, i);
      o.est.onFeedback(now + prop);
      samples.push({ t: now, est: o.est.estimateBps, queueMs });
    }
  }
  return samples;
}

const after = (s: Sample[], fromMs: number, toMs = Infinity) => s.filter((x) => x.t >= fromMs && x.t < toMs);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('BandwidthEstimator: delay-based (synthetic traces)', () => {
  it('a stable link: the estimate rises towards the capacity and stays near it, with little queueing', () => {
    const C = 3_000_000;
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    const s = simulate({ capacityBps: () => C, seconds: 60, est });
    const steady = after(s, 20_000);
    for (const x of steady) {
      expect(x.est).toBeGreaterThan(0.8 * C);
      expect(x.est).toBeLessThan(1.1 * C);
      expect(x.queueMs).toBeLessThan(100);
    }
    expect(mean(steady.map((x) => x.est))).toBeGreaterThan(0.85 * C);
    expect(est.state().linkCapacityBps).toBeGreaterThan(0.9 * C);
    expect(est.state().linkCapacityBps).toBeLessThan(1.1 * C);
  });

  it('ramps up multiplicatively, about 8 % per second, while the capacity is unknown', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 300_000 });
    const s = simulate({ capacityBps: () => 10_000_000, seconds: 11, est });
    const at10 = s.find((x) => x.t === 10_000)?.est ?? 0;
    expect(at10 / 300_000).toBeGreaterThan(1.08 ** 10 * 0.9);
    expect(at10 / 300_000).toBeLessThan(1.08 ** 10 * 1.1);
    for (let i = 1; i < s.length; i++) expect(s[i]?.est ?? 0).toBeGreaterThanOrEqual(s[i - 1]?.est ?? 0);
  });

  it('growing queueing delay: overuse is detected and the estimate drops below the capacity', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 2_000_000 });
    const s = simulate({ capacityBps: () => 1_000_000, seconds: 5, est, sendRateBps: () => 2_000_000 });
    const first = s.find((x) => x.est < 2_000_000);
    expect(first?.t ?? Infinity).toBeLessThanOrEqual(1000);
    for (const x of after(s, 1000)) expect(x.est).toBeLessThan(0.9 * 1_000_000);
    expect(est.usage).toBe('overusing');
    // It decreased to 0.85 × the acknowledged rate, not to nothing.
    expect(est.estimateBps).toBeGreaterThan(0.75 * 1_000_000);
  });

  it('a capacity drop is followed within a couple of seconds', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    const s = simulate({ capacityBps: (t) => (t < 30_000 ? 3_000_000 : 1_000_000), seconds: 50, est });
    for (const x of after(s, 32_000)) {
      expect(x.est).toBeLessThan(1.15 * 1_000_000);
      expect(x.est).toBeGreaterThan(0.7 * 1_000_000);
    }
    // The queue that built up drains.
    expect(after(s, 40_000).every((x) => x.queueMs < 100)).toBe(true);
  });

  it('an application-limited sender cannot inflate the estimate beyond 1.5 × R + 10 kbps', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 500_000 });
    simulate({ capacityBps: () => 10_000_000, seconds: 20, est, sendRateBps: () => 400_000 });
    expect(est.estimateBps).toBeGreaterThan(500_000);
    expect(est.estimateBps).toBeLessThan((1.5 * 400_000 + 10_000) * 1.1);
  });

  it('decreasing delay (a draining queue) is underuse: the estimate holds', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    // Packets sent every 10 ms arrive every 8 ms: the queue drains by 2 ms per group.
    for (let i = 0; i < 60; i++) est.onPacketResult(i * 10, 1000 + i * 8, 1200);
    expect(est.usage).toBe('underusing');
    expect(est.onFeedback(700)).toBe(1_000_000);
    expect(est.onFeedback(800)).toBe(1_000_000);
    expect(est.state().rateControl).toBe('hold');
  });

  it('constant delay is normal use: the estimate increases', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    for (let i = 0; i < 60; i++) est.onPacketResult(i * 10, 50 + i * 10, 1200);
    expect(est.usage).toBe('normal');
    est.onFeedback(600);
    // R ≈ 960 kbps, so the 1.5 × R cap allows growth.
    expect(est.onFeedback(1600)).toBeGreaterThan(1_000_000);
  });

  it('packets in one 5 ms burst form one group (no spurious overuse from pacing bursts)', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    // Bursts of 5 packets sent at once every 20 ms; inside a burst arrivals are spread by serialization.
    for (let b = 0; b < 100; b++) {
      for (let k = 0; k < 5; k++) est.onPacketResult(b * 20, 30 + b * 20 + k * 2, 1200);
    }
    expect(est.usage).toBe('normal');
  });

  it('ignores packets sent out of order, and pauses longer than 3 s restart the filter', () => {
    const est = new BandwidthEstimator();
    for (let i = 0; i < 40; i++) est.onPacketResult(i * 10, 50 + i * 10, 1200);
    est.onPacketResult(5, 100, 1200); // sent before the current group: ignored
    for (let i = 0; i < 40; i++) est.onPacketResult(10_000 + i * 10, 10_050 + i * 10, 1200);
    expect(est.usage).toBe('normal');
    expect(Math.abs(est.state().trendMs)).toBeLessThan(1);
  });
});

describe('BandwidthEstimator: loss-based', () => {
  it('heavy loss (20 %) decreases the estimate every second', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 2_000_000 });
    const s = simulate({ capacityBps: () => 10_000_000, seconds: 12, est, lossEvery: 5 });
    expect(est.estimateBps).toBeLessThan(0.5 * 2_000_000);
    const seconds = s.filter((x) => x.t % 1000 === 0).map((x) => x.est);
    for (let i = 3; i < seconds.length; i++) expect(seconds[i] ?? 0).toBeLessThan(seconds[i - 1] ?? 0);
  });

  it('moderate loss (5 %) holds the estimate', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 2_000_000 });
    const s = simulate({ capacityBps: () => 10_000_000, seconds: 10, est, lossEvery: 20 });
    const late = after(s, 3000).map((x) => x.est);
    expect(Math.max(...late) - Math.min(...late)).toBe(0);
  });

  it('receiver-report loss fractions: >10 % cuts, 2–10 % holds, <2 % recovers 5 % per report until lifted', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    expect(est.onLossReport(0.2, 0)).toBeCloseTo(900_000);
    expect(est.onLossReport(0.5, 0)).toBeCloseTo(675_000);
    expect(est.onLossReport(0.05, 0)).toBeCloseTo(675_000);
    expect(est.onLossReport(0.01, 0)).toBeCloseTo(708_750);
    let v = 0;
    for (let i = 0; i < 20; i++) v = est.onLossReport(0, 0);
    expect(v).toBe(1_000_000);
    expect(est.state().lossBasedBps).toBe(Infinity);
  });

  it('no losses means no loss bound; NaN fractions are ignored and fractions are clamped', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    expect(est.onLossReport(0, 0)).toBe(1_000_000);
    expect(est.state().lossBasedBps).toBe(Infinity);
    expect(est.onLossReport(Number.NaN, 0)).toBe(1_000_000);
    expect(est.onLossReport(7, 0)).toBe(500_000);
  });

  it('transport-cc losses are judged over 1 s windows', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    // 50 % lost in the first window.
    for (let i = 0; i < 100; i++) est.onPacketResult(i * 10, i % 2 === 0 ? -1 : 30 + i * 10, 1200);
    expect(est.onFeedback(0)).toBe(1_000_000);
    expect(est.onFeedback(500)).toBe(1_000_000);
    expect(est.onFeedback(1000)).toBeLessThan(800_000);
  });
});

describe('BandwidthEstimator: REMB and limits', () => {
  it('fromRemb() passes the receiver estimate through, clamped', () => {
    const est = new BandwidthEstimator({ minBitrateBps: 50_000, maxBitrateBps: 5_000_000 });
    expect(est.fromRemb(2_345_678, 0)).toBe(2_345_678);
    expect(est.estimateBps).toBe(2_345_678);
    expect(est.fromRemb(10, 0)).toBe(50_000);
    expect(est.fromRemb(9e9, 0)).toBe(5_000_000);
    expect(est.fromRemb(Number.NaN, 0)).toBe(5_000_000);
    expect(est.fromRemb(-1, 0)).toBe(5_000_000);
  });

  it('fromRemb() lifts a loss bound', () => {
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000 });
    est.onLossReport(0.5, 0);
    expect(est.fromRemb(3_000_000, 0)).toBe(3_000_000);
  });

  it('the start value is clamped, and so is every estimate', () => {
    expect(new BandwidthEstimator({ startBitrateBps: 1, minBitrateBps: 100_000 }).estimateBps).toBe(100_000);
    const est = new BandwidthEstimator({ startBitrateBps: 1_000_000, maxBitrateBps: 1_200_000 });
    simulate({ capacityBps: () => 10_000_000, seconds: 10, est });
    expect(est.estimateBps).toBe(1_200_000);
    const low = new BandwidthEstimator({ startBitrateBps: 100_000, minBitrateBps: 90_000 });
    for (let i = 0; i < 30; i++) low.onLossReport(1, 0);
    expect(low.estimateBps).toBe(90_000);
  });

  it('setRtt() ignores nonsense', () => {
    const est = new BandwidthEstimator();
    est.setRtt(Number.NaN);
    est.setRtt(-5);
    est.setRtt(50);
    expect(est.estimateBps).toBe(1_000_000);
  });
});
