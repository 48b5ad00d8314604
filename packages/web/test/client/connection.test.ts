/** The connection indicator's arithmetic and text (client/src/ui/connection.ts). */
import { describe, expect, it } from 'vitest';
import { describe as describeConnection, qualityOf, rates } from '../../client/src/ui/connection-quality.js';

describe('connection indicator', () => {
  it('computes bitrate and loss between two samples of cumulative counters', () => {
    const a = { at: 1000, path: 'jvb', bytes: 100_000, packets: 1000, lost: 10 };
    const b = { at: 3000, path: 'jvb', bytes: 350_000, packets: 1190, lost: 20 };
    expect(rates(a, b)).toEqual({ kbps: 1000, loss: 10 / 200, packets: 190 });
    // No baseline, another connection (counters restart), or counters that went back: nothing to say yet.
    expect(rates(undefined, b)).toBeUndefined();
    expect(rates({ ...a, path: 'p2p' }, b)).toBeUndefined();
    expect(rates(b, { ...a, at: 4000 })).toBeUndefined();
    expect(rates(a, { ...a, at: 2000 })).toEqual({ kbps: 0, loss: 0, packets: 0 });
  });

  it('grades loss as Jitsi Meet does: good up to 2 %, fair up to 10 %, poor above or when nothing arrives', () => {
    expect([0, 0.02, 0.021, 0.1, 0.11].map((l) => qualityOf(l, false))).toEqual(['good', 'good', 'fair', 'fair', 'poor']);
    expect(qualityOf(0, true)).toBe('poor');
  });

  it('says it in words (the accessible label)', () => {
    expect(describeConnection({ quality: 'good', kbps: 1530, loss: 0.004, width: 1280, height: 720, path: 'p2p' }, false)).toBe(
      'Connection good: receiving 1.5 Mbit/s, 0.4 % packet loss, 1280×720, direct (peer to peer)',
    );
    expect(describeConnection({ quality: 'unknown', kbps: 0, loss: 0, width: 0, height: 0, path: 'jvb' }, true)).toBe(
      'Your connection being measured: sending 0 kbit/s, 0.0 % packet loss, no video, through the server',
    );
  });
});
