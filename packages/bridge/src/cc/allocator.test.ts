import { describe, expect, it } from 'vitest';
import {
  allocate,
  isBandwidthChangeSignificant,
  isSameAllocation,
  senderMaxHeights,
  targetOf,
  type Allocation,
  type AllocatorInput,
} from './allocator.js';
import { applyReceiverVideoConstraints, createAllocationSettings, type ReceiverVideoConstraintsInput } from './constraints.js';
import type { LayerSnapshot, SourceSnapshot, VideoType } from './layers.js';

/** Cumulative bitrates (kbps) per encoding × TID, like a Chrome 180/360/720 camera. */
const CAMERA_KBPS = [
  [50, 80, 150],
  [200, 320, 500],
  [700, 1100, 1500],
];
const FPS = [7.5, 15, 30];
const HEIGHTS = [180, 360, 720];

interface SourceSpec {
  name?: string;
  owner: string;
  videoType?: VideoType;
  /** Which encodings flow (default all). */
  active?: number[];
  /** Which temporal layers flow (default all). */
  temporal?: number[];
  kbps?: number[][];
  heights?: number[];
}

function source(spec: SourceSpec): SourceSnapshot {
  const kbps = spec.kbps ?? CAMERA_KBPS;
  const heights = spec.heights ?? HEIGHTS;
  const layers: LayerSnapshot[] = [];
  for (let e = 0; e < kbps.length; e++) {
    for (let t = 0; t < 3; t++) {
      const on = (spec.active ?? [0, 1, 2]).includes(e) && (spec.temporal ?? [0, 1, 2]).includes(t);
      layers.push({
        encoding: e,
        temporal: t,
        height: heights[e] ?? 0,
        frameRate: FPS[t] ?? 0,
        bitrateBps: on ? (kbps[e]?.[t] ?? 0) * 1000 : 0,
        active: on,
      });
    }
  }
  return { name: spec.name ?? `${spec.owner}-v0`, owner: spec.owner, videoType: spec.videoType ?? 'camera', layers };
}

function settings(msg: ReceiverVideoConstraintsInput) {
  return applyReceiverVideoConstraints(createAllocationSettings(), msg);
}

function run(partial: Partial<AllocatorInput> & { sources: SourceSnapshot[] }, msg: ReceiverVideoConstraintsInput = {}) {
  return allocate({
    receiverId: 'me',
    settings: settings(msg),
    bandwidthBps: -1,
    speakerOrder: [],
    ...partial,
  });
}

/** "e1t2" style label of a source's target, or "-" when not forwarded. */
function label(a: Allocation, name: string): string {
  const t = targetOf(a, name);
  return t === null ? '-' : `e${t.encoding}t${t.temporal}`;
}

