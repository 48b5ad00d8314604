import { describe, expect, it } from 'vitest';
import { BitrateTracker, MediaSource, RateTracker } from './layers.js';

describe('RateTracker', () => {
  it('measures a steady rate over the window', () => {
    const r = new RateTracker({ windowMs: 1000, bucketMs: 100 });
    // 10 units every 10 ms = 1000 units/s.
    for (let t = 0; t <= 5000; t += 10) r.add(t, 10);
    expect(r.ratePerSecond(5000)).toBeGreaterThan(990);
    expect(r.ratePerSecond(5000)).toBeLessThan(1020);
    expect(r.windowMs).toBe(1000);
  });

  it('does not under-report a stream younger than the window', () => {
    const r = new RateTracker();
    for (let t = 1000; t <= 1300; t += 10) r.add(t, 10);
    expect(r.ratePerSecond(1300)).toBeGreaterThan(900);
    expect(r.ratePerSecond(1300)).toBeLessThan(1100);
  });

  it('forgets samples older than the window', () => {
    const r = new RateTracker({ windowMs: 500, bucketMs: 100 });
    r.add(0, 100);
    expect(r.total(450)).toBe(100);
    expect(r.total(500)).toBe(0);
    expect(r.ratePerSecond(10_000)).toBe(0);
  });

  it('accepts slightly late samples into their own bucket and ignores ones older than the window', () => {
    const r = new RateTracker({ windowMs: 1000, bucketMs: 100 });
    r.add(2000, 5);
    r.add(1950, 5);
    r.add(500, 1000); // too old
    expect(r.total(2000)).toBe(10);
    expect(r.total(2950)).toBe(5);
  });

  it('reset() forgets everything', () => {
    const r = new RateTracker();
    r.add(0, 1);
    r.reset();
    expect(r.total(0)).toBe(0);
  });

  it('rejects impossible windows', () => {
    expect(() => new RateTracker({ bucketMs: 0 })).toThrow(TypeError);
    expect(() => new RateTracker({ windowMs: 50, bucketMs: 100 })).toThrow(TypeError);
  });

  it('rounds the window up to whole buckets', () => {
    expect(new RateTracker({ windowMs: 950, bucketMs: 100 }).windowMs).toBe(1000);
  });
});

describe('BitrateTracker', () => {
  it('reports bits per second', () => {
    const b = new BitrateTracker();
    // 1250 bytes every 10 ms = 1 Mbps.
    for (let t = 0; t <= 3000; t += 10) b.update(t, 1250);
    expect(b.bitrateBps(3000)).toBeGreaterThan(0.99e6);
    expect(b.bitrateBps(3000)).toBeLessThan(1.02e6);
    b.reset();
    expect(b.bitrateBps(3000)).toBe(0);
  });
});

function camera() {
  return new MediaSource({ name: 'abcd-v0', owner: 'abcd', ssrcs: [111, 222, 333] });
}

