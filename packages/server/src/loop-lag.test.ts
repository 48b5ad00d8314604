import { describe, expect, it } from 'vitest';
import { EventLoopLagMonitor, type LagScheduler } from './loop-lag.js';

/** A hand-driven clock and timer: `fire()` runs the pending tick at the current time. */
function fakeTimers() {
  let now = 0;
  let pending: { fn: () => void; at: number } | undefined;
  const scheduler: LagScheduler = {
    setTimeout: (fn, ms) => {
      pending = { fn, at: now + ms };
      return pending;
    },
    clearTimeout: (h) => {
      if (pending === h) pending = undefined;
    },
  };
  return {
    scheduler,
    now: () => now,
    advance: (ms: number) => void (now += ms),
    /** Runs the pending tick `lateMs` after it was due. */
    fireLate(lateMs: number) {
      const p = pending;
      if (p === undefined) throw new Error('no timer');
      now = p.at + lateMs;
      pending = undefined;
      p.fn();
    },
    get armed() {
      return pending !== undefined;
    },
  };
}

describe('EventLoopLagMonitor', () => {
  it('lagMs() is the worst lateness of the last window of ticks, then falls back once the window has passed', () => {
    const t = fakeTimers();
    const m = new EventLoopLagMonitor({ intervalMs: 100, windowSamples: 3, now: t.now, scheduler: t.scheduler });
    m.start();
    expect(m.lagMs()).toBe(0);
    t.fireLate(2);
    t.fireLate(900); // a stall of ~900 ms
    expect(m.lagMs()).toBe(900);
    t.fireLate(1);
    t.fireLate(3);
    expect(m.lagMs()).toBe(900); // still within the last 3 ticks
    t.fireLate(0);
    expect(m.lagMs()).toBe(3);
  });

  it('counts a stall in progress: the time since the next tick was due', () => {
    const t = fakeTimers();
    const m = new EventLoopLagMonitor({ intervalMs: 100, now: t.now, scheduler: t.scheduler });
    m.start();
    t.advance(100 + 1500); // the tick is overdue by 1.5 s and has not run yet
    expect(m.lagMs()).toBe(1500);
  });

  it('stop() cancels the timer; the last window is still reported', () => {
    const t = fakeTimers();
    const m = new EventLoopLagMonitor({ intervalMs: 100, now: t.now, scheduler: t.scheduler });
    m.start();
    t.fireLate(40);
    m.stop();
    expect(t.armed).toBe(false);
    t.advance(10_000);
    expect(m.lagMs()).toBe(40);
  });

  it('measures a real blocked loop with Node timers', () => {
    const m = new EventLoopLagMonitor({ intervalMs: 20, windowSamples: 50 });
    m.start();
    try {
      const until = performance.now() + 200;
      while (performance.now() < until) {
        // block the event loop
      }
      // The tick due 20 ms in has not run: the stall is seen while it is still the last thing that happened.
      expect(m.lagMs()).toBeGreaterThanOrEqual(150);
    } finally {
      m.stop();
    }
  });
});