describe('allocate(): one camera, tile view', () => {
  const cases: Array<[maxHeight: number, kbps: number, want: string]> = [
    [720, 0, '-'],
    [720, 49, '-'],
    [720, 50, 'e0t0'],
    [720, 60, 'e0t0'],
    [720, 100, 'e0t1'],
    [720, 300, 'e0t2'],
    // 360p below 30 fps is never a candidate once a preferred height applies (JVB "preferred" rule).
    [720, 499, 'e0t2'],
    [720, 600, 'e1t2'],
    [720, 1499, 'e1t2'],
    [720, 1500, 'e2t2'],
    [720, 100_000, 'e2t2'],
    [-1, 100_000, 'e2t2'],
    [360, 100_000, 'e1t2'],
    [359, 100_000, 'e0t2'],
    [180, 100_000, 'e0t2'],
    [180, 100, 'e0t1'],
    // A positive constraint below every layer still gets the lowest one.
    [100, 100_000, 'e0t2'],
    [1, 60, 'e0t0'],
    [0, 100_000, '-'],
  ];
  for (const [maxHeight, kbps, want] of cases) {
    it(`maxHeight ${maxHeight} with ${kbps} kbps → ${want}`, () => {
      const a = run(
        { sources: [source({ owner: 'a' })], bandwidthBps: kbps * 1000 },
        { defaultConstraints: { maxHeight } },
      );
      expect(label(a, 'a-v0')).toBe(want);
      const s = a.sources[0];
      expect(s?.suspended).toBe(want === '-' && maxHeight !== 0);
      expect(a.forwardedSources).toEqual(want === '-' ? [] : ['a-v0']);
    });
  }

  it('unknown bandwidth (negative or NaN) means unlimited', () => {
    for (const bw of [-1, Number.NaN, Infinity]) {
      const a = run({ sources: [source({ owner: 'a' })], bandwidthBps: bw }, { defaultConstraints: { maxHeight: 720 } });
      expect(label(a, 'a-v0')).toBe('e2t2');
      expect(a.bandwidthBps).toBe(Infinity);
    }
  });

  it('assumedBandwidthBps overrides the estimate', () => {
    const a = run(
      { sources: [source({ owner: 'a' })], bandwidthBps: 10_000_000 },
      { defaultConstraints: { maxHeight: 720 }, assumedBandwidthBps: 100_000 },
    );
    expect(label(a, 'a-v0')).toBe('e0t1');
    expect(a.bandwidthBps).toBe(100_000);
  });

  it('maxFrameRate removes faster layers', () => {
    const a = run({ sources: [source({ owner: 'a' })] }, { constraints: { 'a-v0': { maxHeight: 180, maxFrameRate: 15 } } });
    expect(label(a, 'a-v0')).toBe('e0t1');
    const b = run({ sources: [source({ owner: 'a' })] }, { constraints: { 'a-v0': { maxHeight: 180, maxFrameRate: 1 } } });
    expect(label(b, 'a-v0')).toBe('e0t0');
  });

  it('jumps to a better layer that costs no more than the current one', () => {
    const kbps = [
      [50, 80, 150],
      [200, 320, 500],
      [300, 400, 450], // measured 720p cheaper than 360p@30
    ];
    const a = run({ sources: [source({ owner: 'a', kbps })], bandwidthBps: 520_000 }, { defaultConstraints: { maxHeight: 720 } });
    expect(label(a, 'a-v0')).toBe('e2t2');
  });

  it('reports ideal and target bitrates', () => {
    const a = run({ sources: [source({ owner: 'a' })], bandwidthBps: 600_000 }, { defaultConstraints: { maxHeight: 720 } });
    expect(a.targetBps).toBe(500_000);
    expect(a.idealBps).toBe(1_500_000);
    expect(a.sources[0]?.ideal).toMatchObject({ encoding: 2, temporal: 2, height: 720, frameRate: 30 });
    expect(a.sources[0]?.target).toEqual({ encoding: 1, temporal: 2, height: 360, frameRate: 30, bitrateBps: 500_000 });
    expect(a.oversending).toBe(false);
  });
});

