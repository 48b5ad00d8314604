/**
 * The simulcast parts together: a synthetic Chrome-like sender (3 encodings × 3 temporal layers, VP8), the VP8
 * parser, the layer selector and the munger, checking that a receiver sees one continuous stream across spatial
 * and temporal switches and an encoding that stops. Each part is tested alone in its own file.
 */
import { describe, expect, it } from 'vitest';
import { createVp8PayloadDescriptor, parseVp8PayloadDescriptor } from '../codecs/vp8.js';
import { LayerSelector } from './layer-selector.js';
import { RtpMunger } from './munger.js';

const PATTERN = [0, 2, 1, 2];
const PACKETS_PER_FRAME = [1, 2, 4];

interface EncoderState {
  seq: number;
  ts: number;
  pic: number;
  tl0: number;
  phase: number;
  keyPending: boolean;
}

interface OutPacket {
  at: number;
  seq: number;
  ts: number;
  ssrc: number;
  pic: number;
  tl0: number;
  tid: number;
  start: boolean;
}

function packet(st: EncoderState, e: number, tid: number, key: boolean, start: boolean, marker: boolean): Buffer {
  const b = Buffer.alloc(12 + 6 + 3);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | 96;
  b.writeUInt16BE(st.seq & 0xffff, 2);
  b.writeUInt32BE(st.ts >>> 0, 4);
  b.writeUInt32BE(0x1000 + e, 8);
  b[12] = 0x80 | (start ? 0x10 : 0);
  b[13] = 0xe0; // I, L, T
  b[14] = 0x80 | ((st.pic >> 8) & 0x7f);
  b[15] = st.pic & 0xff;
  b[16] = st.tl0 & 0xff;
  b[17] = (tid << 6) | (tid > 0 && st.phase === 1 ? 0x20 : 0);
  b[18] = key ? 0x10 : 0x11;
  return b;
}

interface Scenario {
  frames: number;
  /** Encoding 2 sends nothing in [from, to). */
  stop: [number, number];
  maxRequests?: number;
}

function run(sc: Scenario): { out: OutPacket[]; requests: Array<[number, number]> } {
  const selector = new LayerSelector({ encodingStaleMs: 500, ...(sc.maxRequests ? { keyframeMaxRequests: sc.maxRequests } : {}) });
  const munger = new RtpMunger({ ssrc: 0xcafe });
  const d = createVp8PayloadDescriptor();
  const frameInfo = { temporalLayer: -1, layerSync: false, isKeyframe: false, isStartOfFrame: false };
  const enc: EncoderState[] = [
    { seq: 65_000, ts: 0xffff0000, pic: 32_700, tl0: 250, phase: 0, keyPending: true },
    { seq: 100, ts: 5, pic: 10, tl0: 0, phase: 0, keyPending: true },
    { seq: 40_000, ts: 123_456, pic: 20_000, tl0: 100, phase: 0, keyPending: true },
  ];
  const schedule: Array<[at: number, e: number, t: number]> = [
    [0, 0, 2],
    [1000, 2, 2],
    [3000, 1, 0],
    [4000, 1, 2],
    [5000, 2, 1],
  ];
  const out: OutPacket[] = [];
  const requests: Array<[number, number]> = [];
  for (let frame = 0; frame < sc.frames; frame++) {
    const now = frame * 33;
    for (const [at, e, t] of schedule) if (now >= at && now - 33 < at) selector.setTarget(e, t);
    for (let e = 0; e < 3; e++) {
      if (e === 2 && now >= sc.stop[0] && now < sc.stop[1]) continue;
      const st = enc[e];
      if (st === undefined) continue;
      const key = st.keyPending;
      if (key) st.phase = 0;
      st.keyPending = false;
      const tid = PATTERN[st.phase % 4] ?? 0;
      if (tid === 0) st.tl0 = (st.tl0 + 1) & 0xff;
      const n = PACKETS_PER_FRAME[e] ?? 1;
      for (let k = 0; k < n; k++) {
        const buf = packet(st, e, tid, key && k === 0, k === 0, k === n - 1);
        expect(parseVp8PayloadDescriptor(buf, 12, buf.length - 12, d)).toBe('ok');
        frameInfo.temporalLayer = d.tid;
        frameInfo.layerSync = d.layerSync;
        frameInfo.isKeyframe = d.isKeyframe;
        frameInfo.isStartOfFrame = d.isStartOfFrame;
        if (selector.select(e, frameInfo, now)) {
          expect(munger.munge(buf, 0, buf.length, e, d, now)).toBe('forward');
          out.push({
            at: now,
            seq: buf.readUInt16BE(2),
            ts: buf.readUInt32BE(4),
            ssrc: buf.readUInt32BE(8),
            pic: ((buf[14] ?? 0) & 0x7f) * 256 + (buf[15] ?? 0),
            tl0: buf[16] ?? 0,
            tid,
            start: k === 0,
          });
        } else {
          munger.drop(buf, 0, buf.length, e, d, now);
        }
        const want = selector.pollKeyframeRequest(now);
        if (want >= 0) {
          requests.push([now, want]);
          const w = enc[want];
          if (w !== undefined) w.keyPending = true;
        }
        st.seq = (st.seq + 1) & 0xffff;
      }
      st.ts = (st.ts + 3000) >>> 0;
      st.pic = (st.pic + 1) & 0x7fff;
      st.phase++;
    }
  }
  return { out, requests };
}

