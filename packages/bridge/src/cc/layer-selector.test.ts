import { describe, expect, it } from 'vitest';
import { KeyframeRequestLimiter, LayerSelector, type FrameInfo } from './layer-selector.js';

interface P {
  e: number;
  tid?: number;
  key?: boolean;
  start?: boolean;
  sync?: boolean;
}

function frame(p: P): FrameInfo {
  return { temporalLayer: p.tid ?? 0, layerSync: p.sync ?? false, isKeyframe: p.key ?? false, isStartOfFrame: p.start ?? true };
}

/** Feeds one packet per encoding in `flowing` (a "tick" of all simulcast streams) and returns the forward decisions. */
function tick(s: LayerSelector, now: number, flowing: number[], over: Partial<Record<number, P>> = {}): boolean[] {
  return flowing.map((e) => s.select(e, frame(over[e] ?? { e }), now));
}

describe('LayerSelector: spatial switching', () => {
  it('forwards nothing without a target and asks for nothing', () => {
    const s = new LayerSelector();
    expect(tick(s, 0, [0, 1, 2], { 0: { e: 0, key: true } })).toEqual([false, false, false]);
    expect(s.needsKeyframe(0)).toBe(false);
    expect(s.pollKeyframeRequest(0)).toBe(-1);
  });

  it('starts only at a key frame of the target, requesting it meanwhile', () => {
    const s = new LayerSelector();
    tick(s, 0, [0, 1, 2]);
    s.setTarget(2, 2);
    expect(tick(s, 10, [0, 1, 2])).toEqual([false, false, false]);
    expect(s.needsKeyframe(10)).toBe(true);
    expect(s.pollKeyframeRequest(10)).toBe(2);
    expect(tick(s, 20, [0, 1, 2], { 2: { e: 2, key: true } })).toEqual([false, false, true]);
    expect(s.currentEncoding).toBe(2);
    expect(s.needsKeyframe(20)).toBe(false);
    expect(s.pollKeyframeRequest(500)).toBe(-1);
    // A continuation packet of the key frame and later frames follow.
    expect(s.select(2, frame({ e: 2, start: false }), 21)).toBe(true);
    expect(tick(s, 50, [0, 1, 2])).toEqual([false, false, true]);
  });

  it('ignores a key frame that is not the start of a frame', () => {
    const s = new LayerSelector();
    s.setTarget(0, 2);
    expect(s.select(0, frame({ e: 0, key: true, start: false }), 0)).toBe(false);
    expect(s.currentEncoding).toBe(-1);
  });

  type Step = { at: number; key?: number; want: Array<boolean>; current: number; poll?: number };
  const scenarios: Array<{ name: string; start: [number, number]; switchTo?: [number, number]; flowing: number[]; steps: Step[] }> = [
    {
      name: 'down-switch waits for the lower key frame, old layer reduced to TL0',
      start: [2, 2],
      switchTo: [0, 2],
      flowing: [0, 1, 2],
      steps: [
        { at: 100, want: [false, false, true], current: 2, poll: 0 },
        { at: 150, key: 0, want: [true, false, false], current: 0, poll: -1 },
        { at: 200, want: [true, false, false], current: 0 },
      ],
    },
    {
      name: 'up-switch steps through an intermediate key frame',
      start: [0, 2],
      switchTo: [2, 2],
      flowing: [0, 1, 2],
      steps: [
        // Encoding 0's packet of this tick arrives before the switch and still goes out.
        { at: 100, key: 1, want: [true, true, false], current: 1, poll: 2 },
        { at: 150, want: [false, true, false], current: 1 },
        { at: 400, key: 2, want: [false, true, true], current: 2, poll: -1 },
        { at: 450, want: [false, false, true], current: 2 },
      ],
    },
    {
      name: 'down-switch steps through an intermediate key frame',
      start: [2, 2],
      switchTo: [0, 2],
      flowing: [0, 1, 2],
      steps: [
        { at: 100, key: 1, want: [false, true, false], current: 1 },
        { at: 150, key: 2, want: [false, true, false], current: 1 },
        { at: 200, key: 0, want: [true, false, false], current: 0 },
      ],
    },
    {
      name: 'a key frame beyond the target is not taken while the current layer flows',
      start: [1, 2],
      switchTo: [0, 2],
      flowing: [0, 1, 2],
      steps: [{ at: 100, key: 2, want: [false, true, false], current: 1 }],
    },
    {
      name: 'a key frame on the other side of the current layer is not taken',
      start: [1, 2],
      switchTo: [2, 2],
      flowing: [0, 1, 2],
      steps: [{ at: 100, key: 0, want: [false, true, false], current: 1 }],
    },
    {
      name: 'low-fps screen share: only the top layer flows, the target is lower → fall back to the top',
      start: [-1, 0],
      switchTo: [0, 0],
      flowing: [2],
      steps: [
        { at: 100, want: [false], current: -1, poll: 2 },
        { at: 150, key: 2, want: [true], current: 2, poll: -1 },
        { at: 300, want: [true], current: 2 },
      ],
    },
    {
      name: 'the camera only sends two layers: a target of 2 falls back to 1',
      start: [-1, 0],
      switchTo: [2, 2],
      flowing: [0, 1],
      steps: [
        { at: 100, want: [false, false], current: -1, poll: 1 },
        { at: 150, key: 0, want: [true, false], current: 0 },
        { at: 400, key: 1, want: [true, true], current: 1, poll: -1 },
        { at: 450, want: [false, true], current: 1 },
      ],
    },
  ];

  for (const sc of scenarios) {
    it(sc.name, () => {
      const s = new LayerSelector();
      // Establish the starting encoding with a key frame.
      const [e0, t0] = sc.start;
      s.setTarget(e0, t0);
      if (e0 >= 0) tick(s, 0, sc.flowing, { [e0]: { e: e0, key: true } });
      else tick(s, 0, sc.flowing);
      expect(s.currentEncoding).toBe(e0);
      if (sc.switchTo !== undefined) s.setTarget(...sc.switchTo);
      for (const st of sc.steps) {
        const over = st.key === undefined ? {} : { [st.key]: { e: st.key, key: true } };
        expect(tick(s, st.at, sc.flowing, over), `at ${st.at}`).toEqual(st.want);
        expect(s.currentEncoding, `current at ${st.at}`).toBe(st.current);
        if (st.poll !== undefined) expect(s.pollKeyframeRequest(st.at), `poll at ${st.at}`).toBe(st.poll);
      }
    });
  }

  it('from nothing, a lower key frame is taken first (something beats nothing), then the target', () => {
    const s = new LayerSelector();
    s.setTarget(1, 2);
    expect(tick(s, 0, [0, 1, 2], { 0: { e: 0, key: true } })).toEqual([true, false, false]);
    expect(s.needsKeyframe(0)).toBe(true);
    expect(tick(s, 30, [0, 1, 2], { 2: { e: 2, key: true } })).toEqual([true, false, false]);
    expect(tick(s, 60, [0, 1, 2], { 1: { e: 1, key: true } })).toEqual([true, true, false]);
    expect(tick(s, 90, [0, 1, 2])).toEqual([false, true, false]);
  });

  it('from nothing, a key frame above the target is not taken while the target flows', () => {
    const s = new LayerSelector();
    s.setTarget(0, 2);
    expect(tick(s, 0, [0, 1, 2], { 2: { e: 2, key: true } })).toEqual([false, false, false]);
    expect(s.currentEncoding).toBe(-1);
  });

  it('falls back when the current encoding stops, at the next key frame of an active one', () => {
    const s = new LayerSelector({ encodingStaleMs: 500 });
    s.setTarget(2, 2);
    tick(s, 0, [0, 1, 2], { 2: { e: 2, key: true } });
    expect(s.currentEncoding).toBe(2);
    // Encoding 2 stops; 0 and 1 continue.
    expect(tick(s, 400, [0, 1])).toEqual([false, false]);
    expect(s.pollKeyframeRequest(400)).toBe(-1); // still within the stale time: nothing to do
    expect(s.needsKeyframe(600)).toBe(true);
    expect(s.pollKeyframeRequest(600)).toBe(1);
    expect(tick(s, 650, [0, 1], { 0: { e: 0, key: true } })).toEqual([true, false]);
    expect(s.currentEncoding).toBe(0);
    expect(tick(s, 700, [0, 1], { 1: { e: 1, key: true } })).toEqual([true, true]);
    expect(tick(s, 750, [0, 1])).toEqual([false, true]);
    // Encoding 2 comes back: the target is reachable again.
    expect(tick(s, 900, [0, 1, 2])).toEqual([false, true, false]);
    expect(s.pollKeyframeRequest(900)).toBe(2);
    expect(tick(s, 950, [0, 1, 2], { 2: { e: 2, key: true } })).toEqual([false, true, true]);
    expect(tick(s, 980, [0, 1, 2])).toEqual([false, false, true]);
  });

  it('target -1 stops at once; resuming needs a key frame', () => {
    const s = new LayerSelector();
    s.setTarget(0, 2);
    tick(s, 0, [0], { 0: { e: 0, key: true } });
    expect(tick(s, 10, [0])).toEqual([true]);
    s.setTarget(-1, -1);
    expect(tick(s, 20, [0])).toEqual([false]);
    expect(s.currentEncoding).toBe(-1);
    expect(s.needsKeyframe(20)).toBe(false);
    s.setTarget(0, 2);
    expect(tick(s, 30, [0])).toEqual([false]);
    expect(s.pollKeyframeRequest(30)).toBe(0);
    expect(tick(s, 40, [0], { 0: { e: 0, key: true } })).toEqual([true]);
  });

  it('drops packets of unknown encodings', () => {
    const s = new LayerSelector({ encodingCount: 2 });
    s.setTarget(1, 0);
    expect(s.select(2, frame({ e: 2, key: true }), 0)).toBe(false);
    expect(s.select(-1, frame({ e: -1, key: true }), 0)).toBe(false);
    s.setTarget(5, 0);
    expect(s.state().targetEncoding).toBe(-1);
  });

  it('counts switches and requests', () => {
    const s = new LayerSelector();
    s.setTarget(0, 2);
    s.pollKeyframeRequest(0);
    tick(s, 10, [0, 1], { 0: { e: 0, key: true } });
    s.setTarget(1, 2);
    tick(s, 20, [0, 1], { 1: { e: 1, key: true } });
    expect(s.state()).toEqual({
      currentEncoding: 1,
      currentTemporal: 2,
      targetEncoding: 1,
      targetTemporal: 2,
      switches: 2,
      keyframeRequests: 1,
    });
  });
});