describe('allocate(): active layers only (PROTOCOL.md §7.3, §9f.4)', () => {
  const cases: Array<{ name: string; spec: Partial<SourceSpec>; maxHeight: number; kbps: number; want: string }> = [
    { name: 'only the low encoding flows', spec: { active: [0] }, maxHeight: 720, kbps: 100_000, want: 'e0t2' },
    { name: 'camera 640x480: two low encodings', spec: { active: [0, 1] }, maxHeight: -1, kbps: 100_000, want: 'e1t2' },
    { name: 'low encoding off, thumbnail falls back up', spec: { active: [1, 2] }, maxHeight: 180, kbps: 100_000, want: 'e1t2' },
    { name: 'low encoding off, short link', spec: { active: [1, 2] }, maxHeight: 180, kbps: 250, want: 'e1t0' },
    // With 7.5 fps as the best frame rate on offer, 7.5 fps satisfies the preferred frame rate (JVB).
    { name: 'only TL0 flows', spec: { temporal: [0] }, maxHeight: 720, kbps: 100_000, want: 'e2t0' },
    { name: 'only TL0 flows, short link', spec: { temporal: [0] }, maxHeight: 720, kbps: 300, want: 'e1t0' },
    { name: 'TL0+TL1 flow: 30 fps needed above 360p', spec: { temporal: [0, 1] }, maxHeight: 720, kbps: 100_000, want: 'e2t1' },
    { name: 'nothing flows', spec: { active: [] }, maxHeight: 720, kbps: 100_000, want: '-' },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want}`, () => {
      const a = run(
        { sources: [source({ owner: 'a', ...c.spec })], bandwidthBps: c.kbps * 1000 },
        { defaultConstraints: { maxHeight: c.maxHeight } },
      );
      expect(label(a, 'a-v0')).toBe(c.want);
    });
  }

  it('a source that sends nothing is not "suspended"', () => {
    const a = run({ sources: [source({ owner: 'a', active: [] })] }, { defaultConstraints: { maxHeight: 720 } });
    expect(a.sources[0]?.suspended).toBe(false);
  });

  it('never picks an inactive layer even if its bitrate is stale but non-zero', () => {
    const s = source({ owner: 'a' });
    const stale: SourceSnapshot = { ...s, layers: s.layers.map((l) => (l.encoding === 2 ? { ...l, active: false } : l)) };
    const a = run({ sources: [stale] }, { defaultConstraints: { maxHeight: 720 } });
    expect(label(a, 'a-v0')).toBe('e1t2');
  });
});

describe('allocate(): screen share', () => {
  const SHARE_HEIGHTS = [270, 540, 1080];
  const SHARE_KBPS = [
    [100, 150, 200],
    [300, 400, 500],
    [800, 1000, 1200],
  ];
  const share = (extra: Partial<SourceSpec> = {}) =>
    source({ owner: 's', name: 's-v1', videoType: 'desktop', heights: SHARE_HEIGHTS, kbps: SHARE_KBPS, ...extra });

  const cases: Array<{ name: string; spec: Partial<SourceSpec>; stage: boolean; maxHeight: number; kbps: number; want: string; over?: boolean }> = [
    { name: 'low-fps share, thumbnail: the top layer is the only one', spec: { active: [2], temporal: [0] }, stage: false, maxHeight: 180, kbps: 100_000, want: 'e2t0' },
    { name: 'low-fps share, no bandwidth, not on stage: suspended', spec: { active: [2], temporal: [0] }, stage: false, maxHeight: 180, kbps: 300, want: '-' },
    { name: 'low-fps share on stage oversends', spec: { active: [2], temporal: [0] }, stage: true, maxHeight: 1080, kbps: 500, want: 'e2t0', over: true },
    { name: 'on stage, far too little for the oversend margin', spec: { active: [2], temporal: [0] }, stage: true, maxHeight: 1080, kbps: 200, want: 'e2t0', over: true },
    { name: 'high-fps share, unlimited', spec: {}, stage: true, maxHeight: -1, kbps: 100_000, want: 'e2t2' },
    { name: 'high-fps share, constrained to 540', spec: {}, stage: false, maxHeight: 540, kbps: 100_000, want: 'e1t2' },
    { name: 'high-fps share, desktop keeps low frame rates at high res', spec: {}, stage: false, maxHeight: -1, kbps: 850, want: 'e2t0' },
    { name: 'high-fps share on stage, greedy to what fits', spec: {}, stage: true, maxHeight: -1, kbps: 1000, want: 'e2t1', over: false },
    { name: 'high-fps share on stage, oversends to full resolution', spec: {}, stage: true, maxHeight: -1, kbps: 500, want: 'e2t0', over: true },
    { name: 'high-fps share on stage, beyond the oversend margin', spec: {}, stage: true, maxHeight: -1, kbps: 299, want: 'e0t2', over: false },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want}`, () => {
      const a = run(
        { sources: [share(c.spec)], bandwidthBps: c.kbps * 1000 },
        { defaultConstraints: { maxHeight: c.maxHeight }, ...(c.stage ? { onStageSources: ['s-v1'] } : {}) },
      );
      expect(label(a, 's-v1')).toBe(c.want);
      if (c.over !== undefined) expect(a.oversending).toBe(c.over);
    });
  }

  it('desktop_high_fps is treated as a screen share', () => {
    const a = run(
      { sources: [share({ videoType: 'desktop_high_fps', active: [2], temporal: [0] })], bandwidthBps: 10_000_000 },
      { defaultConstraints: { maxHeight: 180 } },
    );
    expect(label(a, 's-v1')).toBe('e2t0');
  });

  it('only the first wanted source may oversend', () => {
    const a = run(
      { sources: [source({ owner: 'a' }), share({ active: [2], temporal: [0] })], bandwidthBps: 200_000, speakerOrder: ['a', 's'] },
      { defaultConstraints: { maxHeight: 180 }, constraints: { 's-v1': { maxHeight: 1080 } }, selectedSources: ['a-v0'] },
    );
    expect(label(a, 'a-v0')).toBe('e0t2');
    expect(label(a, 's-v1')).toBe('-');
    expect(a.oversending).toBe(false);
  });
});