/** Encodings forwarded in [from, to), recognised by their packets per frame. */
function encodingsIn(out: OutPacket[], from: number, to: number): Set<number> {
  const frames = new Map<number, number>();
  for (const p of out) if (p.at >= from && p.at < to) frames.set(p.at, (frames.get(p.at) ?? 0) + 1);
  return new Set([...frames.values()].map((n) => PACKETS_PER_FRAME.indexOf(n)));
}

function tidsIn(out: OutPacket[], from: number, to: number): Set<number> {
  return new Set(out.filter((p) => p.at >= from && p.at < to).map((p) => p.tid));
}

function expectContinuous(out: OutPacket[]): void {
  expect(new Set(out.map((p) => p.ssrc))).toEqual(new Set([0xcafe]));
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1];
    const b = out[i];
    if (a === undefined || b === undefined) continue;
    // Sequence numbers: no gaps, no repeats, across the 16-bit wrap.
    expect((b.seq - a.seq + 0x10000) & 0xffff, `seq at packet ${i}`).toBe(1);
    if (b.start) {
      // A new frame: PictureID +1 (15-bit wrap), timestamp forward by whole frames, TL0PICIDX +1 exactly at TL0.
      expect((b.pic - a.pic + 0x8000) & 0x7fff, `pic at packet ${i}`).toBe(1);
      const dts = (b.ts - a.ts + 0x1_0000_0000) % 0x1_0000_0000;
      // Whole frames within an encoding; at a switch, the elapsed arrival time (at least one frame).
      const elapsedTicks = 90 * (b.at - a.at);
      expect(dts % 3000 === 0 || dts === Math.max(3000, elapsedTicks), `ts step ${dts} at packet ${i}`).toBe(true);
      expect(dts).toBeGreaterThan(0);
      expect(dts).toBeLessThan(3000 * 100);
      const dtl0 = (b.tl0 - a.tl0 + 256) & 0xff;
      expect(dtl0, `tl0 at packet ${i}`).toBe(b.tid === 0 ? 1 : 0);
    } else {
      expect([b.pic, b.ts, b.tl0]).toEqual([a.pic, a.ts, a.tl0]);
    }
  }
}

describe('selector + munger: one continuous stream per receiver', () => {
  it('survives up/down switches, temporal changes and a stopping encoding', () => {
    const { out, requests } = run({ frames: 480, stop: [12_000, 14_000] });
    expect(out.length).toBeGreaterThan(400);
    expectContinuous(out);
    expect(encodingsIn(out, 500, 1000)).toEqual(new Set([0]));
    expect(encodingsIn(out, 2500, 3000)).toEqual(new Set([2]));
    expect(encodingsIn(out, 3500, 4000)).toEqual(new Set([1]));
    // 3000..4000: target (1, 0): only TL0 frames after the switch. 4000..5000: all three.
    expect(tidsIn(out, 3300, 3990)).toEqual(new Set([0]));
    expect(tidsIn(out, 4300, 4990)).toEqual(new Set([0, 1, 2]));
    // 5000..: target (2, 1): no TL2 once switched.
    expect(tidsIn(out, 5300, 11_000)).toEqual(new Set([0, 1]));
    // Encoding 2 stops at 12 s: fall back to encoding 1 within the stale time plus a key frame, and back after.
    expect(encodingsIn(out, 12_600, 14_000)).toEqual(new Set([1]));
    expect(encodingsIn(out, 14_600, 15_800)).toEqual(new Set([2]));
    for (let i = 1; i < requests.length; i++) expect((requests[i]?.[0] ?? 0) - (requests[i - 1]?.[0] ?? 0)).toBeGreaterThanOrEqual(200);
  });

  it('with the key frame budget (3 per 10 s) spent, a fallback waits for the window: video stalls meanwhile', () => {
    const { out, requests } = run({ frames: 360, stop: [6000, 8000], maxRequests: 3 });
    expectContinuous(out);
    expect(requests.filter((r) => r[0] < 11_000)).toHaveLength(3);
    expect(encodingsIn(out, 6600, 8000)).toEqual(new Set());
    // With the default budget (10 per 10 s) the fallback is immediate.
    const roomy = run({ frames: 360, stop: [6000, 8000] });
    expectContinuous(roomy.out);
    expect(encodingsIn(roomy.out, 6600, 8000)).toEqual(new Set([1]));
  });
});