describe('LayerSelector: temporal filtering', () => {
  /** A 3-layer VP8 temporal pattern: TIDs 0,2,1,2 repeating; `sync` marks frames with Y. */
  const PATTERN = [0, 2, 1, 2];

  function started(targetTemporal: number): LayerSelector {
    const s = new LayerSelector();
    s.setTarget(0, targetTemporal);
    expect(s.select(0, frame({ e: 0, key: true }), 0)).toBe(true);
    return s;
  }

  function run(s: LayerSelector, tids: number[], sync: number[] = [], t0 = 100): boolean[] {
    return tids.map((tid, i) => s.select(0, frame({ e: 0, tid, sync: sync.includes(i) }), t0 + i * 33));
  }

  const cases: Array<{ name: string; target: number; tids: number[]; want: boolean[] }> = [
    { name: 'target 2 forwards everything', target: 2, tids: [...PATTERN, ...PATTERN], want: new Array<boolean>(8).fill(true) },
    { name: 'target 1 drops TL2', target: 1, tids: PATTERN, want: [true, false, true, false] },
    { name: 'target 0 keeps TL0 only', target: 0, tids: PATTERN, want: [true, false, false, false] },
    { name: 'no temporal info (-1) is TL0', target: 0, tids: [-1, -1, -1], want: [true, true, true] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(run(started(c.target), c.tids)).toEqual(c.want);
    });
  }

  it('switches up only at TL0 or at a layer-sync frame', () => {
    const s = started(0);
    expect(run(s, [0, 2], [], 100)).toEqual([true, false]);
    s.setTarget(0, 2);
    // TL1 without Y: still not decodable; TL2 without Y neither.
    expect(run(s, [1, 2], [], 200)).toEqual([false, false]);
    // TL0 start: everything from here on.
    expect(run(s, [0, 2, 1, 2], [], 300)).toEqual([true, true, true, true]);
  });

  it('a Y frame raises the layer to its own TID only', () => {
    const s = started(0);
    s.setTarget(0, 2);
    // TL2 (no Y) dropped, TL1 with Y taken, then TL2 without Y still dropped until TL0.
    expect(run(s, [2, 1, 2, 1], [1], 100)).toEqual([false, true, false, true]);
    expect(s.currentTemporal).toBe(1);
    // A TL2 frame with Y goes straight to 2.
    expect(run(s, [2, 2], [0], 300)).toEqual([true, true]);
  });

  it('a Y frame above the target does not raise beyond the target', () => {
    const s = started(0);
    s.setTarget(0, 1);
    expect(run(s, [2, 1], [0, 1], 100)).toEqual([false, true]);
    expect(s.currentTemporal).toBe(1);
  });

  it('switches down at the next frame start, never inside a frame', () => {
    const s = started(2);
    expect(s.select(0, frame({ e: 0, tid: 2, start: true }), 100)).toBe(true);
    s.setTarget(0, 0);
    expect(s.select(0, frame({ e: 0, tid: 2, start: false }), 101)).toBe(true);
    expect(s.select(0, frame({ e: 0, tid: 1, start: true }), 133)).toBe(false);
    expect(s.select(0, frame({ e: 0, tid: 1, start: false }), 134)).toBe(false);
    expect(s.select(0, frame({ e: 0, tid: 0, start: true }), 166)).toBe(true);
  });

  it('a key frame of the current encoding resets the temporal layer to the target', () => {
    const s = started(0);
    s.setTarget(0, 2);
    expect(run(s, [2], [], 100)).toEqual([false]);
    expect(s.select(0, frame({ e: 0, key: true }), 150)).toBe(true);
    expect(s.currentTemporal).toBe(2);
    expect(run(s, [2], [], 200)).toEqual([true]);
  });

  it('while moving up, the current encoding forwards all temporal layers (at its next TL0)', () => {
    const s = started(0);
    s.select(2, frame({ e: 2 }), 90); // encoding 2 flows, so it is the goal
    s.setTarget(2, 0);
    expect(run(s, [2, 0, 2, 1], [], 100)).toEqual([false, true, true, true]);
  });

  it('while moving down, the current encoding is reduced to TL0 at the next frame', () => {
    const s = new LayerSelector();
    s.setTarget(1, 2);
    s.select(1, frame({ e: 1, key: true }), 0);
    s.select(0, frame({ e: 0 }), 1); // encoding 0 flows, so it is the goal
    s.setTarget(0, 2);
    const out = [0, 2, 1, 2].map((tid, i) => s.select(1, frame({ e: 1, tid }), 100 + i * 33));
    expect(out).toEqual([true, false, false, false]);
  });
});