describe('allocate(): stage view (on-stage first, up to the preferred layer)', () => {
  const three = () => [source({ owner: 'a' }), source({ owner: 'b' }), source({ owner: 'c' })];
  const stageMsg: ReceiverVideoConstraintsInput = {
    onStageSources: ['a-v0'],
    defaultConstraints: { maxHeight: 180 },
    constraints: { 'a-v0': { maxHeight: 720 } },
  };
  const cases: Array<[kbps: number, a: string, b: string, c: string]> = [
    [40, '-', '-', '-'],
    [60, 'e0t0', '-', '-'],
    // The stage has not reached 360p@30: thumbnails get nothing.
    [400, 'e0t2', '-', '-'],
    [499, 'e0t2', '-', '-'],
    [500, 'e1t2', '-', '-'],
    [550, 'e1t2', 'e0t0', '-'],
    [600, 'e1t2', 'e0t0', 'e0t0'],
    [700, 'e1t2', 'e0t1', 'e0t1'],
    [730, 'e1t2', 'e0t2', 'e0t1'],
    [800, 'e1t2', 'e0t2', 'e0t2'],
    // Then round-robin single steps: the stage's next step (720p, +1 Mbps) comes before the thumbnails' second.
    [1_599, 'e1t2', 'e0t2', 'e0t2'],
    [1_600, 'e2t2', 'e0t0', 'e0t0'],
    [1_660, 'e2t2', 'e0t1', 'e0t1'],
    [1_730, 'e2t2', 'e0t2', 'e0t1'],
    [1_800, 'e2t2', 'e0t2', 'e0t2'],
  ];
  for (const [kbps, a, b, c] of cases) {
    it(`${kbps} kbps → stage ${a}, thumbnails ${b} ${c}`, () => {
      const r = run({ sources: three(), bandwidthBps: kbps * 1000, speakerOrder: ['b', 'c', 'a'] }, stageMsg);
      expect([label(r, 'a-v0'), label(r, 'b-v0'), label(r, 'c-v0')]).toEqual([a, b, c]);
      expect(r.targetBps).toBeLessThanOrEqual(kbps * 1000);
    });
  }

  it('marks thumbnails that got nothing as suspended', () => {
    const r = run({ sources: three(), bandwidthBps: 400_000, speakerOrder: ['b', 'c'] }, stageMsg);
    expect(r.sources.map((s) => [s.source, s.suspended, s.onStage])).toEqual([
      ['a-v0', false, true],
      ['b-v0', true, false],
      ['c-v0', true, false],
    ]);
  });

  it('tile view improves sources round-robin (no on-stage greed)', () => {
    const r = run(
      { sources: three(), bandwidthBps: 400_000, speakerOrder: ['a', 'b', 'c'] },
      { defaultConstraints: { maxHeight: 360 } },
    );
    // 3 × 50, then 3 × 30, then +70 for a and b; c's +70 no longer fits.
    expect([label(r, 'a-v0'), label(r, 'b-v0'), label(r, 'c-v0')]).toEqual(['e0t2', 'e0t2', 'e0t1']);
  });
});