describe('MediaSource', () => {
  it('has one encoding per SSRC with Chrome-like nominal heights and frame rates', () => {
    const s = camera();
    expect(s.videoType).toBe('camera');
    expect(s.encodings.map((e) => [e.index, e.ssrc, e.height])).toEqual([
      [0, 111, 180],
      [1, 222, 360],
      [2, 333, 720],
    ]);
    expect(s.encodings[2]?.layers.map((l) => [l.encoding, l.temporal, l.frameRate])).toEqual([
      [2, 0, 7.5],
      [2, 1, 15],
      [2, 2, 30],
    ]);
    expect(s.encodingBySsrc(222)?.index).toBe(1);
    expect(s.encodingBySsrc(444)).toBeUndefined();
  });

  it('takes explicit heights, temporal layer counts and frame rates', () => {
    const s = new MediaSource({
      name: 'x-v1',
      owner: 'x',
      videoType: 'desktop',
      ssrcs: [1, 2],
      heightsPx: [540, 1080],
      temporalLayers: 2,
      maxFrameRate: 5,
    });
    expect(s.encodings.map((e) => e.height)).toEqual([540, 1080]);
    expect(s.encodings[0]?.layers.map((l) => l.frameRate)).toEqual([2.5, 5]);
    const d = new MediaSource({ name: 'y', owner: 'y', ssrcs: [1, 2], topHeightPx: 1080 });
    expect(d.encodings.map((e) => e.height)).toEqual([540, 1080]);
  });

  it('rejects impossible shapes', () => {
    expect(() => new MediaSource({ name: 'a', owner: 'a', ssrcs: [] })).toThrow(TypeError);
    expect(() => new MediaSource({ name: 'a', owner: 'a', ssrcs: [1], temporalLayers: 5 })).toThrow(TypeError);
    expect(() => new MediaSource({ name: 'a', owner: 'a', ssrcs: [1], temporalLayers: 0 })).toThrow(TypeError);
    expect(() => new MediaSource({ name: 'a', owner: 'a', ssrcs: new Array<number>(9).fill(0).map((_, i) => i), temporalLayers: 4 })).toThrow(TypeError);
  });

  it('update() reports a layer becoming active once, and again after it timed out', () => {
    const s = camera();
    expect(s.update(0, 0, 1000, 0)).toBe(true);
    expect(s.update(0, 0, 1000, 20)).toBe(false);
    expect(s.update(0, 1, 1000, 30)).toBe(true);
    expect(s.update(0, 0, 1000, 1020)).toBe(false); // exactly at the timeout: still active
    expect(s.update(0, 0, 1000, 2100)).toBe(true);
    expect(s.update(7, 0, 1000, 2100)).toBe(false);
  });

  it('counts packets without temporal info as TL0 and clamps high TIDs to the top layer', () => {
    const s = camera();
    s.update(1, -1, 100, 0);
    s.update(1, 3, 100, 0);
    const snap = s.snapshot(0);
    const active = snap.layers.filter((l) => l.active).map((l) => [l.encoding, l.temporal]);
    expect(active).toEqual([
      [1, 0],
      [1, 2],
    ]);
  });

  it('checkActivity() reports changes in the set of active layers', () => {
    const s = camera();
    expect(s.checkActivity(0)).toBe(false);
    s.update(0, 0, 100, 0);
    // update() already reported it.
    expect(s.checkActivity(10)).toBe(false);
    expect(s.activeMask).toBe(1);
    expect(s.checkActivity(500)).toBe(false);
    expect(s.checkActivity(1500)).toBe(true);
    expect(s.activeMask).toBe(0);
    expect(s.checkActivity(1600)).toBe(false);
  });

  it('snapshot() gives cumulative temporal bitrates and activity', () => {
    const s = camera();
    // Encoding 0: TL0 100 kbps, TL1 50 kbps, TL2 50 kbps (125 bytes per 10 ms = 100 kbps).
    for (let t = 0; t <= 2000; t += 10) {
      s.update(0, 0, 125, t);
      s.update(0, 1, 62.5, t);
      s.update(0, 2, 62.5, t);
    }
    const snap = s.snapshot(2000);
    expect(snap).toMatchObject({ name: 'abcd-v0', owner: 'abcd', videoType: 'camera' });
    expect(snap.layers).toHaveLength(9);
    const e0 = snap.layers.filter((l) => l.encoding === 0);
    // Within one packet of the true rate.
    const kbps = e0.map((l) => l.bitrateBps / 1000);
    [100, 150, 200].forEach((want, i) => expect(Math.abs((kbps[i] ?? 0) - want) / want).toBeLessThan(0.02));
    expect(e0.every((l) => l.active && l.height === 180)).toBe(true);
    expect(snap.layers.filter((l) => l.encoding > 0).every((l) => !l.active && l.bitrateBps === 0)).toBe(true);
    expect(s.hasActiveLayers(2000)).toBe(true);
    expect(s.isEncodingActive(0, 2000)).toBe(true);
    expect(s.isEncodingActive(1, 2000)).toBe(false);
    expect(s.isEncodingActive(9, 2000)).toBe(false);
    expect(s.hasActiveLayers(5000)).toBe(false);
    expect(s.encodings[0]?.bitrateBps(5, 2000)).toBeCloseTo(e0[2]?.bitrateBps ?? 0);
  });

  it('setHeight() updates an encoding from a key frame, ignoring nonsense', () => {
    const s = camera();
    s.setHeight(2, 480);
    s.setHeight(1, 0);
    s.setHeight(9, 100);
    expect(s.encodings.map((e) => e.height)).toEqual([180, 360, 480]);
    expect(s.snapshot(0).layers.filter((l) => l.encoding === 2).every((l) => l.height === 480)).toBe(true);
  });

  it('a custom activity timeout', () => {
    const s = new MediaSource({ name: 'a', owner: 'a', ssrcs: [1], activeTimeoutMs: 200 });
    s.update(0, 0, 100, 0);
    expect(s.isEncodingActive(0, 200)).toBe(true);
    expect(s.isEncodingActive(0, 201)).toBe(false);
  });
});
