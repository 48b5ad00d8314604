import { describe, expect, it } from 'vitest';
import { applyReceiverVideoConstraints, constraintsFor, createAllocationSettings } from './constraints.js';

describe('createAllocationSettings()', () => {
  it('starts like JVB: maxHeight 0, lastN -1, nothing selected', () => {
    const s = createAllocationSettings();
    expect(s).toMatchObject({ configured: false, lastN: -1, selectedSources: [], onStageSources: [], assumedBandwidthBps: -1 });
    expect(s.defaultConstraints).toEqual({ maxHeight: 0 });
    expect(constraintsFor(s, 'x-v0')).toEqual({ maxHeight: 0 });
  });

  it('takes a configurable initial height', () => {
    expect(createAllocationSettings({ initialMaxHeightPx: 360 }).defaultConstraints).toEqual({ maxHeight: 360 });
  });
});

describe('applyReceiverVideoConstraints()', () => {
  it("LJM's first bare message sets the default height to 180 (JVB)", () => {
    const s = applyReceiverVideoConstraints(createAllocationSettings(), { assumedBandwidthBps: -1, lastN: -1 });
    expect(s.configured).toBe(true);
    expect(s.defaultConstraints).toEqual({ maxHeight: 180 });
    expect(
      applyReceiverVideoConstraints(createAllocationSettings(), {}, { defaultMaxHeightPx: 360 }).defaultConstraints,
    ).toEqual({ maxHeight: 360 });
  });

  it('a first message with defaultConstraints uses them', () => {
    const s = applyReceiverVideoConstraints(createAllocationSettings(), { defaultConstraints: { maxHeight: 720 } });
    expect(s.defaultConstraints).toEqual({ maxHeight: 720 });
  });

  it('absent fields keep their previous values; later messages do not reset the default to 180', () => {
    const a = applyReceiverVideoConstraints(createAllocationSettings(), {
      lastN: 3,
      selectedSources: ['a-v0'],
      onStageSources: ['b-v0'],
      defaultConstraints: { maxHeight: 360 },
      constraints: { 'b-v0': { maxHeight: 720 } },
      assumedBandwidthBps: 1_000_000,
    });
    const b = applyReceiverVideoConstraints(a, {});
    expect(b).toEqual({ ...a });
    const c = applyReceiverVideoConstraints(a, { lastN: 5 });
    expect(c.lastN).toBe(5);
    expect(c.defaultConstraints).toEqual({ maxHeight: 360 });
    expect(constraintsFor(c, 'b-v0')).toEqual({ maxHeight: 720 });
  });

  it('a present constraints object replaces the whole map', () => {
    const a = applyReceiverVideoConstraints(createAllocationSettings(), {
      constraints: { 'a-v0': { maxHeight: 720 }, 'b-v0': { maxHeight: 0 } },
    });
    const b = applyReceiverVideoConstraints(a, { constraints: { 'c-v0': { maxHeight: 360 } } });
    expect([...b.constraints.keys()]).toEqual(['c-v0']);
    expect(constraintsFor(b, 'a-v0')).toEqual({ maxHeight: 180 });
    const c = applyReceiverVideoConstraints(b, { constraints: {} });
    expect(c.constraints.size).toBe(0);
  });

  it('normalizes heights: negative = unlimited (-1), fractions floored; keeps maxFrameRate', () => {
    const s = applyReceiverVideoConstraints(createAllocationSettings(), {
      defaultConstraints: { maxHeight: -5 },
      constraints: { 'a-v0': { maxHeight: 359.7, maxFrameRate: 15 }, 'b-v0': { maxFrameRate: -1 } },
    });
    expect(s.defaultConstraints).toEqual({ maxHeight: -1 });
    expect(constraintsFor(s, 'a-v0')).toEqual({ maxHeight: 359, maxFrameRate: 15 });
    // An entry without maxHeight inherits the default.
    expect(constraintsFor(s, 'b-v0')).toEqual({ maxHeight: -1 });
  });

  it('ignores values of the wrong type and de-duplicates names', () => {
    const a = applyReceiverVideoConstraints(createAllocationSettings(), { lastN: 2, assumedBandwidthBps: 5 });
    const b = applyReceiverVideoConstraints(a, {
      lastN: Number.NaN,
      assumedBandwidthBps: Infinity,
      selectedSources: ['x', 'x', 3 as unknown as string, 'y'],
      defaultConstraints: { maxHeight: 'big' as unknown as number },
    });
    expect(b.lastN).toBe(2);
    expect(b.assumedBandwidthBps).toBe(5);
    expect(b.selectedSources).toEqual(['x', 'y']);
    expect(b.defaultConstraints).toEqual({ maxHeight: 180 });
    expect(applyReceiverVideoConstraints(a, { lastN: -7, assumedBandwidthBps: -3 })).toMatchObject({
      lastN: -1,
      assumedBandwidthBps: -1,
    });
  });
});
