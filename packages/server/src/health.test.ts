import { describe, expect, it } from 'vitest';
import { evaluateHealth, type HealthProbes } from './health.js';

const limits = { maxEventLoopLagMs: 1000 };

function probes(p: Partial<{ lag: number; bound: boolean | undefined; draining: boolean }>): HealthProbes {
  return { eventLoopLagMs: () => p.lag ?? 3, mediaPortBound: () => ('bound' in p ? p.bound : true), draining: () => p.draining ?? false };
}

describe('evaluateHealth()', () => {
  it('is ok when the loop keeps up and the media port is bound (or there is no bridge)', () => {
    expect(evaluateHealth(probes({}), limits)).toEqual({ status: 'ok' });
    expect(evaluateHealth(probes({ bound: undefined }), limits)).toEqual({ status: 'ok' });
    expect(evaluateHealth(probes({ lag: 1000 }), limits)).toEqual({ status: 'ok' });
  });

  it('is draining while a drain is on', () => {
    expect(evaluateHealth(probes({ draining: true }), limits)).toEqual({ status: 'draining' });
  });

  it('is unhealthy with one reason per failed check, whatever the drain', () => {
    expect(evaluateHealth(probes({ lag: 1001.4 }), limits)).toEqual({
      status: 'unhealthy',
      reasons: ['event loop stalled: lag 1001 ms exceeds 1000 ms'],
    });
    expect(evaluateHealth(probes({ bound: false, draining: true }), limits)).toEqual({
      status: 'unhealthy',
      reasons: ['media UDP port not bound'],
    });
    expect(evaluateHealth(probes({ lag: 5000, bound: false }), limits).reasons).toHaveLength(2);
  });
});