describe('LayerSelector: key frame requests', () => {
  it('are ≥ 200 ms apart and ≤ 3 per 10 s with a budget of 3', () => {
    const s = new LayerSelector({ keyframeMaxRequests: 3 });
    s.setTarget(1, 2);
    const times = [0, 100, 199, 200, 399, 400, 600, 9_999, 10_000, 10_150, 10_200, 10_400, 10_600];
    const got = times.filter((t) => s.pollKeyframeRequest(t) === 1);
    expect(got).toEqual([0, 200, 400, 10_000, 10_200, 10_400]);
  });

  it("a receiver's own request asks for the current encoding, once", () => {
    const s = new LayerSelector();
    s.setTarget(0, 2);
    s.select(0, frame({ e: 0, key: true }), 0);
    expect(s.pollKeyframeRequest(1000)).toBe(-1);
    s.requestKeyframe();
    expect(s.needsKeyframe(1000)).toBe(true);
    expect(s.pollKeyframeRequest(1000)).toBe(0);
    expect(s.pollKeyframeRequest(2000)).toBe(-1);
  });

  it('a request while suspended is ignored', () => {
    const s = new LayerSelector();
    s.requestKeyframe();
    expect(s.pollKeyframeRequest(0)).toBe(-1);
  });
});

describe('KeyframeRequestLimiter', () => {
  it.each([
    [200, 3, 10_000, [0, 50, 200, 400, 600, 10_000], [0, 200, 400, 10_000]],
    [0, 1, 1000, [0, 0, 999, 1000], [0, 1000]],
    [500, 10, 1000, [0, 499, 500, 1000], [0, 500, 1000]],
  ] as const)('min %i ms, %i per %i ms', (min, max, win, tries, want) => {
    const l = new KeyframeRequestLimiter(min, max, win);
    expect(tries.filter((t) => l.tryAcquire(t))).toEqual(want);
  });

  it('rejects a zero budget', () => {
    expect(() => new KeyframeRequestLimiter(0, 0, 1)).toThrow(TypeError);
  });
});