describe('allocate(): last-N and priority order', () => {
  const four = () => ['a', 'b', 'c', 'd'].map((owner) => source({ owner }));
  const cases: Array<{ name: string; msg: ReceiverVideoConstraintsInput; speakers: string[]; want: string[] }> = [
    { name: 'unlimited', msg: { lastN: -1 }, speakers: ['c', 'a', 'd', 'b'], want: ['c-v0', 'a-v0', 'd-v0', 'b-v0'] },
    { name: 'lastN 2 by speech order', msg: { lastN: 2 }, speakers: ['c', 'a', 'd', 'b'], want: ['c-v0', 'a-v0'] },
    { name: 'lastN 0', msg: { lastN: 0 }, speakers: ['c', 'a'], want: [] },
    { name: 'selected first', msg: { lastN: 2, selectedSources: ['b-v0'] }, speakers: ['c', 'a', 'd', 'b'], want: ['b-v0', 'c-v0'] },
    {
      name: 'on-stage before selected',
      msg: { lastN: 2, selectedSources: ['b-v0'], onStageSources: ['d-v0'] },
      speakers: ['c', 'a', 'd', 'b'],
      want: ['d-v0', 'b-v0'],
    },
    {
      name: 'a source constrained to 0 does not use a slot',
      msg: { lastN: 2, constraints: { 'c-v0': { maxHeight: 0 } } },
      speakers: ['c', 'a', 'd', 'b'],
      want: ['a-v0', 'd-v0'],
    },
    { name: 'the receiver itself is skipped', msg: { lastN: 2 }, speakers: ['me', 'b', 'a'], want: ['b-v0', 'a-v0'] },
    { name: 'unknown speakers keep input order after known', msg: { lastN: 3 }, speakers: ['d'], want: ['d-v0', 'a-v0', 'b-v0'] },
    { name: 'unknown selected names are ignored', msg: { lastN: 1, selectedSources: ['zz-v0'] }, speakers: ['b'], want: ['b-v0'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = run({ sources: [...four(), source({ owner: 'me' })], speakerOrder: c.speakers }, { defaultConstraints: { maxHeight: 180 }, ...c.msg });
      expect(r.forwardedSources).toEqual(c.want);
      expect(r.forwardedEndpoints).toEqual(c.want.map((n) => n.slice(0, -3)));
      expect(r.sources.some((s) => s.owner === 'me')).toBe(false);
      for (const s of r.sources) expect(s.effectiveMaxHeight).toBe(c.want.includes(s.source) ? 180 : 0);
    });
  }

  it('video type none sorts last, never counts for last-N and is never forwarded, even when selected', () => {
    const r = run(
      {
        sources: [source({ owner: 'a', videoType: 'none' }), source({ owner: 'b' }), source({ owner: 'c' })],
        speakerOrder: ['a', 'b', 'c'],
      },
      { lastN: 1, selectedSources: ['a-v0'], defaultConstraints: { maxHeight: 180 } },
    );
    expect(r.sources.map((s) => s.source)).toEqual(['b-v0', 'c-v0', 'a-v0']);
    expect(r.forwardedSources).toEqual(['b-v0']);
  });

  it('counts sources, not endpoints: a camera and a share of one endpoint use two slots', () => {
    const r = run(
      {
        sources: [source({ owner: 'a' }), source({ owner: 'a', name: 'a-v1', videoType: 'desktop' }), source({ owner: 'b' })],
        speakerOrder: ['a', 'b'],
      },
      { lastN: 2, defaultConstraints: { maxHeight: 180 } },
    );
    expect(r.forwardedSources).toEqual(['a-v0', 'a-v1']);
    expect(r.forwardedEndpoints).toEqual(['a']);
  });

  it('nothing is forwarded before the first ReceiverVideoConstraints (JVB initial maxHeight 0)', () => {
    const r = allocate({
      receiverId: 'me',
      settings: createAllocationSettings(),
      bandwidthBps: -1,
      sources: four(),
      speakerOrder: [],
    });
    expect(r.forwardedSources).toEqual([]);
    expect(r.sources.every((s) => !s.suspended)).toBe(true);
  });

  it('a configurable non-zero initial height forwards before any message', () => {
    const r = allocate({
      receiverId: 'me',
      settings: createAllocationSettings({ initialMaxHeightPx: 180 }),
      bandwidthBps: -1,
      sources: four(),
      speakerOrder: [],
    });
    expect(r.forwardedSources).toHaveLength(4);
  });
});

describe('allocation helpers', () => {
  it('isSameAllocation() compares targets and effective constraints', () => {
    const input = { sources: [source({ owner: 'a' }), source({ owner: 'b' })], speakerOrder: ['a', 'b'] };
    const a = run({ ...input, bandwidthBps: 1_000_000 }, { defaultConstraints: { maxHeight: 720 } });
    const b = run({ ...input, bandwidthBps: 1_000_000 }, { defaultConstraints: { maxHeight: 720 } });
    const c = run({ ...input, bandwidthBps: 300_000 }, { defaultConstraints: { maxHeight: 720 } });
    const d = run({ ...input, bandwidthBps: 1_000_000 }, { defaultConstraints: { maxHeight: 720 }, lastN: 1 });
    const e = run({ ...input, bandwidthBps: 1_000_000, speakerOrder: ['b', 'a'] }, { defaultConstraints: { maxHeight: 720 } });
    expect(isSameAllocation(a, b)).toBe(true);
    expect(isSameAllocation(a, c)).toBe(false);
    expect(isSameAllocation(a, d)).toBe(false);
    expect(isSameAllocation(a, e)).toBe(false);
    expect(isSameAllocation(a, { ...a, sources: a.sources.slice(1) })).toBe(false);
  });

  it('senderMaxHeights() takes the maximum over receivers; unlimited wins; unwanted gets 0', () => {
    const srcs = [source({ owner: 'a' }), source({ owner: 'b' }), source({ owner: 'c' })];
    const r1 = allocate({ receiverId: 'a', settings: settings({ defaultConstraints: { maxHeight: 180 }, constraints: { 'c-v0': { maxHeight: 0 } } }), bandwidthBps: -1, sources: srcs, speakerOrder: [] });
    const r2 = allocate({ receiverId: 'b', settings: settings({ defaultConstraints: { maxHeight: 360 }, constraints: { 'c-v0': { maxHeight: 0 } } }), bandwidthBps: -1, sources: srcs, speakerOrder: [] });
    const r3 = allocate({ receiverId: 'c', settings: settings({ defaultConstraints: { maxHeight: -1 } }), bandwidthBps: -1, sources: srcs, speakerOrder: [] });
    expect(Object.fromEntries(senderMaxHeights([r1, r2], ['a-v0', 'b-v0', 'c-v0', 'x-v0']))).toEqual({
      'a-v0': 360,
      'b-v0': 180,
      'c-v0': 0,
      'x-v0': 0,
    });
    expect(senderMaxHeights([r1, r2, r3], []).get('a-v0')).toBe(-1);
  });

  it.each([
    [-1, 100, true],
    [100, -1, true],
    [-1, -1, false],
    [1000, 1100, false],
    [1000, 1150, true],
    [1000, 850, true],
    [1000, 900, false],
    [0, 0, false],
    [0, 1, true],
  ] as const)('isBandwidthChangeSignificant(%i, %i) is %s', (a, b, want) => {
    expect(isBandwidthChangeSignificant(a, b)).toBe(want);
  });
});
